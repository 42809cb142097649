defmodule Heirloom.DataBackupTest do
  # The seed's application, for real: a Supervisor restarts a killed Server,
  # and the new Server serves every row without reloading anything.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  setup do
    c = start_supervised!({CNode, []})
    Heirloom.set_node(CNode.name(c))
    :ok
  end

  test "a killed Server is restarted and serves all 100,000 rows" do
    table = :"backup_#{System.unique_integer([:positive])}"
    start_supervised!({DataBackup, table: table})
    rows = for i <- 1..100_000, do: {i, "value #{i}"}
    for chunk <- Enum.chunk_every(rows, 10_000), do: assert(DataBackup.Server.insert_many(chunk))

    old = Process.whereis(DataBackup.Server)
    ref = Process.monitor(old)
    Process.exit(old, :kill)
    assert_receive {:DOWN, ^ref, _, _, :killed}

    new = HeirloomTest.wait_until(fn -> Process.whereis(DataBackup.Server) end)
    assert new != old
    # The name is registered before init/1 runs: a call waits for init (the claim) to finish.
    _ = :sys.get_state(new)
    assert Heirloom.info(table, :owner) == new
    assert Heirloom.info(table, :size) == 100_000
    for i <- [1, 50_000, 100_000], do: assert(DataBackup.Server.get_data(i) == {:ok, "value #{i}"})
    assert Enum.sort(Heirloom.tab2list(table)) == rows
  end
end
