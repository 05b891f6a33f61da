# SPDX-License-Identifier: MIT
# t_autoremove.sh: an auto_remove entry is collected once its processes are gone, whatever the daemon missed.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Wait up to 5 s for managed cgroup $1 to go.
wait_no_dir() {
	local i=0
	while [ -d "$CGT_MROOT/$1" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	expect_no_dir "$1" "${2:-}"
}

test_autoremove_attach_then_crash() {
	cgt_daemon_start "" || return 1
	local state=$DSTATE
	c create --auto-remove ar
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	# The daemon dies the moment Attach is answered: what it answered must hold.
	c attach ar "$SPID"
	expect_rc 0 || return 1
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	kill -KILL "$SPID"
	cgt_wait_gone "$SPID" || fail "the sleeper survived" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	wait_no_dir ar "an emptied auto_remove entry survived the restart" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

# For each pair NAME PID of "$@", send Attach(NAME, PID) and Kill(NAME, KILL) in
# one write on a connection of its own (pipelined): the process is gone before
# the daemon looks at cgroup.events again, so it may never see it populated.
# One python for every pair; OUT: a line "NAME REPLY REPLY" a pair.
attach_and_kill() {
	# shellcheck disable=SC2016
	cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c '
import json, socket, sys
m = lambda meth, p: json.dumps({"method": "io.cgctl.Manager." + meth, "parameters": p}).encode() + b"\0"
for name, pid in zip(sys.argv[2::2], sys.argv[3::2]):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(m("Attach", {"name": name, "pids": [int(pid)]}) + m("Kill", {"name": name, "signal": 9}))
    buf = b""
    while buf.count(b"\0") < 2:
        d = s.recv(65536)
        if not d:
            break
        buf += d
    s.close()
    print(name, buf.replace(b"\0", b" ").decode())
' "$DSOCK" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "Attach + Kill pipelined"
}

test_autoremove_attach_then_exit() {
	cgt_daemon_start "" || return 1
	local i pairs=() pids=()
	for i in 1 2 3 4 5; do
		c create --auto-remove "ar$i"
		expect_rc 0 || return 1
		cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
		pairs+=("ar$i" "$SPID") pids+=("$SPID")
	done
	attach_and_kill "${pairs[@]}"
	local lines=()
	mapfile -t lines <<<"$OUT"
	for i in 1 2 3 4 5; do
		case ${lines[i - 1]:-} in "ar$i {"*'"attached"'*) ;; *) fail "Attach of ar$i failed: $OUT"; return 1 ;; esac
	done
	for i in "${pids[@]}"; do
		cgt_wait_gone "$i" || fail "the sleeper $i survived" || return 1
	done
	for i in 1 2 3 4 5; do
		wait_no_dir "ar$i" "an auto_remove entry whose process left at once stayed" || return 1
	done
}
