# Seeds for test/fuzz/fuzz_ms.c: term_to_binary({Spec, Object}) for specs of
# the differential suite's generator (test/support/ms_gen.ex) and the
# fun2ms ones, on its objects. Usage: mix run --no-start this_file DIR
[dir] = System.argv()
File.mkdir_p!(dir)
:rand.seed(:exsss, {1, 2, 3})
objs = HeirloomTest.MsGen.objects(25)
specs = HeirloomTest.MsGen.fun2ms_specs() ++ for(_ <- 1..300, do: HeirloomTest.MsGen.spec(objs))

for {spec, i} <- Enum.with_index(specs) do
  bin = :erlang.term_to_binary({spec, Enum.at(objs, rem(i, length(objs)))})
  File.write!(Path.join(dir, "seed_#{i}"), bin)
end
