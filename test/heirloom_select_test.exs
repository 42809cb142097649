defmodule Heirloom.SelectTest do
  # select, match and their kin against :ets itself: seeded random tables and
  # seeded random match specifications from the grammar (valid ones, ones
  # fun2ms makes, ones ETS refuses), each run on :ets and on Heirloom through
  # both paths (NIF and C node). Results equal (sorted: a set's order is
  # ETS's own), errors equal. HEIRLOOM_MS_SEED picks the seed,
  # HEIRLOOM_MS_SPECS the number of specs (`make soak-ms` runs many more).
  use ExUnit.Case, async: false
  import Bitwise

  alias HeirloomTest.MsGen

  use HeirloomTest.Paths

  defp run(fun) do
    {:ok, fun.()}
  catch
    :error, :badarg -> {:badarg, cause(__STACKTRACE__)}
  end

  defp cause([{_, _, _, info} | _]) when is_list(info), do: get_in(info, [:error_info, :cause])
  defp cause(_), do: nil

  defp fresh(name, objs, type \\ :set) do
    e = :ets.new(:select_ets, [type, :public])
    :ets.insert(e, objs)
    h = Heirloom.new(name, [type, :public])
    Heirloom.insert(h, objs)
    {e, h}
  end

  defp reset(h, objs) do
    Heirloom.delete_all_objects(h)
    Heirloom.insert(h, objs)
  end

  defp norm({:ok, l}) when is_list(l), do: {:ok, Enum.sort(l)}
  defp norm({:badarg, _}), do: :badarg
  defp norm(other), do: other

  # select/3 chunks, joined; the limit is respected.
  defp chunks(m, t, spec, limit) do
    run(fn ->
      case m.select(t, spec, limit) do
        :"$end_of_table" -> []
        {l, cont} when length(l) <= limit -> more(m, l, cont, limit)
      end
    end)
  end

  defp more(m, acc, cont, limit) do
    case m.select(cont) do
      :"$end_of_table" -> acc
      {l, c} when length(l) <= limit -> more(m, acc ++ l, c, limit)
    end
  end

  @ops [:select, :select_reverse, :select_count, :select3]

  defp compare(label, e, h, spec, op) do
    {x, y} =
      case op do
        :select3 -> {chunks(:ets, e, spec, 3), chunks(Heirloom, h, spec, 3)}
        _ -> {run(fn -> apply(:ets, op, [e, spec]) end), run(fn -> apply(Heirloom, op, [h, spec]) end)}
      end

    case y do
      {:badarg, :not_supported} ->
        :unsupported

      _ ->
        assert norm(x) == norm(y),
               "#{label} #{op} #{inspect(spec)}: ETS #{inspect(x, limit: 8)}, Heirloom #{inspect(y, limit: 8)}"

        case x do
          {:badarg, _} -> :refused
          {:ok, v} when v in [[], 0] -> :nothing
          _ -> :results
        end
    end
  end

  # The writing kin, each on a throwaway ETS table: with OTP 25, a table
  # that select_replace or delete_all_objects went through was seen to lose
  # rows or take the VM down in a later select (seeds 22 and 24, both
  # paths), so the main ETS table is only ever read.
  defp write_ops(label, tabs, objs, spec) do
    {_, h} = tabs

    for op <- [:select_delete, :select_replace] do
      reset(h, objs)
      e = :ets.new(:select_ets_w, [Heirloom.info(h, :type), :public])
      :ets.insert(e, objs)
      x = run(fn -> apply(:ets, op, [e, spec]) end)
      y = run(fn -> apply(Heirloom, op, [h, spec]) end)

      unless match?({:badarg, :not_supported}, y) do
        assert norm(x) == norm(y),
               "#{label} #{op} #{inspect(spec)}: ETS #{inspect(x)}, Heirloom #{inspect(y)}"

        # select_replace may leave a partial result when ETS raises midway
        if match?({:ok, _}, x),
          do: assert(Enum.sort(:ets.tab2list(e)) == Enum.sort(Heirloom.tab2list(h)), "#{label} #{op} contents")
      end

      :ets.delete(e)
    end

    reset(h, objs)
  end

  # HEIRLOOM_MS_PATHS=nif (or cnode) runs one path only, to tell them apart.
  defp paths do
    (System.get_env("HEIRLOOM_MS_PATHS") || "nif,cnode")
    |> String.split(",")
    |> Enum.map(&String.to_existing_atom/1)
  end

  # Specs are made lazily (a soak run has a million), the same for both
  # paths: the generator is seeded again for each. Returns the tally and
  # the set of distinct specs (as 32-bit hashes) the first path ran (the
  # second runs the same ones, but for references made anew).
  defp differential(node, seed, nspecs, type) do
    [first | _] = paths()

    for path <- paths(), reduce: {%{}, MapSet.new()} do
      {tally, seen} ->
        :rand.seed(:exsss, {seed, seed * 7 + 1, seed * 13 + 2})
        objs = MsGen.objects(25) |> one_per_key(type)
        specs = Stream.concat(MsGen.fun2ms_specs(), Stream.repeatedly(fn -> MsGen.spec(objs) end))
        use_path(path, node)
        tabs = fresh(:"sel_#{path}_#{System.unique_integer([:positive])}", objs, type)
        {e, h} = tabs
        label = "seed #{seed} #{type} #{path}"

        result =
          specs
          |> Stream.take(nspecs)
          |> Stream.with_index()
          |> Enum.reduce({tally, seen}, fn {spec, i}, {tally, seen} ->
            op = Enum.at(@ops, rem(i, length(@ops)))
            r = compare(label, e, h, spec, op)
            if rem(i, 97) == 0, do: write_ops(label, tabs, objs, spec)
            seen = if path == first, do: MapSet.put(seen, :erlang.phash2(spec, 1 <<< 32)), else: seen
            {Map.update(tally, r, 1, &(&1 + 1)), seen}
          end)

        :ets.delete(e)
        Heirloom.delete(h)
        result
    end
  end

  # An ordered_set holds one object per key by ==, and which of 1 and 1.0
  # an insert of both keeps is not defined by ETS: keep the first.
  defp one_per_key(objs, :ordered_set) do
    objs
    |> Enum.reduce([], fn o, kept ->
      if Enum.any?(kept, &(elem(&1, 0) == elem(o, 0))), do: kept, else: [o | kept]
    end)
    |> Enum.reverse()
  end

  defp one_per_key(objs, _), do: objs

  defp env_int(name, default), do: String.to_integer(System.get_env(name) || default)

  # The issue's floor: make test runs at least this many distinct specs.
  @floor 20_000

  test "seeded random specs on every table type: Heirloom through both paths equals ETS",
       %{node: node} do
    # A fixed seed by default, so make mixtest is repeatable; `make soak-ms`
    # passes HEIRLOOM_MS_SEED=random (see the README's open problem: some
    # seeds crash the test VM in ets:select/2 after long runs). The other
    # types run with seeds of their own, so their specs differ too; an
    # ordered_set gets twice as many, its key ranges being its own code.
    # Rows come in another order per type, which select leaves open
    # (results are compared sorted).
    seed =
      case System.get_env("HEIRLOOM_MS_SEED") || "1" do
        "random" -> :erlang.phash2(make_ref(), 1_000_000)
        s -> String.to_integer(s)
      end

    n = env_int("HEIRLOOM_MS_SPECS", "10000")
    nt = env_int("HEIRLOOM_MS_TYPE_SPECS", "3200")
    IO.puts("heirloom_select_test: seed #{seed}, #{n} specs on a set, #{nt}-#{2 * nt} on the others")

    runs = [
      {:set, seed, n},
      {:ordered_set, seed + 2, 2 * nt},
      {:bag, seed + 3, nt},
      {:duplicate_bag, seed + 6, nt}
    ]

    seen =
      for {type, s, count} <- runs, reduce: MapSet.new() do
        seen ->
          {tally, specs} = differential(node, s, count, type)
          IO.puts("heirloom_select_test #{type} (seed #{s}): #{count} specs, #{inspect(tally)}")
          total = tally |> Map.values() |> Enum.sum()
          assert total == count * length(paths())
          # the bignum bound (HL_EUNSUPPORTED, README) stays the exception; a
          # good share of specs select something, and some are refused by both
          assert Map.get(tally, :unsupported, 0) * 20 < total
          assert Map.get(tally, :results, 0) * 20 > total
          assert Map.get(tally, :refused, 0) > 0
          MapSet.union(seen, specs)
      end

    IO.puts("heirloom_select_test: #{MapSet.size(seen)} distinct specs in all")
    if n + 4 * nt >= @floor * 1.05, do: assert(MapSet.size(seen) >= @floor)
  end

  # ETS compares a repeated variable with eq() (0.0 =:= -0.0 on OTP 25) and
  # a constant by its bits: the engine did both by bits until seed 408890.
  test "repeated variables compare floats as =:=, constants by bits", %{node: node} do
    nz = :erlang.binary_to_term(<<131, 70, 128, 0, 0, 0, 0, 0, 0, 0>>)
    objs = [{1, nz, 0.0}, {2, {nz}, 0.0}, {3, [0.0], [nz]}, {4, 0.0, 0.0}, {5, 1, 1.0}]

    specs = [
      [{{:"$1", :"$2", :"$2"}, [], [:"$1"]}],
      [{{:"$1", {:"$2"}, :"$2"}, [], [:"$1"]}],
      [{{:"$1", [:"$2"], [:"$2"]}, [], [:"$1"]}],
      [{{:"$1", :_, 0.0}, [], [:"$1"]}],
      [{{:"$1", nz, :_}, [], [:"$1"]}]
    ]

    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"floats_#{path}_#{System.unique_integer([:positive])}", objs)

      for ms <- specs,
          do: assert(Enum.sort(Heirloom.select(h, ms)) == Enum.sort(:ets.select(e, ms)), "#{path} #{inspect(ms)}")

      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  # The specs the generator must avoid (an OTP 25 ETS bug, README
  # "Semantics"): Heirloom's answers, written out.
  # erts's is_record/3 wants a small integer (60 bits) as the size; a larger
  # one raises (seed 5 found the C engine answering false).
  test "is_record's size: a small integer, as erts", %{node: node} do
    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"isrec_#{path}_#{System.unique_integer([:positive])}", [{1, {:a, 2}}])

      for n <- [2, 1 <<< 59, (1 <<< 59) - 1, -(1 <<< 59), -(1 <<< 59) - 1, 1 <<< 62, 1 <<< 70] do
        ms = [{{:_, :"$1"}, [], [{:is_record, :"$1", :a, n}]}]
        assert Heirloom.select(h, ms) == :ets.select(e, ms), "#{path} #{n}"
      end

      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  test "a body's skipped andalso/orelse operand, both paths", %{node: node} do
    big = -18_446_744_073_709_551_616
    objs = [{:b, 13, :x, 7}, {7, big, :c, [1]}]

    cases = [
      {[{{:_, :"$2", :_, :"$3"}, [], [{:orelse, 1.5, :"$3"}, :"$$"]}], [[13, 7], [big, [1]]]},
      {[{{:_, :"$2", :_, :"$3"}, [], [{:orelse, true, :"$2"}, :"$2"]}], [13, big]},
      {[{{:_, :"$2", :_, :"$3"}, [], [{{{:andalso, false, :"$3"}, :"$3"}}]}], [{false, 7}, {false, [1]}]},
      {[{{:_, :"$2", :_, :"$3"}, [], [{{{:orelse, 1.5, :"$3"}}}]}], [{:EXIT}, {:EXIT}]}
    ]

    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"skip_#{path}_#{System.unique_integer([:positive])}", objs)

      for {ms, want} <- cases,
          do: assert(Enum.sort(Heirloom.select(h, ms)) == Enum.sort(want), "#{path} #{inspect(ms)}")

      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  test "hand-picked cases, both paths", %{node: node} do
    objs = [{1, :a, 2.0}, {2, :b, %{x: 1}}, {3, :c, [1, 2]}, {4, -0.0, "bin"}]

    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"hand_#{path}_#{System.unique_integer([:positive])}", objs)

      for {m, t} <- [{:ets, e}, {Heirloom, h}] do
        assert Enum.sort(m.select(t, [{{:"$1", :_, :_}, [{:>, :"$1", 1}], [:"$1"]}])) == [2, 3, 4]
        assert m.select(t, [{{:"$1", :_, %{x: :"$2"}}, [], [:"$2"]}]) == [1]
        assert Enum.sort(m.match(t, {:"$1", :_, :"$2"})) == Enum.sort(Enum.map(objs, fn {k, _, v} -> [k, v] end))
        assert Enum.sort(m.match_object(t, {:_, :a, :_})) == [{1, :a, 2.0}]
        assert m.select_count(t, [{{:_, :_, :_}, [], [true]}]) == 4
        assert m.select(t, [{{4, :"$1", :_}, [{:"=:=", :"$1", 0.0}], [:"$1"]}]) == [-0.0]
        assert m.select(t, [{{1, :_, :_}, [], [{:self}]}]) == [self()]
        assert m.select(t, [{{1, :_, :_}, [], [{:hd, :"$_"}]}]) == [:EXIT]
        # every head names a key: looked up once per distinct key
        assert m.select(t, [{{1, :_, :_}, [], [:a]}, {{1, :_, :_}, [], [:b]}]) == [:a]
        assert m.select_count(t, [{{1, :_, :_}, [], [true]}, {{1.0, :_, :_}, [], [true]}]) == 1
      end

      assert_raise ArgumentError, fn -> Heirloom.select(h, [{{:"$1"}, [], [:"$2"]}]) end
      assert_raise ArgumentError, fn -> Heirloom.select(h, {}) end
      # integers are exact past int64; only results past 16,384 bits are
      # refused (not_supported), never a wrong answer
      big = [{{1, :_, :_}, [], [{{{:band, {:-, {:bsl, 1, 70}}, -1}, {:rem, {:*, 3, 1 <<< 70}, 1_000_000_007}}}]}]
      assert Heirloom.select(h, [{{1, :_, :_}, [], [{:*, 1 <<< 40, 1 <<< 40}]}]) == [1 <<< 80]
      assert Heirloom.select(h, [{{1, :_, :_}, [], [{:div, {:bsl, -7, 200}, 1 <<< 199}]}]) == [-14]
      assert Heirloom.select(h, big) == :ets.select(e, big)
      assert {:badarg, :not_supported} == run(fn -> Heirloom.select(h, [{{1, :_, :_}, [], [{:bsl, 1, 20_000}]}]) end)

      # the whole-table wire verbs, for clients without this library
      all = [{{:_, :_, :_}, [], [:"$_"]}]
      assert Enum.sort(Heirloom.call({:select, h, all})) == Enum.sort(objs)
      assert Heirloom.call({:select_count, h, [{{:_, :_, :_}, [], [true]}]}) == 4
      assert Heirloom.call({:match, h, {1, :"$1", :_}}) == [[:a]]
      assert Heirloom.call({:match_object, h, {2, :_, :_}}) == [{2, :b, %{x: 1}}]
      assert Heirloom.call({:select, h, :bad}) == {:error, :badarg}

      assert Heirloom.select_replace(h, [{{:"$1", :"$2", :"$3"}, [{:==, :"$1", 1}], [{{:"$1", :z, :"$3"}}]}]) == 1
      assert Heirloom.lookup(h, 1) == [{1, :z, 2.0}]

      assert_raise ArgumentError, fn ->
        Heirloom.select_replace(h, [{{:"$1", :"$2", :"$3"}, [], [{{1.0, :z, :"$3"}}]}])
      end

      assert Heirloom.match_delete(h, {1, :_, :_}) == true
      assert Heirloom.select_delete(h, [{{:"$1", :_, :_}, [{:<, :"$1", 3}], [true]}]) == 1
      assert Enum.sort(Heirloom.tab2list(h)) == [{3, :c, [1, 2]}, {4, -0.0, "bin"}]
      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  # Where ETS narrows a select to keys (a lookup, a key range) its results
  # differ from a whole scan's: a map pattern matches larger maps only
  # inside the range, and erts's choice of the least and most key pattern
  # has quirks (1.0 against 1 ends the comparison, so clause order
  # matters). Each case as ETS answers it on OTP 25, through every call.
  @ordered_objs [
    {{1.0, :z}, :v},
    {{1, :b}, :w},
    {{1.0, :c}, :u},
    {%{a: 1, b: 2}, 2},
    {%{a: 1.0}, 5},
    {{:x, %{a: 1, b: 2}}, 4},
    {{:y, %{a: 1, b: 2}}, 5},
    {[:a], 6},
    {{:z}, 7},
    {[:a, 1], 8},
    {[:a | :b], 9},
    {"ab", 10},
    {~c"ab", 11},
    {[97, :x], 12}
  ]

  @ranges [
    [{{{1, :b}, :_}, [], [:"$_"]}, {{{1.0, :"$1"}, :_}, [], [:"$_"]}],
    [{{{1.0, :"$1"}, :_}, [], [:"$_"]}, {{{1, :b}, :_}, [], [:"$_"]}],
    [{{{1.0, :"$1"}, :_}, [], [:"$_"]}],
    [{{%{a: 1}, :_}, [], [:"$_"]}],
    [{{%{a: 1}, :_}, [], [:"$_"]}, {{[:a], :_}, [], [:"$_"]}],
    [{{%{a: 1}, :_}, [], [:"$_"]}, {{[:a | :_], :_}, [], [:"$_"]}],
    [{{%{a: 1}, :_}, [], [:"$_"]}, {{{:x, :_}, :_}, [], [:"$_"]}],
    [{{{:x, %{a: 1}}, :_}, [], [:"$_"]}, {{{:y, :_}, :_}, [], [:"$_"]}],
    [{{{:x, %{a: 1}}, :_}, [], [:"$_"]}, {{{:y, %{a: 1}}, :_}, [], [:"$_"]}],
    [{{{:x, %{a: :"$1"}}, :_}, [], [:"$_"]}],
    [{{[:a | :_], :_}, [], [:"$_"]}],
    [{{[97 | :"$1"], :_}, [], [:"$_"]}],
    [{{[:a, :"$1"], :_}, [], [:"$_"]}],
    [{{{:z}, :_}, [], [:"$_"]}, {:x, [], [:"$_"]}],
    [{{:"$1", :_}, [{:==, :"$1", 1}], [:"$_"]}],
    [{:x, [], [:"$_"]}],
    []
  ]

  test "key lookups and key ranges narrow as ETS's do", %{node: node} do
    hash_objs = [{%{a: 1, b: 2}, 2}, {%{a: 1}, 3}, {[:a], 6}, {{:z}, 7}]
    hash_specs = [[{{%{a: 1}, :_}, [], [:"$_"]}, {:x, [], [:"$_"]}], [{{%{a: 1}, :_}, [], [:"$_"]}, {{}, [], [1]}]]

    for path <- [:nif, :cnode],
        {type, objs, specs} <- [
          {:ordered_set, @ordered_objs, @ranges},
          {:set, hash_objs, hash_specs},
          {:bag, hash_objs, hash_specs}
        ] do
      use_path(path, node)
      tabs = fresh(:"narrow_#{path}_#{System.unique_integer([:positive])}", objs, type)
      {e, h} = tabs

      for spec <- specs do
        count = Enum.map(spec, fn {hd, g, _} -> {hd, g, [true]} end)
        for op <- @ops, do: compare("#{type} #{path}", e, h, spec, op)
        compare("#{type} #{path}", e, h, count, :select_count)
        write_ops("#{type} #{path}", tabs, objs, count)
      end

      # the quirk itself, spelled out: a clause's order changes the range
      if type == :ordered_set do
        assert Heirloom.select(h, Enum.at(@ranges, 0)) == [{{1, :b}, :w}]
        assert length(Heirloom.select(h, Enum.at(@ranges, 1))) == 3
      end

      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  test "a key range across continuations, forward and reverse", %{node: node} do
    objs = for i <- 0..2999, do: {{div(i, 100), i}, i}

    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"range_#{path}_#{System.unique_integer([:positive])}", objs, :ordered_set)
      spec = [{{{7, :"$1"}, :_}, [], [:"$1"]}, {{{9, :"$1"}, :_}, [{:<, :"$1", 950}], [:"$1"]}]

      for {f, want} <- [
            {:select, Enum.to_list(700..799) ++ Enum.to_list(900..949)},
            {:select_reverse, Enum.to_list(949..900) ++ Enum.to_list(799..700)}
          ] do
        assert apply(Heirloom, f, [h, spec]) == want
        assert apply(:ets, f, [e, spec]) == want
        {first, cont} = apply(Heirloom, f, [h, spec, 7])
        assert first == Enum.take(want, 7)
        # a row written inside the range, past the position, is seen
        Heirloom.insert(h, {{7, 750.5}, 0})
        rest = drain_with(f, cont, [])
        assert first ++ rest == Enum.sort(want ++ [750.5], if(f == :select, do: :asc, else: :desc))
        Heirloom.delete(h, {7, 750.5})
      end

      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  defp drain_with(f, cont, acc) do
    case apply(Heirloom, f, [cont]) do
      :"$end_of_table" -> acc
      {l, c} -> drain_with(f, c, acc ++ l)
    end
  end

  test "select_replace on a bag: badarg with ETS's cause, whatever the spec", %{node: node} do
    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"rbag_#{path}_#{System.unique_integer([:positive])}", [{1, 2, 3}], :bag)

      for spec <- [[{{:"$1", :_, :_}, [], [:"$_"]}], [{{:nomatch}, [], [:"$_"]}]] do
        assert {:badarg, :table_type} = run(fn -> :ets.select_replace(e, spec) end)
        assert {:badarg, :table_type} = run(fn -> Heirloom.select_replace(h, spec) end), "#{path}"
      end

      e2 = assert_raise ArgumentError, fn -> Heirloom.select_replace(h, [{:_, [], [:"$_"]}]) end
      assert Exception.message(e2) =~ "of a type not supported by this operation"
    end
  end

  test "private tables: only the owner selects", %{node: node} do
    for path <- [:nif, :cnode] do
      use_path(path, node)
      h = Heirloom.new(:"priv_#{path}_#{System.unique_integer([:positive])}", [:private])
      Heirloom.insert(h, {1, 2})
      assert Heirloom.select(h, [{:_, [], [:"$_"]}]) == [{1, 2}]
      r = Task.async(fn -> run(fn -> Heirloom.select(h, [{:_, [], [:"$_"]}]) end) end) |> Task.await()
      assert r == {:badarg, :access}
      Heirloom.delete(h)
    end
  end

  test "a select larger than one chunk, and continuations across changes", %{node: node} do
    objs = for i <- 1..5000, do: {i, rem(i, 10)}

    for path <- [:nif, :cnode] do
      use_path(path, node)
      {e, h} = fresh(:"big_#{path}_#{System.unique_integer([:positive])}", objs)
      spec = [{{:"$1", :"$2"}, [{:==, :"$2", 3}], [:"$1"]}]
      assert Enum.sort(Heirloom.select(h, spec)) == Enum.sort(:ets.select(e, spec))
      assert Heirloom.select_count(h, [{{:_, :"$1"}, [{:<, :"$1", 5}], [true]}]) == 2500
      {first, cont} = Heirloom.select(h, spec, 10)
      assert length(first) == 10
      # a row deleted before the continuation runs is not seen again
      Heirloom.delete(h, 4993)
      {:ok, rest} = {:ok, drain(cont, [])}
      all = first ++ rest
      assert length(all) == length(Enum.uniq(all))
      refute 4993 in rest
      assert Heirloom.select_delete(h, [{{:_, :"$1"}, [{:==, :"$1", 3}], [true]}]) == 499
      :ets.delete(e)
      Heirloom.delete(h)
    end
  end

  defp drain(cont, acc) do
    case Heirloom.select(cont) do
      :"$end_of_table" -> acc
      {l, c} -> drain(c, acc ++ l)
    end
  end
end
