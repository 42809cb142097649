defmodule Heirloom.SenderTest do
  # Who is calling is what the distribution frame says, never the From a
  # message carries: a forged From is refused, answered to the real sender.
  use ExUnit.Case, async: false

  alias HeirloomTest.{CNode, Owner}

  setup_all do
    c = CNode.start()
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    %{node: CNode.name(c)}
  end

  defp tab, do: :"s#{System.unique_integer([:positive])}"

  defp owner(node, t, opts) do
    pid = Owner.start(node, t, [:named_table | opts], [{:k, :v}], self())
    assert_receive {:owner_ready, ^pid, ^t}
    pid
  end

  # Send a gen_server call with From = `from` to `dest`, as the calling
  # process; returns what comes back to the calling process.
  defp forged(dest, from, req) do
    tag = make_ref()
    send(dest, {:"$gen_call", {from, tag}, req})

    receive do
      {^tag, reply} -> reply
    after
      2_000 -> :no_reply
    end
  end

  defp call(node, req), do: :gen_server.call({:heirloom, node}, req)

  for {how, dest} <- [registered_name: :name, node_pid: :pid] do
    test "a forged owner pid cannot write, set the heir or give the table away (#{how})",
         %{node: node} do
      t = tab()
      o = owner(node, t, [:protected])

      dest =
        case unquote(dest) do
          :name -> {:heirloom, node}
          :pid -> Keyword.fetch!(call(node, :store_info), :node_pid)
        end

      assert forged(dest, o, {:insert, t, {:forged, 1}}) == {:error, :forged_from}
      assert forged(dest, o, {:setopts, t, {:heir, self(), :x}}) == {:error, :forged_from}
      assert forged(dest, o, {:give_away, t, self(), :x}) == {:error, :forged_from}
      assert forged(dest, o, {:delete, t}) == {:error, :forged_from}
      assert call(node, {:info, t, :owner}) == o
      assert call(node, {:info, t, :heir}) == Keyword.fetch!(call(node, :store_info), :node_pid)
      assert call(node, {:lookup, t, :forged}) == []
      # The real owner is still served.
      assert Owner.call(o, {:insert, t, {:real, 1}}) == true
      Process.exit(o, :kill)
    end
  end

  test "the victim of a forged From gets nothing", %{node: node} do
    t = tab()
    o = owner(node, t, [:protected])
    victim = self()

    spawn(fn -> send(victim, {:attacker_saw, forged({:heirloom, node}, victim, {:lookup, t, :k})}) end)

    assert_receive {:attacker_saw, {:error, :forged_from}}, 2_000
    refute_receive {_ref, [{:k, :v}]}, 200
    Process.exit(o, :kill)
  end

  test "net_adm:ping answers pong instead of hanging", %{node: node} do
    task = Task.async(fn -> :net_adm.ping(node) end)
    assert Task.yield(task, 5_000) == {:ok, :pong}
    assert Node.ping(node) == :pong
  end
end
