defmodule Heirloom.NodeDeathTest do
  # Owners and heirs in separate OS-level BEAM VMs, killed with kill -9.
  use ExUnit.Case, async: false
  # Slow: peer VMs killed with kill -9 (mix test --include slow; make test runs it).
  @moduletag :slow

  alias HeirloomTest.{CNode, Owner, Peer}

  setup do
    c = start_supervised!({CNode, []})
    Heirloom.set_node(CNode.name(c))
    %{c: c, node: CNode.name(c)}
  end

  defp tab, do: :"d#{System.unique_integer([:positive])}"

  defp remote_owner(peer, node, t, opts, rows) do
    pid = :erpc.call(peer.node, Owner, :start, [node, t, [:named_table | opts], rows, self()])
    assert_receive {:owner_ready, ^pid, ^t}, 5_000
    pid
  end

  test "kill -9 of the owner's VM: the heir gets 'ETS-TRANSFER' and no row is lost", %{node: node} do
    peer = Peer.start("owner_vm")
    on_exit(fn -> Peer.stop(peer) end)
    t = tab()
    rows = for i <- 1..10_000, do: {i, :crypto.hash(:sha, <<i::32>>)}
    o = remote_owner(peer, node, t, [{:heir, self(), :inherit}], rows)
    Peer.kill9(peer)
    assert_receive {:"ETS-TRANSFER", ^t, ^o, :inherit}, 2_000
    assert Heirloom.info(t, :owner) == self()
    assert Enum.sort(Heirloom.tab2list(t)) == rows
  end

  test "owner and heir on the same VM that dies: the C node holds the table", %{node: node} do
    peer = Peer.start("both_vm")
    on_exit(fn -> Peer.stop(peer) end)
    t = tab()
    heir = Node.spawn(peer.node, fn -> receive do: (:never -> :ok) end)
    _o = remote_owner(peer, node, t, [{:heir, heir, :x}], [{1, :one}])
    Peer.kill9(peer)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 2_000)
    assert Heirloom.claim(t, []) == {:ok, t}
    assert Heirloom.lookup(t, 1) == [{1, :one}]
  end

  test "the heir's VM dies first: the heir becomes the C node", %{node: node} do
    peer = Peer.start("heir_vm")
    on_exit(fn -> Peer.stop(peer) end)
    t = tab()
    heir = Node.spawn(peer.node, fn -> receive do: (:never -> :ok) end)
    o = Owner.start(node, t, [:named_table, {:heir, heir, :x}], [{1, :one}], self())
    assert_receive {:owner_ready, ^o, ^t}
    Peer.kill9(peer)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :heir) != heir end, 2_000)
    Process.exit(o, :kill)
    HeirloomTest.wait_until(fn -> Heirloom.info(t, :held_by_heirloom) end, 2_000)
  end

  test "an owner is not killed or signalled when the C node dies", %{c: c, node: node} do
    t = tab()
    test_pid = self()

    owner =
      spawn(fn ->
        Process.flag(:trap_exit, true)
        true = :gen_server.call({:heirloom, node}, {:new, t, [:named_table]}) == t
        send(test_pid, :ready)

        receive do
          msg -> send(test_pid, {:owner_got, msg})
        end
      end)

    assert_receive :ready
    CNode.kill9(c)
    refute_receive {:owner_got, _}, 300
    assert Process.alive?(owner)
  end
end
