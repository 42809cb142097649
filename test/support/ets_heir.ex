defmodule HeirloomTest.EtsHeir do
  @moduledoc """
  An heir written for plain :ets, with no knowledge of Heirloom: it reports
  every 'ETS-TRANSFER' it receives. Tests use the same module as heir of an
  :ets table and of a Heirloom table.
  """
  use GenServer

  def start_link(report_to), do: GenServer.start_link(__MODULE__, report_to)

  @impl true
  def init(report_to), do: {:ok, %{report_to: report_to, tables: []}}

  @impl true
  def handle_info({:"ETS-TRANSFER", tab, from, data}, state) do
    send(state.report_to, {:heir_got, self(), tab, from, data})
    {:noreply, %{state | tables: [tab | state.tables]}}
  end
end
