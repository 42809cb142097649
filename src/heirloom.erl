%% @doc Heirloom: ETS-like tables that outlive their owner, the BEAM VM and
%% the C node that holds them.
%%
%% The functions mirror `ets' (same names, arguments and return values) and
%% talk to a `heirloom_node' C node with plain `gen_server:call/3': the
%% request for `ets:F(A1, ..., An)' is `{F, A1, ..., An}'. Where ETS raises
%% `badarg', these raise `badarg' too, with the C node's reason available
%% through `erl_error' (`no_table', `access', `not_owner', ...). `call/1,2'
%% is the non-raising variant: it returns `{error, Reason}' instead.
%%
%% The C node is found through the application environment key `node'
%% (default `heirloom@127.0.0.1'), or given explicitly to `call/2'.
-module(heirloom).

-export([new/2, insert/2, insert_new/2, lookup/2, member/2, delete/1, delete/2,
         delete_all_objects/1, info/1, info/2, all/0, tab2list/1, give_away/3,
         setopts/2, claim/2, ping/0, store_info/0]).
-export([call/1, call/2, call/3, node/0, set_node/1, format_error/2]).
-export([path/0, forget_path/1]).

-type tab() :: atom() | reference().
-type reason() :: atom() | {owned_by, pid()}
                | {type_mismatch, atom()} | {keypos_mismatch, pos_integer()}.
-export_type([tab/0, reason/0]).

-define(DEFAULT_PATH, {?MODULE, default_path}).

%% @doc The C node that calls without an explicit node go to.
-spec node() -> node().
node() ->
    application:get_env(heirloom, node, 'heirloom@127.0.0.1').

%% @doc Point this VM's calls at another C node.
-spec set_node(node()) -> ok.
set_node(Node) when is_atom(Node) ->
    application:set_env(heirloom, node, Node),
    _ = persistent_term:erase(?DEFAULT_PATH),
    ok.

%% @doc Send a raw request to the default C node; never raises for
%% `{error, _}' replies. Exits like `gen_server:call/3' if the node is down.
-spec call(term()) -> term().
call(Request) ->
    call(?MODULE:node(), Request).

-spec call(node(), term()) -> term().
call(Node, Request) ->
    call(Node, Request, application:get_env(heirloom, timeout, 5000)).

-spec call(node(), term(), timeout()) -> term().
call(Node, Request, Timeout) ->
    gen_server:call({heirloom, Node}, Request, Timeout).

%% @doc Like `ets:new/2'. Options: `set' (the only type so far), `public',
%% `protected', `private', `named_table', `{keypos, K}', `{heir, Pid, Data}',
%% `{heir, none}'. Without a heir option the C node is the heir.
%%
%% A named table whose owner died with no live heir to take it is held by
%% the C node: `new' takes it over instead of raising, rows and all (so an
%% ETS DataMaster that calls `new' in `init/1' boots again after its whole
%% VM died). This call's protection and heir apply from then on; its type
%% and keypos must be the table's (else `badarg' with cause
%% `{type_mismatch, Type}' or `{keypos_mismatch, Keypos}', the table's own).
%% `info(Tab, adopted)' is then `true'. A table owned by a live process
%% still raises `badarg' (`already_exists'), as in ETS.
-spec new(atom(), [term()]) -> tab().
new(Name, Opts) -> checked([Name, Opts], {new, Name, Opts}).

-spec insert(tab(), tuple() | [tuple()]) -> true.
insert(Tab, Objects) -> fast(insert, [Tab, Objects]).

-spec insert_new(tab(), tuple() | [tuple()]) -> boolean().
insert_new(Tab, Objects) -> fast(insert_new, [Tab, Objects]).

-spec lookup(tab(), term()) -> [tuple()].
lookup(Tab, Key) -> fast(lookup, [Tab, Key]).

-spec member(tab(), term()) -> boolean().
member(Tab, Key) -> fast(member, [Tab, Key]).

-spec delete(tab()) -> true.
delete(Tab) -> checked([Tab], {delete, Tab}).

-spec delete(tab(), term()) -> true.
delete(Tab, Key) -> fast(delete, [Tab, Key]).

-spec delete_all_objects(tab()) -> true.
delete_all_objects(Tab) -> checked([Tab], {delete_all_objects, Tab}).

%% @doc Like `ets:info/1': a property list, or `undefined' for no table.
%% Heirloom adds `held_by_heirloom', `adopted' (the table came back from the
%% C node's hold with its rows, through `new' or `claim') and `memory_bytes';
%% `memory' is in words.
-spec info(tab()) -> [{atom(), term()}] | undefined.
info(Tab) -> checked([Tab], {info, Tab}).

-spec info(tab(), atom()) -> term().
info(Tab, size) ->
    %% The one info item on the fast path: ETS users poll it.
    case default_path() of
        {nif, Env} ->
            case nif_call(size, Env, [Tab]) of
                {error, no_table} -> undefined;
                Reply -> raise_on_error([Tab, size], Reply)
            end;
        cnode ->
            checked([Tab, size], {info, Tab, size})
    end;
info(Tab, Item) -> checked([Tab, Item], {info, Tab, Item}).

-spec all() -> [tab()].
all() -> checked([], {all}).

-spec tab2list(tab()) -> [tuple()].
tab2list(Tab) -> checked([Tab], {tab2list, Tab}).

%% @doc Like `ets:give_away/3': the receiver gets
%% `{'ETS-TRANSFER', Tab, FromPid, GiftData}'.
-spec give_away(tab(), pid(), term()) -> true.
give_away(Tab, Pid, Gift) -> checked([Tab, Pid, Gift], {give_away, Tab, Pid, Gift}).

%% @doc Like `ets:setopts/2' (heir options only, as in ETS).
-spec setopts(tab(), term()) -> true.
setopts(Tab, Opts) -> checked([Tab, Opts], {setopts, Tab, Opts}).

%% @doc The DataMaster verb: own table `Name', creating it with `Opts' if
%% it does not exist, or taking it back from the C node if it holds it (after
%% the previous owner died, or after a restart of the C node). Returns
%% `{ok, Name}' or `{error, {owned_by, Pid}}' when a live process owns it.
-spec claim(atom(), [term()]) -> {ok, atom()} | {error, reason()}.
claim(Name, Opts) -> call({claim, Name, Opts}).

-spec ping() -> pong.
ping() -> call(ping).

%% @doc Where the C node keeps its store, and its own pid.
-spec store_info() -> [{atom(), term()}].
store_info() -> call(store_info).

%% @doc Which path calls from this VM take to the default C node's data:
%% `nif' (the store is on this host and the NIF opened it) or `cnode'. The
%% application env key `path' (`auto', the default, or `cnode') can force
%% the C node path.
-spec path() -> nif | cnode.
path() ->
    case local(?MODULE:node()) of
        {nif, _} -> nif;
        cnode -> cnode
    end.

%% @doc Forget the path decided for Node (after it restarted elsewhere, say).
-spec forget_path(node()) -> ok.
forget_path(Node) ->
    _ = persistent_term:erase({?MODULE, path, Node}),
    _ = persistent_term:erase(?DEFAULT_PATH),
    ok.

%% The NIF answers exactly what the C node answers, {error, R} included.
fast(F, Args) ->
    case default_path() of
        {nif, Env} -> raise_on_error(Args, nif_call(F, Env, Args));
        cnode -> checked(Args, list_to_tuple([F | Args]))
    end.

%% A read answers `dirty' when it must not run on a normal scheduler (a large
%% object, a busy lock): its `_dirty' twin runs on a dirty one. Writes always
%% run on dirty schedulers and never answer `dirty'.
nif_call(F, Env, Args) ->
    case apply(heirloom_nif, F, [Env | Args]) of
        dirty -> apply(heirloom_nif, dirty_twin(F), [Env | Args]);
        Reply -> Reply
    end.

dirty_twin(lookup) -> lookup_dirty;
dirty_twin(member) -> member_dirty;
dirty_twin(size) -> size_dirty.

%% The default node's path in one persistent_term read (the application env
%% is an ETS lookup, too slow for every NIF call); set_node/1 and
%% forget_path/1 drop it.
default_path() ->
    case persistent_term:get(?DEFAULT_PATH, undefined) of
        undefined ->
            Node = ?MODULE:node(),
            Path = local(Node),
            case persistent_term:get({?MODULE, path, Node}, undefined) of
                undefined -> ok;
                _ -> persistent_term:put(?DEFAULT_PATH, Path)
            end,
            Path;
        Path ->
            Path
    end.

local(Node) ->
    Key = {?MODULE, path, Node},
    case persistent_term:get(Key, undefined) of
        undefined ->
            case choose_path(Node) of
                unreachable ->
                    %% Decide when the C node answers, not now.
                    cnode;
                Path ->
                    persistent_term:put(Key, Path),
                    Path
            end;
        Path ->
            Path
    end.

choose_path(Node) ->
    Wanted = application:get_env(heirloom, path, auto),
    case Wanted =:= auto andalso same_host(Node) andalso
         code:ensure_loaded(heirloom_nif) =:= {module, heirloom_nif} of
        false -> cnode;
        true -> open_local(Node)
    end.

open_local(Node) ->
    try call(Node, store_info) of
        Info when is_list(Info) ->
            Dir = proplists:get_value(dir, Info),
            case is_list(Dir) andalso filelib:is_dir(Dir) andalso heirloom_nif:open(Dir) of
                {ok, Env} -> {nif, Env};
                _ -> cnode
            end;
        _ ->
            cnode
    catch
        exit:_ -> unreachable
    end.

same_host(Node) ->
    [_, Host] = string:split(atom_to_list(Node), "@"),
    Mine = case string:split(atom_to_list(erlang:node()), "@") of
               [_, H] -> H;
               _ -> undefined
           end,
    lists:member(Host, ["127.0.0.1", "localhost", net_adm:localhost(), Mine]).

checked(Args, Request) ->
    raise_on_error(Args, call(Request)).

raise_on_error(Args, Reply) ->
    case Reply of
        {error, Reason} -> erlang:error(badarg, Args, [{error_info, #{module => ?MODULE, cause => Reason}}]);
        _ -> Reply
    end.

%% @private Messages for erl_error / Elixir's ArgumentError.
format_error(_Reason, [{_M, _F, _As, Info} | _]) ->
    ErrorInfo = proplists:get_value(error_info, Info, #{}),
    Cause = maps:get(cause, ErrorInfo, badarg),
    %% Elixir's ArgumentError wants binaries here, erl_error takes either.
    #{general => unicode:characters_to_binary(describe(Cause))}.

describe(no_table) -> "the table identifier does not refer to an existing Heirloom table";
describe(access) -> "the table's access mode does not allow this process to do that";
describe(not_owner) -> "only the owner of the table may do that";
describe(already_exists) -> "a table with that name already exists";
describe(not_supported) -> "Heirloom does not support that option yet";
describe(full) -> "the store is full (raise the C node's --map-size)";
describe(unknown_request) -> "the C node does not know that request";
describe({owned_by, Pid}) -> io_lib:format("the table is owned by ~p", [Pid]);
describe({type_mismatch, Type}) ->
    io_lib:format("the C node holds a table of that name of type ~p; new must ask for that type",
                  [Type]);
describe({keypos_mismatch, Pos}) ->
    io_lib:format("the C node holds a table of that name with keypos ~p; new must ask for that keypos",
                  [Pos]);
describe(Other) -> io_lib:format("~p", [Other]).
