defmodule Heirloom.PlainErlTest do
  # The acceptance case: a plain `erl` node with no Heirloom code loaded
  # uses the C node with gen_server:call and gets ETS's answers.
  use ExUnit.Case, async: false
  # Slow: starts a whole erl VM (mix test --include slow; make test runs it).
  @moduletag :slow

  alias HeirloomTest.CNode

  test "a plain erl shell creates, inserts and looks up like ETS" do
    c = start_supervised!({CNode, []})
    node = CNode.name(c)
    shell = HeirloomTest.unique_node("plain")

    script = """
    N = '#{node}',
    R1 = gen_server:call({heirloom, N}, {new, t, [set, named_table]}),
    R2 = gen_server:call({heirloom, N}, {insert, t, {1, <<"one">>}}),
    R3 = gen_server:call({heirloom, N}, {lookup, t, 1}),
    E = ets:new(t, [set, named_table]),
    E2 = ets:insert(t, {1, <<"one">>}),
    E3 = ets:lookup(t, 1),
    io:format("~s~n", [base64:encode(term_to_binary({{R1, R2, R3}, {E, E2, E3}}))]),
    halt().
    """

    {out, 0} =
      System.cmd("erl", [
        "-name",
        "#{shell}",
        "-setcookie",
        "#{Node.get_cookie()}",
        "-noshell",
        "-eval",
        script
      ])

    {heirloom, ets} = out |> String.trim() |> Base.decode64!() |> :erlang.binary_to_term()
    assert heirloom == ets
    assert heirloom == {:t, true, [{1, "one"}]}
  end
end
