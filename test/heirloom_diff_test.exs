defmodule Heirloom.DiffTest do
  # The differential test: for each table type, a seeded random sequence of
  # every key-based operation is applied to :ets and to Heirloom, through the
  # NIF and through the C node. Every result and every exception must be the
  # same, and so must the final tab2list (sorted for the unordered types,
  # whose walk order is their own, as ETS's hash order is).
  #
  # HEIRLOOM_DIFF_SEED fixes the seed (else ExUnit's); HEIRLOOM_DIFF_OPS the
  # operations per type and path (5,000, so 10,000 per type; `make soak`
  # runs 500,000 per path). A failure prints the seed and the shortest
  # failing sequence found by dropping operations while it still fails.
  use ExUnit.Case, async: false
  import Bitwise

  @types [:set, :ordered_set, :bag, :duplicate_bag]

  use HeirloomTest.Paths

  defp seed do
    case System.get_env("HEIRLOOM_DIFF_SEED") do
      nil -> ExUnit.configuration()[:seed]
      s -> String.to_integer(s)
    end
  end

  defp ops_per_path, do: String.to_integer(System.get_env("HEIRLOOM_DIFF_OPS", "5000"))

  # --- terms ---------------------------------------------------------------

  defp keys(pid, ref) do
    [0, 1, 2, 3, 1.0, 2.0, -1, 1 <<< 70, :a, :b, "bin", <<1, 2>>, {1, :x}, {}] ++
      [[1, 2], [], %{a: 1}, %{1 => 2.0}, pid, ref]
  end

  defp pick(rand, list) do
    {i, rand} = :rand.uniform_s(length(list), rand)
    {Enum.at(list, i - 1), rand}
  end

  defp int(rand) do
    {x, rand} = :rand.uniform_s(8, rand)
    {Enum.at([0, 1, -1, 5, 255, 2_147_483_647, (1 <<< 62) - 1, -(1 <<< 64)], x - 1), rand}
  end

  defp value(rand, env) do
    {x, rand} = :rand.uniform_s(4, rand)

    case x do
      1 -> pick(rand, [:v, 0.5, "s", {1}, [3], %{b: 2}])
      2 -> pick(rand, env.keys)
      _ -> int(rand)
    end
  end

  # Objects of arity 1 to 4, counters mostly.
  defp object(rand, env) do
    {k, rand} = pick(rand, env.keys)
    {arity, rand} = :rand.uniform_s(4, rand)

    {vals, rand} = Enum.map_reduce(1..(arity - 1)//1, rand, fn _, r -> value(r, env) end)

    {List.to_tuple([k | vals]), rand}
  end

  defp objects(rand, env) do
    {n, rand} = :rand.uniform_s(4, rand)
    Enum.map_reduce(1..n, rand, fn _, r -> object(r, env) end)
  end

  defp counter_op(rand) do
    {form, rand} = :rand.uniform_s(5, rand)
    {pos, rand} = pick(rand, [1, 2, 2, 3, 3, 4])
    {incr, rand} = pick(rand, [1, -1, 7, 1 <<< 63, -(1 <<< 65), 0])
    {thr, rand} = int(rand)
    {set, rand} = int(rand)

    case form do
      1 -> {incr, rand}
      2 -> {{pos, incr}, rand}
      3 -> {{pos, incr, thr, set}, rand}
      4 -> {[{pos, incr}, {2, 1}], rand}
      5 -> pick(rand, [[], :bad, {2, :x}, [1]])
    end
  end

  # --- operations: {function, args without the table} ------------------------

  defp op(rand, env) do
    {x, rand} = :rand.uniform_s(100, rand)
    {k, rand} = pick(rand, env.keys)

    cond do
      x <= 12 -> with {o, r} <- object(rand, env), do: {{:insert, [o]}, r}
      x <= 17 -> with {os, r} <- objects(rand, env), do: {{:insert, [os]}, r}
      x <= 21 -> with {o, r} <- object(rand, env), do: {{:insert_new, [o]}, r}
      x <= 23 -> with {os, r} <- objects(rand, env), do: {{:insert_new, [os]}, r}
      x <= 31 -> {{:lookup, [k]}, rand}
      x <= 34 -> {{:member, [k]}, rand}
      x <= 38 -> {{:delete, [k]}, rand}
      x <= 44 -> with {o, r} <- object(rand, env), do: {{:delete_object, [o]}, r}
      x <= 47 -> {{:take, [k]}, rand}
      x <= 51 -> with {p, r} <- pick(rand, [1, 2, 3, 0]), do: {{:lookup_element, [k, p]}, r}
      x <= 58 -> with {u, r} <- counter_op(rand), do: {{:update_counter, [k, u]}, r}
      x <= 62 -> counter4(rand, env, k)
      x <= 66 -> element_op(rand, env, k)
      x <= 72 -> {{:first, []}, rand}
      x <= 75 -> {{:last, []}, rand}
      x <= 84 -> {{:next, [k]}, rand}
      x <= 89 -> {{:prev, [k]}, rand}
      x <= 91 -> {{:foldl, []}, rand}
      x <= 93 -> {{:foldr, []}, rand}
      x <= 95 -> {{:tab2list, []}, rand}
      x <= 98 -> {{:size, []}, rand}
      x <= 99 -> {{:walk, []}, rand}
      true -> {{:delete_all_objects, []}, rand}
    end
  end

  defp counter4(rand, env, k) do
    {u, rand} = counter_op(rand)
    {d, rand} = object(rand, env)
    {{:update_counter, [k, u, d]}, rand}
  end

  defp element_op(rand, env, k) do
    {v, rand} = value(rand, env)
    {p, rand} = pick(rand, [2, 3, 1, 5])

    case :rand.uniform_s(3, rand) do
      {1, r} -> {{:update_element, [k, {p, v}]}, r}
      {2, r} -> {{:update_element, [k, [{2, v}, {p, :w}]]}, r}
      {3, r} -> {{:update_element, [k, []]}, r}
    end
  end

  defp sequence(seed, n, env) do
    rand = :rand.seed_s(:exsss, seed)
    {ops, _} = Enum.map_reduce(1..n, rand, fn _, r -> op(r, env) end)
    ops
  end

  # --- running ---------------------------------------------------------------

  defp apply_op(m, t, {:size, []}), do: m.info(t, :size)
  defp apply_op(m, t, {:foldl, []}), do: m.foldl(fn o, acc -> [o | acc] end, [], t)
  defp apply_op(m, t, {:foldr, []}), do: m.foldr(fn o, acc -> [o | acc] end, [], t)
  defp apply_op(m, t, {:walk, []}), do: walk(m, t, m.first(t), [])
  defp apply_op(m, t, {f, args}), do: apply(m, f, [t | args])

  defp walk(_m, _t, :"$end_of_table", acc), do: Enum.reverse(acc)
  defp walk(m, t, k, acc), do: walk(m, t, m.next(t, k), [k | acc])

  defp run(m, t, op) do
    {:ok, apply_op(m, t, op)}
  catch
    :error, :badarg -> :badarg
  end

  # Unordered types walk in an order of their own: compare what is walked,
  # not the order (a bag's lookup order is insertion order: compared as is).
  defp norm(:ordered_set, _op, r), do: r

  defp norm(_type, {f, _}, {:ok, l}) when f in [:foldl, :foldr, :tab2list, :walk],
    do: {:ok, Enum.sort_by(l, &{&1, :erlang.term_to_binary(&1)})}

  # first/next of a set: which key comes is the table's order. first/last
  # must agree on empty or not; next/prev on whether they raise (the key
  # asked about is not in the table); the walk op compares every key.
  defp norm(_type, {f, _}, {:ok, k}) when f in [:first, :last],
    do: {:ok, if(k == :"$end_of_table", do: :end, else: :key)}

  defp norm(_type, {f, _}, {:ok, _}) when f in [:next, :prev], do: {:ok, :any}

  defp norm(_type, _op, r), do: r

  # Apply ops to fresh tables; nil, or {index, op, ets result, heirloom result}.
  defp first_difference(type, ops) do
    e = :ets.new(:diff, [type, :public])
    h = Heirloom.new(:diff, [type, :public])

    found =
      ops
      |> Enum.with_index()
      |> Enum.find_value(fn {op, i} ->
        a = norm(type, op, run(:ets, e, op))
        b = norm(type, op, run(Heirloom, h, op))
        if a === b, do: nil, else: {i, op, a, b}
      end)

    found =
      found ||
        (
          a = norm(type, {:tab2list, []}, run(:ets, e, {:tab2list, []}))
          b = norm(type, {:tab2list, []}, run(Heirloom, h, {:tab2list, []}))
          if a === b, do: nil, else: {length(ops), {:final_tab2list, []}, a, b}
        )

    :ets.delete(e)
    Heirloom.delete(h)
    found
  end

  # Shrinking: the failing prefix, then drop blocks of operations (halves,
  # quarters, ... single ones) while it still fails.
  defp shrink(type, ops) do
    case first_difference(type, ops) do
      nil -> ops
      {i, _, _, _} -> drop_blocks(type, Enum.take(ops, i + 1), div(i + 1, 2))
    end
  end

  defp drop_blocks(_type, ops, 0), do: ops

  defp drop_blocks(type, ops, size) do
    ops = drop_from(type, ops, size, 0)
    drop_blocks(type, ops, div(size, 2))
  end

  defp drop_from(_type, ops, _size, i) when i >= length(ops), do: ops

  defp drop_from(type, ops, size, i) do
    fewer = Enum.take(ops, i) ++ Enum.drop(ops, i + size)

    if fewer != [] and first_difference(type, fewer),
      do: drop_from(type, fewer, size, i),
      else: drop_from(type, ops, size, i + size)
  end

  for type <- @types do
    test "#{type}: ETS and Heirloom (NIF and C node) agree on random operations", %{node: node} do
      type = unquote(type)
      env = %{keys: keys(spawn(fn -> :ok end), make_ref())}

      for {path, offset} <- [nif: 0, cnode: 1] do
        use_path(path, node)
        s = seed() * 10 + offset
        ops = sequence(s, ops_per_path(), env)

        case first_difference(type, ops) do
          nil ->
            :ok

          {i, op, a, b} ->
            small = shrink(type, ops)

            flunk("""
            #{type} via #{path}, seed #{s} (HEIRLOOM_DIFF_SEED=#{seed()}): operation #{i} \
            #{inspect(op)} gave #{inspect(a)} on ETS, #{inspect(b)} on Heirloom.
            Shortest failing sequence found (#{length(small)} operations):
            #{Enum.map_join(small, "\n", &inspect/1)}
            """)
        end
      end
    end
  end
end
