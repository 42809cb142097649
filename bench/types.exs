# The table types and the key-based operations, next to ETS on the same rows
# in the same run (bench/run.exs calls BenchTypes.run/4). Latencies are medians in µs; a fold is timed whole.
defmodule BenchTypes do
  def run(rows, samples, cnode, say) do
    key = fn i -> rem(i * 7919, rows) + 1 end
    IO.puts("table types: filling #{rows} rows ...")

    # ordered_set: lookups, next steps, a whole foldl.
    eo = :ets.new(:bench_os, [:ordered_set, :public])
    :bench_os = Heirloom.new(:bench_os, [:named_table, :ordered_set, :public])
    fill(rows, &:ets.insert(eo, &1), &Heirloom.insert(:bench_os, &1))

    # bag: 4 objects per key.
    eb = :ets.new(:bench_bag, [:bag, :public])
    :bench_bag = Heirloom.new(:bench_bag, [:named_table, :bag, :public])
    keys = max(div(rows, 4), 1)
    bag_row = fn n -> {rem(n, keys) + 1, n} end

    for chunk <- Enum.chunk_every(1..rows, 10_000) do
      objs = Enum.map(chunk, bag_row)
      :ets.insert(eb, objs)
      Heirloom.insert(:bench_bag, objs)
    end

    # counters
    ec = :ets.new(:bench_ctr, [:set, :public])
    :bench_ctr = Heirloom.new(:bench_ctr, [:named_table, :public])
    ctrs = for i <- 1..1000, do: {i, 0}
    :ets.insert(ec, ctrs)
    Heirloom.insert(:bench_ctr, ctrs)

    bkey = fn i -> rem(i * 7919, keys) + 1 end
    ckey = fn i -> rem(i, 1000) + 1 end

    ops = [
      {"ordered_set lookup", fn i -> :ets.lookup(eo, key.(i)) end, fn i -> :heirloom.lookup(:bench_os, key.(i)) end,
       fn i -> :heirloom.call(cnode, {:lookup, :bench_os, key.(i)}) end},
      {"ordered_set next", fn i -> :ets.next(eo, key.(i)) end, fn i -> :heirloom.next(:bench_os, key.(i)) end,
       fn i -> :heirloom.call(cnode, {:next, :bench_os, key.(i)}) end},
      {"bag lookup (4 objects)", fn i -> :ets.lookup(eb, bkey.(i)) end,
       fn i -> :heirloom.lookup(:bench_bag, bkey.(i)) end,
       fn i -> :heirloom.call(cnode, {:lookup, :bench_bag, bkey.(i)}) end},
      {"update_counter", fn i -> :ets.update_counter(ec, ckey.(i), 1) end,
       fn i -> :heirloom.update_counter(:bench_ctr, ckey.(i), 1) end,
       fn i -> :heirloom.call(cnode, {:update_counter, :bench_ctr, ckey.(i), 1}) end}
    ]

    lines = [
      say.("\n## Table types and key-based operations (median µs; ratio to ETS in the same run)\n"),
      say.("| operation | ETS | Heirloom NIF | vs ETS | Heirloom C node | vs ETS |"),
      say.("|---|---|---|---|---|---|")
    ]

    lines =
      lines ++
        for {name, e, n, c} <- ops do
          IO.puts("measuring #{name} ...")
          em = Bench.median(Bench.latencies(samples, e))
          nm = Bench.median(Bench.latencies(samples, n))
          cm = Bench.median(Bench.latencies(div(samples, 4), c))

          say.(
            "| #{name} | #{Bench.fmt(em)} | #{Bench.fmt(nm)} | #{Bench.ratio(nm, em)} | #{Bench.fmt(cm)} | #{Bench.ratio(cm, em)} |"
          )
        end

    IO.puts("measuring foldl over #{rows} rows ...")
    count = fn _, n -> n + 1 end
    {et, ^rows} = :timer.tc(fn -> :ets.foldl(count, 0, eo) end)
    {ht, ^rows} = :timer.tc(fn -> :heirloom.foldl(count, 0, :bench_os) end)

    lines =
      lines ++
        [
          say.(
            "| foldl over #{rows} rows (ms, whole fold) | #{Bench.fmt(et / 1000)} | #{Bench.fmt(ht / 1000)} | #{Bench.ratio(ht, et)} | - | - |"
          )
        ]

    :ets.delete(eo)
    :ets.delete(eb)
    :ets.delete(ec)
    Enum.each([:bench_os, :bench_bag, :bench_ctr], &Heirloom.delete/1)
    lines
  end

  defp fill(rows, ets_insert, hl_insert) do
    for chunk <- Enum.chunk_every(1..rows, 10_000) do
      objs = Enum.map(chunk, &Bench.row/1)
      ets_insert.(objs)
      hl_insert.(objs)
    end
  end
end
