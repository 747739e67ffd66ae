# Postern build. Sources are discovered, so adding a module, a unit test
# (tests/unit/test_*.c) or a fuzzer (fuzz/fuzz_*.c) needs no edit here.
#
#   make              release build: build/release/postern
#   make test         everything CI runs (see scripts/test.sh)
#   make demo         installs what is missing, builds, runs the demo
#   make demo-stop    stops a demo started elsewhere
#   make BUILD=asan   ASan+UBSan build in build/asan
#   make BUILD=tsan   ThreadSanitizer build in build/tsan
#   make deb          Debian package build/deb/postern_VERSION_ARCH.deb
#   make unit | integration | integration-long | fuzz | fuzz-corpus | bench

BUILD ?= release
O := build/$(BUILD)

PKGS := libssl libcrypto libsodium sqlite3 libcurl jansson cjose libnghttp2 libqrencode \
	libargon2 expat ldns libcbor
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lpthread

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wwrite-strings -Wpointer-arith -Wundef \
	-Wno-unused-parameter -Werror
BASE_CFLAGS := -std=gnu11 -g -D_GNU_SOURCE -Isrc $(WARN) $(PKG_CFLAGS) \
	-MMD -MP

ifeq ($(BUILD),release)
OPT := -O2 -D_FORTIFY_SOURCE=3 -fstack-protector-strong -fPIE \
	-fno-strict-aliasing
LDOPT := -pie -Wl,-z,relro,-z,now
else ifeq ($(BUILD),asan)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-strict-aliasing
LDOPT := -fsanitize=address,undefined
else ifeq ($(BUILD),tsan)
# ThreadSanitizer, for the data path's crypto lanes (src/wg/lanes.c):
# make BUILD=tsan unit-tsan (a stage of make test)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=thread -fno-strict-aliasing
LDOPT := -fsanitize=thread
else ifeq ($(BUILD),fuzz)
CC := clang
OPT := -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined \
	-fno-sanitize-recover=all -fno-strict-aliasing -DPOSTERN_FUZZ
LDOPT := -fsanitize=address,undefined
else
$(error BUILD must be release, asan, tsan or fuzz)
endif

CFLAGS_ALL := $(BASE_CFLAGS) $(OPT) $(CFLAGS)
LDFLAGS_ALL := $(LDOPT) $(LDFLAGS)

# lwIP (the agent's rootless netstack): its include directory shadows
# system headers (arch/, compat/posix/), so it is added only for the files
# under src/netstack/ that use it, as -isystem (its headers are not ours
# to keep warning-free).
LWIP_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags lwip 2>/dev/null))
PKG_LIBS += $(shell pkg-config --libs lwip 2>/dev/null)
$(O)/src/netstack/netstack_lwip.o: CFLAGS_ALL += $(LWIP_CFLAGS)

SRCS := $(shell find src -name '*.c' ! -path src/main.c | sort)
OBJS := $(SRCS:%.c=$(O)/%.o)
LIB := $(O)/libpostern.a
BIN := $(O)/postern

UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(O)/tests/%)
# Helper programs the integration tests drive (tests/tools/*.c).
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
TOOL_BINS := $(TOOL_SRCS:tests/tools/%.c=$(O)/tools/%)
# Micro-benchmarks of the library (bench/wg_*.c; they use the unit tests'
# fake wire, tests/unit/wg_net.h).
MICRO_SRCS := $(sort $(wildcard bench/wg_*.c))
MICRO_BINS := $(MICRO_SRCS:bench/%.c=$(O)/bench/%)
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS := $(FUZZ_SRCS:fuzz/%.c=build/fuzz/fuzz/%)

.PHONY: all deps test demo demo-stop unit integration integration-long fuzz-build fuzz fuzz-corpus \
	bench clean deb \
	unit-build unit-tsan format-check check-tree
all: $(BIN)

# V=1 shows full command lines.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @printf '  %-6s %s\n'
endif

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) CC $@
	$(Q)$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(OBJS)
	@rm -f $@
	$(say) AR $@
	$(Q)ar rcs $@ $^

$(BIN): $(O)/src/main.o $(LIB)
	$(say) LINK $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $^ $(PKG_LIBS)

# Unit tests may #include a module's .c to reach its statics.
$(O)/tests/%: tests/unit/%.c $(LIB) tests/unit/unit.h
	@mkdir -p $(dir $@)
	$(say) TEST $@
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit $(LDFLAGS_ALL) -o $@ $< $(LIB) $(PKG_LIBS)

$(O)/tools/%: tests/tools/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(say) TOOL $@
	$(Q)$(CC) $(CFLAGS_ALL) $(LDFLAGS_ALL) -o $@ $< $(LIB) $(PKG_LIBS)

$(O)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(say) BENCH $@
	$(Q)$(CC) $(CFLAGS_ALL) -Itests/unit $(LDFLAGS_ALL) -o $@ $< $(LIB) $(PKG_LIBS)

unit-build: $(UNIT_BINS) $(TOOL_BINS) $(MICRO_BINS)

unit: $(UNIT_BINS)
	@scripts/run-unit.sh $(UNIT_BINS)

# The unit tests that run threads, under BUILD=tsan.
TSAN_UNITS := $(O)/tests/test_wg_lanes $(O)/tests/test_wg_noalloc $(O)/tests/test_auth \
	$(O)/tests/test_threads $(O)/tests/test_workq
unit-tsan: $(TSAN_UNITS)
	@TSAN_OPTIONS="suppressions=$(abspath tests/unit/tsan.supp) $$TSAN_OPTIONS" \
		scripts/run-unit.sh $(TSAN_UNITS)

build/fuzz/fuzz/%: fuzz/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(say) FUZZ $@
	$(Q)$(CC) $(CFLAGS_ALL) -fsanitize=fuzzer -o $@ $< $(LIB) $(PKG_LIBS)

# Fuzzers always build with clang in build/fuzz.
fuzz-build:
	$(MAKE) BUILD=fuzz $(FUZZ_BINS)

fuzz: fuzz-build
	scripts/fuzz.sh $(FUZZ_BINS)

# Grows every fuzzer's corpus for a developer to commit: runs each for
# FUZZ_SECONDS (120), merges what reached new coverage into
# fuzz/corpus/<name>/, keeps only the inputs that cover something, and
# lists the changes (git add fuzz/corpus && git commit).
fuzz-corpus: fuzz-build
	FUZZ_SECONDS=$${FUZZ_SECONDS:-120} FUZZ_MERGE=1 FUZZ_MINIMIZE=1 scripts/fuzz.sh $(FUZZ_BINS)
	@git status --short fuzz/corpus

# Integration tests run on ITEST_JOBS pytest-xdist workers (0: in this
# process, one at a time); tests marked `serial` share one worker
# (tests/integration/conftest.py). Each test gets ITEST_TIMEOUT seconds,
# enforced with SIGALRM so the lab's teardown still runs.
ITEST_JOBS ?= 2
ITEST_TIMEOUT ?= 900
PYTEST := /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	--basetemp=$(abspath $(O))/pytest \
	-n $(ITEST_JOBS) --dist loadgroup \
	--timeout=$(ITEST_TIMEOUT) --timeout-method=signal
ITEST_ENV := POSTERN_BIN=$(abspath $(BIN)) POSTERN_TOOLS=$(abspath $(O)/tools)

integration: $(BIN) $(TOOL_BINS)
	$(ITEST_ENV) $(PYTEST) $(or $(TESTS),tests/integration) $(PYTEST_ARGS)

# Tests that need minutes of real time (marked `long`): not part of
# `make test`; docs/testing.md.
integration-long: $(BIN) $(TOOL_BINS)
	$(ITEST_ENV) POSTERN_LONG_TESTS=1 $(PYTEST) -m long \
		$(or $(TESTS),tests/integration) $(PYTEST_ARGS)

# The tree's own rules: includes point down the layers (src/LAYERS), no
# global symbol is defined twice; both checks fail on a planted violation.
check-tree: $(OBJS)
	@scripts/check-layers.sh src
	@scripts/check-once.sh src
	@scripts/check-symbols.sh $(OBJS)
	@tests/checks/planted.sh

deps:
	@scripts/deps.sh

# The package is always built from the release binary.
deb:
	@$(MAKE) --no-print-directory BUILD=release all
	@scripts/deb.sh build/release/postern

test: deps
	@scripts/test.sh

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

demo-stop:
	@scripts/demo.sh stop

bench: deps all
	@scripts/bench.sh

clean:
	rm -rf build

-include $(OBJS:.o=.d) $(O)/src/main.d
# Unit tests include helper headers (tests/unit/*.h) and .c files.
-include $(UNIT_BINS:=.d)
