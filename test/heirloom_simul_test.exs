defmodule Heirloom.SimulTest do
  # Both sides connecting at once. A fake node, written here with gen_tcp
  # from the protocol description (an independent implementation of the
  # handshake), is registered in epmd; the C node is made to connect to it
  # (give_away to a pid on it) and, while that handshake waits, the fake node
  # connects to the C node too. erts's rule: the attempt of the node with the
  # greater name goes on, the other side answers "nok" to the lesser one.
  # Either way the C node must end with one working connection carrying what
  # it queued (the monitors of the give_away's probe).
  use ExUnit.Case, async: false
  @moduletag :slow

  import Bitwise
  alias HeirloomTest.CNode

  # DFLAG_MANDATORY_25_DIGEST | DFLAG_HANDSHAKE_23 | DFLAG_DIST_MONITOR
  @flags 0x4000000 ||| 0x1000000 ||| 0x8

  setup do
    c = CNode.start()
    Heirloom.set_node(CNode.name(c))
    on_exit(fn -> if Process.alive?(c), do: GenServer.stop(c) end)
    %{node: CNode.name(c)}
  end

  defp cookie, do: Atom.to_string(Node.get_cookie())
  defp digest(challenge), do: :erlang.md5(cookie() <> Integer.to_string(challenge))

  defp epmd_port do
    {:ok, [[p | _] | _]} = :init.get_argument(:epmd_port)
    List.to_integer(p)
  end

  # Register `alive` at `port` in epmd; the returned socket keeps it there.
  defp register(alive, port) do
    {:ok, s} = :gen_tcp.connect({127, 0, 0, 1}, epmd_port(), [:binary, active: false])
    req = <<120, port::16, ?H, 0, 6::16, 6::16, byte_size(alive)::16, alive::binary, 0::16>>
    :ok = :gen_tcp.send(s, <<byte_size(req)::16, req::binary>>)
    {:ok, <<tag, 0, _::binary>>} = :gen_tcp.recv(s, 0, 2_000)
    assert tag in [118, 121]
    s
  end

  defp fake_pid(node) do
    n = Atom.to_string(node)
    :erlang.binary_to_term(<<131, 88, 119, byte_size(n), n::binary, 1::32, 0::32, 7::32>>)
  end

  defp recv!(s), do: elem({:ok, _} = :gen_tcp.recv(s, 0, 5_000), 1)

  defp name_packet(node) do
    n = Atom.to_string(node)
    <<?N, @flags::64, 7::32, byte_size(n)::16, n::binary>>
  end

  # We accept the C node's connection: its name, then our status.
  defp accept_name(a, cnode) do
    <<?N, _flags::64, _creation::32, len::16, name::binary-size(len)>> = recv!(a)
    assert name == Atom.to_string(cnode)
  end

  defp accept_rest(a, me) do
    ours = 1234
    n = Atom.to_string(me)
    :ok = :gen_tcp.send(a, <<?N, @flags::64, ours::32, 7::32, byte_size(n)::16, n::binary>>)
    <<?r, theirs::32, d::binary-size(16)>> = recv!(a)
    assert d == digest(ours)
    :ok = :gen_tcp.send(a, <<?a, digest(theirs)::binary>>)
  end

  # We connect to the C node: our name was sent; status, challenge, reply, ack.
  defp connect_rest(b, cnode) do
    <<?N, _flags::64, theirs::32, _cr::32, len::16, name::binary-size(len)>> = recv!(b)
    assert name == Atom.to_string(cnode)
    ours = 4321
    :ok = :gen_tcp.send(b, <<?r, ours::32, digest(theirs)::binary>>)
    <<?a, d::binary-size(16)>> = recv!(b)
    assert d == digest(ours)
  end

  # Serve distribution frames on s until the probe of the give_away comes:
  # answer the monitor of the never-registered name with noproc, keep the
  # pid's monitor (it is alive), and report the 'ETS-TRANSFER'.
  defp serve(s, test) do
    :ok = :inet.setopts(s, packet: 4)
    serve_loop(s, test)
  end

  defp serve_loop(s, test) do
    case :gen_tcp.recv(s, 0, 8_000) do
      {:ok, <<>>} ->
        :gen_tcp.send(s, <<>>)
        serve_loop(s, test)

      {:ok, <<112, rest::binary>>} ->
        {ctl, used} = :erlang.binary_to_term(rest, [:used])
        msg = if used < byte_size(rest), do: :erlang.binary_to_term(binary_part(rest, used, byte_size(rest) - used))

        case ctl do
          {19, from, name, ref} when is_atom(name) ->
            :ok = :gen_tcp.send(s, [112 | :erlang.term_to_binary({21, name, from, ref, :noproc})])

          {t, _, _} when t in [2, 22] ->
            send(test, {:fake_got, msg})

          {t, _, _, _} when t in [2, 22] ->
            send(test, {:fake_got, msg})

          _ ->
            :ok
        end

        serve_loop(s, test)

      {:error, reason} ->
        send(test, {:fake_closed, reason})
    end
  end

  for {prefix, wins} <- [{"a_fake", :cnode}, {"z_fake", :fake}] do
    test "simultaneous connect, #{prefix}: the #{wins}'s attempt goes on", %{node: cnode} do
      alive = "#{unquote(prefix)}_#{System.unique_integer([:positive])}"
      me = :"#{alive}@127.0.0.1"
      {:ok, l} = :gen_tcp.listen(0, [:binary, active: false, packet: 2, ip: {127, 0, 0, 1}])
      {:ok, port} = :inet.port(l)
      reg = register(alive, port)
      test = self()

      task =
        Task.async(fn ->
          t = Heirloom.new(:"simul_#{System.unique_integer([:positive])}", [:named_table])
          send(test, {:table, t})
          {t, Heirloom.give_away(t, fake_pid(me), :gift)}
        end)

      assert_receive {:table, t}, 2_000
      # The C node connects to us (A) and sends its name...
      {:ok, a} = :gen_tcp.accept(l, 5_000)
      accept_name(a, cnode)
      # ... and while A waits, we connect to it (B).
      {:ok, names} = :erl_epmd.names(~c"127.0.0.1")
      [calive, _] = cnode |> Atom.to_string() |> String.split("@")
      {_, cport} = List.keyfind(names, String.to_charlist(calive), 0)
      {:ok, b} = :gen_tcp.connect({127, 0, 0, 1}, cport, [:binary, active: false, packet: 2])
      :ok = :gen_tcp.send(b, name_packet(me))

      case unquote(wins) do
        :cnode ->
          # The C node's name is greater: it refuses B and goes on with A.
          assert recv!(b) == "snok"
          :ok = :gen_tcp.send(a, "sok_simultaneous")
          accept_rest(a, me)
          :gen_tcp.close(b)
          spawn_link(fn -> serve(a, test) end)

        :fake ->
          # Ours is greater: the C node lets B go on and drops A when we say
          # nok; what it queued for A goes out on B.
          assert recv!(b) == "sok_simultaneous"
          :ok = :gen_tcp.send(a, "snok")
          :gen_tcp.close(a)
          connect_rest(b, cnode)
          spawn_link(fn -> serve(b, test) end)
      end

      assert {^t, true} = Task.await(task, 10_000)
      assert_receive {:fake_got, {:"ETS-TRANSFER", ^t, _, :gift}}, 5_000
      assert Heirloom.info(t, :owner) == fake_pid(me)
      assert Heirloom.ping() == :pong
      :gen_tcp.close(reg)
      :gen_tcp.close(l)
    end
  end
end
