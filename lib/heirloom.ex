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

  Every `:ets` function exists here. Those Heirloom does not provide yet
  (the README's "Not yet provided") raise `ArgumentError` saying so, never
  `UndefinedFunctionError`.
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

  # The `:ets` functions not provided yet: the list lives once, in the
  # `not_yet_provided` attribute of src/heirloom.erl; each raises
  # `ArgumentError` (cause `:not_supported`) through `:heirloom`.
  @external_resource Path.expand("../src/heirloom.erl", __DIR__)
  [not_yet_provided] = for {:not_yet_provided, fas} <- :heirloom.module_info(:attributes), do: fas

  for {name, arity} <- not_yet_provided do
    args = Macro.generate_arguments(arity, __MODULE__)
    @doc "Like `:ets.#{name}/#{arity}`: not provided yet, raises `ArgumentError`."
    def unquote(name)(unquote_splicing(args)), do: :heirloom.unquote(name)(unquote_splicing(args))
  end
end
