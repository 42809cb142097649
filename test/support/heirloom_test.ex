defmodule HeirloomTest do
  @moduledoc """
  What every Heirloom test needs: a private epmd, a distributed test VM with a
  private cookie, and private temporary directories. Everything started here
  is stopped by its OS pid when the suite ends.
  """

  @doc """
  Start a private epmd on a free loopback port and make this VM distributed.
  Under ExUnit everything is stopped after the suite; otherwise call
  `stop_distribution/0`.
  """
  def start_distribution! do
    port = free_port()
    epmd = System.find_executable("epmd") || raise "epmd not found"

    p =
      Port.open({:spawn_executable, epmd}, [
        :binary,
        :exit_status,
        args: ["-port", "#{port}", "-address", "127.0.0.1"]
      ])

    {:os_pid, os_pid} = Port.info(p, :os_pid)
    :persistent_term.put({__MODULE__, :epmd}, os_pid)
    System.put_env("ERL_EPMD_PORT", "#{port}")
    wait_until(fn -> tcp_open?(port) end, 5_000)

    uniq = "#{System.os_time(:millisecond)}_#{System.unique_integer([:positive])}"
    {:ok, _} = Node.start(:"hltest_#{uniq}@127.0.0.1", :longnames)
    Node.set_cookie(:"cookie_#{uniq}")
    if Process.whereis(ExUnit.Server), do: ExUnit.after_suite(fn _ -> stop_distribution() end)
    :ok
  end

  def stop_distribution do
    Node.stop()
    kill(:persistent_term.get({__MODULE__, :epmd}), "KILL")
    File.rm_rf(base_dir())
  end

  @doc "A fresh directory under this run's temporary base directory."
  def tmp_dir(label) do
    dir = Path.join(base_dir(), "#{label}_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    dir
  end

  defp base_dir do
    Path.join(System.tmp_dir!(), "heirloom_test_#{System.pid()}")
  end

  @doc "A node name no other test uses."
  def unique_node(prefix) do
    :"#{prefix}_#{System.unique_integer([:positive])}@127.0.0.1"
  end

  def kill(os_pid, signal \\ "KILL") do
    System.cmd("kill", ["-#{signal}", "#{os_pid}"], stderr_to_stdout: true)
    :ok
  end

  def os_alive?(os_pid) do
    match?({_, 0}, System.cmd("kill", ["-0", "#{os_pid}"], stderr_to_stdout: true))
  end

  @doc "Poll `fun` until it returns a truthy value or `timeout` ms pass."
  def wait_until(fun, timeout \\ 5_000) do
    deadline = System.monotonic_time(:millisecond) + timeout
    do_wait(fun, deadline)
  end

  defp do_wait(fun, deadline) do
    case fun.() do
      result when result not in [nil, false] ->
        result

      _ ->
        if System.monotonic_time(:millisecond) > deadline, do: raise("timed out waiting")
        Process.sleep(10)
        do_wait(fun, deadline)
    end
  end

  defp free_port do
    {:ok, s} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(s)
    :gen_tcp.close(s)
    port
  end

  defp tcp_open?(port) do
    case :gen_tcp.connect({127, 0, 0, 1}, port, [], 200) do
      {:ok, s} -> :ok == :gen_tcp.close(s)
      _ -> false
    end
  end
end
