defmodule Heirloom.NifSoakTest do
  # `make soak` (not part of `make test`): VMs killed with -9 in the middle
  # of NIF writes, for SOAK_SECONDS (default 60). A VM may die holding the
  # store's write lock (c_src/hl_store_wlock.c) inside an LMDB write
  # transaction: the next writer takes the lock over, the dead write is gone,
  # every write that was acknowledged is there, and the store takes writes
  # from the NIF and the C node as before. The run prints its counts and the
  # number of lost rows, which must be 0.
  use ExUnit.Case, async: false

  import HeirloomTest.Soak, only: [seconds: 0, seed: 0, last_ack: 2]
  @moduletag :soak
  @moduletag timeout: :infinity

  alias HeirloomTest.{CNode, Peer}

  # Loaded into each peer VM: writers that insert {I, I * 7} through the
  # NIF as fast as it acknowledges, telling `to` each acknowledged I.
  @writer """
  defmodule HeirloomTest.NifSoakWriter do
    def start(node, t, to, first) do
      Heirloom.set_node(node)
      :nif = :heirloom.path()
      spawn(fn -> loop(t, to, first) end)
    end

    defp loop(t, to, i) do
      true = Heirloom.insert(t, {i, i * 7})
      send(to, {:acked, self(), i})
      loop(t, to, i + 1)
    end
  end
  """

  test "kill -9 of a VM writing through the NIF loses no acknowledged row" do
    s = seed()
    :rand.seed(:exsss, s)
    IO.puts("soak NIF VM kills: seed #{s} (SOAK_SEED=#{s} repeats it)")
    c = CNode.start()
    node = CNode.name(c)
    Heirloom.set_node(node)
    assert :heirloom.path() == :nif
    [{mod, bin}] = Code.compile_string(@writer)
    deadline = System.monotonic_time(:millisecond) + seconds() * 1000

    {kills, writes, lost} =
      Stream.iterate(1, &(&1 + 1))
      |> Enum.reduce_while({0, 0, 0}, fn round, {k, w, l} ->
        if System.monotonic_time(:millisecond) > deadline do
          {:halt, {k, w, l}}
        else
          t = :"soak_nif_#{round}"
          ^t = :heirloom.call(node, {:new, t, [:named_table, :public]})
          peer = Peer.start("nifsoak")
          {:module, ^mod} = :erpc.call(peer.node, :code, :load_binary, [mod, ~c"nofile", bin])
          # Two writers in the VM: its own threads contend for the lock too.
          firsts = [1, 1_000_000_001]
          wrs = for f <- firsts, do: :erpc.call(peer.node, mod, :start, [node, t, self(), f])
          Process.sleep(20 + :rand.uniform(80))
          :ok = Peer.kill9(peer)
          # What each writer had acknowledged when its VM died.
          acked = Enum.zip_with(wrs, firsts, fn wr, f -> f..last_ack(wr, f - 1)//1 end)

          lost =
            Enum.sum(for r <- acked, do: Enum.count(r, &(:heirloom.call(node, {:lookup, t, &1}) != [{&1, &1 * 7}])))

          # The store takes writes again, from this VM's NIF and the C node.
          assert Heirloom.insert(t, {:after, round})
          assert :heirloom.call(node, {:insert, t, {:cnode, round}}) == true
          assert Heirloom.lookup(t, :cnode) == [{:cnode, round}]
          :heirloom.call(node, {:delete, t})
          {:cont, {k + 1, w + Enum.sum(Enum.map(acked, &Enum.count/1)), l + lost}}
        end
      end)

    IO.puts("soak NIF VM kills: #{kills} VMs killed, #{writes} acknowledged writes, #{lost} lost")
    :heirloom.forget_path(node)
    CNode.stop(c)
    assert kills > 0 and writes > 0
    assert lost == 0
  end
end
