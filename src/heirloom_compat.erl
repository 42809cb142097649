%% @doc The `ets' functions that Heirloom builds from its own operations
%% rather than from requests of their own: filling a table from a function
%% or from Dets, writing one to Dets, a QLC table, `i/0', and repairing a
%% continuation. They run in the caller, over `heirloom''s public functions,
%% so they take either path (NIF or C node) and obey the same access rules.
%% `heirloom' exports them under ets's names; see the README's "Semantics".
-module(heirloom_compat).

-export([init_table/2, from_dets/2, to_dets/2, table/2, i/0, repair_continuation/2, slot/2]).

%% Objects per insert or per select chunk: one request each.
-define(CHUNK, 1000).

%% @doc As `ets:init_table/2': the table's objects are replaced by those
%% InitFun hands out, read by read. A bad answer from InitFun exits with it;
%% an insert that fails calls the pending `Fun(close)' and exits with
%% `{badarg, Stack}', keeping the objects inserted before it, as ETS does.
init_table(Tab, InitFun) ->
    true = heirloom:delete_all_objects(Tab),
    init_more(Tab, catch InitFun(read)).

init_more(_Tab, end_of_input) ->
    true;
init_more(Tab, {Objects, Fun}) when is_list(Objects), is_function(Fun) ->
    case catch insert_each(Tab, Objects) of
        true ->
            init_more(Tab, catch Fun(read));
        {'EXIT', Reason} ->
            catch Fun(close),
            exit(Reason)
    end;
init_more(_Tab, Other) ->
    exit(Other).

%% One request for a whole list; when it is refused, object by object so
%% the objects before the bad one are in, as ETS's one-by-one inserts leave
%% them.
insert_each(Tab, Objects) ->
    try
        heirloom:insert(Tab, Objects)
    catch
        error:badarg:_ when Objects =/= [] ->
            lists:foreach(fun(O) -> heirloom:insert(Tab, O) end, Objects),
            true
    end.

%% @doc As `ets:from_dets/2': Dets objects are inserted into the table;
%% the table's other objects stay unless overwritten. Errors raise as
%% ets's do (`badarg' for a Dets table that is not open).
from_dets(Tab, Dets) ->
    heirloom:info(Tab, type) =/= undefined orelse badarg([Tab, Dets]),
    %% chunks are gathered backwards: reversed, a bag's objects of one key
    %% go in in Dets's order
    Insert = fun(Objects) -> heirloom:insert(Tab, lists:reverse(Objects)) end,
    case catch dets:foldl(fun(O, Acc) -> gather(O, Acc, Insert) end, {0, []}, Dets) of
        {N, Rest} when is_integer(N) -> _ = Insert(Rest), true;
        {error, _} -> badarg([Tab, Dets]);
        {'EXIT', {badarg, _}} -> badarg([Tab, Dets]);
        {'EXIT', Reason} -> exit(Reason)
    end.

%% A chunk is inserted when it is full; the count saves a length/1 per object.
gather(O, {N, Acc}, Insert) when N + 1 >= ?CHUNK ->
    _ = Insert([O | Acc]),
    {0, []};
gather(O, {N, Acc}, _) ->
    {N + 1, [O | Acc]}.

%% @doc As `ets:to_dets/2': the Dets table is emptied and filled with the
%% table's objects; returns the Dets table.
to_dets(Tab, Dets) ->
    heirloom:info(Tab, type) =/= undefined orelse badarg([Tab, Dets]),
    Input = input(fun() -> heirloom:select(Tab, [{'_', [], ['$_']}], ?CHUNK) end),
    case catch dets:init_table(Dets, Input, [{format, term}]) of
        ok -> Dets;
        {error, _} -> badarg([Tab, Dets]);
        {'EXIT', {badarg, _}} -> badarg([Tab, Dets]);
        {'EXIT', Reason} -> exit(Reason)
    end.

%% dets:init_table/3's input function: each read is the next select/3 chunk.
input(Next) ->
    fun(read) ->
            case Next() of
                '$end_of_table' -> end_of_input;
                {Objects, Cont} -> {Objects, input(fun() -> heirloom:select(Cont) end)}
            end;
       (close) ->
            ok
    end.

%% @doc As `ets:table/2': a QLC table over a Heirloom table. Traversal by
%% `select' in chunks (the default), by `first_next' or `last_prev', or by
%% `{select, MatchSpec}'; QLC looks keys up with `lookup/2' when a query
%% names them. Options and errors as ets's.
table(Tab, Opts) ->
    Type = heirloom:info(Tab, type),
    (Type =/= undefined andalso is_list(Opts)) orelse badarg([Tab, Opts]),
    {NObjects, Traverse} = lists:foldl(fun(O, Acc) -> table_opt(O, Acc, [Tab, Opts]) end,
                                       {default, select}, Opts),
    KeyPos = heirloom:info(Tab, keypos),
    Chunk = case NObjects of default -> 100; N -> N end,
    InfoFun = fun(num_of_objects) -> heirloom:info(Tab, size);
                 (keypos) -> KeyPos;
                 (is_sorted_key) -> Type =:= ordered_set;
                 (is_unique_objects) -> Type =/= duplicate_bag;
                 (_) -> undefined
              end,
    LookupFun = fun(Pos, Keys) when Pos =:= KeyPos ->
                        lists:flatmap(fun(K) -> heirloom:lookup(Tab, K) end, Keys)
                end,
    qlc:table(traverse(Tab, Traverse, Chunk),
              [{info_fun, InfoFun}, {lookup_fun, LookupFun},
               {key_equality, if Type =:= ordered_set -> '=='; true -> '=:=' end},
               {format_fun, format_fun(Tab, Opts)}]).

%% What qlc:info/1 shows for the table: the call that makes it, or the
%% lookups a query turned into.
format_fun(Tab, Opts) ->
    fun({all, _, _}) -> {heirloom, table, [Tab, Opts]};
       ({lookup, _Pos, [Key], _, _}) -> io_lib:format("heirloom:lookup(~w, ~w)", [Tab, Key]);
       ({lookup, _Pos, Keys, _, _}) ->
            io_lib:format("lists:flatmap(fun(V) -> heirloom:lookup(~w, V) end, ~w)", [Tab, Keys])
    end.

table_opt({n_objects, default}, {_, T}, _) -> {default, T};
table_opt({n_objects, N}, {_, T}, _) when is_integer(N), N >= 1 -> {N, T};
table_opt({traverse, T}, {N, _}, _) when T =:= select; T =:= first_next; T =:= last_prev -> {N, T};
table_opt({traverse, {select, MS}}, {N, _}, _) -> {N, {select, MS}};
table_opt(_, _, Args) -> badarg(Args).

traverse(Tab, first_next, _) -> fun() -> step(Tab, heirloom:first(Tab), fun heirloom:next/2) end;
traverse(Tab, last_prev, _) -> fun() -> step(Tab, heirloom:last(Tab), fun heirloom:prev/2) end;
traverse(Tab, select, N) -> traverse(Tab, {select, [{'_', [], ['$_']}]}, N);
traverse(Tab, {select, MS}, N) -> fun() -> chunks(heirloom:select(Tab, MS, N)) end.

step(_Tab, '$end_of_table', _) ->
    [];
step(Tab, Key, Next) ->
    heirloom:lookup(Tab, Key) ++ fun() -> step(Tab, Next(Tab, Key), Next) end.

chunks('$end_of_table') -> [];
chunks({Objects, Cont}) -> Objects ++ fun() -> chunks(heirloom:select(Cont)) end.

%% @doc As `ets:i/0': one line per Heirloom table of this VM's C node.
i() ->
    io:format(" ~-15s ~-17s ~-5s ~-6s ~-8s ~s~n", [id, name, type, size, mem, owner]),
    io:format(" ~s~n", [lists:duplicate(76, $-)]),
    lists:foreach(fun i_line/1, lists:sort(heirloom:all())).

i_line(Tab) ->
    case catch heirloom:info(Tab) of
        Info when is_list(Info) ->
            Get = fun(K) -> proplists:get_value(K, Info) end,
            io:format(" ~-15w ~-17w ~-5w ~-6w ~-8w ~w~n",
                      [Tab, Get(name), Get(type), Get(size), Get(memory), Get(owner)]);
        _ ->
            ok % deleted since all/0
    end.

%% @doc As `ets:repair_continuation/2'. Heirloom's continuations are plain
%% terms (the spec and the position of the last row seen), so one that went
%% through term_to_binary or another node is already whole.
repair_continuation('$end_of_table', _Spec) ->
    '$end_of_table';
repair_continuation({heirloom_select, _, _, _, _, _} = Cont, _Spec) ->
    Cont;
repair_continuation(Cont, Spec) ->
    badarg([Cont, Spec]).

%% @doc As `ets:slot/2', with one key per slot: slot I holds the objects of
%% the table's I-th key in its walk order (the I-th object of an
%% `ordered_set', exactly as ETS; in a set or bag never the `[]' of an
%% empty hash bucket). I equal to the number of keys gives
%% `'$end_of_table'', past it `badarg'. Reaching slot I reads the table up
%% to it in `select/3' chunks, so the usual loop over 0, 1, 2, ... resumes
%% where the last call stopped (kept per process and table) and costs one
%% pass in all; like ETS's slot/2 on a table that is not fixed, it sees
%% rows written meanwhile or not.
slot(Tab, I) when is_integer(I), I >= 0 ->
    KeyPos = case catch heirloom:info(Tab, keypos) of
                 P when is_integer(P) -> P;
                 _ -> badarg([Tab, I])
             end,
    Cache = {?MODULE, slot, Tab},
    {Next, Stream} = case get(Cache) of
                         {N, S} when N =:= I -> {N, S};
                         _ -> {0, {[], start}}
                     end,
    case skip_groups(Tab, KeyPos, I - Next, Stream) of
        {eot, Left} ->
            erase(Cache),
            if Left =:= 0 -> '$end_of_table'; true -> badarg([Tab, I]) end;
        {Group, Rest} ->
            put(Cache, {I + 1, Rest}),
            Group
    end;
slot(Tab, I) ->
    badarg([Tab, I]).

%% Skip N key groups, then return the next one; {eot, Missing} when the
%% table ends first (Missing groups short of the one asked for).
skip_groups(Tab, KeyPos, N, Stream) ->
    case group(Tab, KeyPos, Stream) of
        eot -> {eot, N};
        {Group, Rest} when N =:= 0 -> {Group, Rest};
        {_, Rest} -> skip_groups(Tab, KeyPos, N - 1, Rest)
    end.

%% The objects of the next key: consecutive in a walk (chunks end on a
%% key's last object, and a limit that cuts one short is topped up here).
group(Tab, KeyPos, Stream) ->
    case pull(Tab, Stream) of
        eot -> eot;
        {First, Rest} -> same_key(Tab, element(KeyPos, First), KeyPos, Rest, [First])
    end.

same_key(Tab, Key, KeyPos, Stream, Acc) ->
    case pull(Tab, Stream) of
        {O, Rest} when element(KeyPos, O) =:= Key -> same_key(Tab, Key, KeyPos, Rest, [O | Acc]);
        _ -> {lists:reverse(Acc), Stream}
    end.

%% One object off a stream of select/3 chunks: {Pending, Cont}.
pull(_Tab, {[O | More], Cont}) -> {O, {More, Cont}};
pull(_Tab, {[], '$end_of_table'}) -> eot;
pull(Tab, {[], start}) -> refill(Tab, heirloom:select(Tab, [{'_', [], ['$_']}], ?CHUNK));
pull(Tab, {[], Cont}) -> refill(Tab, heirloom:select(Cont)).

refill(_Tab, '$end_of_table') -> eot;
refill(Tab, {Objects, Cont}) -> pull(Tab, {Objects, Cont}).

badarg(Args) ->
    erlang:error(badarg, Args, [{error_info, #{module => heirloom, cause => badarg}}]).
