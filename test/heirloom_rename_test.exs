defmodule Heirloom.RenameTest do
  # rename/2 as ETS: the table under its new name on both paths, the old
  # name gone, ETS's refusals, and ownership following the new name.
  use ExUnit.Case, async: false

  alias HeirloomTest.{CNode, Owner}

  setup_all do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))

    on_exit(fn ->
      Application.delete_env(:heirloom, :path)
      if Process.alive?(c), do: GenServer.stop(c)
    end)

    %{node: CNode.name(c)}
  end

  defp name, do: :"rn#{System.unique_integer([:positive])}"

  defp outcome(f) do
    {:ok, f.()}
  catch
    :error, :badarg -> :badarg
  end

  test "a named table moves to its new name, rows and all, on both paths", %{node: node} do
    for path <- [:nif, :cnode], type <- [:set, :ordered_set, :bag] do
      Application.put_env(:heirloom, :path, if(path == :nif, do: :auto, else: :cnode))
      :heirloom.forget_path(node)
      {a, b} = {name(), name()}
      ^a = Heirloom.new(a, [:named_table, type])
      Heirloom.insert(a, [{1, :x}, {2, :y}])
      assert Heirloom.rename(a, b) == b
      assert Heirloom.lookup(b, 1) == [{1, :x}]
      assert Heirloom.info(b, :name) == b
      assert Heirloom.info(b, :type) == type
      assert Heirloom.info(a) == :undefined
      assert outcome(fn -> Heirloom.lookup(a, 1) end) == :badarg
      assert Heirloom.whereis(b) == b and Heirloom.whereis(a) == :undefined
    end
  end

  test "refusals are ETS's: a taken name, a reader, a non-atom" do
    {a, b} = {name(), name()}
    Heirloom.new(a, [:named_table])
    Heirloom.new(b, [:named_table])
    e = :ets.new(a, [:named_table])
    :ets.new(b, [:named_table])

    assert outcome(fn -> Heirloom.rename(a, b) end) == outcome(fn -> :ets.rename(e, b) end)
    assert outcome(fn -> Heirloom.rename(a, "b") end) == outcome(fn -> :ets.rename(e, "b") end)

    other =
      Task.async(fn ->
        {outcome(fn -> Heirloom.rename(a, name()) end), outcome(fn -> :ets.rename(a, name()) end)}
      end)

    {h, x} = Task.await(other)
    assert h == x
    assert Heirloom.info(a, :name) == a
  end

  test "an unnamed table keeps its id; only its name changes, as ETS" do
    t = Heirloom.new(:before, [])
    e = :ets.new(:before, [])
    assert Heirloom.rename(t, :after) == t
    assert :ets.rename(e, :after) == e
    assert Heirloom.info(t, :name) == :ets.info(e, :name)
  end

  test "the heir still inherits after a rename: deaths find the new name", %{node: node} do
    {a, b} = {name(), name()}
    o = Owner.start(node, a, [:named_table, {:heir, self(), :h}], [{1, :x}], self())
    assert_receive {:owner_ready, ^o, ^a}
    assert Owner.call(o, {:rename, a, b}) == b
    Process.exit(o, :kill)
    assert_receive {:"ETS-TRANSFER", ^b, ^o, :h}, 2_000
    assert Heirloom.info(b, :owner) == self()
    assert Heirloom.lookup(b, 1) == [{1, :x}]
  end
end
