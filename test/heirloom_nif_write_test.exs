defmodule Heirloom.NifWriteTest do
  # NIF row writes (c_src/hl_nif_write.c) run on a normal scheduler when they
  # are small and the store's write lock is free; otherwise they write
  # nothing and answer `dirty`, and heirloom redoes them on the `_dirty` twin,
  # on a dirty I/O scheduler that may wait. Here: both variants give the same
  # answers; a large write goes dirty; a write that meets the C node in the
  # middle of a long write goes dirty and completes once the C node commits,
  # with every row of both writes there, seen from both paths.
  use ExUnit.Case, async: false

  import Bitwise

  alias HeirloomTest.CNode

  setup do
    c = start_supervised!({CNode, []})
    node = CNode.name(c)
    Heirloom.set_node(node)
    on_exit(fn -> :heirloom.forget_path(node) end)
    assert Heirloom.path() == :nif
    # Not the store handle: ExUnit keeps the context after the test, and a
    # live handle keeps the library loaded (heirloom_nif_lifecycle_test).
    %{node: node, dir: String.to_charlist(CNode.dir(c))}
  end

  defp env!(dir) do
    {:ok, env} = :heirloom_nif.open(dir)
    env
  end

  defp new_table(node, opts) do
    t = :"nifw_#{System.unique_integer([:positive])}"
    ^t = :heirloom.call(node, {:new, t, [:named_table | opts]})
    t
  end

  # Run F on the normal variant; it must not answer `dirty` here (nothing
  # else writes, the arguments are small).
  defp normal(f, args) do
    reply = apply(:heirloom_nif, f, args)
    refute reply == :dirty
    reply
  end

  defp dirty(f, args), do: apply(:heirloom_nif, :"#{f}_dirty", args)

  test "every row write answers the same on a normal and a dirty scheduler", %{node: node, dir: dir} do
    env = env!(dir)

    for variant <- [&normal/2, &dirty/2] do
      t = new_table(node, [:public])
      assert variant.(:insert, [env, t, [{1, :a}, {2, :b}]]) == true
      assert variant.(:insert_new, [env, t, {1, :x}]) == false
      assert variant.(:insert_new, [env, t, {3, :c}]) == true
      assert variant.(:update_counter, [env, t, 4, {2, 5}, {:default, {4, 10}}]) == 15
      assert variant.(:update_element, [env, t, 1, {2, :z}]) == true
      assert variant.(:take, [env, t, 2]) == [{2, :b}]
      assert variant.(:delete_object, [env, t, {3, :c}]) == true
      assert variant.(:delete, [env, t, 4]) == true
      assert :heirloom.call(node, {:lookup, t, 1}) == [{1, :z}]
      assert Enum.sort(Heirloom.tab2list(t)) == [{1, :z}]
    end
  end

  # Small objects of integers, ASCII atoms, binaries and tuples are encoded
  # by the NIF itself (hl_nif_write.c, objects_direct), the rest by the
  # canonicaliser: the same key must be the same key either way.
  test "objects the NIF encodes itself have the canonicaliser's keys", %{node: node, dir: dir} do
    env = env!(dir)
    t = new_table(node, [:public])
    <<_, sub::binary-size(3), _::binary>> = <<9, 8, 7, 6, 5>>

    keys =
      [0, 1, 255, 256, -1, -256, 2_147_483_647, -2_147_483_648, 2_147_483_648, 1 <<< 40] ++
        [-(1 <<< 63), (1 <<< 63) - 1, :a, :Ab_c9, :"", <<>>, <<1, 2, 3>>, sub] ++
        [{1, :a, "x"}, {{1}, {2, {3, {4}}}}, {}]

    for k <- keys do
      assert :heirloom.call(node, {:insert, t, {k, :cnode}}) == true
      assert normal(:insert_new, [env, t, {k, :nif}]) == false
      assert normal(:lookup, [env, t, k]) == [{k, :cnode}]
      assert normal(:insert, [env, t, [{k, :nif}]]) == true
      assert :heirloom.call(node, {:lookup, t, k}) == [{k, :nif}]
    end

    assert :heirloom.call(node, {:info, t, :size}) == length(keys)
  end

  # NIF reads build plain objects themselves (hl_nif_rows.c, plain) and hand
  # the rest to binary_to_term: the edges of both, stored by the C node and
  # read back by the NIF, must be the very terms stored (===, so -0.0 and
  # 0.0, 1 and 1.0 stay apart).
  test "objects the NIF decodes itself are the terms stored", %{node: node, dir: dir} do
    env = env!(dir)
    t = new_table(node, [:public])
    deep = {1, {2, {3, {4, {5}}}}}

    values =
      [0, 255, 256, -1, 2_147_483_647, -2_147_483_648, 2_147_483_648, -2_147_483_649, -(1 <<< 40)] ++
        [-(1 <<< 63), (1 <<< 63) - 1] ++
        [1 <<< 63, -(1 <<< 63) - 1, 1 <<< 100, 0.0, -0.0, 1.5, -1.0e300, 5.0e-324] ++
        [:a, :"", String.to_atom(String.duplicate("z", 255)), :é, :"ü_🙂"] ++
        [<<>>, :binary.copy(<<1>>, 64), :binary.copy(<<2>>, 65), <<1::1>>, "abc"] ++
        [[], [1], Enum.to_list(1..16), Enum.to_list(1..17), [1 | 2], ~c"text", [:a, "b", {1}]] ++
        [{}, {1}, Tuple.duplicate(:x, 16), Tuple.duplicate(:x, 17), deep, {{{{[1]}}}}, {{{{{1}}}}}] ++
        [%{a: 1}, self(), make_ref(), 3.0, {1, 1.0}]

    for {v, i} <- Enum.with_index(values) do
      assert :heirloom.call(node, {:insert, t, {i, v}}) == true
      assert [{^i, got}] = normal(:lookup, [env, t, i])
      assert got === v, "#{inspect(v)} came back as #{inspect(got)}"
    end
  end

  # A normal scheduler decodes at most HL_NIF_DIRTY_BYTES of objects in all:
  # a bag key of many small objects is read on the dirty twin, whole.
  test "a lookup of a bag key with many small objects goes dirty", %{node: node, dir: dir} do
    env = env!(dir)
    t = new_table(node, [:duplicate_bag, :public])
    many = for i <- 1..20_000, do: {:k, i}
    assert :heirloom.call(node, {:insert, t, many}) == true
    assert :heirloom.call(node, {:insert, t, {:few, 1}}) == true
    assert apply(:heirloom_nif, :lookup, [env, t, :k]) == :dirty
    assert dirty(:lookup, [env, t, :k]) == many
    assert normal(:lookup, [env, t, :few]) == [{:few, 1}]
    assert Heirloom.lookup(t, :k) == many
  end

  test "a protected table: its owner writes on a normal scheduler, others are refused",
       %{node: node, dir: dir} do
    env = env!(dir)
    t = Heirloom.new(:"nifw_prot_#{System.unique_integer([:positive])}", [:named_table])
    assert normal(:insert, [env, t, {1, :mine}]) == true
    assert normal(:update_counter, [env, t, 2, {2, 1}, {:default, {2, 0}}]) == 1
    me = self()

    spawn(fn ->
      send(me, {:other, normal(:insert, [env, t, {9, :no}]), dirty(:insert, [env, t, {9, :no}])})
    end)

    assert_receive {:other, {:error, :access}, {:error, :access}}
    assert :heirloom.call(node, {:lookup, t, 1}) == [{1, :mine}]
    assert :heirloom.call(node, {:lookup, t, 9}) == []
  end

  # Row writes take the table's meta from the thread's cache when the meta
  # generation has not moved: a protection change must still stop the next
  # write at once.
  test "a write after the owner narrows the access is refused", %{node: node, dir: dir} do
    env = env!(dir)
    t = Heirloom.new(:"nifw_narrow_#{System.unique_integer([:positive])}", [:named_table, :public])
    me = self()

    writer =
      spawn(fn ->
        for i <- 1..2 do
          receive do
            :go -> send(me, {:wrote, i, normal(:insert, [env, t, {i, :other}])})
          end
        end
      end)

    send(writer, :go)
    assert_receive {:wrote, 1, true}
    assert Heirloom.setopts(t, {:protection, :protected}) == true
    send(writer, :go)
    assert_receive {:wrote, 2, {:error, :access}}
    assert :heirloom.call(node, {:lookup, t, 2}) == []
  end

  test "a large write goes dirty, having written nothing, and its twin writes it",
       %{node: node, dir: dir} do
    env = env!(dir)
    t = new_table(node, [:public])
    big = {1, :binary.copy(<<7>>, 100_000)}
    many = for i <- 1..1_000, do: {i, i}
    assert :heirloom_nif.insert(env, t, big) == :dirty
    assert :heirloom_nif.insert(env, t, many) == :dirty
    assert :heirloom.call(node, {:info, t, :size}) == 0
    assert dirty(:insert, [env, t, big]) == true
    # Rewriting the large row reads it: dirty too.
    assert :heirloom_nif.update_element(env, t, 1, {2, :small}) == :dirty
    assert dirty(:update_element, [env, t, 1, {2, :small}]) == true
    assert normal(:update_element, [env, t, 1, {2, :smaller}]) == true
    assert Heirloom.insert(t, many)
    assert Heirloom.info(t, :size) == 1_000
    assert :heirloom.call(node, {:lookup, t, 500}) == [{500, 500}]
    # A long list the NIF cannot encode itself to the end (a float key).
    assert Heirloom.insert(t, [{2_000, :x} | many] ++ [{1.5, :f}])
    assert :heirloom.call(node, {:lookup, t, 1.5}) == [{1.5, :f}]
    assert :heirloom.call(node, {:lookup, t, 2_000}) == [{2_000, :x}]
    assert Heirloom.info(t, :size) == 1_002
  end

  # The NIF follows its C node's --sync: while the C node fsyncs its
  # commits, NIF writes fsync theirs too, so they never run on a normal
  # scheduler; once the C node runs without, they do again.
  test "NIF writes fsync, on a dirty scheduler, while the C node runs --sync commit" do
    dir = HeirloomTest.tmp_dir("nif_sync")
    env = env!(String.to_charlist(dir))

    for {args, normal?} <- [{["--sync", "commit"], false}, {[], true}, {["--sync", "commit"], false}] do
      c = CNode.start(dir: dir, args: args)
      node = CNode.name(c)
      t = new_table(node, [:public])
      reply = :heirloom_nif.insert(env, t, {1, :a})
      assert reply == if(normal?, do: true, else: :dirty), "#{inspect(args)}: #{inspect(reply)}"
      assert dirty(:insert, [env, t, {2, :b}]) == true
      assert :heirloom.call(node, {:lookup, t, 2}) == [{2, :b}]

      # A second node on the directory that fails to start (its name is
      # taken) must not change what the NIF does.
      {_, status} =
        System.cmd(CNode.exe(), ["--name", "#{node}", "--cookie", "#{Node.get_cookie()}", "--dir", dir],
          stderr_to_stdout: true
        )

      assert status != 0
      assert :heirloom_nif.insert(env, t, {3, :c}) == if(normal?, do: true, else: :dirty)
      CNode.stop(c)
    end
  end

  # The C node inserts a large list (its write transaction holds the store's
  # write lock for a while) while this process tries small NIF inserts on a
  # normal scheduler. Once one answers `dirty`, the C node is in its write:
  # the same insert through heirloom (which redoes it on the dirty twin)
  # completes, and afterwards every row of both is there. Whether the two
  # overlap depends on timing, so the C node's write is repeated until one
  # did; what is checked is only what was stored, never how long it took.
  test "a NIF insert during a long C node write completes through the dirty twin",
       %{node: node, dir: dir} do
    env = env!(dir)
    t = new_table(node, [:public])
    payload = :binary.copy(<<1>>, 1_000)
    assert overlap(node, env, t, payload, 0) == :overlapped
  end

  defp overlap(_node, _env, _t, _payload, 20), do: :never_overlapped

  defp overlap(node, env, t, payload, round) do
    base = round * 100_000
    rows = for i <- 1..50_000, do: {base + i, payload}
    task = Task.async(fn -> :heirloom.call(node, {:insert, t, rows}) end)
    key = {:nif, round}
    seen = try_until_dirty(env, t, key, task)

    case seen do
      :dirty ->
        # Nothing was written by the refused attempt ...
        assert :heirloom_nif.lookup(env, t, key) == []
        # ... and the write through heirloom waits on a dirty scheduler.
        assert Heirloom.insert(t, {key, :nif})
        assert Task.await(task, 60_000) == true
        assert Heirloom.lookup(t, key) == [{key, :nif}]
        assert :heirloom.call(node, {:lookup, t, key}) == [{key, :nif}]
        assert Heirloom.lookup(t, base + 1) == [{base + 1, payload}]
        assert Heirloom.lookup(t, base + 50_000) == [{base + 50_000, payload}]
        :overlapped

      :done ->
        overlap(node, env, t, payload, round + 1)
    end
  end

  # Small NIF inserts on a normal scheduler, each of a fresh key, until one
  # answers `dirty` or the C node's insert has returned.
  defp try_until_dirty(env, t, key, task) do
    case :heirloom_nif.insert(env, t, {:probe, key}) do
      :dirty ->
        :dirty

      true ->
        case Task.yield(task, 0) do
          nil ->
            try_until_dirty(env, t, key, task)

          {:ok, true} ->
            :done
        end
    end
  end
end
