defmodule Heirloom do
  @moduledoc """
  ETS-like tables that outlive their owner process, the BEAM VM, and the
  `heirloom_node` C node that holds them.

  The functions mirror `:ets` (same names, arguments and return values) and
  delegate to the Erlang API `:heirloom`, which talks to the C node with plain
  `GenServer.call/3`. Where `:ets` raises `ArgumentError`, so do these; the
  C node's reason (`:no_table`, `:access`, `:not_owner`, ...) is in the
  message. `call/1,2` is the non-raising variant: it returns `{:error, reason}`.

  The DataMaster verb is `claim/2`: a server's `init/1` calls it to get its
  table back (with every row) after a crash, or to create it the first time.

      {:ok, :users} = Heirloom.claim(:users, [:set, :public])
      true = Heirloom.insert(:users, {1, "ada"})
      [{1, "ada"}] = Heirloom.lookup(:users, 1)

  Every `:ets` function of OTP 25 exists here; where Heirloom departs from
  ETS on purpose, the README's "Semantics" says so.
  """

  @type tab :: atom() | reference()

  @doc """
  The embedded default, for a supervision tree: `{Heirloom, opts}` makes sure
  a C node answers at `opts[:node]` (default `:"heirloom@127.0.0.1"`),
  starting `priv/heirloom_node` detached when none does (`start: :auto`, the
  default; `:never` only connects). Other options: `:dir` (store directory),
  `:args` (extra C node arguments). A C node left running by a VM that
  crashed is found again by name. See `:heirloom_embedded`.
  """
  def child_spec(opts) do
    %{id: __MODULE__, start: {:heirloom_embedded, :start_link, [opts]}, type: :worker}
  end

  @doc "The C node calls go to (application env `:heirloom, :node`)."
  @spec node() :: node()
  defdelegate node(), to: :heirloom

  @doc "Point this VM's calls at another C node."
  @spec set_node(node()) :: :ok
  defdelegate set_node(node), to: :heirloom

  @doc "Send a raw request `{verb, args...}`; returns `{:error, reason}` instead of raising."
  @spec call(term()) :: term()
  defdelegate call(request), to: :heirloom
  @spec call(node(), term()) :: term()
  defdelegate call(node, request), to: :heirloom
  @doc "`call/2` with a timeout in milliseconds (default: app env `:timeout`, 5000)."
  @spec call(node(), term(), timeout()) :: term()
  defdelegate call(node, request, timeout), to: :heirloom

  @doc """
  Like `:ets.new/2`. Without a heir option the C node is the heir.

  A named table the C node holds (its owner died and no live heir took it)
  is taken over instead of raising: rows kept, this call's protection and
  heir applied, type and keypos required to match. `info(name, :adopted)`
  is then `true`. See `:heirloom.new/2`.
  """
  @spec new(atom(), list()) :: tab()
  defdelegate new(name, opts), to: :heirloom

  @doc "Like `:ets.insert/2`."
  @spec insert(tab(), tuple() | [tuple()]) :: true
  defdelegate insert(tab, objects), to: :heirloom

  @doc "Like `:ets.insert_new/2`."
  @spec insert_new(tab(), tuple() | [tuple()]) :: boolean()
  defdelegate insert_new(tab, objects), to: :heirloom

  @doc "Like `:ets.lookup/2`."
  @spec lookup(tab(), term()) :: [tuple()]
  defdelegate lookup(tab, key), to: :heirloom

  @doc "Like `:ets.member/2`."
  @spec member(tab(), term()) :: boolean()
  defdelegate member(tab, key), to: :heirloom

  @doc "Like `:ets.delete/1`: deletes the table."
  @spec delete(tab()) :: true
  defdelegate delete(tab), to: :heirloom

  @doc "Like `:ets.delete/2`: deletes the object with `key`."
  @spec delete(tab(), term()) :: true
  defdelegate delete(tab, key), to: :heirloom

  @doc "Like `:ets.delete_all_objects/1`."
  @spec delete_all_objects(tab()) :: true
  defdelegate delete_all_objects(tab), to: :heirloom

  @doc "Like `:ets.info/1`; `nil`-free: returns `:undefined` for no table, as ETS does."
  @spec info(tab()) :: keyword() | :undefined
  defdelegate info(tab), to: :heirloom

  @doc "Like `:ets.info/2`."
  @spec info(tab(), atom()) :: term()
  defdelegate info(tab, item), to: :heirloom

  @doc "Like `:ets.all/0`: the tables the C node holds."
  @spec all() :: [tab()]
  defdelegate all(), to: :heirloom

  @doc "Like `:ets.tab2list/1`."
  @spec tab2list(tab()) :: [tuple()]
  defdelegate tab2list(tab), to: :heirloom

  # The key-based half of :ets, for every table type.

  @doc """
  Like `:ets.first/1`. An `:ordered_set` walks in term order; other types in
  an order of their own (as ETS's hash order), where `last/1` is `first/1`
  and `prev/2` is `next/2`, as in ETS.
  """
  @spec first(tab()) :: term()
  defdelegate first(tab), to: :heirloom

  @doc "Like `:ets.last/1`."
  @spec last(tab()) :: term()
  defdelegate last(tab), to: :heirloom

  @doc """
  Like `:ets.next/2`: for an `:ordered_set` the key need not be in the table;
  for other types it must be (else `ArgumentError`). Without
  `safe_fixtable/2`, as in ETS, a walk while others write may miss keys
  written meanwhile.
  """
  @spec next(tab(), term()) :: term()
  defdelegate next(tab, key), to: :heirloom

  @doc "Like `:ets.prev/2`."
  @spec prev(tab(), term()) :: term()
  defdelegate prev(tab, key), to: :heirloom

  @doc "Like `:ets.lookup_element/3`."
  @spec lookup_element(tab(), term(), pos_integer()) :: term()
  defdelegate lookup_element(tab, key, pos), to: :heirloom

  @doc """
  Like `:ets.update_counter/3`: `incr`, `{pos, incr}`,
  `{pos, incr, threshold, set_value}` or a list of those, on integers of any
  size, atomically.
  """
  @spec update_counter(tab(), term(), term()) :: integer() | [integer()]
  defdelegate update_counter(tab, key, op), to: :heirloom

  @doc "Like `:ets.update_counter/4`: `default` is inserted (with `key`) when `key` has no object."
  @spec update_counter(tab(), term(), term(), tuple()) :: integer() | [integer()]
  defdelegate update_counter(tab, key, op, default), to: :heirloom

  @doc "Like `:ets.update_element/3`."
  @spec update_element(tab(), term(), tuple() | [tuple()]) :: boolean()
  defdelegate update_element(tab, key, spec), to: :heirloom

  @doc "Like `:ets.take/2`."
  @spec take(tab(), term()) :: [tuple()]
  defdelegate take(tab, key), to: :heirloom

  @doc "Like `:ets.delete_object/2`."
  @spec delete_object(tab(), tuple()) :: true
  defdelegate delete_object(tab, object), to: :heirloom

  @doc "Like `:ets.whereis/1`: a named table is known by its name, so this is the name or `:undefined`."
  @spec whereis(atom()) :: atom()
  defdelegate whereis(name), to: :heirloom

  @doc """
  Like `:ets.foldl/3`. The function runs in the caller over chunks fetched
  as it goes (each one read snapshot): as in ETS without `safe_fixtable/2`,
  objects written meanwhile may or may not be seen; none is seen twice.
  """
  @spec foldl((tuple(), acc -> acc), acc, tab()) :: acc when acc: term()
  defdelegate foldl(fun, acc, tab), to: :heirloom

  @doc "Like `:ets.foldr/3`: an `:ordered_set` in reverse term order; other types as `foldl/3`."
  @spec foldr((tuple(), acc -> acc), acc, tab()) :: acc when acc: term()
  defdelegate foldr(fun, acc, tab), to: :heirloom

  @doc """
  Like `:ets.rename/2`: a named table is known by its new name from then on
  (rows, owner and heir kept); an unnamed one keeps its reference and only
  `info(tab, :name)` changes.
  """
  @spec rename(tab(), atom()) :: tab()
  defdelegate rename(tab, name), to: :heirloom

  @doc """
  Like `:ets.safe_fixtable/2`, with `info(tab, :safe_fixed)` as in ETS. While
  a table is fixed, `next/2` and `prev/2` accept a key deleted since and go
  on from where it was.
  """
  @spec safe_fixtable(tab(), boolean()) :: true
  defdelegate safe_fixtable(tab, fix), to: :heirloom

  @doc "Like `:ets.tab2file/2`, in ETS's own file format (`:ets.file2tab/1` reads it)."
  @spec tab2file(tab(), Path.t()) :: :ok | {:error, term()}
  def tab2file(tab, file), do: :heirloom.tab2file(tab, to_charlist(file))

  @doc "Like `:ets.tab2file/3`: options `{:extended_info, [:object_count, :md5sum]}`, `{:sync, bool}`."
  @spec tab2file(tab(), Path.t(), list()) :: :ok | {:error, term()}
  def tab2file(tab, file, options), do: :heirloom.tab2file(tab, to_charlist(file), options)

  @doc "Like `:ets.file2tab/1`: a file `:ets.tab2file/2` wrote becomes a Heirloom table."
  @spec file2tab(Path.t()) :: {:ok, tab()} | {:error, term()}
  def file2tab(file), do: :heirloom.file2tab(to_charlist(file))

  @doc "Like `:ets.file2tab/2`: options `{:verify, bool}`, `{:table, tab}`."
  @spec file2tab(Path.t(), list()) :: {:ok, tab()} | {:error, term()}
  def file2tab(file, options), do: :heirloom.file2tab(to_charlist(file), options)

  @doc "Like `:ets.tabfile_info/1`."
  @spec tabfile_info(Path.t()) :: {:ok, list()} | {:error, term()}
  def tabfile_info(file), do: :heirloom.tabfile_info(to_charlist(file))

  @doc "Like `:ets.give_away/3`; the receiver gets `{:\"ETS-TRANSFER\", tab, from, gift}`."
  @spec give_away(tab(), pid(), term()) :: true
  defdelegate give_away(tab, pid, gift), to: :heirloom

  @doc "Like `:ets.setopts/2` (heir options)."
  @spec setopts(tab(), term()) :: true
  defdelegate setopts(tab, opts), to: :heirloom

  @doc """
  Own table `name`: create it with `opts`, or take it back from the C node
  that held it since its previous owner died. `{:error, {:owned_by, pid}}`
  while another live process owns it.
  """
  @spec claim(atom(), list()) :: {:ok, atom()} | {:error, term()}
  defdelegate claim(name, opts), to: :heirloom

  # Match specifications: run by the C engine where the rows are (see the
  # README's "Match specifications").

  @doc "Like `:ets.select/2`."
  @spec select(tab(), :ets.match_spec()) :: [term()]
  defdelegate select(tab, spec), to: :heirloom
  @doc "Like `:ets.select/3`: `{results, continuation}` or `:\"$end_of_table\"`."
  defdelegate select(tab, spec, limit), to: :heirloom
  @doc "Like `:ets.select/1`, with a continuation from `select/3`."
  defdelegate select(continuation), to: :heirloom
  @doc "Like `:ets.select_reverse/2`."
  defdelegate select_reverse(tab, spec), to: :heirloom
  @doc "Like `:ets.select_reverse/3`."
  defdelegate select_reverse(tab, spec, limit), to: :heirloom
  @doc "Like `:ets.select_reverse/1`."
  defdelegate select_reverse(continuation), to: :heirloom
  @doc "Like `:ets.select_count/2`."
  defdelegate select_count(tab, spec), to: :heirloom
  @doc "Like `:ets.select_delete/2`."
  defdelegate select_delete(tab, spec), to: :heirloom
  @doc "Like `:ets.select_replace/2`: a body may not change the key."
  defdelegate select_replace(tab, spec), to: :heirloom
  @doc "Like `:ets.match/2`."
  defdelegate match(tab, pattern), to: :heirloom
  @doc "Like `:ets.match/3`."
  defdelegate match(tab, pattern, limit), to: :heirloom
  @doc "Like `:ets.match/1`."
  defdelegate match(continuation), to: :heirloom
  @doc "Like `:ets.match_object/2`."
  defdelegate match_object(tab, pattern), to: :heirloom
  @doc "Like `:ets.match_object/3`."
  defdelegate match_object(tab, pattern, limit), to: :heirloom
  @doc "Like `:ets.match_object/1`."
  defdelegate match_object(continuation), to: :heirloom
  @doc "Like `:ets.match_delete/2`."
  defdelegate match_delete(tab, pattern), to: :heirloom
  @doc "`:ets.test_ms/2` itself: Heirloom's engine accepts and refuses the same specs."
  defdelegate test_ms(tuple, spec), to: :heirloom

  @doc "Like `:ets.from_dets/2`: the Dets table's objects inserted; others stay unless overwritten."
  defdelegate from_dets(tab, dets_tab), to: :heirloom

  @doc "Like `:ets.to_dets/2`: the Dets table emptied and filled with this table's objects."
  defdelegate to_dets(tab, dets_tab), to: :heirloom

  @doc "Like `:ets.init_table/2`: the objects replaced by those `init_fun` hands out."
  defdelegate init_table(tab, init_fun), to: :heirloom

  @doc "Like `:ets.table/1,2`: a QLC table (traversal by `select` chunks unless told)."
  defdelegate table(tab), to: :heirloom
  defdelegate table(tab, options), to: :heirloom

  @doc "Like `:ets.slot/2`, one key per slot (the README says how it differs)."
  defdelegate slot(tab, i), to: :heirloom

  @doc "Like `:ets.i/0`: one line per Heirloom table."
  defdelegate i(), to: :heirloom

  @doc "Like `:ets.i/1,2,3`: ETS's terminal browser over this table."
  defdelegate i(tab), to: :heirloom
  defdelegate i(tab, height), to: :heirloom
  defdelegate i(tab, height, width), to: :heirloom

  @doc "Like `:ets.repair_continuation/2`: Heirloom's continuations are plain terms, already whole."
  defdelegate repair_continuation(continuation, spec), to: :heirloom

  @doc "`:ets.fun2ms/1` itself: match specifications are plain data."
  defdelegate fun2ms(fun), to: :heirloom
  @doc "`:ets.is_compiled_ms/1` itself."
  defdelegate is_compiled_ms(term), to: :heirloom
  @doc "`:ets.match_spec_compile/1` itself."
  defdelegate match_spec_compile(spec), to: :heirloom
  @doc "`:ets.match_spec_run/2` itself."
  defdelegate match_spec_run(list, compiled), to: :heirloom
  @doc "`:ets.match_spec_run_r/3` itself."
  defdelegate match_spec_run_r(list, compiled, acc), to: :heirloom

  @doc "`:pong` when the C node answers."
  @spec ping() :: :pong
  defdelegate ping(), to: :heirloom

  @doc """
  The path this VM's calls take to the C node's data: `:nif` when the store
  is on this host and the NIF opened it, `:cnode` otherwise. Set the
  `:heirloom` app env `:path` to `:cnode` to force the C node path.
  """
  @spec path() :: :nif | :cnode
  defdelegate path(), to: :heirloom

  @doc """
  Forget the path decided for `node`: after its C node restarted elsewhere,
  or after `:heirloom_nif` was deleted and loaded again (a store handle
  opened before that is refused by the new code).
  """
  @spec forget_path(node()) :: :ok
  defdelegate forget_path(node), to: :heirloom

  @doc "Where the C node keeps its store (`:dir`), its `:os_pid` and `:node_pid`."
  @spec store_info() :: keyword()
  defdelegate store_info(), to: :heirloom

  @doc false
  # The error_info formatter: ArgumentError messages come from it.
  defdelegate format_error(reason, stacktrace), to: :heirloom
end
