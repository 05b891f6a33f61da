# SPDX-License-Identifier: MIT
# t_trust.sh: state you can trust (owner, mode, file types), damage is survivable, bounded state.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Start the daemon inside its leaf with state dir $1 (extra args after).
restart() {
	local state=$1
	shift
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$state" "$@"
}

# First start on a fresh state dir (extra daemon args): sets STATE.
first_start() {
	cgt_daemon_start "" "$@" || return 1
	# shellcheck disable=SC2153 # set by cgt_daemon_spawn
	STATE=$DSTATE
}

# The daemon on state dir $1 must refuse to start, its log matching every
# extended regexp after $1. Never a hang: it must have exited within the
# suite's daemon-wait guard (CGT_TIMEOUT); how fast is not checked.
expect_start_refused() {
	local state=$1 t0 t1 re
	shift
	t0=$(date +%s%N)
	if [ -d "$CGT_MROOT/cgctld.leaf" ]; then
		cgt_daemon_spawn "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$state"
	else
		cgt_daemon_spawn "" --state-dir "$state"
	fi
	if ! cgt_wait_gone "$DPID" "$CGT_TIMEOUT"; then
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
		fail "cgctld still running ${CGT_TIMEOUT} s after start on $state (hung?): $(tail -n 2 "$DLOG")"
		return 1
	fi
	t1=$(date +%s%N)
	if wait "$DPID"; then fail "cgctld exited 0 on an untrusted $state"; return 1; fi
	printf '  refused in %d ms: %s\n' $(((t1 - t0) / 1000000)) "$(tail -n 1 "$DLOG")"
	for re in "$@"; do
		grep -qE -- "$re" "$DLOG" || fail "log lacks /$re/: $(tail -n 3 "$DLOG")" || return 1
	done
	[ ! -S "$DSOCK" ] || ! cgctl_root --socket "$DSOCK" status >/dev/null ||
		fail "something answers on $DSOCK" || return 1
}

# Journal lines for records "$@" (JSON texts) with their CRC-32C, as a forger would write them.
forge_lines() {
	"${PYTHON:-/usr/bin/python3}" -S - "$@" <<'EOF'
import sys
for arg in sys.argv[1:]:
    rec = arg.encode()
    crc = 0xFFFFFFFF
    for b in rec:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    print('{"rec":%s,"crc":"%08x"}' % (rec.decode(), crc ^ 0xFFFFFFFF))
EOF
}

# A state directory another user owns, or that others can write, is refused, naming it.
test_trust_state_dir_foreign() {
	local d=$CGT_STATES/foreign
	# Made writable for us by its owner (say in /tmp): still not ours.
	mkdir -m 0777 "$d" && chmod 0777 "$d" && chown "$NOBODY_UID:$NOBODY_GID" "$d" || return 1
	expect_start_refused "$d" "$d: owned by uid $NOBODY_UID" || return 1
	chmod 0755 "$d"
	expect_start_refused "$d" "$d: owned by uid $NOBODY_UID" || return 1
	[ -z "$(ls -A "$d")" ] || fail "cgctld wrote into a foreign state dir: $(ls -A "$d")" || return 1
}

test_trust_state_dir_mode() {
	local d=$CGT_STATES/loose mode
	for mode in 0777 0770 0722; do
		rm -rf "$d"
		mkdir -m "$mode" "$d" && chmod "$mode" "$d" && chown "$CGT_UID:$CGT_GID" "$d" || return 1
		expect_start_refused "$d" "$d: mode $mode is writable by (others|its group)" || return 1
	done
	# Made private again, the same directory is fine.
	chmod 0700 "$d"
	cgt_daemon_start "" --state-dir "$d" || return 1
}

# The default state directory (~/.local/state/cgctl) follows the same rule.
test_trust_default_state_dir() {
	local home=$CGT_TMP/home-trust d
	d=$home/.local/state/cgctl
	mkdir -p "$d" && chown -R "$CGT_UID:$CGT_GID" "$home" && chmod 0777 "$d" || return 1
	cgt_as_user_in "$CGT_MROOT" env HOME="$home" "$CGCTLD" --socket "$CGT_RUN/default-dir.sock" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctld (default state dir)"
	[ "$RC" = 1 ] || fail "cgctld on a 0777 default state dir: exit $RC (124: it ran)" || return 1
	grep -q "$d: mode 0777 is writable by others" <<<"$ERR" || fail "the error does not name $d" || return 1
	# Private again: it starts (and creates its files there).
	chmod 0700 "$d"
	cgt_as_user_in "$CGT_MROOT" env HOME="$home" timeout -s TERM 2 "$CGCTLD" --socket "$CGT_RUN/default-dir.sock" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctld (default state dir, 0700)"
	grep -q "ready on" <<<"$ERR" || fail "cgctld did not start on a private default state dir" || return 1
	[ -f "$d/lock" ] || fail "no lock file in $d" || return 1
}

# Issue 13 item 5: a forged, correctly checksummed journal in a shared state dir is never read.
test_trust_forged_journal() {
	first_start || return 1
	c create keep
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	mkdir "$CGT_MROOT/handmade" && chown "$CGT_UID:$CGT_GID" "$CGT_MROOT/handmade" || return 1
	chmod 0777 "$STATE"
	# Another user rewrites the journal: the victim's own cgroup "being destroyed", keep dropped.
	rm -f "$STATE/journal.jsonl"
	forge_lines '{"seq":1,"op":"put","entry":{"name":"handmade","state":"destroying","generated":false,"delegate":false,"auto_remove":false,"lease":false,"created":1,"cgroup_id":0,"labels":null}}' \
		'{"seq":2,"op":"del","name":"keep"}' >"$STATE/journal.jsonl" || return 1
	chown "$NOBODY_UID:$NOBODY_GID" "$STATE/journal.jsonl" && chmod 0666 "$STATE/journal.jsonl"
	expect_start_refused "$STATE" "$STATE: mode 0777 is writable by others" || return 1
	expect_dir handmade "the forged record removed the user's own cgroup" || return 1
	expect_dir keep || return 1
	rmdir "$CGT_MROOT/handmade"
}

# Replace state file $2 of dir $1 by a $3 (fifo, symlink, socket), as the test user.
replace_by() {
	local f=$1/$2
	rm -f "$f"
	case $3 in
	fifo) mkfifo -m 0600 "$f" ;;
	symlink) ln -s "$CGT_TMP/elsewhere" "$f" ;;
	socket) "${PYTHON:-/usr/bin/python3}" -S -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$f" ;;
	esac
	chown -h "$CGT_UID:$CGT_GID" "$f"
}

# Issue 13 item 6: journal, snapshot or lock replaced by a FIFO, symlink or socket: a clear error, no hang.
test_trust_state_files_special() {
	local f kind what
	first_start || return 1
	c create keep
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	: >"$CGT_TMP/elsewhere"
	chmod 0644 "$CGT_TMP/elsewhere"
	mkdir -p "$CGT_TMP/saved" && cp -p "$STATE/journal.jsonl" "$CGT_TMP/saved/" || return 1
	for f in journal.jsonl ledger.json lock; do
		for kind in fifo symlink socket; do
			case $kind in fifo) what=FIFO ;; symlink) what='symbolic link' ;; socket) what=socket ;; esac
			replace_by "$STATE" "$f" "$kind"
			printf '%s as a %s\n' "$f" "$kind"
			expect_start_refused "$STATE" "$STATE/$f: is a $what" || return 1
		done
		rm -f "${STATE:?}/$f"
		[ "$f" = journal.jsonl ] && cp -p "$CGT_TMP/saved/journal.jsonl" "$STATE/"
	done
	# Put right, everything is still there.
	restart "$STATE" || return 1
	c --json list
	expect_jq '[.[].name] == ["keep"]' || return 1
}

# Damage is survivable: a truncated ledger.json, the previous generation proves the state.
# $2 create+destroy pairs on one connection with crash_torture $1 (compaction
# work). Its guard is 60 s, not one CLI call's 10 s: on a loaded machine 600
# pairs took longer than 10 s ("churn failed" with no reason).
churn() {
	local CGT_TIMEOUT=$((CGT_TIMEOUT * 6)) rc
	cgt_as_user_in "$CGT_WORK" "$1" churn "$DSOCK" "$2"
	rc=$?
	case $rc in
	0) return 0 ;;
	124) fail "churn of $2 pairs not done after ${CGT_TIMEOUT}s" ;;
	*) fail "churn of $2 pairs failed (exit $rc)" ;;
	esac
}

test_trust_truncated_snapshot_fallback() {
	local bin=$CGT_TMP/bin/crash_torture size kept
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	first_start || return 1
	c create s1 && c create s1/inner
	expect_rc 0 || return 1
	# Two compactions: a snapshot, and a previous generation with the journal bridging them.
	churn "$bin" 600 || return 1
	c create s2 && c create s3
	expect_rc 0 || return 1
	c --json status
	expect_jq '.ledger.compactions >= 2' || return 1
	cgt_daemon_stop || return 1
	[ -s "$STATE/ledger.prev.json" ] && [ -s "$STATE/journal.prev.jsonl" ] ||
		fail "no previous generation: $(ls "$STATE")" || return 1
	size=$(stat -c %s "$STATE/ledger.json")
	truncate -s $((size - 7)) "$STATE/ledger.json"
	cp -p "$STATE/ledger.json" "$CGT_TMP/truncated.json"
	restart "$STATE" || return 1
	c --json list
	expect_jq '[.[].name] | sort == ["s1", "s1/inner", "s2", "s3"]' || return 1
	c --json status
	expect_jq_all --value '.ledger.recovery.damage[0].kept' '.ledger.recovery.mode == "fallback"' \
		".ledger.recovery.damage[0].file == \"ledger.json\" and .ledger.recovery.damage[0].offset == $((size - 7))" \
		'.ledger.recovery.damage[0].lost | startswith("nothing")' \
		'.ledger.reconcile | .dropped == [] and .rolled_back == [] and .unknown == []' || return 1
	kept=$JQV
	cmp -s "$STATE/$kept" "$CGT_TMP/truncated.json" || fail "the damaged snapshot was not kept as $kept" || return 1
	grep -qE "$STATE/ledger.json: damaged at byte $((size - 7)); the damaged file is kept as $kept" "$DLOG" ||
		fail "the log does not name file, offset and copy" || return 1
	expect_dir s1 && expect_dir s1/inner && expect_dir s2 && expect_dir s3 || return 1
	# The state was written afresh: the next start is normal.
	cgt_daemon_stop || return 1
	restart "$STATE" || return 1
	c --json status
	expect_jq '.ledger.recovery.mode == "normal" and .ledger.entries == 4' || return 1
}

# Without a previous generation: recovery mode, nothing removed, the loss named.
test_trust_truncated_snapshot_recovery() {
	local bin=$CGT_TMP/bin/crash_torture size
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	first_start || return 1
	c create old
	expect_rc 0 || return 1
	churn "$bin" 300 || return 1
	c create new
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	[ ! -e "$STATE/ledger.prev.json" ] || fail "a previous generation after one compaction" || return 1
	size=$(stat -c %s "$STATE/ledger.json")
	truncate -s $((size / 2)) "$STATE/ledger.json"
	restart "$STATE" || return 1
	c --json status
	expect_jq_all '.ledger.recovery.mode == "recovery" and .ledger.recovery.damage[0].file == "ledger.json"' \
		'.ledger.recovery.damage[0].lost | test("left alone")' || return 1
	# old was only in the lost snapshot: a stranger now, reported and left alone.
	expect_jq '.ledger.reconcile.unknown == ["old"]' || return 1
	c --json list
	expect_jq '[.[].name] == ["new"]' || return 1
	expect_dir old "recovery removed a directory" && expect_dir new || return 1
	cgt_has_text "$DLOG" "RECOVERY" || fail "the log does not say RECOVERY" || return 1
	c status
	grep -q '^Recovery: *recovery: ledger records were lost' <<<"$OUT" || fail "cgctl status does not say recovery" || return 1
	grep -qE '^  ledger.json: damaged at byte [0-9]+, kept as ledger.json.corrupt-[0-9]+; lost: ' <<<"$OUT" ||
		fail "cgctl status does not name the damaged file" || return 1
	c destroy old
	expect_rc 0 || return 1
	expect_dir old "destroy removed a directory whose record was lost" || return 1
}

# Issue 13 item 8: bounded state. Create beyond the budget is QuotaExceeded {limit: ledger-size}; compaction works.
test_trust_ledger_budget() {
	local bin=$CGT_TMP/bin/crash_torture py=$CGT_TMP/fill.py
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	first_start --max-ledger-size 65536 || return 1
	cat >"$py" <<'EOF'
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
buf = b""
for i in range(40):
    call = {"method": "io.cgctl.Manager.Create",
            "parameters": {"name": "big%02d" % i, "labels": {"blob": "x" * 4000}}}
    s.sendall(json.dumps(call).encode() + b"\0")
    while b"\0" not in buf:
        buf += s.recv(65536)
    msg, buf = buf.split(b"\0", 1)
    reply = json.loads(msg)
    if "error" in reply:
        print("%d %s %s" % (i, reply["error"], reply.get("parameters", {}).get("limit")))
        break
else:
    print("40 created")
EOF
	OUT=$("${PYTHON:-/usr/bin/python3}" -S "$py" "$DSOCK") || fail "fill: $OUT" || return 1
	printf '  %s\n' "$OUT"
	grep -qE '^1[0-5] io.cgctl.Manager.QuotaExceeded ledger-size$' <<<"$OUT" ||
		fail "Create beyond 64 KiB of ledger was not refused with QuotaExceeded {limit: ledger-size}" || return 1
	c create --label "k=$(head -c 4000 /dev/zero | tr '\0' x)" one-more
	expect_rc 1 && expect_err QuotaExceeded || return 1
	grep -q -- '--max-ledger-size' <<<"$ERR" || fail "the message does not name the flag: $ERR" || return 1
	c --json status
	expect_jq '.ledger.max_bytes == 65536 and .ledger.bytes <= 65536' || return 1
	# State changes always fit: destroy works, and makes room.
	c destroy big00
	expect_rc 0 || return 1
	c create small
	expect_rc 0 || return 1
	# Compaction always fits under the budget.
	churn "$bin" 300 || return 1
	c --json status
	expect_jq '.ledger.compactions >= 1 and .ledger.journal_records < 1024' || return 1
	[ "$(stat -c %s "$STATE/ledger.json")" -le 65536 ] || fail "snapshot larger than the budget" || return 1
	# An absurd budget is refused at start.
	cgt_daemon_stop || return 1
	cgt_daemon_spawn "" --max-ledger-size 999999999999
	cgt_wait_gone "$DPID" 5 || return 1
	if wait "$DPID"; then fail "cgctld accepted a budget above the snapshot cap"; return 1; fi
}
