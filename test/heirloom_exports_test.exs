defmodule Heirloom.ExportsTest do
  # One API, two faces, and the whole of ets: `Heirloom` delegates every
  # public `:heirloom` function, `:heirloom` exports every ets function of
  # this OTP, and errors name the function and argument as ets's do.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  # Elixir-only helpers of `Heirloom`, each documented there.
  @elixir_only [child_spec: 1]

  # ets's own internals (undocumented; ets:all/0 and delete_all_objects/1 use
  # them): not part of the API a user moves from.
  defp ets_api do
    for {f, a} <- :ets.module_info(:exports),
        f != :module_info,
        not String.starts_with?(Atom.to_string(f), "internal_"),
        do: {f, a}
  end

  defp exports(module), do: module.module_info(:exports) -- [module_info: 0, module_info: 1]

  defp ets_name(fa), do: "ets:#{elem(fa, 0)}/#{elem(fa, 1)}"

  test "Heirloom delegates every public :heirloom function, and adds only documented helpers" do
    erlang = MapSet.new(exports(:heirloom))
    elixir = MapSet.new(exports(Heirloom) -- [__info__: 1])

    assert MapSet.difference(erlang, elixir) |> Enum.sort() == []
    assert MapSet.difference(elixir, erlang) |> Enum.sort() == Enum.sort(@elixir_only)
  end

  test "every ets function of this OTP exists in :heirloom and Heirloom" do
    missing = ets_api() -- exports(:heirloom)
    assert missing == [], "undef for #{Enum.map_join(missing, ", ", &ets_name/1)}"
    assert ets_api() -- exports(Heirloom) == []
  end

  describe "errors of implemented functions" do
    setup do
      node = CNode.name(start_supervised!({CNode, []}))
      Heirloom.set_node(node)
      on_exit(fn -> :heirloom.forget_path(node) end)
      %{node: node}
    end

    # Both paths raise from the API function's own frame, with the cause.
    for path <- [:nif, :cnode] do
      test "name the function and the argument, like ets (#{path} path)", %{node: node} do
        Application.put_env(:heirloom, :path, if(unquote(path) == :nif, do: :auto, else: :cnode))
        on_exit(fn -> Application.delete_env(:heirloom, :path) end)
        :heirloom.forget_path(node)
        assert Heirloom.path() == unquote(path)

        try do
          :heirloom.lookup(:no_such_table, 1)
          flunk("lookup of a missing table returned")
        catch
          :error, :badarg ->
            assert [{:heirloom, :lookup, [:no_such_table, 1], info} | _] = __STACKTRACE__
            assert info[:error_info] == %{module: :heirloom, cause: :no_table}
            text = :erl_error.format_exception(:error, :badarg, __STACKTRACE__) |> IO.chardata_to_string()
            assert text =~ "in function  heirloom:lookup/2"

            assert text =~
                     "*** argument 1: the table identifier does not refer to an existing Heirloom table"
        end

        e = assert_raise ArgumentError, fn -> Heirloom.lookup(:no_such_table, 1) end

        assert Exception.message(e) =~
                 "* 1st argument: the table identifier does not refer to an existing Heirloom table"
      end
    end

    test "something not supported says so" do
      t = Heirloom.new(:ordered, [:ordered_set])
      long = :binary.copy("k", 600)
      e = assert_raise ArgumentError, fn -> Heirloom.insert(t, {long, 1}) end
      assert Exception.message(e) =~ "Heirloom does not support"
    end

    test "a name taken points at the name" do
      t = :"taken_#{System.unique_integer([:positive])}"
      ^t = Heirloom.new(t, [:named_table])
      e = assert_raise ArgumentError, fn -> Heirloom.new(t, [:named_table]) end
      assert Exception.message(e) =~ "* 1st argument: a table with that name already exists"
    end
  end
end
