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

  @doc "Fetch rows i..j from the slow source and hand them to the server."
  def load_batch(i, j, delay_ms), do: DataBackup.Server.insert_many(fetch_batch(i, j, delay_ms))

  @doc "n random lookups through the server: {all_correct?, microseconds}."
  def random_lookups(n, rows) do
    t = System.monotonic_time(:microsecond)
    ok = Enum.all?(1..n, fn _ -> safe_get(:rand.uniform(rows)) end)
    {ok, System.monotonic_time(:microsecond) - t}
  end

  @doc "Kill the server; microseconds until its successor serves row `key`."
  def kill_server(key) do
    old = Process.whereis(DataBackup.Server)
    t = System.monotonic_time(:microsecond)
    Process.exit(old, :kill)
    time_until(fn -> Process.whereis(DataBackup.Server) not in [nil, old] and safe_get(key) end, t)
  end

  @doc "The server owns the table again and serves row `key`."
  def owned_and_served(table, key) do
    try do
      Heirloom.info(table, :owner) == Process.whereis(DataBackup.Server) and safe_get(key)
    rescue
      ArgumentError -> false
    catch
      :exit, _ -> false
    end
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
