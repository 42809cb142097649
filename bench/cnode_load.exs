# `mix run bench/cnode_load.exs`: C nodes under CALLERS concurrent
# gen_server:call lookups, for comparing builds and attaching a profiler.
# CALLERS may be a list (CALLERS=1,4,8): each count is measured in turn
# (the C node holds wake-ups back only from six callers up, so a change to
# that wants the counts on both sides of it).
#
# BINARIES=a,b (default: the one the tests use) starts one C node per binary
# and loads them in turn, ROUNDS times for SECONDS each (a, b, a, b, ...), so
# that a before/after comparison on a busy machine sees the same load on both
# sides. Prints, per binary, medians over the rounds (with min-max) of calls/s
# and of the C node's own CPU (utime + stime), sleeps in poll (voluntary
# context switches), read and write syscalls per call, and the per-round
# ratios against the first binary. PIDFILE gets the first C node's OS pid
# (for `perf record -p`, `strace -c -p`).
Code.require_file("bench_support.exs", __DIR__)
alias HeirloomTest.CNode

caller_counts = System.get_env("CALLERS", "8") |> String.split(",") |> Enum.map(&String.to_integer/1)
secs = String.to_integer(System.get_env("SECONDS", "2"))
rounds = String.to_integer(System.get_env("ROUNDS", "5"))
bins = System.get_env("BINARIES", CNode.exe()) |> String.split(",") |> Enum.map(&Path.expand/1)
rows = 10_000
HeirloomTest.start_distribution!()

nodes =
  for {bin, i} <- Enum.with_index(bins) do
    dir = Path.join(System.tmp_dir!(), "heirloom_cnode_load_#{System.pid()}_#{i}")
    File.rm_rf!(dir)
    System.put_env("HEIRLOOM_NODE", bin)
    c = CNode.start(dir: dir)
    cnode = CNode.name(c)
    :load = :heirloom.call(cnode, {:new, :load, [:named_table, :public]})
    true = :heirloom.call(cnode, {:insert, :load, Enum.map(1..rows, &Bench.row/1)})
    %{bin: bin, c: c, name: cnode, os: CNode.os_pid(c), dir: dir}
  end

File.write!(System.get_env("PIDFILE", "/tmp/heirloom_cnode_load.pid"), "#{hd(nodes).os}\n")

# CPU, context switches (sleeps in poll) and read/write syscalls of a C node.
counters = fn os ->
  st = File.read!("/proc/#{os}/status")
  io = File.read!("/proc/#{os}/io")

  get = fn text, k ->
    String.to_integer(hd(Regex.run(~r/#{k}:\s+(\d+)/, text, capture: :all_but_first)))
  end

  %{
    cpu: Bench.cpu_us(os),
    sleeps: get.(st, "voluntary_ctxt_switches"),
    reads: get.(io, "syscr"),
    writes: get.(io, "syscw")
  }
end

measure = fn n, callers ->
  look = fn i -> :heirloom.call(n.name, {:lookup, :load, rem(i, rows) + 1}) end

  {calls, us, d} =
    Bench.run_procs(callers, secs * 1000, look, fn ->
      t0 = counters.(n.os)
      fn -> Map.new(counters.(n.os), fn {k, v} -> {k, v - t0[k]} end) end
    end)

  Map.new(d, fn {k, v} -> {k, v / calls} end) |> Map.put(:cps, calls * 1.0e6 / us)
end

for callers <- caller_counts do
  IO.puts("#{callers} callers, #{rounds} rounds of #{secs} s per binary")

  res =
    Bench.rounds(rounds, "load", fn _ ->
      ms = Enum.map(nodes, &measure.(&1, callers))
      base = hd(ms)
      Enum.map(ms, fn m -> Map.put(m, :cpu_ratio, m.cpu / base.cpu) end)
    end)

  for {n, i} <- Enum.with_index(nodes) do
    rs = Enum.map(res, &Enum.at(&1, i))
    s = &Bench.spread(Bench.stat(rs, &1))

    IO.puts(
      "#{n.bin}: #{callers} callers: #{s.(:cps)} calls/s; per call: CPU #{s.(:cpu)} µs, " <>
        "#{s.(:sleeps)} sleeps, #{s.(:reads)} reads, #{s.(:writes)} writes; " <>
        "CPU vs first #{s.(:cpu_ratio)}"
    )
  end
end

for n <- nodes do
  GenServer.stop(n.c)
  File.rm_rf!(n.dir)
end

HeirloomTest.stop_distribution()
