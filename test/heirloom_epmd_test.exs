defmodule Heirloom.EpmdTest do
  # The epmd a C node starts when none runs must not listen on every
  # interface when the C node itself listens on loopback only.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  @loopback ["0100007F", "00000000000000000000000001000000"]

  # {local address (hex, as /proc/net shows it), inode} of the sockets
  # listening on port.
  defp listeners(port) do
    suffix = ":" <> String.pad_leading(Integer.to_string(port, 16), 4, "0")

    for file <- ["/proc/net/tcp", "/proc/net/tcp6"],
        line <- file |> File.read!() |> String.split("\n") |> Enum.drop(1),
        [_, local, _, "0A" | rest] <- [String.split(line)],
        String.ends_with?(local, suffix) do
      {String.replace_suffix(local, suffix, ""), Enum.at(rest, 5)}
    end
  end

  defp pid_of_socket(inode) do
    target = "socket:[#{inode}]"

    Enum.find_value(Path.wildcard("/proc/[0-9]*/fd/*"), fn fd ->
      with {:ok, ^target} <- File.read_link(fd) do
        fd |> Path.split() |> Enum.at(2) |> String.to_integer()
      else
        _ -> nil
      end
    end)
  end

  test "the epmd the C node starts listens on loopback only" do
    {:ok, l} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, epmd_port} = :inet.port(l)
    :gen_tcp.close(l)
    name = HeirloomTest.unique_node("epmd")

    port =
      Port.open({:spawn_executable, CNode.exe()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        env: [{~c"ERL_EPMD_PORT", ~c"#{epmd_port}"}, {~c"ERL_EPMD_ADDRESS", false}],
        args: ~w(--name #{name} --cookie c --dir #{HeirloomTest.tmp_dir("epmd")} --listen 127.0.0.1)
      ])

    os_pid =
      receive do
        {^port, {:data, {:eol, "heirloom_node ready " <> rest}}} ->
          [_, p] = Regex.run(~r/pid=(\d+)/, rest)
          String.to_integer(p)
      after
        10_000 -> flunk("the C node did not start")
      end

    found = listeners(epmd_port)
    epmd = Enum.find_value(found, fn {_, inode} -> pid_of_socket(inode) end)

    try do
      assert found != []
      assert Enum.all?(found, fn {addr, _} -> addr in @loopback end), inspect(found)
    after
      HeirloomTest.kill(os_pid, "TERM")
      assert_receive {^port, {:exit_status, 0}}, 5_000
      # Started by the C node for this test only: stop it.
      if epmd, do: HeirloomTest.kill(epmd, "KILL")
    end

    assert epmd
  end
end
