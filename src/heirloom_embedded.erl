%% @doc The embedded default: make sure a C node answers at the configured
%% name, starting `priv/heirloom_node' when none does, and keep it so.
%%
%% Put it in a supervision tree (`heirloom_sup:start_link(Opts)', or
%% `{Heirloom, Opts}' in Elixir). Options (a proplist or map):
%%   node   - the C node's name (default the `heirloom' app's `node' env)
%%   start  - `auto' (default): start the C node when none answers;
%%            `never': only connect to one that runs
%%   dir    - store directory (default: the C node's, /dev/shm/heirloom/NODE)
%%   args   - extra command-line arguments for heirloom_node (strings)
%%
%% The binary is `priv/heirloom_node', or the one the OS environment
%% variable HEIRLOOM_NODE names (a debug or sanitized build, say).
%%
%% The C node is started detached (its own session, output to a log file
%% beside the store) so that it outlives this VM: a VM that crashed and came
%% back finds the same C node by name, and its servers claim their tables
%% with every row.
%%
%% When the connection to the C node drops, this process exits and its
%% supervisor starts it again: init reconnects, or restarts the C node if it
%% died and `start' is `auto'. Put `Heirloom' before the servers that use its
%% tables under `rest_for_one' (like a database repo): they are restarted
%% after it and claim their tables again, which they must after a C node
%% restart, since a restarted C node holds every table until it is claimed.
-module(heirloom_embedded).
-behaviour(gen_server).

-export([start_link/1, cnode/0, os_pid/0]).
-export([init/1, handle_call/3, handle_cast/2, handle_info/2]).

-define(READY_TIMEOUT, 10000).

-record(st, {node, start, dir, args}).

start_link(Opts) ->
    gen_server:start_link({local, ?MODULE}, ?MODULE, Opts, []).

%% @doc The C node this VM uses.
-spec cnode() -> node().
cnode() -> heirloom:node().

%% @doc The OS pid of the C node, as it reports it.
-spec os_pid() -> integer().
os_pid() -> proplists:get_value(os_pid, heirloom:store_info()).

opt(Key, Opts, Default) when is_map(Opts) -> maps:get(Key, Opts, Default);
opt(Key, Opts, Default) -> proplists:get_value(Key, Opts, Default).

init(Opts) ->
    St = #st{node = opt(node, Opts, heirloom:node()),
             start = opt(start, Opts, auto),
             dir = opt(dir, Opts, undefined),
             args = [to_list(A) || A <- opt(args, Opts, [])]},
    case ensure_distributed() of
        ok ->
            heirloom:set_node(St#st.node),
            %% A C node started again may keep its store elsewhere.
            heirloom:forget_path(St#st.node),
            %% Before the first contact, so that no nodedown can slip by.
            ok = net_kernel:monitor_nodes(true, [{node_type, all}]),
            case ensure_cnode(St) of
                ok -> {ok, St};
                {error, Why} ->
                    {stop, Why}
            end;
        {error, Why} ->
            {stop, Why}
    end.

handle_call(_Req, _From, St) -> {reply, {error, unknown_request}, St}.
handle_cast(_Msg, St) -> {noreply, St}.

handle_info({nodedown, Node, _}, #st{node = Node} = St) ->
    {stop, {shutdown, {c_node_down, Node}}, St};
handle_info(_Msg, St) ->
    {noreply, St}.

ensure_distributed() ->
    case node() of
        nonode@nohost ->
            _ = os:cmd("epmd -daemon"),
            Name = list_to_atom("heirloom_client_" ++ os:getpid() ++ "@127.0.0.1"),
            case net_kernel:start([Name, longnames]) of
                {ok, _} -> ok;
                {error, Why} ->
                    {error, {not_distributed,
                             "Heirloom talks to its C node over Erlang distribution: start "
                             "the VM as a distributed node (erl -name app@127.0.0.1, "
                             "iex --name app@127.0.0.1) and make sure epmd can run",
                             Why}}
            end;
        _ ->
            ok
    end.

ensure_cnode(#st{node = Node, start = Start} = St) ->
    case ping(Node) of
        pong -> ok;
        pang when Start =:= auto -> start_cnode(St);
        pang -> {error, {no_c_node, Node}}
    end.

ping(Node) ->
    try heirloom:call(Node, ping, 1000) of
        pong -> pong;
        _ -> pang
    catch
        exit:_ -> pang
    end.

start_cnode(#st{node = Node, dir = Dir0, args = Args}) ->
    Exe = case os:getenv("HEIRLOOM_NODE") of
              false -> filename:join(heirloom_nif:priv_dir(), "heirloom_node");
              Path -> Path
          end,
    Dir = case Dir0 of
              undefined -> default_dir(Exe, Node);
              _ -> to_list(Dir0)
          end,
    ok = ensure_private_dir(filename:dirname(Dir)),
    CookieFile = Dir ++ ".cookie",
    ok = file:write_file(CookieFile, atom_to_list(erlang:get_cookie())),
    ok = file:change_mode(CookieFile, 8#600),
    Log = Dir ++ ".log",
    Argv = [Exe, "--name", atom_to_list(Node), "--dir", Dir, "--cookie-file", CookieFile | Args],
    %% setsid: its own session, so it survives this VM and its signals.
    %% umask 077: the log, like the store, is for this user only.
    Script = "umask 077; exec setsid \"$0\" \"$@\" </dev/null >>'" ++ Log ++ "' 2>&1 &",
    Port = open_port({spawn_executable, "/bin/sh"},
                     [{args, ["-c", Script | Argv]}, exit_status]),
    receive {Port, {exit_status, _}} -> ok after 5000 -> ok end,
    wait_ready(Node, erlang:monotonic_time(millisecond) + ?READY_TIMEOUT, Log).

wait_ready(Node, Deadline, Log) ->
    case ping(Node) of
        pong -> ok;
        pang ->
            case erlang:monotonic_time(millisecond) > Deadline of
                true -> {error, {c_node_not_ready, Node, {log, Log}}};
                false -> timer:sleep(20), wait_ready(Node, Deadline, Log)
            end
    end.

%% The C node decides its default store directory; ask it, so the rule has
%% one home (c_src/hl_main.c).
default_dir(Exe, Node) ->
    Port = open_port({spawn_executable, Exe},
                     [{args, ["--name", atom_to_list(Node), "--default-dir"]},
                      exit_status, {line, 4096}]),
    collect_line(Port, undefined).

collect_line(Port, Line) ->
    receive
        {Port, {data, {eol, L}}} -> collect_line(Port, L);
        {Port, {exit_status, 0}} when Line =/= undefined -> Line;
        {Port, {exit_status, S}} -> error({c_node_default_dir, S})
    end.

%% Parents of the store directory (the C node makes the store directory
%% itself, 0700): created 0700 too, so no other user can list the stores.
ensure_private_dir(Dir) ->
    case filelib:is_dir(Dir) of
        true -> ok;
        false ->
            ok = ensure_private_dir(filename:dirname(Dir)),
            case file:make_dir(Dir) of
                ok -> file:change_mode(Dir, 8#700);
                {error, eexist} -> ok
            end
    end.

to_list(A) when is_atom(A) -> atom_to_list(A);
to_list(B) when is_binary(B) -> binary_to_list(B);
to_list(L) when is_list(L) -> L.
