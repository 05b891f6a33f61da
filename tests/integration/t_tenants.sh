# SPDX-License-Identifier: MIT
# t_tenants.sh: a root cgctld serving two tenants (--allow-uid): owners, isolation, and whose processes Attach moves.
# shellcheck shell=bash disable=SC2153 # CGCTL, CGCTLD, SPID... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
#
# The daemon runs as root in a root-owned cgroup below the scratch root
# (rootd/, itself in rootd/cgctld.leaf) and allows the test user (tenant 1,
# CLI t1) and a second user (tenant 2, CLI t2); root's CLI is adm.

# The CLI as tenant 1, tenant 2, root, against the current daemon.
t1() { cgctl_u --socket "$DSOCK" "$@"; }
t2() { cgctl_as "$CGT_UID2" "$CGT_GID2" --socket "$DSOCK" "$@"; }
adm() { cgctl_root --socket "$DSOCK" "$@"; }

# Start the root daemon; "pidns" as $1 makes it PID 1 of a new pid namespace
# (with its own /proc); the array TN_OPTS holds more options, TN_PRE a command to run it with. Sets DPID, DSOCK, DSTATE, DLOG, TN_ROOT.
tn_up() {
	local dir pre=() i=0
	[ -n "${TN_OPTS+x}" ] || TN_OPTS=()
	cgt_setup_user2 || { fail "cannot create the second test user"; return 1; }
	TN_ROOT=$CGT_SCRATCH/rootd
	if [ ! -d "$TN_ROOT" ]; then
		cgt_mkcg "$TN_ROOT" root && cgt_mkcg "$TN_ROOT/cgctld.leaf" root || { fail "cannot make $TN_ROOT"; return 1; }
	fi
	dir=$(mktemp -d "$CGT_TMP/rootd.XXXXXX") && chmod 0755 "$dir" || { fail "mktemp failed"; return 1; }
	DSOCK=$dir/sock DSTATE=${TN_STATE:-$dir/state} DLOG=$CGT_LOGS/cgctld.${dir##*.}.log
	[ "${1:-}" = pidns ] && pre=(unshare --pid --fork --kill-child --mount-proc)
	[ -n "${TN_PRE+x}" ] && pre=("${TN_PRE[@]}" "${pre[@]}")
	printf '+ (root) %s cgctld --cgroup-root %s (log %s)\n' "${pre[*]}" "$TN_ROOT" "$DLOG"
	cgt_in_cg_bg "$TN_ROOT/cgctld.leaf" \
		"${pre[@]}" "$CGCTLD" --cgroup-root "$TN_ROOT" --socket "$DSOCK" --state-dir "$DSTATE" \
		--allow-uid "$CGT_UID" --allow-uid "$CGT_UID2" "${TN_OPTS[@]}" </dev/null >>"$DLOG" 2>&1
	DPID=$BGPID
	cgt_track_pid "$DPID"
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	until [ -S "$DSOCK" ]; do
		i=$((i + 1))
		kill -0 "$DPID" 2>/dev/null && [ "$i" -lt $((CGT_TIMEOUT * 20)) ] ||
			{ fail "root cgctld did not come up: $(tail -n 3 "$DLOG" | tr '\n' ' ')"; return 1; }
		cgt_nap 0.05
	done
	adm status && expect_rc 0 "status"
}

# Stop the root daemon (TERM reaches the daemon itself, or kills it with its namespace).
tn_down() {
	kill -TERM "$DPID" 2>/dev/null
	cgt_wait_gone "$DPID" || kill -KILL "$DPID" 2>/dev/null
	wait "$DPID" 2>/dev/null
	return 0
}

# Start `sleep 300` as uid $2, gid $3 in cgroup dir $1; sets SPID.
# Tenant 1's `cgctl create x --lease` in the background (BGPID), its output in $1 and $1.err,
# once it has printed x (holds the lease).
tn_lease_x() {
	cgt_user_bg_split "$CGT_WORK" "$1" "$1.err" "$CGCTL" --socket "$DSOCK" create x --lease
	cgt_wait_line "$1" '^x$' || fail "create --lease printed nothing: $(cat "$1.err")"
}

tn_sleeper() {
	local i=0 comm=""
	cgt_in_cg_bg "$1" setpriv --reuid="$2" --regid="$3" --clear-groups sleep 300 </dev/null >/dev/null 2>&1
	SPID=$BGPID
	cgt_track_pid "$SPID"
	# In the cgroup, and sleep already (setpriv has set its uids: the move comes first).
	until cgt_has_line "$1/cgroup.procs" "$SPID" && { read -r comm <"/proc/$SPID/comm"; } 2>/dev/null &&
		[ "$comm" = sleep ]; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "sleeper $SPID never reached $1"; return 1; }
		cgt_nap 0.02
	done
}

# Tenant 1, from outside cgroup dir $1, makes x0..x199 in it, each again once
# it is gone, until file $2 exists (background, BGPID; $CGT_TMP/spin.out says how many).
tn_spin_inside() {
	# shellcheck disable=SC2016
	cgt_user_bg "$CGT_WORK" "$CGT_TMP/spin.out" /usr/bin/python3 -S -c '
import os, sys
made = 0
while not os.path.exists(sys.argv[2]):
    for i in range(200):
        try:
            os.mkdir("%s/x%d" % (sys.argv[1], i))
            made += 1
        except OSError:
            pass
print("made", made, "cgroups")
' "$1" "$2"
}

# Process $1 is alive and still in cgroup dir $2.
expect_in() {
	kill -0 "$1" 2>/dev/null || fail "process $1 is gone" || return 1
	cgt_has_line "$2/cgroup.procs" "$1" || fail "process $1 was moved out of ${2#"$CGT_SCRATCH"/}: $(cgt_proc_cgroup "$1")"
}

# The last call was refused with PermissionDenied naming pid $1.
expect_denied_pid() {
	expect_rc 1 "attach $1" || return 1
	expect_err "PermissionDenied" "attach $1" || return 1
	expect_err "process $1" "attach $1"
}

test_tenants_attach_only_own_processes() {
	local rpid upid own
	tn_up || return 1
	t1 create box && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" 0 0 || return 1
	rpid=$SPID
	tn_sleeper "$CGT_WORK" "$CGT_UID2" "$CGT_GID2" || return 1
	upid=$SPID
	# Root's process by pid, another user's by pid and by pidfd: refused, nothing moved.
	t1 attach box "$rpid" && expect_denied_pid "$rpid" || return 1
	expect_err "does not belong to your uid" || return 1
	t1 attach box "$upid" --pidfd && expect_denied_pid "$upid" || return 1
	t1 attach box "$upid" && expect_denied_pid "$upid" || return 1
	# One bad pid among good ones: checked before anything moves.
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	own=$SPID
	t1 attach box "$own" "$rpid" && expect_denied_pid "$rpid" || return 1
	expect_in "$own" "$CGT_WORK" || return 1
	# kthreadd, for a tenant and for root.
	t1 attach box 2 && expect_denied_pid 2 || return 1
	expect_err "kernel thread" || return 1
	adm attach box 2 && expect_denied_pid 2 || return 1
	expect_in "$rpid" "$CGT_WORK" && expect_in "$upid" "$CGT_WORK" || return 1
	# The tenant's own processes move, by pid and by pidfd; kill reaches only them.
	t1 attach box "$own" && expect_rc 0 || return 1
	expect_in "$own" "$TN_ROOT/box" || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach box "$SPID" --pidfd && expect_rc 0 || return 1
	expect_in "$SPID" "$TN_ROOT/box" || return 1
	t1 kill box && expect_rc 0 || return 1
	cgt_wait_gone "$own" || fail "the tenant's own process survived kill" || return 1
	expect_in "$rpid" "$CGT_WORK" && expect_in "$upid" "$CGT_WORK" || return 1
	# An administrator moves anybody's process (but PID 1 and kernel threads).
	adm attach box "$upid" && expect_rc 0 || return 1
	expect_in "$upid" "$TN_ROOT/box"
}

test_tenants_attach_never_pid1() {
	local d who
	# PID 1 of the daemon's own pid namespace: here the daemon itself, not the host's init.
	tn_up pidns || return 1
	d=$(cat "/proc/$DPID/task/$DPID/children" 2>/dev/null) && d=${d%% *} && [ -n "$d" ] ||
		fail "no daemon below unshare $DPID" || return 1
	t1 create box && expect_rc 0 || return 1
	# By pidfd (what a client outside the daemon's pid namespace must pass): its PID 1 is refused.
	for who in t1 adm; do
		$who attach box "$d" --pidfd && expect_denied_pid 1 || return 1
		expect_err "PID 1" "$who attach --pidfd" || return 1
		# By number: our "1" is the host's init, which cgctld would read as itself; we are in a pid
		# namespace it cannot see, so it takes no numbers from us at all.
		$who attach box 1 && expect_rc 1 "$who attach box 1" && expect_err InvalidValue "$who attach box 1" &&
			expect_err "pid namespace" "$who attach box 1" || return 1
	done
	[ ! -s "$TN_ROOT/box/cgroup.procs" ] || fail "box took $(cat "$TN_ROOT/box/cgroup.procs")"
}

# Every entry-taking method, as tenant 1 on name $1: NotFound, as for a name that does not exist.
tn_all_not_found() {
	local name=$1 call
	for call in "freeze $name" "thaw $name" "kill $name" "stats $name" "set $name cgroup.max.descendants=5" \
		"list $name" "attach $name 4194303"; do
		# shellcheck disable=SC2086 # words on purpose
		t1 $call && expect_rc 1 "$call" && expect_err "NotFound" "$call" || return 1
		case $ERR in *"$name"*) ;; *) fail "$call: the error does not name $name: $ERR"; return 1 ;; esac
	done
	t1 call io.cgctl.Manager.OpenCgroup "{\"name\":\"$name\"}" && expect_rc 1 "OpenCgroup" &&
		expect_err "NotFound" "OpenCgroup $name"
}

test_tenants_isolation() {
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t1 create one && expect_rc 0 || return 1
	t1 create one/sub && expect_rc 0 || return 1
	t2 create two && expect_rc 0 || return 1
	# Each tenant lists its own; root lists all, with owners.
	t1 --json list && expect_rc 0 || return 1
	expect_jq '[.[].name] == ["one","one/sub"]' || return 1
	t2 --json list && expect_rc 0 || return 1
	expect_jq '[.[].name] == ["two"]' || return 1
	adm --json list && expect_rc 0 || return 1
	expect_jq "[.[] | [.name, .owner]] == [[\"one\",$CGT_UID],[\"one/sub\",$CGT_UID],[\"rootbox\",0],[\"two\",$CGT_UID2]]" ||
		return 1
	adm list && expect_rc 0 || return 1
	printf '%s\n' "$OUT" | grep -Eq "^two +$CGT_USER2 +active" || fail "no owner column for two: $OUT" || return 1
	printf '%s\n' "$OUT" | grep -Eq "^rootbox +root +active" || fail "no owner column for rootbox: $OUT" || return 1
	t1 list && expect_rc 0 || return 1
	case $OUT in *"$CGT_USER"*) fail "a tenant's own list shows an owner column: $OUT"; return 1 ;; esac
	# Root's and the other tenant's entries do not exist for tenant 1.
	tn_all_not_found rootbox && tn_all_not_found two && tn_all_not_found nosuch || return 1
	t1 --json destroy two --kill && expect_rc 0 || return 1
	expect_jq '.existed == false' || return 1
	t1 destroy rootbox --recursive --kill && expect_rc 0 || return 1
	expect_dir "$TN_ROOT/two" && expect_dir "$TN_ROOT/rootbox" || return 1
	# No child below another's entry.
	t1 create two/in && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 create rootbox/in && expect_rc 1 && expect_err PermissionDenied || return 1
	expect_no_dir "$TN_ROOT/two/in" && expect_no_dir "$TN_ROOT/rootbox/in" || return 1
	# A recursive destroy never reaches another owner's entry: nothing at all is touched.
	adm create one/adm && expect_rc 0 || return 1
	t1 destroy one --recursive --kill && expect_rc 1 && expect_err PermissionDenied || return 1
	expect_dir "$TN_ROOT/one/adm" && expect_dir "$TN_ROOT/one/sub" && expect_dir "$TN_ROOT/one" || return 1
	# Owners survive a restart (they are in the ledger).
	tn_down
	TN_STATE=$DSTATE tn_up || return 1
	t1 --json list && expect_rc 0 || return 1
	expect_jq '[.[].name] == ["one","one/sub"]' || return 1
	jq -e --argjson u "$CGT_UID2" '.entries[] | select(.name == "two") | .owner == $u' "$DSTATE/ledger.json" \
		>/dev/null 2>&1 || grep -q "\"name\":\"two\".*\"owner\":$CGT_UID2" "$DSTATE/journal.jsonl" ||
		fail "the ledger does not record two's owner" || return 1
	# The tenants' own happy path, and root acting on a tenant's entry.
	t2 freeze two && expect_rc 0 && t2 thaw two && expect_rc 0 || return 1
	t2 set two cgroup.max.descendants=5 && expect_rc 0 || return 1
	t2 --json destroy two && expect_rc 0 && expect_jq '.existed == true' || return 1
	adm destroy one --recursive && expect_rc 0 || return 1
	expect_no_dir "$TN_ROOT/one"
}

# Run "$@" as tenant 2 from workloads/; its exit status.
tn_as_t2() {
	local CGT_AS CGT_ENV
	cgt_as_prefix "$CGT_WORK" "$CGT_UID2" "$CGT_GID2" clear "$CGT_TIMEOUT"
	cgt_user_env
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$@" </dev/null
}

# The uid that owns file $1 is $2.
tn_owned_by() {
	local u
	u=$(stat -c %u "$1") || { fail "cannot stat $1"; return 1; }
	[ "$u" = "$2" ] || fail "${1#"$TN_ROOT"/} is owned by uid $u, not $2"
}

# A tenant's --delegate entry is handed over to it as systemd's Delegate= does: the
# directory and the kernel's delegatable files become its own, so its nested runtime makes
# cgroups inside, moves its processes between them and enables controllers; the entry's
# limits, a plain entry and an administrator's entry stay root's; the other tenant gets nothing.
test_tenants_delegate_handed_over() {
	local pid f ctl lim TN_OPTS=(--max-cgroups-per-uid 1000)
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	t1 create plain && expect_rc 0 || return 1
	adm create rootd --delegate && expect_rc 0 || return 1
	tn_owned_by "$TN_ROOT/d" "$CGT_UID" || return 1
	while read -r f; do
		[ -e "$TN_ROOT/d/$f" ] || continue
		tn_owned_by "$TN_ROOT/d/$f" "$CGT_UID" || return 1
	done </sys/kernel/cgroup/delegate
	tn_owned_by "$TN_ROOT/d/cgroup.max.descendants" 0 && tn_owned_by "$TN_ROOT/d/cgroup.freeze" 0 || return 1
	tn_owned_by "$TN_ROOT/plain" 0 && tn_owned_by "$TN_ROOT/plain/cgroup.procs" 0 || return 1
	tn_owned_by "$TN_ROOT/rootd" 0 || return 1
	# Bounded, in files it does not get, so that removing its inside stays short.
	read -r lim <"$TN_ROOT/d/cgroup.max.depth" && [ "$lim" = 64 ] || fail "d's cgroup.max.depth is $lim" || return 1
	read -r lim <"$TN_ROOT/d/cgroup.max.descendants" && [ "$lim" = 1000 ] ||
		fail "d's cgroup.max.descendants is $lim, not --max-cgroups-per-uid" || return 1
	t1 set d cgroup.max.descendants=max && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 set d cgroup.max.depth=65 && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 create d2 --delegate --set cgroup.max.descendants=1001 && expect_rc 1 && expect_err PermissionDenied || return 1
	expect_no_dir "$TN_ROOT/d2" || return 1
	t1 set d cgroup.max.descendants=10 && expect_rc 0 || return 1
	# The tenant's process, put in by the daemon, moved further in by the tenant itself.
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	pid=$SPID
	t1 attach d "$pid" && expect_rc 0 || return 1
	# shellcheck disable=SC2016
	cgt_as_user_in "$CGT_WORK" sh -c 'mkdir "$1/in" && echo "$2" >"$1/in/cgroup.procs"' sh "$TN_ROOT/d" "$pid" \
		</dev/null >/dev/null 2>&1 || fail "tenant 1 cannot use its delegated cgroup" || return 1
	expect_in "$pid" "$TN_ROOT/d/in" || return 1
	# Whichever controller the entry has (hugetlb alone on a hybrid host), the tenant enables it below.
	read -r ctl _ <"$TN_ROOT/d/cgroup.controllers"
	if [ -n "$ctl" ]; then
		cgt_as_user_in "$CGT_WORK" sh -c 'echo "+$2" >"$1"' sh "$TN_ROOT/d/cgroup.subtree_control" "$ctl" </dev/null \
			>/dev/null 2>&1 || fail "tenant 1 cannot enable $ctl in its delegated cgroup" || return 1
		read -r f <"$TN_ROOT/d/cgroup.subtree_control"
		[ "$f" = "$ctl" ] || fail "d's cgroup.subtree_control is '$f', not $ctl" || return 1
	else
		printf '    (no controller reaches d here: enabling one is not tried)\n'
	fi
	# Tenant 2 gets nothing of it; tenant 1 nothing inside its plain entry.
	tn_as_t2 mkdir "$TN_ROOT/d/t2" 2>/dev/null && fail "tenant 2 made a cgroup in tenant 1's delegated one" && return 1
	cgt_as_user_in "$CGT_WORK" mkdir "$TN_ROOT/plain/in" </dev/null >/dev/null 2>&1 &&
		fail "tenant 1 made a cgroup inside its plain entry" && return 1
	# Destroy takes it whole, with what the tenant made inside.
	t1 destroy d --kill && expect_rc 0 || return 1
	expect_no_dir "$TN_ROOT/d"
}

# A cgctld that does not run as root cannot hand a cgroup over to another uid: its tenant's
# --delegate create is refused and leaves nothing behind.
test_tenants_delegate_needs_root_daemon() {
	local pub
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	cgt_setup_user2 || { fail "cannot create the second test user"; return 1; }
	pub=$(mktemp -d "$CGT_TMP/tn-pub.XXXXXX") && chmod 0755 "$pub" && chown "$CGT_UID:$CGT_GID" "$pub" ||
		{ fail "cannot prepare $pub"; return 1; }
	cgt_daemon_up --socket "$pub/sock" --allow-uid "$CGT_UID2" || return 1
	# libcgctl talks only to root's or its own uid's daemon: the tenant speaks Varlink itself.
	# shellcheck disable=SC2016
	OUT=$(tn_as_t2 /usr/bin/python3 -S -c '
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
buf = b""
for p in ({"name": "d", "delegate": True}, {"name": "p"}):
    s.sendall(json.dumps({"method": "io.cgctl.Manager.Create", "parameters": p}).encode() + b"\0")
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("connection closed")
        buf += chunk
    reply, buf = buf.split(b"\0", 1)
    print(reply.decode())
' "$DSOCK" 2>&1)
	printf '%s\n' "$OUT" | sed 's/^/    reply: /'
	case ${OUT%%$'\n'*} in
	*'"error":"io.cgctl.Manager.PermissionDenied"'*'running as root'*) ;;
	*) fail "tenant 2's delegated create was not refused: $OUT"; return 1 ;;
	esac
	expect_no_dir "$CGT_MROOT/d" || return 1
	case ${OUT#*$'\n'} in
	*'"name":"p"'*) ;;
	*) fail "tenant 2's plain create failed: $OUT"; return 1 ;;
	esac
	t1 --json list && expect_rc 0 && expect_jq '[.[].name] == ["p"]' || return 1
	# The daemon's own user delegates as before.
	t1 create own --delegate && expect_rc 0 && expect_dir "$CGT_MROOT/own"
}

# Tenant 1's watch writing to file $1 is in place once one of its own creations (probeN) shows there.
tn_wait_watching() {
	local i=0
	until cgt_has_text "$1" '"name":"probe' 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 40 ] && { fail "watcher shows nothing: $(cat "$1.err")"; return 1; }
		t1 create "probe$i" >/dev/null
		cgt_nap 0.1
	done
}

test_tenants_watch_own_events() {
	local out=$CGT_TMP/watch.t1 i=0
	tn_up || return 1
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" watch --json
	# In place once one of its own creations shows.
	tn_wait_watching "$out" || return 1
	adm create rootbox && expect_rc 0 || return 1
	t2 create two && expect_rc 0 || return 1
	t2 freeze two && expect_rc 0 || return 1
	t2 destroy two && expect_rc 0 || return 1
	adm destroy rootbox && expect_rc 0 || return 1
	t1 create mark && expect_rc 0 || return 1
	i=0
	until cgt_has_text "$out" '"name":"mark"'; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the watcher never saw its own mark"; return 1; }
		cgt_nap 0.05
	done
	! grep -E '"name":"(rootbox|two)"' "$out" || fail "tenant 1 heard of others' entries" || return 1
}

test_tenants_attach_thread_id_refused() {
	local py=/usr/bin/python3 tid="" i=0
	[ -x "$py" ] || { skip "$py not installed"; return; }
	tn_up || return 1
	t1 create box && expect_rc 0 || return 1
	cgt_spawn_user_in "$CGT_WORK" "$py" -S -c \
		'import threading, time; threading.Thread(target=time.sleep, args=(300,)).start(); time.sleep(300)'
	until [ -n "$tid" ]; do
		tid=$(ls "/proc/$BGPID/task" 2>/dev/null | grep -vx "$BGPID" | head -n 1)
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the second thread of $BGPID never showed"; return 1; }
		[ -n "$tid" ] || cgt_nap 0.05
	done
	# A thread id is checked as what it is: a process id is asked for, nothing moves.
	t1 attach box "$tid" && expect_rc 1 && expect_err InvalidValue && expect_err "is a thread" || return 1
	expect_in "$BGPID" "$CGT_WORK" || return 1
	t1 attach box "$BGPID" && expect_rc 0 || return 1
	expect_in "$BGPID" "$TN_ROOT/box"
}

# Attach, as uid $1 (gid $2), a PIDFD_THREAD pidfd of thread $3 to entry $4: prints the reply.
tn_attach_thread_pidfd() {
	cgt_in_cg "$CGT_WORK" \
		timeout -k 2 "$CGT_TIMEOUT" setpriv --reuid="$1" --regid="$2" --clear-groups /usr/bin/python3 -S -c '
import array, json, os, socket, sys
fd = os.pidfd_open(int(sys.argv[2]), 0o200)  # PIDFD_THREAD
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
msg = {"method": "io.cgctl.Manager.Attach", "parameters": {"name": sys.argv[3], "pidfds": 1}}
s.sendmsg([json.dumps(msg).encode() + b"\0"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])
buf = b""
while not buf.endswith(b"\0"):
    d = s.recv(65536)
    if not d:
        break
    buf += d
print(buf.rstrip(b"\0").decode())' "$DSOCK" "$3" "$4" </dev/null
}

test_tenants_attach_thread_pidfd_refused() {
	local out=$CGT_TMP/percred rpid tid reply i=0
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	t1 create box && expect_rc 0 || return 1
	# A root process one thread of which runs with the tenant's uids (per-thread credentials,
	# as Samba's smbd uses them): a raw setresuid in that thread only.
	cgt_in_cg_bg "$CGT_WORK" /usr/bin/python3 -S -c '
import ctypes, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)
def run():
    libc.syscall(117, int(sys.argv[1]), int(sys.argv[1]), int(sys.argv[1]))  # SYS_setresuid, x86_64
    print(threading.get_native_id(), flush=True)
    time.sleep(300)
threading.Thread(target=run, daemon=True).start()
time.sleep(300)' "$CGT_UID" >"$out" 2>&1 </dev/null
	rpid=$BGPID
	cgt_track_pid "$rpid"
	until [ -s "$out" ]; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the per-thread-uid thread never showed: $(cat "$out")"; return 1; }
		cgt_nap 0.05
	done
	tid=$(head -n 1 "$out")
	grep -q "^Uid:[[:space:]]*$CGT_UID[[:space:]]" "/proc/$rpid/task/$tid/status" ||
		{ skip "no per-thread credentials here ($(uname -m))"; return; }
	# Its thread's pidfd (PIDFD_THREAD, Linux 6.9): checked as the thread, cgroup.procs would move root's process.
	reply=$(tn_attach_thread_pidfd "$CGT_UID" "$CGT_GID" "$tid" box)
	printf '+ tenant 1 attaches thread %s of root process %s: %s\n' "$tid" "$rpid" "$reply"
	case $reply in
	*'pidfd_open'* | *'Invalid argument'*) skip "no PIDFD_THREAD in this kernel"; return ;;
	*InvalidValue*"a thread's pidfd"*) ;;
	*) fail "a thread's pidfd was not refused: $reply"; return 1 ;;
	esac
	expect_in "$rpid" "$CGT_WORK" || return 1
	# Root too: a thread's pidfd is no way around the process rules (PID 1's threads).
	reply=$(tn_attach_thread_pidfd 0 0 "$tid" box)
	case $reply in *InvalidValue*"a thread's pidfd"*) ;; *) fail "root's thread pidfd was not refused: $reply"; return 1 ;; esac
	t1 kill box && expect_rc 0 || return 1
	expect_in "$rpid" "$CGT_WORK"
}

# The last call was not refused for the tenant's sake: it worked, or only the controller is missing here.
expect_not_denied() {
	case $RC:$ERR in
	0:* | *ControllerUnavailable*) ;;
	*) fail "$1: $ERR" ;;
	esac
}

test_tenants_weights_against_others() {
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t1 create box && t1 create box/in && expect_rc 0 || return 1
	# Beside root's cgroups a tenant cannot raise what the siblings share (cpu, io) nor take cpus.
	t1 set box cpu.weight=10000 && expect_rc 1 && expect_err PermissionDenied && expect_err cpu.weight || return 1
	t1 call SetResources '{"name":"box","resources":{"io":{"weight":1000}}}' && expect_rc 1 &&
		expect_err PermissionDenied || return 1
	t1 call SetResources '{"name":"box","resources":{"unified":{"cpuset.cpus.partition":"root"}}}' &&
		expect_rc 1 && expect_err PermissionDenied || return 1
	t1 call SetResources '{"name":"box","resources":{"unified":{"io.latency":"8:0 target=10"}}}' &&
		expect_rc 1 && expect_err PermissionDenied || return 1
	t2 create hot --set cpu.weight=5000 && expect_rc 1 && expect_err PermissionDenied || return 1
	expect_no_dir "$TN_ROOT/hot" || return 1
	# Lowering is fine; below its own entry it shares out its own part; root decides anything.
	t1 set box cpu.weight=50 && expect_not_denied "a tenant lowering its weight" || return 1
	t1 set box/in cpu.weight=10000 && expect_not_denied "a tenant's weight below its own entry" || return 1
	adm set box cpu.weight=10000 && expect_not_denied "root setting a tenant's weight" || return 1
	adm set rootbox cpu.weight=10000 && expect_not_denied "root setting its own weight"
}

test_tenants_memory_protection_against_others() {
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t1 create box && t1 create box/in && expect_rc 0 || return 1
	# Beside root's cgroups protection is shared out among the siblings: a tenant may claim none.
	t1 call SetResources '{"name":"box","resources":{"memory":{"low":"1073741824"}}}' && expect_rc 1 &&
		expect_err PermissionDenied && expect_err memory.low || return 1
	t1 call SetResources '{"name":"box","resources":{"memory":{"min":"max"}}}' && expect_rc 1 &&
		expect_err PermissionDenied && expect_err memory.min || return 1
	t1 call SetResources '{"name":"box","resources":{"unified":{"memory.low":"1G"}}}' && expect_rc 1 &&
		expect_err PermissionDenied || return 1
	t2 call Create '{"name":"hot","resources":{"memory":{"min":"1"}}}' && expect_rc 1 &&
		expect_err PermissionDenied || return 1
	expect_no_dir "$TN_ROOT/hot" || return 1
	# Limits bind only the tenant; 0 is the default; below its own entry it shares out its own part; root decides.
	t1 call SetResources '{"name":"box","resources":{"memory":{"low":"0","min":"0","high":"1073741824"}}}' &&
		expect_not_denied "a tenant with no protection and a limit" || return 1
	t1 call SetResources '{"name":"box/in","resources":{"memory":{"low":"1073741824"}}}' &&
		expect_not_denied "a tenant's protection below its own entry" || return 1
	adm call SetResources '{"name":"box","resources":{"memory":{"min":"1073741824"}}}' &&
		expect_not_denied "root protecting a tenant's entry" || return 1
	# And the name a tenant gives must not act on root's terminal (t_names.sh has the rest).
	t2 call Create '{"name":"x\u009b2J"}' && expect_rc 1 && expect_err InvalidName || return 1
	expect_no_dir "$TN_ROOT/x"$'\xc2\x9b''2J'
}

test_tenants_snapshot_own_only() {
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t1 create one && expect_rc 0 || return 1
	t2 create two && expect_rc 0 || return 1
	# Snapshot (what top shows) holds the caller's own entries only; root's holds all.
	t1 call Snapshot && expect_rc 0 || return 1
	expect_jq '[.cgroups[].name] == ["one"]' || return 1
	# Others' names are, to a tenant, names with no entry: NotFound, word for word as for a name nobody has.
	t1 call Snapshot '{"names":["rootbox","two"]}' && expect_rc 1 && expect_err NotFound || return 1
	case $ERR in *'no cgroup "rootbox"'*) ;; *) fail "Snapshot of another's name: $ERR"; return 1 ;; esac
	t1 call Snapshot '{"names":["nosuch"]}' && expect_rc 1 && expect_err 'no cgroup "nosuch"' || return 1
	t2 call Snapshot && expect_rc 0 || return 1
	expect_jq '[.cgroups[].name] == ["two"]' || return 1
	adm call Snapshot && expect_rc 0 || return 1
	expect_jq '[.cgroups[].name] == ["one","rootbox","two"]' || return 1
	# And so cgctl top.
	t1 top -b -n 1 -d 0.2 -s name && expect_rc 0 || return 1
	printf '%s\n' "$OUT" | grep -Eq '^one ' || fail "tenant 1's top does not show its own one" || return 1
	! printf '%s\n' "$OUT" | grep -Eq '^(rootbox|two) ' || fail "tenant 1's top shows others' entries" || return 1
}

test_tenants_pressure_own_only() {
	local name out=$CGT_TMP/pw.t1
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t2 create two && expect_rc 0 || return 1
	t1 create one && expect_rc 0 || return 1
	# A trigger on another's entry is NotFound, word for word as for no entry at all.
	for name in rootbox two nosuch; do
		t1 watch --pressure cpu=some:150ms/2s "$name" && expect_rc 1 "pressure on $name" || return 1
		expect_err "NotFound" && expect_err "no cgroup \"$name\" managed by cgctld" || return 1
	done
	adm call Snapshot && expect_rc 0 && expect_jq '.status.pressure_triggers == 0' || return 1
	[ -e "$TN_ROOT/one/cpu.pressure" ] || { skip "no cpu.pressure: the kernel has no PSI"; return; }
	# On its own entry the trigger is armed; that stream, watching all names, hears of its own entries only.
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" call --more Watch \
		'{"pressure":[{"name":"one","resource":"cpu","kind":"some","stall_us":150000,"window_us":2000000}]}'
	tn_wait_watching "$out" || return 1
	adm call Snapshot && expect_rc 0 && expect_jq '.status.pressure_triggers == 1' || return 1
	adm create rootbox2 && expect_rc 0 || return 1
	t2 freeze two && expect_rc 0 && t2 destroy two && expect_rc 0 || return 1
	t1 create mark && expect_rc 0 || return 1
	cgt_wait_line "$out" '"name":"mark"' || fail "the pressure watcher never saw its own mark" || return 1
	! grep -E '"name":"(rootbox2|two)"' "$out" || fail "tenant 1's pressure stream heard of others' entries" ||
		return 1
}

test_tenants_others_replaced_entry_not_probed() {
	tn_up || return 1
	adm create rootbox && expect_rc 0 || return 1
	t1 create one && expect_rc 0 || return 1
	# Another program replaces root's directory: only root's own acts may find that out.
	rmdir "$TN_ROOT/rootbox" && mkdir "$TN_ROOT/rootbox" || fail "cannot replace rootbox" || return 1
	# To tenant 1 it is NotFound, owner first: no identity probe, so no Replaced and nothing dropped.
	tn_all_not_found rootbox || return 1
	t1 --json destroy rootbox --kill && expect_rc 0 && expect_jq '.existed == false' || return 1
	t1 create rootbox/in && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 watch --pressure cpu=some:150ms/2s rootbox && expect_rc 1 && expect_err NotFound || return 1
	adm --json list && expect_rc 0 && expect_jq '[.[].name] == ["one","rootbox"]' || return 1
	# Root's own act proves it replaced, and drops it.
	adm freeze rootbox && expect_rc 1 && expect_err Replaced || return 1
	adm --json list && expect_rc 0 && expect_jq '[.[].name] == ["one"]' || return 1
	expect_dir "$TN_ROOT/rootbox"
}

test_tenants_lease_of_a_reused_name() {
	local out=$CGT_TMP/lease hpid vpid i=0
	tn_up || return 1
	# Tenant 1 takes a lease on x, ends x by hand, and keeps its lease connection open.
	tn_lease_x "$out.t1" || return 1
	hpid=$BGPID
	t1 destroy x && expect_rc 0 || return 1
	# Root makes its own leased x, with a process in it. Its holder lives until the test ends it
	# (tracked: the tear-down ends it too), not for one CLI timeout: under load 20-28 the rest of
	# the test took longer, the holder's timeout ended it, the lease went, and x with it.
	"$CGCTL" --socket "$DSOCK" create x --lease >"$out.adm" 2>"$out.adm.err" </dev/null &
	vpid=$!
	cgt_track_pid "$vpid"
	cgt_wait_line "$out.adm" '^x$' || fail "root's create --lease printed nothing: $(cat "$out.adm.err")" || return 1
	tn_sleeper "$CGT_WORK" 0 0 || return 1
	adm attach x "$SPID" && expect_rc 0 || return 1
	# Tenant 1's connection goes: its lease was on its own x, long gone, not on root's.
	kill -KILL "$hpid"
	wait "$hpid" 2>/dev/null
	until cgt_has_text "$DLOG" 'x: its lease holder went away'; do
		i=$((i + 1))
		[ "$i" -ge 20 ] && break
		cgt_nap 0.1
	done
	cgt_nap 0.3
	kill -0 "$vpid" 2>/dev/null || fail "root's lease holder ended early: $(cat "$out.adm.err")" || return 1
	expect_in "$SPID" "$TN_ROOT/x" || return 1
	adm --json list && expect_rc 0 && expect_jq '[.[].name] == ["x"]' || return 1
	kill -0 "$vpid" 2>/dev/null || fail "root's lease holder ended during the checks: $(cat "$out.adm.err")" || return 1
	kill -TERM "$vpid"
}

test_tenants_attach_not_out_of_others_entry() {
	local p
	tn_up || return 1
	# Root runs a job as tenant 1's uid in its own, limited entry; tenant 1 has a box of its own.
	adm create rj && expect_rc 0 || return 1
	adm set rj pids.max=50 >/dev/null
	t1 create box && expect_rc 0 || return 1
	t1 create box2 && expect_rc 0 || return 1
	tn_sleeper "$TN_ROOT/rj" "$CGT_UID" "$CGT_GID" || return 1
	p=$SPID
	# The process is tenant 1's, the cgroup root's: tenant 1 may not take it out (cgroup v2 would
	# not let it either: it cannot write the common ancestor's cgroup.procs).
	t1 attach box "$p" && expect_denied_pid "$p" || return 1
	t1 attach box "$p" --pidfd && expect_denied_pid "$p" || return 1
	expect_in "$p" "$TN_ROOT/rj" || return 1
	# Nor out of a cgroup of the managed root that is no entry (the daemon's own leaf).
	tn_sleeper "$TN_ROOT/cgctld.leaf" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach box "$SPID" && expect_denied_pid "$SPID" || return 1
	expect_in "$SPID" "$TN_ROOT/cgctld.leaf" || return 1
	# Between its own entries, and from outside the managed root, tenant 1's processes move.
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach box2 "$SPID" && expect_rc 0 || return 1
	t1 attach box "$SPID" && expect_rc 0 || return 1
	expect_in "$SPID" "$TN_ROOT/box" || return 1
	# Root moves it anywhere.
	adm attach box "$p" && expect_rc 0 || return 1
	expect_in "$p" "$TN_ROOT/box"
}

# Admin's Snapshot counts $1 Watch streams (the background ones are in place).
tn_wait_watchers() {
	local i=0
	until adm call Snapshot && jq -e ".status.watchers == $1" >/dev/null 2>&1 <<<"$OUT"; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "never $1 watchers: $OUT"; return 1; }
		cgt_nap 0.05
	done
}

# The last call was QuotaExceeded naming flag $1.
expect_quota() {
	expect_rc 1 "$1" && expect_err QuotaExceeded "$1" && expect_err "$1" "$1"
}

test_tenants_quota_per_uid() {
	local big out=$CGT_TMP/w.t1
	big="k=$(head -c 1500 /dev/zero | tr '\0' x)"
	# Two tenants: each may take a third of a global limit, so both together leave root a third.
	TN_OPTS=(--max-cgroups 6 --max-watchers 6 --max-ledger-size 8192)
	tn_up || return 1
	TN_OPTS=()
	t1 create a1 && expect_rc 0 && t1 create a2 && expect_rc 0 || return 1
	t1 create a3 && expect_quota --max-cgroups-per-uid || return 1
	t1 call Create '{"name":"a3"}' && expect_rc 1 && expect_jq '.limit == "entries-per-uid"' || return 1
	t2 create b1 && expect_rc 0 || return 1
	adm create r1 && expect_rc 0 && adm create r2 && expect_rc 0 || return 1
	# Bytes: tenant 2's labels run into its share of the ledger; root's the same labels do not.
	t2 create b2 --label "$big" && expect_rc 0 || return 1
	t2 destroy b1 && expect_rc 0 || return 1
	t2 create b3 --label "$big" && expect_quota --max-ledger-size-per-uid || return 1
	adm create r3 --label "$big" && expect_rc 0 || return 1
	# Destroying makes room again.
	t1 destroy a2 && expect_rc 0 && t1 create a4 && expect_rc 0 || return 1
	adm --json list && expect_rc 0 || return 1
	expect_jq '[.[].name] == ["a1","a4","b2","r1","r2","r3"]' || return 1
	# Watch streams: two for tenant 1, then refused; root and tenant 2 still watch.
	cgt_user_bg_split "$CGT_WORK" "$out.1" "$out.1.err" "$CGCTL" --socket "$DSOCK" watch --json
	cgt_user_bg_split "$CGT_WORK" "$out.2" "$out.2.err" "$CGCTL" --socket "$DSOCK" watch --json
	tn_wait_watchers 2 || return 1
	t1 watch --json && expect_quota --max-watchers-per-uid || return 1
	timeout -k 2 "$CGT_TIMEOUT" "$CGCTL" --socket "$DSOCK" watch --json >"$out.adm" 2>&1 </dev/null &
	cgt_track_pid $!
	tn_wait_watchers 3
}

# Wait for background holder $1 to exit; its status in WRC.
tn_reap() {
	local i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge $((CGT_TIMEOUT * 20)) ] && { fail "holder $1 did not exit"; return 1; }
		cgt_nap 0.05
	done
	wait "$1"
	WRC=$?
}

test_tenants_lease_holder_releases_only_its_entry() {
	local out=$CGT_TMP/holder hpid
	tn_up || return 1
	# Root's `create x --lease` holds x; x is destroyed behind its back and tenant 2 makes its own x.
	timeout -k 2 60 "$CGCTL" --socket "$DSOCK" create x --lease >"$out" 2>"$out.err" </dev/null &
	hpid=$!
	cgt_track_pid "$hpid"
	cgt_wait_line "$out" '^x$' || fail "create --lease printed nothing: $(cat "$out.err")" || return 1
	adm destroy x && expect_rc 0 || return 1
	t2 create x && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID2" "$CGT_GID2" || return 1
	t2 attach x "$SPID" && expect_rc 0 || return 1
	# The holder is told to stop: it lets go of its own x, long gone, never of tenant 2's.
	kill -TERM "$hpid"
	tn_reap "$hpid" || return 1
	[ "$WRC" = 0 ] || fail "create --lease exited $WRC after SIGTERM: $(cat "$out.err")" || return 1
	cgt_nap 0.3
	expect_in "$SPID" "$TN_ROOT/x" || return 1
	t2 --json list && expect_rc 0 && expect_jq '[.[].name] == ["x"]' || return 1
	# The same for `cgctl run`: its CMD moves to another entry, and tenant 1's other program
	# destroys x2 and makes it again, with a process of its own, before CMD ends.
	t1 create park && expect_rc 0 || return 1
	cgt_user_bg_split "$CGT_WORK" "$out.run" "$out.run.err" "$CGCTL" --socket "$DSOCK" run --name x2 -- sleep 2
	hpid=$BGPID
	cgt_wait_line "$TN_ROOT/x2/cgroup.procs" '^[0-9]+$' || fail "run's CMD never reached x2" || return 1
	t1 attach park "$(head -n 1 "$TN_ROOT/x2/cgroup.procs")" && expect_rc 0 || return 1
	t1 destroy x2 && expect_rc 0 && t1 create x2 && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach x2 "$SPID" && expect_rc 0 || return 1
	tn_reap "$hpid" || return 1
	[ "$WRC" = 0 ] || fail "run exited $WRC: $(cat "$out.run.err")" || return 1
	expect_in "$SPID" "$TN_ROOT/x2" || return 1
	t1 --json list && expect_rc 0 && expect_jq '[.[].name] == ["park","x2"]' || return 1
	t1 destroy x2 --kill && expect_rc 0 && t1 destroy park && expect_rc 0 || return 1
	# A holder whose entry is still there removes it, and it is gone once the holder exits.
	cgt_user_bg_split "$CGT_WORK" "$out.t1" "$out.t1.err" "$CGCTL" --socket "$DSOCK" create x3 --lease
	hpid=$BGPID
	cgt_wait_line "$out.t1" '^x3$' || fail "create --lease printed nothing: $(cat "$out.t1.err")" || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach x3 "$SPID" && expect_rc 0 || return 1
	kill -TERM "$hpid"
	tn_reap "$hpid" || return 1
	[ "$WRC" = 0 ] || fail "create --lease exited $WRC after SIGTERM: $(cat "$out.t1.err")" || return 1
	expect_no_dir "$TN_ROOT/x3" || return 1
	cgt_wait_gone "$SPID" || fail "the process in x3 survived its lease" || return 1
	t1 --json list && expect_rc 0 && expect_jq '. == []'
}

test_tenants_status_own_figures() {
	tn_up || return 1
	adm create r1 && expect_rc 0 && adm create r2 && expect_rc 0 || return 1
	t2 create b1 --label k=v && expect_rc 0 || return 1
	t1 create a1 && expect_rc 0 || return 1
	# GetStatus: a tenant counts its own entries and bytes, against its own share; no journal activity.
	t1 --json status && expect_rc 0 || return 1
	expect_jq_all '.ledger.entries == 1 and .ledger.journal_records == 0 and .ledger.journal_bytes == 0' \
		'.ledger.compactions == 0 and .ledger.last_compaction == null and .ledger.bytes > 0' \
		'.ledger.max_bytes == (134217728 / 3 | floor)' || return 1
	t2 --json status && expect_rc 0 && expect_jq '.ledger.entries == 1' || return 1
	adm --json status && expect_rc 0 || return 1
	expect_jq '.ledger.entries == 4 and .ledger.journal_records > 0 and .ledger.max_bytes == 134217728' || return 1
	t1 status && expect_rc 0 || return 1
	printf '%s\n' "$OUT" | grep -Eq '^Entries: +1$' || fail "tenant 1's status: $OUT" || return 1
	# Snapshot (cgctl top's header) the same: its own entries, connections, watchers.
	t1 call Snapshot && expect_rc 0 || return 1
	expect_jq '.status.entries == 1 and .status.connections == 1 and .status.journal_records == 0' || return 1
	adm call Snapshot && expect_rc 0 && expect_jq '.status.entries == 4' || return 1
	# A taken name: AlreadyExists, as it must be (names are one namespace, and every tenant
	# can list the managed root's directories), but neither state nor owner.
	t1 create r1 && expect_rc 1 && expect_err AlreadyExists || return 1
	case $ERR in *active* | *root* | *"$CGT_UID2"*) fail "the refusal tells more than that r1 is taken: $ERR"; return 1 ;; esac
	t1 create a1 && expect_rc 1 && expect_err "already exists (active)"
}

# The root daemon refuses state directory $1 (exit 1, within the timeout), its log saying $2.
tn_refused_state() {
	local log=$CGT_LOGS/cgctld.refused.$RANDOM.log rc
	printf '+ (root) cgctld --state-dir %s (log %s)\n' "$1" "$log"
	timeout -k 2 "$CGT_TIMEOUT" "$CGCTLD" --cgroup-root "$TN_ROOT" --socket "$CGT_TMP/refused.sock" \
		--state-dir "$1" --allow-uid "$CGT_UID2" </dev/null >"$log" 2>&1
	rc=$?
	[ "$rc" = 1 ] || fail "cgctld with state dir $1 exited $rc, want 1: $(tail -n 2 "$log")" || return 1
	grep -qF -- "$2" "$log" || fail "cgctld's refusal does not say '$2': $(tail -n 2 "$log")" || return 1
	[ ! -e "$CGT_TMP/refused.sock" ] || fail "cgctld listened anyway"
}

test_tenants_state_dir_parents_checked() {
	local d=$CGT_TMP/parents
	tn_up || return 1
	tn_down
	mkdir -p "$d/t2/sub" "$d/open" "$d/sticky" && chmod 0755 "$d" "$d/t2" "$d/t2/sub" || return 1
	# A parent the second user owns, however deep: it could swap the state directory.
	chown "$CGT_UID2" "$d/t2" || return 1
	tn_refused_state "$d/t2/sub/state" "its parent $d/t2 is owned by uid $CGT_UID2" || return 1
	# A parent anybody may write to, without the sticky bit; the same reached through a symlink.
	chmod 0777 "$d/open" || return 1
	tn_refused_state "$d/open/state" "its parent $d/open (mode 0777) is writable by others" || return 1
	ln -s "$d/open" "$d/link" || return 1
	tn_refused_state "$d/link/state" "its parent $d/open (mode 0777)" || return 1
	# A symlink the second user owns among the ancestors.
	ln -s "$d/sticky" "$d/t2/link2" && chown -h "$CGT_UID2" "$d/t2/link2" && chown 0 "$d/t2" || return 1
	tn_refused_state "$d/t2/link2/state" "its parent $d/t2/link2 is owned by uid $CGT_UID2" || return 1
	# Sticky, like /tmp: accepted, and the daemon works.
	chmod 1777 "$d/sticky" || return 1
	TN_STATE=$d/sticky/state tn_up || return 1
	t2 create ok && expect_rc 0
}

test_tenants_kill_freeze_not_below_into_others() {
	local rp
	tn_up || return 1
	# Root makes an entry of its own below tenant 1's, with root's process in it.
	t1 create box && expect_rc 0 || return 1
	adm create box/adm && expect_rc 0 || return 1
	tn_sleeper "$TN_ROOT/box/adm" 0 0 || return 1
	rp=$SPID
	# Kill and Freeze of box would reach it (cgroup.kill and cgroup.freeze act on the whole
	# subtree): refused, as a recursive destroy is, and nothing is signalled or frozen.
	t1 kill box && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 kill box --signal TERM && expect_rc 1 && expect_err PermissionDenied || return 1
	t1 freeze box && expect_rc 1 && expect_err PermissionDenied || return 1
	cgt_nap 0.2
	expect_in "$rp" "$TN_ROOT/box/adm" || return 1
	grep -q '^frozen 0' "$TN_ROOT/box/adm/cgroup.events" || fail "root's box/adm was frozen" || return 1
	# Thaw reaches nothing that is not frozen by its own cgroup.freeze: allowed. Root may do all.
	t1 thaw box && expect_rc 0 || return 1
	adm freeze box && expect_rc 0 && adm thaw box && expect_rc 0 || return 1
	# Once root's entry is gone, tenant 1's own box is its own again.
	adm destroy box/adm --kill && expect_rc 0 || return 1
	t1 freeze box && expect_rc 0 && t1 thaw box && expect_rc 0 && t1 kill box && expect_rc 0
}

# Write $CGT_TMP/conns.py: open $2 connections to socket $1, print how many were served, hold them until file $3 exists.
tn_write_conns() {
	cat >"$CGT_TMP/conns.py" <<'PY'
import json, os, socket, sys, time
path, n, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
held, served = [], 0
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    try:
        s.sendall(json.dumps({"method": "io.cgctl.Manager.GetStatus"}).encode() + b"\0")
        buf = b""
        while b"\0" not in buf:
            d = s.recv(65536)
            if not d:
                break
            buf += d
        served += b"\0" in buf
    except OSError:
        pass
    held.append(s)
print("served %d" % served, flush=True)
while not os.path.exists(stop):
    time.sleep(0.05)
PY
}

test_tenants_connections_share() {
	local out=$CGT_TMP/conns stop=$CGT_TMP/conns.stop p1 p2
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	# Two tenants may hold a third of the connections each, whatever the per-uid cap says.
	TN_OPTS=(--max-connections 9 --max-connections-per-uid 6)
	tn_up || return 1
	TN_OPTS=()
	tn_write_conns
	rm -f "$stop"
	cgt_user_bg_split "$CGT_WORK" "$out.1" "$out.1.err" /usr/bin/python3 -S "$CGT_TMP/conns.py" "$DSOCK" 6 "$stop"
	p1=$BGPID
	setpriv --reuid="$CGT_UID2" --regid="$CGT_GID2" --clear-groups \
		/usr/bin/python3 -S "$CGT_TMP/conns.py" "$DSOCK" 6 "$stop" </dev/null >"$out.2" 2>"$out.2.err" &
	p2=$!
	cgt_track_pid "$p2"
	cgt_wait_line "$out.1" '^served' && cgt_wait_line "$out.2" '^served' ||
		fail "the connection holders said nothing: $(cat "$out.1.err" "$out.2.err")" || return 1
	grep -qx 'served 3' "$out.1" && grep -qx 'served 3' "$out.2" ||
		fail "tenants were served $(cat "$out.1") and $(cat "$out.2") connections, want 3 each" || return 1
	# Root still gets in, while both tenants hold all they may.
	adm status && expect_rc 0 || return 1
	touch "$stop"
	wait "$p1" "$p2" 2>/dev/null
	return 0
}

# Write $CGT_TMP/fds.py: open $2 connections to socket $1; on each send one byte with 16
# descriptors, then (with $4, an entry name) pipeline 2000 OpenCgroup calls of $4 and read
# no reply; hold them until file $3 exists.
tn_write_fds() {
	cat >"$CGT_TMP/fds.py" <<'PY'
import array, json, os, socket, sys, time
path, n, stop = sys.argv[1], int(sys.argv[2]), sys.argv[3]
name = sys.argv[4] if len(sys.argv) > 4 else None
held, fd = [], os.open("/dev/null", os.O_RDONLY)
call = json.dumps({"method": "io.cgctl.Manager.OpenCgroup", "parameters": {"name": name}}).encode() + b"\0"
for i in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        if name:
            s.settimeout(5)
            s.sendall(call * 2000)
        else:
            s.sendmsg([b"{"], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd] * 16))])
    except OSError:
        pass
    held.append(s)
print("holding %d" % len(held), flush=True)
while not os.path.exists(stop):
    time.sleep(0.05)
PY
}

# The daemon (pid $DPID) keeps at least 128 descriptors free.
tn_expect_fds_free() {
	local used limit
	used=$(ls "/proc/$DPID/fd" | wc -l)
	limit=$(awk '/^Max open files/ { print $4 }' "/proc/$DPID/limits")
	printf '  cgctld holds %s of %s descriptors\n' "$used" "$limit"
	[ $((limit - used)) -ge 128 ] || fail "cgctld holds $used of its $limit descriptors: a tenant exhausted them"
}

# Tenant 1 runs fds.py with $1 connections (and entry $2); then root and tenant 2 still work.
tn_fds_attack() {
	local out=$CGT_TMP/fds stop=$CGT_TMP/fds.stop i r=0
	rm -f "$stop"
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" /usr/bin/python3 -S "$CGT_TMP/fds.py" "$DSOCK" "$1" "$stop" ${2:+"$2"}
	cgt_wait_line "$out" '^holding' || fail "the holder said nothing: $(cat "$out.err")" || return 1
	cgt_nap 0.5
	tn_expect_fds_free || r=1
	for i in 1 2 3; do
		[ "$r" = 0 ] && { adm create "r$1x$i" && expect_rc 0 || r=1; }
	done
	[ "$r" = 0 ] && { t2 create "t$1" && expect_rc 0 || r=1; }
	touch "$stop"
	wait "$BGPID" 2>/dev/null
	return "$r"
}

test_tenants_descriptors_not_exhausted() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	# The daemon starts as systemd starts services: a soft limit of 1024 descriptors.
	TN_PRE=(prlimit --nofile=1024:"$(ulimit -Hn)")
	tn_up || return 1
	TN_PRE=()
	tn_write_fds
	t1 create box && expect_rc 0 || return 1
	# Descriptors passed with a pending call, on every connection tenant 1 may open.
	tn_fds_attack 200 || return 1
	# Replies that carry a descriptor (OpenCgroup), pipelined and never read.
	tn_fds_attack 20 box
}

# Write $CGT_TMP/flood.py: "create SOCKET N" makes N entries flood0..N-1 with about 56 KB
# of labels each (so that List answers about N * 56 KB); "flood SOCKET CONNS CALLS STOP"
# opens CONNS connections, pipelines CALLS List calls on each and reads no reply, says
# "sent", then "dropped K" each time the daemon has closed K of them, until all are or
# file STOP exists.
tn_write_flood() {
	cat >"$CGT_TMP/flood.py" <<'PY'
import json, os, select, socket, sys, time
mode, path = sys.argv[1], sys.argv[2]
def call(method, params):
    return json.dumps({"method": "io.cgctl.Manager." + method, "parameters": params}).encode() + b"\0"
if mode == "create":
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(30)
    for i in range(int(sys.argv[3])):
        labels = {"l%02d" % k: chr(97 + k) * 4000 for k in range(14)}
        s.sendall(call("Create", {"name": "flood%d" % i, "labels": labels}))
        buf = b""
        while b"\0" not in buf:
            d = s.recv(65536)
            if not d:
                sys.exit("connection closed")
            buf += d
        if b'"error"' in buf:
            sys.exit("Create: %s" % buf[:300])
    print("created", flush=True)
    sys.exit(0)
nconn, ncalls, stop = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
conns, p = [], select.poll()
for i in range(nconn):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(30)
    s.sendall(call("List", {}) * ncalls)
    conns.append(s)
    p.register(s, select.POLLHUP)
print("sent %d" % nconn, flush=True)
gone, said = set(), 0
while len(gone) < nconn and not os.path.exists(stop):
    for fd, ev in p.poll(50):
        if ev & (select.POLLHUP | select.POLLERR):
            gone.add(fd)
            p.unregister(fd)
    if len(gone) != said:
        said = len(gone)
        print("dropped %d" % said, flush=True)
while not os.path.exists(stop):
    time.sleep(0.05)
PY
}

# The daemon's peak resident memory (VmHWM) in KiB.
tn_hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status"; }

test_tenants_unread_replies_bounded() {
	local out=$CGT_TMP/flood stop=$CGT_TMP/flood.stop fp hwm0 hwm reply share bound i
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	# 2 MiB of unsent replies per connection, 24 MiB for an administrator uid: a third each
	# for the two tenants (8 MiB). The connections that hold it are dropped after 0.5 s (a wave a stall timeout).
	TN_OPTS=(--max-reply-buffer $((2 << 20)) --max-reply-memory $((24 << 20)) --stall-timeout 500)
	tn_up || return 1
	TN_OPTS=()
	tn_write_flood
	setpriv --reuid="$CGT_UID2" --regid="$CGT_GID2" --clear-groups /usr/bin/python3 -S "$CGT_TMP/flood.py" \
		create "$DSOCK" 16 </dev/null >"$out.c" 2>&1 || fail "tenant 2 could not create: $(cat "$out.c")" || return 1
	t2 --json list && expect_rc 0 || return 1
	reply=$((${#OUT} / 1024))
	t1 create mine && expect_rc 0 || return 1
	hwm0=$(tn_hwm_kb)
	# Tenant 2: 32 connections, 16 Lists of ~${reply} KiB each, nothing read. Unbounded, that
	# is 32 x (2 MiB + a reply) unsent; bounded, twice tenant 2's 8 MiB (a connection holding none is
	# still served up to that) and the reply that passed it.
	share=$((16 << 10))
	bound=$((hwm0 + share + 2 * reply + (16 << 10)))
	rm -f "$stop"
	setpriv --reuid="$CGT_UID2" --regid="$CGT_GID2" --clear-groups /usr/bin/python3 -S "$CGT_TMP/flood.py" \
		flood "$DSOCK" 32 16 "$stop" </dev/null >"$out" 2>"$out.err" &
	fp=$!
	cgt_track_pid "$fp"
	cgt_wait_line "$out" '^sent' || fail "the flood did not get going: $(cat "$out.err")" || return 1
	# Tenant 1 and root are answered meanwhile (they connect after all the flood's calls were sent).
	t1 --json list && expect_rc 0 && expect_jq '[.[].name] == ["mine"]' || return 1
	adm status && expect_rc 0 || return 1
	# The connections that hold the budget without reading are dropped by the stall rule...
	cgt_wait_line "$out" '^dropped' 30 || fail "no flooding connection was dropped: $(cat "$out")" || return 1
	# ...and the others, which only waited for the budget, are served then (and dropped in turn).
	cgt_wait_line "$out" '^dropped 32$' 90 ||
		fail "the waiting connections were not served after the holders went: $(tail -n 3 "$out")" || return 1
	t1 --json list && expect_rc 0 && expect_jq '[.[].name] == ["mine"]' || return 1
	hwm=$(tn_hwm_kb)
	touch "$stop"
	wait "$fp" 2>/dev/null
	grep -q "uid $CGT_UID2: .* bytes of replies unread, its budget $((8 << 20))" "$DLOG" ||
		fail "no log line says tenant 2 reached its reply budget" || return 1
	printf '  VmHWM %s KiB before the flood, %s KiB after; bound %s KiB (List %s KiB)\n' \
		"$hwm0" "$hwm" "$bound" "$reply"
	if cgt_daemon_is_asan; then
		cgt_log "ASan build: its quarantine keeps freed replies; the memory bound is not checked"
		return 0
	fi
	[ "$hwm" -le "$bound" ] || fail "cgctld's peak RSS grew by $((hwm - hwm0)) KiB under the flood, bound $((bound - hwm0)) KiB"
}

test_tenants_socket_reachable() {
	# A daemon with --allow-uid made its socket 0600 and its directory 0700: no tenant could
	# connect until root chmodded them. With tenants they are 0666 and 0755 (SO_PEERCRED
	# decides who is served); without, 0600 and 0700 as before.
	local d=$CGT_TMP/tn-sockdir m
	tn_up || return 1
	m=$(stat -c %a "$DSOCK")
	[ "$m" = 666 ] || fail "the socket of a daemon with tenants is $m, want 666" || return 1
	t1 status && expect_rc 0 "tenant 1's status" || return 1
	t2 --json list && expect_rc 0 "tenant 2's list" && expect_jq 'length == 0' || return 1
	tn_down
	# The directory it makes for --socket: reachable by tenants.
	mkdir -m 0755 "$d" || return 1
	cgt_in_cg_bg "$TN_ROOT/cgctld.leaf" "$CGCTLD" --cgroup-root "$TN_ROOT" --socket "$d/run/sock" \
		--state-dir "$d/state" --allow-uid "$CGT_UID" </dev/null >>"$CGT_LOGS/cgctld.sockdir.log" 2>&1
	DPID=$BGPID
	cgt_track_pid "$DPID"
	cgt_wait_for "$CGT_TIMEOUT" test -S "$d/run/sock" || return 1
	m=$(stat -c %a "$d/run")
	[ "$m" = 755 ] || fail "the socket directory of a daemon with tenants is $m, want 755" || return 1
	cgctl_u --socket "$d/run/sock" status && expect_rc 0 "tenant 1's status" || return 1
	tn_down
	# No tenants: private as before.
	mkdir -m 0755 "$d/pub" && chown "$CGT_UID:$CGT_GID" "$d/pub" || return 1
	cgt_daemon_up --socket "$d/pub/private/sock" || return 1
	m="$(stat -c %a "$d/pub/private") $(stat -c %a "$DSOCK")"
	[ "$m" = "700 600" ] || fail "without tenants directory and socket are $m, want 700 600" || return 1
}
