# Heirloom build.
#
# Targets:
#   all (default)  priv/heirloom_node and priv/heirloom_nif.so
#   setup          install missing Debian packages (run by the other targets)
#   test           C unit tests (cmocka), then the ExUnit suite (real C node)
#   ctest          only the cmocka tests
#   valgrind       the cmocka tests under valgrind (errors fail the target)
#   sanitize       rebuild and run the cmocka tests with ASan + UBSan
#   vectors        regenerate test/vectors/*.txt from test/vectors/gen_vectors.escript
#   demo           the survive-the-fire demo (embedded C node)
#   bench          benchmarks, results in bench/RESULTS.md
#   format         clang-format the C and mix format the Elixir
#   clean
# Variables: V=1 (show commands), DEBUG=1 (-g -O0), SANITIZE=1 (ASan+UBSan),
#   CC, BUILD (object directory, default build).

CC ?= cc
BUILD ?= build
Q := $(if $(V),,@)

ERL ?= erl
# Recursive (=) so that `make setup` works before erl is installed.
EI_DIR = $(shell $(ERL) -noshell -eval 'io:format("~s",[code:lib_dir(erl_interface)]),halt().')
ERTS_INC = $(shell $(ERL) -noshell -eval 'io:format("~s/erts-~s/include",[code:root_dir(),erlang:system_info(version)]),halt().')

CFLAGS_BASE := -std=c11 -D_GNU_SOURCE -D_REENTRANT -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -fPIC -MMD -MP
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

# Pure modules (no I/O): shared by the C node, the NIF and the unit tests.
CORE_SRC := c_src/hl_common.c c_src/hl_term.c c_src/hl_term_enc.c c_src/hl_term_util.c \
  c_src/hl_order.c c_src/hl_owner.c c_src/hl_store.c c_src/hl_store_meta.c c_src/hl_store_rows.c
NODE_SRC := $(CORE_SRC) $(filter-out $(CORE_SRC) c_src/hl_nif.c,$(wildcard c_src/hl_*.c))
NIF_SRC := $(CORE_SRC) c_src/hl_nif.c

CORE_OBJ := $(CORE_SRC:c_src/%.c=$(BUILD)/%.o)
NODE_OBJ := $(NODE_SRC:c_src/%.c=$(BUILD)/%.o)
NIF_OBJ := $(NIF_SRC:c_src/%.c=$(BUILD)/%.o)

TEST_NAMES := $(patsubst test/c/%.c,%,$(wildcard test/c/test_*.c))
TEST_BINS := $(TEST_NAMES:%=$(BUILD)/tests/%)

.PHONY: all setup test ctest valgrind sanitize vectors demo bench format clean mixtest

all: setup priv/heirloom_node $(if $(wildcard c_src/hl_nif.c),priv/heirloom_nif.so)

setup:
	$(Q)sh scripts/setup.sh

$(BUILD)/%.o: c_src/%.c Makefile
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) -I$(EI_DIR)/include -I$(ERTS_INC) -c $< -o $@

priv/heirloom_node: $(NODE_OBJ)
	@mkdir -p priv
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS_OPT) $(LDFLAGS_SAN) -o $@ $^ -L$(EI_DIR)/lib -lei -llmdb -lpthread

priv/heirloom_nif.so: $(NIF_OBJ)
	@mkdir -p priv
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) -shared $(CFLAGS_OPT) -o $@ $^ -llmdb -lpthread

$(BUILD)/tests/%: test/c/%.c $(CORE_OBJ) $(wildcard test/c/*.h)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  TEST-LD $@")
	$(Q)$(CC) $(CFLAGS) -Ic_src -Itest/c -o $@ $< $(CORE_OBJ) $(LDFLAGS_SAN) -lcmocka -llmdb -lpthread

ctest: setup $(TEST_BINS)
	$(Q)set -e; for t in $(TEST_BINS); do echo "== $$t"; HL_VECTORS=test/vectors $$t; done

# Forked children in test_store stand for other processes that die mid-work
# (kill -9 with transactions open): what they leave behind is the point.
valgrind: setup $(TEST_BINS)
	$(Q)set -e; for t in $(TEST_BINS); do echo "== valgrind $$t"; \
	  HL_VECTORS=test/vectors valgrind -q --error-exitcode=1 --leak-check=full --child-silent-after-fork=yes \
	    --errors-for-leak-kinds=definite,indirect $$t; done

sanitize:
	$(Q)$(MAKE) --no-print-directory BUILD=build/san SANITIZE=1 ctest

vectors:
	escript test/vectors/gen_vectors.escript test/vectors

# A free port for this run's private epmd: the VM reads ERL_EPMD_PORT only at boot.
FREE_PORT = $(shell $(ERL) -noshell -eval '{ok,S}=gen_tcp:listen(0,[{ip,{127,0,0,1}}]),{ok,P}=inet:port(S),io:format("~p",[P]),halt().')

mixtest: all
	$(Q)ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix test

test: ctest mixtest

demo: all
	$(Q)mix run examples/demo/demo.exs

bench: all
	$(Q)ERL_EPMD_PORT=$(FREE_PORT) MIX_ENV=test mix run bench/run.exs

format:
	clang-format -i c_src/*.c c_src/*.h test/c/*.c
	mix format

clean:
	rm -rf $(BUILD) priv/heirloom_node priv/heirloom_nif.so _build/*/lib/heirloom

-include $(wildcard $(BUILD)/*.d $(BUILD)/tests/*.d)
