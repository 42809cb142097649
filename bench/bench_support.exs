# Measuring helpers shared by the benchmark scenarios.
#
# Absolute timings on a shared machine drift by 2x from one minute to the
# next, so every comparison is made inside a round: the paths being compared
# run one after the other (ETS, NIF, ETS, NIF, ...), each round yields one
# ratio, and the figure reported is the median of the per-round ratios with
# their spread (min-max). Drift between rounds then cancels out.
defmodule Bench do
  @doc "Per-call latencies in microseconds of `fun.(i)` for i in 1..n."
  def latencies(n, fun, offset \\ 0) do
    for i <- (offset + 1)..(offset + n) do
      t = System.monotonic_time(:nanosecond)
      fun.(i)
      (System.monotonic_time(:nanosecond) - t) / 1000
    end
  end

  @doc """
  Per-call latencies (µs) of each of `funs` over n calls each, run in
  alternating blocks of `block` calls (a, b, a, b, ...) on the same keys, so
  that drift on the machine within a round hits every fun alike. A list of
  latency lists, in the order of `funs`.
  """
  def interleaved_latencies(n, funs, offset, block \\ 500) do
    blocks = div(n + block - 1, block)

    per_block =
      for b <- 0..(blocks - 1) do
        count = min(block, n - b * block)
        Enum.map(funs, &latencies(count, &1, offset + b * block))
      end

    funs |> Enum.with_index() |> Enum.map(fn {_, k} -> Enum.flat_map(per_block, &Enum.at(&1, k)) end)
  end

  def median(xs), do: pct(xs, 50)
  def p99(xs), do: pct(xs, 99)

  defp pct(xs, p) do
    s = Enum.sort(xs)
    Enum.at(s, min(length(s) - 1, div(length(s) * p, 100)))
  end

  @doc """
  Calls made by `procs` processes calling `fun.(i)` for `ms` ms, and the
  elapsed time in microseconds: {calls, us}. `around` runs before the
  processes start and after they all stop (it returns a function that is
  called with nothing when they are done), to read counters over exactly
  the measured interval.
  """
  def run_procs(procs, ms, fun, around \\ fn -> fn -> nil end end) do
    parent = self()
    go = make_ref()

    pids =
      for p <- 1..procs do
        spawn_link(fn ->
          receive do: (^go -> :ok)
          deadline = System.monotonic_time(:millisecond) + ms
          send(parent, {:count, loop(fun, deadline, p * 1_000_003, 0)})
        end)
      end

    done = around.()
    t0 = System.monotonic_time(:microsecond)
    Enum.each(pids, &send(&1, go))
    total = Enum.reduce(pids, 0, fn _, acc -> receive do: ({:count, c} -> acc + c) end)
    us = System.monotonic_time(:microsecond) - t0
    {total, us, done.()}
  end

  @doc "Operations per second with `procs` processes calling `fun.(i)` for `ms` ms."
  def throughput(procs, ms, fun) do
    {calls, us, _} = run_procs(procs, ms, fun)
    calls * 1_000_000 / us
  end

  defp loop(fun, deadline, i, n) do
    if rem(n, 64) == 0 and System.monotonic_time(:millisecond) > deadline do
      n
    else
      fun.(i)
      loop(fun, deadline, i + 1, n + 1)
    end
  end

  @doc "CPU time (user + system) of an OS process so far, in µs (HeirloomTest.os_cpu_us/1)."
  defdelegate cpu_us(os_pid), to: HeirloomTest, as: :os_cpu_us

  @doc """
  Runs `rounds` rounds of `fun.(round)`, each returning a map of named
  figures measured side by side in that round; returns the list of maps.
  """
  def rounds(n, label, fun) do
    for r <- 1..n do
      IO.write("\r#{label}: round #{r}/#{n}   ")
      m = fun.(r)
      if r == n, do: IO.write("\n")
      m
    end
  end

  @doc "{median, min, max} of `key` over the rounds (or of a function of a round)."
  def stat(rounds, key) do
    xs = Enum.map(rounds, fn r -> if is_function(key), do: key.(r), else: Map.fetch!(r, key) end)
    {median(xs), Enum.min(xs), Enum.max(xs)}
  end

  @doc "Median with its spread, e.g. `1.54x (1.40-1.70)`."
  def spread({m, lo, hi}, unit \\ "") do
    "#{fmt(m)}#{unit} (#{fmt(lo)}-#{fmt(hi)})"
  end

  @doc "The spread's width relative to the median, in percent."
  def width({m, lo, hi}) when m != 0, do: (hi - lo) / m * 100
  def width(_), do: 0.0

  def fmt(x) when is_float(x) and x >= 100, do: :erlang.float_to_binary(x, decimals: 0)
  def fmt(x) when is_float(x), do: :erlang.float_to_binary(x, decimals: 2)
  def fmt(x), do: "#{x}"

  def ratio(_x, base) when base == 0, do: "-"
  def ratio(x, base), do: :erlang.float_to_binary(x / base, decimals: 2) <> "x"

  def row(n), do: {n, :binary.copy(<<rem(n, 251)>>, 100)}
end

defmodule Bench.Sched do
  @moduledoc """
  CPU time (utime + stime, µs) of this VM's normal scheduler threads
  (`N_scheduler`), from /proc/self/task/*/stat. Run with scheduler busy-wait
  off (`+sbwt none`) so idle schedulers do not spin, and this counts the work.
  """
  def cpu_us do
    {:ok, ts} = File.ls("/proc/self/task")

    ts
    |> Enum.filter(fn t ->
      case File.read("/proc/self/task/#{t}/comm") do
        {:ok, comm} -> Regex.match?(~r/^\d+_scheduler$/, String.trim(comm))
        _ -> false
      end
    end)
    |> Enum.map(fn t -> Bench.cpu_us("self/task/#{t}") end)
    |> Enum.sum()
  end
end
