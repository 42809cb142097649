# Heirloom build.
#
# Targets:
#   all (default)  priv/heirloom_node and priv/heirloom_nif.so
#   setup          install missing Debian packages (run first by test, demo,
#                  bench, valgrind and sanitize; never by all)
#   test           C unit tests (cmocka), then the ExUnit suite (real C node)
#   ctest          only the cmocka tests
#   valgrind       the cmocka tests under valgrind (errors fail the target)
#   sanitize       rebuild and run the cmocka tests with ASan + UBSan
#   mixtest        only the ExUnit suite, slow suites included
#   san-node       build/san/heirloom_node, the C node with ASan + UBSan
#   mixtest-asan   the ExUnit suite against that C node (HEIRLOOM_NODE)
#   vectors        regenerate test/vectors/*.txt from test/vectors/gen_vectors.escript
#   demo           the survive-the-fire demo (embedded C node)
#   bench          benchmarks, results in bench/RESULTS.md
#   fuzz           libFuzzer on the request path for FUZZ_SECONDS (default 60)
#   soak           not part of test: kills under write load (SOAK_SECONDS each),
#                  then the differential test at 1,000,000 operations per type
#   fuzz-handshake libFuzzer on the distribution handshake, FUZZ_SECONDS too
#   fuzz-ms        libFuzzer on the match spec engine for FUZZ_SECONDS
#   soak-ms        the match spec differential suite with SOAK_MS_SPECS specs
#   bench-ms       select and select_count, ETS against both paths
#   format         clang-format the C and mix format the Elixir
#   clean
# Variables: V=1 (show commands), DEBUG=1 (-g -O0), SANITIZE=1 (ASan+UBSan),
#   CC, BUILD (object directory, default build), ERL, and the erts paths
#   ERL_EI_INCLUDE_DIR, ERL_EI_LIBDIR, ERTS_INCLUDE_DIR (found with erl if unset).

CC ?= cc
BUILD ?= build
Q := $(if $(V),,@)

ERL ?= erl
# Where erts and ei live. mix and rebar3 pass them in (see mix.exs); otherwise
# one `erl` run, on first use only, computes all three (`make setup` works
# before erl is installed, and a build of 20 objects starts erl once, not 40
# times).
ERL_PATHS = $(eval ERL_PATHS := $(shell $(ERL) -noshell -eval 'io:format("~s ~s/erts-~s/include",[code:lib_dir(erl_interface),code:root_dir(),erlang:system_info(version)]),halt().'))$(ERL_PATHS)
ERL_EI_INCLUDE_DIR ?= $(word 1,$(ERL_PATHS))/include
ERL_EI_LIBDIR ?= $(word 1,$(ERL_PATHS))/lib
ERTS_INCLUDE_DIR ?= $(word 2,$(ERL_PATHS))

# The version lives once, in src/heirloom.app.src.
VERSION := $(shell sed -n 's/.*{vsn, *"\([^"]*\)".*/\1/p' src/heirloom.app.src)

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -D_REENTRANT -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -fPIC -MMD -MP -DHL_VERSION='"$(VERSION)"'
ifeq ($(DEBUG),1)
  CFLAGS_OPT := -g -O0
else
  CFLAGS_OPT := -g -O2
endif
ifeq ($(SANITIZE),1)
  CFLAGS_OPT += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
  LDFLAGS_SAN := -fsanitize=address,undefined
endif
CFLAGS += $(CFLAGS_BASE) $(CFLAGS_OPT)

# The C node's own modules (event loop, distribution, protocol); every other
# c_src/hl_*.c but the NIF entry is core: no ei, shared by the C node, the NIF
# and the unit tests.
NODE_ONLY := hl_main hl_node hl_loop hl_dist hl_dist_hs hl_dm hl_proto hl_proto_args \
  hl_proto_info hl_watch hl_proto_rows hl_proto_select
CORE_SRC := $(filter-out $(NODE_ONLY:%=c_src/%.c) $(wildcard c_src/hl_nif*.c),$(wildcard c_src/hl_*.c))
NODE_SRC := $(CORE_SRC) $(NODE_ONLY:%=c_src/%.c)
NIF_SRC := $(CORE_SRC) $(wildcard c_src/hl_nif*.c)

CORE_OBJ := $(CORE_SRC:c_src/%.c=$(BUILD)/%.o)
NODE_OBJ := $(NODE_SRC:c_src/%.c=$(BUILD)/%.o)
NIF_OBJ := $(NIF_SRC:c_src/%.c=$(BUILD)/%.o)

TEST_NAMES := $(patsubst test/c/%.c,%,$(wildcard test/c/test_*.c))
TEST_BINS := $(TEST_NAMES:%=$(BUILD)/tests/%)

.PHONY: all setup test ctest valgrind sanitize vectors demo bench format clean mixtest \
  san-node mixtest-asan \
  valgrind-run sanitize-run demo-run bench-run fuzz fuzz-run fuzz-merge fuzz-seeds soak soak-run \
  fuzz-handshake fuzz-ms fuzz-ms-run fuzz-ms-merge fuzz-ms-seeds soak-ms bench-ms

# Building only compiles: nothing here installs packages. The targets a
# person runs on a fresh machine (test, demo, bench, valgrind, sanitize) run
# scripts/setup.sh first and then make the rest in a sub-make.
all: priv/heirloom_node priv/heirloom_nif.so

setup:
	$(Q)sh scripts/setup.sh

$(BUILD)/%.o: c_src/%.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -I$(ERL_EI_INCLUDE_DIR) -I$(ERTS_INCLUDE_DIR) -c $< -o $@

# $(BUILD)/heirloom_node: the same C node linked in the build directory, for
# san-node (BUILD=build/san SANITIZE=1) without touching priv/.
priv/heirloom_node $(BUILD)/heirloom_node: $(NODE_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_OPT) $(LDFLAGS_SAN) -o $@ $^ -L$(ERL_EI_LIBDIR) -lei -llmdb -lpthread

priv/heirloom_nif.so: $(NIF_OBJ)
	@mkdir -p priv
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared $(CFLAGS_OPT) -o $@ $^ -llmdb -lpthread

$(BUILD)/tests/%: test/c/%.c $(CORE_OBJ) $(wildcard test/c/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-LD $@")
	$(Q)$(CC) $(CFLAGS) -Ic_src -Itest/c -o $@ $< $(CORE_OBJ) $(LDFLAGS_SAN) -lcmocka -llmdb -lpthread

ctest: $(TEST_BINS)
	$(Q)set -e; for t in $(TEST_BINS); do echo "== $$t"; HL_VECTORS=test/vectors $$t; done

# Forked children in test_store stand for other processes that die mid-work
# (kill -9 with transactions open): what they leave behind is the point.
valgrind-run: $(TEST_BINS)
	$(Q)set -e; for t in $(TEST_BINS); do echo "== valgrind $$t"; \
	  HL_VECTORS=test/vectors valgrind -q --error-exitcode=1 --leak-check=full --child-silent-after-fork=yes \
	    --errors-for-leak-kinds=definite,indirect $$t; done

sanitize-run:
	$(Q)$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 ctest

# The C node with ASan + UBSan, for mixtest-asan.
san-node:
	$(Q)$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 build/san/heirloom_node

vectors:
	escript test/vectors/gen_vectors.escript test/vectors

# A free port for this run's private epmd: the VM reads ERL_EPMD_PORT only at boot.
FREE_PORT = $(shell $(ERL) -noshell -eval '{ok,S}=gen_tcp:listen(0,[{ip,{127,0,0,1}}]),{ok,P}=inet:port(S),io:format("~p",[P]),halt().')

mixtest: all
	$(Q)ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix test --include slow


# The ExUnit suite once more, every C node it starts being the sanitized one
# (HEIRLOOM_NODE). ASan, LSan and UBSan write their reports to files under
# SAN_REPORTS instead of the C node's output, so a report from any C node (one
# the harness owns, one a peer VM started detached) fails the target; a C
# node the harness stops with SIGTERM also exits non-zero on a leak or error.
# A C node killed with kill -9 reports nothing, by nature.
SAN_REPORTS := build/san/reports
SAN_OPTS := exitcode=86:log_path=$(abspath $(SAN_REPORTS))/san
mixtest-asan: all san-node
	$(Q)rm -rf $(SAN_REPORTS) && mkdir -p $(SAN_REPORTS)
	$(Q)st=0; HEIRLOOM_NODE=$(abspath build/san/heirloom_node) \
	  ASAN_OPTIONS=detect_leaks=1:$(SAN_OPTS) LSAN_OPTIONS=$(SAN_OPTS) \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:$(SAN_OPTS) \
	  ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix test --include slow || st=$$?; \
	if [ -n "$$(ls -A $(SAN_REPORTS))" ]; then cat $(SAN_REPORTS)/*; \
	  echo "mixtest-asan: sanitizer reports from the C node above (files in $(SAN_REPORTS))"; st=1; fi; \
	exit $$st

# What a person runs: set-up first, then the work in a sub-make, so the
# paths to erts are computed after erl is installed.
SUB := $(MAKE) --no-print-directory
test: setup
	$(Q)$(SUB) ctest mixtest
valgrind: setup
	$(Q)$(SUB) valgrind-run
sanitize: setup
	$(Q)$(SUB) sanitize-run
demo: setup
	$(Q)$(SUB) demo-run
bench: setup
	$(Q)$(SUB) bench-run
soak: setup
	$(Q)$(SUB) soak-run
# The :soak tests (kills under write load), then test/heirloom_diff_test.exs
# at 500,000 operations per type and path (NIF, C node): 1,000,000 per table
# type; then soak-ms (1,000,000 match specs). SOAK_SEED / HEIRLOOM_DIFF_SEED
# / HEIRLOOM_MS_SEED repeat a run.
soak-run: all
	$(Q)ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix test --only soak
	$(Q)HEIRLOOM_DIFF_OPS=500000 ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test \
	  mix test --timeout 7200000 test/heirloom_diff_test.exs
	$(Q)$(MAKE) --no-print-directory soak-ms
fuzz: setup
	$(Q)sh scripts/setup.sh clang libclang-rt-14-dev
	$(Q)$(SUB) fuzz-run

# libFuzzer on the C node's request path (test/fuzz/fuzz_request.c): the real
# node, protocol, DataMaster and store behind a fake distribution layer.
# FUZZ_SECONDS bounds the run; new inputs go to build/fuzz/corpus, the
# committed seeds are read from test/fuzz/corpus/request.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_CFLAGS := -std=c11 -D_GNU_SOURCE -D_REENTRANT -DHL_VERSION='"$(VERSION)"' -g -O1 \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Wall -Wextra -Werror
FUZZ_SRC := $(CORE_SRC) test/fuzz/fake_dist.c \
  $(filter-out c_src/hl_dist.c c_src/hl_dist_hs.c c_src/hl_main.c,$(NODE_ONLY:%=c_src/%.c))
$(BUILD)/fuzz/fuzz_request: test/fuzz/fuzz_request.c $(FUZZ_SRC) $(wildcard c_src/*.h test/fuzz/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ic_src -Itest/fuzz -o $@ test/fuzz/fuzz_request.c $(FUZZ_SRC) \
	  -llmdb -lpthread
fuzz-run: $(BUILD)/fuzz/fuzz_request
	@mkdir -p $(BUILD)/fuzz/corpus
	$(Q)$(BUILD)/fuzz/fuzz_request -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus test/fuzz/corpus/request
# Fold what a run found into the committed seeds (minimised).
# The handshake parser alone (test/fuzz/fuzz_handshake.c), from an empty
# corpus: its input format is simple enough to be found from scratch.
$(BUILD)/fuzz/fuzz_handshake: test/fuzz/fuzz_handshake.c c_src/hl_handshake.c c_src/hl_md5.c \
  c_src/hl_common.c $(wildcard c_src/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ic_src -o $@ $(filter %.c,$^)
fuzz-handshake: $(BUILD)/fuzz/fuzz_handshake
	@mkdir -p $(BUILD)/fuzz/corpus_hs
	$(Q)$(BUILD)/fuzz/fuzz_handshake -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/hs- $(BUILD)/fuzz/corpus_hs
fuzz-merge: $(BUILD)/fuzz/fuzz_request
	$(Q)$(BUILD)/fuzz/fuzz_request -merge=1 test/fuzz/corpus/request $(BUILD)/fuzz/corpus
fuzz-seeds:
	escript test/fuzz/make_seeds.escript test/fuzz/corpus/request

# libFuzzer on the match specification engine behind the term decoder
# (test/fuzz/fuzz_ms.c); seeds in test/fuzz/corpus/ms.
$(BUILD)/fuzz/fuzz_ms: test/fuzz/fuzz_ms.c $(CORE_SRC) $(wildcard c_src/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ-LD $@")
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -Ic_src -o $@ test/fuzz/fuzz_ms.c $(CORE_SRC) -llmdb -lpthread
fuzz-ms: setup
	$(Q)sh scripts/setup.sh clang libclang-rt-14-dev
	$(Q)$(SUB) fuzz-ms-run
fuzz-ms-run: $(BUILD)/fuzz/fuzz_ms
	@mkdir -p $(BUILD)/fuzz/corpus_ms
	$(Q)$(BUILD)/fuzz/fuzz_ms -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	  -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/ $(BUILD)/fuzz/corpus_ms test/fuzz/corpus/ms
fuzz-ms-merge: $(BUILD)/fuzz/fuzz_ms
	$(Q)$(BUILD)/fuzz/fuzz_ms -merge=1 test/fuzz/corpus/ms $(BUILD)/fuzz/corpus_ms
fuzz-ms-seeds:
	$(Q)MIX_ENV=test mix run --no-start test/fuzz/make_ms_seeds.exs test/fuzz/corpus/ms

# The differential match spec suite at soak size (SOAK_MS_SPECS, default
# 1,000,000) with a random seed (HEIRLOOM_MS_SEED=N replays one): prints
# its seed first.
SOAK_MS_SPECS ?= 1000000
soak-ms: all
	$(Q)HEIRLOOM_MS_SPECS=$(SOAK_MS_SPECS) HEIRLOOM_MS_SEED=$${HEIRLOOM_MS_SEED:-random} \
	  ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test \
	  mix test --include slow test/heirloom_select_test.exs --timeout 86400000

demo-run: all
	$(Q)mix run examples/demo/demo.exs

# bench/lmdb_floor.c: LMDB's own share of a lookup, run by bench/run.exs.
$(BUILD)/lmdb_floor: bench/lmdb_floor.c $(CORE_OBJ)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) -Ic_src -o $@ $< $(CORE_OBJ) $(LDFLAGS_SAN) -llmdb -lpthread

bench-run: all $(BUILD)/lmdb_floor
	$(Q)LMDB_FLOOR=$(BUILD)/lmdb_floor ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix run bench/run.exs

# select and select_count, ETS against both paths (bench/select.exs).
bench-ms: all
	$(Q)ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix run bench/select.exs

format:
	clang-format -i c_src/*.c c_src/*.h test/c/*.c test/fuzz/*.c test/fuzz/*.h bench/*.c
	mix format

clean:
	rm -rf $(BUILD) priv/heirloom_node priv/heirloom_nif.so _build/*/lib/heirloom

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
