defmodule Heirloom.CliTest do
  # Start-up errors print one clear line and exit non-zero.
  use ExUnit.Case, async: true

  alias HeirloomTest.CNode

  defp run(args) do
    System.cmd(CNode.exe(), args, stderr_to_stdout: true)
  end

  defp base_args(name) do
    ["--name", "#{HeirloomTest.unique_node(name)}", "--cookie", "c"]
  end

  test "--help and --version" do
    {out, 0} = run(["--help"])
    assert out =~ "--cookie-file"
    {out, 0} = run(["--version"])
    assert out =~ ~r/heirloom_node \d+\.\d+\.\d+/
  end

  test "an unknown option fails" do
    {_, code} = run(["--bogus"])
    assert code != 0
  end

  test "a missing cookie file fails with one line" do
    {out, code} = run(["--cookie-file", "/nonexistent/cookie", "--dir", HeirloomTest.tmp_dir("x")])
    assert code != 0
    assert out =~ "cannot read cookie file /nonexistent/cookie"
    assert length(String.split(String.trim(out), "\n")) == 1
  end

  test "an unwritable store directory fails with one line" do
    file = Path.join(HeirloomTest.tmp_dir("f"), "plainfile")
    File.write!(file, "x")
    {out, code} = run(base_args("dirfail") ++ ["--dir", Path.join(file, "sub")])
    assert code != 0
    assert out =~ "store directory"
  end

  test "a port in use fails with one line" do
    {:ok, s} = :gen_tcp.listen(0, ip: {127, 0, 0, 1})
    {:ok, port} = :inet.port(s)

    {out, code} = run(base_args("portfail") ++ ["--port", "#{port}", "--dir", HeirloomTest.tmp_dir("p")])

    :gen_tcp.close(s)
    assert code != 0
    assert out =~ "cannot listen"
  end

  test "a bad --sync mode fails" do
    {out, code} = run(base_args("sync") ++ ["--sync", "sometimes"])
    assert code != 0
    assert out =~ "--sync"
  end

  # One C node per store directory: a second one (another name, the same
  # --dir) would take the tables from their live owners as it starts.
  test "a second node on a store directory in use fails with one line and changes nothing" do
    c = CNode.start()
    node = CNode.name(c)
    me = self()
    :t = :heirloom.call(node, {:new, :t, [:named_table, :protected]})
    {out, code} = run(base_args("second") ++ ["--dir", CNode.dir(c)])
    assert code != 0
    assert out =~ "another heirloom_node serves store directory"
    assert length(String.split(String.trim(out), "\n")) == 1
    assert :heirloom.call(node, {:info, :t, :owner}) == me
    assert :heirloom.call(node, {:insert, :t, {1, :still_mine}}) == true
    CNode.stop(c)
  end

  test "a bad --busy-wait fails" do
    for v <- ["-1", "x", "", "1000001", "5us"] do
      {out, code} = run(base_args("busy") ++ ["--busy-wait", v])
      assert code != 0
      assert out =~ "--busy-wait"
    end
  end

  # Sleeps in poll() are the C node's voluntary context switches (its one
  # thread, in /proc): with a long --busy-wait a caller's calls in a row
  # find it awake; with 0 it sleeps after each burst. Counted, not timed.
  test "--busy-wait keeps the node polling between calls; 0 lets it sleep" do
    for {us, ok?} <- [{"1000000", &(&1 < 0.2)}, {"0", &(&1 > 0.5)}] do
      c = CNode.start(args: ["--busy-wait", us])
      node = CNode.name(c)
      :t = :heirloom.call(node, {:new, :t, [:named_table, :public]})
      true = :heirloom.call(node, {:insert, :t, {1, :a}})
      [{1, :a}] = :heirloom.call(node, {:lookup, :t, 1})
      before = sleeps(CNode.os_pid(c))
      for _ <- 1..200, do: [{1, :a}] = :heirloom.call(node, {:lookup, :t, 1})
      per_call = (sleeps(CNode.os_pid(c)) - before) / 200
      assert ok?.(per_call), "--busy-wait #{us}: #{per_call} sleeps per call"
      CNode.stop(c)
    end
  end

  # An idle node sleeps in poll(): with no call, and with six processes
  # monitoring it (as six callers mid-call would; the node then gathers
  # instead of spinning), its CPU over half a second stays near nothing,
  # where a loop that spins would use all of it.
  test "an idle node sleeps, also while six processes monitor it" do
    c = CNode.start()
    node = CNode.name(c)
    os = CNode.os_pid(c)
    :pong = :heirloom.call(node, :ping)
    Process.sleep(200)
    assert cpu_ms_over(os, 500) < 100

    watchers =
      for _ <- 1..6 do
        spawn(fn ->
          Process.monitor({:heirloom, node})
          receive do: (:stop -> :ok)
        end)
      end

    :pong = :heirloom.call(node, :ping)
    Process.sleep(200)
    assert cpu_ms_over(os, 500) < 100
    Enum.each(watchers, &send(&1, :stop))
    CNode.stop(c)
  end

  # CPU (user + system) an OS process used over the next `ms` ms, in ms.
  defp cpu_ms_over(os_pid, ms) do
    t0 = HeirloomTest.os_cpu_us(os_pid)
    Process.sleep(ms)
    (HeirloomTest.os_cpu_us(os_pid) - t0) / 1000
  end

  defp sleeps(os_pid) do
    [_, n] = Regex.run(~r/^voluntary_ctxt_switches:\s+(\d+)/m, File.read!("/proc/#{os_pid}/status"))
    String.to_integer(n)
  end

  # The node started through a pipe: with --exit-with-stdin it stops when
  # the pipe closes (its parent is gone); without, it lives on.
  test "--exit-with-stdin stops the node when its parent's pipe closes" do
    for flag <- [true, false] do
      dir = HeirloomTest.tmp_dir("stdin")

      args =
        base_args("stdin") ++
          ["--cookie", "#{Node.get_cookie()}", "--dir", dir] ++ if(flag, do: ["--exit-with-stdin"], else: [])

      port =
        Port.open({:spawn_executable, CNode.exe()}, [
          :binary,
          :exit_status,
          :stderr_to_stdout,
          {:line, 4096},
          args: args
        ])

      assert_receive {^port, {:data, {:eol, "heirloom_node ready " <> rest}}}, 10_000
      [_, pid] = Regex.run(~r/pid=(\d+)/, rest)
      os_pid = String.to_integer(pid)
      Port.close(port)

      if flag do
        HeirloomTest.wait_until(fn -> not HeirloomTest.os_alive?(os_pid) end)
      else
        Process.sleep(300)
        assert HeirloomTest.os_alive?(os_pid)
        HeirloomTest.kill(os_pid, "KILL")
        HeirloomTest.wait_until(fn -> not HeirloomTest.os_alive?(os_pid) end)
      end
    end
  end
end
