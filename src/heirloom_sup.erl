%% @doc A supervisor to put in an Erlang application's tree: it runs
%% `heirloom_embedded' (see there for the options).
-module(heirloom_sup).
-behaviour(supervisor).

-export([start_link/1, init/1]).

start_link(Opts) ->
    supervisor:start_link(?MODULE, Opts).

init(Opts) ->
    Child = #{id => heirloom_embedded,
              start => {heirloom_embedded, start_link, [Opts]}},
    {ok, {#{strategy => one_for_one, intensity => 5, period => 10}, [Child]}}.
