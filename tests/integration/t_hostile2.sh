# SPDX-License-Identifier: MIT
# t_hostile2.sh: a client that turns the daemon's own means against it (its process, its state).
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK, DPID... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Attach never moves cgctld itself into an entry: a Freeze of it would wedge
# the daemon (the freeze call never came back, nor did any other client's) and
# a Kill or destroy --kill end it, each from one client call.
test_hostile2_attach_daemon_itself() {
	local cg
	cgt_daemon_up || return 1
	cg=$(cgt_proc_cgroup "$DPID")
	c create box && expect_rc 0 || return 1
	c attach box "$DPID"
	expect_rc 1 "attach of cgctld's own pid" && expect_err PermissionDenied && expect_err "cgctld itself" || return 1
	c attach box "$DPID" --pidfd
	expect_rc 1 "attach of a pidfd of cgctld" && expect_err "cgctld itself" || return 1
	[ "$(cgt_proc_cgroup "$DPID")" = "$cg" ] || fail "cgctld was moved to $(cgt_proc_cgroup "$DPID")" || return 1
	c freeze box && expect_rc 0 && c thaw box && expect_rc 0 || return 1
	c destroy box --kill && expect_rc 0 || return 1
	kill -0 "$DPID" 2>/dev/null || fail "cgctld is gone" || return 1
	c status && expect_rc 0
}

# Write $CGT_TMP/selfsock.py: on socket $1, Create leased $2, then hand the
# daemon this very connection's socket: with a Watch call ("watch"), or with
# the first bytes of a next call ("partial"); then close it.
h2_write_selfsock() {
	cat >"$CGT_TMP/selfsock.py" <<'PY'
import array, socket, sys
path, name, mode = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
s.settimeout(5)
def reply():
    buf = b""
    while not buf.endswith(b"\0"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
    return buf
s.sendall(b'{"method":"io.cgctl.Manager.Create","parameters":{"name":"%s","lease":true}}\0' % name.encode())
print(reply()[:60], flush=True)
me = [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [s.fileno()]))]
watch = b'{"method":"io.cgctl.Manager.Watch","parameters":{},"more":true}\0'
if mode == "watch":
    s.sendmsg([watch], me)
    print(reply()[:60], flush=True)
else:
    s.sendmsg([b'{"method":"io.cgctl.Manager.GetSt'], me)
s.close()
PY
}

# A client that passes the daemon its own connection (SCM_RIGHTS) and goes:
# the daemon held the client's end itself, so the connection never ended: its
# lease was never released, its Watch and connection slots never freed (with a
# partial call, until the 10 s stall timer). Sockets are never pidfds and are
# closed on arrival; a call that takes no descriptors does not keep any.
test_hostile2_own_socket_passed_back() {
	local mode
	cgt_daemon_up || return 1
	h2_write_selfsock
	for mode in watch partial; do
		cgt_as_user_in "$CGT_WORK" timeout 10 /usr/bin/python3 -S "$CGT_TMP/selfsock.py" "$DSOCK" "l$mode" "$mode" \
			</dev/null >"$CGT_TMP/out" 2>"$CGT_TMP/err"
		cgt_collect "selfsock.py $mode"
		expect_rc 0 "selfsock.py $mode" || return 1
		# Not released: the daemon held the client's end of the connection itself.
		cgt_wait_for 5 test ! -d "$CGT_MROOT/l$mode" || return 1
	done
	c --json list && expect_rc 0 && expect_jq '. == []' || return 1
	c call Snapshot && expect_rc 0 && expect_jq '.status.watchers == 0'
}

# Attach of a zombie (exited, not yet reaped) by pid or by pidfd: the kernel
# takes its pid in cgroup.procs and moves nothing, and the daemon answered
# attached all the same. It is a process that has exited: InvalidValue.
test_hostile2_attach_zombie() {
	cgt_daemon_up || return 1
	c create z && expect_rc 0 || return 1
	cat >"$CGT_TMP/zombie.py" <<'PY'
import os, subprocess, sys, time
cli, sock = sys.argv[1:3]
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
for extra in ([], ["--pidfd"]):
    r = subprocess.run([cli, "--socket", sock, "attach", "z", str(pid)] + extra, capture_output=True, text=True)
    print("attach%s: exit %d: %s" % (" ".join([""] + extra), r.returncode, r.stderr.strip()), flush=True)
os.waitpid(pid, 0)
PY
	cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S "$CGT_TMP/zombie.py" "$CGCTL" "$DSOCK" >"$CGT_TMP/out" 2>&1
	cat "$CGT_TMP/out"
	grep -q '^attach: exit 1: .*InvalidValue' "$CGT_TMP/out" || fail "attach of a zombie by pid: $(head -n 1 "$CGT_TMP/out")" || return 1
	grep -q '^attach --pidfd: exit 1: .*InvalidValue' "$CGT_TMP/out" || fail "attach of a zombie by pidfd: $(tail -n 1 "$CGT_TMP/out")"
}
