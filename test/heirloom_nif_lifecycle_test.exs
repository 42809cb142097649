defmodule Heirloom.NifLifecycleTest do
  # The NIF's load, upgrade and unload callbacks (c_src/hl_nif.c), as jiffy's
  # lifecycle test does: reload heirloom_nif over itself, purge the old code,
  # delete it altogether and load it again, and check that stores opened
  # before and after keep answering.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  setup do
    c = start_supervised!({CNode, []})
    node = CNode.name(c)
    Heirloom.set_node(node)
    on_exit(fn -> :heirloom.forget_path(node) end)
    t = :"life_#{System.unique_integer([:positive])}"
    ^t = :heirloom.call(node, {:new, t, [:named_table, :public]})
    %{node: node, t: t, dir: String.to_charlist(CNode.dir(c))}
  end

  defp open!(dir) do
    {:ok, env} = :heirloom_nif.open(dir)
    env
  end

  # Whether this VM has heirloom_nif.so mapped.
  defp nif_mapped? do
    File.read!("/proc/#{System.pid()}/maps") =~ "heirloom_nif.so"
  end

  test "reload over the old code (upgrade), then purge the old code (unload)", ctx do
    env = open!(ctx.dir)
    assert :heirloom_nif.insert(env, ctx.t, {1, :before}) == true
    assert Heirloom.path() == :nif

    # load_file with the module loaded: the new instance's upgrade callback
    # takes over the resource type, so the old store handle keeps working.
    :code.purge(:heirloom_nif)
    assert {:module, :heirloom_nif} = :code.load_file(:heirloom_nif)
    assert :erlang.check_old_code(:heirloom_nif)
    assert :heirloom_nif.lookup(env, ctx.t, 1) == [{1, :before}]
    env2 = open!(ctx.dir)
    assert :heirloom_nif.insert(env2, ctx.t, {2, :after}) == true

    # Purging the old instance runs its unload callback; the registry of
    # open stores, shared by both instances, must survive it.
    :code.purge(:heirloom_nif)
    refute :erlang.check_old_code(:heirloom_nif)
    assert :heirloom_nif.lookup(env, ctx.t, 2) == [{2, :after}]
    assert :heirloom_nif.lookup(env2, ctx.t, 1) == [{1, :before}]
    assert Heirloom.lookup(ctx.t, 2) == [{2, :after}]
    assert Heirloom.insert(ctx.t, {3, :api}) == true
    assert :heirloom.call(ctx.node, {:info, ctx.t, :size}) == 3
  end

  test "delete the module, let every store handle go (the library is closed), load it again",
       ctx do
    write_and_drop(ctx.dir, ctx.t)
    # Handles cached by heirloom for any node (this one and earlier tests').
    for {{:heirloom, :path, node}, _} <- :persistent_term.get(), do: :heirloom.forget_path(node)

    :code.purge(:heirloom_nif)
    assert :code.delete(:heirloom_nif)
    :code.purge(:heirloom_nif)
    refute :code.is_loaded(:heirloom_nif)
    # The last resource's destructor lets erts run unload and close the
    # library (erased persistent terms are freed by a later global GC).
    HeirloomTest.wait_until(
      fn ->
        :erlang.garbage_collect()
        not nif_mapped?()
      end,
      10_000
    )

    assert {:module, :heirloom_nif} = :code.load_file(:heirloom_nif)
    assert nif_mapped?()
    env = open!(ctx.dir)
    assert :heirloom_nif.lookup(env, ctx.t, 1) == [{1, :kept}]
    assert :heirloom_nif.insert(env, ctx.t, {2, :new}) == true
    assert Heirloom.path() == :nif
    assert Heirloom.lookup(ctx.t, 2) == [{2, :new}]
  end

  test "delete and load again while an old store handle lives", ctx do
    old = open!(ctx.dir)
    assert :heirloom_nif.insert(old, ctx.t, {1, :old}) == true
    assert Heirloom.path() == :nif

    :code.purge(:heirloom_nif)
    assert :code.delete(:heirloom_nif)
    :code.purge(:heirloom_nif)
    assert {:module, :heirloom_nif} = :code.load_file(:heirloom_nif)

    # The old handle's resource type went with the deleted module: the new
    # code refuses it (no crash), and a handle opened now shares the same
    # open store with it.
    assert :heirloom_nif.lookup(old, ctx.t, 1) == {:error, :bad_handle}
    new = open!(ctx.dir)
    assert :heirloom_nif.lookup(new, ctx.t, 1) == [{1, :old}]
    # heirloom's cached handle is such an old one: the API notices, opens
    # the store again and answers, on reads and writes alike.
    assert Heirloom.lookup(ctx.t, 1) == [{1, :old}]
    assert Heirloom.insert(ctx.t, {3, :after}) == true
    assert Heirloom.info(ctx.t, :size) >= 2
  end

  # Open, write, and keep no reference: the handle dies with this frame.
  defp write_and_drop(dir, t) do
    env = open!(dir)
    true = :heirloom_nif.insert(env, t, {1, :kept})
    :ok
  end
end
