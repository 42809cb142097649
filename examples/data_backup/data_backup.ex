defmodule DataBackup do
  @moduledoc """
  The seed's scenario written against Heirloom: a Supervisor and a Server
  that claims its table in `init/1`. When the Server crashes, the Supervisor
  restarts it and the new Server claims the same table, with every row,
  instead of reloading it.
  """
  use Supervisor

  def start_link(opts \\ []), do: Supervisor.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(opts), do: Supervisor.init([{DataBackup.Server, opts}], strategy: :one_for_one)
end

defmodule DataBackup.Server do
  @moduledoc "Owns the table while it lives; the C node keeps it while it does not."
  use GenServer

  def start_link(opts), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def insert_data(key, value), do: GenServer.call(__MODULE__, {:insert, key, value})
  def insert_many(rows), do: GenServer.call(__MODULE__, {:insert_many, rows}, 60_000)
  def get_data(key), do: GenServer.call(__MODULE__, {:get, key})

  @impl true
  def init(opts) do
    table = Keyword.get(opts, :table, :data_backup)
    # First start: creates the table. After a crash: takes it back, rows and all.
    {:ok, ^table} = Heirloom.claim(table, [:set, :protected])
    {:ok, table}
  end

  @impl true
  def handle_call({:insert, key, value}, _from, table),
    do: {:reply, Heirloom.insert(table, {key, value}), table}

  def handle_call({:insert_many, rows}, _from, table),
    do: {:reply, Heirloom.insert(table, rows), table}

  def handle_call({:get, key}, _from, table) do
    case Heirloom.lookup(table, key) do
      [{^key, value}] -> {:reply, {:ok, value}, table}
      [] -> {:reply, :not_found, table}
    end
  end
end
