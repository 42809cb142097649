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
%% Every `ets' function of OTP 25 exists here; what Heirloom refuses on
%% purpose (README, "Semantics") raises `badarg' with the cause
%% `not_supported'.
%%
%% The C node is found through the application environment key `node'
%% (default `heirloom@127.0.0.1'), or given explicitly to `call/2'.
-module(heirloom).

-export([new/2, insert/2, insert_new/2, lookup/2, member/2, delete/1, delete/2,
         delete_all_objects/1, info/1, info/2, all/0, tab2list/1, give_away/3,
         setopts/2, claim/2, ping/0, store_info/0]).
-export([call/1, call/2, call/3, node/0, set_node/1, format_error/2]).
%% The key-based half of ets (every table type).
-export([first/1, last/1, next/2, prev/2, lookup_element/3, update_counter/3,
         update_counter/4, update_element/3, take/2, delete_object/2, whereis/1, foldl/3,
         foldr/3]).
-export([tab2file/2, tab2file/3, file2tab/1, file2tab/2, tabfile_info/1, rename/2,
         safe_fixtable/2]).
-export([path/0, forget_path/1]).
-export([select/2, select/3, select/1, select_reverse/2, select_reverse/3, select_reverse/1,
         select_count/2, select_delete/2, select_replace/2, match/2, match/3, match/1,
         match_object/2, match_object/3, match_object/1, match_delete/2, test_ms/2]).

%% The ets functions made of other calls (heirloom_compat, heirloom_browse)
%% and the match-spec functions that touch no table.
-export([from_dets/2, to_dets/2, init_table/2, table/1, table/2, i/0, i/1, i/2, i/3,
         repair_continuation/2, slot/2,
         fun2ms/1, is_compiled_ms/1, match_spec_compile/1, match_spec_run/2, match_spec_run_r/3]).

-type tab() :: atom() | reference().
-type reason() :: atom() | {owned_by, pid()}
                | {type_mismatch, atom()} | {keypos_mismatch, pos_integer()}.
-export_type([tab/0, reason/0]).

%% An atom, not a tuple: persistent_term hashes the key on every call.
-include("heirloom_path.hrl").

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
insert(Tab, Objects) ->
    %% The common case in one NIF call (see lookup/2); any other answer
    %% (dirty, an error) wrote nothing and takes the general path.
    case persistent_term:get(?DEFAULT_PATH, cnode) of
        {nif, Env} ->
            case heirloom_nif:insert(Env, Tab, Objects) of
                true -> true;
                _ -> fast(insert, [Tab, Objects])
            end;
        _ ->
            fast(insert, [Tab, Objects])
    end.

-spec insert_new(tab(), tuple() | [tuple()]) -> boolean().
insert_new(Tab, Objects) -> fast(insert_new, [Tab, Objects]).

-spec lookup(tab(), term()) -> [tuple()].
lookup(Tab, Key) ->
    case direct(lookup, Tab, Key) of
        Objects when is_list(Objects) -> Objects;
        _ -> fast(lookup, [Tab, Key])
    end.

-spec member(tab(), term()) -> boolean().
member(Tab, Key) ->
    case direct(member, Tab, Key) of
        Found when is_boolean(Found) -> Found;
        _ -> fast(member, [Tab, Key])
    end.

%% The two reads ETS users make most, straight to the NIF: the general path
%% (fast/2) costs a fifth of a NIF lookup. The caller takes the general path
%% on any other answer (dirty, an error, `cnode' when no NIF path is decided
%% yet); a read is safe to repeat.
direct(F, Tab, Key) ->
    case persistent_term:get(?DEFAULT_PATH, cnode) of
        {nif, Env} when F =:= lookup -> heirloom_nif:lookup(Env, Tab, Key);
        {nif, Env} -> heirloom_nif:member(Env, Tab, Key);
        _ -> cnode
    end.

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
    case heirloom_path:default_path() of
        {nif, Env} ->
            case heirloom_path:nif_call(size, Env, [Tab]) of
                {error, bad_handle} -> reopen(), info(Tab, size);
                %% A reference may never have been a table (badarg in ETS):
                %% only the C node can tell.
                {error, no_table} when is_reference(Tab) -> checked([Tab, size], {info, Tab, size});
                {error, no_table} -> undefined;
                Reply -> raise_on_error(info, [Tab, size], Reply)
            end;
        cnode ->
            checked([Tab, size], {info, Tab, size})
    end;
info(Tab, Item) -> checked([Tab, Item], {info, Tab, Item}).

%% @doc Like `ets:first/1'. An `ordered_set' walks in term order; other
%% types walk a fixed order of their own (as ETS's hash order), where
%% `last/1' is `first/1' and `prev/2' is `next/2', as in ETS.
-spec first(tab()) -> term().
first(Tab) -> fast(first, [Tab], {first, Tab}, step, [Tab, first, []]).

-spec last(tab()) -> term().
last(Tab) -> fast(last, [Tab], {last, Tab}, step, [Tab, last, []]).

%% @doc Like `ets:next/2': for an `ordered_set' the key need not be in the
%% table (the next key after it); for other types it must be (else `badarg').
%% Without `safe_fixtable/2', as in ETS, a walk by `next/2' while others
%% write may miss or repeat keys written meanwhile; it never fails on a key
%% of an `ordered_set' that was deleted.
-spec next(tab(), term()) -> term().
next(Tab, Key) -> step(next, Tab, Key).

-spec prev(tab(), term()) -> term().
prev(Tab, Key) -> step(prev, Tab, Key).

%% A key not in a set or a bag is badarg, unless a process fixed the table
%% (safe_fixtable/2): only the C node knows the fixations, so it decides.
step(F, Tab, Key) ->
    try
        fast(F, [Tab, Key], {F, Tab, Key}, step, [Tab, F, Key])
    catch
        error:badarg -> checked([Tab, Key], {F, Tab, Key})
    end.

%% @doc Like `ets:safe_fixtable/2', with `info(T, safe_fixed)' as in ETS;
%% a process's fixations go when it dies. While a table is fixed, `next/2'
%% and `prev/2' accept a key deleted since, as in ETS, and go on from where
%% it was. Without it, a walk of an `ordered_set' never fails either; for
%% other types `next/2' of a deleted key raises `badarg', as in ETS. Every
%% `next/2' is its own read snapshot: rows written meanwhile may or may not
%% be seen, as in ETS.
-spec safe_fixtable(tab(), boolean()) -> true.
safe_fixtable(Tab, Fix) -> checked([Tab, Fix], {safe_fixtable, Tab, Fix}).

-spec lookup_element(tab(), term(), pos_integer()) -> term() | [term()].
lookup_element(Tab, Key, Pos) -> fast(lookup_element, [Tab, Key, Pos]).

%% @doc Like `ets:update_counter/3,4': every form of `UpdateOp' (`Incr',
%% `{Pos, Incr}', `{Pos, Incr, Threshold, SetValue}', a list of those), on
%% integers of any size; atomic (one write transaction).
-spec update_counter(tab(), term(), term()) -> integer() | [integer()].
update_counter(Tab, Key, Op) ->
    fast(update_counter, [Tab, Key, Op], {update_counter, Tab, Key, Op},
         update_counter, [Tab, Key, Op, nodefault]).

-spec update_counter(tab(), term(), term(), tuple()) -> integer() | [integer()].
update_counter(Tab, Key, Op, Default) ->
    fast(update_counter, [Tab, Key, Op, Default], {update_counter, Tab, Key, Op, Default},
         update_counter, [Tab, Key, Op, {default, Default}]).

-spec update_element(tab(), term(), {pos_integer(), term()} | [{pos_integer(), term()}]) ->
          boolean().
update_element(Tab, Key, Spec) -> fast(update_element, [Tab, Key, Spec]).

-spec take(tab(), term()) -> [tuple()].
take(Tab, Key) -> fast(take, [Tab, Key]).

-spec delete_object(tab(), tuple()) -> true.
delete_object(Tab, Object) -> fast(delete_object, [Tab, Object]).

%% @doc Like `ets:whereis/1': a named table is known by its name, so this is
%% the name, or `undefined'.
-spec whereis(atom()) -> atom() | undefined.
whereis(Name) -> checked([Name], {whereis, Name}).

%% @doc Like `ets:foldl/3'. The fun runs in the caller, over chunks of
%% objects fetched as it goes (each chunk one read snapshot), so a fold of a
%% large table holds no scheduler and no lock. As in ETS without
%% `safe_fixtable/2', objects written or deleted during the fold may or may
%% not be seen; no object is seen twice.
-spec foldl(fun((tuple(), Acc) -> Acc), Acc, tab()) -> Acc.
foldl(Fun, Acc, Tab) -> fold(foldl, Fun, Acc, Tab).

%% @doc Like `ets:foldr/3': an `ordered_set' in reverse term order; other
%% types in the order of `foldl/3', as in ETS.
-spec foldr(fun((tuple(), Acc) -> Acc), Acc, tab()) -> Acc.
foldr(Fun, Acc, Tab) -> fold(foldr, Fun, Acc, Tab).

%% @doc Like `ets:tab2file/2,3', in ETS's own file format: `ets:file2tab/1'
%% loads what this writes (see heirloom_tabfile).
-spec tab2file(tab(), file:name()) -> ok | {error, term()}.
tab2file(Tab, File) -> heirloom_tabfile:tab2file(Tab, File, []).

-spec tab2file(tab(), file:name(), list()) -> ok | {error, term()}.
tab2file(Tab, File, Options) -> heirloom_tabfile:tab2file(Tab, File, Options).

%% @doc Like `ets:file2tab/1,2': a file written by `ets:tab2file/2' (or by
%% `tab2file/2') becomes a Heirloom table, the caller its owner.
-spec file2tab(file:name()) -> {ok, tab()} | {error, term()}.
file2tab(File) -> heirloom_tabfile:file2tab(File, []).

-spec file2tab(file:name(), list()) -> {ok, tab()} | {error, term()}.
file2tab(File, Options) -> heirloom_tabfile:file2tab(File, Options).

-spec tabfile_info(file:name()) -> {ok, list()} | {error, term()}.
tabfile_info(File) -> heirloom_tabfile:tabfile_info(File).

%% @doc Like `ets:rename/2': a named table is known by its new name from
%% then on (rows, owner and heir kept); an unnamed one keeps its reference
%% and only `info(T, name)' changes. Returns the new name, or the reference.
-spec rename(tab(), atom()) -> tab().
rename(Tab, Name) -> checked([Tab, Name], {rename, Tab, Name}).

-define(FOLD_CHUNK, 1000).

fold(Dir, Fun, Acc, Tab) when is_function(Fun, 2) ->
    fold(Dir, Fun, Acc, Tab, start);
fold(Dir, Fun, Acc, Tab) ->
    raise(Dir, [Fun, Acc, Tab], badarg).

fold(Dir, Fun, Acc, Tab, From) ->
    {Objects, Next} = fast(Dir, [Fun, Acc, Tab], {fold_chunk, Tab, Dir, From, ?FOLD_CHUNK},
                           fold_chunk, [Tab, Dir, From, ?FOLD_CHUNK]),
    Acc1 = lists:foldl(Fun, Acc, Objects),
    case Next of
        done -> Acc1;
        {'after', _} -> fold(Dir, Fun, Acc1, Tab, Next)
    end.

-spec all() -> [tab()].
all() -> checked([], {all}).

-spec tab2list(tab()) -> [tuple()].
tab2list(Tab) -> checked([Tab], {tab2list, Tab}).

%% @doc Like `ets:give_away/3': the receiver gets
%% `{'ETS-TRANSFER', Tab, FromPid, GiftData}'.
-spec give_away(tab(), pid(), term()) -> true.
give_away(Tab, Pid, Gift) -> checked([Tab, Pid, Gift], {give_away, Tab, Pid, Gift}).

%% @doc Like `ets:setopts/2': `{heir, Pid, Data}', `{heir, none}' and
%% `{protection, P}', one or a list.
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
    case heirloom_path:local(?MODULE:node()) of
        {nif, _} -> nif;
        cnode -> cnode
    end.

%% @doc Forget the path decided for Node: after it restarted elsewhere, or
%% after `heirloom_nif' was deleted and loaded again (a store handle opened
%% before that is refused by the new code).
-spec forget_path(node()) -> ok.
forget_path(Node) ->
    _ = persistent_term:erase(?NODE_PATH(Node)),
    _ = persistent_term:erase(?DEFAULT_PATH),
    ok.

%% The NIF answers exactly what the C node answers, {error, R} included.
fast(F, Args) ->
    case heirloom_path:default_path() of
        {nif, Env} ->
            case heirloom_path:nif_call(F, Env, Args) of
                {error, bad_handle} -> reopen(), fast(F, Args);
                Reply -> raise_on_error(F, Args, Reply)
            end;
        cnode -> checked(Args, list_to_tuple([F | Args]))
    end.

%% The same for a function whose request or NIF call differ from its
%% arguments: F and Args name the API call (for errors), Request goes to the
%% C node, Nif with NifArgs (after the store handle) to the NIF.
fast(F, Args, Request, Nif, NifArgs) ->
    case heirloom_path:default_path() of
        {nif, Env} ->
            case heirloom_path:nif_call(Nif, Env, NifArgs) of
                {error, bad_handle} -> reopen(), fast(F, Args, Request, Nif, NifArgs);
                Reply -> raise_on_error(F, Args, Reply)
            end;
        cnode -> raise_on_error(F, Args, call(Request))
    end.

%% heirloom_nif was deleted and loaded again: the cached handle belongs to
%% the old library's resource type. Decide the path (and open) anew.
reopen() ->
    forget_path(?MODULE:node()).

%% The request's verb is the API function's name ({info, T, I} for info/2).
checked(Args, Request) ->
    raise_on_error(element(1, Request), Args, call(Request)).

raise_on_error(F, Args, Reply) ->
    case Reply of
        {error, Reason} -> raise(F, Args, Reason);
        _ -> Reply
    end.

%% badarg with the C node's reason as the error_info cause, with the API
%% function F and its arguments as the top frame (as ets raises), not this
%% helper: erl_error and Elixir print that frame and format_error/2 reads it.
raise(F, Args, Cause) ->
    {current_stacktrace, [_Self | Callers]} = erlang:process_info(self(), current_stacktrace),
    Info = [{error_info, #{module => ?MODULE, cause => Cause}}],
    erlang:raise(error, badarg, [{?MODULE, F, Args, Info} | Callers]).

%% @doc The error_info formatter (EEP 54), as `erl_stdlib_errors' does for
%% ets: a map from argument positions to what is wrong with them, or
%% `general' when no one argument is to blame, and `reason' replacing the
%% headline. erl_error and Elixir's ArgumentError both print it; Elixir
%% wants binaries.
-spec format_error(term(), erlang:stacktrace()) -> #{pos_integer() | general | reason => binary()}.
format_error(_Reason, [{_M, F, As, Info} | _]) ->
    ErrorInfo = proplists:get_value(error_info, Info, #{}),
    Cause = maps:get(cause, ErrorInfo, badarg),
    Arity = if is_list(As) -> length(As); true -> As end,
    maps:map(fun(_, Text) -> unicode:characters_to_binary(Text) end,
             explain(F, Arity, Cause)).

explain(F, _, not_supported) when F =:= new; F =:= setopts ->
    option_error(F, "Heirloom does not support that option yet");
explain(_, _, not_supported) ->
    #{general => "Heirloom does not support that (README, \"Semantics\": an ordered_set key "
                 "over 480 bytes of external term format, or match-spec arithmetic past "
                 "16,384 bits)"};
explain(new, _, already_exists) -> #{1 => "a table with that name already exists"};
explain(F, _, no_table) ->
    table_error(F, "the table identifier does not refer to an existing Heirloom table");
explain(F, _, access) ->
    table_error(F, "the table's access mode does not allow this process to do that");
explain(F, _, not_owner) -> table_error(F, "only the owner of the table may do that");
explain(F, _, table_type) ->
    table_error(F, "the table identifier refers to a table of a type not supported by this operation");
explain(_, _, full) ->
    #{general => "the store is full: its filesystem has no room left, "
                 "or the C node's --map-size is reached"};
explain(_, _, unknown_request) -> #{general => "the C node does not know that request"};
explain(_, _, {owned_by, Pid}) -> #{general => io_lib:format("the table is owned by ~p", [Pid])};
explain(_, _, {type_mismatch, Type}) ->
    #{general => io_lib:format("the C node holds a table of that name of type ~p; "
                               "new must ask for that type", [Type])};
explain(_, _, {keypos_mismatch, Pos}) ->
    #{general => io_lib:format("the C node holds a table of that name with keypos ~p; "
                               "new must ask for that keypos", [Pos])};
explain(_, _, badarg) -> #{general => "an argument has the wrong type or value"};
explain(_, _, Other) -> #{general => io_lib:format("~p", [Other])}.

%% The functions whose first argument is a table.
table_error(F, Text) when F =:= new; F =:= all; F =:= claim -> #{general => Text};
table_error(_, Text) -> #{1 => Text}.

%% new/2 and setopts/2 take their options second.
option_error(F, Text) when F =:= new; F =:= setopts -> #{2 => Text};
option_error(_, Text) -> #{general => Text}.

%% Built from heirloom's own operations in heirloom_compat (README,
%% "Semantics").
-spec from_dets(tab(), dets:tab_name()) -> true.
from_dets(Table, DetsTab) -> heirloom_compat:from_dets(Table, DetsTab).
-spec to_dets(tab(), dets:tab_name()) -> dets:tab_name().
to_dets(Table, DetsTab) -> heirloom_compat:to_dets(Table, DetsTab).
-spec init_table(tab(), fun((read | close) -> term())) -> true.
init_table(Table, InitFun) -> heirloom_compat:init_table(Table, InitFun).
-spec table(tab()) -> qlc:query_handle().
table(Table) -> heirloom_compat:table(Table, []).
-spec table(tab(), list()) -> qlc:query_handle().
table(Table, Options) -> heirloom_compat:table(Table, Options).
-spec slot(tab(), non_neg_integer()) -> [tuple()] | '$end_of_table'.
slot(Table, I) -> heirloom_compat:slot(Table, I).
-spec i() -> ok.
i() -> heirloom_compat:i().
-spec i(tab()) -> ok.
i(Table) -> heirloom_browse:i(Table, 40, 80).
-spec i(tab(), pos_integer()) -> ok.
i(Table, Height) -> heirloom_browse:i(Table, Height, 80).
-spec i(tab(), pos_integer(), pos_integer()) -> ok.
i(Table, Height, Width) -> heirloom_browse:i(Table, Height, Width).
-spec repair_continuation(term(), ets:match_spec()) -> term().
repair_continuation(Continuation, MatchSpec) ->
    heirloom_compat:repair_continuation(Continuation, MatchSpec).

%% Match specifications are plain data that no table holds: these are
%% ets's own (fun2ms/1 works where ets:fun2ms/1 does: in the shell, or
%% in code compiled with ms_transform, which rewrites ets:fun2ms calls).
fun2ms(LiteralFun) -> ets:fun2ms(LiteralFun).
is_compiled_ms(Term) -> ets:is_compiled_ms(Term).
match_spec_compile(MatchSpec) -> ets:match_spec_compile(MatchSpec).
match_spec_run(List, CompiledMatchSpec) -> ets:match_spec_run(List, CompiledMatchSpec).
match_spec_run_r(List, CompiledMatchSpec, Acc) -> ets:match_spec_run_r(List, CompiledMatchSpec, Acc).

%%% ---------------------------------------------------------------------
%%% Match specifications: select, match and their kin.
%%%
%%% The C engine (c_src/hl_ms*.c) runs the spec where the rows are, in
%%% chunks of at most ?NIF_ROWS (NIF, dirty scheduler) or ?CNODE_ROWS (C
%%% node: it answers other callers between chunks) rows; each chunk is one
%%% transaction, resumed after the last row it looked at. A call sees writes
%%% made between its chunks by where their keys sort, as ETS's select sees
%%% concurrent writes. Continuations (select/3, match/3) hold the spec and
%%% that position, so they stay valid across calls and table changes: rows
%%% that sort after the position are seen, deleted ones are not.

-define(NIF_ROWS, 20000).
-define(CNODE_ROWS, 2000).

-spec select(tab(), ets:match_spec()) -> [term()].
select(Tab, Spec) -> sel_all(select, [Tab, Spec], Tab, Spec, 0, false).

-spec select_reverse(tab(), ets:match_spec()) -> [term()].
select_reverse(Tab, Spec) -> sel_all(select_reverse, [Tab, Spec], Tab, Spec, 0, true).

-spec select_count(tab(), ets:match_spec()) -> non_neg_integer().
select_count(Tab, Spec) -> sel_all(select_count, [Tab, Spec], Tab, Spec, 1, false).

-spec select_delete(tab(), ets:match_spec()) -> non_neg_integer().
select_delete(Tab, Spec) -> sel_all(select_delete, [Tab, Spec], Tab, Spec, 2, false).

%% @doc Like `ets:select_replace/2': a body that changes an object's key
%% raises `badarg'; the chunks before the one that met it stay written.
-spec select_replace(tab(), ets:match_spec()) -> non_neg_integer().
select_replace(Tab, Spec) -> sel_all(select_replace, [Tab, Spec], Tab, Spec, 3, false).

-spec match(tab(), term()) -> [[term()]].
match(Tab, Pattern) -> sel_all(match, [Tab, Pattern], Tab, [{Pattern, [], ['$$']}], 0, false).

-spec match_object(tab(), term()) -> [tuple()].
match_object(Tab, Pattern) ->
    sel_all(match_object, [Tab, Pattern], Tab, [{Pattern, [], ['$_']}], 0, false).

-spec match_delete(tab(), term()) -> true.
match_delete(Tab, Pattern) ->
    _ = sel_all(match_delete, [Tab, Pattern], Tab, [{Pattern, [], [true]}], 2, false),
    true.

select(Tab, Spec, Limit) -> sel_limit(select, [Tab, Spec, Limit], Tab, Spec, Limit, false).
select_reverse(Tab, Spec, Limit) ->
    sel_limit(select_reverse, [Tab, Spec, Limit], Tab, Spec, Limit, true).
match(Tab, Pattern, Limit) ->
    sel_limit(match, [Tab, Pattern, Limit], Tab, [{Pattern, [], ['$$']}], Limit, false).
match_object(Tab, Pattern, Limit) ->
    sel_limit(match_object, [Tab, Pattern, Limit], Tab, [{Pattern, [], ['$_']}], Limit, false).

select(Cont) -> sel_cont(select, Cont).
select_reverse(Cont) -> sel_cont(select_reverse, Cont).
match(Cont) -> sel_cont(match, Cont).
match_object(Cont) -> sel_cont(match_object, Cont).

%% @doc `ets:test_ms/2' itself: it needs no table, and Heirloom's engine
%% accepts and refuses the same specs (the differential tests check it).
-spec test_ms(tuple(), ets:match_spec()) -> {ok, term()} | {error, [term()]}.
test_ms(Tuple, Spec) -> ets:test_ms(Tuple, Spec).

sel_all(F, Args, Tab, Spec, Op, Rev) ->
    sel_loop(F, Args, Tab, Spec, Op, Rev, <<>>, if Op =:= 0 -> []; true -> 0 end).

sel_loop(F, Args, Tab, Spec, Op, Rev, After, Acc) ->
    case sel_chunk(F, Args, Tab, Spec, {Op, Rev, 0}, After) of
        {More, '$end_of_table'} -> sel_add(Op, Acc, More, done);
        {More, Next} -> sel_loop(F, Args, Tab, Spec, Op, Rev, Next, sel_add(Op, Acc, More, go))
    end.

sel_add(0, Acc, More, done) -> lists:append(lists:reverse([More | Acc]));
sel_add(0, Acc, More, go) -> [More | Acc];
sel_add(_, Acc, More, _) -> Acc + More.

sel_limit(F, Args, Tab, Spec, Limit, Rev) when is_integer(Limit), Limit > 0 ->
    sel_more(F, Args, {heirloom_select, Tab, Spec, Limit, Rev, <<>>}, []);
sel_limit(F, Args, _, _, _, _) ->
    raise(F, Args, badarg).

sel_cont(_, {heirloom_select, _, _, _, _, '$end_of_table'}) ->
    '$end_of_table';
sel_cont(F, {heirloom_select, _, _, _, _, _} = Cont) ->
    sel_more(F, [Cont], Cont, []);
sel_cont(F, Cont) ->
    raise(F, [Cont], badarg).

%% Chunks until Limit results or the end of the table.
sel_more(F, Args, {heirloom_select, Tab, Spec, Limit, Rev, After} = Cont, Acc) ->
    Got = length(Acc),
    case sel_chunk(F, Args, Tab, Spec, {0, Rev, Limit - Got}, After) of
        {More, '$end_of_table'} when Acc =:= [], More =:= [] -> '$end_of_table';
        {More, '$end_of_table'} -> {Acc ++ More, setelement(6, Cont, '$end_of_table')};
        {More, Next} when Got + length(More) >= Limit -> {Acc ++ More, setelement(6, Cont, Next)};
        {More, Next} -> sel_more(F, Args, setelement(6, Cont, Next), Acc ++ More)
    end.

sel_chunk(F, Args, Tab, Spec, {Op, Rev, Limit}, After) ->
    case heirloom_path:default_path() of
        {nif, Env} ->
            case heirloom_nif:select(Env, Tab, Spec, {Op, Rev, Limit, ?NIF_ROWS}, After) of
                {error, bad_handle} ->
                    reopen(),
                    sel_chunk(F, Args, Tab, Spec, {Op, Rev, Limit}, After);
                Reply ->
                    raise_on_error(F, Args, Reply)
            end;
        cnode ->
            raise_on_error(F, Args,
                           call({'$select', Tab, Spec, {Op, Rev, Limit, ?CNODE_ROWS}, After}))
    end.
