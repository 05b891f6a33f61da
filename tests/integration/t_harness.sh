# SPDX-License-Identifier: MIT
# t_harness.sh: the harness itself: parallel lanes, their report and summary, condition waits.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# Make a harness tree in $CGT_TMP/h (run.sh, lib.sh, lanes.sh and the test
# files given as NAME=TEXT pairs); sets HT to its tests/integration.
harness_tree() {
	local pair
	HT=$CGT_TMP/h/tests/integration
	mkdir -p "$HT" "$CGT_TMP/h/protocol" || return 1
	cp "$HERE/run.sh" "$HERE/lib.sh" "$HERE/lanes.sh" "$HERE/varlink_check.py" "$HT/" || return 1
	cp "$TOP"/protocol/*.varlink "$CGT_TMP/h/protocol/" || return 1
	# Indented here, so that run.sh does not take them for this file's tests.
	for pair in "$@"; do
		printf '%s\n' "${pair#*=}" | sed 's/^[[:space:]]*//' >"$HT/${pair%%=*}"
	done
}

# Run the harness tree's run.sh as a run of its own (none of this run's lane
# settings), lanes $1, more environment in "${@:2}"; sets RC and OUT.
harness_run() {
	local lanes=$1
	shift
	env -u CGCTL_TEST_LANE_DIR -u CGCTL_TEST_LANE -u CGCTL_TEST_SUITES -u CGCTLD_TEST_REPLY_LOG \
		CGCTL_BUILD="$BUILD" CGCTL_TEST_LANES="$lanes" "$@" \
		timeout -k 5 60 bash "$HT/run.sh" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "run.sh with $lanes lanes"
}

# shellcheck disable=SC2016 # expanded in the harness tree's run
HARNESS_A='	test_a_pass() { :; }
	test_a_fail() { fail "deliberately"; }
	test_a_wait() { cgt_wait_for 0.3 test -e "$CGT_TMP/never"; }'
# shellcheck disable=SC2016
HARNESS_B='	test_b_skip() { skip "deliberately"; }
	test_b_pass() { touch "$CGT_TMP/soon"; cgt_wait_for 5 test -e "$CGT_TMP/soon"; }'

# In lanes, b_pass waits for a_pass, which another lane runs meanwhile.
# shellcheck disable=SC2016
HARNESS_A2=${HARNESS_A/'{ :; }'/'{ touch "$CGCTL_TEST_LANE_DIR/a_ran"; }'}
# shellcheck disable=SC2016
HARNESS_B2='	test_b_skip() { skip "deliberately"; }
	test_b_pass() { cgt_wait_for 20 test -e "$CGCTL_TEST_LANE_DIR/a_ran"; }'

# Two lanes at once: every verdict of every lane in the summary, each file (or
# part) in one block in function order, each test and file timed, the summary last.
test_harness_lanes_report() {
	harness_tree "t_a.sh=$HARNESS_A2" "t_b.sh=$HARNESS_B2" || return 1
	harness_run 2 CGCTL_TEST_LANE_UNITS="t_b;t_a:a_wait;t_a"
	[ "$RC" = 1 ] || fail "run.sh with failing tests: exit $RC, want 1" || return 1
	[ "$(tail -n 1 <<<"$OUT")" = "2 passed, 2 failed, 1 skipped" ] ||
		fail "last line: '$(tail -n 1 <<<"$OUT")', want the summary of both lanes" || return 1
	[ "$(grep -E '^(PASS|FAIL|SKIP|--)' <<<"$OUT" | tail -n 1 | sed -E 's/ in [0-9]+\.[0-9]s$//')" = "-- 2 lanes" ] ||
		fail "the lanes' time is not the last line before the summary" || return 1
	local got want
	# One line a block (the lines up to its "-- file" line), the blocks sorted.
	got=$(grep -E '^(PASS|FAIL|SKIP|-- t_)' <<<"$OUT" | sed -E 's/ \[[0-9]+\.[0-9]s\]$//;
		s/ in [0-9]+\.[0-9]s, CPU [0-9]+\.[0-9]s, forks [0-9]+ \(lane [12]\)$/ (lane)/; s/^(FAIL a_wait: timed out after 0\.3s waiting for: test -e ).*never$/\1never/' |
		awk '{ b = b $0 "|" } /^-- / { print b; b = "" }' | sort)
	want='FAIL a_wait: timed out after 0.3s waiting for: test -e never|-- t_a.sh (a_wait): 1 tests (lane)|
PASS a_pass|FAIL a_fail: deliberately|-- t_a.sh: 2 tests (lane)|
SKIP b_skip: deliberately|PASS b_pass|-- t_b.sh: 2 tests (lane)|'
	[ "$got" = "$(sort <<<"$want")" ] || fail "blocks: $(tr '\n' ' ' <<<"$got")" || return 1
	grep -Eq '^PASS a_pass \[[0-9]+\.[0-9]s\]$' <<<"$OUT" || fail "no time after PASS a_pass" || return 1
}

# One lane (the default) gives the same verdicts, in file order, with the same summary.
test_harness_serial_report() {
	harness_tree "t_a.sh=$HARNESS_A" "t_b.sh=$HARNESS_B" || return 1
	harness_run 1
	[ "$RC" = 1 ] || fail "run.sh with failing tests: exit $RC, want 1" || return 1
	[ "$(grep -E '^(PASS|FAIL|SKIP)' <<<"$OUT" | cut -d' ' -f1-2 | tr '\n' ' ')" = \
		"PASS a_pass FAIL a_fail: FAIL a_wait: SKIP b_skip: PASS b_pass " ] || fail "verdicts out of order" || return 1
	[ "$(tail -n 1 <<<"$OUT")" = "2 passed, 2 failed, 1 skipped" ] || fail "last line: $(tail -n 1 <<<"$OUT")" || return 1
}

# A lane that dies (here: its file exits the lane's shell) is a failure, named, never a pass.
test_harness_lane_dies() {
	# shellcheck disable=SC2016 # $$ is the lane's shell, in the harness tree
	harness_tree "t_a.sh=	test_a_pass() { :; }" 't_b.sh=	test_b_die() { kill -TERM $$; }' || return 1
	harness_run 2
	[ "$RC" = 1 ] || fail "run.sh with a dead lane: exit $RC, want 1" || return 1
	grep -q '^FAIL lanes: no lane ran t_b ' <<<"$OUT" || fail "the file of the dead lane is not reported" || return 1
	grep -q '^PASS a_pass' <<<"$OUT" || fail "the other lane's test is missing" || return 1
	grep -q '^FAIL lane [12]: exit 143$' <<<"$OUT" || fail "the dead lane's exit is not reported" || return 1
	[ "$(tail -n 1 <<<"$OUT")" = "1 passed, 2 failed, 0 skipped" ] || fail "last line: $(tail -n 1 <<<"$OUT")" || return 1
}

# cgt_sleeper's process is the test user's when it returns: its pid reaches
# cgroup.procs before setpriv sets its uids, and cgt_sleeper returned then
# (a tenant's attach of it was refused as root's, under load). 30 of them,
# each looked at the moment cgt_sleeper returns.
test_harness_sleeper_is_the_users() {
	local i k ruid euid
	for ((i = 0; i < 30; i++)); do
		cgt_sleeper "$CGT_WORK" || fail "sleeper $i never reached the cgroup" || return 1
		while read -r k ruid euid _ && [ "$k" != Uid: ]; do :; done <"/proc/$SPID/status"
		[ "$ruid $euid" = "$CGT_UID $CGT_UID" ] ||
			fail "sleeper $i ($SPID) runs as uid $ruid/$euid when cgt_sleeper returns" || return 1
		kill "$SPID"
	done
}

# A process that crashes during a run leaves no core file where the run
# started (core_pattern "core": the crashing process's directory, which for a
# daemon or gdb is the one make ran in), however the caller set its limit.
test_harness_no_core_files() {
	local pattern
	read -r pattern </proc/sys/kernel/core_pattern || return 1
	case $pattern in '|'* | /*) skip "core_pattern is $pattern: no core file lands in the working directory"; return ;; esac
	# shellcheck disable=SC2016 # $$ is that bash's
	harness_tree 't_c.sh=	test_c_crash() { bash -c '"'"'kill -SEGV $$'"'"'; }' || return 1
	(cd "$CGT_TMP/h" && ulimit -c unlimited && harness_run 1) || return 1
	[ -z "$(find "$CGT_TMP/h" -maxdepth 1 -name 'core*' -print -quit)" ] ||
		fail "a core file was left: $(find "$CGT_TMP/h" -maxdepth 1 -name 'core*')"
}
