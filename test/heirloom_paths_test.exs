defmodule Heirloom.PathsTest do
  # One API, two paths: the same cases through the NIF (store on this host)
  # and through the C node (forced with the `path` app env) must give the
  # same results and the same errors, and both must match ETS.
  use ExUnit.Case, async: false
  import Bitwise

  alias HeirloomTest.CNode

  use HeirloomTest.Paths

  # A result, or the error an ETS user would see, with Heirloom's cause.
  defp run(fun) do
    {:ok, fun.()}
  catch
    :error, :badarg -> {:badarg, cause(__STACKTRACE__)}
  end

  defp cause([{_, _, _, info} | _]), do: get_in(info, [:error_info, :cause])
  defp cause(_), do: nil

  defp in_other_process(fun), do: fn -> Task.async(fun) |> Task.await() end

  # {label, fun(api, table)}: api is Heirloom or :ets, table a fresh table
  # owned by the test process.
  defp cases do
    big = :binary.copy(<<7>>, 1_000_000)

    [
      {"insert one", fn m, t -> m.insert(t, {1, "one"}) end},
      {"insert many", fn m, t -> m.insert(t, [{2, :two}, {3, 3.0}, {{:k, [1]}, %{a: 1}}]) end},
      {"insert replaces", fn m, t -> m.insert(t, {1, "uno"}) end},
      {"insert_new taken", fn m, t -> m.insert_new(t, {1, "x"}) end},
      {"insert_new list, one taken", fn m, t -> m.insert_new(t, [{9, 9}, {2, :x}]) end},
      {"insert_new free", fn m, t -> m.insert_new(t, [{10, 10}, {11, 11}]) end},
      {"lookup", fn m, t -> m.lookup(t, 1) end},
      {"lookup missing", fn m, t -> m.lookup(t, 99) end},
      {"lookup float is not int", fn m, t -> m.lookup(t, 1.0) end},
      {"lookup map key", fn m, t -> m.lookup(t, {:k, [1]}) end},
      {"member", fn m, t -> m.member(t, 3) end},
      {"size", fn m, t -> m.info(t, :size) end},
      {"size no table", fn m, _ -> m.info(:no_such_table_here, :size) end},
      {"size bad table", fn m, _ -> m.info(42, :size) end},
      {"member missing", fn m, t -> m.member(t, 98) end},
      {"delete key", fn m, t -> m.delete(t, 3) end},
      {"delete missing key", fn m, t -> m.delete(t, 97) end},
      {"after delete", fn m, t -> m.lookup(t, 3) end},
      {"large object", fn m, t -> m.insert(t, {:big, big}) end},
      {"large lookup", fn m, t -> m.lookup(t, :big) end},
      {"insert not a tuple", fn m, t -> m.insert(t, :nope) end},
      {"insert empty tuple", fn m, t -> m.insert(t, {}) end},
      {"insert list with a bad one", fn m, t -> m.insert(t, [{20, :ok}, :bad]) end},
      {"bad list was not written", fn m, t -> m.lookup(t, 20) end},
      {"lookup no table", fn m, _ -> m.lookup(:no_such_table_here, 1) end},
      {"insert no table", fn m, _ -> m.insert(:no_such_table_here, {1}) end},
      {"member no table", fn m, _ -> m.member(:no_such_table_here, 1) end},
      {"other process reads", fn m, t -> in_other_process(fn -> run(fn -> m.lookup(t, 2) end) end).() end},
      {"other process may not write", fn m, t -> in_other_process(fn -> run(fn -> m.insert(t, {5, 5}) end) end).() end},
      {"other process may not delete", fn m, t -> in_other_process(fn -> run(fn -> m.delete(t, 2) end) end).() end},
      {"final contents", fn m, t -> Enum.map([1, 2, 9, 10, 11, :big], &m.lookup(t, &1)) end}
    ]
  end

  defp run_all(api, t),
    do: Enum.map(cases(), fn {label, f} -> {label, run(fn -> f.(api, t) end)} end)

  # ETS's causes differ from Heirloom's; what must match is the outcome.
  defp outcome({:badarg, _}), do: :badarg
  defp outcome({:ok, {:badarg, _}}), do: {:ok, :badarg}
  defp outcome(other), do: other

  test "NIF and C node paths give identical results and errors, and match ETS", %{node: node} do
    results =
      for path <- [:nif, :cnode] do
        use_path(path, node)
        t = Heirloom.new(:"paths_#{path}_#{System.unique_integer([:positive])}", [:named_table])
        run_all(Heirloom, t)
      end

    [via_nif, via_cnode] = results

    for {{label, a}, {label, b}} <- Enum.zip(via_nif, via_cnode) do
      assert a == b, "#{label}: NIF gave #{inspect(a, limit: 5)}, C node #{inspect(b, limit: 5)}"
    end

    e = :ets.new(:paths_ets, [:named_table])
    via_ets = run_all(:ets, e)
    :ets.delete(e)

    for {{label, h}, {label, x}} <- Enum.zip(via_nif, via_ets) do
      assert outcome(h) == outcome(x),
             "#{label}: Heirloom #{inspect(h, limit: 5)}, ETS #{inspect(x, limit: 5)}"
    end
  end

  test "what one path writes the other finds: keys at every encoding boundary", %{node: node} do
    ints = [
      0,
      1,
      255,
      256,
      -1,
      2_147_483_647,
      2_147_483_648,
      -2_147_483_648,
      -2_147_483_649,
      1 <<< 59,
      (1 <<< 63) - 1,
      -(1 <<< 63),
      1 <<< 64,
      -(1 <<< 64)
    ]

    keys =
      ints ++
        [
          :a,
          :ascii_atom,
          :été,
          :日本,
          1.5,
          "bin",
          ~c"chars",
          {1, :two},
          [1 | 2],
          %{b: 1, a: 2},
          self()
        ]

    for {writer, reader} <- [{:nif, :cnode}, {:cnode, :nif}] do
      use_path(writer, node)

      t =
        Heirloom.new(:"cross_#{writer}_ü_#{System.unique_integer([:positive])}", [
          :named_table,
          :public
        ])

      for k <- keys, do: assert(Heirloom.insert(t, {k, writer}))
      use_path(reader, node)

      for k <- keys,
          do: assert(Heirloom.lookup(t, k) == [{k, writer}], "#{inspect(k)} written via #{writer}")

      assert Heirloom.info(t, :size) == length(keys)
    end
  end

  test "a private table refuses other processes on both paths", %{node: node} do
    for path <- [:nif, :cnode] do
      use_path(path, node)

      t =
        Heirloom.new(:"private_#{path}_#{System.unique_integer([:positive])}", [
          :named_table,
          :private
        ])

      assert Heirloom.insert(t, {1, :mine})
      assert Heirloom.lookup(t, 1) == [{1, :mine}]
      assert {:badarg, _} = in_other_process(fn -> run(fn -> Heirloom.lookup(t, 1) end) end).()
      assert {:badarg, _} = in_other_process(fn -> run(fn -> Heirloom.member(t, 1) end) end).()
    end
  end

  test "a give_away through the C node is seen at once by NIF writes", %{node: node} do
    use_path(:nif, node)
    t = Heirloom.new(:"moved_#{System.unique_integer([:positive])}", [:named_table])
    me = self()

    receiver =
      spawn(fn ->
        receive do:
                  ({:"ETS-TRANSFER", ^t, ^me, :go} ->
                     send(me, {:writes, run(fn -> Heirloom.insert(t, {1, :theirs}) end)}))

        receive do: (:stop -> :ok)
      end)

    assert Heirloom.give_away(t, receiver, :go)
    assert_receive {:writes, {:ok, true}}, 2_000
    assert {:badarg, _} = run(fn -> Heirloom.insert(t, {2, :mine}) end)
    assert Heirloom.lookup(t, 1) == [{1, :theirs}]
    send(receiver, :stop)
  end

  test "the NIF keeps serving while the C node is killed and restarted, under the restart's rules",
       %{node: node, c: c} do
    use_path(:nif, node)
    t = Heirloom.new(:"survivor_#{System.unique_integer([:positive])}", [:named_table])
    assert Heirloom.insert(t, for(i <- 1..1000, do: {i, i * i}))
    CNode.kill9(c)
    # No C node at all: the rows are still read from the store.
    assert Heirloom.lookup(t, 999) == [{999, 998_001}]
    assert Heirloom.info(t, :size) == 1000
    CNode.restart(c)
    assert Heirloom.path() == :nif
    # A restarted C node holds every table: the old owner may read, not write...
    assert Heirloom.info(t, :held_by_heirloom)
    assert Heirloom.lookup(t, 2) == [{2, 4}]
    assert {:badarg, _} = run(fn -> Heirloom.insert(t, {1001, :late}) end)
    # ...until it claims the table back.
    assert Heirloom.claim(t, []) == {:ok, t}
    assert Heirloom.insert(t, {1001, :late})
    assert Heirloom.lookup(t, 1001) == [{1001, :late}]
  end
end
