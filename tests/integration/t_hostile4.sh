# SPDX-License-Identifier: MIT
# t_hostile4.sh: a sixth round from the outside: exhaustion (a full state directory) and odd cgroupfs states.
# shellcheck shell=bash disable=SC2153 # CGCTL, CGCTLD, CGT_*... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
h4c() { cgctl_u --socket "$DSOCK" "$@"; }

# Mount a tmpfs of $1 KiB for the state directory, owned by the test user,
# mode 0700, at $CGT_TMP/full (on top of the last test's, if any: all are
# unmounted at the harness's exit); sets H4_FULL.
h4_small_fs() {
	H4_FULL=$CGT_TMP/full
	mkdir -p "$H4_FULL" || return 1
	mount -t tmpfs -o "size=${1}k,mode=0700,uid=$CGT_UID,gid=$CGT_GID" h4full "$H4_FULL" || return 1
	cgt_defer umount -l "$H4_FULL"
}

# Take every free block of $H4_FULL as the test user (file "ballast"): what
# is left is the room in the last page of each file already there.
h4_ballast() {
	# shellcheck disable=SC2016 # expanded by that sh
	setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --clear-groups sh -c 'cat /dev/zero >"$1/ballast"' sh "$H4_FULL" 2>/dev/null
	return 0
}

# Fill $H4_FULL (h4_ballast), then create entries fill1, fill2... until the
# daemon's journal cannot take another record (its last page is full too):
# every later record fails with ENOSPC.
h4_fill() {
	local i
	h4_ballast
	for ((i = 1; i <= 60; i++)); do
		h4c create "fill$i" >/dev/null
		[ "$RC" = 0 ] || break
	done
	[ "$RC" = 1 ] || fail "the state directory did not fill up: create fill$i exit $RC" || return 1
	expect_err "No space left on device" "create on a full state directory"
}

# A Create whose records cannot be made durable (the state directory full)
# answers SystemError: the cgroup must not be left behind, nor its name
# taken. It stayed, listed as active: the caller, told it failed, never
# removed it, and its retry got AlreadyExists until the daemon restarted.
# The fill is exact: the create's first record ("creating", before mkdir)
# just fits the journal's last page, its second ("active", written by the
# sync that acknowledges it) does not.
test_hostile4_create_state_dir_full() {
	local first size room label
	h4_small_fs 256 || return 1
	cgt_daemon_start "" --state-dir "$H4_FULL/state" || return 1
	h4c create p0 --label k= && expect_rc 0 || return 1
	IFS= read -r first <"$DSTATE/journal.jsonl" || return 1
	size=$(stat -c %s "$DSTATE/journal.jsonl") || return 1
	room=$((4096 - size % 4096))
	# p0's "creating" line with a label of (room - 2 - its length) bytes more: 2 bytes to spare.
	printf -v label '%*s' $((room - 2 - ${#first} - 1)) ''
	label=${label// /x}
	h4_ballast
	h4c create b1 --label "k=$label"
	expect_rc 1 "create b1 on a full state directory" && expect_err "ledger could not be made durable" || return 1
	expect_no_dir b1 "a Create answered SystemError" || return 1
	h4_states && h4_state_is b1 "" || return 1
	rm -f "$H4_FULL/ballast"
	h4c create b1 && expect_rc 0 && expect_dir b1 || return 1
	# A restart agrees: nothing dropped, rolled back or unknown, both there.
	cgt_daemon_stop || return 1
	cgt_daemon_up --state-dir "$H4_FULL/state" || return 1
	h4c status --json && expect_rc 0 || return 1
	expect_jq '.ledger.reconcile | [.dropped, .rolled_back, .resumed, .unknown] | map(length) == [0, 0, 0, 0]' || return 1
	h4_states && h4_state_is b1 active && h4_state_is p0 active
}

# The names and states List gives, as " name:state ... " (sorted by name).
h4_states() {
	h4c list --json && expect_rc 0 || return 1
	H4_STATES=" $(jq -r 'map("\(.name):\(.state)") | join(" ")' <<<"$OUT") "
}

# List says entry $1 is in state $2 ("" : List does not show it).
h4_state_is() {
	case $2:$H4_STATES in
	:*" $1:"*) fail "List still shows $1:$H4_STATES" ;;
	:*) return 0 ;;
	*" $1:$2 "*) return 0 ;;
	*) fail "List does not say $1 is $2:$H4_STATES" ;;
	esac
}

# The state directory is full (ENOSPC on every journal append). Destroy could
# not write its "destroying" record, went on anyway and answered success: the
# cgroup was gone but the ledger kept it active, so List still showed it and
# Create of the name said AlreadyExists until a restart. A Destroy must fail
# with the reason and touch nothing; once space returns, it works.
test_hostile4_destroy_state_dir_full() {
	h4_small_fs 256 || return 1
	cgt_daemon_start "" --state-dir "$H4_FULL/state" || return 1
	h4c create d && expect_rc 0 || return 1
	h4c create k && expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/k" || return 1
	h4_fill || return 1
	h4c destroy d
	expect_rc 1 "destroy d on a full state directory" && expect_err "ledger write failed" || return 1
	h4c destroy k --kill
	expect_rc 1 "destroy k --kill on a full state directory" || return 1
	expect_dir d "a destroy the ledger could not record" && expect_dir k || return 1
	kill -0 "$SPID" || fail "destroy --kill killed k's process though it failed" || return 1
	h4_states || return 1
	h4_state_is d active && h4_state_is k active || return 1
	# Space returns: the same calls work, and the daemon agrees with the tree.
	rm -f "$H4_FULL/ballast"
	h4c destroy d && expect_rc 0 || return 1
	h4c destroy k --kill && expect_rc 0 || return 1
	expect_no_dir d && expect_no_dir k || return 1
	h4c create d && expect_rc 0 && expect_dir d || return 1
	h4_states || return 1
	h4_state_is k "" && h4_state_is d active
}

# Journal size in bytes; sets H4_SIZE.
h4_size() {
	H4_SIZE=$(stat -c %s "$DSTATE/journal.jsonl")
}

# A destroy that stops short (Busy: a process inside) once its "destroying"
# record is in, when the state directory has room for that record and not
# for the "active" one that says the entry stays: the failure was ignored,
# List said active, the journal destroying, and a restart once the entry
# emptied removed it, though its caller was told it stayed. Now the error
# says so, List says destroying, the record goes in once there is room, and
# a restart keeps the entry. The fill is exact: p0's label leaves the
# journal's last page room for the "destroying" line and one or two bytes.
test_hostile4_destroy_busy_state_dir_full() {
	local l line d a c0 room need label
	h4_small_fs 256 || return 1
	cgt_daemon_start "" --state-dir "$H4_FULL/state" || return 1
	h4c create k && expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/k" || return 1
	# k's "active" line; its "destroying" one is 4 bytes longer (seq 7 for 2, a CRC as wide).
	while IFS= read -r l; do line=$l; done <"$DSTATE/journal.jsonl"
	d=$((${#line} + 5)) a=$((${#line} + 1))
	h4_size && c0=$H4_SIZE
	h4c create s0 --label k= && expect_rc 0 || return 1
	h4_size && c0=$((H4_SIZE - c0)) room=$((4096 - H4_SIZE % 4096))
	# p0 (a name as long as s0's) adds c0 bytes and 2 a byte of its label (in both its lines).
	need=$((room - d - 1))
	while [ "$need" -lt $((c0 + 2)) ]; do need=$((need + 4096)); done
	need=$((need - (need - c0) % 2))
	printf -v label '%*s' $(((need - c0) / 2)) ''
	h4c create p0 --label "k=${label// /x}" && expect_rc 0 || return 1
	h4_size && room=$((4096 - H4_SIZE % 4096))
	[ "$room" -ge "$d" ] && [ "$room" -lt $((d + a)) ] ||
		fail "the fill missed: $room bytes left, want $d to $((d + a - 1))" || return 1
	h4_ballast
	h4c destroy k
	expect_rc 1 "destroy k (busy) on a full state directory" && expect_err Busy || return 1
	expect_err "the ledger could not record so" "destroy k" || return 1
	expect_dir k && h4_states && h4_state_is k destroying || return 1
	# Room again: the daemon writes the record by itself (after 1 s, then 2...).
	rm -f "$H4_FULL/ballast"
	cgt_wait_for 10 h4_k_active || return 1
	# Emptied, then a restart: k stays, as its caller was told.
	kill "$SPID" && cgt_wait_gone "$SPID" || return 1
	cgt_daemon_stop || return 1
	cgt_daemon_up --state-dir "$H4_FULL/state" || return 1
	expect_dir k "a restart after the destroy stopped short" || return 1
	h4_states && h4_state_is k active
}

# List says k is active (a poll: no failure recorded when it does not yet).
h4_k_active() {
	h4_states && [[ $H4_STATES == *" k:active "* ]]
}

# A lease holder dies, and an auto_remove entry empties, while the state
# directory is full: neither can be recorded, so nothing is touched; they
# stayed (the lease's processes running) until the next daemon start. Once
# space returns the daemon tries again by itself and both go.
test_hostile4_collect_after_state_dir_full() {
	local holder lpid apid
	h4_small_fs 256 || return 1
	cgt_daemon_start "" --state-dir "$H4_FULL/state" || return 1
	cgt_spawn_user_in "$CGT_WORK" "$CGCTL" --socket "$DSOCK" create L --lease
	holder=$BGPID
	cgt_wait_for 10 test -d "$CGT_MROOT/L" || return 1
	cgt_sleeper "$CGT_MROOT/L" || return 1
	lpid=$SPID
	h4c create A --auto-remove && expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/A" || return 1
	apid=$SPID
	h4c attach A "$apid" && expect_rc 0 || return 1
	h4_fill || return 1
	kill "$holder" "$apid" || return 1
	cgt_wait_for 10 cgt_has_text "$DLOG" "lease release of L failed" || return 1
	cgt_wait_for 10 cgt_has_text "$DLOG" "auto_remove of A failed" || return 1
	expect_dir L "a lease release the ledger could not record" && expect_dir A || return 1
	kill -0 "$lpid" || fail "L's process was killed though its release failed" || return 1
	h4_states || return 1
	h4_state_is A active && h4_state_is L active || return 1
	rm -f "$H4_FULL/ballast"
	cgt_wait_for 20 test ! -e "$CGT_MROOT/L" || return 1
	cgt_wait_for 20 test ! -e "$CGT_MROOT/A" || return 1
	cgt_wait_gone "$lpid" || fail "L's process outlived its lease" || return 1
	h4_states || return 1
	h4_state_is A "" && h4_state_is L ""
}

# CPU ticks (user + system) process $1 has used; sets H4_TICKS.
h4_ticks() {
	local stat rest
	read -r stat <"/proc/$1/stat" || return 1
	rest=${stat##*) }
	read -r -a H4_F <<<"$rest"
	H4_TICKS=$((H4_F[11] + H4_F[12]))
}

# A Watch client that dies with events unread (a `cgctl watch` killed while
# they arrive): the kernel resets the connection, which libevent reports as
# an error, not a hang-up. The daemon took it from nobody: its loop woke at
# once forever (a CPU at 100%) and the stream's connection slot was never
# given back (with one connection a uid, that uid was locked out).
test_hostile4_watch_client_reset() {
	h4_watch_reset ""
}

# The same with a call sent behind the stream (a client that pipelines a
# GetStatus after its Watch): the call waits unread while the stream runs, so
# the daemon watched only for a hang-up (EV_CLOSED), which a reset never is.
# The loop spun at 100% CPU and the uid's one connection slot stayed taken.
test_hostile4_watch_pipelined_client_reset() {
	h4_watch_reset behind
}

# A Watch client leaves its first event unread (after sending a GetStatus
# behind the stream if $1 is "behind") and exits: the connection resets. The
# uid's one connection slot comes back, and the daemon's loop sleeps.
h4_watch_reset() {
	local CGT_AS before
	cgt_daemon_start "" --max-connections-per-uid 1 || return 1
	cgt_as_prefix "$CGT_WORK" "$CGT_UID" "$CGT_GID" init "$CGT_TIMEOUT"
	"${CGT_AS[@]}" PATH=/usr/bin:/bin /usr/bin/python3 -S -c '
import select, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"{\"method\":\"io.cgctl.Manager.Watch\",\"more\":true,\"parameters\":{}}\0")
# The first event is here, and stays unread: exiting now resets the connection.
if not select.select([s], [], [], 10)[0]:
    sys.exit("no reply to Watch")
if sys.argv[2]:
    # A call behind the stream, which the daemon leaves unread too (it has it after the nap).
    s.sendall(b"{\"method\":\"io.cgctl.Manager.GetStatus\",\"parameters\":{}}\0")
    time.sleep(0.3)
print("left with the reply unread")' "$DSOCK" "$1" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "Watch client that leaves its reply unread${1:+ (a call behind the stream)}"
	expect_rc 0 "the Watch client" || return 1
	# The slot comes back: the one connection the uid may have answers again.
	cgt_wait_for 5 h4_answers || return 1
	# And the loop sleeps: a spinning one burns a CPU second a second.
	h4_ticks "$DPID" && before=$H4_TICKS || return 1
	cgt_nap 1
	h4_ticks "$DPID" || return 1
	[ $((H4_TICKS - before)) -lt 20 ] || fail "cgctld used $((H4_TICKS - before)) ticks in 1 s with nobody connected"
}

# The daemon answers the test user's status.
h4_answers() {
	h4c status >/dev/null
	[ "$RC" = 0 ]
}
