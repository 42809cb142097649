# `mix run bench/nif_scale.exs`: NIF lookups/s with 1 and PROCS processes in
# alternating short runs (ROUNDS of MS each), for attaching a profiler to
# this VM (its OS pid is printed) and for before/after checks of read paths.
# Also prints the scheduler threads' CPU per lookup for 1 and PROCS
# processes, which grows with contention between readers and not with a lack
# of free cores: run it with ERL_FLAGS="+sbwt none" so that idle schedulers'
# busy-waiting is not counted.
Code.require_file("bench_support.exs", __DIR__)
alias HeirloomTest.CNode

procs = String.to_integer(System.get_env("PROCS", "4"))
rounds = String.to_integer(System.get_env("ROUNDS", "10"))
ms = String.to_integer(System.get_env("MS", "300"))
rows = 100_000
dir = Path.join(System.tmp_dir!(), "heirloom_nif_scale_#{System.pid()}")
File.rm_rf!(dir)
HeirloomTest.start_distribution!()
c = CNode.start(dir: dir)
Heirloom.set_node(CNode.name(c))
:scale = Heirloom.new(:scale, [:named_table, :public])
for chunk <- Enum.chunk_every(1..rows, 1_000), do: Heirloom.insert(:scale, Enum.map(chunk, &Bench.row/1))
:nif = :heirloom.path()
IO.puts("VM OS pid #{System.pid()}")
look = fn i -> :heirloom.lookup(:scale, rem(i * 7919, rows) + 1) end

rs =
  Bench.rounds(rounds, "nif scaling", fn _ ->
    c0 = Bench.Sched.cpu_us()
    {n1, us1, _} = Bench.run_procs(1, ms, look)
    c1 = Bench.Sched.cpu_us()
    {nn, usn, _} = Bench.run_procs(procs, ms, look)
    c2 = Bench.Sched.cpu_us()
    one = n1 * 1.0e6 / us1
    many = nn * 1.0e6 / usn

    %{
      one: one,
      many: many,
      r: many / one,
      cpu1: (c1 - c0) / n1,
      cpun: (c2 - c1) / nn,
      cr: (c2 - c1) * n1 / ((c1 - c0) * nn)
    }
  end)

s = &Bench.spread(Bench.stat(rs, &1))
IO.puts("1 process #{s.(:one)}/s, #{procs} processes #{s.(:many)}/s, ratio #{s.(:r)}")
IO.puts("scheduler CPU per lookup: 1 process #{s.(:cpu1)} µs, #{procs} processes #{s.(:cpun)} µs, ratio #{s.(:cr)}")
GenServer.stop(c)
File.rm_rf!(dir)
HeirloomTest.stop_distribution()
