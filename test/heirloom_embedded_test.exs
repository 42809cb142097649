defmodule Heirloom.EmbeddedTest do
  # The embedded default: the app starts its own C node, detached, and a VM
  # that died finds it again. All with real OS processes and kill -9.
  use ExUnit.Case, async: false
  # Slow: peer VMs and C nodes killed with kill -9 (mix test --include slow; make test runs it).
  @moduletag :slow

  alias HeirloomTest.{AppVm, Peer}

  setup do
    cnode = HeirloomTest.unique_node("embedded")
    dir = HeirloomTest.tmp_dir("embedded_store")
    on_exit(fn -> stop_cnode(cnode) end)
    %{opts: [node: cnode, dir: dir], cnode: cnode}
  end

  # The C node was started detached by a VM: stop it by its OS pid.
  defp stop_cnode(cnode) do
    case :heirloom.call(cnode, :store_info, 2_000) do
      info when is_list(info) -> HeirloomTest.kill(info[:os_pid], "KILL")
      _ -> :ok
    end
  catch
    :exit, _ -> :ok
  end

  defp app_vm(opts) do
    peer = Peer.start("app")
    :ok = :erpc.call(peer.node, AppVm, :start, [opts])
    peer
  end

  defp cnode_os_pid(cnode), do: :heirloom.call(cnode, :store_info)[:os_pid]

  test "kill -9 of the VM: a new VM finds the same C node and claims every row", ctx do
    vm1 = app_vm(ctx.opts)
    on_exit(fn -> Peer.stop(vm1) end)
    os_pid = cnode_os_pid(ctx.cnode)
    _owner = :erpc.call(vm1.node, AppVm, :claim_owner, [:kept, 20_000, self()])
    assert_receive {:claimed, _, {:ok, :kept}, 20_000}, 10_000

    Peer.kill9(vm1)
    assert HeirloomTest.os_alive?(os_pid), "the C node must outlive the VM that started it"

    vm2 = app_vm(ctx.opts)
    on_exit(fn -> Peer.stop(vm2) end)
    assert cnode_os_pid(ctx.cnode) == os_pid
    owner2 = :erpc.call(vm2.node, AppVm, :claim_owner, [:kept, 0, self()])
    assert_receive {:claimed, ^owner2, {:ok, :kept}, 20_000}, 10_000
    assert :heirloom.call(ctx.cnode, {:lookup, :kept, 12_345}) == [{12_345, 24_690}]
  end

  test "kill -9 of the C node: the app restarts it and the rows are still there", ctx do
    vm = app_vm(ctx.opts)
    on_exit(fn -> Peer.stop(vm) end)
    _owner = :erpc.call(vm.node, AppVm, :claim_owner, [:kept, 5_000, self()])
    assert_receive {:claimed, _, {:ok, :kept}, 5_000}, 10_000
    old = cnode_os_pid(ctx.cnode)
    HeirloomTest.kill(old, "KILL")
    HeirloomTest.wait_until(fn -> not HeirloomTest.os_alive?(old) end)

    new =
      HeirloomTest.wait_until(
        fn ->
          try do
            pid = cnode_os_pid(ctx.cnode)
            pid != old && pid
          catch
            :exit, _ -> false
          end
        end,
        15_000
      )

    assert new != old
    assert :heirloom.call(ctx.cnode, {:info, :kept, :size}) == 5_000
    assert :heirloom.call(ctx.cnode, {:info, :kept, :held_by_heirloom}) == true
  end

  test "kill -9 of the C node: a server under rest_for_one owns its table again", ctx do
    vm = Peer.start("app")
    on_exit(fn -> Peer.stop(vm) end)
    :ok = :erpc.call(vm.node, AppVm, :start_with_server, [ctx.opts, :backup])
    rows = for i <- 1..2_000, do: {i, "row #{i}"}
    true = :erpc.call(vm.node, DataBackup.Server, :insert_many, [rows])
    old_server = :erpc.call(vm.node, Process, :whereis, [DataBackup.Server])
    old = cnode_os_pid(ctx.cnode)
    HeirloomTest.kill(old, "KILL")
    HeirloomTest.wait_until(fn -> not HeirloomTest.os_alive?(old) end)

    HeirloomTest.wait_until(fn -> :erpc.call(vm.node, AppVm, :server_owns?, [:backup]) end, 15_000)
    assert cnode_os_pid(ctx.cnode) != old
    assert :erpc.call(vm.node, Process, :whereis, [DataBackup.Server]) != old_server
    assert :erpc.call(vm.node, DataBackup.Server, :get_data, [1_234]) == {:ok, "row 1234"}
    assert :heirloom.call(ctx.cnode, {:info, :backup, :size}) == 2_000
    # It owns the table, so it can write again.
    assert :erpc.call(vm.node, DataBackup.Server, :insert_data, [2_001, "new"])
  end

  test "start: :never does not start a C node" do
    cnode = HeirloomTest.unique_node("never")
    peer = Peer.start("never")
    on_exit(fn -> Peer.stop(peer) end)

    # Started unlinked: a failing start_link would take the erpc worker with it.
    assert {:error, {:no_c_node, ^cnode}} =
             :erpc.call(peer.node, :gen_server, :start, [
               :heirloom_embedded,
               [node: cnode, start: :never],
               []
             ])

    # Nothing registered under that name: no C node was started.
    {:ok, names} = :erl_epmd.names(~c"127.0.0.1")
    [alive | _] = cnode |> to_string() |> String.split("@")
    refute Enum.any?(names, fn {n, _} -> to_string(n) == alive end)
  end
end
