defmodule HeirloomTest.AppVm do
  @moduledoc """
  What runs inside an application VM in the embedded-default tests: the
  `{Heirloom, opts}` child in a supervisor, and a long-lived table owner.
  """

  @doc "Start `{Heirloom, opts}` under a supervisor that outlives the caller."
  def start(opts) do
    {:ok, pid} = Supervisor.start_link([{Heirloom, opts}], strategy: :one_for_one)
    Process.unlink(pid)
    :ok
  end

  @doc """
  The recommended tree: `{Heirloom, opts}` first, then a server using its
  table, under `rest_for_one`, so the server is restarted (and claims again)
  whenever the C node connection is lost.
  """
  def start_with_server(opts, table) do
    children = [{Heirloom, opts}, {DataBackup.Server, table: table}]
    {:ok, pid} = Supervisor.start_link(children, strategy: :rest_for_one)
    Process.unlink(pid)
    :ok
  end

  @doc "Whether DataBackup.Server is alive and owns `table`."
  def server_owns?(table) do
    server = Process.whereis(DataBackup.Server)
    server != nil and Heirloom.info(table, :owner) == server
  rescue
    ArgumentError -> false
  catch
    :exit, _ -> false
  end

  @doc "Spawn a process that claims `table`, inserts rows 1..n if it is empty, and stays."
  def claim_owner(table, n, report_to) do
    spawn(fn ->
      reply = Heirloom.claim(table, [:public])

      if n > 0 and Heirloom.info(table, :size) == 0 do
        for c <- Enum.chunk_every(1..n, 5_000), do: Heirloom.insert(table, Enum.map(c, &{&1, &1 * 2}))
      end

      send(report_to, {:claimed, self(), reply, Heirloom.info(table, :size)})
      receive do: (:never -> :ok)
    end)
  end
end
