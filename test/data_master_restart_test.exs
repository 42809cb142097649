defmodule Heirloom.DataMasterRestartTest do
  # The seed's app (examples/data_master) survives what ETS cannot: both its
  # processes, or their whole VM, die; the unchanged app, started again,
  # boots (its DataMaster's new/2 takes the held table over) and serves
  # every row. With {heir, none} the table keeps ETS's lifecycle instead.
  use ExUnit.Case, async: false

  alias DataBackup.DataMaster
  alias DataBackup.DataMaster.Server
  alias HeirloomTest.{CNode, DataMasterVm, Peer}

  @rows 1..2_000

  setup do
    c = start_supervised!({CNode, []})
    Heirloom.set_node(CNode.name(c))

    on_exit(fn ->
      for name <- [Server, DataMaster], pid = Process.whereis(name), do: Process.exit(pid, :kill)
    end)

    %{cnode: CNode.name(c)}
  end

  defp start_app do
    {:ok, dm} = DataMaster.start_link()
    {:ok, server} = Server.start_link()
    {dm, server}
  end

  defp kill_all(pids) do
    for pid <- pids, do: Process.exit(pid, :kill)
    for pid <- pids, do: assert_receive({:EXIT, ^pid, :killed}, 5_000)
  end

  test "both processes killed: the app starts again and serves every row" do
    Process.flag(:trap_exit, true)
    {dm, server} = start_app()
    assert Heirloom.info(:data, :adopted) == false
    assert DataMasterVm.insert(@rows)

    # No waiting for the C node to see the deaths: new/2 probes the dead.
    kill_all([server, dm])
    {dm2, server2} = start_app()

    assert Heirloom.info(:data, :owner) == server2
    assert Heirloom.info(:data, :heir) == dm2
    assert Heirloom.info(:data, :adopted) == true
    assert Heirloom.info(:data, :size) == Enum.count(@rows)
    assert DataMasterVm.missing(@rows) == []

    # And again, the other way round, with the DataMaster holding the table.
    Process.exit(server2, :kill)
    assert_receive {:EXIT, ^server2, :killed}
    HeirloomTest.wait_until(fn -> :sys.get_state(dm2) == :data end)
    kill_all([dm2])
    {_dm3, server3} = start_app()
    assert Heirloom.info(:data, :owner) == server3
    assert DataMasterVm.missing(@rows) == []
  end

  test "their VM killed with kill -9: the app in a new VM serves every row", %{cnode: cnode} do
    vm1 = Peer.start("dm_app")
    on_exit(fn -> Peer.stop(vm1) end)
    %{server: server1} = :erpc.call(vm1.node, DataMasterVm, :start, [cnode])
    assert Heirloom.info(:data, :owner) == server1
    assert :erpc.call(vm1.node, DataMasterVm, :insert, [@rows])
    Peer.kill9(vm1)

    vm2 = Peer.start("dm_app")
    on_exit(fn -> Peer.stop(vm2) end)
    %{dm: dm2, server: server2} = :erpc.call(vm2.node, DataMasterVm, :start, [cnode])
    assert Heirloom.info(:data, :owner) == server2
    assert Heirloom.info(:data, :heir) == dm2
    assert Heirloom.info(:data, :adopted) == true
    assert :erpc.call(vm2.node, DataMasterVm, :missing, [@rows]) == []
    assert Heirloom.info(:data, :size) == Enum.count(@rows)
  end

  test "ETS mode ({heir, none}): after both die, new makes an empty table" do
    t = :"ets_mode_#{System.unique_integer([:positive])}"
    opts = [:set, :protected, :named_table, {:heir, :none}]
    me = self()

    # The DataMaster's part: create, fill, give the table to a "Server".
    server = spawn(fn -> receive do: (:never -> :ok) end)

    master =
      spawn(fn ->
        ^t = Heirloom.new(t, opts)
        true = Heirloom.insert(t, for(i <- @rows, do: {i, i}))
        true = Heirloom.give_away(t, server, nil)
        send(me, :given)
        receive do: (:never -> :ok)
      end)

    assert_receive :given, 5_000
    assert Heirloom.info(t, :owner) == server
    assert Heirloom.info(t, :size) == Enum.count(@rows)

    for pid <- [server, master] do
      ref = Process.monitor(pid)
      Process.exit(pid, :kill)
      assert_receive {:DOWN, ^ref, _, _, :killed}
    end

    assert Heirloom.new(t, opts) == t
    assert Heirloom.info(t, :size) == 0
    assert Heirloom.info(t, :owner) == self()
    assert Heirloom.info(t, :adopted) == false
  end
end
