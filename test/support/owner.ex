defmodule HeirloomTest.Owner do
  @moduledoc """
  A table owner that runs no Heirloom code: it talks to the C node with plain
  :gen_server.call only, so the C node cannot rely on any help from it. Tests
  start it locally or on a peer VM, then make it die in various ways.
  """

  @doc """
  Spawn an owner that creates `tab` with `opts` on C node `cnode`, inserts
  `rows`, reports `{:owner_ready, pid, reply}` to `report_to`, then waits for
  orders: `{:exit, reason}`, `:crash`, or `{:call, from, request}`.
  """
  def start(cnode, tab, opts, rows, report_to) do
    spawn(fn ->
      reply = :gen_server.call({:heirloom, cnode}, {:new, tab, opts})
      true = :gen_server.call({:heirloom, cnode}, {:insert, tab, rows})
      send(report_to, {:owner_ready, self(), reply})
      loop(cnode)
    end)
  end

  defp loop(cnode) do
    receive do
      {:exit, reason} ->
        exit(reason)

      :crash ->
        raise "owner crashed on purpose"

      {:call, from, request} ->
        send(from, {:owner_reply, :gen_server.call({:heirloom, cnode}, request)})
        loop(cnode)
    end
  end

  @doc "Ask an owner to make a call as itself; returns the C node's reply."
  def call(owner, request) do
    send(owner, {:call, self(), request})

    receive do
      {:owner_reply, r} -> r
    after
      5_000 -> raise "owner did not answer"
    end
  end
end
