defmodule Heirloom.DataMasterTest do
  # The seed's DataMaster and Server (examples/data_master): ETS code with
  # :ets replaced by Heirloom, tested the way the seed tests them. Each test
  # starts a fresh DataMaster (and Server) linked to itself, and ONE C node
  # serves the whole module, as one would serve an app's whole test run: so
  # every test after the first finds :data held by the C node (its owners
  # died with the previous test), and the new DataMaster's new/2 takes it over
  # instead of raising already_exists. Rows from earlier tests may be there:
  # every test uses keys of its own.
  use ExUnit.Case, async: false

  alias DataBackup.DataMaster
  alias DataBackup.DataMaster.Server
  alias HeirloomTest.CNode

  setup_all do
    c = start_supervised!({CNode, []})
    Heirloom.set_node(CNode.name(c))
    %{cnode: CNode.name(c)}
  end

  setup ctx do
    # Other modules point this VM elsewhere in between.
    Heirloom.set_node(ctx.cnode)
    {:ok, dm} = DataMaster.start_link()
    stop_after_test(dm)
    %{dm: dm}
  end

  # The test process's exit takes its linked processes down; the next test's
  # start_link must not find the names still registered.
  defp stop_after_test(pid) do
    on_exit(fn ->
      ref = Process.monitor(pid)
      Process.exit(pid, :kill)
      assert_receive {:DOWN, ^ref, _, _, _}, 5_000
    end)
  end

  defp start_server do
    {:ok, server} = Server.start_link()
    stop_after_test(server)
    server
  end

  defp key, do: {:key, System.unique_integer([:positive])}

  test "starts correctly", %{dm: dm} do
    assert Process.alive?(dm)
    assert Process.whereis(DataMaster) == dm
    assert :sys.get_state(dm) == :data
  end

  test "creates the table with itself as heir", %{dm: dm} do
    assert Heirloom.info(:data, :owner) == dm
    assert Heirloom.info(:data, :heir) == dm
    assert Heirloom.info(:data, :protection) == :protected
    assert Heirloom.info(:data, :named_table) == true
  end

  test "get_ets returns the name" do
    assert DataMaster.get_ets() == :data
  end

  test "get_ets clears state", %{dm: dm} do
    DataMaster.get_ets()
    assert :sys.get_state(dm) == nil
  end

  test "get_ets gives ownership", %{dm: dm} do
    DataMaster.get_ets()
    assert_receive {:"ETS-TRANSFER", :data, ^dm, nil}
    assert Heirloom.info(:data, :owner) == self()
    assert Heirloom.info(:data, :heir) == dm
  end

  test "get_ets returns nil the second time" do
    assert DataMaster.get_ets() == :data
    assert DataMaster.get_ets() == nil
  end

  test "ETS-TRANSFER of the right table is taken back", %{dm: dm} do
    :data = DataMaster.get_ets()
    assert Heirloom.give_away(:data, dm, :back)
    # The transfer reached dm before give_away's reply reached this process.
    assert :sys.get_state(dm) == :data
    assert Heirloom.info(:data, :owner) == dm
  end

  test "ETS-TRANSFER of another table deletes it", %{dm: dm} do
    other = :"other_#{System.unique_integer([:positive])}"
    assert Heirloom.new(other, [:set, :named_table]) == other
    assert Heirloom.give_away(other, dm, nil)
    assert :sys.get_state(dm) == :data
    assert Heirloom.info(other) == :undefined
    assert Heirloom.info(:data, :owner) == dm
  end

  test "Server takes ownership", %{dm: dm} do
    server = start_server()
    assert Heirloom.info(:data, :owner) == server
    assert Heirloom.info(:data, :heir) == dm
    assert :sys.get_state(dm) == nil
    assert :sys.get_state(server) == :data
  end

  test "Server inserts" do
    start_server()
    k = key()
    assert Server.insert_data(k, 1)
    assert Heirloom.lookup(:data, k) == [{k, 1}]
  end

  test "Server overwrites" do
    start_server()
    k = key()
    assert Server.insert_data(k, 1)
    assert Server.insert_data(k, 2)
    assert Heirloom.lookup(:data, k) == [{k, 2}]
  end

  test "Server gets" do
    start_server()
    k = key()
    assert Server.get_data(k) == :not_found
    assert Server.insert_data(k, "v")
    assert Server.get_data(k) == {:ok, "v"}
  end
end
