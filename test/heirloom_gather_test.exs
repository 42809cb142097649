defmodule Heirloom.GatherTest do
  # With many callers in a call at once, the C node holds its wake-ups back
  # until most of them are back (SO_RCVLOWAT, gather_want in hl_dist.c),
  # counting the callers by the monitors gen_server:call sets. Every call
  # must still get its own answer: from many callers, from a few callers
  # while processes that never call hold monitors of the C node (so it
  # expects callers who do not exist), and from a lone caller afterwards.
  use ExUnit.Case, async: false

  alias HeirloomTest.{CNode, Peer}

  @rows 500

  setup_all do
    c = CNode.start()
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    node = CNode.name(c)
    t = :"g#{System.unique_integer([:positive])}"
    ^t = call(node, {:new, t, [:named_table, :public]})
    true = call(node, {:insert, t, for(i <- 1..@rows, do: {i, i * 7})})
    %{node: node, t: t}
  end

  defp call(node, req), do: :gen_server.call({:heirloom, node}, req)

  # `n` processes make `calls` lookups each, all at once; each answer is
  # checked against its own key. The generous receive timeout only guards
  # against a hang (a wait that never ends); nothing here measures time.
  defp hammer(node, t, n, calls), do: await(start_hammer(node, t, n, calls, &call/2))

  # Each caller's calls go through `via` (here, or from a peer VM).
  defp start_hammer(node, t, n, calls, via) do
    parent = self()

    for p <- 1..n do
      spawn_link(fn ->
        wrong =
          Enum.reject(1..calls, fn i ->
            k = rem(i * p, @rows) + 1
            via.(node, {:lookup, t, k}) == [{k, k * 7}]
          end)

        send(parent, {:done, self(), wrong})
      end)
    end
  end

  defp await(pids), do: for(pid <- pids, do: assert_receive({:done, ^pid, []}, 60_000))

  # Processes that monitor the C node's registered name and never call.
  defp watchers(node, n) do
    parent = self()

    for _ <- 1..n do
      pid =
        spawn_link(fn ->
          Process.monitor({:heirloom, node})
          send(parent, {:watching, self()})

          receive do
            :stop -> :ok
          end
        end)

      assert_receive {:watching, ^pid}
      pid
    end
  end

  test "many callers at once each get their own answers, and a lone caller after them",
       %{node: node, t: t} do
    hammer(node, t, 12, 400)
    hammer(node, t, 1, 50)
    hammer(node, t, 8, 200)
    hammer(node, t, 1, 50)
  end

  test "monitors held by processes that never call do not stall the callers",
       %{node: node, t: t} do
    quiet = watchers(node, 10)
    hammer(node, t, 3, 300)
    hammer(node, t, 2, 300)
    hammer(node, t, 8, 200)
    hammer(node, t, 1, 50)
    for pid <- quiet, do: send(pid, :stop)
    hammer(node, t, 1, 50)
  end

  # Each client VM's connection gathers on its own: three VMs with eight
  # callers each, at once (a peer's callers are erpc'd into it, so the
  # gen_server calls and their monitors come from the peer's node).
  test "callers from several VMs at once each get their own answers", %{node: node, t: t} do
    peers = for _ <- 1..2, do: Peer.start("gather")

    try do
      remote = fn peer -> fn n, req -> :erpc.call(peer.node, :gen_server, :call, [{:heirloom, n}, req]) end end
      pids = start_hammer(node, t, 8, 150, &call/2) ++ Enum.flat_map(peers, &start_hammer(node, t, 8, 150, remote.(&1)))
      await(pids)
    after
      Enum.each(peers, &Peer.stop/1)
    end
  end
end
