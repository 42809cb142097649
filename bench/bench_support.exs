# Measuring helpers shared by the benchmark scenarios.
defmodule Bench do
  @doc "Per-call latencies in microseconds of `fun.(i)` for i in 1..n."
  def latencies(n, fun) do
    for i <- 1..n do
      t = System.monotonic_time(:nanosecond)
      fun.(i)
      (System.monotonic_time(:nanosecond) - t) / 1000
    end
  end

  def median(xs), do: pct(xs, 50)
  def p99(xs), do: pct(xs, 99)

  defp pct(xs, p) do
    s = Enum.sort(xs)
    Enum.at(s, min(length(s) - 1, div(length(s) * p, 100)))
  end

  @doc "Operations per second with `procs` processes calling `fun.(i)` for `ms` ms."
  def throughput(procs, ms, fun) do
    parent = self()
    deadline = System.monotonic_time(:millisecond) + ms

    pids =
      for p <- 1..procs do
        spawn_link(fn ->
          count = loop(fun, deadline, p * 1_000_003, 0)
          send(parent, {:count, count})
        end)
      end

    total = Enum.reduce(pids, 0, fn _, acc -> receive do: ({:count, c} -> acc + c) end)
    total * 1000 / ms
  end

  defp loop(fun, deadline, i, n) do
    if rem(n, 64) == 0 and System.monotonic_time(:millisecond) > deadline do
      n
    else
      fun.(i)
      loop(fun, deadline, i + 1, n + 1)
    end
  end

  def fmt(x) when is_float(x) and x >= 100, do: :erlang.float_to_binary(x, decimals: 0)
  def fmt(x) when is_float(x), do: :erlang.float_to_binary(x, decimals: 2)
  def fmt(x), do: "#{x}"

  def ratio(_x, base) when base == 0, do: "-"
  def ratio(x, base), do: :erlang.float_to_binary(x / base, decimals: 2) <> "x"

  def row(n), do: {n, :binary.copy(<<rem(n, 251)>>, 100)}
end
