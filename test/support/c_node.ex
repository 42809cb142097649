defmodule HeirloomTest.CNode do
  @moduledoc """
  A real `priv/heirloom_node` OS process for tests: unique name, this VM's
  cookie, a private store directory. The GenServer owns the port; when it
  stops, the C node is stopped by its OS pid (SIGTERM, then SIGKILL).
  """
  use GenServer

  defstruct [:name, :dir, :os_pid, :port, :extra_args, :waiters, lines: []]

  @doc """
  The C node binary: `HEIRLOOM_NODE` when set (`make mixtest-asan` points it
  at the sanitized build), else `priv/heirloom_node`. Peer VMs inherit the
  variable, and `:heirloom_embedded` reads it too, so a C node an app VM
  starts is the same binary.
  """
  def exe do
    case System.get_env("HEIRLOOM_NODE") do
      nil -> Path.expand("../../priv/heirloom_node", __DIR__)
      path -> Path.expand(path)
    end
  end

  @doc """
  Options: `:name` (default unique), `:dir` (default a fresh temp dir),
  `:args` (extra command-line arguments).
  """
  def start(opts \\ []) do
    {:ok, pid} = GenServer.start(__MODULE__, opts)
    pid
  end

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts)

  def info(pid), do: GenServer.call(pid, :info)
  def name(pid), do: info(pid).name
  def os_pid(pid), do: info(pid).os_pid
  def dir(pid), do: info(pid).dir

  @doc "kill -9 the C node and wait until the OS has reaped it."
  def kill9(pid), do: GenServer.call(pid, {:signal, "KILL"}, 10_000)

  @doc "Start a C node again with the same name and directory (after a kill)."
  def restart(pid), do: GenServer.call(pid, :restart, 15_000)

  @doc "SIGTERM, wait for exit; returns the exit status."
  def stop(pid) do
    status = GenServer.call(pid, {:signal, "TERM"}, 10_000)
    GenServer.stop(pid)
    status
  end

  @impl true
  def init(opts) do
    Process.flag(:trap_exit, true)

    st = %__MODULE__{
      name: opts[:name] || HeirloomTest.unique_node("hl"),
      dir: opts[:dir] || HeirloomTest.tmp_dir("store"),
      extra_args: opts[:args] || []
    }

    case launch(st) do
      {:ok, st} -> {:ok, st}
      {:error, why} -> {:stop, why}
    end
  end

  defp launch(st) do
    # --exit-with-stdin: if this VM dies hard (kill -9, a crash), its
    # port's pipe closes and the C node stops instead of living on.
    args =
      ["--name", "#{st.name}", "--cookie", "#{Node.get_cookie()}", "--dir", st.dir, "--exit-with-stdin"] ++
        st.extra_args

    port =
      Port.open({:spawn_executable, exe()}, [
        :binary,
        :exit_status,
        :stderr_to_stdout,
        {:line, 4096},
        args: args
      ])

    receive do
      {^port, {:data, {:eol, "heirloom_node ready " <> rest}}} ->
        [_, os_pid] = Regex.run(~r/pid=(\d+)/, rest)
        {:ok, %{st | port: port, os_pid: String.to_integer(os_pid)}}

      {^port, {:exit_status, code}} ->
        {:error, {:c_node_exited, code}}
    after
      10_000 -> {:error, :c_node_not_ready}
    end
  end

  @impl true
  def handle_call(:info, _from, st), do: {:reply, st, st}

  def handle_call({:signal, sig}, _from, %{port: nil} = st) do
    _ = sig
    {:reply, :not_running, st}
  end

  def handle_call({:signal, sig}, _from, st) do
    HeirloomTest.kill(st.os_pid, sig)
    port = st.port

    receive do
      {^port, {:exit_status, code}} -> {:reply, code, %{st | port: nil}}
    after
      8_000 -> {:reply, :timeout, st}
    end
  end

  def handle_call(:restart, _from, st) do
    case launch(st) do
      {:ok, st} -> {:reply, :ok, st}
      {:error, why} -> {:reply, {:error, why}, st}
    end
  end

  @impl true
  def handle_info({port, {:data, {_, line}}}, %{port: port} = st) do
    if System.get_env("HEIRLOOM_TEST_VERBOSE"), do: IO.puts("[c node] #{line}")
    {:noreply, %{st | lines: Enum.take([line | st.lines], 50)}}
  end

  def handle_info({port, {:exit_status, _}}, %{port: port} = st), do: {:noreply, %{st | port: nil}}
  def handle_info(_, st), do: {:noreply, st}

  @impl true
  def terminate(_reason, %{port: nil}), do: :ok

  def terminate(_reason, st) do
    HeirloomTest.kill(st.os_pid, "TERM")
    port = st.port

    receive do
      {^port, {:exit_status, 0}} ->
        :ok

      # A clean SIGTERM exit is 0: anything else is worth a line (under
      # make mixtest-asan, the report of this pid is in build/san/reports).
      {^port, {:exit_status, code}} ->
        IO.puts(:stderr, "C node #{st.name} (OS pid #{st.os_pid}) exited with status #{code} on SIGTERM")
    after
      3_000 -> HeirloomTest.kill(st.os_pid, "KILL")
    end
  end
end
