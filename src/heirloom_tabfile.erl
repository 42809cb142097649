%% @doc tab2file/2,3, file2tab/1,2 and tabfile_info/1 for Heirloom tables,
%% writing and reading ETS's own file format, so a dump moves either way:
%% `ets:file2tab/1' loads a file `heirloom:tab2file/2' wrote, and
%% `heirloom:file2tab/1' loads one `ets:tab2file/2' wrote.
%%
%% The format is stdlib's (ets.erl, OTP 25, Apache-2.0; the reading and
%% verifying below follow its code): a disk_log whose first term is the
%% table's info as a tuple plus the file version and `extended_info', then
%% the objects, then, with `{extended_info, [object_count | md5sum]}', a
%% last `['$end_of_table', [{count, N} | {md5, Digest}]]'. Objects stream in
%% chunks both ways (a fold writing, inserts of 100 objects reading), so a
%% table of any size goes through without being held in memory, and never
%% through a temporary ETS table. As in ETS, a file2tab that fails part way
%% deletes the table it created.
-module(heirloom_tabfile).

-export([tab2file/3, file2tab/2, tabfile_info/1]).

-define(MAJOR_F2T_VERSION, 1).
-define(MINOR_F2T_VERSION, 0).
-define(BATCH, 100).

-record(ft, {md5sum = false, object_count = false, sync = false}).

%% The info items ETS writes in a header (Heirloom's own items are left out).
-define(ETS_ITEMS, [id, read_concurrency, write_concurrency, compressed, memory, owner,
                    heir, name, size, node, named_table, type, keypos, protection]).

-spec tab2file(heirloom:tab(), file:name(), list()) -> ok | {error, term()}.
tab2file(Table, File, Options) ->
    try
        {ok, Ft} = parse_ft_options(Options),
        _ = file:delete(File),
        case file:read_file_info(File) of
            {error, enoent} -> ok;
            _ -> throw(eaccess)
        end,
        Name = make_ref(),
        case disk_log:open([{name, Name}, {file, File}]) of
            {ok, Name} -> ok;
            {error, Reason} -> throw(Reason)
        end,
        try
            write(Table, Name, Ft)
        catch
            Class:Why:Stack ->
                _ = disk_log:close(Name),
                _ = file:delete(File),
                erlang:raise(Class, Why, Stack)
        end
    catch
        throw:TReason -> {error, TReason};
        exit:ExReason -> {error, ExReason}
    end.

write(Table, Name, Ft) ->
    Info0 = case catch heirloom:info(Table) of
                L when is_list(L) -> [I || {K, _} = I <- L, lists:member(K, ?ETS_ITEMS)];
                _ -> throw(badtab)
            end,
    Info = [list_to_tuple(Info0 ++ [{major_version, ?MAJOR_F2T_VERSION},
                                    {minor_version, ?MINOR_F2T_VERSION},
                                    {extended_info, ft_options_to_list(Ft)}])],
    Log = log_fun(Name, Ft),
    State0 = Log(case Ft#ft.md5sum of true -> erlang:md5_init(); false -> true end, Info),
    {State1, Batch, Num} =
        heirloom:foldl(fun(Obj, {St, B, N}) when length(B) + 1 >= ?BATCH ->
                               {Log(St, lists:reverse([Obj | B])), [], N + 1};
                          (Obj, {St, B, N}) ->
                               {St, [Obj | B], N + 1}
                       end, {State0, [], 0}, Table),
    State2 = case Batch of
                 [] -> State1;
                 _ -> Log(State1, lists:reverse(Batch))
             end,
    EndInfo = [{count, Num} || Ft#ft.object_count]
        ++ [{md5, erlang:md5_final(State2)} || Ft#ft.md5sum],
    _ = case EndInfo of
            [] -> ok;
            _ -> Log(State2, [['$end_of_table', EndInfo]])
        end,
    case Ft#ft.sync of
        true ->
            case disk_log:sync(Name) of
                ok -> ok;
                {error, R} -> throw(R)
            end;
        false ->
            ok
    end,
    disk_log:close(Name).

log_fun(Name, #ft{md5sum = true}) ->
    fun(St, Terms) ->
            {St1, Bins} = md5terms(St, Terms),
            case disk_log:blog_terms(Name, Bins) of
                ok -> St1;
                {error, R} -> throw(R)
            end
    end;
log_fun(Name, #ft{md5sum = false}) ->
    fun(St, Terms) ->
            case disk_log:log_terms(Name, Terms) of
                ok -> St;
                {error, R} -> throw(R)
            end
    end.

md5terms(St, Terms) ->
    {Bins, St1} = lists:mapfoldl(fun(T, S) ->
                                         B = term_to_binary(T),
                                         {B, erlang:md5_update(S, B)}
                                 end, St, Terms),
    {St1, Bins}.

ft_options_to_list(#ft{md5sum = MD5, object_count = PS}) ->
    [object_count || PS] ++ [md5sum || MD5].

parse_ft_options(Options) when is_list(Options) ->
    {ok, parse_ft_options(Options, #ft{}, false)};
parse_ft_options(Malformed) ->
    throw({malformed_option, Malformed}).

parse_ft_options([], Ft, _) -> Ft;
parse_ft_options([{sync, true} | Rest], Ft, EI) -> parse_ft_options(Rest, Ft#ft{sync = true}, EI);
parse_ft_options([{sync, false} | Rest], Ft, EI) -> parse_ft_options(Rest, Ft, EI);
parse_ft_options([{extended_info, L} | Rest], Ft, false) ->
    parse_ft_options(Rest, parse_ft_info_options(Ft, L), true);
parse_ft_options([Other | _], _, _) -> throw({unknown_option, Other});
parse_ft_options(Malformed, _, _) -> throw({malformed_option, Malformed}).

parse_ft_info_options(Ft, []) -> Ft;
parse_ft_info_options(Ft, [object_count | T]) ->
    parse_ft_info_options(Ft#ft{object_count = true}, T);
parse_ft_info_options(Ft, [md5sum | T]) -> parse_ft_info_options(Ft#ft{md5sum = true}, T);
parse_ft_info_options(_, [Unexpected | _]) -> throw({unknown_option, [{extended_info, [Unexpected]}]});
parse_ft_info_options(_, Malformed) -> throw({malformed_option, Malformed}).

%% --- reading ---------------------------------------------------------------

-spec file2tab(file:name(), list()) -> {ok, heirloom:tab()} | {error, term()}.
file2tab(File, Opts) ->
    try
        {ok, Verify, TableArg} = parse_f2t_opts(Opts, false, []),
        Name = open_read(File, Verify),
        try
            {ok, Major, Minor, Ft, MD5State, Header, Cont} =
                try get_header_data(Name, Verify)
                catch badfile -> throw(badfile)
                end,
            Major > ?MAJOR_F2T_VERSION andalso throw({unsupported_file_version, {Major, Minor}}),
            {ok, Table, HeadCount} = create_tab(Header, TableArg),
            Used = case Verify of
                       true -> Ft;
                       false -> #ft{}
                   end,
            try
                read_and_verify(Name, Table, Used, HeadCount, Verify, {MD5State, 0, [], Cont})
            catch
                Class:Why:Stack ->
                    TableArg =:= [] andalso (catch heirloom:delete(Table)),
                    erlang:raise(Class, Why, Stack)
            end
        after
            _ = disk_log:close(Name)
        end
    catch
        throw:TReason -> {error, TReason};
        exit:ExReason -> {error, ExReason}
    end.

open_read(File, Verify) ->
    Name = make_ref(),
    case disk_log:open([{name, Name}, {file, File}, {mode, read_only}]) of
        {ok, Name} -> Name;
        {repaired, Name, _, _} when Verify -> _ = disk_log:close(Name), throw(badfile);
        {repaired, Name, _, _} -> Name;
        {error, Other1} -> throw({read_error, Other1});
        Other2 -> throw(Other2)
    end.

read_and_verify(Name, Table, Ft, HeadCount, Verify, State0) ->
    case load(Name, Table, Ft, Verify, State0) of
        {_, FinalCount, [], _} ->
            (Ft#ft.md5sum orelse Ft#ft.object_count) andalso throw(badfile),
            Verify andalso FinalCount =/= HeadCount andalso throw(invalid_object_count),
            {ok, Table};
        {FinalMD5, FinalCount, ['$end_of_table', LastInfo], _} ->
            ECount = case lists:keyfind(count, 1, LastInfo) of
                         {count, N} -> N;
                         _ -> false
                     end,
            EMD5 = case lists:keyfind(md5, 1, LastInfo) of
                       {md5, M} -> M;
                       _ -> false
                   end,
            Ft#ft.md5sum andalso erlang:md5_final(FinalMD5) =/= EMD5
                andalso throw(checksum_error),
            case Ft#ft.object_count of
                true -> FinalCount =/= ECount andalso throw(invalid_object_count);
                false -> Verify andalso not Ft#ft.md5sum andalso FinalCount =/= HeadCount
                             andalso throw(invalid_object_count)
            end,
            {ok, Table}
    end.

%% Read chunks of the log and insert them until the end.
load(Name, Table, Ft, Verify, State) ->
    case read_chunk(Name, Ft, Verify, State) of
        {State1, []} ->
            State1;
        {State1, Objects} ->
            true = heirloom:insert(Table, Objects),
            load(Name, Table, Ft, Verify, State1)
    end.

read_chunk(Name, #ft{md5sum = true}, Verify, {MD5, Count, _Last, Cont} = St) ->
    case wrap_chunk(bchunk, Name, Cont, ?BATCH, Verify) of
        eof -> {St, []};
        {Cont1, Bins} ->
            {Terms, MD51, Count1, Last1} = md5_and_convert(Bins, MD5, Count),
            {{MD51, Count1, Last1, Cont1}, Terms}
    end;
read_chunk(Name, #ft{md5sum = false}, Verify, {_, Count, _Last, Cont} = St) ->
    case wrap_chunk(chunk, Name, Cont, ?BATCH, Verify) of
        eof -> {St, []};
        {Cont1, Terms} ->
            {Last1, Count1, Objects} = scan_for_endinfo(Terms, Count),
            {{false, Count1, Last1, Cont1}, Objects}
    end.

wrap_chunk(How, Name, Cont, N, Verify) ->
    case disk_log:How(Name, Cont, N) of
        {_, _, Bad} when Bad > 0, Verify -> throw(badfile);
        {Cont1, Terms, _Bad} -> {Cont1, Terms};
        {Cont1, Terms} -> {Cont1, Terms};
        Other -> Other
    end.

get_header_data(Name, true) ->
    case wrap_chunk(bchunk, Name, start, 1, true) of
        {C, [Bin]} when is_binary(Bin) ->
            case binary_to_term(Bin) of
                Tup when is_tuple(Tup) ->
                    L = tuple_to_list(Tup),
                    verify_header_mandatory(L) orelse throw(badfile),
                    Ft = header_ft(L),
                    MD5 = case Ft#ft.md5sum of
                              true -> erlang:md5_update(erlang:md5_init(), Bin);
                              false -> false
                          end,
                    {ok, version(major_version, L), version(minor_version, L), Ft, MD5, L, C};
                _ -> throw(badfile)
            end;
        _ -> throw(badfile)
    end;
get_header_data(Name, false) ->
    case wrap_chunk(chunk, Name, start, 1, false) of
        {C, [Tup]} when is_tuple(Tup) ->
            L = tuple_to_list(Tup),
            verify_header_mandatory(L) orelse throw(badfile),
            {ok, version(major_version, L), version(minor_version, L), header_ft(L), false, L, C};
        _ -> throw(badfile)
    end.

version(Tag, L) ->
    case lists:keyfind(Tag, 1, L) of
        {Tag, V} -> V;
        _ -> 0
    end.

header_ft(L) ->
    case lists:keyfind(extended_info, 1, L) of
        {extended_info, I} when is_list(I) ->
            #ft{object_count = lists:member(object_count, I), md5sum = lists:member(md5sum, I)};
        _ ->
            #ft{}
    end.

verify_header_mandatory(L) ->
    length([T || {T, _} <- L,
                 lists:member(T, [name, type, protection, named_table, keypos, size])]) =:= 6.

md5_and_convert([], MD5, Count) ->
    {[], MD5, Count, []};
md5_and_convert([H | T], MD5, Count) when is_binary(H) ->
    case catch binary_to_term(H) of
        {'EXIT', _} -> md5_and_convert(T, MD5, Count);
        ['$end_of_table', _] = L -> {[], MD5, Count, L};
        Term ->
            {Rest, MD51, Count1, Last} = md5_and_convert(T, erlang:md5_update(MD5, H), Count + 1),
            {[Term | Rest], MD51, Count1, Last}
    end.

scan_for_endinfo([], Count) -> {[], Count, []};
scan_for_endinfo([['$end_of_table', Dat]], Count) -> {['$end_of_table', Dat], Count, []};
scan_for_endinfo([Term | T], Count) ->
    {Last, Count1, Rest} = scan_for_endinfo(T, Count + 1),
    {Last, Count1, [Term | Rest]}.

parse_f2t_opts([], Verify, Table) -> {ok, Verify, Table};
parse_f2t_opts([{verify, true} | T], _, Table) -> parse_f2t_opts(T, true, Table);
parse_f2t_opts([{verify, false} | T], V, Table) -> parse_f2t_opts(T, V, Table);
parse_f2t_opts([{table, Table} | T], V, []) -> parse_f2t_opts(T, V, Table);
parse_f2t_opts([Unexpected | _], _, _) -> throw({unknown_option, Unexpected});
parse_f2t_opts(Malformed, _, _) -> throw({malformed_option, Malformed}).

create_tab(I, TableArg) ->
    {name, Name} = lists:keyfind(name, 1, I),
    {type, Type} = lists:keyfind(type, 1, I),
    {protection, P} = lists:keyfind(protection, 1, I),
    {keypos, _} = Keypos = lists:keyfind(keypos, 1, I),
    {size, Sz} = lists:keyfind(size, 1, I),
    Opts = [Type, P, Keypos] ++ [named_table || lists:keyfind(named_table, 1, I) =:= {named_table, true}],
    case TableArg of
        [] ->
            try {ok, heirloom:new(Name, Opts), Sz}
            catch _:_ -> throw(cannot_create_table)
            end;
        _ ->
            {ok, TableArg, Sz}
    end.

%% --- tabfile_info ----------------------------------------------------------

%% The header alone: the same file format, so stdlib reads it (no table is
%% involved).
-spec tabfile_info(file:name()) -> {ok, list()} | {error, term()}.
tabfile_info(File) ->
    ets:tabfile_info(File).
