# `mix run bench/cnode_load.exs`: the C node under CALLERS concurrent
# gen_server:call lookups for SECONDS, for attaching a profiler to it
# (perf record -p, strace -c -p): prints the C node's OS pid when the load
# starts, then calls made and the C node's CPU per call.
Code.require_file("bench_support.exs", __DIR__)
alias HeirloomTest.CNode

callers = String.to_integer(System.get_env("CALLERS", "8"))
secs = String.to_integer(System.get_env("SECONDS", "10"))
rows = 10_000
dir = Path.join(System.tmp_dir!(), "heirloom_cnode_load_#{System.pid()}")
File.rm_rf!(dir)
HeirloomTest.start_distribution!()
c = CNode.start(dir: dir)
cnode = CNode.name(c)
Heirloom.set_node(cnode)
:load = Heirloom.new(:load, [:named_table, :public])
Heirloom.insert(:load, Enum.map(1..rows, &Bench.row/1))
look = fn i -> :heirloom.call(cnode, {:lookup, :load, rem(i, rows) + 1}) end
os = CNode.os_pid(c)
File.write!(System.get_env("PIDFILE", "/tmp/heirloom_cnode_load.pid"), "#{os}\n")
IO.puts("C node OS pid #{os}; #{callers} callers for #{secs} s")

# Context switches (sleeps in poll) and read/write syscalls of the C node.
counters = fn ->
  st = File.read!("/proc/#{os}/status")
  io = File.read!("/proc/#{os}/io")
  get = fn text, k -> String.to_integer(hd(Regex.run(~r/#{k}:\s+(\d+)/, text, capture: :all_but_first))) end

  %{
    cpu: Bench.cpu_us(os),
    wakes: get.(st, "voluntary_ctxt_switches"),
    reads: get.(io, "syscr"),
    writes: get.(io, "syscw")
  }
end

{calls, us, d} =
  Bench.run_procs(callers, secs * 1000, look, fn ->
    t0 = counters.()
    fn -> Map.new(counters.(), fn {k, v} -> {k, v - t0[k]} end) end
  end)

cpu = d.cpu
per = fn k -> Bench.fmt(d[k] / calls) end
IO.puts("per call: #{per.(:wakes)} sleeps in poll, #{per.(:reads)} reads, #{per.(:writes)} writes")

IO.puts("#{calls} calls, #{Bench.fmt(calls * 1.0e6 / us)} calls/s, C node CPU #{Bench.fmt(cpu / calls)} µs per call")
GenServer.stop(c)
File.rm_rf!(dir)
HeirloomTest.stop_distribution()
