defmodule Heirloom.NodeTest do
  # The C node's requests, through the Elixir API and through a raw
  # :gen_server.call, checked against what ETS returns for the same calls.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  setup_all do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    %{c: c, node: CNode.name(c)}
  end

  defp tab, do: :"t#{System.unique_integer([:positive])}"
  defp raw(node, req), do: :gen_server.call({:heirloom, node}, req)

  test "ping answers pong through the API and a raw gen_server call", %{node: node} do
    assert Heirloom.ping() == :pong
    assert raw(node, :ping) == :pong
  end

  test "new, insert and lookup return what ETS returns", %{node: node} do
    t = tab()
    e = :ets.new(t, [:set, :named_table])
    assert raw(node, {:new, t, [:set, :named_table]}) == e

    for obj <- [{1, "one"}, {2, :two, 2.0}, {{:k, [1, 2]}, %{a: 1}}, {1, "uno"}] do
      assert raw(node, {:insert, t, obj}) == :ets.insert(e, obj)
    end

    for k <- [1, 2, {:k, [1, 2]}, 3, 1.0] do
      assert raw(node, {:lookup, t, k}) == :ets.lookup(e, k)
      assert raw(node, {:member, t, k}) == :ets.member(e, k)
    end

    assert Enum.sort(raw(node, {:tab2list, t})) == Enum.sort(:ets.tab2list(e))
    assert raw(node, {:delete, t, 2}) == :ets.delete(e, 2)
    assert raw(node, {:lookup, t, 2}) == []
    assert raw(node, {:info, t, :size}) == :ets.info(e, :size)
    :ets.delete(e)
  end

  test "the Elixir API mirrors :ets for a whole table lifecycle" do
    t = tab()
    assert Heirloom.new(t, [:named_table, :public, {:keypos, 2}]) == t
    assert Heirloom.insert(t, [{:user, 1, "ada"}, {:user, 2, "bob"}])
    assert Heirloom.insert_new(t, {:user, 1, "eve"}) == false
    assert Heirloom.insert_new(t, [{:user, 3, "cy"}, {:user, 4, "di"}]) == true
    assert Heirloom.lookup(t, 1) == [{:user, 1, "ada"}]
    assert Heirloom.member(t, 4)
    info = Heirloom.info(t)
    assert info[:size] == 4
    assert info[:keypos] == 2
    assert info[:type] == :set
    assert info[:protection] == :public
    assert info[:owner] == self()
    assert info[:named_table] == true
    assert is_integer(info[:memory]) and info[:memory] > 0
    assert t in Heirloom.all()
    assert Heirloom.delete_all_objects(t)
    assert Heirloom.info(t, :size) == 0
    assert Heirloom.delete(t)
    assert Heirloom.info(t) == :undefined
    refute t in Heirloom.all()
  end

  test "keys are compared as ETS set compares them (=:=)" do
    t = Heirloom.new(tab(), [:named_table])
    Heirloom.insert(t, [{1, :int}, {1.0, :float}, {~c"abc", :list}, {"abc", :binary}])
    Heirloom.insert(t, {%{b: 2, a: 1}, :map})
    assert Heirloom.lookup(t, 1) == [{1, :int}]
    assert Heirloom.lookup(t, 1.0) == [{1.0, :float}]
    assert Heirloom.lookup(t, ~c"abc") == [{~c"abc", :list}]
    assert Heirloom.lookup(t, "abc") == [{"abc", :binary}]
    # Built in another order, the same map is the same key.
    assert Heirloom.lookup(t, Map.new([{:a, 1}, {:b, 2}])) == [{%{a: 1, b: 2}, :map}]
  end

  test "unnamed tables are known by a reference, like ETS tids" do
    t = Heirloom.new(:anon, [])
    assert is_reference(t)
    assert Heirloom.insert(t, {:k, 1})
    assert Heirloom.lookup(t, :k) == [{:k, 1}]
    assert Heirloom.info(t, :named_table) == false
  end

  test "long keys and a 10 MB object round-trip" do
    t = Heirloom.new(tab(), [:named_table])
    long = String.duplicate("k", 5_000)
    big = :crypto.strong_rand_bytes(10 * 1024 * 1024)
    assert Heirloom.insert(t, [{long, 1}, {:big, big}])
    assert Heirloom.lookup(t, long) == [{long, 1}]
    assert [{:big, ^big}] = Heirloom.lookup(t, :big)
  end

  describe "bad input gets {:error, reason} and the C node keeps serving" do
    setup %{node: node} do
      t = tab()
      ^t = raw(node, {:new, t, [:named_table, :public]})
      true = raw(node, {:insert, t, [{1, :a}, {2, :b}]})
      %{t: t}
    end

    test "every kind of bad request", %{node: node, t: t} do
      bad = [
        :no_such_request,
        {:no_such_request, 1, 2},
        {:lookup, t},
        {:lookup, t, 1, 2, 3},
        {:insert, t, :not_a_tuple},
        {:insert, t, [{1, :ok}, :not_a_tuple]},
        {:insert, t, {}},
        {:insert, t, [{:improper} | :tail]},
        {:insert, "not a table", {1}},
        {:lookup, :no_such_table, 1},
        {:insert, :no_such_table, {1}},
        {:new, "name", [:named_table]},
        {:new, tab(), [:no_such_option]},
        {:new, tab(), [{:keypos, 0}]},
        {:new, tab(), :not_a_list},
        {:new, t, [:named_table]},
        {:give_away, t, :not_a_pid, 1},
        {:setopts, t, [{:heir, :not_a_pid, 1}]},
        {:delete, :no_such_table},
        "binary request",
        {}
      ]

      for req <- bad do
        assert {:error, reason} = raw(node, req), "#{inspect(req)} did not fail"
        assert is_atom(reason)
        assert raw(node, :ping) == :pong
      end

      # The failing list insert was all-or-nothing: {1, :ok} was not written.
      assert raw(node, {:lookup, t, 1}) == [{1, :a}]
      assert raw(node, {:lookup, t, 2}) == [{2, :b}]
    end

    test "reasons an ETS user recognises", %{node: node, t: t} do
      assert raw(node, {:lookup, :no_such_table, 1}) == {:error, :no_table}
      assert raw(node, {:insert, t, :x}) == {:error, :badarg}
      assert raw(node, {:new, t, [:named_table]}) == {:error, :already_exists}
      assert raw(node, {:nope}) == {:error, :unknown_request}
      assert raw(node, {:new, tab(), [:ordered_set, {:keypos, 0}]}) == {:error, :badarg}
    end

    test "the API raises ArgumentError where ETS would", %{t: t} do
      assert_raise ArgumentError, fn -> Heirloom.lookup(:no_such_table, 1) end
      assert_raise ArgumentError, fn -> Heirloom.insert(t, :not_a_tuple) end
      assert Heirloom.call({:lookup, :no_such_table, 1}) == {:error, :no_table}
      assert Heirloom.info(:no_such_table) == :undefined
    end
  end
end
