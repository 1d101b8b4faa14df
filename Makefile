# kmem — build, test, fuzz, bench, install.
#
#   make            build everything into build/
#   make run        install what building and running needs, build the programs, start kmemtop
#   make check      build, run the unit tests and fuzz-corpus replays (no package installs)
#   make test       install every missing package, build (gcc, ASan/UBSan, clang), run every test
#   make fuzz       run each libFuzzer target for FUZZ_SECONDS
#   make bench      run every benchmark and print one table
#   make install    PREFIX=/usr/local DESTDIR=

CC       ?= gcc
BUILD    ?= build
SAN      ?=
PREFIX   ?= /usr/local
DESTDIR  ?=
VERSION  := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

CFLAGS   ?= -O2 -g
CFLAGS   += -std=c17 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wformat=2 -Wvla
CPPFLAGS += -D_GNU_SOURCE -DKMEM_VERSION='"$(VERSION)"' -Isrc/common -Isrc/lib -MMD -MP
ifeq ($(SAN),1)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=address,undefined
# gcc's shared libubsan ignores UBSAN_OPTIONS=log_path next to libasan (the
# report goes to stderr); linked statically it writes the report file that
# tests/run.sh looks for.
ifeq ($(findstring clang,$(CC)),)
LDFLAGS  += -static-libasan -static-libubsan
endif
endif

# src/common (buffer, arena, hash index, parse cursor, UTF-8, JSON writer, time,
# errno advice) is built into libkmem.a: everything that links the library has it.
COMMON_SRC   := $(sort $(wildcard src/common/*.c))
LIB_SRC      := $(COMMON_SRC) $(sort $(wildcard src/lib/*.c))
KMEMTOP_SRC  := $(sort $(wildcard src/kmemtop/*.c))
EXPORTER_SRC := $(sort $(wildcard src/exporter/*.c))
UNIT_SRC     := $(sort $(wildcard tests/unit/test_*.c))
FUZZ_SRC     := $(sort $(wildcard tests/fuzz/fuzz_*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIB       := $(BUILD)/libkmem.a
# The exporter's objects but main.o, for unit tests and fuzzers.
KXLIB     := $(if $(EXPORTER_SRC),$(BUILD)/libkx.a)
KMEMTOP   := $(BUILD)/kmemtop
EXPORTER  := $(if $(EXPORTER_SRC),$(BUILD)/kmem_exporter)
UNITS     := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
REPLAYS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/replay_%,$(FUZZ_SRC))
# Built where kmem has BPF (HAVE_BPF, below; expanded at the "all" rule).
OWNWALK_DUMP = $(if $(filter 1,$(HAVE_BPF)),$(BUILD)/tests/ownwalk_dump)
FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))

# Exporter objects other than main.c are linked into exporter unit tests.
EXPORTER_LIBOBJ := $(call obj,$(filter-out src/exporter/main.c,$(EXPORTER_SRC)))
KMEMTOP_LIBOBJ  := $(call obj,$(filter-out src/kmemtop/main.c,$(KMEMTOP_SRC)))

# The BPF allocation tracer (kmemtop --alloc, src/bpf/): built when clang,
# bpftool, libbpf-dev and a BTF file (the running kernel's by default) are
# there; vmlinux.h is generated from that BTF, never committed. Without
# them kmem builds anyway and --alloc says what was missing.
BPFTOOL     ?= $(or $(shell command -v bpftool 2>/dev/null),$(wildcard /usr/sbin/bpftool))
VMLINUX_BTF ?= $(wildcard /sys/kernel/btf/vmlinux)
BPF_ARCH    := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/' -e 's/s390x/s390/' -e 's/riscv64/riscv/')
HAVE_BPF    := $(if $(and $(BPFTOOL),$(VMLINUX_BTF),$(shell command -v clang 2>/dev/null),$(wildcard /usr/include/bpf/libbpf.h)),1)
BPF_DIR     := $(BUILD)/bpf
ifeq ($(HAVE_BPF),1)
LIBS_BPF    := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf)
else
$(warning kmem: building without the BPF tracer and owner walker (needs clang, bpftool, libbpf-dev and /sys/kernel/btf/vmlinux or VMLINUX_BTF=file); run scripts/deps.sh)
endif

# libkmem's recorder (src/lib/recorder.c, recording.c) compresses with zstd.
LIBS_ZSTD     := $(shell pkg-config --libs libzstd 2>/dev/null || echo -lzstd)
LIBS_KMEMTOP  := $(shell pkg-config --libs ncursesw 2>/dev/null || echo -lncursesw) -lm $(LIBS_ZSTD) $(LIBS_BPF)
LIBS_EXPORTER := -lmicrohttpd -lgnutls -lyaml -lcrypt -lcap -lz -lm -lpthread $(LIBS_ZSTD) $(LIBS_BPF)
LIBS_TEST     := -lcmocka

.PHONY: all programs run test check shellcheck fuzz bench install deps deps-run clean format format-check
MANPAGES := $(patsubst man/%.in,$(BUILD)/man/%,$(wildcard man/*.in))
all: programs $(UNITS) $(REPLAYS) $(MANPAGES) $(OWNWALK_DUMP)
programs: $(KMEMTOP) $(BUILD)/slabtop $(EXPORTER)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

ifeq ($(HAVE_BPF),1)
$(BPF_DIR)/vmlinux.h:
	@mkdir -p $(dir $@)
	$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp && mv $@.tmp $@

$(BPF_DIR)/%.bpf.o: src/bpf/%.bpf.c src/bpf/%.h $(BPF_DIR)/vmlinux.h
	clang -g -O2 -target bpf -D__TARGET_ARCH_$(BPF_ARCH) -Wall -Wextra -Wno-unused-parameter \
	  -Werror -I$(BPF_DIR) -Isrc/bpf -c -o $@ $<
	llvm-strip -g $@

$(BPF_DIR)/%.skel.h: $(BPF_DIR)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $(subst .,_,$*)_bpf > $@.tmp && mv $@.tmp $@

.PRECIOUS: $(BPF_DIR)/%.bpf.o
ALLOC_OBJ := $(call obj,src/lib/alloc.c src/lib/allocbpf.c src/lib/allocread.c)
$(BPF_DIR)/kmem_alloc.bpf.o: src/bpf/kmem_alloc_rates.bpf.h src/bpf/kmem_alloc_extras.bpf.h
$(ALLOC_OBJ): $(BPF_DIR)/kmem_alloc.skel.h
$(ALLOC_OBJ): CPPFLAGS += -DKMEM_HAVE_BPF -I$(BPF_DIR) -Isrc/bpf
$(BUILD)/obj/src/lib/ownwalk.o: $(BPF_DIR)/kmem_owners.skel.h
$(BUILD)/obj/src/lib/ownpair.o: $(BPF_DIR)/kmem_pair.skel.h
$(BUILD)/obj/src/lib/ownwalk.o $(BUILD)/obj/src/lib/ownpair.o $(BUILD)/obj/src/lib/bpflog.o: CPPFLAGS += -DKMEM_HAVE_BPF -I$(BPF_DIR) -Isrc/bpf
endif

# Man pages carry the version of VERSION.
$(BUILD)/man/%: man/%.in VERSION
	@mkdir -p $(dir $@)
	sed 's/@VERSION@/$(VERSION)/g' $< > $@.tmp && mv $@.tmp $@

$(LIB): $(call obj,$(LIB_SRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(KMEMTOP): $(call obj,$(KMEMTOP_SRC)) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_KMEMTOP)

$(BUILD)/slabtop: $(KMEMTOP)
	ln -sf kmemtop $@

$(BUILD)/kmem_exporter: $(call obj,$(EXPORTER_SRC)) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_EXPORTER)

$(KXLIB): $(EXPORTER_LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

# Unit tests find tests/fixtures in the tree they were built from (an
# absolute path, so they run from anywhere); $KMEM_TOP names another tree.
$(BUILD)/obj/tests/unit/%.o: CPPFLAGS += -DKMEM_SRCDIR='"$(CURDIR)"'

# Unit tests link the library and the non-main objects of both front ends.
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(KMEMTOP_LIBOBJ) $(KXLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_TEST) $(LIBS_KMEMTOP) $(if $(EXPORTER_SRC),$(LIBS_EXPORTER))

# The owner walk as text, for the VM checks and the bench (tests/vm/ownwalk_dump.c).
$(OWNWALK_DUMP): $(BUILD)/obj/tests/vm/ownwalk_dump.o $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_BPF)
# (all's prerequisite line above is read before OWNWALK_DUMP is set: here it is set)
all: $(OWNWALK_DUMP)

# Each fuzz target is also built with a plain main() that replays files (the
# corpus). A target links what it tests (libkx.a, libkmem.a); none includes a .c.
$(BUILD)/obj/tests/fuzz/%.o: CPPFLAGS += -Isrc/exporter
$(BUILD)/fuzz/replay_%: $(BUILD)/obj/tests/fuzz/%.o $(BUILD)/obj/tests/fuzz/replay_main.o $(KXLIB) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ -lm $(LIBS_ZSTD) $(if $(EXPORTER_SRC),$(LIBS_EXPORTER))

# Test objects and archives stay between builds (make would delete them as
# intermediates of the test binaries).
.SECONDARY: $(call obj,$(UNIT_SRC) $(FUZZ_SRC) tests/fuzz/replay_main.c)
.SECONDARY: $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(FUZZ_SRC))

# libFuzzer builds (clang) live apart from the gcc objects: the library and
# the exporter's objects are compiled once with the fuzzer's flags into one
# archive that every target links.
FUZZ_CFLAGS := -std=c17 -D_GNU_SOURCE -Isrc/common -Isrc/lib -Isrc/exporter -g -O1 \
               -fsanitize=fuzzer-no-link,address,undefined -MMD -MP
FUZZ_LIBSRC := $(LIB_SRC) $(filter-out src/exporter/main.c,$(EXPORTER_SRC))
FUZZ_LIB    := $(BUILD)/fuzz/libfuzzkmem.a
$(BUILD)/fuzzobj/%.o: %.c
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_LIB): $(patsubst %.c,$(BUILD)/fuzzobj/%.o,$(FUZZ_LIBSRC))
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/fuzz/fuzz_%: $(BUILD)/fuzzobj/tests/fuzz/fuzz_%.o $(FUZZ_LIB)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ -lm $(LIBS_ZSTD) $(if $(EXPORTER_SRC),$(LIBS_EXPORTER))

# Packages: "run" builds and runs the programs; "test" (deps) adds the test suite's.
deps:
	@scripts/deps.sh test
deps-run:
	@scripts/deps.sh run

# A sub-make: what deps-run installs (clang, bpftool, libbpf) must be seen by the build.
run: deps-run
	$(MAKE) programs
	$(KMEMTOP)

# The whole suite: formatting, gcc, ASan/UBSan and clang builds, shellcheck,
# every test (tests/run.sh).
# The three builds use every CPU (JOBS): `make test` is run without -j.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
test: deps
	$(MAKE) format-check
	$(MAKE) -j$(JOBS) all
	$(MAKE) -j$(JOBS) all BUILD=build-san SAN=1
	$(MAKE) -j$(JOBS) all BUILD=build-clang CC=clang
	tests/run.sh

# The edit-compile-test loop: build, unit tests and fuzz-corpus replays; no
# package installed, no integration script.
check: all
	tests/run.sh --check

shellcheck:
	scripts/shellcheck.sh

FUZZ_SECONDS ?= 30
fuzz: $(FUZZERS)
	@for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/new/$$n; \
	  echo "== $$n ($(FUZZ_SECONDS)s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/crash- \
	    $(BUILD)/fuzz/new/$$n tests/fuzz/corpus/$${n#fuzz_} || exit 1; done

bench: deps
	$(MAKE) all
	bench/run.sh

install: programs $(MANPAGES)
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/sbin \
	  $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man8
	install -m 755 $(KMEMTOP) $(DESTDIR)$(PREFIX)/bin/kmemtop
	ln -sf kmemtop $(DESTDIR)$(PREFIX)/bin/kmem-slabtop
	install -m 755 deploy/kubectl-kmem $(DESTDIR)$(PREFIX)/bin/kubectl-kmem
	$(if $(EXPORTER),install -m 755 $(EXPORTER) $(DESTDIR)$(PREFIX)/sbin/kmem_exporter)
	install -m 644 $(filter %.1,$(MANPAGES)) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 $(filter %.8,$(MANPAGES)) $(DESTDIR)$(PREFIX)/share/man/man8/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')
format-check:
	@clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h') && echo "format: ok"

clean:
	rm -rf build build-san build-clang

-include $(shell find $(BUILD)/obj $(BUILD)/fuzzobj -name '*.d' 2>/dev/null)
