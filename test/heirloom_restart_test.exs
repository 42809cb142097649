defmodule Heirloom.RestartTest do
  # Rows live in LMDB, so they outlive the C node process itself.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  test "kill -9 of the C node and a restart: tables and rows are still there" do
    c = start_supervised!({CNode, []}, restart: :temporary)
    node = CNode.name(c)
    t = :"survivor_#{System.unique_integer([:positive])}"
    ^t = :gen_server.call({:heirloom, node}, {:new, t, [:named_table, :public]})
    rows = for i <- 1..1_000, do: {i, "row #{i}"}
    true = :gen_server.call({:heirloom, node}, {:insert, t, rows})

    old_os_pid = CNode.os_pid(c)
    assert CNode.kill9(c) == 137
    refute HeirloomTest.os_alive?(old_os_pid)
    assert :ok = CNode.restart(c)
    assert CNode.os_pid(c) != old_os_pid

    assert :gen_server.call({:heirloom, node}, {:lookup, t, 500}) == [{500, "row 500"}]
    assert :gen_server.call({:heirloom, node}, {:info, t, :size}) == 1_000
    assert Enum.sort(:gen_server.call({:heirloom, node}, {:tab2list, t})) == rows
    # Nobody's pid from before the restart is trusted: the C node holds it.
    assert :gen_server.call({:heirloom, node}, {:info, t, :held_by_heirloom}) == true
  end

  test "SIGTERM stops the C node cleanly with exit status 0 and unregisters it" do
    c = start_supervised!({CNode, []}, restart: :temporary)
    node = CNode.name(c)
    assert :pong == :gen_server.call({:heirloom, node}, :ping)
    assert CNode.stop(c) == 0
    [alive, _host] = String.split("#{node}", "@")
    {:ok, names} = :erl_epmd.names(~c"127.0.0.1")
    refute Enum.any?(names, fn {n, _} -> to_string(n) == alive end)
  end
end
