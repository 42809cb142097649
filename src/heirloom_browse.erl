%% @doc `i/1,2,3': ETS's terminal browser over a Heirloom table. It shows
%% the objects key by key (first/next/lookup, so either path), Height - 1
%% lines a page, each cut to Width, and reads a command after each page:
%% empty or `c' for the next page, `q' to quit, `pN' to print object N
%% whole, `k' to delete the table, `/Regexp' to page through only the
%% objects whose printed form matches. Prompts, numbering and cutting are
%% those of OTP 25's ets:i/3 (test/heirloom_compat_test.exs compares the
%% two screens for the same input).
-module(heirloom_browse).

-export([i/3]).

-define(MORE, '(c)ontinue (q)uit (p)Digits (k)ill /Regexp -->').
-define(EOT, 'EOT  (q)uit (p)Digits (k)ill /Regexp -->').

%% A page in progress: the table, the screen size, the filter (all or
%% {re, MP}), the next key to show, lines shown on this page (from 1) and
%% the number the next object gets.
-record(pg, {tab, height, width, filter = all, key, line = 1, num = 1}).

i(Tab, Height, Width) ->
    page(#pg{tab = Tab, height = Height, width = Width, key = heirloom:first(Tab)}).

%% Show keys until the page is full or the table ends, then ask.
page(#pg{key = '$end_of_table'} = P) ->
    ask(?EOT, P);
page(#pg{line = L, height = H} = P) when L >= H ->
    ask(?MORE, P);
page(#pg{tab = Tab, key = Key} = P) ->
    Shown = [O || O <- heirloom:lookup(Tab, Key), wanted(O, P)],
    lists:foldl(fun(O, N) -> show(O, N, P), N + 1 end, P#pg.num, Shown),
    N = length(Shown),
    page(P#pg{key = heirloom:next(Tab, Key), line = P#pg.line + N, num = P#pg.num + N}).

wanted(_, #pg{filter = all}) -> true;
wanted(O, #pg{filter = {re, MP}}) -> re:run(printed(O), MP, [{capture, none}]) =:= match.

printed(O) -> lists:flatten(io_lib:format("~p", [O])).

%% One line: the number padded to four, the object cut to fit the width.
show(O, N, #pg{width = W}) ->
    S = printed(O),
    Cut = case length(S) > W - 8 of
              true -> string:slice(S, 0, W - 13) ++ "  ...";
              false -> S
          end,
    io:format("<~-4w> ~s~n", [N, Cut]).

ask(Prompt, P) ->
    case read(Prompt) of
        eof ->
            ok;
        "c\n" when Prompt =:= ?MORE ->
            page(P#pg{line = 1});
        "q\n" ->
            ok;
        "k\n" ->
            heirloom:delete(P#pg.tab),
            ok;
        [$p | Digits] ->
            print_nth(chomp(Digits), P),
            ask(Prompt, P);
        [$/ | Text] ->
            case re:compile(chomp(Text), [unicode]) of
                {ok, MP} ->
                    Tab = P#pg.tab,
                    page(P#pg{filter = {re, MP}, key = heirloom:first(Tab), line = 1, num = 1});
                {error, {Why, _}} ->
                    io:format("~ts\n", [Why]),
                    ask(Prompt, P)
            end;
        _ ->
            ask(Prompt, P)
    end.

%% An empty line means continue; a binary stdin is read as characters.
read(Prompt) ->
    case io:get_line(Prompt) of
        "\n" -> "c\n";
        <<"\n">> -> "c\n";
        B when is_binary(B) -> unicode:characters_to_list(B);
        Other -> Other
    end.

chomp(S) -> string:trim(S, trailing, "$\n").

%% pN: object N of the objects the filter lets through, counted from the
%% first key; nothing for a number that is not one or is past the end.
print_nth(Digits, P) ->
    case catch list_to_integer(Digits) of
        N when is_integer(N), N >= 1 -> nth(N, heirloom:first(P#pg.tab), P);
        {'EXIT', _} -> io:put_chars("Bad digits\n");
        _ -> ok
    end.

nth(_, '$end_of_table', _) ->
    ok;
nth(N, Key, #pg{tab = Tab} = P) ->
    Os = [O || O <- heirloom:lookup(Tab, Key), wanted(O, P)],
    case N =< length(Os) of
        true -> io:format("~p~n", [lists:nth(N, Os)]);
        false -> nth(N - length(Os), heirloom:next(Tab, Key), P)
    end.
