# SPDX-License-Identifier: MIT
# t_proc.sh: processes and resources on the real kernel: attach, limits, stats, freeze, kill, run, clone3.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Default daemon: in cgctld/, default socket, fresh state dir.
up() { cgt_daemon_start ""; }

# /proc/PID/cgroup form of managed cgroup $1.
cg_of() { cgt_cg_relpath "$CGT_MROOT/$1"; }

# pid $1 sits in managed cgroup $2.
expect_in_cg() {
	cgt_proc_cgroup_v "$1"
	cgt_cg_relpath_v "$CGT_MROOT/$2"
	[ "$CGT_CGROUP" = "$CGT_RELPATH" ] || fail "pid $1 in $CGT_CGROUP, want $CGT_RELPATH"
}

# Kernel file $1 (relative to the managed root) reads $2.
expect_file() {
	local have
	have=$(cat "$CGT_MROOT/$1" 2>&1)
	[ "$have" = "$2" ] || fail "$1 reads '$have', want '$2'${3:+ ($3)}"
}

# Skip unless the managed root's children get hugetlb with a 2MB page size.
need_hugetlb() {
	if cgt_has_word "$CGT_MROOT/cgroup.subtree_control" hugetlb && [ -e "$CGT_MROOT/$1/hugetlb.2MB.max" ]; then
		return 0
	fi
	skip "no hugetlb controller with 2MB pages for managed cgroups"
}

test_proc_attach_pid() {
	up || return 1
	c create a
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	local s1=$SPID
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	c attach a "$s1" "$SPID"
	expect_rc 0 "attach a $s1 $SPID" || return 1
	expect_in_cg "$s1" a || return 1
	expect_in_cg "$SPID" a || return 1
	# stats --json lists them, and the cgroup is populated.
	c --json stats a
	expect_rc 0 || return 1
	expect_jq ".populated == true and .frozen == false and (.pids | index($s1) != null and index($SPID) != null)" || return 1
	c stats a
	expect_rc 0 "stats (text)" || return 1
	grep -q "^pids:.* $s1" <<<"$OUT" || fail "stats text lacks pid $s1" || return 1
	# A pid that does not exist, a name that does not.
	c attach a 4194000
	expect_rc 1 "attach of a missing pid" || return 1
	c attach nosuch "$s1"
	expect_rc 1 "attach to a missing cgroup" || return 1
	expect_err NotFound || return 1
	c attach a notapid
	expect_rc 2 "attach a notapid" || return 1
}

test_proc_attach_pidfd() {
	up || return 1
	c create p
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	local s1=$SPID
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	c attach --pidfd p "$s1" "$SPID"
	expect_rc 0 "attach --pidfd" || return 1
	expect_in_cg "$s1" p || return 1
	expect_in_cg "$SPID" p || return 1
	cgt_has_text "$DLOG" "attached 2 process" || fail "daemon log lacks the attach" || return 1
}

test_proc_attach_outside_subtree() {
	up || return 1
	c create o
	expect_rc 0 || return 1
	# Root starts a sleeper where the harness runs: outside the user's delegated
	# subtree, so the common ancestor (a root-owned cgroup) is not the user's to write.
	/bin/sleep 300 >/dev/null 2>&1 &
	local pid=$! before
	cgt_track_pid "$pid"
	before=$(cgt_proc_cgroup "$pid")
	case $before in "$(cgt_cg_relpath "$CGT_SCRATCH")"*) skip "the harness runs inside its scratch subtree"; return ;; esac
	c attach o "$pid"
	expect_rc 1 "attach of a process outside the subtree" || return 1
	expect_err PermissionDenied || return 1
	expect_err "common ancestor" || return 1
	[ "$(cgt_proc_cgroup "$pid")" = "$before" ] || fail "the process moved anyway" || return 1
	c attach --pidfd o "$pid"
	expect_rc 1 "attach --pidfd of a process outside the subtree" || return 1
	expect_err PermissionDenied || return 1
}

# --- the systemd fallback against a fake user manager (fake_user_manager.py) ---

# Milliseconds on the wall clock.
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# cgroup $1 is removed within 5 s: what cgctl run's lease does once it has exited.
run_gone() {
	local i=0
	while [ -d "$CGT_MROOT/$1" ] && [ "$i" -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	expect_no_dir "$1" "${2:-}"
}

# Run "$@" as the test user from workloads/ in the background, stdout and
# stderr to file $1; BGPID is the command itself.
bg_user() {
	local out=$1
	shift
	: >"$out" && chown "$CGT_UID:$CGT_GID" "$out" || return 1
	# shellcheck disable=SC2016
	cgt_spawn_user_in "$CGT_WORK" sh -c 'o=$1; shift; exec "$@" >"$o" 2>&1' sh "$out" "$@"
}

# A root process outside the user's delegated subtree, which the kernel will
# not let the daemon move (common-ancestor rule); sets FOREIGN_PID.
outsider() {
	/bin/sleep 300 >/dev/null 2>&1 &
	FOREIGN_PID=$!
	cgt_track_pid "$FOREIGN_PID"
	cgt_proc_cgroup_v "$FOREIGN_PID"
	cgt_cg_relpath_v "$CGT_SCRATCH"
	case $CGT_CGROUP in "$CGT_RELPATH"*) skip "the harness runs inside its scratch subtree"; return ;; esac
}

# Start the fake user manager in mode $1 (reply delay $2 s) as the test user on
# the daemon's $XDG_RUNTIME_DIR/systemd/private; wait until it listens. Sets
# FUM_PID, FUM_LOG. The socket's directory goes when the test ends.
fum_start() {
	local py=$CGT_TMP/bin/fake_user_manager.py i
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	[ -f "$py" ] || install -m 0644 "$HERE/fake_user_manager.py" "$py" || return 1
	if [ ! -e "$CGT_TMP/fum.deferred" ]; then
		: >"$CGT_TMP/fum.deferred"
		trap cgt_run_deferred EXIT
		cgt_defer rm -rf "$CGT_RUN/systemd" "$CGT_TMP/fum.deferred"
	fi
	FUM_LOG=$CGT_TMP/fum.$1.log
	printf '+ fake user manager: %s %s\n' "$1" "${2:-0}"
	bg_user "$FUM_LOG" /usr/bin/python3 -S "$py" "$1" "$CGT_RUN/systemd/private" "${2:-0}" || return 1
	FUM_PID=$BGPID
	for ((i = 0; i < CGT_TIMEOUT * 20; i++)); do
		grep -qx listening "$FUM_LOG" && return 0
		cgt_nap 0.05
	done
	fail "the fake user manager did not start: $(head -c 300 "$FUM_LOG")"
}

# Stop the fake user manager (it removes its socket); show its log.
fum_stop() {
	kill -TERM "$FUM_PID" 2>/dev/null
	cgt_wait_gone "$FUM_PID" 5
	sed 's/^/  fum: /' "$FUM_LOG"
}

# Default daemon, waiting at most $1 ms for the systemd user manager.
up_sd_timeout() {
	# shellcheck disable=SC2034 # read by cgt_daemon_spawn_env (dynamic scope)
	local CGT_DAEMON_ENV=("CGCTLD_SYSTEMD_TIMEOUT_MS=$1")
	cgt_daemon_start_env ""
}

# Stop the daemon; it must exit 0 (an ASan or valgrind finding makes it fail).
stop_clean() {
	cgt_daemon_stop || fail "cgctld did not stop" || return 1
	[ "$DEXIT" = 0 ] || fail "cgctld exited $DEXIT$(grep -m1 -E 'Sanitizer|ERROR SUMMARY' "$DLOG" | sed 's/^/: /')"
}

# Wait until the fake user manager's log has $1 lines matching $2 (default: calls).
fum_wait() {
	local want=$1 re=${2:-^call } i
	for ((i = 0; i < CGT_TIMEOUT * 20; i++)); do
		[ "$(grep -c "$re" "$FUM_LOG")" -ge "$want" ] && return 0
		cgt_nap 0.05
	done
	fail "the fake user manager saw $(grep -c "$re" "$FUM_LOG") of $want '$re' in ${CGT_TIMEOUT}s: $(tr '\n' ' ' <"$FUM_LOG" | head -c 300)"
}

test_proc_attach_systemd_pending_keeps_serving() {
	# The fallback waits for the user manager in the loop: other clients are
	# served meanwhile, and the wait ends at the timeout with the usual error.
	# "Meanwhile" is checked, not a speed: both Attach calls are still pending
	# when status and list have been answered. The user manager's timeout
	# (6 s) leaves a loaded machine room to answer them; a daemon that blocks
	# in the wait answers them only after the Attach calls have failed.
	local t0 t1 ms a1 a2 rc1 rc2 before
	outsider || return
	before=$(cgt_proc_cgroup "$FOREIGN_PID")
	fum_start hang || return 1
	up_sd_timeout 6000 || return 1
	c create o
	expect_rc 0 || return 1
	t0=$(now_ms)
	bg_user "$CGT_TMP/attach1.out" "$CGCTL" --socket "$DSOCK" attach o "$FOREIGN_PID" || return 1
	a1=$BGPID
	bg_user "$CGT_TMP/attach2.out" "$CGCTL" --socket "$DSOCK" attach o "$FOREIGN_PID" || return 1
	a2=$BGPID
	# Both calls reached the user manager, each on its own connection.
	fum_wait 2 || return 1
	cgt_has_text "$FUM_LOG" "call /org/freedesktop/systemd1 AttachProcessesToUnit ['', '/o', [$FOREIGN_PID]]" ||
		fail "not the expected AttachProcessesToUnit call: $(grep -m1 '^call' "$FUM_LOG")" || return 1
	[ "$(grep -c '^connected' "$FUM_LOG")" = 2 ] || fail "$(grep -c '^connected' "$FUM_LOG") connections, want 2" || return 1
	t1=$(now_ms)
	c status
	expect_rc 0 "status while two Attach calls wait" || return 1
	c --json list
	expect_rc 0 "list while two Attach calls wait" || return 1
	expect_jq 'map(.name) == ["o"]' || return 1
	ms=$(($(now_ms) - t1))
	printf '  status + list answered in %s ms\n' "$ms"
	kill -0 "$a1" 2>/dev/null && kill -0 "$a2" 2>/dev/null ||
		fail "status + list were answered only after an Attach had ended: $(cat "$CGT_TMP/attach1.out" "$CGT_TMP/attach2.out")" || return 1
	wait "$a1"
	rc1=$?
	wait "$a2"
	rc2=$?
	ms=$(($(now_ms) - t0))
	printf '  attach 1: rc=%s %s\n  attach 2: rc=%s %s\n  after %s ms\n' "$rc1" "$(cat "$CGT_TMP/attach1.out")" \
		"$rc2" "$(cat "$CGT_TMP/attach2.out")" "$ms"
	[ "$rc1" = 1 ] && [ "$rc2" = 1 ] || fail "attach exits $rc1 and $rc2, want 1 and 1" || return 1
	for f in "$CGT_TMP/attach1.out" "$CGT_TMP/attach2.out"; do
		ERR=$(cat "$f")
		expect_err "PermissionDenied: the kernel refused to move process $FOREIGN_PID: the common ancestor" || return 1
		expect_err "the systemd user manager could not move it either (Connection timed out)" || return 1
	done
	[ "$ms" -ge 5900 ] || fail "the Attach calls failed after $ms ms, before the 6000 ms timeout" || return 1
	[ "$(cgt_proc_cgroup "$FOREIGN_PID")" = "$before" ] || fail "the process moved anyway" || return 1
	c status
	expect_rc 0 "status after the timeouts" || return 1
	stop_clean || return 1
	fum_stop
}

test_proc_attach_systemd_silent_peer_times_out() {
	# A peer that accepts but never authenticates: the timeout covers the
	# connection too (sd-bus alone would wait for its own, longer, auth timeout).
	local t0 ms
	outsider || return
	fum_start mute || return 1
	up_sd_timeout 1500 || return 1
	c create o
	expect_rc 0 || return 1
	t0=$(now_ms)
	c attach o "$FOREIGN_PID"
	ms=$(($(now_ms) - t0))
	expect_rc 1 || return 1
	expect_err PermissionDenied || return 1
	expect_err "could not move it either (Connection timed out)" || return 1
	# Not before the 1500 ms timeout; and before sd-bus's own (25 s or more),
	# with a margin no loaded machine needs (how fast is not checked).
	[ "$ms" -ge 1400 ] && [ "$ms" -lt 20000 ] || fail "attach failed after $ms ms, want the 1500 ms timeout" || return 1
	cgt_has_line "$FUM_LOG" connected || fail "the daemon never connected to the fake user manager" || return 1
	stop_clean || return 1
	fum_stop
}

test_proc_attach_systemd_answers() {
	# What the user manager answers is what the client hears; pids move in order,
	# the kernel's first, and the log says how far an Attach got.
	local mode pid
	outsider || return
	up || return 1
	c create o
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	for mode in ok deny drop; do
		fum_start "$mode" 0.2 || return 1
		c attach o "$SPID" "$FOREIGN_PID"
		case $mode in
		ok)
			expect_rc 0 "attach with a user manager that says yes" || return 1
			grep -q "attached 2 process(es) to o" "$DLOG" || fail "daemon log lacks the attach" || return 1
			;;
		deny)
			expect_rc 1 || return 1
			expect_err "PermissionDenied: the kernel refused to move process $FOREIGN_PID" || return 1
			expect_err "could not move it either (Permission denied)" || return 1
			cgt_has_text "$DLOG" "systemd could not attach pid $FOREIGN_PID to /o: fake user manager says no" ||
				fail "daemon log lacks the user manager's message" || return 1
			grep -q "1 process(es) moved before pid $FOREIGN_PID failed" "$DLOG" ||
				fail "daemon log lacks how far the attach got" || return 1
			;;
		drop)
			expect_rc 1 || return 1
			expect_err "could not move it either (Connection reset by peer)" || return 1
			;;
		esac
		expect_in_cg "$SPID" o || return 1
		fum_stop
		cgt_has_text "$FUM_LOG" "AttachProcessesToUnit ['', '/o', [$FOREIGN_PID]]" ||
			fail "$mode: not the expected call: $(grep -m1 '^call' "$FUM_LOG")" || return 1
	done
	stop_clean
}

test_proc_attach_systemd_client_hangs_up() {
	# The client goes while the user manager thinks about its first pid: that
	# request runs to its end (its answer goes into the void), the remaining
	# pids are not sent to systemd (a gone client must not keep the pool of
	# systemd requests busy), and the daemon carries on.
	local o2 i
	outsider || return
	o2=$FOREIGN_PID
	outsider || return
	fum_start ok 0.5 || return 1
	up || return 1
	c create o
	expect_rc 0 || return 1
	bg_user "$CGT_TMP/attach.out" "$CGCTL" --socket "$DSOCK" attach o "$o2" "$FOREIGN_PID" || return 1
	fum_wait 1 || return 1
	kill -TERM "$BGPID"
	cgt_wait_gone "$BGPID" 5 || fail "the client did not go" || return 1
	c status
	expect_rc 0 "status after the client hung up" || return 1
	fum_wait 1 '^replied' || return 1
	for ((i = 0; i < 40; i++)); do
		grep -q "client gone; stopped after 1 of 2 process(es)" "$DLOG" && break
		cgt_nap 0.05
	done
	grep -q "client gone; stopped after 1 of 2 process(es)" "$DLOG" ||
		fail "daemon log lacks the stopped attach" || return 1
	c status
	expect_rc 0 "status after the abandoned attach" || return 1
	stop_clean || return 1
	fum_stop
	cgt_has_text "$FUM_LOG" "AttachProcessesToUnit ['', '/o', [$o2]]" || fail "pid $o2 was not asked for" || return 1
	! cgt_has_text "$FUM_LOG" "AttachProcessesToUnit ['', '/o', [$FOREIGN_PID]]" ||
		fail "pid $FOREIGN_PID was sent to systemd after the client had gone" || return 1
}

test_proc_attach_systemd_daemon_stops() {
	# SIGTERM while an Attach waits for the user manager: the wait is cancelled,
	# the client told so, the daemon gone at once (not after the timeout).
	local t0 ms rc
	outsider || return
	fum_start hang || return 1
	up_sd_timeout 20000 || return 1
	c create o
	expect_rc 0 || return 1
	bg_user "$CGT_TMP/attach.out" "$CGCTL" --socket "$DSOCK" attach o "$FOREIGN_PID" || return 1
	fum_wait 1 || return 1
	t0=$(now_ms)
	stop_clean || return 1
	ms=$(($(now_ms) - t0))
	# Not a speed: "at once" is that the wait was cancelled (the client is told
	# the daemon is stopping, below), not waited out (it would be told the user
	# manager timed out).
	printf '  stopped in %s ms\n' "$ms"
	wait "$BGPID"
	rc=$?
	ERR=$(cat "$CGT_TMP/attach.out")
	printf '  attach: rc=%s %s\n' "$rc" "$ERR"
	[ "$rc" = 1 ] || fail "attach exit $rc, want 1" || return 1
	expect_err "Timeout: cgctld is stopping" || return 1
	fum_wait 1 '^closed' || return 1
	fum_stop
}

test_proc_hugetlb_and_descendants() {
	up || return 1
	c create h
	expect_rc 0 || return 1
	need_hugetlb h || return
	c set h hugetlb.2MB.max=4M
	expect_rc 0 "set hugetlb.2MB.max=4M" || return 1
	expect_file h/hugetlb.2MB.max 4194304 || return 1
	c set h cgroup.max.descendants=2
	expect_rc 0 "set cgroup.max.descendants=2" || return 1
	expect_file h/cgroup.max.descendants 2 || return 1
	# Flags are the same keys.
	c set h --hugetlb 2MB=6M
	expect_rc 0 || return 1
	expect_file h/hugetlb.2MB.max 6291456 || return 1
	c set h hugetlb.2MB.max=max cgroup.max.descendants=max
	expect_rc 0 || return 1
	expect_file h/hugetlb.2MB.max max || return 1
	expect_file h/cgroup.max.descendants max || return 1
	c set h hugetlb.2MB.max=4M cgroup.max.descendants=2
	expect_rc 0 || return 1
	# The kernel's limit really holds: a third child is refused.
	c create h/x1 && c create h/x2
	expect_rc 0 || return 1
	c create h/x3
	expect_rc 1 "create beyond cgroup.max.descendants" || return 1
	expect_no_dir h/x3 || return 1
}

test_proc_create_with_limits() {
	up || return 1
	c create --hugetlb 2MB=8M --set cgroup.max.descendants=5 hc
	expect_rc 0 "create with limits" || return 1
	need_hugetlb hc || return
	expect_file hc/hugetlb.2MB.max 8388608 || return 1
	expect_file hc/cgroup.max.descendants 5 || return 1
	# A refused limit fails the create and leaves nothing behind.
	c create --set cgroup.max.descendants=-1 hbad
	expect_rc 1 "create with a bad limit" || return 1
	expect_err InvalidValue || return 1
	expect_no_dir hbad || return 1
}

test_proc_invalid_values_write_nothing() {
	up || return 1
	c create v
	expect_rc 0 || return 1
	need_hugetlb v || return
	c set v hugetlb.2MB.max=4M cgroup.max.descendants=7
	expect_rc 0 || return 1
	# The daemon validates: a negative, a non-number, a bad page size.
	c call SetResources '{"name": "v", "resources": {"hugetlb": [{"pagesize": "2MB", "max": "-5"}]}}'
	expect_rc 1 || return 1
	expect_err InvalidValue || return 1
	c call SetResources '{"name": "v", "resources": {"hugetlb": [{"pagesize": "2MB", "max": "12abc"}]}}'
	expect_rc 1 || return 1
	expect_err InvalidValue || return 1
	c call SetResources '{"name": "v", "resources": {"hugetlb": [{"pagesize": "3XB", "max": "0"}]}}'
	expect_rc 1 || return 1
	expect_err InvalidValue || return 1
	# The kernel refuses the second write: the first is rolled back.
	c set v hugetlb.2MB.max=2M cgroup.max.descendants=-1
	expect_rc 1 "set with a value the kernel refuses" || return 1
	expect_err InvalidValue || return 1
	# Files that must never be written through this door.
	c set v cgroup.procs=1
	expect_rc 1 "set cgroup.procs" || return 1
	expect_err InvalidValue || return 1
	c set v cgroup.subtree_control=+hugetlb
	expect_rc 1 "set cgroup.subtree_control" || return 1
	# The CLI refuses what it cannot parse, before any call.
	c set v hugetlb.2MB.max=lots
	expect_rc 2 "set hugetlb.2MB.max=lots" || return 1
	c set v nokey
	expect_rc 2 "set v nokey" || return 1
	expect_file v/hugetlb.2MB.max 4194304 "after the refused sets" || return 1
	expect_file v/cgroup.max.descendants 7 "after the refused sets" || return 1
	[ -z "$(cat "$CGT_MROOT/v/cgroup.procs")" ] || fail "cgroup.procs of v changed" || return 1
}

test_proc_controller_unavailable() {
	up || return 1
	c create u
	expect_rc 0 || return 1
	[ ! -e "$CGT_MROOT/u/memory.max" ] || { skip "memory controller available here"; return; }
	need_hugetlb u || return
	c set u hugetlb.2MB.max=4M
	expect_rc 0 || return 1
	c set u hugetlb.2MB.max=2M memory.max=64M
	expect_rc 1 "set memory.max without the memory controller" || return 1
	expect_err ControllerUnavailable || return 1
	expect_err memory || return 1
	expect_file u/hugetlb.2MB.max 4194304 "after ControllerUnavailable" || return 1
	c set u --pids-max 10
	expect_rc 1 || return 1
	expect_err ControllerUnavailable || return 1
	expect_err pids || return 1
	c create --memory-max 1G u2
	expect_rc 1 "create with memory.max" || return 1
	expect_err ControllerUnavailable || return 1
	expect_no_dir u2 || return 1
}

test_proc_freeze_thaw() {
	up || return 1
	c create f
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/f" || fail "cannot place a sleeper in f" || return 1
	c freeze f
	expect_rc 0 "freeze" || return 1
	cgt_has_line "$CGT_MROOT/f/cgroup.events" 'frozen 1' || fail "cgroup.events: $(tr '\n' ' ' <"$CGT_MROOT/f/cgroup.events")" || return 1
	printf 'frozen sleeper: %s\n' "$(grep '^State:' "/proc/$SPID/status")"
	c --json stats f
	expect_jq '.frozen == true' || return 1
	c freeze f
	expect_rc 0 "freeze when frozen" || return 1
	c thaw f --timeout 5000
	expect_rc 0 "thaw" || return 1
	cgt_has_line "$CGT_MROOT/f/cgroup.events" 'frozen 0' || fail "cgroup.events after thaw: $(tr '\n' ' ' <"$CGT_MROOT/f/cgroup.events")" || return 1
	kill -0 "$SPID" || fail "sleeper gone after thaw" || return 1
	c --json stats f
	expect_jq '.frozen == false' || return 1
	c freeze nosuch
	expect_rc 1 || return 1
	expect_err NotFound || return 1
}

# Start a shell with two sleeping children as the test user in managed cgroup $1; sets BGPID.
tree_in() {
	local i
	cgt_spawn_user_in "$CGT_MROOT/$1" sh -c 'sleep 300 & sleep 300 & wait'
	for i in $(seq 100); do
		[ "$i" -gt 0 ] || break
		[ "$(wc -l <"$CGT_MROOT/$1/cgroup.procs")" -ge 3 ] && return 0
		cgt_nap 0.05
	done
	fail "the process tree did not start in $1: $(cat "$CGT_MROOT/$1/cgroup.procs")"
}

test_proc_kill_tree() {
	up || return 1
	local pids p
	c create k
	expect_rc 0 || return 1
	tree_in k || return 1
	pids=$(cat "$CGT_MROOT/k/cgroup.procs")
	c kill k
	expect_rc 0 "kill (SIGKILL)" || return 1
	cgt_wait_event "$CGT_MROOT/k" populated 0 || fail "k still populated after kill" || return 1
	for p in $pids; do cgt_wait_gone "$p" 2 || fail "pid $p survived the kill" || return 1; done
	wait "$BGPID" 2>/dev/null
	[ $? = 137 ] || fail "the shell was not SIGKILLed" || return 1
	# Other signals go to every process too.
	tree_in k || return 1
	c kill k --signal TERM
	expect_rc 0 "kill --signal TERM" || return 1
	cgt_wait_event "$CGT_MROOT/k" populated 0 || fail "k still populated after TERM" || return 1
	wait "$BGPID" 2>/dev/null
	[ $? = 143 ] || fail "the shell did not die of SIGTERM" || return 1
	c kill k --signal SIGKILL
	expect_rc 0 "kill of an empty cgroup" || return 1
	c kill k --signal NOSUCHSIG
	expect_rc 2 || return 1
}

# Kill with a signal reaches every process of a cgroup that holds more
# processes than the daemon has descriptors left: it pins each with a pidfd,
# as many at a time as its limit allows. It failed (SystemError EMFILE,
# nothing signalled) on the cgroup itself, and below it said 0 with every
# process of the crowded cgroup left alive.
test_proc_kill_more_procs_than_fds() {
	local n=450 have left rc
	cgt_daemon_wrap prlimit --nofile=400:400
	cgt_daemon_start "" --max-connections 4 --max-pressure-triggers-per-uid 1
	rc=$?
	cgt_daemon_unwrap
	[ "$rc" = 0 ] || return 1
	c create k && c create k/in
	expect_rc 0 || return 1
	# shellcheck disable=SC2016 # expanded by that shell
	cgt_spawn_user_in "$CGT_MROOT/k/in" sh -c 'i=0; while [ $i -lt "$1" ]; do sleep 300 & i=$((i + 1)); done; wait' \
		sh "$n"
	for _ in $(seq 400); do
		have=$(wc -l <"$CGT_MROOT/k/in/cgroup.procs")
		[ "$have" -gt "$n" ] && break
		cgt_nap 0.05
	done
	[ "$have" -gt "$n" ] || fail "only $have processes started in k/in" || return 1
	c kill k --signal TERM
	if [ "$RC" != 0 ] || ! cgt_wait_event "$CGT_MROOT/k" populated 0; then
		left=$(wc -l <"$CGT_MROOT/k/in/cgroup.procs")
		echo 1 >"$CGT_MROOT/k/cgroup.kill"
		fail "kill --signal TERM (daemon at 400 descriptors): exit $RC (${ERR:0:200}), $left of $have processes left"
		return 1
	fi
	wait "$BGPID" 2>/dev/null
	[ $? = 143 ] || fail "the shell did not die of SIGTERM" || return 1
}

# usage_usec of managed cgroup $1, as GetStats reports it.
usage_of() {
	c --json stats "$1" >/dev/null
	jqo '.files["cpu.stat"].usage_usec // empty'
}

test_proc_cpu_usage_rises() {
	up || return 1
	local before after kernel
	c create busy
	expect_rc 0 || return 1
	before=$(usage_of busy)
	[ -n "$before" ] || fail "stats has no cpu.stat usage_usec: ${OUT:0:300}" || return 1
	cgt_spawn_user_in "$CGT_MROOT/busy" timeout 0.5 sh -c 'while :; do :; done'
	wait "$BGPID"
	after=$(usage_of busy)
	kernel=$(awk '$1 == "usage_usec" { print $2 }' "$CGT_MROOT/busy/cpu.stat")
	printf 'usage_usec before %s after %s kernel %s\n' "$before" "$after" "$kernel"
	[ "$after" -gt "$before" ] || fail "usage_usec did not rise: $before -> $after" || return 1
	[ "$kernel" -ge "$after" ] || fail "kernel usage_usec $kernel below reported $after" || return 1
}

test_proc_run_exit_status() {
	up || return 1
	c run -- sh -c 'exit 7'
	expect_rc 7 "run sh -c 'exit 7'" || return 1
	c run -- true
	expect_rc 0 || return 1
	# shellcheck disable=SC2016
	c run -- sh -c 'kill -TERM $$'
	expect_rc 143 "run of a command killed by TERM" || return 1
	# Under the test's own tmp dir: a /nonexistent some program made gives 126.
	c run -- "$CGT_TMP/no-such-dir/cmd"
	expect_rc 127 "run of a missing command" || return 1
	expect_err "$CGT_TMP/no-such-dir/cmd" || return 1
	c run
	expect_rc 2 "run without CMD" || return 1
	c create taken
	c run --name taken -- true
	expect_rc 125 "run --name of an existing cgroup" || return 1
	expect_err AlreadyExists || return 1
	c run --keep --wait-cleanup -- true
	expect_rc 2 "run --keep --wait-cleanup" || return 1
	# Nothing left behind but the one we made, once the leases are released.
	c run --wait-cleanup -- true
	expect_rc 0 || return 1
	cgt_nap 0.2
	cgt_tree
	case $CGT_TREE in
	'' | ./cgctld.leaf | ./taken | ./cgctld.leaf$'\n'./taken) ;;
	*) fail "left in the managed root: ${CGT_TREE//$'\n'/ }"; return 1 ;;
	esac
}

test_proc_run_inside_and_cleanup() {
	up || return 1
	local line
	c run -v --name r1 -- cat /proc/self/cgroup
	expect_rc 0 || return 1
	cgt_text_has_line "$OUT" "0::$(cg_of r1)" || fail "CMD did not run in r1: $OUT" || return 1
	printf 'start path: %s\n' "$(grep -o '([a-z0-9]*)$' <<<"$ERR")"
	run_gone r1 "after run" || return 1
	# The fallback: a child the daemon attaches before it execs.
	c run -v --no-clone3 --name r2 -- cat /proc/self/cgroup
	expect_rc 0 || return 1
	cgt_text_has_line "$OUT" "0::$(cg_of r2)" || fail "CMD (attach path) did not run in r2: $OUT" || return 1
	expect_err "(attach)" || return 1
	run_gone r2 "after run" || return 1
	# --keep: the cgroup stays and its name is on stderr.
	c run --keep --name r3 -- true
	expect_rc 0 || return 1
	expect_err "kept cgroup r3" || return 1
	expect_dir r3 "after run --keep" || return 1
	# A generated name, cleaned up too; and background children are killed with it.
	c run -- sh -c 'sleep 300 & cat /proc/self/cgroup'
	expect_rc 0 || return 1
	line=$(grep '^0::' <<<"$OUT")
	case ${line#0::} in "$(cgt_cg_relpath "$CGT_MROOT")"/?*) ;; *) fail "generated run cgroup $line not below the managed root"; return 1 ;; esac
	run_gone "${line#0::"$(cgt_cg_relpath "$CGT_MROOT")"/}" "after run with a generated name" || return 1
	c --json list
	expect_jq '[.[].name] == ["r3"]' || return 1
	# Limits apply before CMD starts.
	if cgt_has_word "$CGT_MROOT/cgroup.subtree_control" hugetlb; then
		# shellcheck disable=SC2016
		c run --name r4 --hugetlb 2MB=2M -- sh -c 'cat "$1"' sh "$CGT_MROOT/r4/hugetlb.2MB.max"
		expect_rc 0 || return 1
		[ "$OUT" = 2097152 ] || fail "CMD saw hugetlb.2MB.max '$OUT'" || return 1
	fi
}

# Start `cgctl run --name NAME -- sh -c SCRIPT` as the test user in the background; BGPID is cgctl.
run_bg() {
	cgt_spawn_user_in "$CGT_WORK" "$CGCTL" --socket "$DSOCK" run --name "$1" -- sh -c "$2"
}

test_proc_run_forwards_signals() {
	up || return 1
	local f=$CGT_RUN/trap.out rc
	rm -f "$f" "$f.ready"
	# shellcheck disable=SC2016
	run_bg sig "trap 'echo got TERM >$f; exit 3' TERM; echo up >$f.ready; while :; do sleep 0.1; done"
	cgt_wait_file "$f.ready" || fail "CMD did not start: $(cat "$CGT_TMP/bg.err")" || return 1
	[ "$(cgt_proc_cgroup "$BGPID")" != "$(cg_of sig)" ] || fail "cgctl run itself moved into the cgroup" || return 1
	kill -TERM "$BGPID"
	wait "$BGPID"
	rc=$?
	cat "$CGT_TMP/bg.err"
	[ "$rc" = 3 ] || fail "cgctl run exited $rc, want 3 (the trap's status)" || return 1
	[ "$(cat "$f" 2>/dev/null)" = "got TERM" ] || fail "CMD did not see SIGTERM" || return 1
	run_gone sig "after run" || return 1
	# Without a trap CMD dies of the signal: 128+15.
	rm -f "$f.ready"
	run_bg sig2 "echo up >$f.ready; exec sleep 300"
	cgt_wait_file "$f.ready" || fail "CMD did not start" || return 1
	kill -HUP "$BGPID"
	cgt_wait_gone "$BGPID" || fail "cgctl run still runs ${CGT_TIMEOUT}s after SIGHUP (CMD ignored it?)" || return 1
	wait "$BGPID"
	rc=$?
	[ "$rc" = 129 ] || fail "cgctl run exited $rc after SIGHUP, want 129" || return 1
	run_gone sig2 "after run" || return 1
}

test_proc_run_timeout() {
	up || return 1
	c run --timeout 1 --name t1 -- sleep 30
	expect_rc 124 "run --timeout 1 -- sleep 30" || return 1
	run_gone t1 || return 1
}

# By default the lease removes the cgroup once cgctl run has exited; --wait-cleanup before.
test_proc_run_cleanup_async_and_waited() {
	up || return 1
	local f=$CGT_RUN/bg.pid bg
	# shellcheck disable=SC2016
	c run --name a1 -- sh -c "sleep 300 & echo \$! >$f"
	expect_rc 0 || return 1
	bg=$(cat "$f")
	run_gone a1 "after run (lease)" || return 1
	cgt_wait_gone "$bg" 5 || fail "the background child of run survived its cgroup" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	# shellcheck disable=SC2016
	c run --wait-cleanup --name a2 -- sh -c "sleep 300 & echo \$! >$f"
	expect_rc 0 || return 1
	bg=$(cat "$f")
	expect_no_dir a2 "at the exit of run --wait-cleanup" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	cgt_wait_gone "$bg" 1 || fail "the background child of run --wait-cleanup survived" || return 1
}

test_proc_clone3_open_cgroup() {
	local bin=$CGT_TMP/bin/clone_into out mode
	[ -x "$bin" ] || { skip "clone_into not built"; return; }
	up || return 1
	for mode in "" --attach; do
		out=$(cgt_as_user_in "$CGT_WORK" "$bin" "$DSOCK" "cl$mode" ${mode:+"$mode"} 2>&1)
		printf '%s\n' "$out"
		grep -q '^cloexec 1$' <<<"$out" || fail "OpenCgroup fd not close-on-exec: $out" || return 1
		cgt_text_has_line "$out" "child 0::$(cg_of "cl$mode")" || fail "child not in cl$mode: $out" || return 1
		grep -q '^method ' <<<"$out" || fail "no method line: $out" || return 1
		if [ -z "$mode" ] && ! grep -q '^method clone3$' <<<"$out"; then
			printf 'note: clone3(CLONE_INTO_CGROUP) refused here; the attach fallback placed the child\n'
		fi
		if cgt_has_word "$CGT_MROOT/cgroup.subtree_control" hugetlb; then
			expect_file "cl$mode/hugetlb.2MB.max" 4194304 "typed create" || return 1
		fi
		expect_file "cl$mode/cgroup.max.descendants" 3 "typed create" || return 1
	done
}
