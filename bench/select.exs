# `make bench-ms`: the select family's rows alone (bench/select_rows.exs,
# which `make bench` also runs), with their own C node. ROWS and REPEATS
# from BENCH_ROWS and BENCH_REPEATS.
Code.require_file("bench_support.exs", __DIR__)
Code.require_file("select_rows.exs", __DIR__)
alias HeirloomTest.CNode

rows = String.to_integer(System.get_env("BENCH_ROWS", "1000000"))
repeats = String.to_integer(System.get_env("BENCH_REPEATS", "5"))
shm = if File.dir?("/dev/shm"), do: "/dev/shm", else: System.tmp_dir!()
store_dir = Path.join(shm, "heirloom_bench_ms_#{System.pid()}")
File.rm_rf!(store_dir)
HeirloomTest.start_distribution!()
c = CNode.start(dir: store_dir)
cnode = CNode.name(c)
Heirloom.set_node(cnode)

BenchSelect.run(rows, repeats, cnode, fn line -> IO.puts(line) && line end)

GenServer.stop(c)
File.rm_rf!(store_dir)
HeirloomTest.stop_distribution()
