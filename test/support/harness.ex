defmodule HeirloomTest do
  @moduledoc """
  What every Heirloom test needs: a private epmd, a distributed test VM with a
  private cookie, and private temporary directories. Everything started here
  is stopped by its OS pid when the suite ends.
  """

  @doc """
  Make this VM distributed under a unique name and cookie, on the epmd that
  the VM was started with (`ERL_EPMD_PORT` / `-epmd_port`, default 4369).
  A VM reads that port only at boot, so `make test` picks a free port and
  sets `ERL_EPMD_PORT` before starting mix: the run gets a private epmd. When
  no epmd listens on the port, one is started here and killed by its OS pid
  after the suite; an epmd someone else runs is shared, never stopped.
  """
  def start_distribution! do
    port = epmd_port()

    unless epmd_up?() do
      epmd = System.find_executable("epmd") || raise "epmd not found"

      p =
        Port.open({:spawn_executable, epmd}, [
          :binary,
          :exit_status,
          args: ["-port", "#{port}", "-address", "127.0.0.1"]
        ])

      {:os_pid, os_pid} = Port.info(p, :os_pid)
      :persistent_term.put({__MODULE__, :epmd}, os_pid)
      wait_until(&epmd_up?/0, 5_000)
    end

    # C nodes and peer VMs started by the tests find the same epmd.
    System.put_env("ERL_EPMD_PORT", "#{port}")
    uniq = "#{System.os_time(:millisecond)}_#{System.unique_integer([:positive])}"
    {:ok, _} = Node.start(:"hltest_#{uniq}@127.0.0.1", :longnames)
    Node.set_cookie(:"cookie_#{uniq}")
    if Process.whereis(ExUnit.Server), do: ExUnit.after_suite(fn _ -> stop_distribution() end)
    :ok
  end

  defp epmd_port do
    case :init.get_argument(:epmd_port) do
      {:ok, [[p | _] | _]} -> List.to_integer(p)
      :error -> 4369
    end
  end

  def stop_distribution do
    Node.stop()

    case :persistent_term.get({__MODULE__, :epmd}, nil) do
      nil -> :ok
      os_pid -> kill(os_pid, "KILL")
    end

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

  @doc """
  Whether the OS process runs. A zombie counts as dead: a detached C node is
  reparented to PID 1, which may reap it late, and `kill -0` succeeds on it.
  """
  def os_alive?(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} -> stat |> String.split(") ") |> List.last() |> String.first() != "Z"
      {:error, _} -> false
    end
  end

  @doc """
  CPU time (user + system) of an OS process so far, in microseconds, from
  /proc/PID/stat (`os_pid` may also be a path below /proc, e.g.
  "self/task/TID").
  """
  def os_cpu_us(os_pid) do
    stat = File.read!("/proc/#{os_pid}/stat")
    # Fields after the command name (which may hold spaces) in parentheses:
    # state is field 3, utime 14 and stime 15 (1-based, man 5 proc).
    [_, rest] = :binary.split(stat, ")", [:global]) |> then(&[hd(&1), List.last(&1)])
    fields = String.split(rest)
    utime = fields |> Enum.at(11) |> String.to_integer()
    stime = fields |> Enum.at(12) |> String.to_integer()
    (utime + stime) * 1_000_000 / clk_tck()
  end

  defp clk_tck do
    case :persistent_term.get({__MODULE__, :clk_tck}, nil) do
      nil ->
        {out, 0} = System.cmd("getconf", ["CLK_TCK"])
        hz = out |> String.trim() |> String.to_integer()
        :persistent_term.put({__MODULE__, :clk_tck}, hz)
        hz

      hz ->
        hz
    end
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

  # A real NAMES request on this VM's epmd port (a bare connect makes epmd
  # log a partial packet).
  defp epmd_up?, do: match?({:ok, _}, :erl_epmd.names(~c"127.0.0.1"))
end
