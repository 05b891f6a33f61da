# SPDX-License-Identifier: MIT
# fuzz.mk: libFuzzer harnesses, built with clang apart from the gcc build; included by the Makefile.
#
#   make fuzz-build          every harness into build/fuzz/
#   make fuzz                each harness for FUZZ_SECONDS on a copy of its corpus
#                            (make -j4 fuzz runs them side by side; FUZZ_MERGE=1
#                            merges what was found back into fuzz/corpus/)
#   make fuzz-NAME           one harness (NAME: framer, names, ledger, requests, entries)
#   make check-fuzz          every seed once, then each harness for FUZZ_SMOKE_SECONDS
#   make fuzz-seeds          regenerate the seeds written by the project's own writers
#                            (ledger: the ledger API; entries: the daemon's List text)

CLANG              ?= clang
FUZZ_SECONDS       ?= 60
# make check's short run a harness (after every seed once); CGCTL_THOROUGH=1: 10 s.
FUZZ_SMOKE_SECONDS ?= $(if $(filter 1,$(CGCTL_THOROUGH)),10,3)
FUZZ_MERGE         ?= 0
FUZZ_JOBS          ?= 1
# Extra libFuzzer flags for every run, e.g. FUZZ_FLAGS=-only_ascii=1.
FUZZ_FLAGS         ?=

FUZZ_B      := $(B)/fuzz
FUZZ_NAMES  := framer names ledger requests entries
FUZZ_BINS   := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))
# Sanitizer findings must abort, or libFuzzer would not see them.
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_WARN   := $(filter-out -Werror,$(WARN))
FUZZ_CFLAGS := -std=gnu11 -gline-tables-only -O1 $(FUZZ_SAN) -D_GNU_SOURCE -DCGCTL_VERSION='"$(VERSION)"' \
               -Iprotocol -Iclient -Idaemon -MMD -MP
FUZZ_LIBS    = $(shell $(PKG_CONFIG) --libs $(PKGS_DAEMON)) -lm
FUZZ_DEPCFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS_DAEMON) 2>/dev/null)

# Line tables only (-gline-tables-only): a finding's stack names file and line,
# and the harnesses compile in less time than with full debug information.
# The code under test, instrumented for coverage; the daemon's main() left out.
FUZZ_PROTO_OBJS  := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(PROTO_SRCS)) $(FUZZ_B)/obj/gen/interface.o \
                    $(FUZZ_B)/obj/gen/service.o
FUZZ_DAEMON_OBJS := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(filter-out daemon/main.c,$(DAEMON_SRCS)))
FUZZ_CLIENT_OBJS := $(patsubst %.c,$(FUZZ_B)/obj/%.o,$(LIB_SRCS))
# The harnesses themselves: warnings are errors here (WERROR=0 relaxes), not in code under test.
FUZZ_HARNESS_OBJS := $(patsubst %,$(FUZZ_B)/obj/fuzz/fuzz_%.o,$(FUZZ_NAMES)) $(FUZZ_B)/obj/fuzz/standin.o \
                     $(FUZZ_B)/obj/fuzz/sweep.o

# Per-harness run settings.
FUZZ_MAXLEN_framer   := 16384
FUZZ_MAXLEN_names    := 2048
FUZZ_MAXLEN_ledger   := 16384
FUZZ_MAXLEN_requests := 8192
FUZZ_MAXLEN_entries  := 8192
# Comparisons of lengths and offsets as feedback: fuzz_entries then finds a
# message cut inside an escape, where a read past the end would be.
FUZZ_VP_entries      := -use_value_profile=1
# fuzz_requests: its stand-in cgroupfs fences the daemon's kill(), gives its
# mkdir/rmdir cgroupfs rules, notes what it writes, keeps its log quiet (fuzz/standin.h).
FUZZ_EXTRA_requests  := $(FUZZ_B)/obj/fuzz/standin.o
FUZZ_LDWRAP_requests := -Wl,--wrap=kill,--wrap=mkdirat,--wrap=unlinkat,--wrap=cgfs_write \
                        -Wl,--wrap=inotify_init1,--wrap=inotify_add_watch \
                        -Wl,--wrap=log_msg,--wrap=log_errno,--wrap=log_op
# Every harness is linked against both archives; the linker takes what it uses.
FUZZ_ARCHIVES := $(FUZZ_B)/libcgctld-fuzz.a $(FUZZ_B)/libproto-fuzz.a
# fuzz_entries: libcgctl's decoders, before the archives it needs.
FUZZ_ARCHIVES_entries := $(FUZZ_B)/libcgctl-fuzz.a

.PHONY: fuzz-build fuzz check-fuzz fuzz-seeds

fuzz-build: $(FUZZ_BINS)

$(FUZZ_PROTO_OBJS) $(FUZZ_DAEMON_OBJS) $(FUZZ_CLIENT_OBJS): FUZZ_OBJ_CFLAGS = -fsanitize=fuzzer-no-link $(FUZZ_WARN)
$(FUZZ_HARNESS_OBJS): FUZZ_OBJ_CFLAGS = -fsanitize=fuzzer-no-link $(WARN)
$(FUZZ_B)/obj/fuzz/gen_ledger_seeds.o $(FUZZ_B)/obj/fuzz/gen_entries_seeds.o: FUZZ_OBJ_CFLAGS = $(WARN)

$(FUZZ_B)/obj/%.o: %.c | $(B)/.pkgs-ok
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CLANG   $<")
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_OBJ_CFLAGS) $(FUZZ_DEPCFLAGS) -c -o $@ $<

$(FUZZ_B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) $(FUZZ_OBJ_CFLAGS) -c -o $@ $<

$(FUZZ_B)/libproto-fuzz.a: $(FUZZ_PROTO_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/libcgctld-fuzz.a: $(FUZZ_DAEMON_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/libcgctl-fuzz.a: $(FUZZ_CLIENT_OBJS)
	$(Q)rm -f $@ && ar rcs $@ $^

$(FUZZ_B)/fuzz_requests: $(FUZZ_EXTRA_requests) $(FUZZ_B)/obj/fuzz/sweep.o
$(FUZZ_B)/fuzz_ledger: $(FUZZ_B)/obj/fuzz/sweep.o
$(FUZZ_B)/fuzz_entries: $(FUZZ_ARCHIVES_entries)
$(FUZZ_B)/fuzz_%: $(FUZZ_B)/obj/fuzz/fuzz_%.o $(FUZZ_ARCHIVES)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CLANG) -fsanitize=fuzzer $(FUZZ_SAN) $(FUZZ_LDWRAP_$*) -o $@ $(filter %.o,$^) $(FUZZ_ARCHIVES_$*) \
		$(FUZZ_ARCHIVES) $(FUZZ_LIBS)

# Ledger seeds come from the ledger's own writer, so their crcs and shapes are real.
$(FUZZ_B)/gen_ledger_seeds: $(FUZZ_B)/obj/fuzz/gen_ledger_seeds.o $(FUZZ_ARCHIVES)
	$(Q)$(CLANG) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

# List replies come from the daemon's Entry writer (daemon/entry_json.c) and vl_reply_format().
$(FUZZ_B)/gen_entries_seeds: $(FUZZ_B)/obj/fuzz/gen_entries_seeds.o $(FUZZ_ARCHIVES)
	$(Q)$(CLANG) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LIBS)

fuzz-seeds: $(FUZZ_B)/gen_ledger_seeds $(FUZZ_B)/gen_entries_seeds
	$(Q)$(FUZZ_B)/gen_ledger_seeds fuzz/corpus/ledger
	$(Q)mkdir -p fuzz/corpus/entries && $(FUZZ_B)/gen_entries_seeds fuzz/corpus/entries

# libFuzzer's flags for harness $(1): limits, findings under build/fuzz/crashes/.
fuzz_runflags = -max_len=$(FUZZ_MAXLEN_$(1)) -timeout=10 -rss_limit_mb=2048 $(FUZZ_VP_$(1)) \
                -artifact_prefix=$(FUZZ_B)/crashes/$(1)- -print_final_stats=1 \
                $(if $(wildcard fuzz/dict/$(1).dict),-dict=fuzz/dict/$(1).dict) $(FUZZ_FLAGS)

# fuzz-NAME: the repository corpus is only read; new inputs land in build/fuzz/corpus-NAME.
# check-fuzz-NAME: every seed once (a regression test), then a short run on a throwaway copy.
define fuzz_rules
.PHONY: fuzz-$(1) check-fuzz-$(1)
fuzz-$(1): $(FUZZ_B)/fuzz_$(1)
	@mkdir -p $(FUZZ_B)/corpus-$(1) $(FUZZ_B)/crashes
	$(Q)cp -n fuzz/corpus/$(1)/* $(FUZZ_B)/corpus-$(1)/ 2>/dev/null || true
	$(Q)$(FUZZ_B)/fuzz_$(1) $$(call fuzz_runflags,$(1)) -max_total_time=$(FUZZ_SECONDS) \
		$$(if $$(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS)) $(FUZZ_B)/corpus-$(1)
	$(Q)$$(if $$(filter 1,$(FUZZ_MERGE)),$(FUZZ_B)/fuzz_$(1) -merge=1 $$(call fuzz_runflags,$(1)) \
		fuzz/corpus/$(1) $(FUZZ_B)/corpus-$(1),true)

check-fuzz-$(1): $(FUZZ_B)/fuzz_$(1)
	@mkdir -p $(FUZZ_B)/crashes
	@rm -rf $(FUZZ_B)/check-$(1) && mkdir -p $(FUZZ_B)/check-$(1)
	$(Q)$(FUZZ_B)/fuzz_$(1) $$(call fuzz_runflags,$(1)) $(wildcard fuzz/corpus/$(1)/*) \
		>$(FUZZ_B)/check-$(1).log 2>&1 || { cat $(FUZZ_B)/check-$(1).log; \
		echo "fuzz_$(1): a seed fails (log: $(FUZZ_B)/check-$(1).log)" >&2; exit 1; }
	$(Q)cp fuzz/corpus/$(1)/* $(FUZZ_B)/check-$(1)/
	$(Q)$(FUZZ_B)/fuzz_$(1) $$(call fuzz_runflags,$(1)) -max_total_time=$(FUZZ_SMOKE_SECONDS) \
		$(FUZZ_B)/check-$(1) >>$(FUZZ_B)/check-$(1).log 2>&1 || { tail -n 60 $(FUZZ_B)/check-$(1).log; \
		echo "fuzz_$(1): crash, reproducer in $(FUZZ_B)/crashes/" >&2; exit 1; }
	@sed -n 's/^stat::number_of_executed_units: */  FUZZ    fuzz_$(1): no crash in /p' \
		$(FUZZ_B)/check-$(1).log | tail -n 1 | sed 's/$$$$/ runs/'
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_rules,$(n))))

fuzz: $(addprefix fuzz-,$(FUZZ_NAMES))
check-fuzz: $(addprefix check-fuzz-,$(FUZZ_NAMES))
