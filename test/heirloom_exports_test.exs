defmodule Heirloom.ExportsTest do
  # One API, two faces, and the whole of ets: `Heirloom` delegates every
  # public `:heirloom` function, `:heirloom` exports every ets function of
  # this OTP (so none is ever `undef`), and the ones not provided yet raise
  # badarg with the cause `not_supported` and a message that says so.
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

  defp not_yet_provided do
    [fas] = for {:not_yet_provided, fas} <- :heirloom.module_info(:attributes), do: fas
    fas
  end

  defp ets_name(fa), do: "ets:#{elem(fa, 0)}/#{elem(fa, 1)}"

  test "Heirloom delegates every public :heirloom function, and adds only documented helpers" do
    erlang = MapSet.new(exports(:heirloom))
    elixir = MapSet.new(exports(Heirloom) -- [__info__: 1])

    assert MapSet.difference(erlang, elixir) |> Enum.sort() == []
    assert MapSet.difference(elixir, erlang) |> Enum.sort() == Enum.sort(@elixir_only)
  end

  test "every ets function exists in :heirloom and Heirloom: implemented, or not_yet_provided" do
    missing = ets_api() -- exports(:heirloom)
    assert missing == [], "undef for #{Enum.map_join(missing, ", ", &ets_name/1)}"
    assert ets_api() -- exports(Heirloom) == []
    # No stale or duplicate entry in the list.
    assert not_yet_provided() -- ets_api() == []
    assert Enum.uniq(not_yet_provided()) == not_yet_provided()
  end

  test "the README's \"Not yet provided\" lists exactly the functions not provided yet" do
    readme = File.read!(Path.expand("../README.md", __DIR__))
    [_, section] = String.split(readme, "## Not yet provided\n", parts: 2)
    [section | _] = String.split(section, "\n## ", parts: 2)

    listed =
      for [_, name, arities] <- Regex.scan(~r/`([a-z_][a-z0-9_]*)\/(\d+(?:,\d+)*)`/, section),
          arity <- String.split(arities, ","),
          do: {String.to_atom(name), String.to_integer(arity)}

    assert Enum.sort(listed) == Enum.sort(not_yet_provided())
  end

  test "each function not provided yet raises badarg, cause not_supported, and erl_error says so" do
    for {f, a} = fa <- not_yet_provided() do
      args = List.duplicate(:heirloom_probe, a)

      {stack, formatted} =
        try do
          apply(:heirloom, f, args)
          flunk("#{ets_name(fa)} returned instead of raising")
        catch
          :error, :badarg ->
            {__STACKTRACE__, :erl_error.format_exception(:error, :badarg, __STACKTRACE__)}
        end

      # The top frame is the function itself, with its arguments, as in ets.
      assert [{:heirloom, ^f, ^args, info} | _] = stack
      assert info[:error_info] == %{module: :heirloom, cause: :not_supported}
      text = IO.chardata_to_string(formatted)
      assert text =~ "exception error: not supported"
      assert text =~ "in function  heirloom:#{f}/#{a}"
      assert text =~ "*** Heirloom does not provide #{ets_name(fa)} yet"
    end
  end

  test "the same functions on Heirloom raise ArgumentError with that message" do
    for {f, a} = fa <- not_yet_provided() do
      args = List.duplicate(:heirloom_probe, a)
      e = assert_raise ArgumentError, fn -> apply(Heirloom, f, args) end
      assert Exception.message(e) == "not supported: Heirloom does not provide #{ets_name(fa)} yet"

      # What a crash report prints.
      assert Exception.format(:error, e, []) =~
               "** (ArgumentError) not supported: Heirloom does not provide #{ets_name(fa)} yet"
    end
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
