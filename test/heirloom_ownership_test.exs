defmodule Heirloom.OwnershipTest do
  # Owners, heirs, give_away and claim, against the real C node. Owners are
  # plain processes (HeirloomTest.Owner) that run no Heirloom code.
  use ExUnit.Case, async: false

  alias HeirloomTest.{CNode, EtsHeir, Owner}

  setup_all do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    %{c: c, node: CNode.name(c)}
  end

  defp tab, do: :"o#{System.unique_integer([:positive])}"
  defp rows(n), do: for(i <- 1..n, do: {i, i * i})

  defp owner(node, t, opts, rows \\ [{:k, :v}]) do
    pid = Owner.start(node, t, [:named_table | opts], rows, self())
    assert_receive {:owner_ready, ^pid, ^t}
    pid
  end

  describe "owner death moves the table to its heir" do
    for {how, order} <- [normal: {:exit, :normal}, crash: :crash, kill: :kill, shutdown: {:exit, :shutdown}] do
      test "when the owner dies by #{how}", %{node: node} do
        t = tab()
        o = owner(node, t, [{:heir, self(), :my_data}], rows(100))
        ref = Process.monitor(o)

        case unquote(Macro.escape(order)) do
          :kill -> Process.exit(o, :kill)
          msg -> send(o, msg)
        end

        assert_receive {:DOWN, ^ref, _, _, _}
        assert_receive {:"ETS-TRANSFER", ^t, ^o, :my_data}, 1_000
        assert Heirloom.info(t, :owner) == self()
        assert length(Heirloom.tab2list(t)) == 100
        # And we, the new owner, may write to the protected table.
        assert Heirloom.insert(t, {101, 0})
      end
    end
  end

  test "the C node is the default heir and holds the table until claimed", %{node: node} do
    t = tab()
    o = owner(node, t, [], rows(10))
    Process.exit(o, :kill)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 1_000)
    cnode_pid = Heirloom.info(t, :owner)
    assert node(cnode_pid) == node
    assert Heirloom.claim(t, []) == {:ok, t}
    assert Heirloom.info(t, :owner) == self()
    assert length(Heirloom.tab2list(t)) == 10
  end

  test "{heir, none} gives ETS's behaviour: the table dies with its owner", %{node: node} do
    t = tab()
    o = owner(node, t, [{:heir, :none}])
    Process.exit(o, :kill)
    HeirloomTest.wait_until(fn -> Heirloom.info(t) == :undefined end, 1_000)
  end

  test "a pid heir that died first: the C node holds the table", %{node: node} do
    t = tab()
    heir = spawn(fn -> receive do: (:never -> :ok) end)
    o = owner(node, t, [{:heir, heir, :x}])
    Process.exit(heir, :kill)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :heir) != heir end, 1_000)
    Process.exit(o, :kill)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 1_000)
    assert Heirloom.lookup(t, :k) == [{:k, :v}]
  end

  test "an ETS heir handler works unchanged with Heirloom tables", %{node: node} do
    {:ok, heir} = EtsHeir.start_link(self())
    # First with plain :ets ...
    e_owner =
      spawn(fn ->
        :ets.new(:plain_ets_tab, [:named_table, {:heir, heir, :ets_data}])
        receive do: (:never -> :ok)
      end)

    HeirloomTest.wait_until(fn -> :ets.info(:plain_ets_tab) != :undefined end)
    Process.exit(e_owner, :kill)
    assert_receive {:heir_got, ^heir, :plain_ets_tab, ^e_owner, :ets_data}
    # ... then the same module, as heir of a Heirloom table.
    t = tab()
    o = owner(node, t, [{:heir, heir, :hl_data}])
    Process.exit(o, :kill)
    assert_receive {:heir_got, ^heir, ^t, ^o, :hl_data}, 1_000
  end

  describe "give_away" do
    test "to a live process sends exactly ETS's message", %{node: node} do
      t = tab()
      ^t = Heirloom.new(t, [:named_table])
      me = self()
      # The receiver stays alive: when it exits, the table moves on to the heir.
      receiver =
        spawn(fn ->
          receive do: (m -> send(me, {:got, m}))
          receive do: (:stop -> :ok)
        end)

      assert Heirloom.give_away(t, receiver, :gift)
      assert_receive {:got, {:"ETS-TRANSFER", ^t, ^me, :gift}}
      assert Heirloom.info(t, :owner) == receiver
      send(receiver, :stop)
      _ = node
    end

    test "refused to a dead pid, to the owner itself, and by a non-owner" do
      t = tab()
      ^t = Heirloom.new(t, [:named_table])
      dead = spawn(fn -> :ok end)
      ref = Process.monitor(dead)
      assert_receive {:DOWN, ^ref, _, _, _}
      assert Heirloom.call({:give_away, t, dead, 1}) == {:error, :badarg}
      assert Heirloom.call({:give_away, t, self(), 1}) == {:error, :badarg}
      assert Heirloom.info(t, :owner) == self()

      other = spawn(fn -> receive do: (:never -> :ok) end)
      assert Heirloom.give_away(t, other, 1)
      assert Heirloom.call({:give_away, t, self(), 1}) == {:error, :not_owner}
      assert_raise ArgumentError, fn -> Heirloom.give_away(t, self(), 1) end
    end
  end

  describe "setopts heir" do
    test "only the owner may set the heir", %{node: node} do
      t = tab()
      o = owner(node, t, [])
      assert Heirloom.call({:setopts, t, {:heir, self(), 1}}) == {:error, :not_owner}
      assert Owner.call(o, {:setopts, t, [{:heir, self(), :later}]}) == true
      assert Heirloom.info(t, :heir) == self()
      Process.exit(o, :kill)
      assert_receive {:"ETS-TRANSFER", ^t, ^o, :later}, 1_000
    end

    test "{heir, none} set later deletes the table on owner death", %{node: node} do
      t = tab()
      o = owner(node, t, [{:heir, self(), 1}])
      assert Owner.call(o, {:setopts, t, {:heir, :none}}) == true
      assert Heirloom.info(t, :heir) == :none
      Process.exit(o, :kill)
      HeirloomTest.wait_until(fn -> Heirloom.info(t) == :undefined end, 1_000)
    end
  end

  describe "access modes are enforced by the caller's pid" do
    test "protected: others read, only the owner writes", %{node: node} do
      t = tab()
      o = owner(node, t, [:protected])
      assert Heirloom.lookup(t, :k) == [{:k, :v}]
      assert Heirloom.call({:insert, t, {:x, 1}}) == {:error, :access}
      assert Heirloom.call({:delete, t, :k}) == {:error, :access}
      assert Heirloom.call({:delete_all_objects, t}) == {:error, :access}
      assert Heirloom.call({:delete, t}) == {:error, :not_owner}
      assert Owner.call(o, {:insert, t, {:x, 1}}) == true
    end

    test "private: only the owner reads", %{node: node} do
      t = tab()
      o = owner(node, t, [:private])
      assert Heirloom.call({:lookup, t, :k}) == {:error, :access}
      assert Heirloom.call({:member, t, :k}) == {:error, :access}
      assert Owner.call(o, {:lookup, t, :k}) == [{:k, :v}]
    end

    test "public: anyone writes", %{node: node} do
      t = tab()
      _o = owner(node, t, [:public])
      assert Heirloom.insert(t, {:x, 1})
      assert Heirloom.delete(t, :k)
    end
  end

  describe "claim" do
    test "creates the table on first start, returns it on the next", %{node: node} do
      t = tab()
      assert Heirloom.claim(t, [:public]) == {:ok, t}
      assert Heirloom.info(t, :protection) == :public
      assert Heirloom.claim(t, []) == {:ok, t}
      _ = node
    end

    test "refuses while another live process owns the table", %{node: node} do
      t = tab()
      o = owner(node, t, [])
      assert Heirloom.claim(t, []) == {:error, {:owned_by, o}}
    end

    test "two concurrent claims: exactly one wins" do
      t = tab()
      me = self()

      pids =
        for _ <- 1..8 do
          spawn(fn ->
            receive do: (:go -> send(me, {:claimed, self(), Heirloom.claim(t, [])}))
            receive do: (:never -> :ok)
          end)
        end

      Enum.each(pids, &send(&1, :go))

      results =
        for _ <- pids do
          assert_receive {:claimed, _, r}
          r
        end

      assert Enum.count(results, &match?({:ok, ^t}, &1)) == 1
      assert Enum.count(results, &match?({:error, {:owned_by, _}}, &1)) == 7
    end
  end
end
