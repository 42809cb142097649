defmodule Heirloom.SoakTest do
  # `make soak` (not part of `make test`): owners killed under write load and
  # C nodes killed with -9 in the middle of writes, for SOAK_SECONDS (default
  # 60) each. Every write that was acknowledged must be found afterwards; the
  # run prints its counts and the number of lost rows, which must be 0.
  use ExUnit.Case, async: false

  import HeirloomTest.Soak, only: [seconds: 0, seed: 0, last_ack: 2]
  @moduletag :soak
  @moduletag timeout: :infinity

  alias HeirloomTest.CNode

  defp call(node, req), do: :gen_server.call({:heirloom, node}, req, 30_000)

  # Insert {i, i * 7} for i = 1, 2, ... as fast as the C node acks, telling
  # `to` the highest acknowledged i, until the call fails.
  defp writer(node, t, to) do
    spawn(fn -> write_loop(node, t, to, 1) end)
  end

  defp write_loop(node, t, to, i) do
    case catch_call(node, {:insert, t, {i, i * 7}}) do
      true ->
        send(to, {:acked, self(), i})
        write_loop(node, t, to, i + 1)

      _ ->
        :ok
    end
  end

  defp catch_call(node, req) do
    call(node, req)
  catch
    :exit, _ -> :down
  end

  defp lost(node, t, last) do
    Enum.count(1..last//1, fn i -> call(node, {:lookup, t, i}) != [{i, i * 7}] end)
  end

  test "owners killed under write load lose no acknowledged row" do
    s = seed()
    :rand.seed(:exsss, s)
    IO.puts("soak owner kills: seed #{s} (SOAK_SEED=#{s} repeats it)")
    c = CNode.start()
    node = CNode.name(c)
    deadline = System.monotonic_time(:millisecond) + seconds() * 1000

    {kills, writes, lost} =
      Stream.iterate(1, &(&1 + 1))
      |> Enum.reduce_while({0, 0, 0}, fn round, {k, w, l} ->
        if System.monotonic_time(:millisecond) > deadline do
          {:halt, {k, w, l}}
        else
          t = :"soak_owner_#{round}"
          me = self()

          owner =
            spawn(fn ->
              ^t = call(node, {:new, t, [:named_table, :protected, {:heir, me, round}]})
              # The owner writes its own protected table, acking each row.
              write_loop(node, t, me, 1)
            end)

          Process.sleep(:rand.uniform(30))
          Process.exit(owner, :kill)
          assert_receive {:"ETS-TRANSFER", ^t, ^owner, ^round}, 5_000
          last = last_ack(owner, 0)
          lost = lost(node, t, last)
          call(node, {:delete, t})
          {:cont, {k + 1, w + last, l + lost}}
        end
      end)

    IO.puts("soak owner kills: #{kills} owners killed, #{writes} acknowledged writes, #{lost} lost")
    CNode.stop(c)
    assert lost == 0
  end

  test "kill -9 of the C node mid-write loses no acknowledged row" do
    s = seed()
    :rand.seed(:exsss, s)
    IO.puts("soak C node kills: seed #{s} (SOAK_SEED=#{s} repeats it)")
    c = CNode.start()
    node = CNode.name(c)
    t = :soak_cnode
    ^t = call(node, {:new, t, [:named_table, :public]})
    deadline = System.monotonic_time(:millisecond) + seconds() * 1000

    {kills, writes, lost} =
      Stream.iterate(1, &(&1 + 1))
      |> Enum.reduce_while({0, 0, 0}, fn _round, {k, w, l} ->
        if System.monotonic_time(:millisecond) > deadline do
          {:halt, {k, w, l}}
        else
          true = call(node, {:delete_all_objects, t})
          wr = writer(node, t, self())
          Process.sleep(5 + :rand.uniform(50))
          137 = CNode.kill9(c)
          last = last_ack(wr, 0)
          :ok = CNode.restart(c)
          {:ok, ^t} = call(node, {:claim, t, [:public]})
          {:cont, {k + 1, w + last, l + lost(node, t, last)}}
        end
      end)

    IO.puts("soak C node kills: #{kills} kill -9s, #{writes} acknowledged writes, #{lost} lost")
    CNode.stop(c)
    assert lost == 0
  end
end
