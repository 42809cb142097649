defmodule Heirloom.FixtableTest do
  # safe_fixtable/2 and info(T, safe_fixed) as ETS: counts per process,
  # released by false and by the process's death, and a fixed set walked by
  # next/2 while its keys are deleted, on both paths.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  setup_all do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))

    on_exit(fn ->
      Application.delete_env(:heirloom, :path)
      if Process.alive?(c), do: GenServer.stop(c)
    end)

    %{node: CNode.name(c)}
  end

  defp holders(false), do: false
  defp holders({{mega, s, us}, list}) when is_integer(mega + s + us), do: list

  test "info safe_fixed counts fixations per process, as ETS" do
    for m <- [Heirloom, :ets] do
      t = m.new(:fix, [:public])
      assert m.info(t, :safe_fixed) == false
      assert m.safe_fixtable(t, true)
      assert m.safe_fixtable(t, true)
      assert holders(m.info(t, :safe_fixed)) == [{self(), 2}]

      task = Task.async(fn -> m.safe_fixtable(t, true) end)
      Task.await(task)
      # The task is dead: its fixation went with it.
      HeirloomTest.wait_until(fn -> holders(m.info(t, :safe_fixed)) == [{self(), 2}] end)
      assert m.safe_fixtable(t, false)
      assert holders(m.info(t, :safe_fixed)) == [{self(), 1}]
      assert m.safe_fixtable(t, false)
      assert m.safe_fixtable(t, false)
      assert m.info(t, :safe_fixed) == false
    end
  end

  test "bad arguments are ETS's" do
    t = Heirloom.new(:fix, [])
    assert_raise ArgumentError, fn -> Heirloom.safe_fixtable(t, :maybe) end
    assert_raise ArgumentError, fn -> Heirloom.safe_fixtable(:no_such_table_here, true) end
  end

  test "a fixed set walks on while its keys are deleted; unfixed, next of a deleted key raises",
       %{node: node} do
    for path <- [:nif, :cnode], type <- [:set, :bag] do
      Application.put_env(:heirloom, :path, if(path == :nif, do: :auto, else: :cnode))
      :heirloom.forget_path(node)

      walks =
        for m <- [Heirloom, :ets] do
          t = m.new(:fix, [type])
          m.insert(t, for(i <- 1..50, do: {i, i}))
          m.safe_fixtable(t, true)
          seen = walk_deleting(m, t, m.first(t), [])
          m.safe_fixtable(t, false)
          m.insert(t, [{1, 1}, {2, 2}])
          k = m.first(t)
          m.delete(t, k)
          raised = assert_raise(ArgumentError, fn -> m.next(t, k) end)
          {Enum.sort(seen), m.info(t, :size), is_struct(raised)}
        end

      assert [{Enum.to_list(1..50), 1, true}, {Enum.to_list(1..50), 1, true}] == walks
    end
  end

  defp walk_deleting(_m, _t, :"$end_of_table", acc), do: acc

  defp walk_deleting(m, t, k, acc) do
    m.delete(t, k)
    walk_deleting(m, t, m.next(t, k), [k | acc])
  end
end
