#!/usr/bin/env escript
%% -*- erlang -*-
%%
%% gen_vectors.escript: writes the test vectors for the C term codec
%% (c_src/hl_term*.c) and term order (c_src/hl_order.c).
%%
%%   escript test/vectors/gen_vectors.escript test/vectors
%%
%% The expected values come from erts and from an Erlang reference encoder in
%% this file, never from the C code. The random seed is fixed, so running it
%% again rewrites the same files.
%%
%% File format (all three files): one case per line, fields separated by one
%% space; lines starting with '#' are comments. Terms are hex (lower case) of
%% whole external-format binaries, version byte 131 included.
%%
%%   canon.txt  NAME INPUT CANONICAL
%%              hl_term_canon_binary(INPUT) must give CANONICAL exactly;
%%              here binary_to_term(INPUT) =:= binary_to_term(CANONICAL).
%%   order.txt  NAME A B EQ EXACT
%%              EQ, EXACT in {-1,0,1}: the sign of A against B under ==
%%              (from Erlang's < and ==) and under the exact order (from
%%              maps:keys(#{A => 0, B => 0}), erts's map key order).
%%   bad.txt    NAME INPUT
%%              hl_term_canon_binary(INPUT) must return HL_EBADARG; erts's
%%              binary_to_term refuses each of them too (checked here).
%%
%% NAME is [a-z0-9_.]+ and says where the case came from.
-mode(compile).

main([Dir]) ->
    rand:seed(exsss, {20240, 7, 31}),
    Funs = fun_terms(),
    Terms = edge_terms() ++ Funs ++ [random_term(4) || _ <- lists:seq(1, 220)],
    Canon = lists:append([canon_cases(I, T) || {I, T} <- lists:zip(lists:seq(1, length(Terms)), Terms)])
        ++ fun_size_cases(),
    write(Dir, "canon.txt", canon_header(), Canon),
    Order = order_cases(Funs),
    write(Dir, "order.txt", order_header(), Order),
    Bad = bad_cases(),
    write(Dir, "bad.txt", bad_header(), Bad),
    io:format("canon: ~p, order: ~p, bad: ~p~n", [length(Canon), length(Order), length(Bad)]);
main(_) ->
    io:format("usage: gen_vectors.escript OUTDIR~n"),
    halt(1).

canon_header() -> "# NAME INPUT CANONICAL (see gen_vectors.escript)\n".
order_header() -> "# NAME A B EQ EXACT (see gen_vectors.escript)\n".
bad_header() -> "# NAME INPUT, each must be refused (see gen_vectors.escript)\n".

write(Dir, File, Header, Lines) ->
    Body = [[lists:join(" ", Fields), "\n"] || Fields <- Lines],
    ok = file:write_file(filename:join(Dir, File), [Header | Body]).

hex(B) -> string:lowercase(binary:encode_hex(B)).

%% ---- terms ---------------------------------------------------------------

node_pid(Node, Id, Ser, Cre) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 88, 119, (byte_size(N)), N/binary, Id:32, Ser:32, Cre:32>>).

node_port(Node, Id, Cre) ->
    N = atom_to_binary(Node, utf8),
    binary_to_term(<<131, 120, 119, (byte_size(N)), N/binary, Id:64, Cre:32>>).

node_ref(Node, Cre, Words) ->
    N = atom_to_binary(Node, utf8),
    W = <<<<X:32>> || X <- Words>>,
    binary_to_term(<<131, 90, (length(Words)):16, 119, (byte_size(N)), N/binary, Cre:32, W/binary>>).

neg_zero() ->
    <<F/float>> = <<1:1, 0:63>>,
    F.

numbers() ->
    P = fun(E) -> 1 bsl E end,
    Ints = [0, 1, -1, 2, 127, 128, 255, 256, -255, -256, 65535, 65536,
            P(31) - 1, P(31), -P(31), -P(31) - 1, P(32) - 1, P(32), P(32) + 1, -P(32),
            P(53) - 1, P(53), P(53) + 1, -P(53) - 1, P(63) - 1, P(63), -P(63), -P(63) - 1,
            P(64) - 1, P(64), -P(64), P(100) + 7, -P(100), P(1024), P(1024) - 1,
            P(2040) + 12345, -P(2100), P(3000) + 1],
    Floats = [0.0, neg_zero(), 1.0, -1.0, 0.5, 1.5, -1.5, 2.5, 100.0, 1.0e-300, 5.0e-324,
              -5.0e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
              -1.7976931348623157e308, float(P(31)), float(P(32)), float(P(53)),
              float(P(53)) - 1.0, float(P(53)) + 2.0, float(P(63)), float(P(64)),
              float(P(100)), float(P(1023)), 3.141592653589793, 0.1, 1.0e15, 123456789.125],
    Ints ++ Floats.

edge_terms() ->
    Self = node_pid('nonode@nohost', 9, 0, 0),
    numbers() ++
        [a, 'A', '', 'hello world', 'ünïcödé', '日本語', 'emoji_😀', true, false, nil,
         list_to_atom(lists:duplicate(255, $x)), list_to_atom(lists:duplicate(255, 16#e9)),
         list_to_atom(lists:duplicate(100, 16#65e5)),
         [], "", "a", "hello", [0], [255], [256], [-1], lists:seq(0, 255),
         [1 | 2], [a | b], [1, 2 | 3], [[]], [[], []], [[[[]]]],
         "abc" ++ [1.0], [1.0, 2.0], [$a, $b | <<"c">>], [{}, #{}], "日本",
         {}, {a}, {1, 2.0}, {1.0, 2}, list_to_tuple(lists:seq(1, 256)), {{{}}}, {[], [[]]},
         #{}, #{a => 1}, #{1 => a, 1.0 => b}, #{1.0 => a, 1 => b, 2 => c, 1.5 => d},
         #{[] => 1, {} => 2, <<>> => 3, a => 4, 0 => 5, 0.0 => 6},
         #{#{1 => 2} => #{3 => 4}, #{} => []},
         maps:from_list([{I, I * I} || I <- lists:seq(1, 40)]),
         maps:from_list([{float(I), I} || I <- lists:seq(1, 33)] ++ [{I, x} || I <- lists:seq(1, 33)]),
         maps:from_list([{integer_to_list(I), {I}} || I <- lists:seq(1, 50)]),
         <<>>, <<0>>, <<1, 2, 3>>, <<"hello">>, binary:copy(<<255>>, 300),
         <<1:1>>, <<0:7>>, <<255, 3:2>>, <<1, 2, 3, 5:5>>, <<16#abc:12>>,
         Self, node_pid('a@b', 1, 0, 1), node_pid('other@host', 1 bsl 20, 5, 7),
         node_pid('x@y', 4294967295, 4294967295, 4294967295), node_pid('ünï@høst', 3, 0, 2),
         node_port('nonode@nohost', 5, 0), node_port('a@b', 1, 1), node_port('a@b', 1 bsl 40, 3),
         node_ref('nonode@nohost', 0, [1, 2, 3]), node_ref('a@b', 1, [5]), node_ref('a@b', 1, [5, 0]),
         node_ref('a@b', 2, [0, 0, 0]), node_ref('a@b', 3, [1, 2, 3, 4, 5]),
         node_ref('x@y', 300, [7, 0, 9]),
         {Self, node_ref('a@b', 1, [5]), [node_port('a@b', 1, 1)]}].

%% Local funs come from a module compiled here under a fixed name, so their
%% uniq values do not change between runs.
fun_terms() ->
    Src = ["-module(hl_vec_funs).\n-export([mk/1, mk2/2]).\n",
           "mk(Y) -> fun(X) -> X + Y end.\n",
           "mk2(A, B) -> fun() -> {A, B} end.\n"],
    {ok, Toks, _} = erl_scan:string(lists:flatten(Src)),
    Forms = split_forms(Toks, [], []),
    {ok, Mod, Bin} = compile:forms([F || {ok, F} <- [erl_parse:parse_form(T) || T <- Forms]]),
    {module, Mod} = code:load_binary(Mod, "hl_vec_funs.erl", Bin),
    [fun lists:map/2, fun erlang:abs/1, fun lists:filter/2, fun 'ünï':'föö'/255,
     hl_vec_funs:mk(1), hl_vec_funs:mk(1.0), hl_vec_funs:mk(2), hl_vec_funs:mk("str"),
     hl_vec_funs:mk2(#{b => 1, a => 2}, [1 | 2]), hl_vec_funs:mk2(a, hl_vec_funs:mk(3))].

split_forms([], [], Acc) -> lists:reverse(Acc);
split_forms([{dot, _} = D | T], Cur, Acc) -> split_forms(T, [], [lists:reverse([D | Cur]) | Acc]);
split_forms([X | T], Cur, Acc) -> split_forms(T, [X | Cur], Acc).

random_term(0) -> random_leaf();
random_term(D) ->
    case rand:uniform(10) of
        1 -> list_to_tuple([random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        2 -> [random_term(D - 1) || _ <- lists:seq(1, rand:uniform(4) - 1)];
        3 -> maps:from_list([{random_term(D - 1), random_term(D - 1)} || _ <- lists:seq(1, rand:uniform(4) - 1)]);
        4 -> [rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(6))];
        5 -> [random_term(D - 1) | random_leaf()];
        _ -> random_leaf()
    end.

random_leaf() ->
    case rand:uniform(12) of
        1 -> rand:uniform(512) - 256;
        2 -> (rand:uniform(1 bsl 70) - (1 bsl 69)) bsr rand:uniform(70);
        3 -> (rand:uniform(2000) - 1000) / 8;
        4 -> float(rand:uniform(20) - 10);
        5 -> lists:nth(rand:uniform(6), [a, b, 'Zz', 'ü', '日', ok]);
        6 -> list_to_binary([rand:uniform(256) - 1 || _ <- lists:seq(1, rand:uniform(5) - 1)]);
        7 -> <<(rand:uniform(255)):(rand:uniform(7))>>;
        8 -> [];
        9 -> {};
        10 -> rand:uniform(5);
        11 -> node_pid(lists:nth(rand:uniform(2), ['a@h', 'b@h']), rand:uniform(3), rand:uniform(2) - 1, 1);
        12 -> float(rand:uniform(5))
    end.

%% ---- the reference canonical encoder ---------------------------------------

canon(T) -> <<131, (enc(T))/binary>>.

enc(I) when is_integer(I), I >= 0, I =< 255 -> <<97, I>>;
enc(I) when is_integer(I), I >= -(1 bsl 31), I < (1 bsl 31) -> <<98, I:32/signed>>;
enc(I) when is_integer(I) ->
    Mag = binary:encode_unsigned(abs(I), little),
    Sign = if I < 0 -> 1; true -> 0 end,
    case byte_size(Mag) of
        N when N =< 255 -> <<110, N, Sign, Mag/binary>>;
        N -> <<111, N:32, Sign, Mag/binary>>
    end;
enc(F) when is_float(F), F == 0.0 -> <<70, 0:64>>;
enc(F) when is_float(F) -> <<70, F/float>>;
enc(A) when is_atom(A) -> enc_atom(atom_to_binary(A, utf8));
enc([]) -> <<106>>;
enc(L) when is_list(L) ->
    {Elems, Tail} = split_list(L, []),
    Small = Tail =:= [] andalso length(Elems) =< 65535 andalso
        lists:all(fun(E) -> is_integer(E) andalso E >= 0 andalso E =< 255 end, Elems),
    case Small of
        true -> <<107, (length(Elems)):16, (list_to_binary(Elems))/binary>>;
        false -> iolist_to_binary([<<108, (length(Elems)):32>>, [enc(E) || E <- Elems], enc(Tail)])
    end;
enc(T) when is_tuple(T), tuple_size(T) =< 255 ->
    iolist_to_binary([<<104, (tuple_size(T))>> | [enc(E) || E <- tuple_to_list(T)]]);
enc(T) when is_tuple(T) ->
    iolist_to_binary([<<105, (tuple_size(T)):32>> | [enc(E) || E <- tuple_to_list(T)]]);
enc(M) when is_map(M) ->
    Keys = lists:sort(fun exact_le/2, maps:keys(M)),
    iolist_to_binary([<<116, (map_size(M)):32>> | [[enc(K), enc(maps:get(K, M))] || K <- Keys]]);
enc(B) when is_binary(B) -> <<109, (byte_size(B)):32, B/binary>>;
enc(B) when is_bitstring(B) ->
    Bits = bit_size(B) rem 8,
    Pad = 8 - Bits,
    Padded = <<B/bitstring, 0:Pad>>,
    <<77, (byte_size(Padded)):32, Bits, Padded/binary>>;
enc(P) when is_pid(P) ->
    {Node, <<Id:32, Ser:32, Cre:32>>} = ident(P),
    <<88, Node/binary, Id:32, Ser:32, Cre:32>>;
enc(P) when is_port(P) ->
    {Node, Rest} = ident(P),
    {Id, Cre} = case Rest of
                    <<I:32, C:32>> -> {I, C};
                    <<I:64, C:32>> -> {I, C}
                end,
    if Id < (1 bsl 32) -> <<89, Node/binary, Id:32, Cre:32>>;
       true -> <<120, Node/binary, Id:64, Cre:32>>
    end;
enc(R) when is_reference(R) ->
    {Node, <<Cre:32, W/binary>>} = ident(R),
    Words = strip_zero_words(lists:reverse([X || <<X:32>> <= W])),
    <<90, (length(Words)):16, Node/binary, Cre:32, (<<<<X:32>> || X <- Words>>)/binary>>;
enc(F) when is_function(F) ->
    case erlang:fun_info(F, type) of
        {type, external} ->
            {module, M} = erlang:fun_info(F, module),
            {name, N} = erlang:fun_info(F, name),
            {arity, A} = erlang:fun_info(F, arity),
            <<113, (enc(M))/binary, (enc(N))/binary, (enc(A))/binary>>;
        {type, local} ->
            I = fun(K) -> {K, V} = erlang:fun_info(F, K), V end,
            Env = I(env),
            Body = iolist_to_binary([<<(I(arity)), (I(new_uniq))/binary, (I(new_index)):32,
                                      (length(Env)):32>>,
                                     enc(I(module)), enc(I(index)), enc(I(uniq)), enc(I(pid)),
                                     [enc(E) || E <- Env]]),
            <<112, (byte_size(Body) + 4):32, Body/binary>>
    end.

enc_atom(B) when byte_size(B) =< 255 -> <<119, (byte_size(B)), B/binary>>;
enc_atom(B) -> <<118, (byte_size(B)):16, B/binary>>.

split_list([H | T], Acc) -> split_list(T, [H | Acc]);
split_list(Tail, Acc) -> {lists:reverse(Acc), Tail}.

%% Highest word first in; drop high zero words but keep one.
strip_zero_words([0 | T]) when T =/= [] -> strip_zero_words(T);
strip_zero_words(Ws) -> lists:reverse(Ws).

%% Node atom (canonical) and the remaining fixed fields of a pid/port/ref,
%% read from erts's own newest encoding.
ident(X) ->
    case term_to_binary(X, [{minor_version, 2}]) of
        <<131, 90, _:16, 119, NL, N:NL/binary, Rest/binary>> -> {enc_atom(N), Rest};
        <<131, 90, _:16, 118, NL:16, N:NL/binary, Rest/binary>> -> {enc_atom(N), Rest};
        <<131, _, 119, NL, N:NL/binary, Rest/binary>> -> {enc_atom(N), Rest};
        <<131, _, 118, NL:16, N:NL/binary, Rest/binary>> -> {enc_atom(N), Rest}
    end.

%% erts's exact order (map key order), taken from erts itself.
exact_cmp(A, B) when A =:= B -> 0;
exact_cmp(A, B) ->
    case maps:keys(#{A => 0, B => 0}) of
        [A, B] -> -1;
        [B, A] -> 1
    end.

exact_le(A, B) -> exact_cmp(A, B) =< 0.

%% ---- alternative encodings --------------------------------------------------

pick(L) -> lists:nth(rand:uniform(length(L)), L).

alt(I) when is_integer(I) ->
    Mag = binary:encode_unsigned(abs(I), little),
    Sign = if I < 0 -> pick([1, 1, 2, 255]); true -> 0 end,
    Z = binary:copy(<<0>>, rand:uniform(3) - 1),
    M = <<Mag/binary, Z/binary>>,
    Fits = I >= -(1 bsl 31) andalso I < (1 bsl 31),
    case pick([int, small_big, large_big]) of
        int when Fits -> <<98, I:32/signed>>;
        large_big -> <<111, (byte_size(M)):32, Sign, M/binary>>;
        _ when byte_size(M) =< 255 -> <<110, (byte_size(M)), Sign, M/binary>>;
        _ -> <<111, (byte_size(M)):32, Sign, M/binary>>
    end;
alt(F) when is_float(F) ->
    case rand:uniform(2) of
        1 -> <<70, F/float>>;
        2 -> <<131, Old/binary>> = term_to_binary(F, [{minor_version, 0}]), Old
    end;
alt(A) when is_atom(A) ->
    U = atom_to_binary(A, utf8),
    L = try atom_to_binary(A, latin1) catch _:_ -> none end,
    Opts = [{118, U}] ++ [{119, U} || byte_size(U) =< 255] ++
        [{100, L} || L =/= none] ++ [{115, L} || L =/= none, byte_size(L) =< 255],
    case pick(Opts) of
        {T, B} when T =:= 118; T =:= 100 -> <<T, (byte_size(B)):16, B/binary>>;
        {T, B} -> <<T, (byte_size(B)), B/binary>>
    end;
alt([]) -> pick([<<106>>, <<107, 0, 0>>, <<108, 0:32, 106>>]);
alt(L) when is_list(L) ->
    {Elems, Tail} = split_list(L, []),
    alt_segments(Elems, Tail);
alt(T) when is_tuple(T) ->
    H = case tuple_size(T) of
            N when N =< 255 -> pick([<<104, N>>, <<105, N:32>>]);
            N -> <<105, N:32>>
        end,
    iolist_to_binary([H | [alt(E) || E <- tuple_to_list(T)]]);
alt(M) when is_map(M) ->
    Ks = [K || {_, K} <- lists:sort([{rand:uniform(), K} || K <- maps:keys(M)])],
    iolist_to_binary([<<116, (map_size(M)):32>> | [[alt(K), alt(maps:get(K, M))] || K <- Ks]]);
alt(B) when is_binary(B) ->
    case byte_size(B) of
        0 -> pick([<<109, 0:32>>, <<77, 0:32, 0>>]);
        N -> pick([<<109, N:32, B/binary>>, <<77, N:32, 8, B/binary>>])
    end;
alt(B) when is_bitstring(B) ->
    Bits = bit_size(B) rem 8,
    Pad = 8 - Bits,
    Junk = rand:uniform(1 bsl Pad) - 1,
    P = <<B/bitstring, Junk:Pad>>,
    <<77, (byte_size(P)):32, Bits, P/binary>>;
alt(P) when is_pid(P) ->
    {N, <<Id:32, Ser:32, Cre:32>>} = ident(P),
    Node = alt_node(N),
    case Cre < 4 andalso rand:uniform(2) =:= 1 of
        true -> <<103, Node/binary, Id:32, Ser:32, Cre>>;
        false -> <<88, Node/binary, Id:32, Ser:32, Cre:32>>
    end;
alt(P) when is_port(P) ->
    {N, Rest} = ident(P),
    {Id, Cre} = case Rest of <<I:32, C:32>> -> {I, C}; <<I:64, C:32>> -> {I, C} end,
    Node = alt_node(N),
    Opts = [v4] ++ [new || Id < (1 bsl 32)] ++ [old || Id < (1 bsl 32), Cre < 4],
    case pick(Opts) of
        v4 -> <<120, Node/binary, Id:64, Cre:32>>;
        new -> <<89, Node/binary, Id:32, Cre:32>>;
        old -> <<102, Node/binary, Id:32, Cre>>
    end;
alt(R) when is_reference(R) ->
    {N, <<Cre:32, W/binary>>} = ident(R),
    Node = alt_node(N),
    Words = [X || <<X:32>> <= W],
    Padded = Words ++ lists:duplicate(rand:uniform(max(1, 4 - length(Words))) - 1, 0),
    WB = <<<<X:32>> || X <- Padded>>,
    case {Cre < 4 andalso hd(Padded) < (1 bsl 18), Padded} of
        {true, [One]} -> pick([<<101, Node/binary, One:32, Cre>>,
                                             <<114, 1:16, Node/binary, Cre, One:32>>]);
        {true, _} -> pick([<<114, (length(Padded)):16, Node/binary, Cre, WB/binary>>,
                           <<90, (length(Padded)):16, Node/binary, Cre:32, WB/binary>>]);
        _ -> <<90, (length(Padded)):16, Node/binary, Cre:32, WB/binary>>
    end;
alt(F) when is_function(F) ->
    case erlang:fun_info(F, type) of
        {type, external} ->
            {module, M} = erlang:fun_info(F, module),
            {name, N} = erlang:fun_info(F, name),
            {arity, A} = erlang:fun_info(F, arity),
            <<113, (alt(M))/binary, (alt(N))/binary, (alt(A))/binary>>;
        {type, local} ->
            I = fun(K) -> {K, V} = erlang:fun_info(F, K), V end,
            Env = I(env),
            Body = iolist_to_binary([<<(I(arity)), (I(new_uniq))/binary, (I(new_index)):32,
                                      (length(Env)):32>>,
                                     alt(I(module)), alt(I(index)), alt(I(uniq)), alt(I(pid)),
                                     [alt(E) || E <- Env]]),
            <<112, (byte_size(Body) + 4):32, Body/binary>>
    end.

alt_node(<<_, _, N/binary>>) -> alt(binary_to_atom(N, utf8)).

%% A list as a chain of segments: LIST_EXT pieces whose tail is the next
%% piece, sometimes an empty LIST_EXT, and a final STRING_EXT when the rest is
%% a string.
alt_segments([], Tail) ->
    case rand:uniform(5) of
        1 -> <<108, 0:32, (alt(Tail))/binary>>;
        _ -> alt(Tail)
    end;
alt_segments(Elems, Tail) ->
    IsStr = Tail =:= [] andalso length(Elems) =< 65535 andalso
        lists:all(fun(E) -> is_integer(E) andalso E >= 0 andalso E =< 255 end, Elems),
    case IsStr andalso rand:uniform(3) =:= 1 of
        true -> <<107, (length(Elems)):16, (list_to_binary(Elems))/binary>>;
        false ->
            K = case length(Elems) > 1000 of true -> length(Elems); false -> rand:uniform(length(Elems)) end,
            {Seg, Rest} = lists:split(K, Elems),
            iolist_to_binary([<<108, K:32>>, [alt(E) || E <- Seg], alt_segments(Rest, Tail)])
    end.

%% ---- cases ------------------------------------------------------------------

canon_cases(I, T) ->
    C = canon(T),
    T = binary_to_term(C),
    true = binary_to_term(C) =:= T,
    Std = [{"t2b", term_to_binary(T)}, {"t2b_v0", term_to_binary(T, [{minor_version, 0}])},
           {"t2b_v2", term_to_binary(T, [{minor_version, 2}])}],
    Alts = [{"alt" ++ integer_to_list(K), <<131, (alt(T))/binary>>} || K <- [1, 2, 3]],
    Inputs = dedup(Std ++ Alts, #{}),
    [begin
         case binary_to_term(In) =:= T of
             true -> ok;
             false -> error({bad_alt, T, In})
         end,
         [io_lib:format("t~b.~s", [I, Tag]), hex(In), hex(C)]
     end || {Tag, In} <- Inputs].

dedup([], _) -> [];
dedup([{Tag, B} | T], Seen) ->
    case maps:is_key(B, Seen) of
        true -> dedup(T, Seen);
        false -> [{Tag, B} | dedup(T, Seen#{B => 1})]
    end.

sign(A, B) when A < B -> -1;
sign(A, B) when A == B -> 0;
sign(_, _) -> 1.

order_cases(Funs) ->
    Nums = numbers(),
    Ids = [node_pid(N, I, S, C) || N <- ['a@h', 'b@h'], I <- [1, 2], S <- [0, 1], C <- [1, 2]] ++
        [node_port(N, I, C) || N <- ['a@h', 'b@h'], I <- [1, 2, 1 bsl 33], C <- [1, 2]] ++
        [node_ref(N, C, W) || N <- ['a@h', 'b@h'], C <- [1, 2], W <- [[1], [2], [2, 0], [0, 1], [1, 0, 0], [0, 0, 1]]],
    Mixed = [0, 1.0, -1, a, zz, 'é', node_ref('a@h', 1, [1]), hd(Funs), lists:last(Funs),
             node_port('a@h', 1, 1), node_pid('a@h', 1, 0, 1), {}, {a}, {1, 2}, #{}, #{a => 1},
             [], [a], "abc", [1 | 2], <<>>, <<1:1>>, <<1>>, <<1, 2>>],
    Nested = [{1, 2.0}, {1.0, 2}, {1, 2}, [1, 2.0], [1.0, 2], [1 | 2.0], [1.0 | 2], "ab", [97, 98.0],
              [97 | <<"b">>], [97, 98 | c], #{1 => a}, #{1.0 => a}, #{1 => 1}, #{1 => 1.0},
              #{a => 1, b => 2}, #{a => 1.0, b => 2}, #{a => 1, c => 2}, #{1 => x, 2.5 => y},
              #{3 => x, 0.5 => y}, #{2 => x, 1.5 => y}, #{100 => x, 1.5 => y},
              [[1]], [[1.0]], [[[2]]], {{1}}, {{1.0}}, <<1:3>>, <<1:4>>, <<32:6>>, <<16#80:8, 1:1>>],
    Big1 = maps:from_list([{I, I} || I <- lists:seq(1, 40)]),
    Bigs = [Big1, Big1#{40 => 40.0}, Big1#{41 => 0}, maps:remove(1, Big1#{41 => 1}),
            maps:from_list([{float(I), I} || I <- lists:seq(1, 40)]),
            maps:from_list([{I, I} || I <- lists:seq(2, 41)])],
    Rand = [random_small() || _ <- lists:seq(1, 40)],
    Pairs = all_pairs(Nums) ++ all_pairs(Ids) ++ all_pairs(Mixed) ++ all_pairs(Nested) ++
        all_pairs(Bigs) ++ all_pairs(Funs) ++ all_pairs(Rand),
    [order_line(K, A, B) || {K, {A, B}} <- lists:zip(lists:seq(1, length(Pairs)), Pairs)].

all_pairs(L) -> [{A, B} || A <- L, B <- L].

random_small() ->
    case rand:uniform(4) of
        1 -> pick([1, 1.0, 2, 2.0, a, [], {}]);
        2 -> {pick([1, 1.0, 2]), pick([1, 1.0, a])};
        3 -> [pick([1, 1.0, 97, 98]) || _ <- lists:seq(1, rand:uniform(3))];
        4 -> #{pick([1, 1.0, a]) => pick([1, 1.0]), pick([2, b]) => 1}
    end.

order_line(K, A, B) ->
    Enc = fun(T) ->
                  case rand:uniform(3) of
                      1 -> <<131, (alt(T))/binary>>;
                      _ -> term_to_binary(T)
                  end
          end,
    [io_lib:format("o~b", [K]), hex(Enc(A)), hex(Enc(B)), integer_to_list(sign(A, B)),
     integer_to_list(exact_cmp(A, B))].

%% ---- malformed inputs -------------------------------------------------------

bad_cases() ->
    Samples = [{1, 2.0, [a | b]}, #{a => "xy", 1 => <<1, 2>>}, 1 bsl 70, 'ünï', "abc",
               node_pid('a@b', 1, 2, 3), node_ref('a@b', 1, [1, 2]), node_port('a@b', 1 bsl 40, 1),
               fun lists:map/2, hl_vec_funs:mk(1), <<1, 2:3>>, 1.5],
    Trunc = lists:append(
              [[{io_lib:format("trunc~b.~b", [S, N]), binary:part(B, 0, N)} || N <- lists:seq(0, byte_size(B) - 1)]
               || {S, T} <- lists:zip(lists:seq(1, length(Samples)), Samples),
                  B <- [term_to_binary(T, [{minor_version, 2}])]]),
    Huge = 16#ffffffff,
    A = <<119, 3, "a@b">>,
    Hand = [{"tag0", <<131, 0>>}, {"tag255", <<131, 255>>}, {"compressed", <<131, 80, _/binary>> = term_to_binary(binary:copy(<<"a">>, 1000), [compressed])},
            {"atom_cache_ref", <<131, 82, 0>>}, {"no_version", <<97, 1>>}, {"version_only", <<131>>},
            {"empty", <<>>}, {"trailing", <<131, 97, 1, 0>>}, {"old_fun_ext", <<131, 117, 0:32, 0, 0, 0, 0, 0>>},
            {"list_huge", <<131, 108, Huge:32, 106>>}, {"list_past_end", <<131, 108, 3:32, 97, 1, 106>>},
            {"tuple_huge", <<131, 105, Huge:32>>}, {"tuple_short", <<131, 104, 3, 97, 1, 97, 2>>},
            {"map_huge", <<131, 116, Huge:32>>}, {"map_odd", <<131, 116, 1:32, 97, 1>>},
            {"binary_huge", <<131, 109, Huge:32, 1, 2>>}, {"string_past_end", <<131, 107, 0, 5, "abc">>},
            {"big_huge", <<131, 111, Huge:32, 0, 1>>}, {"small_big_short", <<131, 110, 9, 0, 1, 2>>},
            {"atom_past_end", <<131, 119, 9, "abc">>}, {"atom_utf8_bad", <<131, 119, 2, 16#c3, 16#28>>},
            {"atom_utf8_overlong", <<131, 119, 2, 16#c0, 16#80>>}, {"atom_utf8_surrogate", <<131, 119, 3, 16#ed, 16#a0, 16#80>>},
            {"atom_too_long_latin1", <<131, 100, 256:16, (binary:copy(<<"a">>, 256))/binary>>},
            {"atom_too_long_utf8", <<131, 118, 512:16, (binary:copy(<<16#c3, 16#a9>>, 256))/binary>>},
            {"bits_zero", <<131, 77, 1:32, 0, 255>>}, {"bits_nine", <<131, 77, 1:32, 9, 255>>},
            {"bits_empty_nonzero", <<131, 77, 0:32, 3>>}, {"bits_short", <<131, 77, 2:32, 3, 1>>},
            {"float_nan", <<131, 70, 16#7ff8000000000000:64>>}, {"float_inf", <<131, 70, 16#7ff0000000000000:64>>},
            {"float_old_inf", <<131, 99, "inf", 0:(28 * 8)>>}, {"float_old_garbage", <<131, 99, "1.5xyz", 0:(25 * 8)>>},
            {"float_old_space", <<131, 99, " 1.5", 0:(27 * 8)>>}, {"float_old_empty", <<131, 99, 0:(31 * 8)>>},
            {"float_old_short", <<131, 99, "1.5">>},
            {"map_dup", <<131, 116, 2:32, 97, 1, 97, 2, 97, 1, 97, 3>>},
            {"map_dup_encodings", <<131, 116, 2:32, 97, 1, 97, 2, 98, 1:32, 97, 3>>},
            {"map_dup_atoms", <<131, 116, 2:32, 100, 1:16, "k", 97, 2, 119, 1, "k", 97, 3>>},
            {"map_dup_nested", <<131, 116, 1:32, 116, 2:32, 97, 1, 97, 2, 110, 1, 0, 1, 97, 3, 106>>},
            {"pid_node_not_atom", <<131, 88, 97, 1, 0:32, 0:32, 0:32>>}, {"pid_short", <<131, 88, A/binary, 0:32>>},
            {"ref_too_many_words", <<131, 90, 6:16, A/binary, 0:32, 0:192>>},
            {"ref_short", <<131, 90, 3:16, A/binary, 0:32, 1:32>>}, {"port_short", <<131, 120, A/binary, 1:32>>},
                        {"export_arity_negative", <<131, 113, 119, 1, "m", 119, 1, "f", 98, -1:32>>},
            {"pid_old_creation", <<131, 103, A/binary, 1:32, 0:32, 4>>},
            {"ref_old_word", <<131, 101, A/binary, 16#ffffffff:32, 1>>},
            {"ref_old_creation", <<131, 114, 1:16, A/binary, 4, 1:32>>},
            {"float_old_no_point", <<131, 99, "1e5", 0:(28 * 8)>>},
            {"float_old_no_int", <<131, 99, ".5", 0:(29 * 8)>>},
            {"export_module_not_atom", <<131, 113, 97, 1, 119, 1, "f", 97, 1>>},
            {"fun_module_not_atom", fun_bad_module()}],
    Cases = Trunc ++ Hand,
    %% Compressed terms are valid for erts but refused by contract (hl_term.h).
    [begin
         case {catch binary_to_term(B), Name} of
             {{'EXIT', {badarg, _}}, _} -> ok;
             {_, "compressed"} -> ok;
             {_, "trailing"} -> ok; % erts ignores them, the contract refuses them
             {Other, _} -> error({erts_accepts, Name, Other})
         end,
         [lists:flatten(Name), hex(B)]
     end || {Name, B} <- Cases].

%% A local fun whose Module field is not an atom.
fun_bad_module() ->
    F = hl_vec_funs:mk2(a, b),
    I = fun(K) -> {K, V} = erlang:fun_info(F, K), V end,
    Body = iolist_to_binary([<<(I(arity)), (I(new_uniq))/binary, (I(new_index)):32, 2:32>>,
                             enc(1), enc(I(index)), enc(I(uniq)), enc(I(pid)), enc(a), enc(b)]),
    <<131, 112, (byte_size(Body) + 4):32, Body/binary>>.

%% erts ignores a local fun's Size field; the canonical form has the right one.
fun_size_cases() ->
    F = hl_vec_funs:mk(1),
    <<131, 112, Size:32, Rest/binary>> = term_to_binary(F),
    C = hex(canon(F)),
    [["fun_size_small", hex(<<131, 112, (Size - 1):32, Rest/binary>>), C],
     ["fun_size_large", hex(<<131, 112, (Size + 9):32, Rest/binary>>), C],
     ["fun_size_zero", hex(<<131, 112, 0:32, Rest/binary>>), C]].
