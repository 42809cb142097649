%% @doc The same-host fast path: a NIF that opens the C node's LMDB store
%% inside this VM. Used by `heirloom' when the C node runs on this host; the
%% rules (owner, access mode) are the same as through the C node because both
%% go through the same store code inside one LMDB transaction.
-module(heirloom_nif).

-export([priv_dir/0]).
-export([open/1, lookup/3, lookup_dirty/3, member/3, member_dirty/3, size/2, size_dirty/2,
         insert/3, insert_new/3, delete/3]).
-export([step/4, step_dirty/4, lookup_element/4, lookup_element_dirty/4, fold_chunk/5,
         update_counter/5, update_element/4, take/3, delete_object/3]).
-export([insert_dirty/3, insert_new_dirty/3, delete_dirty/3, update_counter_dirty/5,
         update_element_dirty/4, take_dirty/3, delete_object_dirty/3]).
-on_load(init/0).

-nifs([open/1, lookup/3, lookup_dirty/3, member/3, member_dirty/3, size/2, size_dirty/2,
       insert/3, insert_new/3, delete/3]).
-nifs([step/4, step_dirty/4, lookup_element/4, lookup_element_dirty/4, fold_chunk/5,
       update_counter/5, update_element/4, take/3, delete_object/3]).
-nifs([insert_dirty/3, insert_new_dirty/3, delete_dirty/3, update_counter_dirty/5,
       update_element_dirty/4, take_dirty/3, delete_object_dirty/3]).
-export([select/5]).
-nifs([select/5]).

init() ->
    erlang:load_nif(filename:join(priv_dir(), "heirloom_nif"), 0).

%% @doc The application's priv directory, also when run from the source
%% tree (no application directory): where heirloom_node and the NIF live.
-spec priv_dir() -> file:filename().
priv_dir() ->
    case code:priv_dir(heirloom) of
        {error, _} ->
            %% Run from the source tree (no application directory).
            filename:join(filename:dirname(filename:dirname(code:which(?MODULE))), "priv");
        Dir ->
            Dir
    end.

%% @doc Open (or share) the store in directory Dir: `{ok, Env}' or
%% `{error, Reason}' with Reason an atom (`store', `enomem').
open(_Dir) -> erlang:nif_error({not_loaded, ?MODULE}).
%% @doc Objects with Key. Reads run on a normal scheduler and answer `dirty'
%% when the object is large or a lock of the store is busy: then call the
%% `_dirty' variant, which runs on a dirty scheduler and may wait.
lookup(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
lookup_dirty(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
member(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
member_dirty(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
size(_Env, _Tab) -> erlang:nif_error({not_loaded, ?MODULE}).
size_dirty(_Env, _Tab) -> erlang:nif_error({not_loaded, ?MODULE}).
%% @doc Row writes run on a normal scheduler when they are small and the
%% store's write lock is free; otherwise they write nothing and answer
%% `dirty': then call the `_dirty' variant, which runs on a dirty I/O
%% scheduler and may wait. A write that returned anything else is committed.
insert(_Env, _Tab, _Objects) -> erlang:nif_error({not_loaded, ?MODULE}).
insert_dirty(_Env, _Tab, _Objects) -> erlang:nif_error({not_loaded, ?MODULE}).
insert_new(_Env, _Tab, _Objects) -> erlang:nif_error({not_loaded, ?MODULE}).
insert_new_dirty(_Env, _Tab, _Objects) -> erlang:nif_error({not_loaded, ?MODULE}).
delete(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
delete_dirty(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
%% The key-based reads (c_src/hl_nif_rows.c) and row writes (c_src/hl_nif_write.c).
step(_Env, _Tab, _How, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
step_dirty(_Env, _Tab, _How, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
lookup_element(_Env, _Tab, _Key, _Pos) -> erlang:nif_error({not_loaded, ?MODULE}).
lookup_element_dirty(_Env, _Tab, _Key, _Pos) -> erlang:nif_error({not_loaded, ?MODULE}).
fold_chunk(_Env, _Tab, _Dir, _From, _Max) -> erlang:nif_error({not_loaded, ?MODULE}).
update_counter(_Env, _Tab, _Key, _Op, _Default) -> erlang:nif_error({not_loaded, ?MODULE}).
update_counter_dirty(_Env, _Tab, _Key, _Op, _Default) -> erlang:nif_error({not_loaded, ?MODULE}).
update_element(_Env, _Tab, _Key, _Spec) -> erlang:nif_error({not_loaded, ?MODULE}).
update_element_dirty(_Env, _Tab, _Key, _Spec) -> erlang:nif_error({not_loaded, ?MODULE}).
take(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
take_dirty(_Env, _Tab, _Key) -> erlang:nif_error({not_loaded, ?MODULE}).
delete_object(_Env, _Tab, _Object) -> erlang:nif_error({not_loaded, ?MODULE}).
delete_object_dirty(_Env, _Tab, _Object) -> erlang:nif_error({not_loaded, ?MODULE}).
%% One chunk of a select-family call (c_src/hl_select.h).
select(_Env, _Tab, _Spec, _Opts, _After) -> erlang:nif_error({not_loaded, ?MODULE}).
