#!/usr/bin/env escript
%% Seeds for the request fuzzer (test/fuzz/fuzz_request.c): every request
%% verb, well formed and slightly off, in each delivery mode. Run by
%% `make fuzz-seeds`; the seeds are committed under test/fuzz/corpus/request.
main([Dir]) ->
    ok = filelib:ensure_dir(filename:join(Dir, "x")),
    P = self(),
    Reqs = [ping, {all}, store_info,
            {new, t, [named_table, public]}, {new, t, [set, {keypos, 2}, {heir, P, x}]},
            {new, u, [ordered_set]}, {new, t, [bag, private, named_table]},
            {insert, t, {1, <<"one">>}}, {insert, t, [{2, two}, {3, 3.0}, {{k, [1]}, #{a => 1}}]},
            {insert_new, t, {1, x}}, {lookup, t, 1}, {lookup, t, -0.0}, {member, t, 2},
            {delete, t, 3}, {delete, t}, {delete_all_objects, t}, {tab2list, t},
            {info, t}, {info, t, size}, {info, make_ref(), owner},
            {give_away, t, P, gift}, {setopts, t, [{heir, none}, {protection, public}]},
            {setopts, t, {heir, P, d}}, {claim, t, [public]}, {claim, v, []},
            {insert, t, {lists:seq(1, 300), binary:copy(<<7>>, 600)}},
            {is_auth, 'peer@127.0.0.1'}, {unknown_verb, 1, 2, 3}],
    Seeds = [<<Mode, 5, (body(R))/binary>> || R <- Reqs, Mode <- [1, 2]]
        ++ [<<0, 5, (body({'$gen_call', {P, make_ref()}, R}))/binary>> || R <- Reqs]
        ++ [<<3, 5, (body(make_ref()))/binary>>, <<5, 0>>,
            <<4, 0, (body({6, P, '', heirloom}))/binary>>],
    lists:foreach(
      fun({I, S}) -> ok = file:write_file(filename:join(Dir, io_lib:format("seed_~3..0b", [I])), S) end,
      lists:zip(lists:seq(1, length(Seeds)), Seeds)).

%% External format without the version byte.
body(T) -> <<131, B/binary>> = term_to_binary(T), B.
