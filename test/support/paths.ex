defmodule HeirloomTest.Paths do
  @moduledoc """
  For suites that run the same case through the NIF and through the C node:
  one C node for the module, `Heirloom` pointed at it, and a switch between
  the two paths. `use HeirloomTest.Paths` adds the `setup_all` (the context
  gets `:node` and `:c`) and imports `use_path/2`.
  """

  import ExUnit.Assertions, only: [assert: 1]

  alias HeirloomTest.CNode

  defmacro __using__(_opts) do
    quote do
      import HeirloomTest.Paths, only: [use_path: 2]

      setup_all do
        HeirloomTest.Paths.start_cnode!()
      end
    end
  end

  @doc "Start the module's C node and point Heirloom at it; undone on exit."
  def start_cnode! do
    c = CNode.start()
    node = CNode.name(c)
    Heirloom.set_node(node)

    ExUnit.Callbacks.on_exit(fn ->
      Application.delete_env(:heirloom, :path)
      :heirloom.forget_path(node)
      if Process.alive?(c), do: GenServer.stop(c)
    end)

    %{node: node, c: c}
  end

  @doc "Make this VM's calls take `path` (`:nif` or `:cnode`) from now on."
  def use_path(path, node) do
    Application.put_env(:heirloom, :path, if(path == :nif, do: :auto, else: :cnode))
    :heirloom.forget_path(node)
    assert Heirloom.path() == path
  end
end
