defmodule Heirloom.FloatTest do
  # On OTP 25, 0.0 =:= -0.0: a set table has one key for both, as ETS does,
  # but every object comes back exactly as it went in, -0.0 included. `==`
  # cannot see the difference, so results are compared as term_to_binary,
  # through the NIF and through the C node, against :ets.
  use ExUnit.Case, async: false

  use HeirloomTest.Paths

  # Built at run time: no compiler can fold it into 0.0.
  defp neg_zero, do: :erlang.binary_to_term(<<131, 70, 128, 0::56>>)

  defp cases do
    nz = neg_zero()
    long = :binary.copy("k", 600)

    [
      {"insert {-0.0, -0.0}", fn m, t -> m.insert(t, {nz, nz}) end},
      {"lookup 0.0", fn m, t -> m.lookup(t, 0.0) end},
      {"lookup -0.0", fn m, t -> m.lookup(t, nz) end},
      {"member 0.0", fn m, t -> m.member(t, 0.0) end},
      {"insert_new {0.0, x} taken", fn m, t -> m.insert_new(t, {0.0, :x}) end},
      {"insert {0.0, pos} replaces", fn m, t -> m.insert(t, {0.0, :pos}) end},
      {"lookup -0.0 again", fn m, t -> m.lookup(t, nz) end},
      {"insert {-0.0, neg} replaces", fn m, t -> m.insert(t, {nz, :neg}) end},
      {"lookup 0.0 again", fn m, t -> m.lookup(t, 0.0) end},
      {"insert {k, [-0.0]}", fn m, t -> m.insert(t, {:k, [nz], %{nz => {nz}}}) end},
      {"lookup k", fn m, t -> m.lookup(t, :k) end},
      {"insert {{a, -0.0}, ...}", fn m, t -> m.insert(t, [{{:a, nz}, 1}, {[nz, 1.0], nz}]) end},
      {"lookup {a, 0.0}", fn m, t -> m.lookup(t, {:a, 0.0}) end},
      {"lookup {a, -0.0}", fn m, t -> m.lookup(t, {:a, nz}) end},
      {"lookup [0.0, 1.0]", fn m, t -> m.lookup(t, [0.0, 1.0]) end},
      {"member {a, 0.0}", fn m, t -> m.member(t, {:a, 0.0}) end},
      {"delete {a, 0.0}", fn m, t -> m.delete(t, {:a, 0.0}) end},
      {"lookup {a, -0.0} deleted", fn m, t -> m.lookup(t, {:a, nz}) end},
      {"long key with -0.0", fn m, t -> m.insert(t, {{long, nz}, :long}) end},
      {"lookup long key 0.0", fn m, t -> m.lookup(t, {long, 0.0}) end},
      {"insert long key 0.0", fn m, t -> m.insert(t, {{long, 0.0}, :long2}) end},
      {"lookup long key -0.0", fn m, t -> m.lookup(t, {long, nz}) end},
      {"size", fn m, t -> m.info(t, :size) end},
      {"all objects", fn m, t -> Enum.sort_by(m.tab2list(t), &:erlang.term_to_binary/1) end}
    ]
  end

  defp run_all(api, t), do: Enum.map(cases(), fn {label, f} -> {label, f.(api, t)} end)

  defp same!(what, xs, ys) do
    for {{label, x}, {label, y}} <- Enum.zip(xs, ys) do
      assert :erlang.term_to_binary(x) == :erlang.term_to_binary(y),
             "#{label}: #{what} #{inspect(x)} vs #{inspect(y)}"
    end
  end

  test "-0.0 is one key with 0.0, and objects keep it, on both paths as in ETS", %{node: node} do
    e = :ets.new(:float_ets, [])
    via_ets = run_all(:ets, e)
    :ets.delete(e)
    # the cases do look at -0.0: ETS hands it back
    assert {"lookup 0.0 again", [{z, :neg}]} = Enum.at(via_ets, 8)
    assert :erlang.term_to_binary(z) == :erlang.term_to_binary(neg_zero())

    for path <- [:nif, :cnode] do
      use_path(path, node)
      t = Heirloom.new(:"float_#{path}_#{System.unique_integer([:positive])}", [:named_table])
      same!("#{path} vs ETS", run_all(Heirloom, t), via_ets)
    end
  end

  test "what one path writes with -0.0 the other reads back unchanged", %{node: node} do
    nz = neg_zero()

    for {writer, reader} <- [{:nif, :cnode}, {:cnode, :nif}] do
      use_path(writer, node)

      t =
        Heirloom.new(:"float_x_#{writer}_#{System.unique_integer([:positive])}", [
          :named_table,
          :public
        ])

      assert Heirloom.insert(t, {{:a, nz}, [nz]})
      use_path(reader, node)
      [obj] = Heirloom.lookup(t, {:a, 0.0})
      assert :erlang.term_to_binary(obj) == :erlang.term_to_binary({{:a, nz}, [nz]})
    end
  end

  test "a gift of -0.0 arrives as -0.0", %{node: node} do
    use_path(:cnode, node)
    nz = neg_zero()
    t = Heirloom.new(:"float_gift_#{System.unique_integer([:positive])}", [:named_table])
    me = self()

    receiver =
      spawn(fn ->
        receive do: ({:"ETS-TRANSFER", ^t, ^me, gift} -> send(me, {:gift, gift}))
      end)

    assert Heirloom.give_away(t, receiver, {nz})
    assert_receive {:gift, gift}, 2_000
    assert :erlang.term_to_binary(gift) == :erlang.term_to_binary({nz})
  end
end
