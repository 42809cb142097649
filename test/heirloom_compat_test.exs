defmodule Heirloom.CompatTest do
  # The ets functions built from Heirloom's own operations (heirloom_compat):
  # init_table, from_dets, to_dets, table (QLC), i, repair_continuation,
  # and the match-spec functions that are ets's own. Each is run on :ets and
  # on Heirloom, through the NIF and through the C node, on seeded random
  # tables of every type, and the results, exits and contents compared.
  use ExUnit.Case, async: false
  use HeirloomTest.Paths

  @types [:set, :ordered_set, :bag, :duplicate_bag]

  defp name, do: :"cp#{System.unique_integer([:positive])}"

  # Keys collide often (bags get several objects per key); a few objects
  # repeat whole (a duplicate_bag keeps both).
  defp objects(n) do
    objs = for _ <- 1..n, do: {:rand.uniform(div(n, 2) + 1), :rand.uniform(5), Enum.random([:a, "b", 1.5, [1]])}
    objs ++ Enum.take_random(objs, div(n, 10))
  end

  defp pair(type, objs) do
    e = :ets.new(:compat, [type, :public])
    h = Heirloom.new(name(), [type, :public])
    :ets.insert(e, objs)
    Heirloom.insert(h, objs)
    {e, h}
  end

  defp same_contents({e, h}), do: Enum.sort(:ets.tab2list(e)) == Enum.sort(Heirloom.tab2list(h))

  defp outcome(f) do
    {:ok, f.()}
  catch
    :exit, {reason, stack} when is_list(stack) -> {:exit, reason}
    :exit, reason -> {:exit, reason}
    :error, reason -> {:error, reason}
  end

  # An init fun handing out objs in chunks of k, as ets:init_table/2 wants.
  defp init_fun(objs, k) do
    fn
      :read ->
        case Enum.split(objs, k) do
          {[], []} -> :end_of_input
          {chunk, rest} -> {chunk, init_fun(rest, k)}
        end

      :close ->
        :ok
    end
  end

  defp each_path(node, fun) do
    for path <- [:nif, :cnode], type <- @types do
      use_path(path, node)
      :rand.seed(:exsss, {7, 11, 13})
      fun.(path, type)
    end
  end

  test "init_table/2: contents, results and exits equal ETS", %{node: node} do
    each_path(node, fn path, type ->
      {e, h} = tabs = pair(type, objects(40))
      new = objects(60)

      for k <- [1, 7, 1000] do
        assert outcome(fn -> :ets.init_table(e, init_fun(new, k)) end) ==
                 outcome(fn -> Heirloom.init_table(h, init_fun(new, k)) end)

        assert same_contents(tabs), "#{path} #{type} chunks of #{k}"
      end

      # a bad answer exits with it; a bad object exits with badarg after the
      # objects before it went in
      assert outcome(fn -> :ets.init_table(e, fn :read -> :bad end) end) ==
               outcome(fn -> Heirloom.init_table(h, fn :read -> :bad end) end)

      bad = Enum.take(new, 5) ++ [:not_a_tuple] ++ Enum.drop(new, 5)
      assert {:exit, :badarg} = outcome(fn -> :ets.init_table(e, init_fun(bad, 3)) end)
      assert {:exit, :badarg} = outcome(fn -> Heirloom.init_table(h, init_fun(bad, 3)) end)
      assert same_contents(tabs), "#{path} #{type} after a bad object"
    end)
  end

  test "from_dets/2 and to_dets/2 equal ETS, both ways", %{node: node} do
    dir = Path.join(System.tmp_dir!(), "heirloom_compat_#{System.unique_integer([:positive])}")
    File.mkdir_p!(dir)
    on_exit(fn -> File.rm_rf!(dir) end)

    each_path(node, fn path, type ->
      dets_type = if type == :ordered_set, do: :set, else: type
      {e, h} = tabs = pair(type, objects(30))
      src = :"#{name()}"
      {:ok, ^src} = :dets.open_file(src, file: ~c"#{dir}/#{src}.dets", type: dets_type)
      # past two of from_dets's 1,000-object chunks
      :ok = :dets.insert(src, objects(50) ++ for(i <- 1..2_500, do: {1_000 + i, i, :many}))

      assert :ets.from_dets(e, src) == Heirloom.from_dets(h, src)
      assert same_contents(tabs), "#{path} #{type} from_dets"

      for {t, m} <- [{e, :ets}, {h, Heirloom}] do
        out = :"#{name()}"
        {:ok, ^out} = :dets.open_file(out, file: ~c"#{dir}/#{out}.dets", type: dets_type)
        :ok = :dets.insert(out, {:stale, :row, :gone})
        assert m.to_dets(t, out) == out
        assert Enum.sort(:dets.match_object(out, :_)) == Enum.sort(:ets.tab2list(e))
        :ok = :dets.close(out)
      end

      :ok = :dets.close(src)
      # a Dets table that is not open: badarg from both
      assert {:error, :badarg} = outcome(fn -> :ets.from_dets(e, src) end)
      assert {:error, :badarg} = outcome(fn -> Heirloom.from_dets(h, src) end)
      assert {:error, :badarg} = outcome(fn -> :ets.to_dets(e, src) end)
      assert {:error, :badarg} = outcome(fn -> Heirloom.to_dets(h, src) end)
    end)
  end

  test "table/1,2: QLC over Heirloom answers as over ETS", %{node: node} do
    each_path(node, fn path, type ->
      {e, h} = pair(type, objects(80))

      # QLC queries need its parse transform: from strings, T bound
      queries =
        for src <- [~c"[X || X <- T].", ~c"[{V, W} || {K, V, W} <- T, K =:= 3].", ~c"[K || {K, V, _} <- T, V > 2]."] do
          fn t -> :qlc.string_to_handle(src, [], :erl_eval.add_binding(:T, t, :erl_eval.new_bindings())) end
        end

      opts = [
        [],
        [traverse: :first_next],
        [traverse: :last_prev],
        [n_objects: 3],
        [traverse: {:select, [{{:"$1", :_, :_}, [{:<, :"$1", 5}], [:"$_"]}]}]
      ]

      for q <- queries, o <- opts do
        want = Enum.sort(:qlc.e(q.(:ets.table(e, o))))
        assert Enum.sort(:qlc.e(q.(Heirloom.table(h, o)))) == want, "#{path} #{type} #{inspect(o)}"
      end

      # a query naming a key is answered by lookups, on ETS and Heirloom
      info = fn t -> to_string(:qlc.info(Enum.at(queries, 1).(t))) end
      assert info.(Heirloom.table(h)) =~ "heirloom:lookup"
      assert info.(:ets.table(e)) =~ "ets:lookup"
      assert {:error, :badarg} = outcome(fn -> :ets.table(e, traverse: :bad) end)
      assert {:error, :badarg} = outcome(fn -> Heirloom.table(h, traverse: :bad) end)
      assert {:error, :badarg} = outcome(fn -> Heirloom.table(h, n_objects: 0) end)
    end)
  end

  test "select continuations survive term_to_binary; repair_continuation/2", %{node: node} do
    each_path(node, fn path, type ->
      {e, h} = pair(type, objects(50))
      ms = [{{:"$1", :_, :_}, [{:>, :"$1", 3}], [:"$_"]}]

      drain = fn m, first ->
        Stream.unfold(first, fn
          :"$end_of_table" -> nil
          {l, c} -> {l, m.select(m.repair_continuation(:erlang.binary_to_term(:erlang.term_to_binary(c)), ms))}
        end)
        |> Enum.concat()
        |> Enum.sort()
      end

      assert drain.(Heirloom, Heirloom.select(h, ms, 4)) == Enum.sort(:ets.select(e, ms)), "#{path} #{type}"
      assert Heirloom.repair_continuation(:"$end_of_table", ms) == :"$end_of_table"
      assert {:error, :badarg} = outcome(fn -> Heirloom.repair_continuation({:nonsense}, ms) end)
    end)
  end

  test "slot/2: ordered_set exactly as ETS; other types one key per slot", %{node: node} do
    each_path(node, fn path, type ->
      {e, h} = pair(type, objects(60))
      n = :ets.info(e, :size)
      slot = fn m, t, i -> outcome(fn -> m.slot(t, i) end) end

      if type == :ordered_set do
        # in order, then in a random order (no resuming), then past the end
        for i <- Enum.to_list(0..(n + 2)) ++ Enum.shuffle(0..(n + 2)) ++ [-1, :x, 1.0],
            do: assert(slot.(Heirloom, h, i) == slot.(:ets, e, i), "#{path} slot #{inspect(i)}")
      else
        groups =
          Stream.iterate(0, &(&1 + 1))
          |> Stream.map(&{&1, Heirloom.slot(h, &1)})
          |> Enum.take_while(&(elem(&1, 1) != :"$end_of_table"))

        keys = for {_, g} <- groups, do: g |> Enum.map(&elem(&1, 0)) |> Enum.uniq()
        assert Enum.all?(keys, &(length(&1) == 1)), "#{path} #{type}: one key per slot"
        assert length(Enum.uniq(keys)) == length(keys)
        assert Enum.sort(Enum.flat_map(groups, &elem(&1, 1))) == Enum.sort(:ets.tab2list(e))
        k = length(groups)
        assert Heirloom.slot(h, k) == :"$end_of_table"
        assert {:error, :badarg} = slot.(Heirloom, h, k + 1)
        # random access agrees with the walk
        for {i, g} <- Enum.shuffle(groups) |> Enum.take(10), do: assert(Heirloom.slot(h, i) == g)
      end

      assert {:error, :badarg} = slot.(Heirloom, h, -1)
      assert {:error, :badarg} = slot.(Heirloom, name(), 0)
    end)
  end

  # The screen a function draws for some typed lines: an io server as the
  # group leader (ExUnit's StringIO cannot print ETS's atom prompts).
  defp screen(input, fun) do
    io = spawn_link(fn -> io_loop(String.split(input, ~r/(?<=\n)/, trim: true), []) end)
    old = Process.group_leader()
    Process.group_leader(self(), io)

    try do
      fun.()
    after
      Process.group_leader(self(), old)
    end

    send(io, {:done, self()})

    receive do
      {:screen, s} -> s
    end
  end

  defp io_loop(lines, out) do
    receive do
      {:io_request, from, ref, req} ->
        {reply, lines, out} = io_req(req, lines, out)
        send(from, {:io_reply, ref, reply})
        io_loop(lines, out)

      {:done, pid} ->
        send(pid, {:screen, IO.iodata_to_binary(Enum.reverse(out))})
    end
  end

  defp io_req({:put_chars, _, chars}, l, o), do: {:ok, l, [IO.chardata_to_string(chars) | o]}
  defp io_req({:put_chars, _, m, f, a}, l, o), do: {:ok, l, [IO.chardata_to_string(apply(m, f, a)) | o]}

  defp io_req({:get_line, _, prompt}, l, o) do
    o = [if(is_atom(prompt), do: Atom.to_string(prompt), else: IO.chardata_to_string(prompt)) | o]

    case l do
      [] -> {:eof, [], o}
      [h | t] -> {String.to_charlist(h), t, o}
    end
  end

  defp io_req(_, l, o), do: {{:error, :request}, l, o}

  # ETS's browser reads commands from stdin: the same commands on an
  # ordered_set with the same objects must draw the same screens.
  test "i/1,2,3 browse as ets:i/1,2,3 does", %{node: node} do
    inputs = [
      "c\nc\np3\n/2.\nc\nq\n",
      "\n\n\n\n\n\n",
      "p0\npx\np999\np\n/[\n/x{30}\nc\np2\nq\n",
      "bogus\nq\n"
    ]

    for path <- [:nif, :cnode] do
      use_path(path, node)
      objs = for i <- 1..30, do: {i, String.duplicate("x", i * 3), [i]}
      {e, h} = pair(:ordered_set, objs)

      for input <- inputs, args <- [[], [10], [10, 40], [7, 25]] do
        screen = fn m, t -> screen(input, fn -> assert apply(m, :i, [t | args]) == :ok end) end
        assert screen.(Heirloom, h) == screen.(:ets, e), "#{path} #{inspect(input)} #{inspect(args)}"
      end

      # k deletes the table, as ETS's does
      screen("k\n", fn -> Heirloom.i(h) end)
      assert Heirloom.info(h) == :undefined
    end
  end

  test "i/0 lists the node's tables" do
    h = Heirloom.new(name(), [:bag])
    Heirloom.insert(h, [{1, 2}, {1, 3}])
    out = ExUnit.CaptureIO.capture_io(fn -> assert Heirloom.i() == :ok end)
    assert out =~ ~r/ id +name +type +size +mem +owner/
    [line] = for l <- String.split(out, "\n"), l =~ " #{Heirloom.info(h, :name)} ", do: l
    assert line =~ ~r/ bag +2 /
  end

  test "the match-spec functions are ets's own" do
    ms = [{{:"$1", :"$2"}, [{:>, :"$2", 1}], [{{:"$2", :"$1"}}]}]
    list = [{:a, 1}, {:b, 2}, {:c, 3}]
    c = Heirloom.match_spec_compile(ms)
    assert Heirloom.is_compiled_ms(c)
    assert Heirloom.match_spec_run(list, c) == :ets.match_spec_run(list, :ets.match_spec_compile(ms))
    assert Heirloom.match_spec_run_r(list, c, [:x]) == :ets.match_spec_run_r(list, :ets.match_spec_compile(ms), [:x])
    assert {:error, :badarg} = outcome(fn -> Heirloom.match_spec_compile(:bad) end)
  end
end
