# SPDX-License-Identifier: MIT
# cgctl: one non-recursive GNU Makefile; everything it builds lands in build/.

VERSION     := 0.1.0
# libcgctl's soname is libcgctl.so.$(SOVERSION); the ABI check (make check-abi)
# fails on an incompatible change until this and the baseline are bumped on purpose.
SOVERSION   := 1
SOMINOR     := 0.0
PREFIX      ?= /usr/local
BINDIR      ?= $(PREFIX)/bin
# Debian's multiarch triplet (x86_64-linux-gnu); empty elsewhere. /usr's libraries go below it.
# Exported: the makes this one starts take it from the environment instead of
# running dpkg-architecture (a Perl program) again.
ifeq ($(origin MULTIARCH),undefined)
MULTIARCH   := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || $(CC) -print-multiarch 2>/dev/null)
endif
export MULTIARCH
LIBDIR      ?= $(PREFIX)/lib$(if $(and $(filter /usr,$(PREFIX)),$(MULTIARCH)),/$(MULTIARCH))
INCLUDEDIR  ?= $(PREFIX)/include
DATADIR     ?= $(PREFIX)/share
MANDIR      ?= $(DATADIR)/man
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
# Where systemd and bash-completion look, relocated under PREFIX / DATADIR.
# (pkg-config once a make: the "once" function below.)
PKG_USERUNITDIR = $(call once,PKG_USERUNITDIR,$(PKG_CONFIG) --define-variable=prefix=$(PREFIX) \
                  --variable=systemduserunitdir systemd 2>/dev/null)
PKG_COMPLETIONDIR = $(call once,PKG_COMPLETIONDIR,$(PKG_CONFIG) --define-variable=datadir=$(DATADIR) \
                  --variable=completionsdir bash-completion 2>/dev/null)
USERUNITDIR ?= $(or $(PKG_USERUNITDIR),$(PREFIX)/lib/systemd/user)
COMPLETIONDIR ?= $(or $(PKG_COMPLETIONDIR),$(DATADIR)/bash-completion/completions)
# podman reads hooks.d only from /usr/share/... and /etc/...
HOOKSDIR    ?= $(if $(filter /usr,$(PREFIX)),/usr/share/containers/oci/hooks.d,/etc/containers/oci/hooks.d)
DESTDIR     ?=

B           := build
CC          ?= cc
CLANG       ?= clang
PKG_CONFIG  ?= pkg-config
# make sets AR (ar) and LD (ld) itself; a cross build passes all three.
OBJCOPY     ?= objcopy
WERROR      ?= 1
SANITIZE    ?= 0
V           ?= 0

ifeq ($(V),1)
Q :=
else
Q := @
endif
# $(call say,CC      FILE): the short progress line (not with V=1), printed by make
# itself as it starts the recipe: no shell and no echo a compile.
empty :=
say = $(if $(Q),$(info $(empty)  $(1)))

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
        -Wvla -Wimplicit-fallthrough -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif

# $(call once,VAR,COMMAND): COMMAND's output, run at VAR's first use and kept for
# the rest of this make (VAR = $(call once,VAR,...)): pkg-config runs once a make
# process, not once a compile or a link, and still only once the dependencies are
# installed (make check's and make run's second make, after deps). VAR holds
# nothing else: "X = $(call once,X,...) -lm" would keep pkg-config's words alone.
once = $(eval $(1) := $$(shell $(2)))$($(1))
PKGS_DAEMON = libevent json-c libsystemd
CFLAGS_DEPS = $(call once,CFLAGS_DEPS,$(PKG_CONFIG) --cflags $(PKGS_DAEMON) check 2>/dev/null)
LIBS_JSON   = $(call once,LIBS_JSON,$(PKG_CONFIG) --libs json-c)
PKG_LIBS_DAEMON = $(call once,PKG_LIBS_DAEMON,$(PKG_CONFIG) --libs $(PKGS_DAEMON))
LIBS_DAEMON = $(PKG_LIBS_DAEMON) -lm -pthread
LIBS_CHECK  = $(call once,LIBS_CHECK,$(PKG_CONFIG) --libs check)
# cgctl takes json-c from its archive where one is installed (CLI_STATIC_JSON=0: never):
# one shared library fewer for ld.so to map at every exec, which is a good part of the
# CLI's start-up on a VM (BENCHMARKS.md, `cgctl run`). libcgctl.so and cgctld link it
# dynamically as before.
CLI_STATIC_JSON ?= 1
JSON_LIBDIR = $(call once,JSON_LIBDIR,$(PKG_CONFIG) --variable=libdir json-c)
JSON_ARCHIVE = $(JSON_LIBDIR)/libjson-c.a
LIBS_JSON_CLI = $(if $(and $(filter 1,$(CLI_STATIC_JSON)),$(wildcard $(JSON_ARCHIVE))),$(JSON_ARCHIVE),$(LIBS_JSON))

# The ASan + UBSan tree (SANITIZE=1) is for running tests: -O1 and line tables
# only (-g1) compile in about 30% less CPU time than -O2 -g, and ASan still names
# file and line in every report. It is clang's, and holds the libFuzzer harnesses
# too (fuzz/fuzz.mk): every object is also instrumented for libFuzzer's coverage
# (-fsanitize=fuzzer-no-link; outside a harness the sanitizer runtime's hooks do
# nothing), so nothing is compiled a third time for them (CC=gcc on the command
# line: a gcc ASan tree, which cannot hold them). lld links where it is
# installed (make deps installs it): about 40% less CPU time than ld.bfd on the
# forty test programs, which carry clang's static sanitizer runtime.
ifeq ($(SANITIZE),1)
OPT      ?= -O1
DEBUG    ?= -g1
ifneq ($(origin CC),command line)
CC       := $(CLANG)
endif
SAN_FUZZ := $(if $(findstring clang,$(CC)),1)
else
OPT      ?= -O2
DEBUG    ?= -g
endif
CFLAGS   ?= $(OPT) $(DEBUG)
XCFLAGS  := -std=gnu11 -fPIC -D_GNU_SOURCE -DCGCTL_VERSION='"$(VERSION)"' \
            -Iprotocol -Iclient $(WARN) -MMD -MP
XLDFLAGS :=
ifeq ($(SANITIZE),1)
XCFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
            $(if $(SAN_FUZZ),-fsanitize=fuzzer-no-link)
XLDFLAGS += -fsanitize=address,undefined $(if $(SAN_FUZZ),$(if $(shell command -v ld.lld),-fuse-ld=lld))
endif
# clang links its sanitizer runtime into programs, not into a shared library: the
# sanitizer tree's libcgctl.so names the runtime's own shared library (as gcc's
# names libasan.so), so that a plain program can still link against it and run.
ifneq ($(SAN_FUZZ),)
$(B)/libcgctl.so.%: XLDFLAGS += -shared-libsan -Wl,-rpath,$(shell $(CC) -print-runtime-dir)
endif
# The sanitizer tree: $(B) itself inside its own make (SANITIZE=1), $(B)/asan from the plain one.
SAN_B    := $(if $(filter 1,$(SANITIZE)),$(B),$(B)/asan)

PROTO_SRCS  := $(wildcard protocol/*.c)
DAEMON_SRCS := $(wildcard daemon/*.c)
LIB_SRCS    := $(wildcard client/libcgctl*.c)
CLI_SRCS    := client/cgctl.c $(wildcard client/cli_*.c)
HOOK_SRCS   := $(wildcard client/cgctl-oci-hook.c client/cgctl-oci-hook-log.c client/oci_spec.c client/oci_identity.c client/oci_resources.c client/oci_where.c client/oci_parents.c client/oci_stopped.c)
UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
ITEST_SRCS  := $(filter-out tests/integration/getopt_spy.c,$(wildcard tests/integration/*.c))
BENCH_SRCS  := $(wildcard bench/*.c)

obj = $(patsubst %.c,$(B)/%.o,$(1))

PROTO_OBJS  := $(call obj,$(PROTO_SRCS)) $(B)/gen/interface.o $(B)/gen/service.o
DAEMON_OBJS := $(call obj,$(DAEMON_SRCS))
DAEMON_LIB_OBJS := $(filter-out $(B)/daemon/main.o,$(DAEMON_OBJS))
LIB_OBJS    := $(call obj,$(LIB_SRCS))
CLI_OBJS    := $(call obj,$(CLI_SRCS))
UNIT_BINS   := $(patsubst tests/unit/%.c,$(B)/tests/%,$(UNIT_SRCS))
ITEST_BINS  := $(patsubst tests/integration/%.c,$(B)/tests/integration/%,$(ITEST_SRCS)) \
               $(B)/tests/integration/getopt_spy.so
# One program, cgbench, from every bench/*.c.
BENCH_BINS  := $(B)/bench/cgbench

LIBCGCTL_SO := $(B)/libcgctl.so.$(SOVERSION).$(SOMINOR)
TARGETS := $(B)/cgctld $(B)/cgctl $(B)/libcgctl.a $(LIBCGCTL_SO) $(B)/libcgctl.so \
           $(B)/libcgctl.pc $(if $(HOOK_SRCS),$(B)/cgctl-oci-hook)

.PHONY: all deps deps-check run check check-all check-unit check-install check-integration check-sanitize \
	check-bench check-abi abi-baseline check-unit-asan check-go check-go-drift check-layers install uninstall clean bench
.DEFAULT_GOAL := all

all: $(TARGETS)

# Installs missing Debian packages when root, lists them otherwise. Only the
# set-up targets the README names (run, check) call it: building installs nothing.
deps:
	$(Q)sh scripts/deps.sh

# Every directory of the tree, made by one mkdir before anything is written
# there (order-only: a directory's time stamp rebuilds nothing).
OBJ_DIRS := $(B) $(addprefix $(B)/,gen protocol daemon client tests/unit tests/integration bench examples \
            $(if $(filter 1,$(SANITIZE)),fuzz))
$(OBJ_DIRS) &:
	$(Q)mkdir -p $(OBJ_DIRS)

# A plain build only checks, with pkg-config, that what it compiles against is there
# (package by package, for the message, only when one is missing).
$(B)/.pkgs-ok: Makefile | $(OBJ_DIRS)
	$(Q)$(PKG_CONFIG) --exists $(PKGS_DAEMON) check || { missing=""; for p in $(PKGS_DAEMON) check; do \
		$(PKG_CONFIG) --exists $$p || missing="$$missing $$p"; done; \
		echo "cgctl: pkg-config cannot find:$$missing (make deps installs them on Debian)" >&2; exit 1; }
	$(Q)touch $@

# What only make check needs beyond the build (libabigail, Go): never a plain make's business.
deps-check:
	$(Q)sh scripts/deps.sh check

# Which compiler built the tree: a tree built by another (the sanitizer tree was
# gcc's before it was clang's) is compiled again, not linked with the new one's objects.
CC_STAMP := $(B)/.cc.$(subst /,_,$(firstword $(CC)))
$(CC_STAMP): | $(OBJ_DIRS)
	$(Q)rm -f $(B)/.cc.* && touch $@

$(B)/%.o: %.c $(CC_STAMP) | $(B)/.pkgs-ok $(OBJ_DIRS)
	$(Q)$(call say,CC      $<)$(CC) $(CFLAGS) $(XCFLAGS) $(CFLAGS_DEPS) -c -o $@ $<

# The interface description is served by GetInterfaceDescription.
$(B)/gen/interface.c: protocol/io.cgctl.Manager.varlink scripts/embed.sh | $(OBJ_DIRS)
	$(Q)sh scripts/embed.sh vl_interface_description $< > $@

# org.varlink.service's own description, as varlink.org publishes it.
$(B)/gen/service.c: protocol/org.varlink.service.varlink scripts/embed.sh | $(OBJ_DIRS)
	$(Q)sh scripts/embed.sh vl_service_description $< > $@

$(B)/gen/%.o: $(B)/gen/%.c $(CC_STAMP)
	$(Q)$(CC) $(CFLAGS) $(XCFLAGS) -c -o $@ $<

$(B)/libproto.a: $(PROTO_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/libcgctld-internal.a: $(DAEMON_LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(B)/cgctld: $(B)/daemon/main.o $(B)/libcgctld-internal.a $(B)/libproto.a
	$(Q)$(call say,LD      $@)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON)

# libcgctl: only cgctl_* is exported (visibility + version script).
$(LIB_OBJS): XCFLAGS += -fvisibility=hidden
# One relocatable object with every symbol the version script does not export
# made local, so programs linking the static library never clash with our internal names.
$(B)/libcgctl.keep: client/libcgctl.sym | $(OBJ_DIRS)
	$(Q)sed -n 's/^[[:space:]]*\(cgctl_[a-z0-9_]*\);$$/\1/p' $< > $@

$(B)/libcgctl.a: $(LIB_OBJS) $(PROTO_OBJS) $(B)/libcgctl.keep
	$(Q)$(LD) -r -o $(B)/libcgctl-all.o $(LIB_OBJS) $(PROTO_OBJS)
	$(Q)$(OBJCOPY) --keep-global-symbols=$(B)/libcgctl.keep $(B)/libcgctl-all.o
	$(Q)rm -f $@ && $(AR) rcs $@ $(B)/libcgctl-all.o

$(LIBCGCTL_SO): $(LIB_OBJS) $(PROTO_OBJS) client/libcgctl.sym
	$(Q)$(call say,LD      $@)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -shared -Wl,-soname,libcgctl.so.$(SOVERSION) \
		-Wl,--version-script=client/libcgctl.sym -o $@ $(LIB_OBJS) $(PROTO_OBJS) $(LIBS_JSON)

$(B)/libcgctl.so: $(LIBCGCTL_SO)
	$(Q)ln -sf libcgctl.so.$(SOVERSION).$(SOMINOR) $(B)/libcgctl.so.$(SOVERSION)
	$(Q)ln -sf libcgctl.so.$(SOVERSION).$(SOMINOR) $@

$(B)/libcgctl.pc: client/libcgctl.pc.in Makefile
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' $< > $@

$(B)/cgctl: $(CLI_OBJS) $(B)/libcgctl.a $(B)/libproto.a
	$(Q)$(call say,LD      $@)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON_CLI)

$(B)/cgctl-oci-hook: $(call obj,$(HOOK_SRCS)) $(B)/libcgctl.a $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON)

# Under ASan, the daemon, the hook and the unit suites map their writable
# segments in one system call each just before LeakSanitizer's exit scan, which
# otherwise faults in some 2,400 untouched pages of the runtime's .bss one by
# one (about 45 ms of CPU a process here); the scan reads the same bytes.
ifeq ($(SANITIZE),1)
$(B)/tests/unit/lsan_prefault.o: tests/unit/lsan_prefault.c
$(B)/cgctld $(B)/cgctl-oci-hook $(UNIT_BINS): $(B)/tests/unit/lsan_prefault.o
endif

# Unit tests reach internal functions through the static archives; the
# linker only pulls in the modules a test uses.
# The fake server's byte-level side, shared by the libcgctl suites (named here so
# make knows it can build it before choosing the rule below).
$(B)/tests/unit/fakepeer.o: tests/unit/fakepeer.c
# Check's passing assertions write nothing (tests/unit/markpoint.c says why):
# most of the unit suites' CPU time went to those writes.
$(B)/tests/unit/markpoint.o: tests/unit/markpoint.c
$(UNIT_BINS): $(B)/tests/unit/markpoint.o
$(UNIT_BINS): XLDFLAGS += -Wl,--wrap=_mark_point

$(B)/tests/test_lib%: $(B)/tests/unit/test_lib%.o $(B)/tests/unit/fakepeer.o $(LIB_OBJS) $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_CHECK)

# The hook's OCI translation modules, without the hook itself or libcgctl (oci_parents.c calls it).
$(B)/tests/test_oci: $(B)/tests/unit/test_oci.o $(call obj,$(filter-out client/oci_parents.c client/oci_stopped.c,$(filter client/oci_%.c,$(HOOK_SRCS)))) $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_CHECK)

# top's model and the --pressure parser, without the rest of the CLI.
$(B)/tests/test_cli_top: $(B)/tests/unit/test_cli_top.o $(B)/client/cli_top_view.o $(B)/client/cli_width.o \
		$(B)/client/cli_pressure.o $(B)/client/cli_esc.o $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_CHECK)

# The CLI's terminal escaping alone.
$(B)/tests/test_cli_esc: $(B)/tests/unit/test_cli_esc.o $(B)/client/cli_esc.o $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) $(LIBS_CHECK)

# What the daemon's suites share (scratch directories, loop turns, socketpairs).
$(B)/tests/unit/testutil.o: tests/unit/testutil.c
$(B)/tests/%: $(B)/tests/unit/%.o $(B)/tests/unit/testutil.o $(B)/libcgctld-internal.a $(B)/libproto.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_DAEMON) $(LIBS_CHECK)

# The ledger suite answers a directory's flock as NFS does, on cue.
$(B)/tests/test_ledger: XLDFLAGS += -Wl,--wrap=flock

# The tenant suite answers SO_PEERPIDFD as older kernels do, on cue.
$(B)/tests/test_tenant: XLDFLAGS += -Wl,--wrap=getsockopt

# The op_error suite makes our own code's allocations fail on cue (json-c's and libc's are unseen).
$(B)/tests/test_op_error: XLDFLAGS += -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=reallocarray \
	-Wl,--wrap=strdup,--wrap=strndup,--wrap=asprintf,--wrap=vasprintf

$(B)/tests/integration/%: $(B)/tests/integration/%.o $(B)/libcgctl.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON)

# The harness's process starter, which every CLI call of the integration tests
# goes through, is never instrumented: in the ASan tree its sanitizer start-up
# and leak check at exit would cost more CPU than the helper saves.
SANITIZER_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined \
                   -fsanitize=fuzzer-no-link
$(B)/tests/integration/as_user.o: tests/integration/as_user.c $(CC_STAMP) | $(B)/.pkgs-ok $(OBJ_DIRS)
	$(Q)$(call say,CC      $<)$(CC) $(CFLAGS) $(filter-out $(SANITIZER_FLAGS),$(XCFLAGS)) -c -o $@ $<
$(B)/tests/integration/as_user: $(B)/tests/integration/as_user.o
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^
# cli_options.py's LD_PRELOAD library (tests/integration/getopt_spy.c): preloaded
# into plain and sanitizer programs alike, so never instrumented itself.
$(B)/tests/integration/getopt_spy.so: tests/integration/getopt_spy.c $(CC_STAMP) | $(B)/.pkgs-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS) $(filter-out $(SANITIZER_FLAGS) -MMD -MP,$(XCFLAGS)) $(LDFLAGS) -shared -o $@ $< -ldl

$(B)/bench/cgbench: $(call obj,$(BENCH_SRCS)) $(B)/libcgctl.a
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON) -lpthread

# The README's two set-up commands: install what is missing, then build and go.
# The second make reads the Makefile again, so pkg-config sees what deps installed.
run: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)sh scripts/run.sh

check: deps deps-check
	$(Q)$(MAKE) --no-print-directory check-all

# Two phases, each a line "PHASE NAME: W s wall, C s CPU (load L)": its wall
# time, its CPU time (user + system of everything it ran) and the load average
# (scripts/phase.sh). The first, "build+static+unit+fuzz", is one parallel make
# whose parts overlap: the plain tree, the sanitizer tree (ASan test programs
# and fuzz harnesses), the Go test binary; each unit suite as soon as its
# program is linked (plain and ASan), the fuzz smoke runs once the harnesses
# are, the static checks once what they read is there, check-install. The
# sanitizer tree, the longest chain, is named first so that it starts first,
# then Go (go vet, the test binary and the example one after the other: the
# phase's tail when it came after the plain tree).
# Then the integration suite in $(ITEST_LANES) lanes (tests/integration/lanes.sh;
# t_go.sh in it runs the Go client's tests against a real daemon) with the ASan
# pass in the same lanes, then the bench smoke.
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Two lanes more than CPUs: a lane often waits (a daemon's start, a condition, a
# child's exit), and with one a CPU about a quarter of the CPU time of the
# integration phase went idle (2 CPUs: 288 s wall for 441 CPU-s; 3 lanes 251 s).
# On b524a84, 2 CPUs, quiet: 3 lanes 197 s wall for 328 CPU-s (1.65 CPUs busy),
# 4 lanes 185 s for 342 CPU-s (1.85 busy), the lanes ending within 2 s.
ITEST_LANES ?= $(shell echo $$(( $(JOBS) + 2 )))
PHASE = bash scripts/phase.sh
# check-pre's prerequisites are listed at the end of this file, where every
# variable they name is set (make expands a rule's prerequisites as it reads it).
.PHONY: check-pre
check-all:
	$(Q)$(PHASE) build+static+unit+fuzz $(MAKE) --no-print-directory -j$(JOBS) check-pre
	$(Q)CGCTL_TEST_ALL_BUILT=1 $(PHASE) integration $(MAKE) --no-print-directory check-integration-both
	$(Q)$(PHASE) bench $(MAKE) --no-print-directory check-bench

# The daemon's layers include one way: transport -> glue -> domain -> commit (README, Architecture).
check-layers:
	$(Q)sh scripts/check-layers.sh daemon

# A staged "make install PREFIX=/usr": the file list, libcgctl.pc's libdir, and the
# example built with the documented command against it.
check-install: all
	$(Q)rm -rf $(B)/stage
	$(Q)$(MAKE) --no-print-directory -s install DESTDIR=$(CURDIR)/$(B)/stage PREFIX=/usr >/dev/null
	$(Q)sh tests/check-install.sh $(B)/stage "$(MULTIARCH)" "$(CC)"

# The benchmark's smoke mode: every measurement runs once, briefly (figures are not judged).
check-bench: all $(BENCH_BINS)
	$(Q)CGBENCH_SMOKE=1 sh bench/run.sh

# The ASan + UBSan pass, in a build directory of its own: every unit suite,
# and the integration suites that feed the daemon what finds memory bugs
# (garbage, crashes, torn files, raw wire traffic): the ASan daemon (and hook)
# with the plain tree's CLI and test programs (CGCTL_TEST_CLIENT_BUILD; the
# CLI's and libcgctl's parsing run under ASan in the unit suites and the fuzz
# smoke); CGCTL_SANITIZE_SUITES=all runs every suite.
CGCTL_SANITIZE_SUITES ?= t_hostile t_hostile2 t_hostile3 t_hostile4 t_crash t_varlink t_client
ASAN_MAKE = $(MAKE) --no-print-directory SANITIZE=1 B=$(SAN_B)
.PHONY: test-bins asan-build check-unit-asan check-sanitize-integration
# What the tests run, for whichever tree B names.
test-bins: all $(UNIT_BINS) $(ITEST_BINS) $(EXAMPLE_BINS)
# What the ASan pass runs from the sanitizer tree: the daemon, the hook and the
# unit suites; its CLI and test programs are the plain tree's (CGCTL_TEST_CLIENT_BUILD),
# so the tree's CLI, libcgctl.so, test programs and example are not built (about
# 15 compiles and 8 links fewer), unless CGCTL_SANITIZE_SUITES=all (t_events and
# t_oci take watch_end and the example from the daemon's tree).
.PHONY: asan-bins
asan-bins: $(B)/cgctld $(if $(HOOK_SRCS),$(B)/cgctl-oci-hook) $(UNIT_BINS) \
	$(if $(filter all,$(CGCTL_SANITIZE_SUITES)),test-bins)
# "+": the ASan make shares the jobserver (make sees no $(MAKE) in $(ASAN_MAKE)
# and would run it with -j1). One make for the whole tree, test programs and
# fuzz harnesses (fuzz/fuzz.mk): two at once would build the same objects.
asan-build:
	+$(Q)$(ASAN_MAKE) asan-bins fuzz-build
check-unit-asan: asan-build
	+$(Q)$(ASAN_MAKE) check-unit
# make check's ASan part in that one make: each suite runs, and each harness's
# smoke, as soon as its program is linked, not once the whole tree is.
.PHONY: check-asan-pre
check-asan-pre:
	+$(Q)$(ASAN_MAKE) asan-bins fuzz-build check-unit check-fuzz
# Under ASan every code path of the crash suites runs once: the torture stops
# the daemon at every crash point, without the random SIGKILLs of the plain
# pass (30; 25 and 100 with CGCTL_THOROUGH=1): each costs about 3x the CPU
# under ASan and finds timing, not memory, bugs.
SANITIZE_TORTURE_CRASHES ?= $(if $(filter 1,$(CGCTL_THOROUGH)),25,0)
# and the torn-journal tests cut at each kind of tear once, not once a record.
# The plain pass of make check cuts each kind of tear once too, in the other
# record than the ASan pass: both passes together cut every kind in both records.
PLAIN_TORN_ONCE ?= $(if $(filter 1,$(CGCTL_THOROUGH)),0,2)
SANITIZE_TORN_ONCE ?= $(if $(filter 1,$(CGCTL_THOROUGH)),0,1)
check-sanitize-integration: all $(ITEST_BINS) asan-build
	$(Q)ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		CGCTL_TORTURE_CRASHES=$${CGCTL_TORTURE_CRASHES:-$(SANITIZE_TORTURE_CRASHES)} CGCTL_TORN_ONCE=$(SANITIZE_TORN_ONCE) \
		CGCTL_TEST_CLIENT_BUILD=$(abspath $(B)) CGCTL_BUILD=$(B)/asan $(if $(filter all,$(CGCTL_SANITIZE_SUITES)),,CGCTL_TEST_SUITES="$(CGCTL_SANITIZE_SUITES)") \
		$(ASAN_MAKE) check-integration
check-sanitize:
	$(Q)$(MAKE) --no-print-directory -j$(JOBS) check-unit-asan
	$(Q)$(MAKE) --no-print-directory check-sanitize-integration

# make check's integration step: the plain pass and the ASan pass above in one
# pool of $(ITEST_LANES) lanes (each ASan unit right after its plain one, the
# longest first), so that neither pass's tail leaves a CPU idle.
SANITIZE_ENV = ASAN_OPTIONS=abort_on_error=1:detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	CGCTL_TORTURE_CRASHES=$(or $(CGCTL_TORTURE_CRASHES),$(SANITIZE_TORTURE_CRASHES)) CGCTL_TORN_ONCE=$(SANITIZE_TORN_ONCE)
.PHONY: check-integration-both
check-integration-both: all $(ITEST_BINS) $(EXAMPLE_BINS) asan-build
	$(Q)CGCTL_TORN_ONCE=$${CGCTL_TORN_ONCE:-$(PLAIN_TORN_ONCE)} CGCTL_TEST_LANES=$(ITEST_LANES) CGCTL_TEST_ASAN_BUILD=$(abspath $(B))/asan CGCTL_TEST_ASAN_ENV="$(SANITIZE_ENV)" \
		CGCTL_TEST_ASAN_SUITES="$(if $(filter all,$(CGCTL_SANITIZE_SUITES)),,$(CGCTL_SANITIZE_SUITES))" \
		bash tests/integration/run.sh

# One target a suite, so make -j runs them side by side; each prints Check's summary.
# The reply checker (tests/integration/varlink_check.py) is Python, stdlib only:
# its tests run in the plain tree only (nothing of theirs is instrumented).
UNIT_RUNS := $(addsuffix .run,$(UNIT_BINS)) $(if $(filter 1,$(SANITIZE)),,$(B)/tests/test_varlink_check.run)
.PHONY: $(UNIT_RUNS)
check-unit: $(UNIT_RUNS)
# Plain: every test in a child of its own (Check's default), with its timeout.
# ASan: every test of a suite in one process (CK_FORK=no), the whole suite under
# timeout(1): a fork of an ASan process and LeakSanitizer's scan at each child's
# exit cost more than the tests (the ASan suites took 64 CPU s, now about 30);
# a leak in any test is still reported, by the one scan at the end. Each suite
# thus runs both ways: isolated, and after the suite's other tests.
ifeq ($(SANITIZE),1)
UNIT_RUN_ENV := CK_FORK=no timeout -k 10 600
else
UNIT_RUN_ENV := CK_DEFAULT_TIMEOUT=60
endif
$(filter-out $(B)/tests/test_varlink_check.run,$(UNIT_RUNS)): %.run: %
	$(Q)$(UNIT_RUN_ENV) $< >$<.log 2>&1; rc=$$?; cat $<.log; exit $$rc
$(B)/tests/test_varlink_check.run: tests/unit/test_varlink_check.py tests/integration/varlink_check.py | $(OBJ_DIRS)
	$(Q)/usr/bin/python3 $< >$(B)/tests/test_varlink_check.log 2>&1; rc=$$?; \
		cat $(B)/tests/test_varlink_check.log; exit $$rc

# libcgctl's ABI against the baseline in the tree (libabigail), and its exports
# against cgctl.h and the version script.
ABI_BASELINE := client/libcgctl.abi
check-abi: $(LIBCGCTL_SO)
	$(Q)sh scripts/check-abi.sh $(LIBCGCTL_SO) $(ABI_BASELINE) client/cgctl.h client/libcgctl.sym \
		client/libcgctl.abignore

# After a deliberate ABI change (and, when it is incompatible, a SOVERSION bump).
abi-baseline: $(LIBCGCTL_SO)
	$(Q)abidw --headers-dir client --drop-private-types --no-corpus-path --no-comp-dir-path \
		--out-file $(ABI_BASELINE) $(LIBCGCTL_SO)

# A short program doing what a runtime does; built and run by the tests.
EXAMPLE_SRCS := $(wildcard examples/*.c)
EXAMPLE_BINS := $(patsubst examples/%.c,$(B)/examples/%,$(EXAMPLE_SRCS))
.PHONY: examples
examples: $(EXAMPLE_BINS)
$(B)/examples/%: $(B)/examples/%.o $(B)/libcgctl.a
	$(Q)$(call say,LD      $@)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS_JSON)

# CGCTL_TEST_LANES (ITEST_LANES=1: one file after the other) and every other
# CGCTL_TEST_* setting: tests/integration/run.sh.
check-integration: all $(ITEST_BINS) $(EXAMPLE_BINS)
	$(Q)CGCTL_TEST_LANES=$(ITEST_LANES) bash tests/integration/run.sh

# The Go client (go/) and its example: standard library only, Go 1.19, no
# network; its caches stay under build/. Never part of a plain make.
GO      ?= go
GOENV    = GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on CGO_ENABLED=0 \
           GOCACHE=$(abspath $(B))/go/cache GOPATH=$(abspath $(B))/go/path
GO_SRCS := $(wildcard go/*.go) go/go.mod
GO_TEST := $(B)/tests/integration/cgctl-go.test
GO_EXAMPLE := $(B)/examples/go-runtime

# "go vet ." checks the package and its tests with every analyzer, so the test
# binary is built without go test's own vet (a subset, whose facts about every
# standard package it imports would be computed a second time: about 8 CPU s).
#
# Its directory is made here, not by the tree's mkdir (an order-only
# prerequisite): while that runs make defers this until it has started the
# whole plain tree's compiles.
$(GO_TEST): $(GO_SRCS)
	$(Q)mkdir -p $(dir $@) && cd go && $(GOENV) $(GO) vet . && $(GOENV) $(GO) test -vet=off -c -o $(abspath $@) .

# After the test binary (order only): net (rebuilt for CGO_ENABLED=0) and vet's
# facts about the standard library are then in the cache, not computed twice at once.
$(GO_EXAMPLE): $(GO_SRCS) examples/go-runtime/main.go examples/go-runtime/go.mod | $(GO_TEST) $(OBJ_DIRS)
	$(Q)cd examples/go-runtime && $(GOENV) $(GO) vet . && $(GOENV) $(GO) build -o $(abspath $@) .

# The drift and fake-daemon tests here, from the test binary already built (in
# go/, as go test runs it); the rest as the test user against a real daemon (t_go.sh).
# The Go programs, for check-pre: a phony target, so that make starts them
# where check-pre names them. With .SECONDARY: (every target secondary), make
# 4.3 takes a phony target's file prerequisites only after all its phony
# ones: go vet began at 350 of 445 s (strace of check-pre) and was the tail.
.PHONY: go-bins
go-bins: $(GO_TEST) $(GO_EXAMPLE)

check-go-drift: $(GO_TEST)
	$(Q)cd go && $(abspath $(GO_TEST)) -test.count=1 -test.run 'Drift|Fake'
check-go: all $(GO_TEST) $(GO_EXAMPLE) check-go-drift
	$(Q)bash tests/integration/run.sh 'go_*'

bench: all $(BENCH_BINS)
	$(Q)sh bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
		$(DESTDIR)$(PKGCONFIGDIR) $(DESTDIR)$(USERUNITDIR) $(DESTDIR)$(COMPLETIONDIR) \
		$(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(MANDIR)/man8
	install -m 0755 $(B)/cgctld $(B)/cgctl $(DESTDIR)$(BINDIR)/
	$(if $(HOOK_SRCS),install -m 0755 $(B)/cgctl-oci-hook $(DESTDIR)$(BINDIR)/)
	install -m 0644 $(B)/libcgctl.a $(DESTDIR)$(LIBDIR)/
	install -m 0755 $(LIBCGCTL_SO) $(DESTDIR)$(LIBDIR)/
	ln -sf libcgctl.so.$(SOVERSION).$(SOMINOR) $(DESTDIR)$(LIBDIR)/libcgctl.so.$(SOVERSION)
	ln -sf libcgctl.so.$(SOVERSION).$(SOMINOR) $(DESTDIR)$(LIBDIR)/libcgctl.so
	install -m 0644 client/cgctl.h $(DESTDIR)$(INCLUDEDIR)/
# The .pc and the unit name the install-time directories, whatever PREFIX the build saw.
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' \
		-e 's|@VERSION@|$(VERSION)|' client/libcgctl.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/libcgctl.pc
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/cgctld.service.in > $(DESTDIR)$(USERUNITDIR)/cgctld.service
	chmod 0644 $(DESTDIR)$(PKGCONFIGDIR)/libcgctl.pc $(DESTDIR)$(USERUNITDIR)/cgctld.service
	install -m 0644 systemd/cgctld.socket $(DESTDIR)$(USERUNITDIR)/
	install -m 0644 docs/cgctl.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 docs/libcgctl.3 $(DESTDIR)$(MANDIR)/man3/
	install -m 0644 docs/cgctld.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 completion/cgctl.bash $(DESTDIR)$(COMPLETIONDIR)/cgctl
	$(if $(HOOK_SRCS),install -m 0644 docs/cgctl-oci-hook.1 $(DESTDIR)$(MANDIR)/man1/)
	$(if $(HOOK_SRCS),install -d $(DESTDIR)$(HOOKSDIR))
	$(if $(HOOK_SRCS),sed 's|@BINDIR@|$(BINDIR)|g' hooks/cgctl.json.in > $(DESTDIR)$(HOOKSDIR)/cgctl.json)
	$(if $(HOOK_SRCS),chmod 0644 $(DESTDIR)$(HOOKSDIR)/cgctl.json)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/cgctld $(DESTDIR)$(BINDIR)/cgctl $(DESTDIR)$(BINDIR)/cgctl-oci-hook
	rm -f $(DESTDIR)$(LIBDIR)/libcgctl.a $(DESTDIR)$(LIBDIR)/libcgctl.so*
	rm -f $(DESTDIR)$(INCLUDEDIR)/cgctl.h $(DESTDIR)$(PKGCONFIGDIR)/libcgctl.pc
	rm -f $(DESTDIR)$(USERUNITDIR)/cgctld.service $(DESTDIR)$(USERUNITDIR)/cgctld.socket
	rm -f $(DESTDIR)$(MANDIR)/man1/cgctl.1 $(DESTDIR)$(MANDIR)/man3/libcgctl.3 \
		$(DESTDIR)$(MANDIR)/man8/cgctld.8
	rm -f $(DESTDIR)$(COMPLETIONDIR)/cgctl
	rm -f $(DESTDIR)$(HOOKSDIR)/cgctl.json $(DESTDIR)$(MANDIR)/man1/cgctl-oci-hook.1

clean:
	rm -rf $(B)

.SECONDARY:

# The first phase of make check (see check-all); here, below every variable it names.
check-pre: check-asan-pre go-bins all check-unit $(ITEST_BINS) $(EXAMPLE_BINS) \
	$(BENCH_BINS) check-layers check-abi check-go-drift check-install

# Fuzzing (libFuzzer, clang): make fuzz, and a short run inside make check.
-include fuzz/fuzz.mk

# This tree's dependency files (the sanitizer tree's are its own make's business).
-include $(wildcard $(addsuffix /*.d,$(OBJ_DIRS)))
