# `make bench`: Heirloom next to ETS on the same data, in one run. Prints
# markdown tables with ratios and writes them to bench/RESULTS.md.
Code.require_file("bench_support.exs", __DIR__)
Code.require_file("types.exs", __DIR__)
alias HeirloomTest.{CNode, Peer, EtsServer}

rows = String.to_integer(System.get_env("BENCH_ROWS", "1000000"))
samples = String.to_integer(System.get_env("BENCH_SAMPLES", "20000"))
procs = String.to_integer(System.get_env("BENCH_PROCS", "#{System.schedulers_online() * 2}"))
dur = String.to_integer(System.get_env("BENCH_MS", "2000"))
recovery_sizes = Enum.uniq([1_000, 100_000, rows])
repeats = String.to_integer(System.get_env("BENCH_REPEATS", "5"))

# The store lives where the embedded default puts it (tmpfs), in a directory
# of this run's own, never the user's default store.
shm = if File.dir?("/dev/shm"), do: "/dev/shm", else: System.tmp_dir!()
store_dir = Path.join(shm, "heirloom_bench_#{System.pid()}")
File.rm_rf!(store_dir)

HeirloomTest.start_distribution!()
c = CNode.start(dir: store_dir)
cnode = CNode.name(c)
Heirloom.set_node(cnode)

out = [
  "# Heirloom benchmarks\n\n",
  "#{rows} rows of {integer, 100-byte binary}; #{System.schedulers_online()} schedulers; #{procs} processes for throughput.\n\n"
]

say = fn line ->
  IO.puts(line)
  line <> "\n"
end

# --- the same data in ETS, Heirloom (one table, both paths) and the baseline --
ets = :ets.new(:bench_ets, [:set, :public])
for chunk <- Enum.chunk_every(1..rows, 10_000), do: :ets.insert(ets, Enum.map(chunk, &Bench.row/1))
:bench = Heirloom.new(:bench, [:named_table, :public])
:nif = :heirloom.path()
for chunk <- Enum.chunk_every(1..rows, 10_000), do: Heirloom.insert(:bench, Enum.map(chunk, &Bench.row/1))
peer = Peer.start("datamaster")
{:ok, _} = :erpc.call(peer.node, EtsServer, :start, [:bench_dm])
dm = {:bench_dm, peer.node}
for chunk <- Enum.chunk_every(1..rows, 10_000), do: GenServer.call(dm, {:insert, Enum.map(chunk, &Bench.row/1)}, 60_000)

key = fn i -> rem(i * 7919, rows) + 1 end

paths = [
  {"ETS", fn i -> :ets.lookup(ets, key.(i)) end, fn i -> :ets.insert(ets, Bench.row(key.(i))) end},
  {"Heirloom NIF", fn i -> :heirloom.lookup(:bench, key.(i)) end,
   fn i -> :heirloom.insert(:bench, Bench.row(key.(i))) end},
  {"Heirloom C node", fn i -> :heirloom.call(cnode, {:lookup, :bench, key.(i)}) end,
   fn i -> :heirloom.call(cnode, {:insert, :bench, Bench.row(key.(i))}) end},
  {"BEAM DataMaster (gen_server + ETS on another node)", fn i -> GenServer.call(dm, {:lookup, key.(i)}) end,
   fn i -> GenServer.call(dm, {:insert, Bench.row(key.(i))}) end}
]

# Sanity: every path sees the same row.
[{5, _}] = :ets.lookup(ets, 5)
[{5, _}] = :heirloom.lookup(:bench, 5)
[{5, _}] = :heirloom.call(cnode, {:lookup, :bench, 5})
[{5, _}] = GenServer.call(dm, {:lookup, 5})

measure = fn {name, look, ins} ->
  IO.puts("measuring #{name} ...")
  l = Bench.latencies(samples, look)
  w = Bench.latencies(samples, ins)

  {name, Bench.median(l), Bench.p99(l), Bench.throughput(1, dur, look), Bench.throughput(procs, dur, look),
   Bench.median(w), Bench.p99(w), Bench.throughput(1, dur, ins), Bench.throughput(procs, dur, ins)}
end

results = Enum.map(paths, measure)
[{_, el, _, _, _, ew, _, _, _} | _] = results
{_, dml, _, _, _, _, _, _, _} = List.last(results)

out =
  out ++
    [
      say.("## Lookup and insert (latency in µs, throughput in ops/s)\n"),
      say.(
        "| path | lookup median | p99 | vs ETS | vs DataMaster | lookups/s 1 proc | #{procs} procs | insert median | p99 | vs ETS | inserts/s 1 proc | #{procs} procs |"
      ),
      say.("|---|---|---|---|---|---|---|---|---|---|---|---|")
    ]

out =
  out ++
    for {name, lm, lp, l1, ln, wm, wp, w1, wn} <- results do
      say.(
        "| #{name} | #{Bench.fmt(lm)} | #{Bench.fmt(lp)} | #{Bench.ratio(lm, el)} | #{Bench.ratio(lm, dml)} | #{Bench.fmt(l1)} | #{Bench.fmt(ln)} | #{Bench.fmt(wm)} | #{Bench.fmt(wp)} | #{Bench.ratio(wm, ew)} | #{Bench.fmt(w1)} | #{Bench.fmt(wn)} |"
      )
    end

# --- memory per row -------------------------------------------------------------
ets_bytes = :ets.info(ets, :memory) * :erlang.system_info(:wordsize)
hl_bytes = Heirloom.info(:bench, :memory_bytes)
# Allocated size: data.mdb is sparse, its apparent size is the map size.
{du, 0} = System.cmd("du", ["-B1", Path.join(CNode.dir(c), "data.mdb")])
file_bytes = du |> String.split() |> hd() |> String.to_integer()

out =
  out ++
    [
      say.("\n## Memory per row (bytes)\n"),
      say.("| store | bytes/row | vs ETS |"),
      say.("|---|---|---|"),
      say.("| ETS | #{Bench.fmt(ets_bytes / rows)} | 1.00x |"),
      say.(
        "| Heirloom (LMDB pages of the table) | #{Bench.fmt(hl_bytes / rows)} | #{Bench.ratio(hl_bytes, ets_bytes)} |"
      ),
      say.(
        "| Heirloom (whole data.mdb file, allocated: every page of the store) | #{Bench.fmt(file_bytes / rows)} | #{Bench.ratio(file_bytes, ets_bytes)} |"
      )
    ]

:ets.delete(ets)
Heirloom.delete(:bench)
Peer.stop(peer)

# --- recovery after the owner is killed -------------------------------------------
# One filled table per size and store, made with this process as heir. Each
# repeat gives it away to a fresh owner, kills that owner and times until the
# heir holds the table again (ETS-TRANSFER) and until its first lookup
# answers. Medians of `repeats` runs.
now = fn -> System.monotonic_time(:microsecond) end

recover = fn tab, give_away, lookup ->
  runs =
    for _ <- 1..repeats do
      owner = spawn(fn -> receive do: (:never -> :ok) end)
      true = give_away.(tab, owner)
      t0 = now.()
      Process.exit(owner, :kill)
      receive do: ({:"ETS-TRANSFER", ^tab, ^owner, :h} -> :ok)
      transfer = now.() - t0
      [{1, _}] = lookup.(tab, 1)
      {transfer, now.() - t0}
    end

  {Bench.median(Enum.map(runs, &elem(&1, 0))), Bench.median(Enum.map(runs, &elem(&1, 1)))}
end

fill = fn insert, n ->
  for chunk <- Enum.chunk_every(1..n, 10_000), do: insert.(Enum.map(chunk, &Bench.row/1))
end

recover_ets = fn n ->
  t = :ets.new(:rec, [:set, :public, {:heir, self(), :h}])
  fill.(&:ets.insert(t, &1), n)
  r = recover.(t, &:ets.give_away(&1, &2, :g), &:ets.lookup/2)
  :ets.delete(t)
  r
end

recover_hl = fn n ->
  name = :"rec_#{n}"
  ^name = Heirloom.new(name, [:named_table, :public, {:heir, self(), :h}])
  fill.(&Heirloom.insert(name, &1), n)
  r = recover.(name, &Heirloom.give_away(&1, &2, :g), &Heirloom.lookup/2)
  Heirloom.delete(name)
  r
end

reload = fn n ->
  t0 = now.()
  t = :ets.new(:reload, [:set, :public])
  fill.(&:ets.insert(t, &1), n)
  us = now.() - t0
  :ets.delete(t)
  us
end

out =
  out ++
    [
      say.("\n## Recovery after the owner is killed (µs, median of #{repeats})\n"),
      say.(
        "Reload = rebuilding the rows into ETS from an in-memory source: a lower bound for a real reload from a database.\n"
      ),
      say.(
        "| rows | ETS heir: kill→transfer | Heirloom: kill→transfer | ETS: kill→first lookup | Heirloom: kill→first lookup | vs ETS | reload from scratch | reload / Heirloom recovery |"
      ),
      say.("|---|---|---|---|---|---|---|---|")
    ]

recs =
  for n <- recovery_sizes do
    IO.puts("recovery with #{n} rows ...")
    {et, ef} = recover_ets.(n)
    {ht, hf} = recover_hl.(n)
    r = reload.(n)
    {n, et, ht, ef, hf, r}
  end

out =
  out ++
    for {n, et, ht, ef, hf, r} <- recs do
      say.("| #{n} | #{et} | #{ht} | #{ef} | #{hf} | #{Bench.ratio(hf, ef)} | #{r} | #{Bench.fmt(r / max(hf, 1))}x |")
    end

{_, _, _, _, small, _} = hd(recs)
{_, _, _, _, big, big_reload} = List.last(recs)

out =
  out ++
    [
      say.(
        "\nRecovery for #{rows} rows is #{Bench.ratio(big, small)} the time for 1,000 rows; reloading #{rows} rows takes #{Bench.fmt(big_reload / max(big, 1))}x Heirloom's recovery."
      )
    ]

# --- table types and key-based operations (bench/types.exs) --------------------
out = out ++ BenchTypes.run(rows, samples, cnode, say)

File.write!(Path.join(__DIR__, "RESULTS.md"), out)
GenServer.stop(c)
File.rm_rf!(store_dir)
HeirloomTest.stop_distribution()
