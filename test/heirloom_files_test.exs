defmodule Heirloom.FilesTest do
  # The store holds the application's rows: only its user may read them.
  use ExUnit.Case, async: true

  alias HeirloomTest.CNode

  defp mode(path), do: Bitwise.band(File.stat!(path).mode, 0o7777)

  test "a new store is a 0700 directory of 0600 files" do
    c = CNode.start()
    dir = CNode.dir(c)
    gen_call(c, {:new, :perm_t, [:named_table]})
    assert mode(dir) == 0o700
    assert mode(Path.join(dir, "data.mdb")) == 0o600
    assert mode(Path.join(dir, "lock.mdb")) == 0o600
    CNode.stop(c)
  end

  test "an existing store with loose modes is narrowed" do
    dir = HeirloomTest.tmp_dir("loose")
    c = CNode.start(dir: dir)
    CNode.stop(c)
    File.chmod!(dir, 0o755)
    File.chmod!(Path.join(dir, "data.mdb"), 0o644)
    File.chmod!(Path.join(dir, "lock.mdb"), 0o666)
    c = CNode.start(dir: dir)
    assert mode(dir) == 0o700
    assert mode(Path.join(dir, "data.mdb")) == 0o600
    assert mode(Path.join(dir, "lock.mdb")) == 0o600
    CNode.stop(c)
  end

  test "a store directory others can write is refused with one line" do
    dir = HeirloomTest.tmp_dir("open")
    File.chmod!(dir, 0o777)

    {out, code} =
      System.cmd(
        CNode.exe(),
        ["--name", "#{HeirloomTest.unique_node("wr")}", "--cookie", "c", "--dir", dir],
        stderr_to_stdout: true
      )

    assert code != 0
    assert out =~ "writable by other users"
    assert length(String.split(String.trim(out), "\n")) == 1
    refute File.exists?(Path.join(dir, "data.mdb"))
  end

  test "the NIF refuses such a directory too, with an atom" do
    dir = HeirloomTest.tmp_dir("nifopen")
    File.chmod!(dir, 0o777)
    assert {:error, :store} = :heirloom_nif.open(String.to_charlist(dir))
  end

  test "--default-dir says where the embedded default keeps a node's store" do
    {out, 0} = System.cmd(CNode.exe(), ["--name", "x@h", "--default-dir"])
    assert String.trim(out) == "/dev/shm/heirloom/x@h"
  end

  defp gen_call(c, req), do: GenServer.call({:heirloom, CNode.name(c)}, req)
end
