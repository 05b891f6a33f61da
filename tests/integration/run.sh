#!/bin/bash
# SPDX-License-Identifier: MIT
# run.sh: run every tests/integration/t_*.sh against the real daemon, real cgroup2 and a real unprivileged user.
#
# Usage: bash tests/integration/run.sh [PATTERN]   (PATTERN: a glob on test function names)
# Environment: CGCTL_BUILD (default build/), CGCTL_TEST_CLIENT_BUILD (the CLI and
#   test programs from another tree; default CGCTL_BUILD), CGCTL_TEST_USER (default cgctltest),
#   CGCTL_TEST_SUITES (space-separated file names, e.g. "t_hostile t_crash"; default: all),
#   CGCTL_TEST_VERBOSE=1 (print every test's transcript), CGCTL_TEST_TIMEOUT (seconds),
#   CGCTL_TEST_LANES=N (run the files in N parallel lanes, see lanes.sh; default 1);
#   in lanes, CGCTL_TEST_ASAN_BUILD=DIR adds a second pass on DIR's binaries over the
#   files of CGCTL_TEST_ASAN_SUITES (DIR's daemon, this run's clients), with CGCTL_TEST_ASAN_ENV's VAR=VALUE words
#   (sanitizer options), sharing the lanes (its lines marked [asan]).
# Each verdict line ends with the test's time, each file with "-- t_x.sh: N tests in Ts";
# the last line is always "N passed, N failed, N skipped".

# shellcheck source-path=SCRIPTDIR
set -u
# No core files: a process a test crashes on purpose (or a daemon gdb held when the test failed)
# wrote one into the directory make ran in (core_pattern "core").
ulimit -S -c 0
# Absolute paths by cd in this shell and back: every lane and pass starts this
# script, and each $(cd ... && pwd) was a fork.
CGT_START_DIR=$PWD
HERE=${BASH_SOURCE[0]%/*}
[ "$HERE" != "${BASH_SOURCE[0]}" ] || HERE=.
cd "$HERE" && HERE=$PWD && cd ../.. && TOP=$PWD && cd "$CGT_START_DIR" || exit 1
BUILD=${CGCTL_BUILD:-$TOP/build}
if cd "$BUILD" 2>/dev/null; then BUILD=$PWD; else BUILD=$TOP/build; fi
cd "$CGT_START_DIR" || exit 1
PATTERN=${1:-*}
export LC_ALL=C

# shellcheck source=lib.sh
. "$HERE/lib.sh"
# shellcheck source=lanes.sh
. "$HERE/lanes.sh"

cgt_preflight
# The daemon from BUILD, the CLI from the clients' tree (the ASan tree builds no CLI).
for f in "$BUILD/cgctld" "${CGCTL_TEST_CLIENT_BUILD:-$BUILD}/cgctl"; do
	if [ ! -x "$f" ]; then
		printf 'FAIL setup: %s missing (run make first)\n' "$f"
		printf '0 passed, 1 failed, 0 skipped\n'
		exit 1
	fi
done
# Whether test $1 may skip for reason $2: always, unless CGCTL_TEST_ALL_BUILT=1
# (make check, which builds every test program first): then not for a program
# "not built" (a missing build step once skipped two tests silently).
skip_allowed() {
	[ "${CGCTL_TEST_ALL_BUILT:-0}" = 1 ] || return 0
	case $2 in *"not built"*) return 1 ;; esac
	return 0
}

passed=0 failed=0 skipped=0

# Set CGT_CPU_MS to the CPU milliseconds (user + system) used so far by this
# shell's finished children: the tests' subshells and everything they waited
# for. Not in a $(...): that subshell has no children.
cgt_cpu_ms() {
	local u s
	times >"$CGT_TMP/times"
	{ read -r _ && read -r u s; } <"$CGT_TMP/times"
	cgt_ms "$u"
	CGT_CPU_MS=$CGT_MS
	cgt_ms "$s"
	CGT_CPU_MS=$((CGT_CPU_MS + CGT_MS))
}

# Set CGT_MS to the milliseconds in a "times" figure like 1m2.345s.
cgt_ms() {
	local m=${1%%m*} sec=${1#*m}
	sec=${sec%s}
	CGT_MS=$((m * 60000 + 10#${sec%.*} * 1000 + 10#${sec#*.}))
}

# Seconds (one decimal) since $1, an $EPOCHREALTIME reading.
cgt_elapsed() {
	cgt_elapsed_v "$1"
	printf '%s\n' "$CGT_ELAPSED"
}

# Set CGT_ELAPSED to cgt_elapsed's figure (no $(...): a fork a test saved).
cgt_elapsed_v() {
	local now=${EPOCHREALTIME/./} then=${1/./} d
	d=$(((now - then) / 100000))
	CGT_ELAPSED=$((d / 10)).$((d % 10))
}

# Set CGT_FORKS to the processes the machine has created since boot
# (/proc/stat's "processes"): a file's count is the difference, which is
# load-independent but counts every process of the machine, the other lanes'
# and other users' too (exact with one lane on an idle machine).
cgt_forks() {
	local k v
	CGT_FORKS=0
	while read -r k v; do
		[ "$k" = processes ] || continue
		CGT_FORKS=$v
		return 0
	done </proc/stat
}

# Run one test function in a subshell with its own transcript; print the verdict.
run_one() {
	local file=$1 fn=$2 name=${2#test_} rc reason transcript=$CGT_TMP/transcript t0=$EPOCHREALTIME took
	CGT_REASON=$CGT_TMP/reason
	: >"$CGT_REASON"
	: >"$CGT_TMP/daemon-logs"
	(
		# shellcheck disable=SC2034 # lib.sh tracks this test's processes here
		CGT_PIDS=()
		# shellcheck source=/dev/null
		. "$file"
		"$fn"
		rc=$?
		cgt_test_teardown
		exit "$rc"
	) >"$transcript" 2>&1 </dev/null
	rc=$?
	cgt_elapsed_v "$t0"
	took=$CGT_ELAPSED
	reason=""
	IFS= read -r reason <"$CGT_REASON"
	case $rc in
	0)
		if [ -s "$CGT_REASON" ]; then
			rc=1 # a recorded failure the test forgot to return
		else
			printf 'PASS %s [%ss]\n' "$name" "$took"
			passed=$((passed + 1))
		fi
		;;
	77)
		if skip_allowed "$name" "$reason"; then
			printf 'SKIP %s: %s [%ss]\n' "$name" "${reason:-skipped}" "$took"
			skipped=$((skipped + 1))
		else
			reason="make check builds every test program (CGCTL_TEST_ALL_BUILT=1), yet: $reason"
			rc=1
		fi
		;;
	esac
	if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
		printf 'FAIL %s: %s [%ss]\n' "$name" "${reason:-test returned $rc}" "$took"
		failed=$((failed + 1))
	fi
	if { [ "$rc" != 0 ] && [ "$rc" != 77 ]; } || [ "${CGCTL_TEST_VERBOSE:-0}" = 1 ]; then
		sed 's/^/    | /' "$transcript" | cut -c1-240 | tail -n 40
		local log
		while IFS= read -r log; do
			[ -s "$log" ] || continue
			printf '    daemon log %s (tail):\n' "${log##*/}"
			tail -n 15 "$log" | sed 's/^/    > /'
		done <"$CGT_TMP/daemon-logs"
	fi
	# Every test starts from an empty topology, whatever the last one left.
	cgt_test_residue "$name"
	cgt_topology || { printf 'FAIL setup: cannot rebuild the scratch topology\n'; failed=$((failed + 1)); }
}

# Warn about processes a test left behind in the scratch subtree.
cgt_test_residue() {
	cgt_cg_pids "$CGT_SCRATCH"
	[ -z "$CGT_CG_PIDS" ] || printf '    note: %s left processes behind: %s\n' "$1" "$CGT_CG_PIDS"
}

# The test files to run, in file order (CGCTL_TEST_SUITES narrows them).
cgt_files() {
	local file f
	for file in "$HERE"/t_*.sh; do
		[ -f "$file" ] || continue
		if [ -n "${CGCTL_TEST_SUITES:-}" ]; then
			f=${file##*/}
			case " $CGCTL_TEST_SUITES " in *" ${f%.sh} "*) ;; *) continue ;; esac
		fi
		printf '%s\n' "$file"
	done
}

# Run file $1's test functions matching PATTERN, in file order; print its time.
# In a lane: only those matching glob $2 as well (default: all), none matching
# a glob of list $3 (a part of the file another lane runs, lanes.sh).
run_file() {
	local file=$1 only=${2:-*} fn g ft0=$EPOCHREALTIME ran=0 what=${1##*/} except cpu0 forks0
	cgt_cpu_ms
	cpu0=$CGT_CPU_MS
	cgt_forks
	forks0=$CGT_FORKS
	read -ra except <<<"${3:-}"
	while IFS= read -r fn; do
		# shellcheck disable=SC2254 # PATTERN and the lanes' parts are globs on purpose
		case ${fn#test_} in $PATTERN) ;; *) continue ;; esac
		# shellcheck disable=SC2254
		case ${fn#test_} in $only) ;; *) continue ;; esac
		for g in "${except[@]}"; do
			# shellcheck disable=SC2254
			case ${fn#test_} in $g) continue 2 ;; esac
		done
		run_one "$file" "$fn"
		ran=$((ran + 1))
	done < <(sed -n 's/^\(test_[A-Za-z0-9_]*\)[[:space:]]*().*/\1/p' "$file")
	[ "$only" = "*" ] || what="$what ($only)"
	[ "$ran" = 0 ] && return
	cgt_cpu_ms
	cpu0=$((CGT_CPU_MS - cpu0))
	cgt_forks
	cgt_elapsed_v "$ft0"
	printf -- '-- %s: %s tests in %ss, CPU %d.%ds, forks %d%s%s\n' "$what" "$ran" "$CGT_ELAPSED" \
		"$((cpu0 / 1000))" "$((cpu0 % 1000 / 100))" "$((CGT_FORKS - forks0))" "${CGCTL_TEST_PASS:+ [$CGCTL_TEST_PASS]}" \
		"${CGCTL_TEST_LANE:+ (lane $CGCTL_TEST_LANE)}"
}

# Every reply the daemons sent, field for field and type for type against the
# interface files (parsed at run time: what others add is checked too).
check_replies() {
	local out=$CGT_TMP/varlink_check.out
	if [ ! -s "$CGCTLD_TEST_REPLY_LOG" ]; then
		return 0
	fi
	if /usr/bin/python3 -S "$HERE/varlink_check.py" "$CGCTLD_TEST_REPLY_LOG" "$TOP"/protocol/*.varlink >"$out" 2>&1; then
		printf 'PASS varlink_replies: %s\n' "$(tail -n 1 "$out")"
		passed=$((passed + 1))
	else
		printf 'FAIL varlink_replies: replies that differ from protocol/*.varlink\n'
		sed 's/^/    | /' "$out" | cut -c1-400 | tail -n 40
		failed=$((failed + 1))
	fi
}

# In parallel lanes: the lanes run the tests, this shell reports (lanes.sh).
if [ "${CGCTL_TEST_LANES:-1}" -gt 1 ] 2>/dev/null && [ -z "${CGCTL_TEST_LANE_DIR:-}" ]; then
	lanes_main "$CGCTL_TEST_LANES"
	exit
fi

if ! cgt_setup; then
	printf 'FAIL setup: could not build the scratch environment\n'
	printf '0 passed, 1 failed, 0 skipped\n'
	exit 1
fi

# Every daemon the tests start records each reply it sends here (test-only,
# daemon/replylog.c); check_replies holds them to the interface files at the
# end (a lane's log is the parent's to check).
CGCTLD_TEST_REPLY_LOG=$CGT_TMP/replies.jsonl
[ -z "${CGCTL_TEST_LANE_DIR:-}" ] || CGCTLD_TEST_REPLY_LOG=$CGCTL_TEST_LANE_DIR/replies.$CGCTL_TEST_LANE.jsonl
export CGCTLD_TEST_REPLY_LOG
install -m 0600 -o "$CGT_UID" -g "$CGT_GID" /dev/null "$CGCTLD_TEST_REPLY_LOG"

if [ -n "${CGCTL_TEST_LANE_DIR:-}" ]; then
	lane_run
	exit 0
fi
while IFS= read -r file; do
	run_file "$file"
done < <(cgt_files)
check_replies

printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
[ "$failed" = 0 ]
