# `make bench`: Heirloom next to ETS on the same data, in one run. Prints
# markdown tables with ratios and writes them to bench/RESULTS.md.
Code.require_file("bench_support.exs", __DIR__)
alias HeirloomTest.{CNode, Peer, EtsServer}

rows = String.to_integer(System.get_env("BENCH_ROWS", "1000000"))
samples = String.to_integer(System.get_env("BENCH_SAMPLES", "20000"))
procs = String.to_integer(System.get_env("BENCH_PROCS", "#{System.schedulers_online() * 2}"))
dur = String.to_integer(System.get_env("BENCH_MS", "2000"))
recovery_sizes = [1_000, 100_000, rows]

HeirloomTest.start_distribution!()
c = CNode.start()
cnode = CNode.name(c)
Heirloom.set_node(cnode)
out = ["# Heirloom benchmarks\n\n", "#{rows} rows of {integer, 100-byte binary}; #{System.schedulers_online()} schedulers; #{procs} processes for throughput.\n\n"]
say = fn line -> IO.puts(line); line <> "\n" end

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
  {"Heirloom NIF", fn i -> :heirloom.lookup(:bench, key.(i)) end, fn i -> :heirloom.insert(:bench, Bench.row(key.(i))) end},
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

out = out ++ [say.("## Lookup and insert (latency in µs, throughput in ops/s)\n"),
  say.("| path | lookup median | p99 | vs ETS | vs DataMaster | lookups/s 1 proc | #{procs} procs | insert median | p99 | vs ETS | inserts/s 1 proc | #{procs} procs |"),
  say.("|---|---|---|---|---|---|---|---|---|---|---|---|")]

out = out ++ for {name, lm, lp, l1, ln, wm, wp, w1, wn} <- results do
  say.("| #{name} | #{Bench.fmt(lm)} | #{Bench.fmt(lp)} | #{Bench.ratio(lm, el)} | #{Bench.ratio(lm, dml)} | #{Bench.fmt(l1)} | #{Bench.fmt(ln)} | #{Bench.fmt(wm)} | #{Bench.fmt(wp)} | #{Bench.ratio(wm, ew)} | #{Bench.fmt(w1)} | #{Bench.fmt(wn)} |")
end

# --- memory per row -------------------------------------------------------------
ets_bytes = :ets.info(ets, :memory) * :erlang.system_info(:wordsize)
hl_bytes = Heirloom.info(:bench, :memory_bytes)
file_bytes = File.stat!(Path.join(CNode.dir(c), "data.mdb")).size
out = out ++ [say.("\n## Memory per row (bytes)\n"), say.("| store | bytes/row | vs ETS |"), say.("|---|---|---|"),
  say.("| ETS | #{Bench.fmt(ets_bytes / rows)} | 1.00x |"),
  say.("| Heirloom (LMDB pages of the table) | #{Bench.fmt(hl_bytes / rows)} | #{Bench.ratio(hl_bytes, ets_bytes)} |"),
  say.("| Heirloom (whole data.mdb file) | #{Bench.fmt(file_bytes / rows)} | #{Bench.ratio(file_bytes, ets_bytes)} |")]
:ets.delete(ets)
Heirloom.delete(:bench)
Peer.stop(peer)

# --- recovery after the owner is killed -------------------------------------------
recover_ets = fn n ->
  me = self()
  owner = spawn(fn ->
    t = :ets.new(:rec, [:set, :public, {:heir, me, :h}])
    for chunk <- Enum.chunk_every(1..n, 10_000), do: :ets.insert(t, Enum.map(chunk, &Bench.row/1))
    send(me, :filled)
    receive do: (:never -> :ok)
  end)
  receive do: (:filled -> :ok)
  t0 = System.monotonic_time(:microsecond)
  Process.exit(owner, :kill)
  t = receive do: ({:"ETS-TRANSFER", t, _, :h} -> t)
  transfer = System.monotonic_time(:microsecond) - t0
  [{1, _}] = :ets.lookup(t, 1)
  first = System.monotonic_time(:microsecond) - t0
  :ets.delete(t)
  {transfer, first}
end

recover_hl = fn n ->
  me = self()
  name = :"rec_#{n}"
  owner = spawn(fn ->
    ^name = Heirloom.new(name, [:named_table, {:heir, me, :h}])
    for chunk <- Enum.chunk_every(1..n, 10_000), do: Heirloom.insert(name, Enum.map(chunk, &Bench.row/1))
    send(me, :filled)
    receive do: (:never -> :ok)
  end)
  receive do: (:filled -> :ok)
  t0 = System.monotonic_time(:microsecond)
  Process.exit(owner, :kill)
  receive do: ({:"ETS-TRANSFER", ^name, _, :h} -> :ok)
  transfer = System.monotonic_time(:microsecond) - t0
  [{1, _}] = Heirloom.lookup(name, 1)
  first = System.monotonic_time(:microsecond) - t0
  Heirloom.delete(name)
  {transfer, first}
end

reload = fn n ->
  t0 = System.monotonic_time(:microsecond)
  t = :ets.new(:reload, [:set, :public])
  for chunk <- Enum.chunk_every(1..n, 10_000), do: :ets.insert(t, Enum.map(chunk, &Bench.row/1))
  us = System.monotonic_time(:microsecond) - t0
  :ets.delete(t)
  us
end

out = out ++ [say.("\n## Recovery after the owner is killed (µs)\n"),
  say.("Reload = rebuilding the rows into ETS from an in-memory source: a lower bound for a real reload from a database.\n"),
  say.("| rows | ETS heir: kill→transfer | Heirloom: kill→transfer | ETS: kill→first lookup | Heirloom: kill→first lookup | vs ETS | reload from scratch | reload / Heirloom recovery |"),
  say.("|---|---|---|---|---|---|---|---|")]

recs = for n <- recovery_sizes do
  IO.puts("recovery with #{n} rows ...")
  {et, ef} = recover_ets.(n)
  {ht, hf} = recover_hl.(n)
  r = reload.(n)
  {n, et, ht, ef, hf, r}
end

out = out ++ for {n, et, ht, ef, hf, r} <- recs do
  say.("| #{n} | #{et} | #{ht} | #{ef} | #{hf} | #{Bench.ratio(hf, ef)} | #{r} | #{Bench.fmt(r / max(hf, 1))}x |")
end

{_, _, _, _, small, _} = hd(recs)
{_, _, _, _, big, big_reload} = List.last(recs)
out = out ++ [say.("\nRecovery for #{rows} rows is #{Bench.ratio(big, small)} the time for 1,000 rows; reloading #{rows} rows takes #{Bench.fmt(big_reload / max(big, 1))}x Heirloom's recovery.")]

File.write!(Path.join(__DIR__, "RESULTS.md"), out)
GenServer.stop(c)
HeirloomTest.stop_distribution()
