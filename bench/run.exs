# `make bench`: Heirloom next to ETS and next to a BEAM DataMaster, in one run.
#
# Every ratio is the median of per-round ratios: in each round the paths
# compared run one after the other (ETS, NIF, ETS, NIF, ...), so load from
# elsewhere on the machine, which drifts over seconds, hits both sides of a
# ratio alike; per-call latencies go further and alternate in blocks of 500
# calls within the round. Spreads are min-max over the rounds. Writes bench/RESULTS.md
# (the full run only); QUICK=1 runs 100k rows in under a minute and prints.
Code.require_file("bench_support.exs", __DIR__)
Code.require_file("types.exs", __DIR__)
Code.require_file("select_rows.exs", __DIR__)
alias HeirloomTest.{CNode, Peer, EtsServer}

quick = System.get_env("QUICK") in ["1", "true"]
env = fn name, full, q -> String.to_integer(System.get_env(name, "#{if quick, do: q, else: full}")) end
rows = env.("BENCH_ROWS", 1_000_000, 100_000)
samples = env.("BENCH_SAMPLES", 20_000, 4_000)
dur = env.("BENCH_MS", 1_000, 250)
# The servers' many-caller runs: four parts a round, each 1 s in the full
# run. A part starts its callers and lets the C node's gathering ramp up (a
# call more per loop round), and /proc counts CPU in 10 ms ticks: quarter-
# second parts measured those more than the steady state.
server_dur = env.("BENCH_SERVER_MS", 4_000, 250)
rounds = env.("BENCH_ROUNDS", 5, 5)
procs = env.("BENCH_PROCS", 4, 4)
callers = env.("BENCH_CALLERS", 8, 8)
recovery_sizes = Enum.uniq(if quick, do: [1_000, rows], else: [1_000, 100_000, rows])

# The store lives where the embedded default puts it (tmpfs), in a directory
# of this run's own, never the user's default store.
shm = if File.dir?("/dev/shm"), do: "/dev/shm", else: System.tmp_dir!()
store_dir = Path.join(shm, "heirloom_bench_#{System.pid()}")
File.rm_rf!(store_dir)

HeirloomTest.start_distribution!()
c = CNode.start(dir: store_dir)
cnode = CNode.name(c)
cnode_os = CNode.os_pid(c)
Heirloom.set_node(cnode)

say = fn line ->
  IO.puts(line)
  line <> "\n"
end

out = [
  say.("# Heirloom benchmarks\n"),
  say.(
    "#{rows} rows of {integer, 100-byte binary}; #{System.schedulers_online()} schedulers; " <>
      "#{rounds} interleaved rounds; figures are medians over the rounds with the min-max " <>
      "spread in parentheses; ratios are medians of per-round ratios.\n"
  )
]

fill = fn insert, n ->
  for chunk <- Enum.chunk_every(1..n, 1_000), do: insert.(Enum.map(chunk, &Bench.row/1))
end

# --- the same data in ETS, Heirloom (one table, both paths) and the DataMaster --
IO.puts("filling #{rows} rows three times ...")
ets = :ets.new(:bench_ets, [:set, :public])
fill.(&:ets.insert(ets, &1), rows)
:bench = Heirloom.new(:bench, [:named_table, :public])
:nif = :heirloom.path()
fill.(&Heirloom.insert(:bench, &1), rows)
peer = Peer.start("datamaster")
{:ok, _} = :erpc.call(peer.node, EtsServer, :start, [:bench_dm])
dm = {:bench_dm, peer.node}
fill.(&GenServer.call(dm, {:insert, &1}, 60_000), rows)

key = fn i -> rem(i * 7919, rows) + 1 end
ets_look = fn i -> :ets.lookup(ets, key.(i)) end
nif_look = fn i -> :heirloom.lookup(:bench, key.(i)) end
cn_look = fn i -> :heirloom.call(cnode, {:lookup, :bench, key.(i)}) end
dm_look = fn i -> GenServer.call(dm, {:lookup, key.(i)}) end

# Sanity: every path sees the same row.
[{5, _}] = :ets.lookup(ets, 5)
[{5, _}] = :heirloom.lookup(:bench, 5)
[{5, _}] = :heirloom.call(cnode, {:lookup, :bench, 5})
[{5, _}] = GenServer.call(dm, {:lookup, 5})

# --- 1. lookup and insert latency, ETS vs the NIF -----------------------------------
# bench/lmdb_floor.c (make bench builds it): the same lookups from another
# process straight into LMDB and the store layer, for the floor under the
# NIF's figure. nil when run without it (mix run bench/run.exs by hand).
floor_bin = if f = System.get_env("LMDB_FLOOR"), do: Path.expand(f)

floor = fn off ->
  if floor_bin && File.exists?(floor_bin) do
    {line, 0} = System.cmd(floor_bin, [store_dir, "bench", "#{rows}", "#{samples}", "#{off}"])

    for kv <- String.split(String.trim(line)), into: %{} do
      [k, v] = String.split(kv, "=")
      {String.to_atom("floor_" <> k), String.to_float(v)}
    end
  else
    %{}
  end
end

lat =
  Bench.rounds(rounds, "latency", fn r ->
    off = r * samples
    [el, nl] = Bench.interleaved_latencies(samples, [ets_look, nif_look], off)
    # Every lookup below finds its row cold in the CPU's caches: the rounds'
    # key indexes are 0 .. rounds * samples for the lookups (and the
    # inserts), the next as many for the members, then three times as many
    # for lmdb_floor's three ways (5 * rounds * samples <= rows in both the
    # full and the quick run; past that, keys wrap round and repeat).
    fl = floor.(2 * rounds * samples + 3 * off)
    # member/2 builds no answer: the gap between the two is finding the key
    # (LMDB's B-tree and a read transaction against ETS's hash), with the
    # call.
    ets_mem = fn i -> :ets.member(ets, key.(i + rounds * samples)) end
    nif_mem = fn i -> :heirloom.member(:bench, key.(i + rounds * samples)) end
    [em, nm] = Bench.interleaved_latencies(samples, [ets_mem, nif_mem], off)
    ets_ins = fn i -> :ets.insert(ets, Bench.row(key.(i))) end
    nif_ins = fn i -> :heirloom.insert(:bench, Bench.row(key.(i))) end
    [ew, nw] = Bench.interleaved_latencies(samples, [ets_ins, nif_ins], off)

    m = %{
      el: Bench.median(el),
      nl: Bench.median(nl),
      ew: Bench.median(ew),
      nw: Bench.median(nw),
      em: Bench.median(em),
      nm: Bench.median(nm)
    }

    m
    |> Map.merge(fl)
    |> Map.merge(%{
      lr: m.nl / m.el,
      # What finding the key costs the NIF over ETS, and what building the
      # answer costs each (lookup - member), as fractions of ETS's lookup.
      find_gap: (m.nm - m.em) / m.el,
      ets_build: (m.el - m.em) / m.el,
      nif_build: (m.nl - m.nm) / m.el,
      wr: m.nw / m.ew,
      elp: Bench.p99(el),
      nlp: Bench.p99(nl),
      ewp: Bench.p99(ew),
      nwp: Bench.p99(nw)
    })
  end)

s = &Bench.spread(Bench.stat(lat, &1))
x = &Bench.spread(Bench.stat(lat, &1), "x")

out =
  out ++
    [
      say.("## Lookup and insert latency, one process (µs)\n"),
      say.("| path | lookup median | lookup p99 | insert median | insert p99 |"),
      say.("|---|---|---|---|---|"),
      say.("| ETS | #{s.(:el)} | #{s.(:elp)} | #{s.(:ew)} | #{s.(:ewp)} |"),
      say.("| Heirloom NIF | #{s.(:nl)} | #{s.(:nlp)} | #{s.(:nw)} | #{s.(:nwp)} |"),
      say.("| **NIF / ETS** | **#{x.(:lr)}** | | **#{x.(:wr)}** | |")
    ] ++
    (
      r = fn k -> x.(fn m -> m[k] / m.el end) end
      d = fn a, b -> s.(fn m -> m[a] - m[b] end) end
      floor? = Map.has_key?(hd(lat), :floor_mdb_get)

      [
        say.("\n## Where a NIF lookup's time goes (median µs, and the ratio to ETS's whole lookup)\n"),
        say.(
          "member/2 finds the key and builds no answer, so member against member is the cost of " <>
            "finding a key (LMDB's B-tree and a read transaction against ETS's hash table, each with " <>
            "its call), and lookup minus member the cost of building the answer; the members look up " <>
            "keys of their own." <>
            if(floor?,
              do:
                " `bench/lmdb_floor` looks up keys of its own in the same store from another process, " <>
                  "timing each call in C (the BEAM's figures include Erlang's own call and clock overhead, " <>
                  "about 0.05 µs), after reading every row of the table once, so that no call pays for page tables. LMDB's search alone is the floor no change " <>
                  "above LMDB goes under.",
              else: ""
            ) <> "\n"
        ),
        say.("| step | median | vs ETS lookup |"),
        say.("|---|---|---|"),
        say.("| ETS lookup | #{s.(:el)} | 1.00x |"),
        say.("| ETS member: finding the key | #{s.(:em)} | #{r.(:em)} |"),
        say.("| ETS: building the answer (lookup - member) | #{d.(:el, :em)} | #{x.(:ets_build)} |")
      ] ++
        if floor? do
          [
            say.("| LMDB: mdb_get in an open snapshot | #{s.(:floor_mdb_get)} | #{r.(:floor_mdb_get)} |"),
            say.(
              "| a read transaction per lookup (op_begin, mdb_get, op_end) | #{s.(:floor_txn_get)} | #{r.(:floor_txn_get)} |"
            ),
            say.("| store layer: hl_store_lookup | #{s.(:floor_store)} | #{r.(:floor_store)} |")
          ]
        else
          []
        end ++
        [
          say.("| NIF member: finding the key | #{s.(:nm)} | #{r.(:nm)} |"),
          say.("| NIF: building the answer (lookup - member) | #{d.(:nl, :nm)} | #{x.(:nif_build)} |"),
          say.("| NIF lookup from Erlang | #{s.(:nl)} | #{x.(:lr)} |"),
          say.("| finding a key, NIF over ETS (NIF member - ETS member) | #{d.(:nm, :em)} | #{x.(:find_gap)} |")
        ]
    )

# --- 2. read scaling: lookups/s with `procs` processes vs one -------------------------
scale =
  Bench.rounds(rounds, "read scaling", fn _ ->
    # Four short alternations per round: a 1-process and a many-process run
    # a few tens of milliseconds apart see the same machine.
    slice = div(dur, 4)

    # Each run: {calls/s, scheduler CPU µs per call}. On a machine whose
    # cores are busy elsewhere the second figure still tells contention
    # (it grows with it) from a lack of free cores (it does not).
    run = fn n, f ->
      c0 = Bench.Sched.cpu_us()
      {calls, us, _} = Bench.run_procs(n, slice, f)
      {calls * 1.0e6 / us, (Bench.Sched.cpu_us() - c0) / calls}
    end

    [{e1, ec1}, {n1, nc1}, {en, ecn}, {nn, ncn}] =
      for _ <- 1..4 do
        [run.(1, ets_look), run.(1, nif_look), run.(procs, ets_look), run.(procs, nif_look)]
      end
      |> Enum.zip_with(fn runs ->
        {Enum.sum(Enum.map(runs, &elem(&1, 0))) / 4, Enum.sum(Enum.map(runs, &elem(&1, 1))) / 4}
      end)

    %{
      e1: e1,
      n1: n1,
      en: en,
      nn: nn,
      es: en / e1,
      ns: nn / n1,
      ec1: ec1,
      ecn: ecn,
      nc1: nc1,
      ncn: ncn,
      ecr: ecn / ec1,
      ncr: ncn / nc1
    }
  end)

s = &Bench.spread(Bench.stat(scale, &1))
x = &Bench.spread(Bench.stat(scale, &1), "x")

out =
  out ++
    [
      say.("\n## Lookups/s, 1 process and #{procs} processes\n"),
      say.(
        "Scheduler CPU is the utime + stime of this VM's scheduler threads per lookup: it " <>
          "rises with contention between readers, not with other programs taking the cores. " <>
          "It counts idle schedulers' busy-waiting too unless the VM runs with `+sbwt none` " <>
          "(this run: ERL_FLAGS=#{inspect(System.get_env("ERL_FLAGS", ""))}); " <>
          "`bench/nif_scale.exs` measures it alone.\n"
      ),
      say.(
        "| path | 1 process | #{procs} processes | #{procs} / 1 | scheduler CPU per lookup, 1 process (µs) | #{procs} processes | #{procs} / 1 |"
      ),
      say.("|---|---|---|---|---|---|---|"),
      say.("| ETS | #{s.(:e1)} | #{s.(:en)} | #{x.(:es)} | #{s.(:ec1)} | #{s.(:ecn)} | #{x.(:ecr)} |"),
      say.("| Heirloom NIF | #{s.(:n1)} | #{s.(:nn)} | **#{x.(:ns)}** | #{s.(:nc1)} | #{s.(:ncn)} | **#{x.(:ncr)}** |")
    ]

# --- 3. the C node next to the DataMaster, on the same clients ----------------------
# One caller: latency. `callers` callers: calls/s, and the CPU each server
# process spent per call (utime + stime from /proc/PID/stat over the run).
lat_samples = div(samples, 4)

cpu = fn os_pid ->
  fn ->
    t0 = Bench.cpu_us(os_pid)
    fn -> Bench.cpu_us(os_pid) - t0 end
  end
end

# Four short alternations per round, the order flipped each time: the two
# servers share the machine with the clients and with whatever else runs,
# so they must see it at the same moments.
server =
  Bench.rounds(rounds, "C node vs DataMaster", fn r ->
    parts =
      for k <- 1..4 do
        off = (r * 4 + k) * lat_samples
        cn = fn -> Bench.latencies(div(lat_samples, 4), cn_look, off) end
        dm = fn -> Bench.latencies(div(lat_samples, 4), dm_look, off) end
        cr = fn -> Bench.run_procs(callers, div(server_dur, 4), cn_look, cpu.(cnode_os)) end
        dr = fn -> Bench.run_procs(callers, div(server_dur, 4), dm_look, cpu.(peer.os_pid)) end

        if rem(k, 2) == 1 do
          {cn.(), dm.(), cr.(), dr.()}
        else
          {d, c} = {dm.(), cn.()}
          {d2, c2} = {dr.(), cr.()}
          {c, d, c2, d2}
        end
      end

    cl = parts |> Enum.flat_map(&elem(&1, 0)) |> Bench.median()
    dl = parts |> Enum.flat_map(&elem(&1, 1)) |> Bench.median()

    sum = fn i ->
      parts |> Enum.map(&elem(&1, i)) |> Enum.reduce({0, 0, 0}, fn {a, b, c}, {x, y, z} -> {a + x, b + y, c + z} end)
    end

    {cc, cus, ccpu} = sum.(2)
    {dc, dus, dcpu} = sum.(3)

    %{
      cl: cl,
      dl: dl,
      lr: cl / dl,
      cps: cc * 1_000_000 / cus,
      dps: dc * 1_000_000 / dus,
      cpr: cc * dus / (dc * cus),
      ccpu: ccpu / cc,
      dcpu: dcpu / dc,
      cpur: ccpu * dc / (max(dcpu, 1) * cc)
    }
  end)

s = &Bench.spread(Bench.stat(server, &1))
x = &Bench.spread(Bench.stat(server, &1), "x")

out =
  out ++
    [
      say.("\n## The C node next to the BEAM DataMaster (gen_server + ETS on another node)\n"),
      say.(
        "Lookups of 100-byte rows by `gen_server:call` from this VM. CPU per call is the server's own " <>
          "OS process (utime + stime in /proc/PID/stat) over the #{callers}-caller run divided by the calls it answered.\n"
      ),
      say.("| server | latency, 1 caller (µs) | calls/s, #{callers} callers | CPU per call, #{callers} callers (µs) |"),
      say.("|---|---|---|---|"),
      say.("| Heirloom C node | #{s.(:cl)} | #{s.(:cps)} | #{s.(:ccpu)} |"),
      say.("| BEAM DataMaster | #{s.(:dl)} | #{s.(:dps)} | #{s.(:dcpu)} |"),
      say.("| **C node / DataMaster** | **#{x.(:lr)}** | **#{x.(:cpr)}** | **#{x.(:cpur)}** |")
    ]

# --- 4. a load through insert/2 in lists of 1,000 rows -------------------------------
# The rows are built once, so that only the inserts are timed; the order of
# the two loads alternates from round to round.
chunks = Enum.map(Enum.chunk_every(1..rows, 1_000), fn c -> Enum.map(c, &Bench.row/1) end)

load_ets = fn _ ->
  t0 = System.monotonic_time(:microsecond)
  t = :ets.new(:load, [:set, :public])
  Enum.each(chunks, &:ets.insert(t, &1))
  us = System.monotonic_time(:microsecond) - t0
  :ets.delete(t)
  us
end

load_hl = fn r ->
  name = :"load_#{r}"
  t0 = System.monotonic_time(:microsecond)
  ^name = Heirloom.new(name, [:named_table, :public])
  Enum.each(chunks, &Heirloom.insert(name, &1))
  us = System.monotonic_time(:microsecond) - t0
  Heirloom.delete(name)
  us
end

load =
  Bench.rounds(rounds, "bulk load", fn r ->
    {e, h} =
      if rem(r, 2) == 1 do
        {load_ets.(r), load_hl.(r)}
      else
        h = load_hl.(r)
        {load_ets.(r), h}
      end

    %{e: e / 1000, h: h / 1000, r: h / e}
  end)

s = &Bench.spread(Bench.stat(load, &1))
x = &Bench.spread(Bench.stat(load, &1), "x")

out =
  out ++
    [
      say.("\n## Loading #{rows} rows into a new table, insert/2 with lists of 1,000 (ms)\n"),
      say.("| ETS | Heirloom NIF | **Heirloom / ETS** |"),
      say.("|---|---|---|"),
      say.("| #{s.(:e)} | #{s.(:h)} | **#{x.(:r)}** |")
    ]

# --- memory per row -------------------------------------------------------------------
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
        "| Heirloom (whole data.mdb file, allocated: every page of the store, after the loads) | " <>
          "#{Bench.fmt(file_bytes / rows)} | #{Bench.ratio(file_bytes, ets_bytes)} |"
      )
    ]

:ets.delete(ets)
Heirloom.delete(:bench)
Peer.stop(peer)

# --- recovery after the owner is killed -------------------------------------------
# One filled table per size and store, made with this process as heir. Each
# round gives each table away to a fresh owner, kills that owner and times
# until the heir holds the table again (ETS-TRANSFER) and until its first
# lookup answers: ETS, then Heirloom, then a reload of the rows into ETS.
now = fn -> System.monotonic_time(:microsecond) end

recover_once = fn tab, give_away, lookup ->
  owner = spawn(fn -> receive do: (:never -> :ok) end)
  true = give_away.(tab, owner)
  t0 = now.()
  Process.exit(owner, :kill)
  receive do: ({:"ETS-TRANSFER", ^tab, ^owner, :h} -> :ok)
  transfer = now.() - t0
  [{1, _}] = lookup.(tab, 1)
  {transfer, now.() - t0}
end

reload = fn n ->
  t0 = now.()
  t = :ets.new(:reload, [:set, :public])
  fill.(&:ets.insert(t, &1), n)
  us = now.() - t0
  :ets.delete(t)
  us
end

recs =
  for n <- recovery_sizes do
    et = :ets.new(:rec, [:set, :public, {:heir, self(), :h}])
    fill.(&:ets.insert(et, &1), n)
    name = :"rec_#{n}"
    ^name = Heirloom.new(name, [:named_table, :public, {:heir, self(), :h}])
    fill.(&Heirloom.insert(name, &1), n)

    rs =
      Bench.rounds(rounds, "recovery, #{n} rows", fn _ ->
        {etr, efl} = recover_once.(et, &:ets.give_away(&1, &2, :g), &:ets.lookup/2)
        {htr, hfl} = recover_once.(name, &Heirloom.give_away(&1, &2, :g), &Heirloom.lookup/2)
        rl = reload.(n)
        %{et: etr, ht: htr, ef: efl, hf: hfl, r: hfl / max(efl, 1), rl: rl, rlr: rl / max(hfl, 1)}
      end)

    :ets.delete(et)
    Heirloom.delete(name)
    {n, rs}
  end

out =
  out ++
    [
      say.("\n## Recovery after the owner is killed (µs)\n"),
      say.(
        "Reload = rebuilding the rows into ETS from an in-memory source: a lower bound for a real reload from a database.\n"
      ),
      say.(
        "| rows | ETS heir: kill→transfer | Heirloom: kill→transfer | ETS: kill→first lookup | " <>
          "Heirloom: kill→first lookup | vs ETS | reload from scratch | reload / Heirloom recovery |"
      ),
      say.("|---|---|---|---|---|---|---|---|")
    ] ++
    for {n, rs} <- recs do
      s = &Bench.spread(Bench.stat(rs, &1))
      x = &Bench.spread(Bench.stat(rs, &1), "x")
      say.("| #{n} | #{s.(:et)} | #{s.(:ht)} | #{s.(:ef)} | #{s.(:hf)} | #{x.(:r)} | #{s.(:rl)} | #{x.(:rlr)} |")
    end

# --- targets (issue 13) ---------------------------------------------------------------------
target = fn what, {m, _, _} = st, unit, goal, ok ->
  say.("| #{what} | #{Bench.spread(st, unit)} | #{goal} | #{if ok.(m), do: "met", else: "**missed**"} |")
end

out =
  out ++
    [
      say.("\n## Targets\n"),
      say.("| target | measured | goal | |"),
      say.("|---|---|---|---|"),
      target.("NIF insert / ETS", Bench.stat(lat, :wr), "x", "≤ 2x", &(&1 <= 2)),
      target.("load of #{rows} rows, Heirloom / ETS", Bench.stat(load, :r), "x", "≤ 2x", &(&1 <= 2)),
      target.("NIF lookup / ETS", Bench.stat(lat, :lr), "x", "≤ 1.5x", &(&1 <= 1.5)),
      target.("NIF lookups/s, #{procs} processes / 1", Bench.stat(scale, :ns), "x", "≥ 1.8x", &(&1 >= 1.8)),
      target.("C node CPU per call, #{callers} callers", Bench.stat(server, :ccpu), " µs", "≤ 8 µs", &(&1 <= 8)),
      target.(
        "C node latency / DataMaster, 1 caller",
        Bench.stat(server, :lr),
        "x",
        "≤ 0.73x (the issue's baseline)",
        &(&1 <= 0.73)
      )
    ]

# --- table types and key-based operations (bench/types.exs) --------------------
out = out ++ BenchTypes.run(rows, samples, cnode, say)

# --- the select family (bench/select_rows.exs; make bench-ms runs it alone) ----
out = out ++ BenchSelect.run(rows, 5, cnode, say)

unless quick, do: File.write!(Path.join(__DIR__, "RESULTS.md"), out)
GenServer.stop(c)
File.rm_rf!(store_dir)
HeirloomTest.stop_distribution()
