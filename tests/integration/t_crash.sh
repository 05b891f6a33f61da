# SPDX-License-Identifier: MIT
# t_crash.sh: crash safety of the ledger: crash points one by one, SIGKILL torture under concurrent clients, torn and corrupt journals.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
#
# Knobs: CGCTL_TORTURE_CRASHES (default 10; 100 with CGCTL_THOROUGH=1) SIGKILLs
# at random moments in the torture test, which also stops the daemon once at
# every crash point of daemon/crashpoint.h (TT_POINTS) whatever that count,
# CGCTL_TORTURE_WORKERS (default 4) concurrent clients, CGCTL_TORTURE_SEED;
# The torn-journal tests cut each of the journal's last two records once at
# every kind of tear (cut_offsets_kinds: 10 a record; CGCTL_TORN_ONCE=1, as the
# ASan pass runs it: each kind once, alternately in one record or the other;
# CGCTL_TORN_ONCE=2, make check's plain pass: the other way round); CGCTL_TORN_ALL=1 cuts
# at every byte offset instead; CGCTL_TORN_EDGE=N (or CGCTL_THOROUGH=1, N=5)
# at every offset of the first and last N bytes of the record before the last
# (2N of the last), plus 5 spread inside each.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# The CLI as the test user too (root's cgctl talks only to root's daemon).
r() { cgctl_u --socket "$DSOCK" "$@"; }

# Start the daemon inside its leaf with state dir $1 (extra args after), as a
# supervisor does once the managed root has children.
restart() {
	local state=$1
	shift
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$state" "$@"
}

# The same with CGCTLD_TEST_CRASH=$1 in the daemon's environment, state dir $2.
crash_start() {
	# shellcheck disable=SC2034 # read by cgt_daemon_spawn_env (dynamic scope)
	local CGT_DAEMON_ENV=("CGCTLD_TEST_CRASH=$1")
	cgt_daemon_start_env "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" --state-dir "$2"
}

# First start on a fresh state dir: the daemon makes its leaf. Sets STATE.
first_start() {
	cgt_daemon_start "" || return 1
	# shellcheck disable=SC2153 # set by cgt_daemon_spawn
	STATE=$DSTATE
}

# The daemon must have died of SIGKILL at crash point $1.
expect_crashed() {
	cgt_daemon_wait_exit || fail "cgctld still running after crash point $1 should have killed it" || return 1
	[ "$DEXIT" = 137 ] || fail "cgctld exit status $DEXIT at crash point $1, want 137 (SIGKILL)" || return 1
	cgt_has_text "$DLOG" "test crash point $1 reached" || fail "daemon log does not mention crash point $1" || return 1
}

# jq expression $1 is true of the journal records (array of .rec) of state dir
# $STATE: one jq, a second only to say why it failed.
expect_journal() {
	local recs
	jq -e -s "map(.rec) | ($1)" "$STATE/journal.jsonl" >/dev/null 2>&1 && return 0
	recs=$(cgt_journal_recs "$STATE") || fail "journal of $STATE does not parse" || return 1
	fail "jq '$1' false on: ${recs:0:300}"
}

# Status (JSON) of the current daemon in $OUT; each reconcile list must be
# exactly the JSON array given as a dropped= rolled_back= resumed= unknown=
# word (order ignored), [] when not given.
expect_reconcile() {
	local -A want=([dropped]=[] [rolled_back]=[] [resumed]=[] [unknown]=[])
	local kv key expr=true
	for kv in "$@"; do
		want[${kv%%=*}]=${kv#*=}
	done
	c --json status
	expect_rc 0 "status" || return 1
	for key in dropped rolled_back resumed unknown; do
		expr="$expr and (.ledger.reconcile.$key | sort) == (${want[$key]} | sort)"
	done
	expect_jq "$expr"
}

# Names listed by the daemon, sorted, as a JSON array (in $NAMES; $OUT is the list).
list_names() {
	c --json list
	expect_rc 0 "list" || return 1
	NAMES=$(jq -c '[.[].name] | sort' <<<"$OUT")
}

# --- crash points, one by one (daemon/crashpoint.h) ---------------------------

test_crashpoint_create_intent() {
	first_start || return 1
	c create before
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	crash_start create-intent "$STATE" || return 1
	c create ci
	expect_rc 1 "create while the daemon dies after the intent record" || return 1
	expect_crashed create-intent || return 1
	# The intent is on disk, the directory was never made.
	expect_journal 'last | .op == "put" and .entry.name == "ci" and .entry.state == "creating"' || return 1
	expect_no_dir ci "mkdir happened before the crash point" || return 1
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["before"]' ] || fail "listed $NAMES after rollback, want [\"before\"]" || return 1
	expect_no_dir ci || return 1
	expect_dir before || return 1
	expect_reconcile 'rolled_back=["ci"]' || return 1
	# The rollback is durable and the name is free again.
	expect_journal 'last | .op == "del" and .name == "ci"' || return 1
	c create ci
	expect_rc 0 "create ci again" || return 1
	expect_dir ci || return 1
}

test_crashpoint_create_mkdir() {
	first_start || return 1
	cgt_daemon_stop || return 1
	# The third create dies: the two before it were acknowledged and must stay.
	crash_start create-mkdir:3 "$STATE" || return 1
	c create a1 && c create a2
	expect_rc 0 "creates before the crash point" || return 1
	c create a3
	expect_rc 1 "create while the daemon dies after mkdir" || return 1
	expect_crashed create-mkdir || return 1
	expect_dir a3 "mkdir had happened" || return 1
	expect_journal 'last | .op == "put" and .entry.name == "a3" and .entry.state == "creating"' || return 1
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["a1","a2"]' ] || fail "listed $NAMES, want [\"a1\",\"a2\"]" || return 1
	expect_no_dir a3 "reconcile must roll back an unacknowledged create" || return 1
	expect_dir a1 && expect_dir a2 || return 1
	expect_reconcile 'rolled_back=["a3"]' || return 1
}

test_crashpoint_create_mkdir_then_occupied() {
	first_start || return 1
	cgt_daemon_stop || return 1
	crash_start create-mkdir "$STATE" || return 1
	c create occ
	expect_rc 1 || return 1
	expect_crashed create-mkdir || return 1
	# While the daemon is down a process moves into the half-made cgroup:
	# rolling back would mean removing a cgroup in use, so it is kept.
	cgt_sleeper "$CGT_MROOT/occ" || fail "cannot place a process in occ" || return 1
	restart "$STATE" || return 1
	c --json list
	expect_jq 'length == 1 and .[0].name == "occ" and .[0].state == "active" and .[0].populated == true' || return 1
	expect_dir occ || return 1
	# shellcheck disable=SC2153 # set by cgt_sleeper
	kill -0 "$SPID" || fail "reconcile killed the process in occ" || return 1
	c --json status
	expect_jq '.ledger.reconcile | (.rolled_back + .resumed) == ["occ"] and .dropped == [] and .unknown == []' ||
		fail "the kept create is not reported" || return 1
	c destroy occ --kill
	expect_rc 0 || return 1
	expect_no_dir occ || return 1
}

test_crashpoint_create_mkdir_nested_generated() {
	first_start || return 1
	c create p
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	crash_start create-mkdir "$STATE" || return 1
	c create --generate --prefix p
	expect_rc 1 "generated create while the daemon dies after mkdir" || return 1
	expect_crashed create-mkdir || return 1
	local gen
	gen=$(cgt_journal_recs "$STATE" | jq -r 'last | .entry | select(.generated and .state == "creating") | .name')
	case $gen in p/?*) ;; *) fail "last record is not a generated intent below p: '$gen'"; return 1 ;; esac
	expect_dir "$gen" || return 1
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["p"]' ] || fail "listed $NAMES, want [\"p\"]" || return 1
	expect_no_dir "$gen" "rollback of the generated child" || return 1
	expect_dir p "the parent stays" || return 1
	expect_reconcile "rolled_back=[\"$gen\"]" || return 1
}

test_crashpoint_create_commit() {
	first_start || return 1
	cgt_daemon_stop || return 1
	# The commit record is deferred to the sync before the reply (daemon/ledger.h): the
	# acknowledged create before the crash stays, the unacknowledged one is rolled back.
	crash_start create-commit:2 "$STATE" || return 1
	c create ok --label k=v
	expect_rc 0 "create before the crash point" || return 1
	c create cc --label k=v
	expect_rc 1 "create while the daemon dies after the commit record" || return 1
	expect_crashed create-commit || return 1
	expect_dir cc || return 1
	expect_journal "map(select(.op == \"put\" and .entry.name == \"ok\")) | last | .entry.state == \"active\" and
		.entry.cgroup_id == $(stat -c %i "$CGT_MROOT/ok")" || return 1
	expect_journal 'last | .op == "put" and .entry.name == "cc" and .entry.state == "creating"' || return 1
	restart "$STATE" || return 1
	c --json list
	expect_rc 0 || return 1
	expect_jq 'length == 1 and .[0].name == "ok" and .[0].state == "active" and .[0].labels == {"k": "v"}' || return 1
	expect_dir ok "an acknowledged create must survive" || return 1
	expect_no_dir cc "reconcile must roll back an unacknowledged create" || return 1
	expect_reconcile 'rolled_back=["cc"]' || return 1
	c destroy ok
	expect_rc 0 || return 1
	expect_no_dir ok || return 1
}

test_crashpoint_destroy_intent() {
	first_start || return 1
	c create keep && c create di
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	crash_start destroy-intent "$STATE" || return 1
	c destroy di
	expect_rc 1 "destroy while the daemon dies before rmdir" || return 1
	expect_crashed destroy-intent || return 1
	expect_dir di "rmdir happened before the crash point" || return 1
	expect_journal 'last | .op == "put" and .entry.name == "di" and .entry.state == "destroying"' || return 1
	# Documented (daemon/manager_reconcile.c): an interrupted destroy is finished.
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["keep"]' ] || fail "listed $NAMES, want [\"keep\"]" || return 1
	expect_no_dir di "reconcile must finish the interrupted destroy" || return 1
	expect_dir keep || return 1
	expect_reconcile 'resumed=["di"]' || return 1
	# Destroy again: idempotent, nothing left to do.
	c call io.cgctl.Manager.Destroy '{"name":"di"}'
	expect_rc 0 || return 1
	expect_jq '.existed == false and .removed == []' || return 1
}

test_crashpoint_destroy_intent_busy() {
	first_start || return 1
	c create db
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	crash_start destroy-intent "$STATE" || return 1
	c destroy db
	expect_rc 1 || return 1
	expect_crashed destroy-intent || return 1
	# While the daemon is down a process moves in: the destroy cannot be finished.
	cgt_sleeper "$CGT_MROOT/db" || fail "cannot place a process in db" || return 1
	restart "$STATE" || return 1
	c --json list
	expect_jq 'length == 1 and .[0].name == "db" and .[0].state == "active" and .[0].populated == true' || return 1
	expect_dir db "reconcile removed a populated cgroup" || return 1
	# shellcheck disable=SC2153 # set by cgt_sleeper
	kill -0 "$SPID" || fail "reconcile killed the process in db" || return 1
	expect_reconcile 'resumed=["db"]' || return 1
	c destroy db --kill
	expect_rc 0 || return 1
	expect_no_dir db || return 1
	cgt_wait_gone "$SPID" 2 || fail "process in db survived destroy --kill" || return 1
}

test_crashpoint_destroy_intent_delegated() {
	first_start || return 1
	c create --delegate dd
	expect_rc 0 || return 1
	# The delegatee's own cgroups inside: the daemon removes them with dd.
	cgt_as_user_in "$CGT_WORK" mkdir -p "$CGT_MROOT/dd/inner/deeper" || return 1
	cgt_daemon_stop || return 1
	crash_start destroy-intent "$STATE" || return 1
	c destroy dd
	expect_rc 1 || return 1
	expect_crashed destroy-intent || return 1
	expect_dir dd/inner/deeper "removal started before the crash point" || return 1
	# Documented (cgctld(8)): interrupted destroys are completed; nothing
	# inside is in use, and the inside of a delegated cgroup is the daemon's to remove.
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '[]' ] || fail "listed $NAMES: the interrupted destroy of a delegated cgroup was not completed" || return 1
	expect_no_dir dd || return 1
	expect_reconcile 'resumed=["dd"]' || return 1
}

test_crashpoint_destroy_rmdir() {
	first_start || return 1
	c create keep && c create dr
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	crash_start destroy-rmdir "$STATE" || return 1
	c destroy dr
	expect_rc 1 "destroy while the daemon dies after rmdir" || return 1
	expect_crashed destroy-rmdir || return 1
	expect_no_dir dr "rmdir had happened" || return 1
	expect_journal 'last | .op == "put" and .entry.name == "dr" and .entry.state == "destroying"' || return 1
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["keep"]' ] || fail "listed $NAMES, want [\"keep\"]" || return 1
	expect_no_dir dr || return 1
	expect_reconcile 'resumed=["dr"]' || return 1
}

test_crashpoint_recursive_destroy() {
	first_start || return 1
	c create r && c create r/s && c create r/s/t && c create r/u
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	# Depth-first: r/u, r/s/t, r/s, then r: die right after the third rmdir.
	crash_start destroy-rmdir:3 "$STATE" || return 1
	c destroy r --recursive
	expect_rc 1 || return 1
	expect_crashed destroy-rmdir || return 1
	expect_no_dir r/u && expect_no_dir r/s || return 1
	expect_dir r "the parent is removed last" || return 1
	expect_journal 'last | .op == "put" and .entry.name == "r/s" and .entry.state == "destroying"' || return 1
	restart "$STATE" || return 1
	list_names || return 1
	[ "$NAMES" = '["r"]' ] || fail "listed $NAMES after an interrupted recursive destroy, want [\"r\"]" || return 1
	expect_reconcile 'resumed=["r/s"]' || return 1
	expect_dir r || return 1
	c destroy r
	expect_rc 0 "destroy r, now childless" || return 1
	expect_no_dir r || return 1
}

# --- SIGKILL torture under concurrent clients --------------------------------

# Directories made behind the daemon's back, as reconcile must report them
# (foreign-user/inner, inside one of them, is not reported); none may go.
TT_FOREIGN='["base/foreign-nested","foreign-root","foreign-user"]'

# Start the daemon for round $1 on its own socket (clients learn it only from
# the gate), appending to one log; no waiting. What the log holds so far is
# the former daemons' (each is dead and reaped by now): crash_torture reads
# past it on TT_LOGFD (tt_wait_ready).
tt_spawn() {
	local CGT_AS CGT_ENV line
	[ -z "${TT_LOGFD:-}" ] || while IFS= read -r -u "$TT_LOGFD" line; do :; done
	DSOCK=$CGT_RUN/tt.$1.sock
	cgt_as_prefix "$CGT_MROOT/cgctld.leaf" "$CGT_UID" "$CGT_GID" init 0
	cgt_user_env
	[ -z "${TT_CRASH:-}" ] || CGT_ENV+=(CGCTLD_TEST_CRASH="$TT_CRASH")
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$CGCTLD" --cgroup-root "$CGT_MROOT" --state-dir "$STATE" --socket "$DSOCK" \
		</dev/null >>"$DLOG" 2>&1 &
	DPID=$!
	cgt_track_pid "$DPID"
}

# Wait until the daemon tt_spawn started says "ready on" (it listens), in the
# log lines after those tt_spawn read past: builtins only, where a status call
# every 10 ms until one was answered was two execs a turn.
tt_wait_ready() {
	local line part="" i=0 limit=$((CGT_TIMEOUT * 100))
	while :; do
		while IFS= read -r -u "$TT_LOGFD" line; do
			line=$part$line part=""
			case $line in *"cgctld: ready on "*) return 0 ;; esac
		done
		part=$part$line
		cgt_proc_state_v "$DPID"
		if [ "$CGT_STATE" = Z ] || ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID" 2>/dev/null
			fail "cgctld exited early (status $?): $(tail -n 3 "$DLOG" | tr '\n' ' ')"
			return 1
		fi
		i=$((i + 1))
		[ "$i" -lt "$limit" ] || { fail "cgctld did not say it is ready on $DSOCK within ${CGT_TIMEOUT}s"; return 1; }
		cgt_nap 0.01
	done
}

# Let the clients at the current daemon.
tt_open_gate() {
	printf '%s\n' "$DSOCK" >"$TT/gate.tmp" && mv -f "$TT/gate.tmp" "$TT/gate"
}

# Compare what the clients were told with the daemon and the kernel tree,
# while no client can reach the daemon. $1 labels the moment; $2 is "fresh"
# right after a restart (then the reconcile findings are checked against the
# operations in flight at the crash). Adds to TT_ROLLED and TT_RESUMED.
tt_check() {
	local label=$1 fresh=${2:-} list status dirs states res
	cgt_user_out list "$CGCTL" --socket "$DSOCK" --json list 2>/dev/null ||
		fail "$label: list failed: $list$CGT_USER_ERR" || return 1
	cgt_user_out status "$CGCTL" --socket "$DSOCK" --json status 2>/dev/null ||
		fail "$label: status failed: $status$CGT_USER_ERR" || return 1
	cgt_cg_dirs "$CGT_MROOT"
	printf -v dirs '%s\n' "${CGT_DIRS[@]#"$CGT_MROOT"/}"
	dirs=${dirs%$'\n'}
	# Each name's last C/c/D/d event, from complete lines (ended by " .") only.
	# Names last destroyed are left out unless a directory of that name exists:
	# a listed one has a directory or is an error anyway. Instead, when a client
	# got an error from the daemon ("E" lines): "E", a tab and the first three.
	states=$(awk 'FILENAME == "-" { dir[$0] = 1; next }
		/^E / { if (ne++ < 3) err = err $0 ";" }
		$NF == "." && $1 ~ /^[CcDd]$/ { for (i = 2; i < NF; i++) st[$i] = $1 }
		END { if (ne) { print "E\t" err; exit }
			for (n in st) if (st[n] != "d" || n in dir) print n "\t" st[n] }' - "$TT"/w*.log <<<"$dirs" 2>/dev/null)
	if [[ $states == E$'\t'* ]]; then
		fail "$label: a client got an unexpected daemon error: ${states#E$'\t'}"
		return 1
	fi
	res=$(jq -n -r --argjson list "$list" --argjson status "$status" --arg dirs "$dirs" \
		--arg states "$states" --argjson foreign "$TT_FOREIGN" --arg fresh "$fresh" '
		($list | map({key: .name, value: .}) | from_entries) as $L
		| ($dirs | split("\n") | map(select(length > 0) | {key: ., value: true}) | from_entries) as $D
		| ($states | split("\n") | map(select(length > 0) | split("\t") | {key: .[0], value: .[1]})
			| from_entries) as $S
		| [$list[] | select(.delegate) | .name + "/"] as $inside
		| (["cgctld.leaf"] + $foreign + ["foreign-user/inner"]) as $notours
		| $status.ledger.reconcile as $rec
		| [
			($S | to_entries[] | select(.value == "c") | .key as $n
				| if $L[$n] == null then "acknowledged create \($n) is not listed"
				  elif $D[$n] == null then "acknowledged create \($n) has no directory"
				  else empty end),
			($S | to_entries[] | select(.value == "d") | .key as $n
				| if $L[$n] != null then "acknowledged destroy \($n) is still listed"
				  else "acknowledged destroy \($n) left its directory" end),
			($list[] | select(.state != "active") | "\(.name) listed as \(.state) after reconcile"),
			($list[] | select($D[.name] == null) | "\(.name) listed without a directory"),
			($D | keys[] | . as $d
				| select(([$notours[] | select($d == . or ($d | startswith(. + "/")))] | length) == 0)
				| select(([$inside[] | select($d | startswith(.))] | length) == 0)
				| select($L[$d] == null)
				| select($rec.unknown | any(.[]; . == $d) | not)
				| "directory \($d) is not listed (an orphan)"),
			($notours[] | select($D[.] == null) | "directory \(.) not created by cgctld was removed"),
			(if ($rec.dropped | length) > 0 then "reconcile dropped \($rec.dropped) (an entry lost its directory)" else empty end),
			(if ($foreign - $rec.unknown | length) > 0 then "reconcile unknown \($rec.unknown), want \($foreign)" else empty end),
			# Beyond the strangers: only a create the crash caught between mkdir and
			# its identity mark (never acknowledged), left alone, unlisted.
			(if $fresh == "" then empty else
				$rec.unknown - $foreign | .[] | select($S[.] == "c" or $L[.] != null or $D[.] == null)
				| "reconcile unknown \(.) (\($S[.] // "no event")), which is not an unproven create" end),
			(if $fresh == "" then empty else
				($rec.rolled_back[] | select($S[.] == "c" or $S[.] == "d")
					| "\(.) rolled back, but its last acknowledged event was \($S[.])"),
				# Resumed: a destroy of it, or of an ancestor (recursive), was in flight.
				($rec.resumed[] | select(([., (split("/") | range(1; length) as $i | .[:$i] | join("/"))]
					| map($S[.]) | index("D")) == null)
					| "\(.) resumed, but no destroy of it or of an ancestor was in flight (\($S[.] // "none"))")
			 end)
		  ] as $errors
		# The unproven creates (fresh only), deepest first, for tt_clear_unproven.
		| (if $fresh == "" then [] else $rec.unknown - $foreign | sort | reverse end) as $unproven
		| "\($rec.rolled_back | length) \($rec.resumed | length) \($errors | length) \($unproven | length)",
			$unproven[], $errors[:4][]') ||
		fail "$label: cannot evaluate the check" || return 1
	local -a n lines
	mapfile -t lines <<<"$res"
	read -ra n <<<"${lines[0]}"
	if [ "$fresh" ]; then
		TT_ROLLED=$((TT_ROLLED + n[0]))
		TT_RESUMED=$((TT_RESUMED + n[1]))
	fi
	[ "${n[2]}" = 0 ] || fail "$label: $(printf '%s;' "${lines[@]:n[3]+1}")" || return 1
	[ -z "$fresh" ] || tt_clear_unproven "${lines[@]:1:n[3]}"
}

# As an operator would after reading status: remove the empty directories of
# unproven creates $1... (reconcile left them alone), before the clients go on, so
# that they block no destroy of a parent. Counts them in TT_UNPROVEN.
tt_clear_unproven() {
	local name
	for name in "$@"; do
		[ -n "$name" ] || continue
		rmdir "$CGT_MROOT/$name" || fail "cannot remove the unproven $name" || return 1
		TT_UNPROVEN=$((TT_UNPROVEN + 1))
	done
}

# Every crash point of the daemon (daemon/crashpoint.h): each torture run stops
# the daemon once at each of them, under the clients' load, before the random
# SIGKILLs (the crashpoint_* tests take them one by one, without load).
TT_POINTS=(create-intent create-unmarked create-mkdir create-set-up create-commit destroy-intent destroy-bounded destroy-rmdir)

# The point the daemon of round $1 (of $2 crash rounds, the points first) is
# started to die at, in TT_CRASH (empty: a SIGKILL at a random moment ends it).
tt_point_for() {
	TT_CRASH=""
	[ "$1" -lt "${#TT_POINTS[@]}" ] || return 0
	# Not always the first passage: 1 to 3 (the clients' operations vary).
	TT_CRASH=${TT_POINTS[$1]}:$((RANDOM % 3 + 1))
}

# End round $1's daemon: wait for it to die at its crash point TT_CRASH, or
# SIGKILL it after a random 5 to 50 ms of the clients' traffic.
tt_end_round() {
	local i=$1 st ms
	if [ -n "$TT_CRASH" ]; then
		cgt_wait_gone "$DPID" "$CGT_TIMEOUT" ||
			fail "crash $i: cgctld never reached crash point $TT_CRASH in ${CGT_TIMEOUT}s" || return 1
		wait "$DPID" 2>/dev/null
		st=$?
		[ "$st" = 137 ] || fail "crash $i: cgctld exited $st, not killed at crash point $TT_CRASH" || return 1
		TT_POINTS_HIT=$((TT_POINTS_HIT + 1))
		return 0
	fi
	printf -v ms '0.%03d' $((RANDOM % 46 + 5))
	cgt_nap "$ms"
	cgt_daemon_kill9 || fail "crash $i: cgctld had died on its own: $(tail -n 3 "$DLOG" | tr '\n' ' ')"
}

# TT_POINTS names every crash point the daemon's code has, and only those.
tt_points_complete() {
	local have want
	have=$(grep -ho 'crashpoint("[a-z-]*")' "$TOP"/daemon/*.c | sed 's/^crashpoint("//; s/")$//' | sort -u | tr '\n' ' ')
	want=$(printf '%s\n' "${TT_POINTS[@]}" | sort -u | tr '\n' ' ')
	[ -n "$have" ] && [ "$have" = "$want" ] ||
		fail "TT_POINTS ($want) differs from the daemon's crash points ($have)"
}

test_crash_torture() {
	local crashes=${CGCTL_TORTURE_CRASHES:-10} workers=${CGCTL_TORTURE_WORKERS:-4}
	local seed=${CGCTL_TORTURE_SEED:-$RANDOM} i early=0 cpid t0 ops unknown rounds point ms names TT_LOGFD
	[ "${CGCTL_THOROUGH:-0}" = 1 ] && crashes=${CGCTL_TORTURE_CRASHES:-100}
	rounds=$((crashes + ${#TT_POINTS[@]}))
	local bin=$CGT_TMP/bin/crash_torture
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	tt_points_complete || return 1
	t0=$(date +%s%N)
	TT_ROLLED=0 TT_RESUMED=0 TT_UNPROVEN=0 TT_POINTS_HIT=0 TT_CRASH=""
	printf 'torture: %s crash points + %s crashes, %s clients, seed %s\n' "${#TT_POINTS[@]}" "$crashes" "$workers" "$seed"

	# Ours (base) with a stranger inside; strangers beside it, made by root and by the user.
	first_start || return 1
	c create base
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	mkdir "$CGT_MROOT/foreign-root" || return 1
	cgt_as_user_in "$CGT_WORK" mkdir "$CGT_MROOT/foreign-user" "$CGT_MROOT/foreign-user/inner" \
		"$CGT_MROOT/base/foreign-nested" || fail "cannot make the user's foreign directories" || return 1

	TT=$CGT_TMP/torture
	mkdir -m 0755 "$TT" && chown "$CGT_UID:$CGT_GID" "$TT" || return 1
	DLOG=$CGT_LOGS/torture-daemons.log
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	: >>"$DLOG" && exec {TT_LOGFD}<"$DLOG" || return 1

	tt_point_for 0
	tt_spawn 0
	tt_wait_ready || return 1
	tt_check "first start" fresh || return 1
	tt_open_gate
	cgt_user_bg "$CGT_WORK" "$TT/clients.out" "$bin" run "$TT/gate" "$TT" "$workers" "$seed"
	cpid=$BGPID

	for ((i = 1; i <= rounds; i++)); do
		point=$TT_CRASH
		tt_end_round "$i" || return 1
		kill -0 "$cpid" 2>/dev/null || fail "the clients exited during crash $i: $(tail -n 3 "$TT/clients.out")" || return 1
		# Its socket stays (each daemon has its own, the clients get refused on it), all removed at the end.
		if ((i % 10 == 5)); then
			# Now and then, also kill it during start-up (reconcile may be mid-way).
			TT_CRASH=""
			tt_spawn "$i.early"
			printf -v ms '0.%03d' $((RANDOM % 8))
			cgt_nap "$ms"
			kill -KILL "$DPID" 2>/dev/null
			wait "$DPID" 2>/dev/null
			early=$((early + 1))
		fi
		tt_point_for "$i"
		tt_spawn "$i"
		tt_wait_ready || return 1
		tt_check "after crash $i${point:+ (at $point)}" fresh || return 1
		tt_open_gate
	done
	[ "$TT_POINTS_HIT" = "${#TT_POINTS[@]}" ] ||
		fail "the daemon died at $TT_POINTS_HIT crash points, want ${#TT_POINTS[@]}" || return 1

	# Let the clients run a moment against a daemon that stays, then stop them.
	cgt_nap 0.2
	touch "$TT/stop"
	cgt_wait_gone "$cpid" || fail "clients did not stop" || return 1
	wait "$cpid" 2>/dev/null || fail "clients exited $?: $(grep -h '^E ' "$TT"/w*.log | head -n 3)" || return 1
	tt_check "quiescent, clients stopped" || return 1

	# A clean restart finds nothing to repair.
	cgt_daemon_stop || fail "cgctld did not stop on SIGTERM" || return 1
	rm -f "$CGT_RUN"/tt.*.sock
	tt_spawn final
	tt_wait_ready || return 1
	tt_check "after a clean restart" || return 1
	r --json status
	expect_jq '.ledger.reconcile.rolled_back == [] and .ledger.reconcile.resumed == []' ||
		fail "a clean restart rolled back or resumed something" || return 1

	# Everything ours can be removed; nothing else is.
	r --json list
	mapfile -t names < <(jq -r '.[].name | select(contains("/") | not) | select(. != "base")' <<<"$OUT")
	CGT_TIMEOUT=60 cgt_user_out OUT "$bin" destroy "$DSOCK" "${names[@]}" ||
		fail "destroy --recursive of all ${#names[@]}: $OUT" || return 1
	r --json list
	expect_jq '[.[].name] == ["base"]' || return 1
	cgt_tree
	[ "${CGT_TREE//$'\n'/ }" = "./base ./base/foreign-nested ./cgctld.leaf ./foreign-root ./foreign-user ./foreign-user/inner" ] ||
		fail "tree after removing everything: ${CGT_TREE//$'\n'/ }" || return 1

	ops=$(awk '$1 == "S" { split($3, a, "="); n += a[2] } END { print n + 0 }' "$TT"/w*.log)
	unknown=$(grep -hc '^U ' "$TT"/w*.log | awk '{ n += $1 } END { print n + 0 }')
	printf 'torture: %s crash points + %s crashes (+%s during start-up), %s operations, %s lost replies, %s rolled back, %s resumed, %s unproven left alone, %s ms\n' \
		"$TT_POINTS_HIT" "$crashes" "$early" "$ops" "$unknown" "$TT_ROLLED" "$TT_RESUMED" "$TT_UNPROVEN" "$((($(date +%s%N) - t0) / 1000000))"
	# The kills must have hit requests in flight, or the test proved little.
	[ "$unknown" -gt 0 ] || fail "no request was ever in flight at a crash ($ops operations)" || return 1
	[ "$ops" -gt $((crashes * 2)) ] || fail "the clients did only $ops operations in $crashes rounds" || return 1
}

# --- torn and corrupt journals ---------------------------------------------

# Start offsets of the journal lines of state dir $1 in LINE_START (one more
# element: the file size). 1 when the file does not end with a whole line (or
# is missing). Builtins only (awk and stat were two execs a start in torn_*):
# the harness runs in the C locale, where ${#line} counts bytes.
journal_layout() {
	local f=$1/journal.jsonl off=0 line=""
	LINE_START=()
	[ -f "$f" ] || return 1
	while IFS= read -r line; do
		LINE_START+=("$off")
		off=$((off + ${#line} + 1))
	done <"$f"
	LINE_START+=("$off")
	# A last line without its newline is left in line by the read that failed.
	[ -z "$line" ]
}

# Offsets to cut at within [$1, $2) (one record): all with CGCTL_TORN_ALL=1,
# else the first and last $3 bytes and 5 more spread between.
cut_offsets() {
	local s=$1 e=$2 k=$3 o step
	if [ "${CGCTL_TORN_ALL:-0}" = 1 ] || [ $((e - s)) -le $((2 * k + 5)) ]; then
		seq "$s" $((e - 1))
		return
	fi
	seq "$s" $((s + k - 1))
	step=$(((e - s - 2 * k) / 6))
	for o in 1 2 3 4 5; do echo $((s + k + o * step)); done
	seq $((e - k)) $((e - 1))
}

# Offsets to cut record [$1, $2) of journal file $3 at: one of every kind of
# tear: at its start (the record wholly gone), 1 and 2 bytes in, in the middle
# of its payload, just before its checksum field, at the checksum's first and
# third digits, and without its last 3, 2 and 1 bytes ('"}' and the newline).
cut_offsets_kinds() {
	local s=$1 e=$2 line pre
	line=$(tail -c +"$((s + 1))" "$3" | head -n 1)
	pre=${line%%,\"crc\":\"*}
	[ "$pre" != "$line" ] && [ $((${#line} + 1)) = $((e - s)) ] ||
		fail "record at byte $s of $3 is not {...,\"crc\":\"...\"}" || return 1
	printf '%s\n' "$s" $((s + 1)) $((s + 2)) $((s + ${#pre} / 2)) $((s + ${#pre})) \
		$((s + ${#pre} + 8)) $((s + ${#pre} + 10)) $((e - 3)) $((e - 2)) $((e - 1)) | sort -nu
}

# The offsets torn_run cuts at in records [$1, $2) and [$2, $3) of journal $4 (see the top).
torn_offsets() {
	local edge=${CGCTL_TORN_EDGE:-}
	[ "${CGCTL_THOROUGH:-0}" = 1 ] && edge=${edge:-5}
	if [ -n "$edge" ] || [ "${CGCTL_TORN_ALL:-0}" = 1 ]; then
		edge=${edge:-5}
		cut_offsets "$1" "$2" "$edge" && cut_offsets "$2" "$3" $((2 * edge))
		return
	fi
	if [ "${CGCTL_TORN_ONCE:-0}" = 1 ] || [ "${CGCTL_TORN_ONCE:-0}" = 2 ]; then
		# Each kind once: with 1 the odd ones in the record before the last, the even
		# ones in the last; with 2 the other way round (make check's two passes: 1
		# under ASan, 2 plain; together every kind in both records).
		local first=$((CGCTL_TORN_ONCE % 2))
		cut_offsets_kinds "$1" "$2" "$4" | awk -v k="$first" 'NR % 2 == k' &&
			cut_offsets_kinds "$2" "$3" "$4" | awk -v k="$((1 - first))" 'NR % 2 == k'
		return
	fi
	cut_offsets_kinds "$1" "$2" "$4" && cut_offsets_kinds "$2" "$3" "$4"
}

# Restore state dir $STATE from $1 and cut its journal at byte $2.
journal_cut() {
	cp -p "$1/journal.jsonl" "$STATE/journal.jsonl" && truncate -s "$2" "$STATE/journal.jsonl"
}

# Start the daemon on $STATE (one log, quick), check with status/list.
torn_start() {
	tt_spawn torn
	cgt_daemon_wait_quick || return 1
	cgt_user_out ST "$CGCTL" --socket "$DSOCK" --json status || fail "status failed" || return 1
	cgt_user_out LS "$CGCTL" --socket "$DSOCK" --json list || fail "list failed" || return 1
}

# The daemon must have kept the journal's first $2 bytes (the intact records)
# as they were in saved copy $1, and left only whole, checksummed lines.
expect_journal_kept() {
	cmp -s -n "$2" "$1/journal.jsonl" "$STATE/journal.jsonl" ||
		fail "the first $2 bytes of the journal (intact records) changed" || return 1
	journal_layout "$STATE" || fail "journal ends in a partial line after start-up" || return 1
	cgt_all_match "$STATE/journal.jsonl" '^\{"rec":\{.*\},"crc":"[0-9a-f]{8}"\}$' ||
		fail "journal has lines that are not records" || return 1
}

# Cut the journal at offsets within its last two records, $1 naming the
# scenario (see the callers), then check each start.
# Set Y_NONCE to the nonce of y's intent record in saved journal dir $1.
torn_y_nonce() {
	Y_NONCE=$(jq -r 'select(.rec.entry.name == "y" and .rec.entry.state == "creating") | .rec.entry.nonce' \
		"$1/journal.jsonl") && [ -n "$Y_NONCE" ] || fail "no nonce in y's intent record"
}

# Make y again, marked with nonce $1 (its intent record's).
torn_remake_y() {
	[ -x "$CGT_TMP/bin/set_xattr" ] || fail "set_xattr missing: make build/tests/integration/set_xattr" || return 1
	cgt_mkcg "$CGT_MROOT/y" || return 1
	"$CGT_TMP/bin/set_xattr" "$CGT_MROOT/y" user.cgctl.id "$1" || fail "cannot mark y" || return 1
}

torn_run() {
	local scenario=$1 orig=$CGT_TMP/torn-orig l2 l1 end off good drop cuts=0 expect res
	journal_layout "$STATE" || fail "journal not whole before the test" || return 1
	local nl=$((${#LINE_START[@]} - 1))
	l2=${LINE_START[nl - 2]} l1=${LINE_START[nl - 1]} end=${LINE_START[nl]}
	mkdir -p "$orig" && cp -p "$STATE/journal.jsonl" "$orig/" || return 1
	DLOG=$CGT_LOGS/torn-daemons.log
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	local offsets seen=$CGT_TMP/torn-seen.jsonl
	offsets=$(torn_offsets "$l2" "$l1" "$end" "$orig/journal.jsonl") || return 1
	[ "$scenario" != create ] || torn_y_nonce "$orig" || return 1
	: >"$seen"
	for off in $offsets; do
		cuts=$((cuts + 1))
		journal_cut "$orig" "$off" || return 1
		# y made again as the daemon makes it: with the identity mark its intent record holds.
		[ "$scenario" = create ] && [ ! -d "$CGT_MROOT/y" ] && { torn_remake_y "$Y_NONCE" || return 1; }
		good=$l2 drop=1
		[ "$off" -ge "$l1" ] && good=$l1
		[ "$off" = "$good" ] && drop=0
		torn_start || { fail "cut at $off: the daemon did not start"; return 1; }
		case $scenario:$((off >= l1)) in
		create:0)
			# The intent of y is torn: y is not ours as far as the ledger knows.
			expect='{"dropped": [], "rolled_back": [], "resumed": [], "unknown": ["y"]}'
			expect_dir y "cut at $off: a directory whose record was dropped was deleted" || return 1 ;;
		create:1)
			# The intent is whole, the commit torn: an unacknowledged create, rolled back.
			expect='{"dropped": [], "rolled_back": ["y"], "resumed": [], "unknown": []}'
			expect_no_dir y "cut at $off: an interrupted create was not rolled back" || return 1 ;;
		destroy:0)
			# The destroy's first record is torn: x is active, its directory gone.
			expect='{"dropped": ["x"], "rolled_back": [], "resumed": [], "unknown": []}' ;;
		destroy:1)
			expect='{"dropped": [], "rolled_back": [], "resumed": ["x"], "unknown": []}' ;;
		esac
		# What this start said, judged with every other cut's after the loop.
		printf '{"off": %s, "drop": %s, "want": %s}\n%s\n%s\n' "$off" "$drop" "$expect" "$ST" "$LS" >>"$seen"
		cgt_daemon_kill9 || fail "cut at $off: the daemon died on its own" || return 1
		rm -f "$DSOCK"
		expect_journal_kept "$orig" "$good" || { fail "(cut at byte $off)"; return 1; }
	done
	torn_judge "$seen" "$cuts" || fail "(records at $l2, $l1, end $end)" || return 1
	printf 'torn: %s cuts between bytes %s and %s\n' "$cuts" "$l2" "$end"
}

# After each of the $2 cuts recorded in file $1 (its offset, dropped count and
# reconcile wanted; its status; its list), every intact record's entry is there
# (and only they are), the tail was counted as dropped, reconcile resolved what
# the cut left. One jq for all the cuts of a run; fails naming the first cut.
torn_judge() {
	local res
	res=$(jq -n -r --argjson n "$2" '[inputs] as $d
		| if ($d | length) != 3 * $n then "\($d | length) records of cuts, want \(3 * $n)" else
		  first(range(0; $n) as $i | $d[3 * $i] as $c | $d[3 * $i + 1] as $st | $d[3 * $i + 2] as $ls | [
			(if ([$ls[] | .name] | sort) != ["k1", "k2", "k2/sub"] then "listed \([$ls[] | .name])" else empty end),
			(if any($ls[]; .state != "active") then "not all active: \([$ls[] | .state])" else empty end),
			(if $st.ledger.dropped_records != $c.drop then "dropped_records \($st.ledger.dropped_records), want \($c.drop)" else empty end),
			(if $st.ledger.reconcile != $c.want then "reconcile \($st.ledger.reconcile | tojson), want \($c.want | tojson)" else empty end)
			] | select(length > 0) | "cut at byte \($c.off): \(join("; "))") // "ok" end' "$1") ||
		fail "the cuts' records do not parse: $(head -c 300 "$1")" || return 1
	[ "$res" = ok ] || fail "$res"
}

test_torn_journal_tail_create() {
	first_start || return 1
	c create k1 && c create k2 && c create k2/sub && c create y
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	expect_journal '.[-2].entry.name == "y" and .[-2].entry.state == "creating" and .[-1].entry.state == "active"' || return 1
	torn_run create
}

test_torn_journal_tail_destroy() {
	first_start || return 1
	c create k1 && c create x && c create k2 && c create k2/sub && c destroy x
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	expect_journal '.[-2].entry.name == "x" and .[-2].entry.state == "destroying" and .[-1] == {"seq": .[-1].seq, "op": "del", "name": "x"}' || return 1
	torn_run destroy
}

# Overwrite byte $2 of file $1 with character $3 (in place, same length).
poke() {
	printf '%s' "$3" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc status=none
}

test_corrupt_journal_middle() {
	first_start || return 1
	c create m1 && c create m2 && c create m3 && c create m4
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	local orig=$CGT_TMP/corrupt-orig j=$STATE/journal.jsonl s5 e5 at how want pos
	journal_layout "$STATE" || return 1
	[ "${#LINE_START[@]}" = 9 ] || fail "expected 8 journal records, have $((${#LINE_START[@]} - 1))" || return 1
	expect_journal '.[4].entry.name == "m3" and .[4].entry.state == "creating"' || return 1
	mkdir -p "$orig" && cp -p "$j" "$orig/" || return 1
	# Record 5 (m3's intent) is damaged: it and everything after it are dropped,
	# records 1-4 are kept, m3 and m4 are strangers now: reported, not deleted.
	s5=${LINE_START[4]} e5=${LINE_START[5]}
	pos=$(grep -bo '"name":"m3"' <<<"$(sed -n 5p "$j")" | head -n 1 | cut -d: -f1)
	DLOG=$CGT_LOGS/corrupt-daemons.log
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	for how in name crc prefix newline nul; do
		cp -p "$orig/journal.jsonl" "$j" || return 1
		want=4
		case $how in
		name) at=$((s5 + pos + 9)) ; poke "$j" "$at" 9 ;;       # "m3" -> "m9"
		crc) at=$((e5 - 4)) ; poke "$j" "$at" "$( [ "$(tail -c +$((at + 1)) "$j" | head -c 1)" = 0 ] && echo 1 || echo 0)" ;;
		prefix) at=$s5 ; poke "$j" "$at" '[' ;;
		newline) at=$((e5 - 1)) ; poke "$j" "$at" ' '; want=3 ;;  # records 5 and 6 run together
		nul) at=$((s5 + 40)) ; printf '\0' | dd of="$j" bs=1 seek="$at" count=1 conv=notrunc status=none ;;
		esac
		cmp -s "$j" "$orig/journal.jsonl" && { fail "$how: the journal was not changed"; return 1; }
		cp -p "$j" "$CGT_TMP/corrupt-damaged"
		tt_spawn corrupt
		cgt_daemon_wait_quick || return 1
		r --json status
		# dropped_records, reconcile's findings; records after the damage were
		# lost: recovery, the damaged journal kept whole, the loss named.
		expect_jq_all --value '.ledger.recovery.damage[0].kept' ".ledger.dropped_records == $want" \
			'.ledger.reconcile == {dropped: [], rolled_back: [], resumed: [], unknown: ["m3", "m4"]}' \
			".ledger.recovery.mode == \"recovery\" and .ledger.recovery.damage[0].file == \"journal.jsonl\" and .ledger.recovery.damage[0].offset == $s5" \
			'.ledger.recovery.damage[0].lost | test("m4")' || fail "$how at byte $at: status, want $want dropped" || return 1
		cmp -s "$STATE/$JQV" "$CGT_TMP/corrupt-damaged" ||
			fail "$how: the damaged journal was not kept whole" || return 1
		r --json list
		expect_jq '[.[].name] == ["m1", "m2"] and all(.[]; .state == "active")' || fail "$how: entries of intact records" || return 1
		expect_dir m3 "$how: directory of a dropped record deleted" && expect_dir m4 "$how" || return 1
		# Not ours any more: destroy leaves them alone.
		r call io.cgctl.Manager.Destroy '{"name":"m3"}'
		expect_jq '.existed == false' || return 1
		expect_dir m3 "$how: destroyed a directory the ledger no longer records" || return 1
		cgt_daemon_kill9 || fail "$how: the daemon died on its own" || return 1
		rm -f "$DSOCK"
		expect_journal_kept "$orig" "$s5" || { fail "($how)"; return 1; }
	done
}

# Dropping journal records at start-up must not be silent: the log says so.
test_dropped_records_logged() {
	first_start || return 1
	c create k1 && c create k2
	expect_rc 0 || return 1
	cgt_daemon_stop || return 1
	truncate -s -7 "$STATE/journal.jsonl"
	restart "$STATE" || return 1
	c --json status
	expect_jq '.ledger.dropped_records == 1' || return 1
	grep -iE 'journal|record' "$DLOG" | grep -qiE 'drop|torn|corrupt|truncat|discard' ||
		fail "the daemon dropped a torn journal record without a word in its log" || return 1
	# People see it too.
	c status
	grep -q '1 torn or corrupt record(s) dropped at start-up' <<<"$OUT" ||
		fail "cgctl status does not say that a record was dropped: $OUT" || return 1
}

# A damaged snapshot never locks the user out (issue 13 item 9): the daemon
# comes up, keeps the damaged file aside, touches nothing it cannot prove.
test_corrupt_snapshot_recovered() {
	local bin=$CGT_TMP/bin/crash_torture sum kept
	[ -x "$bin" ] || { fail "$bin missing: make build/tests/integration/crash_torture"; return 1; }
	first_start || return 1
	c create s1
	expect_rc 0 || return 1
	# Enough records to compact: a snapshot appears.
	cgt_as_user_in "$CGT_WORK" "$bin" churn "$DSOCK" 300 || fail "churn failed" || return 1
	c --json status
	expect_jq '.ledger.compactions >= 1' || return 1
	c create s2
	cgt_daemon_stop || return 1
	[ -s "$STATE/ledger.json" ] || fail "no snapshot after compaction" || return 1
	jq -e '.format == "cgctl-ledger" and .version == 1 and ([.entries[].name] | index("s1") != null)' \
		"$STATE/ledger.json" >/dev/null || fail "snapshot lacks s1: $(head -c 300 "$STATE/ledger.json")" || return 1
	truncate -s $(($(stat -c %s "$STATE/ledger.json") / 2)) "$STATE/ledger.json"
	sum=$(sha256sum <"$STATE/ledger.json")
	restart "$STATE" || return 1
	# s2 is proven by an intact journal record; s1 only by the lost snapshot: reported, left alone.
	list_names || return 1
	[ "$NAMES" = '["s2"]' ] || fail "listed $NAMES after recovery" || return 1
	expect_reconcile unknown='["s1"]' || return 1
	expect_jq_all --value '.ledger.recovery.damage[0].kept' \
		'.ledger.recovery.mode == "recovery" and .ledger.recovery.damage[0].file == "ledger.json"' || return 1
	kept=$JQV
	[ "$(sha256sum <"$STATE/$kept")" = "$sum" ] || fail "the damaged snapshot was not kept whole as $kept" || return 1
	expect_dir s1 && expect_dir s2 || return 1
	grep -q "ledger.json: damaged at byte" "$DLOG" || fail "the log does not name the damage" || return 1
}
