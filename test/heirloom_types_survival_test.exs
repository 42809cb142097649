defmodule Heirloom.TypesSurvivalTest do
  # The crash matrix of the set, for every table type: owner killed, owner VM
  # kill -9, C node kill -9 and restart, give_away and claim. After each, the
  # table has its type, every object, in ETS's order (a bag's lookup order, an
  # ordered_set's term order with 1 == 1.0), and still works.
  use ExUnit.Case, async: false
  # Slow: peer VMs and C nodes killed with kill -9.
  @moduletag :slow

  alias HeirloomTest.{CNode, Owner, Peer}

  @types [:set, :ordered_set, :bag, :duplicate_bag]

  setup do
    c = start_supervised!({CNode, []}, restart: :temporary)
    Heirloom.set_node(CNode.name(c))
    on_exit(fn -> Application.delete_env(:heirloom, :path) end)
    %{c: c, node: CNode.name(c)}
  end

  defp tab(type), do: :"surv_#{type}_#{System.unique_integer([:positive])}"

  # Keys where the types differ: 1 and 1.0, several objects per key.
  defp rows do
    for(i <- 1..200, do: {rem(i, 50), i}) ++
      [{1.0, :float_one}, {:a, 1}, {:a, 1}, {"bin", 2}, {{:t, 1}, 3}, {2.5, 4}]
  end

  # What ETS holds after the same insert: the reference.
  defp expected(type) do
    e = :ets.new(:ref, [type])
    :ets.insert(e, rows())
    list = :ets.tab2list(e)
    lookups = for k <- [1, 1.0, :a, 7], do: :ets.lookup(e, k)
    :ets.delete(e)
    {if(type == :ordered_set, do: list, else: Enum.sort(list)), lookups}
  end

  defp contents(type, t) do
    list = Heirloom.tab2list(t)
    {if(type == :ordered_set, do: list, else: Enum.sort(list)), for(k <- [1, 1.0, :a, 7], do: Heirloom.lookup(t, k))}
  end

  # Every object, in order, and the table still takes writes of its kind.
  defp check(type, t) do
    assert Heirloom.info(t, :type) == type
    assert contents(type, t) == expected(type)
    assert Heirloom.foldl(fn _, n -> n + 1 end, 0, t) == Heirloom.info(t, :size)

    if type in [:set, :ordered_set] do
      assert Heirloom.update_counter(t, 7, 1) == 158
    else
      assert Heirloom.insert(t, {7, :more})
      assert List.last(Heirloom.lookup(t, 7)) == {7, :more}
    end
  end

  defp owner(node, t, type, opts) do
    o = Owner.start(node, t, [:named_table, type | opts], rows(), self())
    assert_receive {:owner_ready, ^o, ^t}, 5_000
    o
  end

  for type <- @types do
    test "#{type}: owner killed, the C node holds it, claim gets every object", %{node: node} do
      type = unquote(type)
      t = tab(type)
      o = owner(node, t, type, [])
      Process.exit(o, :kill)
      HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 2_000)
      assert Heirloom.claim(t, [type]) == {:ok, t}
      check(type, t)
    end

    test "#{type}: owner VM kill -9, the heir gets it with every object", %{node: node} do
      type = unquote(type)
      peer = Peer.start("types_vm")
      on_exit(fn -> Peer.stop(peer) end)
      t = tab(type)
      opts = [:named_table, type, {:heir, self(), :inherit}]
      o = :erpc.call(peer.node, Owner, :start, [node, t, opts, rows(), self()])
      assert_receive {:owner_ready, ^o, ^t}, 5_000
      Peer.kill9(peer)
      assert_receive {:"ETS-TRANSFER", ^t, ^o, :inherit}, 2_000
      check(type, t)
    end

    test "#{type}: C node kill -9 and restart, on both paths", %{c: c, node: node} do
      type = unquote(type)
      t = tab(type)
      _o = owner(node, t, type, [:public])
      assert CNode.kill9(c) == 137
      assert :ok = CNode.restart(c)

      for path <- [:cnode, :nif] do
        Application.put_env(:heirloom, :path, if(path == :nif, do: :auto, else: :cnode))
        :heirloom.forget_path(node)
        assert Heirloom.path() == path
        assert Heirloom.info(t, :held_by_heirloom) == true
        assert contents(type, t) == expected(type)
      end

      assert Heirloom.claim(t, [type]) == {:ok, t}
      check(type, t)
    end

    test "#{type}: give_away, then the receiver's death and a claim", %{node: node} do
      type = unquote(type)
      t = tab(type)
      o = owner(node, t, type, [])
      me = self()

      r =
        spawn(fn ->
          receive do
            {:"ETS-TRANSFER", ^t, ^o, :gift} -> send(me, :got_it)
          end

          receive do: (:die -> :ok)
        end)

      assert Owner.call(o, {:give_away, t, r, :gift}) == true
      assert_receive :got_it, 2_000
      assert Heirloom.info(t, :owner) == r
      send(r, :die)
      HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 2_000)
      assert Heirloom.claim(t, [type]) == {:ok, t}
      check(type, t)
    end
  end
end
