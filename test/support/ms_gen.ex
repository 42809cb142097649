defmodule HeirloomTest.MsGen do
  import Bitwise

  @moduledoc """
  Seeded random objects and match specifications for the differential tests
  (test/heirloom_select_test.exs): heads with variables, '_', nested tuples,
  lists and maps; guards and bodies from every function ETS allows, with
  wrong arities, unbound variables and malformed clauses mixed in so that
  refusals are compared too. Uses the process's :rand state.
  """

  @atoms [:a, :b, :c, true, false, :_, :"$1x"]

  defp pick(l), do: Enum.at(l, :rand.uniform(length(l)) - 1)
  defp chance(p), do: :rand.uniform() < p

  def value(depth \\ 2) do
    case :rand.uniform(if depth > 0, do: 14, else: 9) do
      1 -> :rand.uniform(40) - 10
      2 -> :rand.uniform(300)
      3 -> pick([1.5, -2.0, 0.0, -0.0, 3.0, 1.0e10])
      4 -> pick(@atoms)
      5 -> pick(["", "ab", <<1, 2, 3>>, <<255>>])
      6 -> pick([[], ~c"ab", [1, 2, 3]])
      7 -> pick([self(), make_ref()])
      8 -> pick([1 <<< 70, -(1 <<< 64)])
      9 -> pick([<<1::3>>, 7])
      10 -> List.to_tuple(for _ <- 1..:rand.uniform(3), do: value(depth - 1))
      11 -> for _ <- 1..:rand.uniform(3), do: value(depth - 1)
      12 -> %{pick([:a, :b, 1]) => value(depth - 1), :x => value(depth - 1)}
      13 -> [value(depth - 1) | value(depth - 1)]
      _ -> {}
    end
  end

  defp zero_float?(f) when is_float(f), do: f == 0.0
  defp zero_float?(t) when is_tuple(t), do: zero_float?(Tuple.to_list(t))
  defp zero_float?([h | t]), do: zero_float?(h) or zero_float?(t)
  defp zero_float?(%{} = m), do: zero_float?(Map.to_list(m))
  defp zero_float?(_), do: false

  # Keys from a small space of tuples and lists that share prefixes, so
  # that a partly bound key pattern ({a, '_'}, [b | '$1']) reaches several
  # keys and an ordered_set's key ranges are exercised; integers next to
  # equal floats (1 and 1.0, one key in an ordered_set).
  @katoms [:a, :b, :c]
  defp skey() do
    case :rand.uniform(7) do
      1 -> {pick(@katoms), :rand.uniform(4)}
      2 -> {pick(@katoms), {pick(@katoms), :rand.uniform(3)}}
      3 -> [pick(@katoms) | pick([[], [:rand.uniform(3)], :x, [pick(@katoms), 2]])]
      4 -> {pick(@katoms), :rand.uniform(3), pick([1.5, :z, %{x: 1}])}
      5 -> pick([:rand.uniform(4) * 1.0, :rand.uniform(4)])
      6 -> {:rand.uniform(3), pick(@katoms)}
      _ -> {pick(@katoms), pick([%{x: :rand.uniform(2)}, %{x: 1, a: :rand.uniform(2)}])}
    end
  end

  def objects(n) do
    # No 0.0 or -0.0 in keys: OTP 25's ETS replaces a -0.0-keyed object
    # with a 0.0-keyed one (=:= there) in select_replace, leaving it in the
    # wrong hash bucket, and a later select can crash the VM.
    keys =
      for(_ <- 1..(n * 2), do: pick([:rand.uniform(30), pick(@atoms), value(1), skey(), skey()]))
      |> Enum.reject(&zero_float?/1)
      |> Enum.uniq()

    keys
    |> Enum.take(n)
    |> Enum.map(fn k -> List.to_tuple([k | for(_ <- 1..(1 + :rand.uniform(3)), do: value())]) end)
  end

  defp var(), do: :"$#{:rand.uniform(4)}"

  def pattern(depth \\ 2) do
    case :rand.uniform(if depth > 0, do: 9, else: 4) do
      1 -> :_
      2 -> var()
      3 -> var()
      4 -> value(0)
      5 -> List.to_tuple(for _ <- 1..:rand.uniform(3), do: pattern(depth - 1))
      6 -> for _ <- 1..:rand.uniform(2), do: pattern(depth - 1)
      7 -> [pattern(depth - 1) | pattern(depth - 1)]
      8 -> %{pick([:a, :b, :x, 1]) => pattern(depth - 1)}
      _ -> value(1)
    end
  end

  def head(objs) do
    case :rand.uniform(12) do
      1 -> :_
      2 -> :"$1"
      n when n <= 4 -> List.to_tuple([pattern(1) | for(_ <- 1..:rand.uniform(4), do: pattern())])
      n when n <= 8 -> keyed_head(objs)
      _ -> pick(objs) |> Tuple.to_list() |> Enum.map(&like(&1, 2)) |> List.to_tuple()
    end
  end

  # A head whose key (element 1) is bound or partly bound, as ETS looks up
  # or narrows to a key range: an object's key, a prefix of it, or a key not
  # in the table; the other elements loosely like the object's.
  defp keyed_head(objs) do
    [k | rest] = pick(objs) |> Tuple.to_list()
    k = if chance(0.15), do: skey(), else: k
    List.to_tuple([key_pattern(k) | Enum.map(rest, &if(chance(0.6), do: :_, else: like(&1, 1)))])
  end

  defp key_pattern(k) do
    case :rand.uniform(6) do
      n when n <= 2 -> k
      3 -> flip_numbers(k)
      4 -> shrink_maps(k)
      _ -> prefix(k)
    end
  end

  # Still bound, but a map pattern that also matches the larger maps, which
  # sort elsewhere: ETS only finds them inside the key range it walks.
  defp shrink_maps(%{} = m) when map_size(m) > 1, do: Map.new([Enum.random(m)])
  defp shrink_maps(t) when is_tuple(t), do: t |> Tuple.to_list() |> Enum.map(&shrink_maps/1) |> List.to_tuple()
  defp shrink_maps([h | t]), do: [shrink_maps(h) | shrink_maps(t)]
  defp shrink_maps(x), do: x

  # Bound up to some element, a wildcard there (and anything after it).
  defp prefix(t) when is_tuple(t) and tuple_size(t) > 0 do
    l = Tuple.to_list(t)
    i = :rand.uniform(length(l)) - 1
    {bound, [at | after_]} = Enum.split(l, i)
    at = if is_tuple(at) or is_list(at), do: pick([prefix(at), wild()]), else: wild()
    List.to_tuple(bound ++ [at | Enum.map(after_, &pick([&1, wild()]))])
  end

  defp prefix([h | t]), do: pick([[h | wild()], [prefix(h) | t], [h | prefix(t)], [wild() | t]])
  defp prefix(_), do: wild()

  defp wild(), do: pick([:_, var()])

  # 1 and 1.0 are one key in an ordered_set but not the same pattern.
  defp flip_numbers(i) when is_integer(i) and abs(i) < 1000, do: i * 1.0
  defp flip_numbers(f) when is_float(f) and f == trunc(f) and f != 0, do: trunc(f)
  defp flip_numbers(t) when is_tuple(t), do: t |> Tuple.to_list() |> Enum.map(&flip_numbers/1) |> List.to_tuple()
  defp flip_numbers([h | t]), do: [flip_numbers(h) | flip_numbers(t)]
  defp flip_numbers(x), do: x

  # A pattern that the value v (an object, mostly) matches, or nearly.
  defp like(v, depth) do
    case :rand.uniform(10) do
      n when n <= 3 ->
        :_

      n when n <= 6 ->
        var()

      7 ->
        v

      _ when depth > 0 and is_tuple(v) ->
        v |> Tuple.to_list() |> Enum.map(&like(&1, depth - 1)) |> List.to_tuple()

      _ when depth > 0 and is_list(v) and v != [] ->
        [like(hd(v), depth - 1) | like(tl(v), depth - 1)]

      _ when depth > 0 and is_map(v) and map_size(v) > 0 ->
        {k, x} = pick(Map.to_list(v))
        %{k => like(x, depth - 1)}

      _ ->
        pattern(0)
    end
  end

  defp vars_of(t) when is_atom(t) do
    s = Atom.to_string(t)
    if Regex.match?(~r/^\$(0|[1-9][0-9]*)$/, s), do: [t], else: []
  end

  defp vars_of(t) when is_tuple(t), do: vars_of(Tuple.to_list(t))
  defp vars_of([h | t]), do: vars_of(h) ++ vars_of(t)
  defp vars_of(%{} = m), do: vars_of(Map.values(m))
  defp vars_of(_), do: []

  @fns [
    {:is_atom, 1},
    {:is_float, 1},
    {:is_integer, 1},
    {:is_list, 1},
    {:is_number, 1},
    {:is_pid, 1},
    {:is_port, 1},
    {:is_reference, 1},
    {:is_tuple, 1},
    {:is_map, 1},
    {:is_binary, 1},
    {:is_bitstring, 1},
    {:is_boolean, 1},
    {:is_function, 1},
    {:is_record, 3},
    {:is_map_key, 2},
    {:map_get, 2},
    {:map_size, 1},
    {:abs, 1},
    {:element, 2},
    {:hd, 1},
    {:tl, 1},
    {:length, 1},
    {:node, 0},
    {:node, 1},
    {:round, 1},
    {:trunc, 1},
    {:float, 1},
    {:size, 1},
    {:bit_size, 1},
    {:byte_size, 1},
    {:tuple_size, 1},
    {:binary_part, 3},
    {:binary_part, 2},
    {:+, 2},
    {:+, 1},
    {:-, 2},
    {:-, 1},
    {:*, 2},
    {:/, 2},
    {:div, 2},
    {:rem, 2},
    {:band, 2},
    {:bor, 2},
    {:bxor, 2},
    {:bnot, 1},
    {:bsl, 2},
    {:bsr, 2},
    {:>, 2},
    {:>=, 2},
    {:<, 2},
    {:"=<", 2},
    {:"=:=", 2},
    {:==, 2},
    {:"=/=", 2},
    {:"/=", 2},
    {:not, 1},
    {:and, 2},
    {:or, 2},
    {:xor, 2},
    {:andalso, 2},
    {:orelse, 2},
    {:andalso, 3},
    {:orelse, 1},
    {:self, 0},
    {:and, 3}
  ]

  def expr(vars, depth \\ 2) do
    case :rand.uniform(if depth > 0, do: 14, else: 6) do
      n when n <= 2 and vars != [] -> pick(vars)
      3 -> pick([:"$_", :"$$"])
      4 -> small()
      5 -> pick(@atoms -- [:_, :"$1x"])
      6 -> {:const, value(1)}
      7 -> {List.to_tuple(for _ <- 1..:rand.uniform(3), do: expr(vars, depth - 1))}
      8 -> for _ <- 1..:rand.uniform(2), do: expr(vars, depth - 1)
      9 -> %{pick([:a, :b]) => expr(vars, depth - 1)}
      _ -> call(vars, depth)
    end
  end

  # A guard that is often true: comparisons and type tests of the head's
  # variables, combined.
  def guard(vars, depth \\ 2) do
    v = fn -> if vars != [] and chance(0.8), do: pick(vars), else: expr(vars, 1) end

    case :rand.uniform(if depth > 0, do: 8, else: 5) do
      1 -> {pick([:>, :<, :>=, :"=<", :==, :"/=", :"=:=", :"=/="]), v.(), small()}
      2 -> {pick([:>, :<, :==, :"=/="]), v.(), v.()}
      3 -> {pick([:is_integer, :is_atom, :is_tuple, :is_list, :is_number, :is_map, :is_binary, :is_float]), v.()}
      4 -> {pick([:>, :<, :"=:="]), {pick([:+, :-, :*, :rem, :band]), v.(), small()}, small()}
      5 -> true
      6 -> {pick([:andalso, :orelse, :and, :or, :xor]), guard(vars, depth - 1), guard(vars, depth - 1)}
      7 -> {:not, guard(vars, depth - 1)}
      _ -> {pick([:andalso, :orelse]), guard(vars, depth - 1), guard(vars, depth - 1), guard(vars, depth - 1)}
    end
  end

  # An expression that names no variable ('$N', '$_', '$$').
  defp closed(depth) do
    e = expr([], depth)
    if names_var?(e), do: small(), else: e
  end

  defp names_var?(a) when is_atom(a), do: String.starts_with?(Atom.to_string(a), "$")
  defp names_var?(t) when is_tuple(t), do: names_var?(Tuple.to_list(t))
  defp names_var?([h | t]), do: names_var?(h) or names_var?(t)
  defp names_var?(%{} = m), do: names_var?(Map.to_list(m))
  defp names_var?(_), do: false

  defp small(), do: pick([0, 1, 2, 3, -1, 255, 256, 1.5, -0.0, 1 <<< 30, 1 <<< 62, -(1 <<< 64)])

  defp call(vars, depth) do
    {f, a} = pick(@fns)
    # now and then a wrong arity or an unknown function: ETS refuses both
    a = if chance(0.005), do: a + 1, else: a
    f = if chance(0.003), do: :no_such_fn, else: f
    args = for _ <- List.duplicate(0, a), do: expr(vars, depth - 1)

    # ETS itself would try to build a bignum of that many bits (and the VM
    # dies of it): keep shift counts small
    args =
      case {f, args} do
        {s, [x, n]} when s in [:bsl, :bsr] ->
          [x, {:band, n, 127}]

        # OTP 25's ETS copies a variable into a body's result where the body
        # first names it; when that place is an andalso/orelse operand that
        # the run skips, later '$$' or '$N' point into the table and the VM
        # dies in a later GC (README, "Semantics"). Operands after the first
        # name no variable here.
        {s, [first | rest]} when s in [:andalso, :orelse] ->
          [first | Enum.map(rest, fn _ -> closed(depth - 1) end)]

        _ ->
          args
      end

    List.to_tuple([f | args])
  end

  def spec(objs) do
    case :rand.uniform(200) do
      1 -> pick([{}, :x, [:x], [{:_, [], []}], [{:_, :x, [1]}], [{:_, [], [1]} | :t], [{:_, []}]])
      2 -> [{head(objs), [], [:"$9"]}]
      _ -> for(_ <- 1..pick([1, 1, 2, 2, 3]), do: clause(objs))
    end
  end

  defp clause(objs) do
    h = head(objs)
    vars = Enum.uniq(vars_of(h))
    guards = for _ <- 1..pick([0, 0, 0, 1, 1, 2]), do: if(chance(0.8), do: guard(vars), else: expr(vars))
    body = for _ <- 1..pick([1, 1, 1, 2]), do: expr(vars)
    {h, guards, body}
  end

  # Specs as ets:fun2ms/1 makes them (through ms_transform, as the shell does).
  @funs [
    ~c"fun({K, V}) when V > 1 -> K end.",
    ~c"fun({K, V, _}) when is_atom(V) -> {K, V} end.",
    ~c"fun({K, _} = O) when K =:= 3 orelse K == a -> O end.",
    ~c"fun({K, V}) when is_integer(K), K rem 2 == 0 -> [V, K] end.",
    ~c"fun({K, [H | T]}) -> {H, T, K} end.",
    ~c"fun({K, \#{x := X}}) -> X end.",
    ~c"fun({K, V}) when is_list(V), length(V) > 1 -> hd(V) end.",
    ~c"fun({K, V}) when not is_tuple(V) -> object() end.",
    ~c"fun({K, V, W}) when V < W; is_binary(W) -> {K, W} end.",
    ~c"fun(X) when element(1, X) > 5 -> true end.",
    ~c"fun({K, V}) when abs(K) band 1 =:= 1 -> K * 2 + 1 end.",
    ~c"fun({K, V}) when is_float(V) -> {round(V), trunc(V), float(K)} end.",
    ~c"fun({K, V}) when is_map(V), map_size(V) > 0 -> map_get(x, V) end.",
    ~c"fun({K, V}) when is_binary(V), byte_size(V) >= 2 -> binary_part(V, 0, 1) end.",
    ~c"fun({K, V}) when tuple_size(V) == 2 -> {element(2, V), self()} end."
  ]

  def fun2ms_specs() do
    for src <- @funs do
      {:ok, tokens, _} = :erl_scan.string(src)
      {:ok, [{:fun, _, {:clauses, clauses}}]} = :erl_parse.parse_exprs(tokens)
      :ms_transform.transform_from_shell(:ets, clauses, [])
    end
  end
end
