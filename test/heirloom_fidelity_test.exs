defmodule Heirloom.FidelityTest do
  # Places where a newcomer meets ETS's behaviour: the same steps on :ets and
  # on Heirloom (through the NIF and through the C node) give the same
  # results and the same exceptions.
  use ExUnit.Case, async: false

  use HeirloomTest.Paths

  defp run(fun) do
    {:ok, fun.()}
  catch
    :error, :badarg -> :badarg
  end

  defp in_other_process(fun), do: Task.async(fn -> run(fun) end) |> Task.await()

  # Run steps(api) on :ets and on Heirloom through each path; all equal.
  defp same_as_ets(node, steps) do
    expected = steps.(:ets)

    for path <- [:nif, :cnode] do
      use_path(path, node)
      got = steps.(Heirloom)
      assert got == expected, "via #{path}: #{inspect(got)}, ETS: #{inspect(expected)}"
    end

    expected
  end

  defp name(m), do: :"fid_#{inspect(m)}_#{System.unique_integer([:positive])}"

  test "setopts {protection, P}, single or in a list, as in ETS", %{node: node} do
    same_as_ets(node, fn m ->
      t = m.new(name(m), [:named_table, :protected])

      r = [
        run(fn -> m.setopts(t, {:protection, :public}) end),
        m.info(t, :protection),
        in_other_process(fn -> m.insert(t, {1, :other}) end),
        run(fn -> m.setopts(t, [{:protection, :private}]) end),
        m.info(t, :protection),
        in_other_process(fn -> m.lookup(t, 1) end),
        run(fn -> m.setopts(t, [{:protection, :protected}, {:heir, :none}]) end),
        m.info(t, :protection),
        m.info(t, :heir),
        run(fn -> m.setopts(t, {:protection, :bogus}) end),
        run(fn -> m.setopts(t, [{:protection, :public}, :bogus]) end),
        # Nothing of a refused list was applied.
        m.info(t, :protection),
        in_other_process(fn -> m.setopts(t, {:protection, :public}) end),
        m.info(t, :protection),
        run(fn -> m.setopts(t, []) end)
      ]

      m.delete(t)
      r
    end)
  end

  test "a table name may be any atom, however long in UTF-8", %{node: node} do
    long_names = [
      String.to_atom(String.duplicate("😀", 64)),
      String.to_atom(String.duplicate("é", 255)),
      String.to_atom(String.duplicate("a", 255))
    ]

    for n <- long_names do
      same_as_ets(node, fn m ->
        t = m.new(n, [:named_table, :public])

        r = [
          t == n,
          m.insert(t, {n, :v}),
          m.lookup(t, n),
          m.info(t, :name) == n,
          m.info(t, :size)
        ]

        m.delete(t)
        r
      end)
    end
  end

  test "info(T, name) of an unnamed table is the name it was created with", %{node: node} do
    same_as_ets(node, fn m ->
      t = m.new(:my_unnamed, [])
      u = m.new(:my_unnamed, [:set])
      r = [m.info(t, :name), m.info(u, :name), is_reference(t), t != u, m.info(t)[:name]]
      m.delete(t)
      m.delete(u)
      r
    end)
  end

  test "info of a reference: badarg if it never was a table, undefined once deleted", %{
    node: node
  } do
    same_as_ets(node, fn m ->
      t = m.new(:unnamed, [])
      m.delete(t)
      r = make_ref()

      [
        run(fn -> m.info(r) end),
        run(fn -> m.info(r, :size) end),
        run(fn -> m.info(r, :owner) end),
        run(fn -> m.info(t) end),
        run(fn -> m.info(t, :size) end),
        run(fn -> m.info(:no_such_table_anywhere) end),
        run(fn -> m.info(:no_such_table_anywhere, :size) end)
      ]
    end)
  end

  # README "Semantics": the documented difference in message order.
  test "an heir that monitors the owner: ETS sends the transfer first, Heirloom after 'DOWN'",
       %{node: node} do
    order = fn m ->
      me = self()

      o =
        spawn(fn ->
          t = m.new(name(m), [:named_table, {:heir, me, :gift}])
          send(me, {:table, t})
          Process.sleep(:infinity)
        end)

      t = receive do: ({:table, t} -> t)
      ref = Process.monitor(o)
      Process.exit(o, :kill)

      msgs =
        for _ <- 1..2 do
          receive do
            {:DOWN, ^ref, _, _, _} -> :down
            {:"ETS-TRANSFER", ^t, ^o, :gift} -> :transfer
          after
            2_000 -> :timeout
          end
        end

      owner = m.info(t, :owner)
      m.delete(t)
      {msgs, owner == me}
    end

    assert order.(:ets) == {[:transfer, :down], true}

    for path <- [:nif, :cnode] do
      use_path(path, node)
      assert order.(Heirloom) == {[:down, :transfer], true}
    end
  end
end
