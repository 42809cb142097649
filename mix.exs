defmodule Heirloom.MixProject do
  use Mix.Project

  # The version lives once, in src/heirloom.app.src (read here, as telemetry does).
  @version (case :file.consult(~c"src/heirloom.app.src") do
              {:ok, [{:application, :heirloom, props}]} -> to_string(props[:vsn])
            end)

  def project do
    [
      app: :heirloom,
      version: @version,
      elixir: "~> 1.14",
      compilers: [:heirloom_c] ++ Mix.compilers(),
      elixirc_paths: elixirc_paths(Mix.env()),
      erlc_paths: ["src"],
      start_permanent: Mix.env() == :prod,
      deps: [],
      test_coverage: [ignore_modules: []]
    ]
  end

  def application do
    [extra_applications: [:logger]]
  end

  defp elixirc_paths(:test), do: ["lib", "test/support", "examples/data_backup"]
  defp elixirc_paths(_), do: ["lib"]
end

defmodule Mix.Tasks.Compile.HeirloomC do
  @moduledoc "Builds priv/heirloom_node and priv/heirloom_nif.so with make."
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    case System.cmd("make", ["--no-print-directory", "all"], into: IO.stream(:stdio, :line)) do
      {_, 0} -> {:ok, []}
      {_, code} -> Mix.raise("make all failed with exit status #{code}")
    end
  end
end
