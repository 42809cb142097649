defmodule HeirloomTest.DataMasterVm do
  @moduledoc """
  What runs inside a peer VM in the DataMaster whole-app tests: the seed's
  app (examples/data_master) pointed at a C node, unlinked from the caller
  so it lives until its VM dies.
  """
  alias DataBackup.DataMaster.Server

  @doc "Point Heirloom at `cnode` and start the app; returns the pids."
  def start(cnode) do
    # Loaded first: set_env before a load would be overwritten by the .app file.
    _ = Application.load(:heirloom)
    Heirloom.set_node(cnode)
    {:ok, sup} = DataBackup.DataMaster.App.start_link()
    Process.unlink(sup)
    %{dm: Process.whereis(DataBackup.DataMaster), server: Process.whereis(Server)}
  end

  @doc "Insert `{i, value(i)}` for every i through the Server."
  def insert(range), do: Enum.all?(range, &(Server.insert_data(&1, value(&1)) == true))

  @doc "The keys in `range` the Server does not serve with their value."
  def missing(range), do: Enum.reject(range, &(Server.get_data(&1) == {:ok, value(&1)}))

  def value(i), do: "row #{i}"
end
