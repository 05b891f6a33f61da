# SPDX-License-Identifier: MIT
# fuzz.mk: libFuzzer harnesses, built in the sanitizer tree (clang) with the ASan test programs; included by the Makefile.
#
#   make fuzz-build          every harness into build/asan/fuzz/
#   make fuzz                each harness for FUZZ_SECONDS on a copy of its corpus
#                            (make -j4 fuzz runs them side by side; FUZZ_MERGE=1
#                            merges what was found back into fuzz/corpus/)
#   make fuzz-NAME           one harness (NAME: framer, names, ledger, requests, entries)
#   make check-fuzz          each harness: every seed, then FUZZ_SMOKE_RUNS_NAME mutations
#   make fuzz-seeds          regenerate the seeds written by the project's own writers
#                            (ledger: the ledger API; entries: the daemon's List text)

FUZZ_SECONDS       ?= 60
# make check's smoke, one run a harness: every seed, then a fixed number of
# mutated inputs, the same work whatever the load (at 2 s a harness, a loaded
# machine's fuzz_requests spent them replaying its seeds and mutated nothing).
# About a quarter of what 2 s ran on a quiet machine, half a CPU second each.
# FUZZ_SMOKE_SECONDS=N (CGCTL_THOROUGH=1: 10) mutates for N s instead.
FUZZ_SMOKE_SECONDS ?= $(if $(filter 1,$(CGCTL_THOROUGH)),10)
FUZZ_SMOKE_RUNS_framer   ?= 200
FUZZ_SMOKE_RUNS_names    ?= 10000
FUZZ_SMOKE_RUNS_ledger   ?= 200
FUZZ_SMOKE_RUNS_requests ?= 60
FUZZ_SMOKE_RUNS_entries  ?= 1000
FUZZ_MERGE         ?= 0
FUZZ_JOBS          ?= 1
# Extra libFuzzer flags for every run, e.g. FUZZ_FLAGS=-only_ascii=1.
FUZZ_FLAGS         ?=

# The harnesses live in the sanitizer tree (the Makefile's SANITIZE=1, clang,
# -O1 -g1, ASan + UBSan, every object instrumented for libFuzzer's coverage):
# they link the very objects the ASan test pass runs; only the harness mains are
# linked with -fsanitize=fuzzer. From the plain make they are built by that tree's make.
FUZZ_B      := $(SAN_B)/fuzz
FUZZ_NAMES  := framer names ledger requests entries
FUZZ_BINS   := $(patsubst %,$(FUZZ_B)/fuzz_%,$(FUZZ_NAMES))

# Per-harness run settings.
FUZZ_MAXLEN_framer   := 16384
FUZZ_MAXLEN_names    := 2048
FUZZ_MAXLEN_ledger   := 16384
FUZZ_MAXLEN_requests := 8192
FUZZ_MAXLEN_entries  := 8192
# Comparisons of lengths and offsets as feedback: fuzz_entries then finds a
# message cut inside an escape, where a read past the end would be.
FUZZ_VP_entries      := -use_value_profile=1

.PHONY: fuzz-build fuzz check-fuzz fuzz-seeds

ifeq ($(SANITIZE),1)
ifeq ($(SAN_FUZZ),)
fuzz-build fuzz-seeds $(FUZZ_BINS):
	@echo "cgctl: the fuzz harnesses need the sanitizer tree built by clang (CC=$(CC))" >&2; exit 1
else
FUZZ_LIBS    = $(LIBS_DAEMON)
# fuzz_requests: its stand-in cgroupfs fences the daemon's kill(), gives its
# mkdir/rmdir cgroupfs rules, notes what it writes (fuzz/standin.h); the log is quiet through
# log_set_output(), no wrap.
FUZZ_EXTRA_requests  := $(B)/fuzz/standin.o
FUZZ_LDWRAP_requests := -Wl,--wrap=kill,--wrap=mkdirat,--wrap=unlinkat,--wrap=cgfs_write \
                        -Wl,--wrap=inotify_init1,--wrap=inotify_add_watch
# Every harness is linked against both archives (the daemon's main() left out);
# the linker takes what it uses.
FUZZ_ARCHIVES := $(B)/libcgctld-internal.a $(B)/libproto.a
# fuzz_entries: libcgctl's decoders (its objects, internal names and all), before the archives it needs.
FUZZ_ARCHIVES_entries := $(FUZZ_B)/libcgctl-objs.a

# The harnesses reach the daemon's headers; their warnings are errors (WERROR=0 relaxes).
$(B)/fuzz/%.o: XCFLAGS += -Idaemon

fuzz-build: $(FUZZ_BINS)

$(FUZZ_B)/libcgctl-objs.a: $(LIB_OBJS)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(FUZZ_B)/fuzz_requests: $(FUZZ_EXTRA_requests) $(B)/fuzz/sweep.o
$(FUZZ_B)/fuzz_ledger: $(B)/fuzz/sweep.o
$(FUZZ_B)/fuzz_entries: $(FUZZ_ARCHIVES_entries)
$(FUZZ_B)/fuzz_%: $(B)/fuzz/fuzz_%.o $(FUZZ_ARCHIVES)
	$(Q)$(call say,LD      $@)$(CC) $(CFLAGS) -fsanitize=fuzzer $(XLDFLAGS) $(LDFLAGS) $(FUZZ_LDWRAP_$*) -o $@ $(filter %.o,$^) \
		$(FUZZ_ARCHIVES_$*) $(FUZZ_ARCHIVES) $(FUZZ_LIBS)

# Ledger seeds come from the ledger's own writer, so their crcs and shapes are real.
$(FUZZ_B)/gen_ledger_seeds: $(B)/fuzz/gen_ledger_seeds.o $(FUZZ_ARCHIVES)
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

# List replies come from the daemon's Entry writer (daemon/entry_json.c) and vl_reply_format().
$(FUZZ_B)/gen_entries_seeds: $(B)/fuzz/gen_entries_seeds.o $(FUZZ_ARCHIVES)
	$(Q)$(CC) $(CFLAGS) $(XLDFLAGS) $(LDFLAGS) -o $@ $^ $(FUZZ_LIBS)

fuzz-seeds: $(FUZZ_B)/gen_ledger_seeds $(FUZZ_B)/gen_entries_seeds
	$(Q)$(FUZZ_B)/gen_ledger_seeds fuzz/corpus/ledger
	$(Q)mkdir -p fuzz/corpus/entries && $(FUZZ_B)/gen_entries_seeds fuzz/corpus/entries
endif
else
# From the plain make: the sanitizer tree's make builds the harnesses (with its
# test programs: asan-build, one make, so that no object is built twice at once).
fuzz-build: asan-build
$(FUZZ_BINS): asan-build ;
fuzz-seeds:
	+$(Q)$(ASAN_MAKE) fuzz-seeds
endif

# libFuzzer's flags for harness $(1): limits, findings under build/asan/fuzz/crashes/.
fuzz_runflags = -max_len=$(FUZZ_MAXLEN_$(1)) -timeout=10 -rss_limit_mb=2048 $(FUZZ_VP_$(1)) \
                -artifact_prefix=$(FUZZ_B)/crashes/$(1)- -print_final_stats=1 \
                $(if $(wildcard fuzz/dict/$(1).dict),-dict=fuzz/dict/$(1).dict) $(FUZZ_FLAGS)

# The seeds of harness NAME (-seed_inputs: a comma between two).
$(foreach n,$(FUZZ_NAMES),$(eval FUZZ_SEEDS_$(n) := $(wildcard fuzz/corpus/$(n)/*)))
comma := ,
space := $(empty) $(empty)

# fuzz-NAME: the repository corpus is only read; new inputs land in build/asan/fuzz/corpus-NAME.
# check-fuzz-NAME: one run, every seed (a regression test: -seed_inputs, so that
# nothing is written beside them) then the smoke's mutations. libFuzzer's -runs
# counts the seeds' runs too, and runs a seed twice when it may leak: twice the
# seeds, the empty input, then the mutations. A crash before "INITED" is a seed's.
define fuzz_rules
.PHONY: fuzz-$(1) check-fuzz-$(1)
fuzz-$(1): $(FUZZ_B)/fuzz_$(1)
	@mkdir -p $(FUZZ_B)/corpus-$(1) $(FUZZ_B)/crashes
	$(Q)cp -n fuzz/corpus/$(1)/* $(FUZZ_B)/corpus-$(1)/ 2>/dev/null || true
	$(Q)$(FUZZ_B)/fuzz_$(1) $$(call fuzz_runflags,$(1)) -max_total_time=$(FUZZ_SECONDS) \
		$$(if $$(filter-out 1,$(FUZZ_JOBS)),-fork=$(FUZZ_JOBS)) $(FUZZ_B)/corpus-$(1)
	$(Q)$$(if $$(filter 1,$(FUZZ_MERGE)),$(FUZZ_B)/fuzz_$(1) -merge=1 $$(call fuzz_runflags,$(1)) \
		fuzz/corpus/$(1) $(FUZZ_B)/corpus-$(1),true)

check-fuzz-$(1): $(FUZZ_B)/fuzz_$(1) | $(FUZZ_B)/crashes
	$(Q)$(FUZZ_B)/fuzz_$(1) $$(call fuzz_runflags,$(1)) \
		$$(if $$(FUZZ_SMOKE_SECONDS),-max_total_time=$$(FUZZ_SMOKE_SECONDS),-runs=$$$$(( 2 * $$(words $$(FUZZ_SEEDS_$(1))) + 1 + $$(FUZZ_SMOKE_RUNS_$(1)) ))) \
		-seed_inputs=$$(subst $$(space),$$(comma),$$(FUZZ_SEEDS_$(1))) >$(FUZZ_B)/check-$(1).log 2>&1 || { \
		tail -n 60 $(FUZZ_B)/check-$(1).log; grep -q INITED $(FUZZ_B)/check-$(1).log && what=crash || what="a seed fails"; \
		echo "fuzz_$(1): $$$$what (log: $(FUZZ_B)/check-$(1).log), reproducer in $(FUZZ_B)/crashes/" >&2; exit 1; }; \
		sed -n 's/^stat::number_of_executed_units: *\(.*\)/  FUZZ    fuzz_$(1): no crash in \1 runs ($(words $(FUZZ_SEEDS_$(1))) seeds)/p' \
		$(FUZZ_B)/check-$(1).log
endef
$(foreach n,$(FUZZ_NAMES),$(eval $(call fuzz_rules,$(n))))

$(FUZZ_B)/crashes:
	$(Q)mkdir -p $@

fuzz: $(addprefix fuzz-,$(FUZZ_NAMES))
check-fuzz: $(addprefix check-fuzz-,$(FUZZ_NAMES))
