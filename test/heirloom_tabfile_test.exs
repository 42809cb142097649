defmodule Heirloom.TabfileTest do
  # tab2file/file2tab/tabfile_info in ETS's own format, both ways: a file
  # ets:tab2file wrote loads into Heirloom, and a file Heirloom wrote loads
  # into ETS, with the same objects (in ETS's order), for every table type,
  # with and without extended_info, verified.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  @types [:set, :ordered_set, :bag, :duplicate_bag]

  setup_all do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    :ok
  end

  setup do
    dir = HeirloomTest.tmp_dir("tabfile")
    on_exit(fn -> File.rm_rf(dir) end)
    %{dir: dir}
  end

  defp rows do
    for(i <- 1..2_500, do: {rem(i, 700), i, "v#{i}"}) ++
      [{1.0, :f}, {:a, 1}, {:a, 1}, {{:t, [1]}, %{k: 2}}, {"bin", -0.0}]
  end

  defp file(dir, name), do: to_charlist(Path.join(dir, name))

  # Everything a user can see: type, keypos, protection, the objects in
  # order (sorted for unordered types), and a bag's lookup order.
  defp view(m, t) do
    list = m.tab2list(t)
    type = m.info(t, :type)

    {type, m.info(t, :keypos), m.info(t, :protection), m.info(t, :size),
     if(type == :ordered_set, do: list, else: Enum.sort(list)), for(k <- [1, 1.0, :a, 5], do: m.lookup(t, k))}
  end

  # A bag's lookup order depends on the order objects were inserted in,
  # which differs between dumps (ETS's hash order, Heirloom's walk order).
  defp loose({type, kp, prot, size, list, lookups}) when type in [:bag, :duplicate_bag],
    do: {type, kp, prot, size, list, Enum.map(lookups, &Enum.sort/1)}

  defp loose(view), do: view

  for type <- @types do
    test "#{type}: an ETS dump loads into Heirloom, and a Heirloom dump into ETS", %{dir: dir} do
      type = unquote(type)
      e = :ets.new(:tf_ets, [type, :public])
      :ets.insert(e, rows())

      for opts <- [[], [extended_info: [:object_count, :md5sum]], [extended_info: [:md5sum]]] do
        # Loading one file gives what ETS's loading gives, exactly (a bag's
        # lookup order included: both insert the file's chunks in order).
        f1 = file(dir, "from_ets_#{length(opts)}")
        assert :ets.tab2file(e, f1, opts) == :ok
        assert {:ok, h} = Heirloom.file2tab(f1, verify: true)
        assert {:ok, e1} = :ets.file2tab(f1, verify: true)
        assert view(Heirloom, h) == view(:ets, e1)
        assert loose(view(Heirloom, h)) == loose(view(:ets, e))
        assert Heirloom.info(h, :owner) == self()

        # A Heirloom dump is in Heirloom's walk order: same objects.
        f2 = file(dir, "from_heirloom_#{length(opts)}")
        assert Heirloom.tab2file(h, f2, opts) == :ok
        assert {:ok, e2} = :ets.file2tab(f2, verify: true)
        assert loose(view(:ets, e2)) == loose(view(:ets, e))
        assert {:ok, h2} = Heirloom.file2tab(f2, verify: true)
        assert view(Heirloom, h2) == view(:ets, e2)
        Heirloom.delete(h2)
        :ets.delete(e1)

        # The headers say the same, but for the name (a reference here).
        {:ok, i1} = :ets.tabfile_info(f1)
        {:ok, i2} = Heirloom.tabfile_info(f2)
        assert Keyword.delete(i1, :name) == Keyword.delete(i2, :name)
        :ets.delete(e2)
        Heirloom.delete(h)
      end

      :ets.delete(e)
    end
  end

  test "named tables keep their name and protection; {table, T} loads into a table", %{dir: dir} do
    name = :"tf_named_#{System.unique_integer([:positive])}"
    ^name = Heirloom.new(name, [:named_table, :ordered_set, :protected, {:keypos, 2}])
    Heirloom.insert(name, [{:x, 1}, {:y, 2}])
    f = file(dir, "named")
    assert Heirloom.tab2file(name, f) == :ok
    assert {:ok, info} = Heirloom.tabfile_info(f)
    assert info[:name] == name and info[:named_table] == true and info[:keypos] == 2
    Heirloom.delete(name)
    assert {:ok, ^name} = Heirloom.file2tab(f)
    assert Heirloom.info(name, :protection) == :protected
    assert Heirloom.tab2list(name) == [{:x, 1}, {:y, 2}]
    # Loading again into the same name fails as ETS does.
    assert Heirloom.file2tab(f) == {:error, :cannot_create_table}

    other = Heirloom.new(:other, [:ordered_set, {:keypos, 2}, :public])
    assert {:ok, ^other} = Heirloom.file2tab(f, table: other)
    assert Heirloom.tab2list(other) == [{:x, 1}, {:y, 2}]
  end

  test "errors are ETS's", %{dir: dir} do
    missing = file(dir, "missing")
    assert Heirloom.file2tab(missing) == :ets.file2tab(missing)
    assert Heirloom.tabfile_info(missing) == :ets.tabfile_info(missing)
    assert Heirloom.tab2file(:no_such_table_here, file(dir, "x")) == {:error, :badtab}

    assert Heirloom.tab2file(Heirloom.new(:t, []), file(dir, "y"), [:bad]) ==
             {:error, {:unknown_option, :bad}}

    # A corrupted object count is found by verify.
    e = :ets.new(:tf_count, [])
    :ets.insert(e, [{1}, {2}])
    f = file(dir, "count")
    :ok = :ets.tab2file(e, f)
    {:ok, log} = :disk_log.open(name: :tf_count_log, file: f)
    :ok = :disk_log.log_terms(log, [{3}])
    :ok = :disk_log.close(log)
    assert Heirloom.file2tab(f, verify: true) == :ets.file2tab(f, verify: true)
  end
end
