# SPDX-License-Identifier: MIT
# t_go.sh: the Go client (go/, compiled test binary) and examples/go-runtime as the test user against a real cgctld.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# A listener owned by nobody (neither the test user nor root): the Go client must refuse it.
go_foreign_listener() {
	local dir=$CGT_TMP/foreign
	mkdir -p "$dir" && chmod 0777 "$dir" || return 1
	rm -f "$dir/sock"
	setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -S -c '
import socket, sys, time
s = socket.socket(socket.AF_UNIX); s.bind(sys.argv[1]); s.listen(4)
import os; os.chmod(sys.argv[1], 0o777)
c, _ = s.accept(); time.sleep(5)' "$dir/sock" </dev/null >/dev/null 2>&1 &
	cgt_track_pid "$!"
	local i=0
	until [ -S "$dir/sock" ]; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && return 1
		cgt_nap 0.05
	done
	FOREIGN_SOCK=$dir/sock
}

# A root-owned setuid copy of program $1 (id, sleep) in the run's scratch bin/
# (TestIntegrationStartInCgroupSetuid); prints its path.
go_setuid_copy() {
	local p=$CGT_TMP/bin/setuid-$1
	install -o root -g root -m 04755 "$(type -P "$1")" "$p" && printf '%s\n' "$p"
}

test_go_client() {
	local t suid ssleep
	cgt_user_bin tests/integration/cgctl-go.test || { skip "Go client not built (make check-go)"; return; }
	t=$CGT_USER_BIN
	suid=$(go_setuid_copy id) && ssleep=$(go_setuid_copy sleep) || { fail "cannot make setuid copies"; return 1; }
	# A degraded daemon (root-owned root) for NoDelegation, then the real one.
	cgt_mkcg "$CGT_SCRATCH/rootowned" root || return 1
	cgt_mkcg "$CGT_SCRATCH/deghome" || return 1
	cgt_daemon_start "$CGT_SCRATCH/deghome" --cgroup-root "$CGT_SCRATCH/rootowned" --socket "$CGT_RUN/deg.sock" || return 1
	local deg=$DSOCK
	cgt_daemon_start "" || return 1
	go_foreign_listener || { fail "could not start the foreign listener"; return 1; }
	if ! cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$DSOCK" CGCTL_DEGRADED_SOCKET="$deg" \
		CGCTL_FOREIGN_SOCKET="$FOREIGN_SOCK" CGCTL_SETUID_PROG="$suid" CGCTL_SETUID_SLEEP="$ssleep" "$t" -test.v -test.count=1 -test.run 'Integration' \
		>"$CGT_TMP/go.out" 2>&1; then
		cat "$CGT_TMP/go.out"
		fail "go test failed"
		return 1
	fi
	cat "$CGT_TMP/go.out"
	# Every integration test ran (none skipped, bar the one that stops the daemon).
	local skipped
	skipped=$(grep -c -- '--- SKIP' "$CGT_TMP/go.out")
	[ "$skipped" = 1 ] || fail "$skipped Go tests skipped, want 1 (StopEndsWatch)" || return 1
	grep -q -- '--- PASS: TestIntegrationStartInCgroup' "$CGT_TMP/go.out" || fail "StartInCgroup did not pass" || return 1
	grep -q -- '--- PASS: TestIntegrationStartInCgroupSetuid' "$CGT_TMP/go.out" ||
		fail "StartInCgroup of a setuid program did not pass" || return 1
	cgt_tree
	[ -z "${CGT_TREE#./cgctld.leaf}" ] || fail "left in the managed root: ${CGT_TREE//$'\n'/ }" || return 1
}

# AttachProcess of a process already waited for, whose pid another has taken:
# the test binary in a user and pid namespace of its own, where it hands the
# pid on at once (ns_last_pid); the daemon sees the test user through it.
test_go_attach_waited_process() {
	local t
	cgt_user_bin tests/integration/cgctl-go.test || { skip "Go client not built (make check-go)"; return; }
	t=$CGT_USER_BIN
	cgt_daemon_start "" || return 1
	cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$DSOCK" CGCTL_PIDNS=1 \
		unshare --user --map-root-user --pid --fork --mount-proc \
		"$t" -test.v -test.count=1 -test.run 'PidnsAttachProcessWaited' >"$CGT_TMP/go.out" 2>&1
	local rc=$?
	cat "$CGT_TMP/go.out"
	[ "$rc" = 0 ] && grep -q -- '--- PASS: TestPidnsAttachProcessWaited' "$CGT_TMP/go.out" ||
		fail "AttachProcess of a process already waited for did not refuse" || return 1
}

test_go_watch_ends_on_stop() {
	local t
	cgt_user_bin tests/integration/cgctl-go.test || { skip "Go client not built (make check-go)"; return; }
	t=$CGT_USER_BIN
	cgt_daemon_start "" || return 1
	cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$DSOCK" CGCTL_STOP_PID="$DPID" "$t" -test.v -test.count=1 \
		-test.run 'StopEndsWatch' >"$CGT_TMP/go.out" 2>&1
	local rc=$?
	cat "$CGT_TMP/go.out"
	[ "$rc" = 0 ] && grep -q -- '--- PASS: TestIntegrationStopEndsWatch' "$CGT_TMP/go.out" ||
		fail "a watch did not end cleanly with a stopping event when cgctld stopped" || return 1
}

test_go_example_runtime() {
	local ex name=goexrt
	cgt_user_bin examples/go-runtime || { skip "Go example not built (make check-go)"; return; }
	ex=$CGT_USER_BIN
	cgt_daemon_start "" || return 1
	cgt_as_user_in "$CGT_WORK" "$ex" --socket "$DSOCK" "$name" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "examples/go-runtime $name"
	expect_rc 0 "examples/go-runtime" || return 1
	cgt_text_has_line "$OUT" "created $name" || fail "no 'created $name'" || return 1
	cgt_text_has_line "$OUT" "init cgroup $(cgt_cg_relpath "$CGT_MROOT/$name")" || fail "the init did not start in $name" || return 1
	cgt_text_has_line "$OUT" "frozen true" || fail "not frozen" || return 1
	cgt_text_has_line "$OUT" "thawed, frozen false" || fail "not thawed" || return 1
	grep -qx "destroyed $name (existed true)" <<<"$OUT" || fail "not destroyed" || return 1
	cgt_text_has_line "$OUT" "init killed by signal 9" || fail "the init was not killed" || return 1
	expect_no_dir "$CGT_MROOT/$name" || return 1
}
