# The survive-the-fire demo (`make demo`). This script is the narrator: it
# runs the application in separate BEAM VMs (real OS processes) and kills
# things for real: the server, the whole VM (kill -9), and the C node itself.
rows = String.to_integer(System.get_env("DEMO_ROWS", "1000000"))
batch = 10_000
batch_delay_ms = String.to_integer(System.get_env("DEMO_BATCH_DELAY_MS", "100"))
cnode = :"heirloom_demo@127.0.0.1"
table = :customers
dir = "/dev/shm/heirloom/#{cnode}"

defmodule Demo do
  def say(s), do: IO.puts(s)
  def ms(us), do: :io_lib.format("~.1f ms", [us / 1000]) |> to_string()
  def s(us), do: :io_lib.format("~.1f s", [us / 1_000_000]) |> to_string()

  def sh(cmd), do: System.cmd("sh", ["-c", cmd], stderr_to_stdout: true)

  def start_vm(label, modules) do
    paths = Enum.flat_map(:code.get_path(), fn p -> [~c"-pa", p] end)
    name = ~c"demo_#{label}_#{System.unique_integer([:positive])}"

    {:ok, _, node} =
      :peer.start(%{
        name: name,
        host: ~c"127.0.0.1",
        longnames: true,
        args: [~c"-setcookie", Atom.to_charlist(Node.get_cookie()) | paths]
      })

    for {mod, bin} <- modules, do: {:module, ^mod} = :erpc.call(node, :code, :load_binary, [mod, ~c"#{mod}", bin])
    os_pid = node |> :erpc.call(:os, :getpid, []) |> List.to_integer()
    {node, os_pid}
  end

  def progress(done, total) do
    width = 40
    filled = div(done * width, total)
    IO.write("\r  [#{String.duplicate("#", filled)}#{String.duplicate(".", width - filled)}] #{done}/#{total}")
  end

  def kill9(os_pid), do: sh("kill -9 #{os_pid}")

  # A zombie is dead too: detached processes are reaped late by PID 1 here.
  def wait_dead(os_pid) do
    case File.read("/proc/#{os_pid}/stat") do
      {:ok, stat} ->
        if stat |> String.split(") ") |> List.last() |> String.first() != "Z" do
          Process.sleep(5)
          wait_dead(os_pid)
        end

      {:error, _} ->
        :ok
    end

    :ok
  end
end

# --- set-up: a fresh demo C node, so the first load really is a load ---------
# The embedded default uses the standard epmd, as `erl -name` does; if the
# demo had to start it, it stops it again at the end.
{_, epmd_was_down} = Demo.sh("epmd -names")
Demo.sh("epmd -daemon")
{:ok, _} = Node.start(:"heirloom_demo_narrator_#{System.os_time(:millisecond)}@127.0.0.1", :longnames)
Node.set_cookie(:"heirloom_demo_#{System.os_time(:millisecond)}")
Demo.sh("pkill -9 -f 'heirloom_nod[e] --name #{cnode}'")
File.rm_rf!(dir)
modules = Enum.flat_map(["examples/data_backup/data_backup.ex", "examples/demo/demo_app.ex"], &Code.compile_file/1)

Demo.say("\n== Heirloom: surviving the fire ==")
Demo.say("A server loads #{rows} customer records from a slow source into a table, then we burn things down.\n")

{vm1, vm1_os} = Demo.start_vm("app1", modules)
:ok = :erpc.call(vm1, DemoApp, :start, [cnode, table])
cnode_os = :erpc.call(vm1, :heirloom_embedded, :os_pid, [])
Demo.say("1. App VM started (OS pid #{vm1_os}); it started its own C node #{cnode} (OS pid #{cnode_os}).")

Demo.say("2. Loading from the slow source (#{batch_delay_ms} ms per #{batch} rows):")
t0 = System.monotonic_time(:microsecond)

for i <- 1..rows//batch do
  j = min(i + batch - 1, rows)
  true = :erpc.call(vm1, DemoApp, :load_batch, [i, j, batch_delay_ms], 60_000)
  Demo.progress(j, rows)
end

reload_us = System.monotonic_time(:microsecond) - t0
IO.puts("")
Demo.say("   loaded in #{Demo.s(reload_us)}: this is what every crash costs without Heirloom.")

{true, lookup_us} = :erpc.call(vm1, DemoApp, :random_lookups, [10_000, rows], 60_000)
Demo.say("3. Serving: 10,000 random lookups through the server in #{Demo.ms(lookup_us)}.")

server_us = :erpc.call(vm1, DemoApp, :kill_server, [rows], 60_000)

Demo.say(
  "4. Server killed (:kill). The supervisor restarted it; it claimed the table back and served row #{rows} after #{Demo.ms(server_us)}."
)

Demo.say("5. kill -9 of the whole app VM (OS pid #{vm1_os}) ...")
Demo.kill9(vm1_os)
Demo.wait_dead(vm1_os)
t_vm = System.monotonic_time(:microsecond)
{vm2, vm2_os} = Demo.start_vm("app2", modules)
boot_us = System.monotonic_time(:microsecond) - t_vm
:ok = :erpc.call(vm2, DemoApp, :start, [cnode, table])
true = :erpc.call(vm2, DemoApp, :safe_get, [rows])
vm_us = System.monotonic_time(:microsecond) - t_vm
size = :erpc.call(vm2, Heirloom, :info, [table, :size])
same_cnode = :erpc.call(vm2, :heirloom_embedded, :os_pid, []) == cnode_os

Demo.say(
  "   a new VM (OS pid #{vm2_os}) booted in #{Demo.ms(boot_us)}, its app found the same C node (#{same_cnode}), claimed #{size} rows and served one #{Demo.ms(vm_us - boot_us)} later."
)

Demo.say("6. kill -9 of the C node itself (OS pid #{cnode_os}) ...")
t_c = System.monotonic_time(:microsecond)
Demo.kill9(cnode_os)
Demo.wait_dead(cnode_os)
# Timed from here: monotonic clocks of different VMs cannot be compared.
c_us = DemoApp.time_until(fn -> :erpc.call(vm2, DemoApp, :owned_and_served, [table, rows], 60_000) end, t_c)
new_cnode = :erpc.call(vm2, :heirloom_embedded, :os_pid, [])
size2 = :erpc.call(vm2, Heirloom, :info, [table, :size])

Demo.say(
  "   the app restarted it (new OS pid #{new_cnode}) and its server claimed the table again: #{size2} rows, all from the LMDB store, served #{Demo.ms(c_us)} after the kill."
)

Demo.say("\n| crash | reload from the source | Heirloom recovery | faster by |")
Demo.say("|---|---|---|---|")

for {what, us} <- [
      {"server killed (:kill)", server_us},
      {"BEAM VM kill -9 (#{Demo.ms(boot_us)} of it the new VM's boot)", vm_us},
      {"C node kill -9", c_us}
    ] do
  Demo.say("| #{what} | #{Demo.s(reload_us)} | #{Demo.ms(us)} | #{round(reload_us / max(us, 1))}x |")
end

# --- clean up what the demo started --------------------------------------------
Demo.kill9(vm2_os)
Demo.kill9(new_cnode)
File.rm_rf!(dir)
File.rm(dir <> ".cookie")
File.rm(dir <> ".log")
# Only if empty: other nodes' stores may live there.
File.rmdir(Path.dirname(dir))
Node.stop()
# epmd -kill refuses while any node is registered, so it never stops an epmd in use.
# The nodes just stopped leave epmd when it sees their connections close: wait
# (a few seconds at most) until none is listed, or -kill would refuse them.
if epmd_was_down != 0 do
  Enum.find(1..50, fn _ ->
    not (Demo.sh("epmd -names") |> elem(0) |> String.contains?("name ")) or (Process.sleep(100) && false)
  end)

  Demo.sh("epmd -kill")
end

Demo.say("\nDemo finished; its VMs, C node and store are gone (and epmd, if the demo started it).")
