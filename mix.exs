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

  defp elixirc_paths(:test),
    do: ["lib", "test/support", "examples/data_backup", "examples/data_master"]

  defp elixirc_paths(_), do: ["lib"]
end

defmodule Mix.Tasks.Compile.HeirloomC do
  @moduledoc """
  Builds priv/heirloom_node and priv/heirloom_nif.so with `make all`, which only
  compiles (it never installs packages). The erts paths come from this VM, as
  elixir_make passes them, so make does not start erl to find them.
  """
  use Mix.Task.Compiler

  @impl true
  def run(_args) do
    ei = :code.lib_dir(:erl_interface) |> to_string()
    erts = Path.join([to_string(:code.root_dir()), "erts-#{:erlang.system_info(:version)}", "include"])

    env = [
      {"ERL_EI_INCLUDE_DIR", Path.join(ei, "include")},
      {"ERL_EI_LIBDIR", Path.join(ei, "lib")},
      {"ERTS_INCLUDE_DIR", erts}
    ]

    case System.cmd("make", ["--no-print-directory", "all"],
           env: env,
           into: IO.stream(:stdio, :line)
         ) do
      {_, 0} -> {:ok, []}
      {_, code} -> Mix.raise("make all failed with exit status #{code}")
    end
  end
end
