# The select family next to ETS (make bench and make bench-ms): select and
# select_count on `rows` rows of {i, i rem 100, 100-byte binary}, ETS next
# to Heirloom's NIF and C node paths (median of `repeats` runs, ms); then a
# key-range select on ordered_sets of rows/10 and rows rows of
# {{i div 1000, i}, i rem 100}, whose partly bound key {42, _} reaches the
# same 1,000 rows at both sizes: its time should follow the range, not the
# table. run/4 returns the markdown lines (say prints and keeps each).
defmodule BenchSelect do
  def run(rows, repeats, cnode, say) do
    row = fn i -> {i, rem(i, 100), :binary.copy(<<i::32>>, 25)} end
    ets = :ets.new(:bench_ets, [:set, :public])
    :bench_ms = Heirloom.new(:bench_ms, [:named_table, :public])

    for chunk <- Enum.chunk_every(1..rows, 10_000) do
      objs = Enum.map(chunk, row)
      :ets.insert(ets, objs)
      Heirloom.insert(:bench_ms, objs)
    end

    # Ordered sets of two sizes, the same key range in each.
    range_sizes = [div(rows, 10), rows]

    ordered =
      for n <- range_sizes do
        e = :ets.new(:bench_ets_os, [:ordered_set, :public])
        name = :"bench_ms_os_#{n}"
        ^name = Heirloom.new(name, [:ordered_set, :named_table, :public])

        for chunk <- Enum.chunk_every(1..n, 10_000) do
          objs = Enum.map(chunk, fn i -> {{div(i, 1000), i}, rem(i, 100)} end)
          :ets.insert(e, objs)
          Heirloom.insert(name, objs)
        end

        {n, e, name}
      end

    # {42, _} for the default sizes; a prefix both tables hold for smaller runs
    prefix = min(42, div(div(rows, 10), 2000))
    key_range = [{{{prefix, :"$1"}, :_}, [], [:"$1"]}]
    one_pct = [{{:"$1", :"$2", :_}, [{:==, :"$2", 7}], [:"$1"]}]
    count_all = [{{:_, :"$2", :_}, [{:<, :"$2", 50}], [true]}]

    # A call under a millisecond is timed over 100 calls a sample.
    time = fn f ->
      t0 = System.monotonic_time(:microsecond)
      f.()
      n = if System.monotonic_time(:microsecond) - t0 < 1000, do: 100, else: 1

      ts =
        for _ <- 1..repeats do
          t = System.monotonic_time(:microsecond)
          for _ <- 1..n, do: f.()
          (System.monotonic_time(:microsecond) - t) / 1000 / n
        end

      Bench.median(ts)
    end

    ms = fn x -> if x < 10, do: :erlang.float_to_binary(x, decimals: 3), else: Float.round(x, 1) end

    path = fn p ->
      Application.put_env(:heirloom, :path, p)
      :heirloom.forget_path(cnode)
    end

    cases =
      [
        {"select 1% by a guard on the value", fn -> :ets.select(ets, one_pct) end,
         fn -> Heirloom.select(:bench_ms, one_pct) end},
        {"select_count over the whole table", fn -> :ets.select_count(ets, count_all) end,
         fn -> Heirloom.select_count(:bench_ms, count_all) end}
      ] ++
        for {n, e, name} <- ordered do
          {"ordered_set key range {#{prefix}, _}: 1,000 of #{n} rows", fn -> :ets.select(e, key_range) end,
           fn -> Heirloom.select(name, key_range) end}
        end

    header = [
      say.("\n## Match specifications: select, select_count, a key range (median of #{repeats} runs, ms)\n"),
      say.(
        "#{rows} rows of {i, i rem 100, 100-byte binary}; the key range is a partly bound key on ordered_sets of two sizes, reaching the same 1,000 rows in each: its time follows the range, not the table. Targets: NIF full-scan select ≤ 3x ETS.\n"
      ),
      say.("| case | ETS | Heirloom NIF | ratio | Heirloom C node | ratio |"),
      say.("|---|---|---|---|---|---|")
    ]

    rows_out =
      for {label, e, h} <- cases do
        te = time.(e)
        path.(:auto)
        :nif = :heirloom.path()
        norm = fn x -> if is_list(x), do: Enum.sort(x), else: x end
        true = norm.(h.()) == norm.(e.())
        tn = time.(h)
        path.(:cnode)
        tc = time.(h)
        r = fn x -> :erlang.float_to_binary(x / te, decimals: 1) end

        IO.puts("measured #{label}")
        say.("| #{label} | #{ms.(te)} | #{ms.(tn)} | #{r.(tn)}x | #{ms.(tc)} | #{r.(tc)}x |")
      end

    :ets.delete(ets)
    Heirloom.delete(:bench_ms)

    for {_, e, name} <- ordered do
      :ets.delete(e)
      Heirloom.delete(name)
    end

    Application.delete_env(:heirloom, :path)
    :heirloom.forget_path(cnode)

    header ++ rows_out
  end
end
