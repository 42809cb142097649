defmodule HeirloomTest.Soak do
  @moduledoc """
  What the kill soaks (test/heirloom_soak_test.exs, heirloom_nif_soak_test.exs)
  share: how long and with which seed they run (SOAK_SECONDS, SOAK_SEED), and
  reading a writer's highest acknowledged row off the mailbox.
  """

  def seconds, do: String.to_integer(System.get_env("SOAK_SECONDS", "60"))
  def seed, do: String.to_integer(System.get_env("SOAK_SEED", "#{:erlang.unique_integer([:positive])}"))

  @doc "The highest `{:acked, pid, i}` waiting (100 ms of quiet ends it), or `last`."
  def last_ack(pid, last) do
    receive do
      {:acked, ^pid, i} -> last_ack(pid, max(i, last))
    after
      100 -> last
    end
  end
end
