defmodule DataBackup.DataMaster do
  @moduledoc """
  The seed's DataMaster, written for ETS, with `:ets` replaced by `Heirloom`
  and nothing else changed. It creates the table with itself as heir,
  gives it to whoever asks (`get_ets/0`), and takes it back when that
  process dies ('ETS-TRANSFER').

  With ETS, the table dies with the DataMaster. With Heirloom it does not:
  when both the DataMaster and the Server die (their VM is killed, say),
  the C node holds the table, and the restarted DataMaster's `new/2` in
  `init/1` takes it over, every row with it (`info(:data, :adopted)` is then
  `true`). With `{:heir, :none}` instead, the table dies as in ETS.
  """
  use GenServer

  def start_link(opts \\ []), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  @doc "Give the table to the caller; its name, or nil when it was given away already."
  def get_ets, do: GenServer.call(__MODULE__, :get_ets)

  @impl true
  def init(_opts) do
    table = Heirloom.new(:data, [:set, :protected, :named_table, {:heir, self(), nil}])
    {:ok, table}
  end

  @impl true
  def handle_call(:get_ets, _from, nil), do: {:reply, nil, nil}

  def handle_call(:get_ets, {pid, _tag}, table) do
    Heirloom.give_away(table, pid, nil)
    {:reply, table, nil}
  end

  @impl true
  def handle_info({:"ETS-TRANSFER", :data, _from, _data}, _state), do: {:noreply, :data}

  def handle_info({:"ETS-TRANSFER", table, _from, _data}, state) do
    Heirloom.delete(table)
    {:noreply, state}
  end
end

defmodule DataBackup.DataMaster.Server do
  @moduledoc "The seed's Server: gets the table from the DataMaster in `init/1`, then uses it."
  use GenServer

  def start_link(opts \\ []), do: GenServer.start_link(__MODULE__, opts, name: __MODULE__)

  def insert_data(key, value), do: GenServer.call(__MODULE__, {:insert, key, value})
  def get_data(key), do: GenServer.call(__MODULE__, {:get, key})

  @impl true
  def init(_opts), do: {:ok, DataBackup.DataMaster.get_ets()}

  @impl true
  def handle_call({:insert, key, value}, _from, table),
    do: {:reply, Heirloom.insert(table, {key, value}), table}

  def handle_call({:get, key}, _from, table) do
    case Heirloom.lookup(table, key) do
      [{^key, value}] -> {:reply, {:ok, value}, table}
      [] -> {:reply, :not_found, table}
    end
  end

  @impl true
  def handle_info({:"ETS-TRANSFER", _table, _from, _data}, table), do: {:noreply, table}
end

defmodule DataBackup.DataMaster.App do
  @moduledoc """
  The two under one supervisor, DataMaster first. `rest_for_one`: a new
  DataMaster means a new Server, which gets the table from it again.
  """
  use Supervisor

  def start_link(opts \\ []), do: Supervisor.start_link(__MODULE__, opts, name: __MODULE__)

  @impl true
  def init(_opts) do
    children = [DataBackup.DataMaster, DataBackup.DataMaster.Server]
    Supervisor.init(children, strategy: :rest_for_one)
  end
end
