# SPDX-License-Identifier: MIT
# t_lifecycle.sh: runc 4518 on a read-only cgroupfs, EROFS for missing paths, EBUSY and kill, ledger state and figures for people.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Default daemon: in cgctld/, default socket, fresh state dir.
up() { cgt_daemon_start ""; }

# Start cgctld as the test user in cgroup dir $1, in a new mount namespace in
# which the cgroup2 mount is bound over itself: read-only when $2 is "ro",
# writable (until remounted, see ns_remount) when "rw". Daemon args after.
# Sets DPID (the daemon itself), DSOCK, DSTATE, DLOG.
ns_daemon_spawn() {
	local cg=$1 mode=$2
	shift 2
	DSOCK=$CGT_RUN/ns.sock
	DSTATE=$CGT_STATES/ns.$mode
	DLOG=$CGT_LOGS/cgctld-ns.$mode.log
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	printf '+ cgctld (mount namespace, cgroup2 %s) %s\n' "$mode" "$*"
	# shellcheck disable=SC2016
	unshare -m --propagation private sh -c '
		echo $$ >"$1/cgroup.procs" || exit 125
		mount --bind "$2" "$2" || exit 126
		if [ "$3" = ro ]; then mount -o remount,bind,ro "$2" || exit 126; fi
		shift 3
		exec "$@"' sh "$cg" "$CGT_CG2" "$mode" \
		setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		env -i HOME="$CGT_HOME" USER="$CGT_USER" LOGNAME="$CGT_USER" \
		XDG_RUNTIME_DIR="$CGT_RUN" PATH=/usr/bin:/bin ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} \
		${CGCTLD_TEST_REPLY_LOG:+CGCTLD_TEST_REPLY_LOG="$CGCTLD_TEST_REPLY_LOG"} \
		"$CGCTLD" --socket "$DSOCK" --state-dir "$DSTATE" "$@" </dev/null >>"$DLOG" 2>&1 &
	DPID=$!
	cgt_track_pid "$DPID"
}

# Remount the cgroup2 bind in the daemon's mount namespace ro or rw ($1).
ns_remount() {
	nsenter -t "$DPID" -m mount -o "remount,bind,$1" "$CGT_CG2"
}

# In the daemon's mount namespace, "$@" must fail with EROFS (the runc 4518 condition).
expect_erofs_in_ns() {
	local out
	if out=$(nsenter -t "$DPID" -m "$@" 2>&1); then
		fail "'$*' succeeded in the daemon's read-only view"
		return 1
	fi
	case $out in *"Read-only file system"*) return 0 ;; esac
	fail "'$*' in the daemon's view failed otherwise than with EROFS: $out"
}

# --- runc 4518: a read-only cgroup file system ---------------------------------

test_runc4518_readonly_cgroupfs() {
	local home=$CGT_SCRATCH/rohome bin=$CGT_TMP/bin/crash_torture before ino out
	cgt_mkcg "$home" || return 1
	# A container's cgroup that some other manager made: never ours to remove.
	mkdir "$CGT_MROOT/ctr-foreign" || return 1
	ino=$(stat -c %i "$CGT_MROOT/ctr-foreign")
	cgt_tree
	before=$CGT_TREE
	ns_daemon_spawn "$home" ro --cgroup-root "$CGT_MROOT" || return 1
	cgt_daemon_wait || return 1
	# The kernel condition of runc 4518: mkdir, and rmdir of a missing directory, give EROFS.
	expect_erofs_in_ns mkdir "$CGT_MROOT/probe" || return 1
	expect_erofs_in_ns rmdir "$CGT_MROOT/ctr1" || return 1

	# Degraded, and says why.
	c --json status
	expect_rc 0 || return 1
	expect_jq '.delegated == false and (.reason | test("Read-only file system"))' || return 1
	c status
	expect_rc 0 "status (text)" || return 1
	grep -qx 'Delegated: *no' <<<"$OUT" || fail "status does not say 'Delegated: no'" || return 1
	grep -q '^Reason: .*Read-only file system' <<<"$OUT" || fail "status does not give the reason" || return 1

	# A runtime through libcgctl: create -> NoDelegation (run without cgroups), destroy -> success.
	if [ -x "$bin" ]; then
		out=$(cgt_as_user_in "$CGT_WORK" "$bin" runtime "$DSOCK" ctr1 2>&1) ||
			fail "runtime-like client failed: $out" || return 1
		[ "$out" = $'create: nodelegation\ndestroy: ok existed=0' ] ||
			fail "runtime-like client saw: $(tr '\n' ';' <<<"$out")" || return 1
	else
		fail "$bin missing: make build/tests/integration/crash_torture" || return 1
	fi
	# The same through the CLI.
	c create ctr1
	expect_rc 1 "create on a read-only cgroupfs" || return 1
	expect_err NoDelegation || return 1
	c destroy ctr1
	expect_rc 0 "destroy of what could not be created (runc 4518: 'runc delete' failed here)" || return 1
	c call io.cgctl.Manager.Destroy '{"name":"ctr1"}'
	expect_rc 0 || return 1
	expect_jq '.existed == false and .removed == []' || return 1
	c call io.cgctl.Manager.Destroy '{"name":"ctr-foreign","recursive":true,"kill":true}'
	expect_rc 0 "destroy of a directory the daemon never made" || return 1
	expect_jq '.existed == false and .removed == []' || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	# Nothing touched.
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "the tree changed: ${CGT_TREE//$'\n'/ }" || return 1
	[ "$(stat -c %i "$CGT_MROOT/ctr-foreign")" = "$ino" ] || fail "ctr-foreign was replaced" || return 1
	kill -0 "$DPID" || fail "the daemon died" || return 1
}

test_erofs_on_missing_dir_is_gone() {
	# The daemon starts on a writable tree (its view is a bind mount of it).
	ns_daemon_spawn "$CGT_MROOT" rw || return 1
	cgt_daemon_wait || return 1
	c create x && c create y
	expect_rc 0 || return 1
	# Under its feet the tree turns read-only, and x vanishes (removed from outside).
	ns_remount ro || fail "cannot remount the daemon's view read-only" || return 1
	expect_erofs_in_ns rmdir "$CGT_MROOT/never-there" || return 1
	rmdir "$CGT_MROOT/x" || return 1
	# rmdir of the missing x fails with EROFS: it is gone, so destroy succeeds.
	c call io.cgctl.Manager.Destroy '{"name":"x"}'
	expect_rc 0 "destroy of an entry whose directory is gone, on a read-only tree" || return 1
	expect_jq '.existed == true and .removed == ["x"]' || return 1
	c --json list
	expect_jq '[.[].name] == ["y"] and .[0].state == "active"' || return 1
	# y is still there: EROFS is then a real failure, not "gone".
	c destroy y
	expect_rc 1 "destroy of an existing cgroup on a read-only tree" || return 1
	expect_dir y "destroy on a read-only tree" || return 1
	c --json list
	expect_jq '[.[].name] == ["y"] and .[0].state == "active"' || fail "y lost or left in a non-active state" || return 1
	# Writable again: y goes.
	ns_remount rw || return 1
	c destroy y
	expect_rc 0 || return 1
	expect_no_dir y || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

# A watch of everything, as the test user, to file $1 (stderr $1.err); returns
# once it is in place (a probe cgroup it reports, removed again). Sets WPID.
watch_all_ready() {
	local out=$1 i
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" --json watch
	WPID=$BGPID
	for ((i = 0; i < 20; i++)); do
		c create "wprobe$i"
		expect_rc 0 || return 1
		cgt_wait_line "$out" "\"type\":\"created\",\"name\":\"wprobe$i\"" 1 && break
	done
	for ((; i >= 0; i--)); do c destroy "wprobe$i"; done
	cgt_has_text "$out" '"created"' || fail "the watch shows no events: $(head -c 300 "$out.err")"
}

# Lines of the daemon's log matching ERE $1, after line $LOG_BASE (the log
# of ns_daemon_spawn is shared by the daemons of one run).
log_count() { tail -n +"$((LOG_BASE + 1))" "$DLOG" | grep -cE "$1"; }

test_readonly_at_run_time_degrades() {
	local w=$CGT_TMP/deg.watch i LOG_BASE=0
	[ -f "$CGT_LOGS/cgctld-ns.rw.log" ] && LOG_BASE=$(wc -l <"$CGT_LOGS/cgctld-ns.rw.log")
	ns_daemon_spawn "$CGT_MROOT" rw || return 1
	cgt_daemon_wait || return 1
	watch_all_ready "$w" || return 1
	c create a
	expect_rc 0 || return 1
	# The tree turns read-only under the running daemon: Create is NoDelegation, as at start.
	ns_remount ro || fail "cannot remount the daemon's view read-only" || return 1
	c create b
	expect_rc 1 "create on a tree turned read-only" || return 1
	expect_err NoDelegation || return 1
	expect_err "Read-only file system" || return 1
	expect_no_dir b || return 1
	c --json status
	expect_jq '.delegated == false and (.reason | test("stopped being writable by uid [0-9]+ at [0-9-]+T[0-9:]+Z \\(Read-only file system\\)"))' ||
		return 1
	c create --generate
	expect_rc 1 "create of a generated name while degraded" || return 1
	expect_err NoDelegation || return 1
	# Destroy stays honest: a never-made name is gone, an existing one cannot go.
	c destroy b
	expect_rc 0 "destroy of what could not be created" || return 1
	c destroy a
	expect_rc 1 "destroy of an existing cgroup on a read-only tree" || return 1
	expect_err "Read-only file system (the managed root is not writable: degraded mode" || return 1
	expect_dir a || return 1
	c --json list
	expect_jq '[.[].name] == ["a"] and .[0].state == "active"' || return 1
	# One log line for the transition, however many calls hit it.
	[ "$(log_count 'degraded mode: .*stopped being writable')" = 1 ] ||
		fail "want one 'degraded mode' log line: $(grep 'degraded' "$DLOG" | tr '\n' ';')" || return 1
	# Writable again: the next Create notices and goes through.
	ns_remount rw || return 1
	c create b
	expect_rc 0 "create once the tree is writable again" || return 1
	expect_dir b || return 1
	c --json status
	expect_jq '.delegated == true and .reason == null' || return 1
	[ "$(log_count 'is writable again: delegated')" = 1 ] || fail "want one 'writable again' log line" || return 1
	# Status notices by itself too, both ways, without a Create.
	ns_remount ro || return 1
	c --json status
	expect_jq '.delegated == false and (.reason | test("Read-only file system"))' || return 1
	ns_remount rw || return 1
	c --json status
	expect_jq '.delegated == true' || return 1
	[ "$(log_count 'degraded mode: ')" = 2 ] || fail "want two 'degraded mode' log lines" || return 1
	# Watchers saw each transition, with the reason.
	for ((i = 0; i < 50; i++)); do
		[ "$(grep -c '"type":"delegated"' "$w")" -ge 2 ] && break
		cgt_nap 0.1
	done
	[ "$(jq -r 'select(.name == "") | .type' "$w" | tr '\n' ' ')" = "degraded delegated degraded delegated " ] ||
		fail "watch events: $(jq -c 'select(.name == "")' "$w" | tr '\n' ' ')" || return 1
	jq -se 'map(select(.type == "degraded") | .details.reason | test("Read-only")) | length == 2 and all' "$w" >/dev/null ||
		fail "degraded event without its reason: $(grep degraded "$w" | head -1)" || return 1
	c destroy a && c destroy b
	expect_rc 0 || return 1
}

test_eacces_below_root_is_not_degraded() {
	cgt_daemon_start "" || return 1
	c create p
	expect_rc 0 || return 1
	# One parent the daemon cannot write (another program of the user chmod'ed it).
	chmod 0555 "$CGT_MROOT/p" || return 1
	c create p/q
	expect_rc 1 "create below an unwritable parent" || return 1
	expect_err PermissionDenied || return 1
	c --json status
	expect_jq '.delegated == true and .reason == null' || return 1
	chmod 0755 "$CGT_MROOT/p" || return 1
	c create p/q
	expect_rc 0 || return 1
	! cgt_has_text "$DLOG" 'degraded' || fail "logged degraded mode for one parent: $(grep degraded "$DLOG")" || return 1
}

# --- EBUSY: processes and children ------------------------------------------------

test_busy_without_kill_then_kill() {
	up || return 1
	local p1 p2
	c create w
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/w" || return 1
	# shellcheck disable=SC2153 # set by cgt_sleeper
	p1=$SPID
	cgt_sleeper "$CGT_MROOT/w" || return 1
	p2=$SPID
	c call io.cgctl.Manager.Destroy '{"name":"w"}'
	expect_rc 1 "destroy of a populated cgroup without kill" || return 1
	expect_err Busy || return 1
	expect_dir w || return 1
	kill -0 "$p1" && kill -0 "$p2" || fail "processes killed without kill" || return 1
	[ "$(sort "$CGT_MROOT/w/cgroup.procs" | tr '\n' ' ')" = "$(printf '%s\n' "$p1" "$p2" | sort | tr '\n' ' ')" ] ||
		fail "processes moved out of w" || return 1
	c --json list
	expect_jq '.[] | select(.name == "w") | .state == "active" and .populated == true' || return 1
	c destroy w --kill
	expect_rc 0 "destroy --kill" || return 1
	expect_no_dir w || return 1
	cgt_wait_gone "$p1" 2 && cgt_wait_gone "$p2" 2 || fail "a process survived destroy --kill" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

test_recursive_kill_depth_first() {
	up || return 1
	local pids=() p n
	for n in r r/a r/a/b r/a/b/c r/d; do
		c create "$n"
		expect_rc 0 || return 1
	done
	for n in r/a/b/c r/d; do
		cgt_sleeper "$CGT_MROOT/$n" || return 1
		pids+=("$SPID")
	done
	# Children without recursive: refused before anything is killed.
	c destroy r --kill
	expect_rc 1 "destroy of a cgroup with children, without recursive" || return 1
	expect_err Busy || return 1
	for p in "${pids[@]}"; do kill -0 "$p" || fail "destroy without recursive killed $p" || return 1; done
	expect_dir r/a/b/c || return 1
	c call io.cgctl.Manager.Destroy '{"name":"r","recursive":true,"kill":true}'
	expect_rc 0 || return 1
	expect_jq '.existed == true and (.removed | sort) == ["r", "r/a", "r/a/b", "r/a/b/c", "r/d"]' || return 1
	# Depth-first: nothing is removed before everything below it.
	# shellcheck disable=SC2016 # jq variables
	expect_jq '.removed as $r | all(range(0; $r | length) as $i | range($i + 1; $r | length) as $j
		| ($r[$j] | startswith($r[$i] + "/")) | not)' || fail "removal order not depth-first: $(jq -c .removed <<<"$OUT")" || return 1
	expect_no_dir r || return 1
	for p in "${pids[@]}"; do cgt_wait_gone "$p" 2 || fail "process $p survived" || return 1; done
	c --json list
	expect_jq 'length == 0' || return 1
}

test_foreign_child_blocks_destroy() {
	up || return 1
	local before fpid
	c create p && c create p/ours
	expect_rc 0 || return 1
	# Somebody else's cgroup inside ours, with a process.
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/p/foreign" || return 1
	cgt_sleeper "$CGT_MROOT/p/foreign" || return 1
	fpid=$SPID
	cgt_tree
	before=$CGT_TREE
	c destroy p
	expect_rc 1 "destroy p (children)" || return 1
	expect_err Busy || return 1
	c destroy p/ours
	expect_rc 0 "destroy of our own child" || return 1
	cgt_tree
	before=$CGT_TREE
	c destroy p
	expect_rc 1 "destroy p with a foreign child" || return 1
	expect_err Busy || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "destroy touched the tree: ${CGT_TREE//$'\n'/ }" || return 1
	kill -0 "$fpid" || fail "destroy without kill killed the foreign child's process" || return 1
	c destroy p --recursive --kill
	expect_rc 1 "destroy p --recursive --kill with a foreign child" || return 1
	expect_err Busy || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "destroy --recursive --kill touched the tree: ${CGT_TREE//$'\n'/ }" || return 1
	c --json list
	expect_jq '[.[] | select(.name == "p" and .state == "active")] | length == 1' || return 1
	# What cannot be removed must not be emptied either.
	cgt_proc_state_v "$fpid"
	kill -0 "$fpid" && [ "$CGT_STATE" != Z ] ||
		fail "destroy --kill killed the process of a child cgroup cgctld did not create, then failed anyway" || return 1
}

# --- what people see: ledger state and figures -----------------------------------

test_list_shows_ledger_state() {
	up || return 1
	c create a && c create a/b && c create --delegate dl && c create --generate
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/a/b" || return 1
	c --json list
	expect_jq 'length == 4 and all(.[]; .state == "active")' || return 1
	c list
	expect_rc 0 || return 1
	# One line per entry, each with its ledger state, then populated/empty and flags.
	[ "$(grep -c ' active ' <<<"$OUT")" = 4 ] || fail "not every entry shows its state: $OUT" || return 1
	# populated covers the subtree (cgroup.events): a holds a/b's process.
	grep -qE '^a +active +populated$' <<<"$OUT" || fail "line of a: $(grep '^a' <<<"$OUT")" || return 1
	grep -qE '└─b +active +populated$' <<<"$OUT" || fail "line of a/b: $OUT" || return 1
	grep -qE '^dl +active +empty +delegate$' <<<"$OUT" || fail "line of dl: $OUT" || return 1
	grep -qE '^cg-[0-9a-f]+ +active +empty +generated$' <<<"$OUT" || fail "line of the generated entry: $OUT" || return 1
}

test_status_shows_ledger_figures() {
	local bin=$CGT_TMP/bin/crash_torture state json n lines
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	up || return 1
	state=$DSTATE
	c create keep && c create vanish && c create keep/inner
	expect_rc 0 || return 1
	# Enough churn to compact: the files stay O(live entries).
	cgt_as_user_in "$CGT_WORK" "$bin" churn "$DSOCK" 300 || fail "churn failed" || return 1
	c --json status
	expect_rc 0 || return 1
	json=$OUT
	expect_jq '.ledger.entries == 3 and .ledger.compactions >= 1 and .ledger.last_compaction > 0' || return 1
	n=$(stat -c %s "$state/journal.jsonl")
	lines=$(wc -l <"$state/journal.jsonl")
	expect_jq ".ledger.journal_bytes == $n and .ledger.journal_records == $lines" ||
		fail "status figures vs the journal on disk ($n bytes, $lines records)" || return 1
	[ "$lines" -le 1024 ] || fail "journal not compacted: $lines records for 3 entries" || return 1
	jq -e '[.entries[].name] | sort == ["keep", "keep/inner", "vanish"]' "$state/ledger.json" >/dev/null ||
		fail "snapshot: $(jq -c '[.entries[].name]' "$state/ledger.json")" || return 1
	c status
	expect_rc 0 || return 1
	grep -qE '^Entries: +3$' <<<"$OUT" || fail "status lacks 'Entries: 3'" || return 1
	grep -qE "^Journal: +$n bytes, $lines records$" <<<"$OUT" || fail "status lacks the journal size ($n bytes, $lines records)" || return 1
	grep -qE "^Compactions: +$(jq .ledger.compactions <<<"$json"), last [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8}" <<<"$OUT" ||
		fail "status lacks the compaction count and time" || return 1
	grep -qE '^Reconcile: +dropped 0, rolled back 0, resumed 0, unknown 0$' <<<"$OUT" || fail "status lacks the reconcile line" || return 1
	# After a restart: the findings, by name.
	cgt_daemon_stop || return 1
	rmdir "$CGT_MROOT/vanish"
	mkdir "$CGT_MROOT/stray"
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$state" || return 1
	c status
	expect_rc 0 || return 1
	grep -qE '^Entries: +2$' <<<"$OUT" || fail "status lacks 'Entries: 2'" || return 1
	grep -qE '^Reconcile: +dropped 1, rolled back 0, resumed 0, unknown 1$' <<<"$OUT" || fail "reconcile line after restart" || return 1
	grep -qE '^ +dropped: +vanish$' <<<"$OUT" || fail "status does not name the dropped entry" || return 1
	grep -qE '^ +unknown: +stray$' <<<"$OUT" || fail "status does not name the unknown directory" || return 1
	expect_dir stray || return 1
}
