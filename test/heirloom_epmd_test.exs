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

  defp free_port do
    {:ok, l} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, p} = :inet.port(l)
    :gen_tcp.close(l)
    p
  end

  # A C node whose epmd port is epmd_port (where none runs: it starts one).
  defp start_cnode(epmd_port, name) do
    port =
      Port.open({:spawn_executable, CNode.exe()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        env: [{~c"ERL_EPMD_PORT", ~c"#{epmd_port}"}, {~c"ERL_EPMD_ADDRESS", false}],
        args: ~w(--name #{name} --cookie c --dir #{HeirloomTest.tmp_dir("epmd")} --listen 127.0.0.1)
      ])

    receive do
      {^port, {:data, {:eol, "heirloom_node ready " <> rest}}} ->
        [_, p] = Regex.run(~r/pid=(\d+)/, rest)
        {port, String.to_integer(p)}
    after
      10_000 -> flunk("the C node did not start")
    end
  end

  defp stop_cnode({port, os_pid}) do
    HeirloomTest.kill(os_pid, "TERM")
    assert_receive {^port, {:exit_status, 0}}, 5_000
  end

  # The names epmd at epmd_port knows (NAMES_REQ).
  defp names(epmd_port) do
    case :gen_tcp.connect({127, 0, 0, 1}, epmd_port, [:binary, active: false]) do
      {:ok, s} ->
        :ok = :gen_tcp.send(s, <<0, 1, 110>>)
        text = recv_all(s, <<>>)
        :gen_tcp.close(s)
        if byte_size(text) >= 4, do: binary_part(text, 4, byte_size(text) - 4), else: ""

      {:error, _} ->
        ""
    end
  end

  defp recv_all(s, acc) do
    case :gen_tcp.recv(s, 0, 2_000) do
      {:ok, b} -> recv_all(s, acc <> b)
      {:error, _} -> acc
    end
  end

  test "the epmd the C node starts listens on loopback only" do
    epmd_port = free_port()
    cnode = start_cnode(epmd_port, HeirloomTest.unique_node("epmd"))
    found = listeners(epmd_port)
    epmd = Enum.find_value(found, fn {_, inode} -> pid_of_socket(inode) end)

    try do
      assert found != []
      assert Enum.all?(found, fn {addr, _} -> addr in @loopback end), inspect(found)
    after
      stop_cnode(cnode)
      # Started by the C node for this test only: stop it.
      if epmd, do: HeirloomTest.kill(epmd, "KILL")
    end

    assert epmd
  end

  test "after epmd restarts, the C node registers again" do
    epmd_port = free_port()
    name = HeirloomTest.unique_node("repub")
    [alive, _] = name |> Atom.to_string() |> String.split("@")
    cnode = start_cnode(epmd_port, name)
    epmd = Enum.find_value(listeners(epmd_port), fn {_, inode} -> pid_of_socket(inode) end)

    try do
      assert names(epmd_port) =~ "name #{alive} "
      HeirloomTest.kill(epmd, "KILL")
      HeirloomTest.wait_until(fn -> names(epmd_port) == "" end)

      exe = System.find_executable("epmd")
      p = Port.open({:spawn_executable, exe}, args: ~w(-port #{epmd_port} -address 127.0.0.1))
      {:os_pid, ours} = Port.info(p, :os_pid)
      Process.put(:hl_test_epmd, ours)
      # It retries once a second.
      HeirloomTest.wait_until(fn -> names(epmd_port) =~ "name #{alive} " end, 5_000)
    after
      stop_cnode(cnode)
      if epmd, do: HeirloomTest.kill(epmd, "KILL")
      if o = Process.get(:hl_test_epmd), do: HeirloomTest.kill(o, "KILL")
    end
  end
end
