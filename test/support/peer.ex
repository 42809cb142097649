defmodule HeirloomTest.Peer do
  @moduledoc """
  A second BEAM VM as a real OS process (OTP's :peer), on loopback, with this
  run's cookie and epmd, and this project's code on its path. Stopped by its
  OS pid.
  """

  @doc "Start a peer; returns %{node: node, os_pid: integer, peer: pid}."
  def start(prefix) do
    [alive, _] = prefix |> HeirloomTest.unique_node() |> to_string() |> String.split("@")
    paths = Enum.flat_map(:code.get_path(), fn p -> [~c"-pa", p] end)

    {:ok, peer, node} =
      :peer.start(%{
        name: String.to_charlist(alive),
        host: ~c"127.0.0.1",
        longnames: true,
        args: [~c"-setcookie", Atom.to_charlist(Node.get_cookie()) | paths]
      })

    os_pid = node |> :erpc.call(:os, :getpid, []) |> List.to_integer()
    %{node: node, os_pid: os_pid, peer: peer}
  end

  @doc "kill -9 the peer's OS process and wait until it is gone."
  def kill9(%{os_pid: os_pid, node: node}) do
    HeirloomTest.kill(os_pid, "KILL")
    HeirloomTest.wait_until(fn -> not HeirloomTest.os_alive?(os_pid) end)
    HeirloomTest.wait_until(fn -> node not in Node.list(:connected) end)
    :ok
  end

  @doc "Stop a peer that is still running (by its OS pid, whatever state it is in)."
  def stop(%{os_pid: os_pid}) do
    if HeirloomTest.os_alive?(os_pid), do: HeirloomTest.kill(os_pid, "KILL")
    :ok
  end
end
