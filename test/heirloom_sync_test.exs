defmodule Heirloom.SyncTest do
  # Durability mode: with --sync commit on a disk directory, every insert the
  # C node acknowledged survives a kill -9 in the middle of a stream.
  use ExUnit.Case, async: false
  # Slow: a C node killed mid-stream (mix test --include slow; make test runs it).
  @moduletag :slow

  alias HeirloomTest.CNode

  test "kill -9 during acknowledged inserts loses none of them" do
    dir = HeirloomTest.tmp_dir("sync_store")
    c = start_supervised!({CNode, [dir: dir, args: ["--sync", "commit"]]}, restart: :temporary)
    node = CNode.name(c)
    :t = :heirloom.call(node, {:new, :t, [:named_table, :public]})
    me = self()

    writer =
      spawn(fn ->
        Enum.reduce_while(Stream.iterate(1, &(&1 + 1)), nil, fn i, _ ->
          try do
            true = :heirloom.call(node, {:insert, :t, {i, :crypto.hash(:md5, <<i::32>>)}})
            send(me, {:acked, i})
            {:cont, nil}
          catch
            :exit, _ -> {:halt, nil}
          end
        end)
      end)

    # Let a few hundred inserts be acknowledged, then pull the plug.
    assert_receive {:acked, 300}, 20_000
    CNode.kill9(c)
    # assert_receive took the ack of 300 itself: count from there.
    last = drain_acks(300)
    assert last >= 300
    Process.exit(writer, :kill)

    assert :ok = CNode.restart(c)
    assert :heirloom.call(node, :ping) == :pong
    size = :heirloom.call(node, {:info, :t, :size})
    assert size >= last
    for i <- 1..last, do: assert([{^i, _}] = :heirloom.call(node, {:lookup, :t, i}))
  end

  defp drain_acks(last) do
    receive do
      {:acked, i} -> drain_acks(max(i, last))
    after
      200 -> last
    end
  end
end
