defmodule Heirloom.NewTakeoverTest do
  # new/2 on the name of a table the C node holds takes it over (issue 14);
  # on a table a live process owns it still raises already_exists, as ETS.
  use ExUnit.Case, async: false

  alias HeirloomTest.{CNode, Owner, Peer}

  setup do
    c = start_supervised!({CNode, []})
    Heirloom.set_node(CNode.name(c))
    %{node: CNode.name(c)}
  end

  defp tab, do: :"t#{System.unique_integer([:positive])}"

  # A process that runs fun, reports its result, then waits to be killed.
  defp holder(fun) do
    me = self()

    pid =
      spawn(fn ->
        send(me, {:held, self(), fun.()})
        receive do: (:never -> :ok)
      end)

    assert_receive {:held, ^pid, result}, 5_000
    {pid, result}
  end

  defp kill(pids) do
    for pid <- List.wrap(pids) do
      ref = Process.monitor(pid)
      Process.exit(pid, :kill)
      assert_receive {:DOWN, ^ref, _, _, _}, 5_000
    end
  end

  defp held_table(t, opts, rows) do
    {owner, ^t} =
      holder(fn ->
        t = Heirloom.new(t, [:named_table | opts])
        true = Heirloom.insert(t, rows)
        t
      end)

    kill(owner)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end)
    owner
  end

  test "a held table is taken over: rows kept, this call's options from now on" do
    t = tab()
    rows = for i <- 1..100, do: {i, -i}
    held_table(t, [:public], rows)
    assert Heirloom.info(t, :adopted) == false

    assert Heirloom.new(t, [:set, :protected, :named_table, {:heir, self(), :mine}]) == t
    assert Heirloom.info(t, :owner) == self()
    assert Heirloom.info(t, :heir) == self()
    assert Heirloom.info(t, :protection) == :protected
    assert Heirloom.info(t, :adopted) == true
    assert Heirloom.info(t, :held_by_heirloom) == false
    assert Enum.sort(Heirloom.tab2list(t)) == rows

    # Protected now: another process may read but no longer write.
    {_, result} = holder(fn -> {Heirloom.lookup(t, 1), Heirloom.call({:insert, t, {1, 0}})} end)
    assert result == {[{1, -1}], {:error, :access}}
    assert {:adopted, true} in Heirloom.info(t)
  end

  test "the default heir (the C node) and {heir, none} can be asked for on take-over" do
    t = tab()
    held_table(t, [:public], [{1, :a}])
    assert Heirloom.new(t, [:named_table]) == t
    assert Heirloom.info(t, :heir) == Heirloom.store_info()[:node_pid]
    assert Heirloom.info(t, :protection) == :protected

    u = tab()
    held_table(u, [], [{1, :a}])
    {owner, ^u} = holder(fn -> Heirloom.new(u, [:named_table, {:heir, :none}]) end)
    assert Heirloom.info(u, :size) == 1
    # {heir, none} from now on: the table dies with its new owner, as in ETS.
    kill(owner)
    HeirloomTest.wait_until(fn -> Heirloom.info(u) == :undefined end)
  end

  test "a table a live process owns: already_exists, as in ETS, also for the owner itself" do
    t = tab()
    {owner, ^t} = holder(fn -> Heirloom.new(t, [:named_table, :public]) end)
    assert Heirloom.call({:new, t, [:named_table, :public]}) == {:error, :already_exists}
    assert_raise ArgumentError, ~r/already exists/, fn -> Heirloom.new(t, [:named_table]) end
    assert Heirloom.new(:"#{t}_mine", [:named_table]) == :"#{t}_mine"
    assert Heirloom.call({:new, :"#{t}_mine", [:named_table]}) == {:error, :already_exists}
    assert Heirloom.info(t, :owner) == owner
    assert Heirloom.info(t, :adopted) == false
  end

  test "keypos must match: {keypos_mismatch, Old}, and the table stays held" do
    t = tab()
    held_table(t, [{:keypos, 2}], [{:a, 1}])
    assert Heirloom.call({:new, t, [:named_table]}) == {:error, {:keypos_mismatch, 2}}

    assert_raise ArgumentError, ~r/keypos 2/, fn ->
      Heirloom.new(t, [:named_table, {:keypos, 3}])
    end

    assert Heirloom.info(t, :held_by_heirloom) == true
    assert Heirloom.new(t, [:named_table, {:keypos, 2}, :public]) == t
    assert Heirloom.lookup(t, 1) == [{:a, 1}]
  end

  test "a type other than the held table's is refused, the table still held" do
    t = tab()
    held_table(t, [], [{1, 1}])
    assert Heirloom.call({:new, t, [:bag, :named_table]}) == {:error, {:type_mismatch, :set}}
    assert Heirloom.info(t, :held_by_heirloom) == true
  end

  test "unnamed tables are never taken over: a new reference each time" do
    t = tab()
    held_table(t, [], [{1, 1}])
    r1 = Heirloom.new(t, [])
    r2 = Heirloom.new(t, [])
    assert is_reference(r1) and is_reference(r2) and r1 != r2
    assert Heirloom.info(r1, :size) == 0
    assert Heirloom.info(t, :held_by_heirloom) == true
  end

  test "adopted: false when created, kept through give_away and inheritance, true after claim" do
    t = tab()
    assert Heirloom.new(t, [:named_table, {:heir, self(), :back}]) == t
    {other, :ok} = holder(fn -> :ok end)
    assert Heirloom.give_away(t, other, :gift)
    assert Heirloom.info(t, :adopted) == false
    kill(other)
    assert_receive {:"ETS-TRANSFER", ^t, ^other, :back}
    assert Heirloom.info(t, :adopted) == false

    u = tab()
    held_table(u, [], [{1, 1}])
    assert Heirloom.claim(u, []) == {:ok, u}
    assert Heirloom.info(u, :adopted) == true
    {other2, :ok} = holder(fn -> :ok end)
    assert Heirloom.give_away(u, other2, nil)
    assert Heirloom.info(u, :adopted) == true
  end

  test "the DataMaster pattern's owners die on another VM: new takes over at once", %{node: node} do
    # A master makes the table its own heir and gives it to a server, on a
    # peer VM; both are killed there; new/2 from this VM comes at once, on
    # another connection than the peer's monitor messages, so the C node
    # may not have seen either death: then it probes the owner (dead: the
    # table goes to the master) and the master in turn. Either way it must
    # take the table over.
    peer = Peer.start("dm_pattern")
    on_exit(fn -> Peer.stop(peer) end)

    for round <- 1..40 do
      t = tab()
      master = :erpc.call(peer.node, Owner, :start, [node, t, [:named_table], [{:round, round}], self()])
      assert_receive {:owner_ready, ^master, ^t}, 5_000
      server = Node.spawn(peer.node, :timer, :sleep, [:infinity])
      assert Owner.call(master, {:setopts, t, {:heir, master, nil}})
      assert Owner.call(master, {:give_away, t, server, nil})

      for pid <- [server, master], do: :erpc.call(peer.node, Process, :exit, [pid, :kill])

      for pid <- [server, master],
          do: HeirloomTest.wait_until(fn -> not :erpc.call(peer.node, Process, :alive?, [pid]) end)

      assert Heirloom.new(t, [:named_table]) == t
      assert Heirloom.lookup(t, :round) == [{:round, round}]
      assert Heirloom.info(t, :adopted) == true
    end
  end
end
