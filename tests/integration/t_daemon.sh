# SPDX-License-Identifier: MIT
# t_daemon.sh: daemon lifecycle: restart with the ledger, single instance, degraded mode, peers, SIGTERM.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Start the daemon again on state dir $1. Once its managed root has children
# and controllers enabled, no process can join cgctld/ itself (no internal
# processes), so, like systemd's DelegateSubgroup=, the supervisor places it
# straight into its leaf and names the managed root.
restart() {
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$1"
}

test_restart_keeps_ledger() {
	cgt_daemon_start "" || return 1
	local state=$DSTATE gen names
	c create keep1 && c create keep2 && c create keep2/child && c create vanish
	expect_rc 0 || return 1
	c create
	gen=$OUT
	c --json list
	names=$(jq -c '[.[].name] | sort' <<<"$OUT")
	cgt_daemon_stop || fail "daemon did not stop on SIGTERM" || return 1
	[ "$DEXIT" = 0 ] || fail "daemon exited $DEXIT on SIGTERM" || return 1
	# Behind its back: one entry vanishes, one stranger appears.
	rmdir "$CGT_MROOT/vanish"
	mkdir "$CGT_MROOT/stray"
	restart "$state" || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq_all "[.[].name] | sort == ($names | map(select(. != \"vanish\")))" \
		".[] | select(.name == \"$gen\") | .generated == true" || return 1
	c --json status
	expect_jq_all '.ledger.entries == 4' \
		'.ledger.reconcile.dropped == ["vanish"]' \
		'.ledger.reconcile.unknown | index("stray") != null' || return 1
	expect_dir stray "reconcile must never delete unknown directories" || return 1
	c destroy keep1
	expect_rc 0 || return 1
	expect_no_dir keep1 "destroy after restart" || return 1
	c destroy keep2 --recursive
	expect_rc 0 || return 1
	expect_no_dir keep2 || return 1
	c destroy stray
	expect_rc 0 || return 1
	expect_dir stray "destroy removed a directory the ledger does not know" || return 1
}

test_restart_after_kill9() {
	cgt_daemon_start "" || return 1
	local state=$DSTATE
	c create durable
	expect_rc 0 || return 1
	kill -KILL "$DPID"
	wait "$DPID" 2>/dev/null
	# A stale socket file must not stop the next instance.
	restart "$state" || return 1
	c --json list
	expect_jq '[.[].name] == ["durable"]' || return 1
	c destroy durable
	expect_rc 0 || return 1
	expect_no_dir durable || return 1
}

test_restart_in_own_leaf() {
	cgt_daemon_start "" || return 1
	local state=$DSTATE leafcg
	c create kept
	cgt_daemon_stop || return 1
	# Started inside its reserved leaf (systemd DelegateSubgroup=cgctld.leaf)
	# without --cgroup-root, it must manage the leaf's parent, not the leaf.
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	leafcg=$(cgt_cg_relpath "$CGT_MROOT/cgctld.leaf")
	[ "$(cgt_proc_cgroup "$DPID")" = "$leafcg" ] || fail "daemon left its leaf" || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq_all ".managed_root == \"$CGT_MROOT\" and .leaf == \"cgctld.leaf\" and .delegated == true" \
		'.ledger.reconcile.dropped == [] and .ledger.reconcile.unknown == []' || return 1
	c --json list
	expect_jq '[.[].name] == ["kept"]' || return 1
	expect_no_dir cgctld.leaf/cgctld.leaf "daemon nested a leaf inside its leaf" || return 1
}

test_sigterm_exits_cleanly() {
	cgt_daemon_start "" || return 1
	[ -S "$DSOCK" ] || fail "no socket" || return 1
	cgt_daemon_stop || fail "daemon still running ${CGT_TIMEOUT}s after SIGTERM" || return 1
	[ "$DEXIT" = 0 ] || fail "exit status $DEXIT after SIGTERM, want 0" || return 1
	[ ! -e "$DSOCK" ] || fail "socket $DSOCK left behind" || return 1
	c status
	expect_rc 1 "status after the daemon stopped" || return 1
}

test_sigterm_twice_exits_cleanly() {
	# A second SIGTERM while cgctld stops (Ctrl-C of `make run`, then run.sh's own TERM; timeout(1)
	# signalling the group and the script) must not kill it halfway with the default action:
	# exit 0, socket removed, "stopped" said. gdb holds it in app_stop() while the second one comes.
	command -v gdb >/dev/null || { skip "no gdb"; return; }
	cgt_daemon_start "" || return 1
	# Emptied first: the wait below must not find an earlier test's gdb.out
	# (this lane's) before the background job's ">" truncates it.
	: >"$CGT_TMP/gdb.out"
	gdb -p "$DPID" -batch -ex 'handle SIGTERM nostop noprint pass' -ex 'break app_stop' -ex 'continue' \
		-ex "shell kill -TERM $DPID" -ex 'delete' -ex 'detach' >"$CGT_TMP/gdb.out" 2>&1 &
	local g=$!
	cgt_wait_for 20 cgt_has_match "$CGT_TMP/gdb.out" '^Breakpoint 1 at' || { cat "$CGT_TMP/gdb.out"; return 1; }
	sleep 0.5 # gdb goes from "break" to "continue"
	kill -TERM "$DPID"
	wait "$g"
	cat "$CGT_TMP/gdb.out"
	cgt_has_text "$CGT_TMP/gdb.out" 'Breakpoint 1, app_stop' || fail "gdb did not stop in app_stop" || return 1
	cgt_wait_gone "$DPID" || fail "daemon still running after two SIGTERMs" || return 1
	wait "$DPID"
	DEXIT=$?
	tail -n 3 "$DLOG"
	[ "$DEXIT" = 0 ] || fail "exit status $DEXIT after a second SIGTERM while stopping, want 0" || return 1
	[ ! -e "$DSOCK" ] || fail "socket $DSOCK left behind" || return 1
	tail -n 1 "$DLOG" | grep -q 'stopped' || fail "no 'stopped' line: $(tail -n 1 "$DLOG")" || return 1
}

# A start-up failure exits non-zero with a line that says what failed (it used to exit 1 silently).
test_startup_failure_says_why() {
	local long log
	long=$CGT_RUN/$(printf 'x%.0s' {1..120}).sock
	cgt_daemon_spawn "" --socket "$long"
	log=$DLOG
	cgt_wait_gone "$DPID" || fail "cgctld with an over-long socket path keeps running" || return 1
	if wait "$DPID"; then fail "cgctld exited 0 with an over-long socket path"; return 1; fi
	cgt_has_text "$log" "not started: cannot listen on $long: File name too long" ||
		fail "no line says what failed: $(tail -n 3 "$log")" || return 1
}

test_second_instance_refused() {
	cgt_daemon_start "" || return 1
	local first=$DPID sock=$DSOCK state=$DSTATE log
	cgt_mkcg "$CGT_SCRATCH/second"
	# Same state directory, another socket: the lock refuses it.
	cgt_daemon_spawn "$CGT_SCRATCH/second" --state-dir "$state" --socket "$CGT_RUN/second.sock" \
		--cgroup-root "$CGT_SCRATCH/second"
	log=$DLOG
	cgt_wait_gone "$DPID" || fail "second instance on the same state dir keeps running" || return 1
	if wait "$DPID"; then fail "second instance exited 0"; return 1; fi
	grep -qiE 'lock|running|already|busy' "$log" || fail "second instance's message: $(tail -n 2 "$log")" || return 1
	[ ! -e "$CGT_RUN/second.sock" ] || fail "second instance left a socket" || return 1
	# Same socket, another state directory: it must not steal the live socket.
	cgt_daemon_spawn "$CGT_SCRATCH/second" --state-dir "$CGT_STATES/other" --socket "$sock" \
		--cgroup-root "$CGT_SCRATCH/second"
	cgt_wait_gone "$DPID" || fail "second instance on the same socket keeps running" || return 1
	if wait "$DPID"; then fail "second instance on the same socket exited 0"; return 1; fi
	DPID=$first DSOCK=$sock
	kill -0 "$first" || fail "first instance died" || return 1
	c create stillhere
	expect_rc 0 "first instance after the attempts" || return 1
	expect_dir stillhere || return 1
}

# The socket path is the daemon's only while its socket is there: a file that is no socket is
# somebody's (refused, kept), and a daemon that stops leaves the socket another daemon bound there since.
test_socket_path_not_ours_kept() {
	local sock=$CGT_RUN/sock first log
	cgt_as_user_in "$CGT_WORK" sh -c 'echo precious >"$1"' sh "$sock" || fail "cannot write $sock" || return 1
	cgt_daemon_spawn "" --socket "$sock"
	log=$DLOG
	cgt_wait_gone "$DPID" || fail "cgctld keeps running on a path that holds a regular file" || return 1
	if wait "$DPID"; then fail "cgctld exited 0 on a path that holds a regular file"; return 1; fi
	[ "$(cat "$sock" 2>/dev/null)" = precious ] || fail "the file at the socket path was removed or changed" || return 1
	cgt_has_text "$log" "is not a socket; refusing to remove it" || fail "no line says why: $(tail -n 2 "$log")" || return 1
	rm -f "$sock"
	# A first daemon's socket is removed by hand and a second daemon listens there; the first stops.
	cgt_daemon_up --socket "$sock" || return 1
	first=$DPID
	rm -f "$sock"
	cgt_mkcg "$CGT_SCRATCH/second" && cgt_mkcg "$CGT_SCRATCH/second/leaf" || return 1
	cgt_daemon_start "$CGT_SCRATCH/second/leaf" --cgroup-root "$CGT_SCRATCH/second" --socket "$sock" || return 1
	cgt_daemon_stop "$first" || fail "the first daemon did not stop" || return 1
	[ -S "$sock" ] || fail "the first daemon removed the second one's socket at exit" || return 1
	c create stillhere && expect_rc 0 "the second daemon after the first stopped" || return 1
	[ -d "$CGT_SCRATCH/second/stillhere" ] || fail "stillhere is not the second daemon's"
}

test_degraded_mode() {
	local ro=$CGT_SCRATCH/rootowned
	cgt_mkcg "$ro" root || return 1
	cgt_mkcg "$CGT_SCRATCH/deghome" || return 1
	cgt_daemon_start "$CGT_SCRATCH/deghome" --cgroup-root "$ro" --socket "$CGT_RUN/deg.sock" || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq_all ".delegated == false and (.reason | type == \"string\" and length > 0)" \
		".managed_root == \"$ro\"" || return 1
	c create foo
	expect_rc 1 "create in degraded mode" || return 1
	expect_err NoDelegation || return 1
	[ ! -e "$ro/foo" ] || fail "foo created in a root-owned tree" || return 1
	c create
	expect_rc 1 "generated create in degraded mode" || return 1
	expect_err NoDelegation || return 1
	c destroy never-made
	expect_rc 0 "destroy in degraded mode" || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq 'length == 0' || return 1
	[ -z "$(find "$ro" -mindepth 1 -type d)" ] || fail "something appeared under the root-owned root" || return 1
	[ "$(cgt_proc_cgroup "$DPID")" = "$(cgt_cg_relpath "$CGT_SCRATCH/deghome")" ] ||
		fail "degraded daemon moved to $(cgt_proc_cgroup "$DPID")" || return 1
}

test_other_uid_refused() {
	local pub=$CGT_TMP/pub
	mkdir -m 0755 "$pub" && chown "$CGT_UID:$CGT_GID" "$pub"
	cgt_daemon_start "" --socket "$pub/cgctl.sock" || return 1
	# Take the file-system permission out of the way: only SO_PEERCRED is left.
	chmod 0666 "$pub/cgctl.sock"
	cgctl_as "$NOBODY_UID" "$NOBODY_GID" --socket "$DSOCK" status
	expect_rc 1 "status from uid $NOBODY_UID" || return 1
	cgctl_as "$NOBODY_UID" "$NOBODY_GID" --socket "$DSOCK" create evil
	expect_rc 1 "create from uid $NOBODY_UID" || return 1
	expect_no_dir evil || return 1
	# Refused by the daemon (SO_PEERCRED), not by the file system.
	grep -qiE "refus|denied|not allowed" "$DLOG" || fail "daemon log does not mention refusing uid $NOBODY_UID" || return 1
	# Root is allowed by the daemon (a raw client: root's cgctl talks to root's daemons only).
	OUT=$(timeout -k 1 "$CGT_TIMEOUT" /usr/bin/python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"method\":\"io.cgctl.Manager.GetStatus\"}\0")
b = b""
while not b.endswith(b"\0"):
    c = s.recv(65536)
    if not c:
        break
    b += c
print(b.rstrip(b"\0").decode())' "$DSOCK" 2>&1)
	expect_jq ".parameters.status.uid == $CGT_UID" || fail "status from root: $OUT" || return 1
	cgctl_root --socket "$DSOCK" --json status
	expect_rc 1 "root's cgctl against the user's daemon" || return 1
	c create fine
	expect_rc 0 || return 1
	expect_dir fine || return 1
}

# A line per Create and Destroy costs the daemon a write(2) each: only at -v.
test_daemon_op_lines_verbose_only() {
	cgt_daemon_start "" || return 1
	local state=$DSTATE
	c create quiet1 && c destroy quiet1
	expect_rc 0 || return 1
	! grep -q "created quiet1\|removed quiet1" "$DLOG" || fail "per-operation lines logged without -v" || return 1
	cgt_daemon_stop || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$state" -v || return 1
	c create loud1 && c destroy loud1
	expect_rc 0 || return 1
	cgt_has_text "$DLOG" "created loud1" || fail "no create line at -v" || return 1
	cgt_has_text "$DLOG" "removed loud1" || fail "no destroy line at -v" || return 1
}
