defmodule DemoApp do
  @moduledoc """
  The application the demo kills over and over: the embedded Heirloom C node
  (started detached by `{Heirloom, ...}`) and the DataBackup server.
  """
  use Supervisor

  def start(cnode, table) do
    {:ok, pid} = Supervisor.start_link(__MODULE__, {cnode, table}, name: __MODULE__)
    Process.unlink(pid)
    :ok
  end

  @impl true
  def init({cnode, table}) do
    Supervisor.init([{Heirloom, node: cnode}, {DataBackup.Server, table: table}],
      strategy: :rest_for_one
    )
  end

  @doc "Rows i..j from the simulated slow source (a database, say)."
  def fetch_batch(i, j, delay_ms) do
    Process.sleep(delay_ms)
    for k <- i..j, do: {k, record(k)}
  end

  def record(k), do: %{id: k, name: "customer #{k}", balance: rem(k * 7919, 100_000)}

  @doc "Time in microseconds until `fun` returns a truthy value."
  def time_until(fun, start \\ System.monotonic_time(:microsecond)) do
    if fun.() do
      System.monotonic_time(:microsecond) - start
    else
      Process.sleep(1)
      time_until(fun, start)
    end
  end

  def safe_get(k) do
    try do
      DataBackup.Server.get_data(k) == {:ok, record(k)}
    catch
      :exit, _ -> false
    end
  end
end
