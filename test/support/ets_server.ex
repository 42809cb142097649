defmodule HeirloomTest.EtsServer do
  @moduledoc """
  The baseline a user would write without Heirloom: a GenServer on another
  BEAM node that owns an ETS table and answers lookups and inserts over
  distribution (the "DataMaster" of the seed). Benchmarks compare against it.
  """
  use GenServer

  def start(name), do: GenServer.start(__MODULE__, name, name: name)

  @impl true
  def init(name), do: {:ok, :ets.new(name, [:set, :public])}

  @impl true
  def handle_call({:lookup, k}, _from, t), do: {:reply, :ets.lookup(t, k), t}
  def handle_call({:insert, objs}, _from, t), do: {:reply, :ets.insert(t, objs), t}
end
