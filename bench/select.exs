# `make bench-ms`: select and select_count on ROWS rows of {i, i rem 100,
# 100-byte binary}, ETS next to Heirloom's NIF and C node paths (median of
# REPEATS runs, milliseconds). Prints a markdown table.
Code.require_file("bench_support.exs", __DIR__)
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

row = fn i -> {i, rem(i, 100), :binary.copy(<<i::32>>, 25)} end
ets = :ets.new(:bench_ets, [:set, :public])
:bench_ms = Heirloom.new(:bench_ms, [:named_table, :public])

for chunk <- Enum.chunk_every(1..rows, 10_000) do
  objs = Enum.map(chunk, row)
  :ets.insert(ets, objs)
  Heirloom.insert(:bench_ms, objs)
end

one_pct = [{{:"$1", :"$2", :_}, [{:==, :"$2", 7}], [:"$1"]}]
count_all = [{{:_, :"$2", :_}, [{:<, :"$2", 50}], [true]}]

time = fn f ->
  ts =
    for _ <- 1..repeats do
      t = System.monotonic_time(:microsecond)
      f.()
      (System.monotonic_time(:microsecond) - t) / 1000
    end

  Bench.median(ts)
end

path = fn p ->
  Application.put_env(:heirloom, :path, p)
  :heirloom.forget_path(cnode)
end

cases = [
  {"select 1% by a guard on the value", fn t -> :ets.select(t, one_pct) end,
   fn -> Heirloom.select(:bench_ms, one_pct) end},
  {"select_count over the whole table", fn t -> :ets.select_count(t, count_all) end,
   fn -> Heirloom.select_count(:bench_ms, count_all) end}
]

IO.puts("\n#{rows} rows; median of #{repeats} runs, ms\n")
IO.puts("| case | ETS | Heirloom NIF | ratio | Heirloom C node | ratio |")
IO.puts("|---|---|---|---|---|---|")

for {label, e, h} <- cases do
  te = time.(fn -> e.(ets) end)
  path.(:auto)
  :nif = :heirloom.path()
  norm = fn x -> if is_list(x), do: Enum.sort(x), else: x end
  true = norm.(h.()) == norm.(e.(ets))
  tn = time.(h)
  path.(:cnode)
  tc = time.(h)
  r = fn x -> :erlang.float_to_binary(x / te, decimals: 1) end

  IO.puts(
    "| #{label} | #{Float.round(te, 1)} | #{Float.round(tn, 1)} | #{r.(tn)}x | #{Float.round(tc, 1)} | #{r.(tc)}x |"
  )
end

GenServer.stop(c)
File.rm_rf!(store_dir)
HeirloomTest.stop_distribution()
