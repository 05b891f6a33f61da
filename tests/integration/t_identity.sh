# SPDX-License-Identifier: MIT
# t_identity.sh: proven ownership: no act on a cgroup another program replaced (rmdir X; mkdir X), at run time and after a crash.
# shellcheck shell=bash disable=SC2153 # CGCTL, SPID, DLOG... are lib.sh's, not misspelt
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
#
# The "stranger" is another program of the test user, the daemon's own uid:
# it may remove the daemon's empty cgroups and make its own of the same name.

PY=/usr/bin/python3

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# A daemon on a fresh state dir (extra daemon args after), see cgt_daemon_up.
up() { cgt_daemon_up "$@"; }

# The daemon in its leaf on state dir $1, with CGCTLD_TEST_CRASH=$2 when given.
restart_on() {
	if [ -n "${2:-}" ]; then
		# shellcheck disable=SC2034 # read by cgt_daemon_spawn_env (dynamic scope)
		local CGT_DAEMON_ENV=("CGCTLD_TEST_CRASH=$2")
		cgt_daemon_start_env "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$1"
	else
		cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$1"
	fi
}

# As the stranger (the test user, not the daemon): rmdir managed cgroup $1 and mkdir it again.
replace() {
	cgt_as_user_in "$CGT_WORK" sh -c 'rmdir "$1" && mkdir "$1"' sh "$CGT_MROOT/$1" ||
		fail "the stranger could not replace $1"
}

# Inode of managed cgroup directory $1.
ino() { stat -c %i "$CGT_MROOT/$1"; }

# Name $1 is not in the daemon's list.
expect_not_listed() {
	c --json list
	expect_rc 0 "list" || return 1
	jq -e --arg n "$1" 'all(.[]; .name != $n)' >/dev/null <<<"$OUT" || fail "$1 still listed: $OUT"
}

# The last call failed with Replaced and left stranger's directory $1 in place.
expect_replaced() {
	expect_rc 1 "${2:-call on a replaced cgroup}" || return 1
	expect_err Replaced "${2:-}" || return 1
	expect_dir "$1" "the stranger's directory" || return 1
}

# Process $1 is still alive (not a zombie).
expect_alive() {
	cgt_proc_state_v "$1"
	case $CGT_STATE in '' | Z | X) fail "process $1 ${2:-} was killed (state '${CGT_STATE}')" ;; esac
}

# --- run time: every act checks identity first ---------------------------------

test_identity_destroy_replaced() {
	up || return 1
	local before out=$CGT_TMP/w.json
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" watch --json
	c create victim && c create keep
	expect_rc 0 || return 1
	cgt_wait_line "$out" '"type":"created","name":"keep"' || fail "watcher shows no events" || return 1
	before=$(ino victim)
	replace victim || return 1
	[ "$(ino victim)" != "$before" ] || fail "the replacement has the same inode" || return 1
	c destroy victim
	expect_replaced victim "destroy of a replaced cgroup" || return 1
	# Dropped as lost: no longer listed, a Watch event and a log line say so.
	expect_not_listed victim || return 1
	cgt_wait_line "$out" '"type":"lost","name":"victim"' || fail "no lost event: $(cat "$out")" || return 1
	grep -q 'victim: .*replaced.*lost' "$DLOG" || fail "no log line for the lost entry" || return 1
	# Destroy again: the daemon never knew this directory; still nothing touched.
	c --json destroy victim
	expect_rc 0 "destroy of a name no longer managed" || return 1
	expect_jq '.existed == false' || return 1
	expect_dir victim || return 1
	# The rest is unaffected.
	c destroy keep
	expect_rc 0 || return 1
	expect_no_dir keep || return 1
}

test_identity_copied_nonce() {
	[ -x "$PY" ] || skip "$PY not installed"
	up || return 1
	c create cp
	expect_rc 0 || return 1
	# The stranger copies cgctld's mark onto its own directory: the inode still tells.
	cgt_as_user_in "$CGT_WORK" "$PY" -S -c '
import os, sys
d = sys.argv[1]
try:
    v = os.getxattr(d, "user.cgctl.id")
except OSError:
    v = None  # an unmarked directory: nothing to copy
os.rmdir(d)
os.mkdir(d)
if v is not None:
    os.setxattr(d, "user.cgctl.id", v)
' "$CGT_MROOT/cp" || fail "the stranger could not copy the mark" || return 1
	c destroy cp
	expect_replaced cp "destroy of a replacement carrying a copied nonce" || return 1
}

test_identity_kill_replaced() {
	up || return 1
	local s
	c create k1 && c create k2
	expect_rc 0 || return 1
	replace k1 || return 1
	cgt_sleeper "$CGT_MROOT/k1" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	c kill k1
	expect_replaced k1 "kill of a replaced cgroup" || return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's k1" || return 1
	# destroy --kill: refused before killing anything.
	replace k2 || return 1
	cgt_sleeper "$CGT_MROOT/k2" || fail "cannot start the stranger's process" || return 1
	c destroy k2 --kill
	expect_replaced k2 "destroy --kill of a replaced cgroup" || return 1
	cgt_nap 0.3
	expect_alive "$SPID" "in the stranger's k2" || return 1
	expect_alive "$s" "in the stranger's k1" || return 1
	cgt_has_line "$CGT_MROOT/k2/cgroup.procs" "$SPID" || fail "the stranger's process left k2" || return 1
}

test_identity_acts_replaced() {
	up || return 1
	local n
	for n in fz th at st oc gs; do
		c create "$n"
		expect_rc 0 || return 1
		replace "$n" || return 1
	done
	c freeze fz
	expect_replaced fz "freeze" || return 1
	[ "$(cat "$CGT_MROOT/fz/cgroup.freeze")" = 0 ] || fail "the stranger's fz was frozen" || return 1
	echo 1 >"$CGT_MROOT/th/cgroup.freeze"
	c thaw th
	expect_replaced th "thaw" || return 1
	[ "$(cat "$CGT_MROOT/th/cgroup.freeze")" = 1 ] || fail "the stranger's th was thawed" || return 1
	echo 0 >"$CGT_MROOT/th/cgroup.freeze"
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	c attach at "$SPID"
	expect_replaced at "attach" || return 1
	cgt_has_line "$CGT_WORK/cgroup.procs" "$SPID" || fail "attach moved $SPID into the stranger's at" || return 1
	c set st cgroup.max.descendants=3
	expect_replaced st "set" || return 1
	[ "$(cat "$CGT_MROOT/st/cgroup.max.descendants")" = max ] || fail "set wrote the stranger's limit" || return 1
	c call io.cgctl.Manager.OpenCgroup '{"name":"oc"}'
	expect_replaced oc "OpenCgroup" || return 1
	c stats gs
	expect_replaced gs "stats" || return 1
	# Each was dropped as lost; a second call finds nothing managed.
	c freeze fz
	expect_rc 1 && expect_err NotFound || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

test_identity_create_below_replaced_parent() {
	up || return 1
	c create par
	expect_rc 0 || return 1
	replace par || return 1
	# Never a cgroup inside, nor controllers written for, a directory not ours.
	c create par/kid
	expect_replaced par "create below a replaced parent" || return 1
	expect_no_dir par/kid "made inside the stranger's directory" || return 1
	[ -z "$(cat "$CGT_MROOT/par/cgroup.subtree_control")" ] ||
		fail "controllers enabled in the stranger's par" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

test_identity_recursive_child_replaced() {
	up || return 1
	local s
	c create p && c create p/c && c create p/d
	expect_rc 0 || return 1
	replace p/c || return 1
	cgt_sleeper "$CGT_MROOT/p/c" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	c destroy p --recursive --kill
	expect_replaced p/c "recursive destroy over a replaced child" || return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's p/c" || return 1
	# Refused before anything was removed: the verified siblings stay too.
	expect_dir p && expect_dir p/d || return 1
	c --json list
	expect_jq '[.[].name] | sort == ["p", "p/d"]' || return 1
}

# A cgroup the stranger made inside an entry is not ours: cgroup.kill and cgroup.freeze of the entry
# would reach it, so Kill and Freeze are refused as destroy --kill is (Busy), and its process runs on.
test_identity_foreign_child_not_killed() {
	up || return 1
	local s
	c create p && expect_rc 0 || return 1
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/p/theirs" || fail "the stranger cannot mkdir p/theirs" || return 1
	cgt_sleeper "$CGT_MROOT/p/theirs" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	c kill p && expect_rc 1 "kill over a stranger's cgroup" && expect_err Busy && expect_err theirs || return 1
	c kill p --signal TERM && expect_rc 1 "kill --signal over a stranger's cgroup" && expect_err Busy || return 1
	c freeze p && expect_rc 1 "freeze over a stranger's cgroup" && expect_err Busy || return 1
	c destroy p --kill && expect_rc 1 "destroy --kill over a stranger's cgroup" && expect_err Busy || return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's p/theirs" || return 1
	cgt_has_line "$CGT_MROOT/p/theirs/cgroup.events" "frozen 0" || fail "the stranger's p/theirs was frozen" || return 1
	# Thaw only undoes; once the stranger's cgroup is gone, the entry is the daemon's alone again.
	c thaw p && expect_rc 0 "thaw" || return 1
	kill -KILL "$s"
	cgt_cg_empty "$CGT_MROOT/p/theirs" && rmdir "$CGT_MROOT/p/theirs" || fail "cannot remove p/theirs" || return 1
	c kill p && expect_rc 0 "kill once p is all ours" || return 1
}

# An entry below replaced by a stranger (rmdir, mkdir of the same name): the parent's cgroup.kill or
# cgroup.freeze would reach it, so Kill and Freeze of the parent answer Replaced naming it, touch nothing.
test_identity_replaced_child_not_killed() {
	up || return 1
	local s
	c create p && expect_rc 0 || return 1
	c create p/c && expect_rc 0 || return 1
	cgt_as_user_in "$CGT_WORK" rmdir "$CGT_MROOT/p/c" || fail "the stranger cannot rmdir p/c" || return 1
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/p/c" || fail "the stranger cannot mkdir p/c" || return 1
	cgt_sleeper "$CGT_MROOT/p/c" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	c freeze p && expect_rc 1 "freeze over a replaced p/c" && expect_err Replaced && expect_err p/c || return 1
	c kill p && expect_rc 1 "kill over what is now a stranger's p/c" && expect_err Busy || return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's p/c" || return 1
	cgt_has_line "$CGT_MROOT/p/c/cgroup.events" "frozen 0" || fail "the stranger's p/c was frozen" || return 1
	kill -KILL "$s"
	cgt_cg_empty "$CGT_MROOT/p/c" && rmdir "$CGT_MROOT/p/c" || fail "cannot remove p/c" || return 1
	c kill p && expect_rc 0 "kill once p is all ours" || return 1
}

# The v1 freezer hierarchy (these machines are hybrid), or nothing.
v1_freezer() {
	awk '$9 == "cgroup" && $NF ~ /(^|,)freezer(,|$)/ { print $5; exit }' /proc/self/mountinfo
}

# A recursive destroy --kill waits for a child to empty; a directory the stranger makes in the parent
# meanwhile is found before the parent's cgroup.kill, not killed with it.
test_identity_foreign_child_during_destroy() {
	local fz slow s out=$CGT_TMP/destroy.out i=0
	fz=$(v1_freezer)
	[ -n "$fz" ] && [ -w "$fz/cgroup.procs" ] || { skip "no cgroup v1 freezer to hold a killed process"; return; }
	fz=$fz/${CGT_SCRATCH##*/}
	mkdir "$fz" || fail "cannot make $fz" || return 1
	trap cgt_run_deferred EXIT
	# Undo, even after a failure: thaw (a pending SIGKILL then ends the process), then remove.
	cgt_defer sh -c 'echo THAWED >"$1/freezer.state"; for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$1" 2>/dev/null && exit; sleep 0.2; done' sh "$fz"
	up || return 1
	c create p && c create p/c && expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/p/c" || fail "cannot start a sleeper in p/c" || return 1
	slow=$SPID
	# Frozen by the v1 freezer, a process does not die of SIGKILL until thawed: p/c stays populated.
	echo "$slow" >"$fz/cgroup.procs" && echo FROZEN >"$fz/freezer.state" || fail "cannot freeze $slow" || return 1
	until cgt_has_line "$fz/freezer.state" FROZEN; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the v1 freezer never froze $slow"; return 1; }
		cgt_nap 0.02
	done
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" destroy p --recursive --kill
	# The destroy waits for p/c.
	i=0
	until c --json list && jq -e 'any(.[]; .name == "p/c" and .state == "destroying")' >/dev/null <<<"$OUT"; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the destroy never started on p/c: $(cat "$out.err")"; return 1; }
		cgt_nap 0.05
	done
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/p/theirs" || fail "the stranger cannot mkdir p/theirs" || return 1
	cgt_sleeper "$CGT_MROOT/p/theirs" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	echo THAWED >"$fz/freezer.state"
	wait "$BGPID"
	printf '+ destroy p --recursive --kill -> rc=%s: %s\n' "$?" "$(cat "$out.err")"
	cgt_has_text "$out.err" "Busy" && cgt_has_text "$out.err" theirs || fail "the destroy did not stop at p/theirs: $(cat "$out.err")" ||
		return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's p/theirs" || return 1
	expect_dir p && expect_no_dir p/c || return 1
	c --json list && expect_jq '[.[] | [.name, .state]] == [["p", "active"]]'
}

# --- run time: auto_remove and leases --------------------------------------------

test_identity_auto_remove_replaced() {
	up || return 1
	local s
	c create ar --auto-remove
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/ar" || fail "cannot start a sleeper" || return 1
	s=$SPID
	# Wait until the daemon recorded that ar was populated (it removes ar once it empties).
	local i=0
	until cgt_journal_recs "$DSTATE" | jq -e 'any(.[]; .entry.name == "ar" and .entry.was_populated == true)' >/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { fail "the daemon never recorded ar as populated"; return 1; }
		cgt_nap 0.05
	done
	# While the daemon is stopped, ar empties and the stranger replaces it; the
	# daemon then sees the "emptied" notification, for a directory no longer ours.
	kill -STOP "$DPID"
	kill -KILL "$s"
	wait "$s" 2>/dev/null
	cgt_wait_event "$CGT_MROOT/ar" populated 0 || { kill -CONT "$DPID"; fail "ar still populated"; return 1; }
	replace ar || { kill -CONT "$DPID"; return 1; }
	kill -CONT "$DPID"
	i=0
	while c --json list && jq -e 'any(.[]; .name == "ar")' >/dev/null <<<"$OUT"; do
		i=$((i + 1))
		[ "$i" -ge 20 ] && break
		cgt_nap 0.1
	done
	cgt_nap 0.3
	expect_dir ar "auto_remove of a replaced cgroup" || return 1
}

test_identity_lease_replaced() {
	up || return 1
	local lpid s i=0
	cgt_user_bg_split "$CGT_WORK" "$CGT_TMP/lease" "$CGT_TMP/lease.err" "$CGCTL" --socket "$DSOCK" create ls --lease
	lpid=$BGPID
	cgt_wait_line "$CGT_TMP/lease" '^ls$' || fail "create --lease printed nothing: $(cat "$CGT_TMP/lease.err")" || return 1
	replace ls || return 1
	cgt_sleeper "$CGT_MROOT/ls" || fail "cannot start the stranger's process" || return 1
	s=$SPID
	# The holder goes: the lease would kill and remove ls, which is no longer ours.
	kill -KILL "$lpid"
	wait "$lpid" 2>/dev/null
	while c --json list && jq -e 'any(.[]; .name == "ls")' >/dev/null <<<"$OUT"; do
		i=$((i + 1))
		[ "$i" -ge 50 ] && { fail "ls still managed after its lease ended"; return 1; }
		cgt_nap 0.1
	done
	cgt_nap 0.3
	expect_dir ls "lease expiry of a replaced cgroup" || return 1
	expect_alive "$s" "in the stranger's ls" || return 1
	grep -q 'ls: .*lost' "$DLOG" || fail "no log line for the lost lease entry" || return 1
}

test_identity_oci_poststop_replaced() {
	local hook b=$CGT_TMP/oci/ih st=$CGT_TMP/oci/ih.state stop=$CGT_TMP/oci/ih.stop s
	cgt_user_bin cgctl-oci-hook || fail "build/cgctl-oci-hook missing (run make)" || return 1
	hook=$CGT_USER_BIN
	up || return 1
	mkdir -p "$b" && chown "$CGT_UID:$CGT_GID" "$b" && echo '{"ociVersion":"1.0.2"}' >"$b/config.json" &&
		chmod 0644 "$b/config.json" || fail "cannot make the bundle" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start the container's process" || return 1
	cgt_oci_state ih "$SPID" "$b" creating >"$st"
	cgt_oci_state ih "$SPID" "$b" stopped >"$stop"
	cgt_as_user_in "$CGT_WORK" "$hook" --socket "$DSOCK" createRuntime <"$st" >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "cgctl-oci-hook createRuntime"
	expect_rc 0 "createRuntime" || return 1
	expect_dir oci-ih || return 1
	# The container ends; another program takes the name over, and puts a process in it,
	# before the daemon looks (it is stopped meanwhile: the hook's cgroups are auto_remove,
	# so a daemon that looks first drops the emptied entry before poststop).
	kill -STOP "$DPID"
	kill -KILL "$SPID"
	wait "$SPID" 2>/dev/null
	cgt_wait_event "$CGT_MROOT/oci-ih" populated 0 || { kill -CONT "$DPID"; fail "oci-ih still populated"; return 1; }
	replace oci-ih || { kill -CONT "$DPID"; return 1; }
	cgt_sleeper "$CGT_MROOT/oci-ih" || { kill -CONT "$DPID"; fail "cannot start the stranger's process"; return 1; }
	s=$SPID
	kill -CONT "$DPID"
	cgt_as_user_in "$CGT_WORK" "$hook" --socket "$DSOCK" poststop <"$stop" >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "cgctl-oci-hook poststop"
	# Not an error for the runtime (runc 4518), but said; nothing of the stranger's touched.
	expect_rc 0 "poststop of a replaced cgroup" || return 1
	expect_err "replaced" "poststop" || return 1
	expect_dir oci-ih "poststop removed the stranger's cgroup" || return 1
	cgt_nap 0.3
	expect_alive "$s" "in the stranger's oci-ih" || return 1
}

# --- crash recovery that never guesses ------------------------------------------

test_identity_crash_create_intent_stranger() {
	up || return 1
	local state=$DSTATE
	cgt_daemon_stop || return 1
	# The stranger made "taken" by hand; the daemon dies after the intent record of create taken.
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/taken" || fail "cannot make taken" || return 1
	restart_on "$state" create-intent || return 1
	c create taken
	expect_rc 1 "create while the daemon dies after the intent record" || return 1
	cgt_daemon_wait_exit || fail "cgctld did not die at create-intent" || return 1
	cgt_journal_recs "$state" | jq -e 'last | .entry.name == "taken" and .entry.state == "creating"' >/dev/null ||
		fail "no intent record in the journal" || return 1
	restart_on "$state" || return 1
	expect_dir taken "reconcile removed the stranger's directory" || return 1
	# The intent carried the nonce that the stranger's directory lacks.
	cgt_journal_recs "$state" | jq -e 'any(.[]; .entry.name == "taken" and .entry.state == "creating" and
		(.entry.nonce | test("^[0-9a-f]{32}$")))' >/dev/null || fail "the intent has no nonce" || return 1
	c --json status
	expect_rc 0 || return 1
	expect_jq '.ledger.reconcile.unknown == ["taken"] and .ledger.reconcile.rolled_back == []' || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	grep -q 'taken.*not provably' "$DLOG" || fail "no log line for the unproven create" || return 1
}

test_identity_crash_create_mkdir_still_rolled_back() {
	up || return 1
	local state=$DSTATE
	cgt_daemon_stop || return 1
	# A directory the daemon made and marked before dying is proven and rolled back.
	restart_on "$state" create-mkdir || return 1
	c create mine
	expect_rc 1 || return 1
	cgt_daemon_wait_exit || fail "cgctld did not die at create-mkdir" || return 1
	expect_dir mine || return 1
	restart_on "$state" || return 1
	expect_no_dir mine "a proven, unacknowledged create is rolled back" || return 1
	c --json status
	expect_jq '.ledger.reconcile.rolled_back == ["mine"] and .ledger.reconcile.unknown == []' || return 1
}

test_identity_crash_create_unmarked() {
	up || return 1
	local state=$DSTATE
	cgt_daemon_stop || return 1
	# The daemon dies between mkdir and writing its mark: nothing proves the
	# directory is the one it made (a stranger's could sit there), so it stays.
	restart_on "$state" create-unmarked || return 1
	c create um
	expect_rc 1 || return 1
	cgt_daemon_wait_exit || fail "cgctld did not die at create-unmarked" || return 1
	expect_dir um || return 1
	restart_on "$state" || return 1
	expect_dir um "an unproven directory was rolled back" || return 1
	c --json status
	expect_jq '.ledger.reconcile.unknown == ["um"] and .ledger.reconcile.rolled_back == []' || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

test_identity_crash_destroy_replaced() {
	up || return 1
	local state=$DSTATE
	c create dr
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	restart_on "$state" destroy-intent || return 1
	c destroy dr
	expect_rc 1 || return 1
	cgt_daemon_wait_exit || fail "cgctld did not die at destroy-intent" || return 1
	cgt_journal_recs "$state" | jq -e 'last | .entry.name == "dr" and .entry.state == "destroying"' >/dev/null ||
		fail "no destroying record" || return 1
	replace dr || return 1
	restart_on "$state" || return 1
	expect_dir dr "reconcile finished a destroy on a replaced directory" || return 1
	c --json status
	expect_jq '.ledger.reconcile.unknown == ["dr"] and .ledger.reconcile.resumed == []' || return 1
}
