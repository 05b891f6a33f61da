# SPDX-License-Identifier: MIT
# t_hostile3.sh: a fifth round from the outside: the daemon's own files and directories as another user plants them.
# shellcheck shell=bash disable=SC2153 # CGCTL, CGCTLD, CGT_*... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# shellcheck source=t_tenants.sh
. "$HERE/t_tenants.sh"

# Run cgctld in the foreground for at most 5 s with XDG_RUNTIME_DIR=$2 and no
# --socket, as root ($1 root: in a root-owned cgroup of its own below the
# scratch root) or as the test user ($1 user); sets RC, OUT, ERR (124: it ran).
h3_daemon_default_socket() {
	local who=$1 rt=$2 cg=$CGT_SCRATCH/rootd
	shift 2
	if [ "$who" = root ]; then
		[ -d "$cg/cgctld.leaf" ] || { cgt_mkcg "$cg" root && cgt_mkcg "$cg/cgctld.leaf" root; } || return 1
		cgt_in_cg "$cg/cgctld.leaf" \
			env XDG_RUNTIME_DIR="$rt" timeout -s TERM 5 "$CGCTLD" --cgroup-root "$cg" \
			--state-dir "$CGT_TMP/rootstate" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	else
		cgt_as_user_in "$CGT_MROOT" env XDG_RUNTIME_DIR="$rt" timeout -s TERM 5 "$CGCTLD" \
			--state-dir "$CGT_STATES/h3" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	fi
	cgt_collect "($who) cgctld, XDG_RUNTIME_DIR=$rt"
}

# Directory $1 still has mode $2 and holds no socket.
h3_untouched() {
	local mode
	mode=$(stat -c %a "$1")
	[ "$mode" = "$2" ] || fail "cgctld made $1 mode $mode (it was $2)" || return 1
	[ ! -e "$1/io.cgctl.Manager" ] || fail "cgctld put its socket in $1"
}

# In a shared sticky runtime directory (XDG_RUNTIME_DIR=/tmp, as some set-ups
# have it) another user plants cgctl as a link to a directory of the daemon's
# uid: the daemon must refuse it, not chmod the link's target 0700 and listen
# there (root's /etc, say, or the user's home). As root and as the user.
test_hostile3_socket_dir_link_not_followed() {
	local rt victim who
	cgt_setup_user2 || { fail "cannot create the second test user"; return 1; }
	rt=$(mktemp -d "$CGT_TMP/rt.XXXXXX") && chmod 1777 "$rt" || return 1
	for who in root user; do
		victim=$(mktemp -d "$CGT_TMP/victim.XXXXXX") && chmod 0755 "$victim" || return 1
		[ "$who" = root ] || chown "$CGT_UID:$CGT_GID" "$victim" || return 1
		rm -f "$rt/cgctl"
		setpriv --reuid="$CGT_UID2" --regid="$CGT_GID2" --clear-groups ln -s "$victim" "$rt/cgctl" || return 1
		h3_daemon_default_socket "$who" "$rt"
		[ "$RC" = 1 ] || fail "$who cgctld with $rt/cgctl a link of another user: exit $RC (124: it ran)" || return 1
		expect_err "$rt/cgctl: is a symbolic link, not a directory" || return 1
		h3_untouched "$victim" 755 || return 1
	done
	# Without the link, the sticky directory is fine: the daemon makes cgctl/ there.
	rm -f "$rt/cgctl"
	h3_daemon_default_socket root "$rt"
	[ "$RC" = 124 ] || fail "root cgctld in a clean sticky $rt: exit $RC" || return 1
	[ "$(stat -c '%a %u' "$rt/cgctl")" = "700 0" ] || fail "$rt/cgctl: $(stat -c '%a %u' "$rt/cgctl")"
}

# A runtime directory another user owns (root's cgctld started from su, which
# keeps the user's XDG_RUNTIME_DIR): that user could swap the socket
# directory, so it is refused, as the same parent of a state directory is.
test_hostile3_socket_dir_parent_foreign() {
	local rt
	cgt_setup_user2 || { fail "cannot create the second test user"; return 1; }
	rt=$(mktemp -d "$CGT_TMP/rt.XXXXXX") && chown "$CGT_UID2:$CGT_GID2" "$rt" && chmod 0700 "$rt" || return 1
	h3_daemon_default_socket root "$rt"
	[ "$RC" = 1 ] || fail "root cgctld with XDG_RUNTIME_DIR owned by uid $CGT_UID2: exit $RC (124: it ran)" || return 1
	expect_err "$rt/cgctl: its parent $rt is owned by uid $CGT_UID2" || return 1
	# The user's own runtime directory is the user's daemon's to use (the
	# empty cgctl/ root made there is the user's to remove: it owns the parent).
	chown "$CGT_UID:$CGT_GID" "$rt" && rmdir "$rt/cgctl" || return 1
	h3_daemon_default_socket user "$rt"
	[ "$RC" = 124 ] || fail "the user's cgctld in its own $rt: exit $RC" || return 1
	[ "$(stat -c '%a %u' "$rt/cgctl")" = "700 $CGT_UID" ] || fail "$rt/cgctl: $(stat -c '%a %u' "$rt/cgctl")"
}

# The CLI as the test user, talking to the current daemon.
h3c() { cgctl_u --socket "$DSOCK" "$@"; }

# Daemon $DPID (log $DLOG) exits non-zero within the timeout, saying $1 (an ERE).
h3_refused() {
	cgt_wait_gone "$DPID" || fail "a second cgctld ($2) keeps running" || return 1
	if wait "$DPID"; then fail "a second cgctld ($2) exited 0"; return 1; fi
	grep -qE "$1" "$DLOG" || fail "a second cgctld ($2) did not say why: $(tail -n 2 "$DLOG" | tr '\n' ' ')"
}

# A program of the daemon's uid removes the lock file while the daemon runs
# (or a clean-up tool does): a second daemon on the same state directory
# must still be refused. Both would write one journal: the second one, on
# another cgroup root, dropped the first one's entries there as vanished,
# and the first forgot them at its next start.
test_hostile3_lock_file_removed() {
	local first sock state
	cgt_daemon_start "" || return 1
	first=$DPID sock=$DSOCK state=$DSTATE
	h3c create keepme && expect_rc 0 || return 1
	rm -f "$state/lock" || return 1
	cgt_mkcg "$CGT_SCRATCH/second" || return 1
	cgt_daemon_spawn "$CGT_SCRATCH/second" --state-dir "$state" --socket "$CGT_RUN/second.sock" \
		--cgroup-root "$CGT_SCRATCH/second"
	h3_refused "locked by another running cgctld" "same state directory, lock file removed" || return 1
	# The first daemon, restarted, still knows its entry.
	DPID=$first DSOCK=$sock
	cgt_daemon_stop "$first" || return 1
	cgt_daemon_up --state-dir "$state" || return 1
	h3c list --json && expect_rc 0 || return 1
	expect_jq 'map(.name) == ["keepme"]' || return 1
}

# The second test user flocks directory $1 and keeps it locked: asleep, or
# (with $2 = su) from a setuid-root su it execs with the lock's descriptor,
# waiting at its password prompt on a pipe it holds itself.
h3_stranger_flock() {
	local holder i=0
	cgt_setup_user2 || { fail "cannot create the second test user"; return 1; }
	# A file the previous test's holder wrote says "locked" before this one has the lock.
	rm -f "$CGT_TMP/holder.out"
	setpriv --reuid="$CGT_UID2" --regid="$CGT_GID2" --clear-groups /usr/bin/python3 -S -c '
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
print("locked", flush=True)
if sys.argv[2] != "su":
    time.sleep(60)
    sys.exit(0)
os.set_inheritable(fd, True)
r, w = os.pipe()
os.dup2(r, 0)
os.set_inheritable(w, True)
os.execv("/usr/bin/su", ["su", "root"])' "$1" "${2:-}" </dev/null >"$CGT_TMP/holder.out" 2>&1 &
	holder=$!
	cgt_track_pid "$holder"
	until cgt_has_text "$CGT_TMP/holder.out" locked &&
		{ [ "${2:-}" != su ] || [ "$(awk '/^Uid:/ { print $3 }' "/proc/$holder/status" 2>/dev/null)" = 0 ]; }; do
		i=$((i + 1))
		[ "$i" -lt 500 ] || { fail "uid $CGT_UID2 could not flock $1 ${2:+from su}: $(cat "$CGT_TMP/holder.out")"; return 1; }
		cgt_nap 0.02
	done
}

# Anybody who may read a cgroup directory may flock it: another user's lock
# on the managed root must not keep the daemon from starting (a lock held
# by a process of ours or root's is a daemon's, and refuses a second one).
test_hostile3_stranger_lock_on_root_ignored() {
	h3_stranger_flock "$CGT_MROOT" || return 1
	cgt_daemon_start "" || return 1
	cgt_has_text "$DLOG" "locked by a process of another user" || fail "no line says the lock was another user's" || return 1
	h3c create mine && expect_rc 0
}

# The same lock, taken by another user's process that then execs a setuid-root
# program and keeps it waiting (su at its password prompt, on a pipe it holds
# itself): /proc/locks names that pid, whose effective uid is now root's, yet
# the lock is still the stranger's. It kept the daemon from starting.
test_hostile3_stranger_lock_setuid_holder_ignored() {
	[ -u /usr/bin/su ] || { skip "no setuid /usr/bin/su"; return 0; }
	h3_stranger_flock "$CGT_MROOT" su || return 1
	cgt_daemon_start "" || return 1
	cgt_has_text "$DLOG" "locked by a process of another user" || fail "no line says the lock was another user's" || return 1
	h3c create mine && expect_rc 0
}

# A state directory others may read (0755: the trust rule refuses only one
# they may write) may be flock'ed by any local user: another user's lock on it
# kept the daemon from starting ("locked by another running cgctld"), as on the
# managed root. Ignored the same way; a second daemon of ours is still refused
# by the lock file.
test_hostile3_stranger_lock_on_state_dir_ignored() {
	local sd=$CGT_TMP/open-state first
	install -d -m 0755 -o "$CGT_UID" -g "$CGT_GID" "$sd" || return 1
	h3_stranger_flock "$sd" || return 1
	cgt_daemon_start "" --state-dir "$sd" || return 1
	cgt_has_text "$DLOG" "locked by a process of another user" || fail "no line says the lock was another user's" || return 1
	h3c create mine && expect_rc 0 || return 1
	first=$DPID
	cgt_daemon_spawn "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT/mine" --state-dir "$sd" --socket "$CGT_RUN/second.sock"
	h3_refused "locked by another running cgctld" "same state directory" || return 1
	DPID=$first
}

# A second daemon of the same uid on the same cgroup subtree (another state
# directory, another socket) is refused, as one on the same state directory
# is: two daemons that each think they own the subtree.
test_hostile3_second_daemon_same_subtree() {
	local first sock
	cgt_daemon_start "" || return 1
	first=$DPID sock=$DSOCK
	h3c create mine && expect_rc 0 || return 1
	cgt_daemon_spawn "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --socket "$CGT_RUN/second.sock"
	h3_refused "another cgctld manages" "same subtree, another state directory" || return 1
	[ ! -e "$CGT_RUN/second.sock" ] || fail "the second daemon left a socket" || return 1
	DPID=$first DSOCK=$sock
	h3c list --json && expect_rc 0 && expect_jq 'map(.name) == ["mine"]'
}

# Root's entry below a tenant's (root made it there, as in
# tenants_kill_freeze_not_below_into_others): a limit on the tenant's entry
# binds the whole subtree, so the tenant could starve or OOM-kill root's
# processes (memory.max, pids.max, cpu.max; hugetlb.*.max here, where a
# process faulting past it gets SIGBUS). Refused as Kill and Freeze are.
test_hostile3_tenant_limits_not_over_roots_below() {
	local before
	tn_up || return 1
	t1 create box && expect_rc 0 || return 1
	t1 create box/own && expect_rc 0 || return 1
	adm create box/adm && expect_rc 0 || return 1
	[ -f "$TN_ROOT/box/hugetlb.2MB.max" ] || { skip "no hugetlb.2MB.max on box"; return; }
	before=$(cat "$TN_ROOT/box/hugetlb.2MB.max")
	t1 call SetResources '{"name":"box","resources":{"unified":{"hugetlb.2MB.max":"0"}}}'
	expect_rc 1 && expect_err PermissionDenied || return 1
	expect_err '"box" holds cgroups that another user created' || return 1
	[ "$(cat "$TN_ROOT/box/hugetlb.2MB.max")" = "$before" ] || fail "box's hugetlb.2MB.max: $(cat "$TN_ROOT/box/hugetlb.2MB.max")" || return 1
	# Its own entry below, with nothing of another's under it: allowed. Root may do all.
	t1 call SetResources '{"name":"box/own","resources":{"unified":{"hugetlb.2MB.max":"0"}}}'
	expect_rc 0 || return 1
	adm call SetResources '{"name":"box","resources":{"unified":{"hugetlb.2MB.max":"2097152"}}}'
	expect_rc 0 || return 1
	# Once root's entry is gone, the tenant's box is its own again.
	adm destroy box/adm && expect_rc 0 || return 1
	t1 call SetResources '{"name":"box","resources":{"unified":{"hugetlb.2MB.max":"0"}}}'
	expect_rc 0 && [ "$(cat "$TN_ROOT/box/hugetlb.2MB.max")" = 0 ] || fail "the tenant's own box: not set"
}
