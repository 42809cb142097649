defmodule Heirloom.FullStoreTest do
  # A full filesystem is an error on both paths, never a signal (issue 10,
  # item 5), with MDB_WRITEMAP in the C node and in the NIF alike. The C node's store sits on a small tmpfs mounted for the test;
  # after the C node started, a plain file fills the filesystem (someone
  # else). Writes then raise badarg with cause `full`, through the C node and
  # through the NIF; the C node keeps answering, rows stay readable, and once
  # the file is gone writes work again.
  #
  # Mounting needs root (or CAP_SYS_ADMIN). Where mount is refused the tests
  # are skipped, with the reason mount gave; they never pass without running.
  use ExUnit.Case, async: false

  alias HeirloomTest.CNode

  @size "16m"

  # Probe once, when the file is loaded: can this process mount a tmpfs?
  @mount_refused (fn ->
                    dir = Path.join(System.tmp_dir!(), "hl_mount_probe_#{System.os_time()}")
                    File.mkdir_p!(dir)

                    result =
                      case System.find_executable("mount") do
                        nil ->
                          "no mount command"

                        mount ->
                          case System.cmd(mount, ["-t", "tmpfs", "-o", "size=1m", "tmpfs", dir], stderr_to_stdout: true) do
                            {_, 0} ->
                              System.cmd("umount", [dir], stderr_to_stdout: true)
                              nil

                            {out, _} ->
                              String.trim(out)
                          end
                      end

                    File.rmdir(dir)
                    result
                  end).()

  if @mount_refused do
    @moduletag skip: "cannot mount a small tmpfs here (#{@mount_refused}): full-filesystem tests skipped"
  end

  setup do
    mnt = HeirloomTest.tmp_dir("full_fs")
    {_, 0} = System.cmd("mount", ["-t", "tmpfs", "-o", "size=#{@size},mode=0700", "tmpfs", mnt])
    c = CNode.start(dir: Path.join(mnt, "store"))
    node = CNode.name(c)
    Heirloom.set_node(node)

    on_exit(fn ->
      Application.delete_env(:heirloom, :path)
      :heirloom.forget_path(node)
      if Process.alive?(c), do: GenServer.stop(c)
      System.cmd("umount", ["-l", mnt], stderr_to_stdout: true)
    end)

    %{c: c, node: node, mnt: mnt}
  end

  defp use_path(path, node) do
    Application.put_env(:heirloom, :path, if(path == :nif, do: :auto, else: :cnode))
    :heirloom.forget_path(node)
    assert Heirloom.path() == path
  end

  # Write a plain file until the filesystem says it is full.
  defp fill(mnt) do
    path = Path.join(mnt, "filler")
    {:ok, f} = File.open(path, [:write, :raw, :binary])
    chunk = :binary.copy(<<0>>, 64 * 1024)
    fill_loop(f, chunk)
    File.close(f)
    path
  end

  defp fill_loop(f, chunk) do
    case IO.binwrite(f, chunk) do
      :ok -> fill_loop(f, chunk)
      {:error, :enospc} -> :ok
    end
  end

  # Insert 256 KiB rows until one is refused: {rows written, cause}.
  defp insert_until_refused(tab, from) do
    big = :binary.copy(<<1>>, 256 * 1024)

    Enum.reduce_while(from..(from + 400), nil, fn i, _ ->
      try do
        true = Heirloom.insert(tab, {i, big})
        {:cont, {:all_written, i}}
      catch
        :error, :badarg -> {:halt, {i - from, cause(__STACKTRACE__)}}
      end
    end)
  end

  # Lists of 20 small rows, each small enough for the NIF's normal-scheduler
  # path (which answers `dirty`, redone on a dirty scheduler, when the map
  # must grow), until one is refused: its cause.
  defp insert_small_until_refused(tab, from) do
    row = :binary.copy(<<2>>, 200)

    Enum.reduce_while(from..(from + 20_000), nil, fn i, _ ->
      try do
        true = Heirloom.insert(tab, for(j <- 1..20, do: {{i, j}, row}))
        {:cont, :all_written}
      catch
        :error, :badarg -> {:halt, cause(__STACKTRACE__)}
      end
    end)
  end

  defp cause([{_, _, _, info} | _]), do: get_in(info, [:error_info, :cause])
  defp cause(_), do: nil

  defp full_store_survives(path, %{c: c, node: node, mnt: mnt}) do
    use_path(path, node)
    tab = Heirloom.new(:"full_#{path}", [:named_table, :public])
    assert Heirloom.insert(tab, {0, :first})
    filler = fill(mnt)

    assert {_, :full} = insert_until_refused(tab, 1)
    # Refused again, not a crash the second time either.
    assert {0, :full} = insert_until_refused(tab, 1000)
    # Small writes fill what room is left, then are refused the same way.
    assert insert_small_until_refused(tab, 0) == :full

    # The C node is alive and serving; the rows are there.
    assert HeirloomTest.os_alive?(CNode.os_pid(c))
    assert :heirloom.call(node, :ping) == :pong
    assert Heirloom.lookup(tab, 0) == [{0, :first}]
    assert :heirloom.call(node, {:lookup, tab, 0}) == [{0, :first}]

    # Room again: writes go on.
    File.rm!(filler)
    assert Heirloom.insert(tab, {2000, :after})
    assert Heirloom.lookup(tab, 2000) == [{2000, :after}]
    assert HeirloomTest.os_alive?(CNode.os_pid(c))
  end

  test "through the C node: {error, full}, and the C node survives", ctx do
    full_store_survives(:cnode, ctx)
  end

  test "through the NIF: {error, full}, and the VM and the C node survive", ctx do
    full_store_survives(:nif, ctx)
  end
end
