%% @doc Which path a call takes to a C node's data, and the NIF calls of
%% the fast path. `nif' when the C node's store is on this host and
%% heirloom_nif opened it (reads and row writes then skip the network),
%% `cnode' otherwise; decided once per node and kept in persistent_term,
%% where heirloom:set_node/1 and heirloom:forget_path/1 drop it.
-module(heirloom_path).

-export([default_path/0, local/1, nif_call/3]).

-include("heirloom_path.hrl").

%% A read or a row write answers `dirty' when it must not run on a normal
%% scheduler (a large object, a busy lock; a write then wrote nothing): its
%% `_dirty' twin runs on a dirty one.
nif_call(F, Env, Args) ->
    case nif(F, Env, Args) of
        dirty -> nif(dirty_twin(F), Env, Args);
        Reply -> Reply
    end.

%% The calls a program makes most by name: a remote call to a known function
%% is cheaper than apply/3, which looks the function up on every call.
nif(lookup, Env, [Tab, Key]) -> heirloom_nif:lookup(Env, Tab, Key);
nif(lookup_dirty, Env, [Tab, Key]) -> heirloom_nif:lookup_dirty(Env, Tab, Key);
nif(member, Env, [Tab, Key]) -> heirloom_nif:member(Env, Tab, Key);
nif(insert, Env, [Tab, Objects]) -> heirloom_nif:insert(Env, Tab, Objects);
nif(insert_dirty, Env, [Tab, Objects]) -> heirloom_nif:insert_dirty(Env, Tab, Objects);
nif(insert_new, Env, [Tab, Objects]) -> heirloom_nif:insert_new(Env, Tab, Objects);
nif(delete, Env, [Tab, Key]) -> heirloom_nif:delete(Env, Tab, Key);
nif(F, Env, Args) -> apply(heirloom_nif, F, [Env | Args]).

dirty_twin(lookup) -> lookup_dirty;
dirty_twin(member) -> member_dirty;
dirty_twin(size) -> size_dirty;
dirty_twin(step) -> step_dirty;
dirty_twin(lookup_element) -> lookup_element_dirty;
dirty_twin(insert) -> insert_dirty;
dirty_twin(insert_new) -> insert_new_dirty;
dirty_twin(delete) -> delete_dirty;
dirty_twin(update_counter) -> update_counter_dirty;
dirty_twin(update_element) -> update_element_dirty;
dirty_twin(take) -> take_dirty;
dirty_twin(delete_object) -> delete_object_dirty.

%% The default node's path in one persistent_term read (the application env
%% is an ETS lookup, too slow for every NIF call); set_node/1 and
%% forget_path/1 drop it.
default_path() ->
    case persistent_term:get(?DEFAULT_PATH, undefined) of
        undefined ->
            Node = heirloom:node(),
            Path = local(Node),
            case persistent_term:get(?NODE_PATH(Node), undefined) of
                undefined -> ok;
                _ -> persistent_term:put(?DEFAULT_PATH, Path)
            end,
            Path;
        Path ->
            Path
    end.

local(Node) ->
    Key = ?NODE_PATH(Node),
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
    try heirloom:call(Node, store_info) of
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
