# OTP 25 (erts 13.1.5) ETS bug the match-spec generator avoids (README,
# "Semantics"): an `orelse` in a body that fails at its first operand,
# before one that reads '$3', leaves '$$' pointing into the table. On an
# affected VM this script dies in a garbage collection (eheap_alloc); on a
# fixed one it prints the results.   Run: elixir scripts/otp_ets_orelse_bug.exs
spec = [{{:_, :"$2", :_, :"$3"}, [], [{:orelse, 1.5, :"$3"}, :"$$"]}]
t = :ets.new(:t, [:set])
:ets.insert(t, [{:b, 13, <<1::size(3)>>, 7}, {7, -18_446_744_073_709_551_616, :c, make_ref()}])
Enum.each(1..100_000, fn _ -> :ets.select(t, spec) end)
for x <- :ets.select(t, spec), do: :io.format("~w words: ~w~n", [:erts_debug.size(x), x])
IO.puts("no corruption seen")
