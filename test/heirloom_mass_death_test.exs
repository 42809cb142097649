defmodule Heirloom.MassDeathTest do
  # Thousands of owners dying at once must not stall the C node: each death
  # costs O(its tables), and the tables are handed on in bounded slices
  # between rounds of the event loop, so other callers keep being answered.
  use ExUnit.Case, async: false
  @moduletag :slow

  alias HeirloomTest.CNode

  @owners 4_000
  # Tables nobody touches: a death's cost must not grow with them.
  @bystanders 4_000
  # A stall is a correctness failure here, not a speed target: before the
  # index, these deaths kept the C node silent for seconds.
  @max_ping_ms 1_000

  setup do
    c = CNode.start()
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    %{node: CNode.name(c)}
  end

  defp call(node, req), do: :gen_server.call({:heirloom, node}, req, 30_000)

  # A process that owns one table (heir: `heir`) and waits to be killed.
  defp owner(node, i, heir, parent) do
    spawn(fn ->
      t = call(node, {:new, :"md_#{i}", [:named_table, :public, {:heir, heir, i}]})
      true = call(node, {:insert, t, {i, :row}})
      send(parent, {:ready, i})
      Process.sleep(:infinity)
    end)
  end

  # Pings the C node until told to stop; reports the slowest answer.
  defp pinger(node, parent) do
    spawn(fn -> ping_loop(node, parent, 0) end)
  end

  defp ping_loop(node, parent, worst) do
    t0 = System.monotonic_time(:millisecond)
    :pong = call(node, :ping)
    worst = max(worst, System.monotonic_time(:millisecond) - t0)

    receive do
      :stop -> send(parent, {:worst_ping, worst})
    after
      2 -> ping_loop(node, parent, worst)
    end
  end

  test "#{@owners} owners die at once: pings keep being answered, every heir gets its table",
       %{node: node} do
    me = self()

    for i <- 1..@bystanders,
        do: call(node, {:new, :"bystander_#{i}", [:named_table, {:heir, :none}]})

    heir = spawn(fn -> collect(me, MapSet.new()) end)
    owners = for i <- 1..@owners, do: owner(node, i, heir, me)
    for i <- 1..@owners, do: assert_receive({:ready, ^i}, 30_000)

    p = pinger(node, me)
    Process.sleep(50)
    Enum.each(owners, &Process.exit(&1, :kill))
    assert_receive {:all_transferred, n}, 60_000
    assert n == @owners
    send(p, :stop)
    assert_receive {:worst_ping, worst}, 5_000
    assert worst < @max_ping_ms, "a ping waited #{worst} ms while owners died"

    for i <- Enum.take_random(1..@owners, 50) do
      assert call(node, {:info, :"md_#{i}", :owner}) == heir
      assert call(node, {:lookup, :"md_#{i}", i}) == [{i, :row}]
    end
  end

  defp collect(parent, seen) do
    if MapSet.size(seen) == @owners do
      send(parent, {:all_transferred, MapSet.size(seen)})
      Process.sleep(:infinity)
    else
      receive do
        {:"ETS-TRANSFER", _t, _from, i} -> collect(parent, MapSet.put(seen, i))
      end
    end
  end
end
