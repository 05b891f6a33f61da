# SPDX-License-Identifier: MIT
# t_top.sh: `cgctl top` (batch, JSON, a real terminal under tmux) and Watch's PSI pressure triggers.
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK... are lib.sh's, not misspelt
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

BUSY=() # busy_in's loops

# Start n (default 1) busy loops as the test user in managed cgroup $1; their pids go in BUSY.
busy_in() {
	local i
	for ((i = 0; i < ${2:-1}; i++)); do
		cgt_user_bg "$CGT_MROOT/$1" /dev/null sh -c 'while :; do :; done'
		BUSY+=("$BGPID")
	done
}

# Stop the busy loops once what they were for is seen: each burns a CPU the
# other lanes' tests share until the test ends (they were 8.7 CPU s a run).
busy_stop() {
	local p
	[ "${#BUSY[@]}" = 0 ] || kill -KILL "${BUSY[@]}" 2>/dev/null
	for p in "${BUSY[@]}"; do wait "$p" 2>/dev/null; done
	BUSY=()
}

# The NAME column of the first row of the last frame of batch output $1.
first_row() {
	awk '/^NAME /{getline; row = $1} END {print row}' "$1"
}

# A daemon with a busy cgroup "busy" (a loop: BUSY) and an idle one "a-idle" (a sleeper in a-idle/child) that
# sorts first by name.
busy_and_idle() {
	cgt_daemon_start "" "$@" || return 1
	c create busy && c create a-idle && c create a-idle/child
	expect_rc 0 || return 1
	busy_in busy
	cgt_sleeper "$CGT_MROOT/a-idle/child" || fail "cannot start a sleeper" || return 1
}

# --- top ----------------------------------------------------------------------

test_top_batch_busy_first() {
	busy_and_idle || return 1
	local out=$CGT_TMP/top.txt
	cgt_as_user_in "$CGT_WORK" "$CGCTL" --socket "$DSOCK" top -b -n 2 -d 0.5 >"$out" 2>"$CGT_TMP/err" </dev/null
	RC=$?
	busy_stop
	cat "$out"
	[ "$RC" = 0 ] || fail "top -b exited $RC: $(cat "$CGT_TMP/err")" || return 1
	[ "$(grep -c '^NAME ' "$out")" = 2 ] || fail "top -b -n 2 did not print 2 frames" || return 1
	[ "$(first_row "$out")" = busy ] || fail "sorted by cpu, the first row is '$(first_row "$out")', not busy" ||
		return 1
	# The busy cgroup ran a loop: a full CPU's worth is not guaranteed on a shared box, 5% is.
	awk '/^busy /{ if ($3 + 0 < 5) bad = 1; seen = 1 } END { exit !(seen && !bad) }' "$out" ||
		fail "busy's CPU% is not above 5" || return 1
	# The child is shown below its parent, indented.
	grep -qE '^  child ' "$out" || fail "a-idle/child is not indented below a-idle" || return 1
	# Controllers missing here are said once in the header, not as columns of zeros.
	if ! cgt_has_word "$CGT_MROOT/busy/cgroup.controllers" memory; then
		grep -q '^not enabled:.* memory (MEM, MAX)' "$out" || fail "the header does not say memory is not enabled" ||
			return 1
		! grep -qE '^NAME .* MEM ' "$out" || fail "a MEM column without the memory controller" || return 1
	fi
	grep -qE '^cgctld: 3 cgroups, 3 entries, controllers:' "$out" || fail "no daemon figures in the header" || return 1
	# By name, a-idle comes first.
	c top -b -n 1 -d 0.2 -s name
	expect_rc 0 || return 1
	[ "$(awk '/^NAME /{getline; print $1; exit}' <<<"$OUT")" = a-idle ] || fail "-s name: a-idle is not first" || return 1
}

test_top_json_and_usage() {
	busy_and_idle || return 1
	c --json top -n 2 -d 0.5
	busy_stop
	expect_rc 0 || return 1
	[ "$(wc -l <<<"$OUT")" = 2 ] || fail "--json -n 2: not 2 lines" || return 1
	expect_jq '.cgroups[0].name == "busy" and .cgroups[0].cpu_percent > 5 and .sort == "cpu"' \
		"$(tail -n 1 <<<"$OUT")" || return 1
	expect_jq '.cgroups | map(.name) | sort == ["a-idle", "a-idle/child", "busy"]' "$(tail -n 1 <<<"$OUT")" || return 1
	expect_jq '.status.entries == 3 and (.cgroups[] | select(.name == "a-idle/child") | .processes == 1)' \
		"$(tail -n 1 <<<"$OUT")" || return 1
	# Only the subtree asked for.
	c --json top -n 1 -d 0.2 a-idle
	expect_rc 0 || return 1
	expect_jq '.cgroups | map(.name) == ["a-idle", "a-idle/child"]' || return 1
	c top -b -n 0
	expect_rc 2 "top -n 0" || return 1
	c top -b -s bogus
	expect_rc 2 "top -s bogus" || return 1
	c top -b -d 0.01
	expect_rc 2 "top -d 0.01" || return 1
	c top -b 'a/../b'
	expect_rc 1 "top of an invalid name" || return 1
	expect_err InvalidName || return 1
}

test_top_appear_vanish() {
	cgt_daemon_start || return 1
	local out=$CGT_TMP/top.json pid
	c create early
	expect_rc 0 || return 1
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" --json top -d 0.3 -n 8
	pid=$BGPID
	cgt_wait_line "$out" '"early"' || fail "no frame with early" || return 1
	c create late && c destroy early
	expect_rc 0 || return 1
	cgt_wait_gone "$pid" || fail "top -n 8 did not end" || return 1
	wait "$pid"
	[ $? = 0 ] || fail "top exited non-zero: $(cat "$out.err")" || return 1
	cat "$out"
	[ "$(wc -l <"$out")" = 8 ] || fail "not 8 frames" || return 1
	jq -e -s '.[-1].cgroups | map(.name) == ["late"]' "$out" >/dev/null || fail "last frame is not just late" || return 1
	# A cgroup that just appeared has no rate yet: no cpu_percent rather than a made-up one.
	jq -e -s '[.[] | .cgroups[] | select(.name == "late")][0] | has("cpu_percent") | not' "$out" >/dev/null ||
		fail "late's first frame has a CPU% without an earlier sample" || return 1
	[ ! -s "$out.err" ] || fail "top wrote to stderr: $(cat "$out.err")" || return 1
}

test_top_unknown_name() {
	cgt_daemon_start || return 1
	c create known && c create known/child
	expect_rc 0 || return 1
	# Like every command on a name it does not manage: NotFound, exit 1, nothing on stdout.
	local mode
	for mode in "top -b -n 1 -d 0.2" "--json top -n 1 -d 0.2" "top -b -n 1 -d 0.2 known"; do
		# shellcheck disable=SC2086 # the modes are word lists
		c $mode nosuch
		expect_rc 1 "$mode nosuch" || return 1
		expect_err 'NotFound' "$mode nosuch" || return 1
		expect_err 'nosuch' "$mode nosuch" || return 1
		[ -z "$OUT" ] || fail "$mode nosuch printed a frame: ${OUT:0:200}" || return 1
	done
	c call Snapshot '{"names": ["known/nosuch"]}'
	expect_rc 1 "Snapshot of an unknown name" || return 1
	expect_err 'NotFound' || return 1
	expect_jq '.name == "known/nosuch"' || return 1
	# A subtree that exists still works, and so does a name whose entries are below it only.
	c --json top -n 1 -d 0.2 known/child
	expect_rc 0 || return 1
	expect_jq '.cgroups | map(.name) == ["known/child"]' || return 1
	# The cgroup top was looking at goes away: top says so and fails rather than showing nothing.
	local out=$CGT_TMP/top.txt pid
	c create gone
	expect_rc 0 || return 1
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" top -b -d 0.2 gone
	pid=$BGPID
	cgt_wait_line "$out" '^gone ' || fail "no frame with gone" || return 1
	c destroy gone
	expect_rc 0 || return 1
	cgt_wait_gone "$pid" || fail "top of a destroyed cgroup kept running" || return 1
	wait "$pid"
	[ $? = 1 ] || fail "top of a destroyed cgroup did not exit 1: $(cat "$out.err")" || return 1
	grep -q 'NotFound.*gone' "$out.err" || fail "top did not say gone went away: $(cat "$out.err")" || return 1
}

# Print the tmux pane $1's text.
pane() { tmux -S "$TMUXSOCK" capture-pane -p -t "$1"; }

# Set PANE to the tmux pane $1's text (polled: no $(...) or pipe into a function).
pane_v() {
	pane "$1" >"$CGT_TMP/pane"
	cgt_slurp PANE "$CGT_TMP/pane"
}

# The first row below the header of tmux pane $1 is cgroup $2.
pane_first() {
	local line first
	pane_v "$1"
	while IFS= read -r line; do
		case $line in "NAME "*) ;; *) continue ;; esac
		IFS= read -r line || break
		read -r first _ <<<"$line"
		[ "$first" = "$2" ]
		return
	done <<<"$PANE"
	return 1
}

# Wait until a line of the pane matches ERE $2; 1 on timeout.
pane_wait() {
	local i line
	for ((i = 0; i < CGT_TIMEOUT * 10; i++)); do
		pane_v "$1"
		while IFS= read -r line; do
			[[ $line =~ $2 ]] && return 0
		done <<<"$PANE"
		cgt_nap 0.1
	done
	return 1
}

# cgctl top -d $1 in a tmux session "top" on $TMUXSOCK, as the test user (root's
# cgctl talks to root's daemons only) with TERM of a real terminal; its stderr
# in $CGT_TMP/top.err, its pane kept once it exits.
top_in_tmux() {
	install -m 0600 -o "$CGT_UID" -g "$CGT_GID" /dev/null "$CGT_TMP/top.err"
	tmux -S "$TMUXSOCK" -f /dev/null new-session -d -s top -x 120 -y 30 \
		env TERM=xterm setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		sh -c 'exec "$@" 2>"'"$CGT_TMP/top.err"'"' top "$CGCTL" --socket "$DSOCK" top -d "$1" ||
		fail "tmux did not start" || return 1
	tmux -S "$TMUXSOCK" set-option -t top remain-on-exit on >/dev/null
}

test_top_tmux_fullscreen() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	busy_and_idle || return 1
	TMUXSOCK=$CGT_TMP/tmux-top.sock
	cgt_defer tmux -S "$TMUXSOCK" kill-server
	top_in_tmux 0.5 || return 1
	pane_wait top '^NAME +PROCS +CPU%' || fail "top did not render: $(pane top)" || return 1
	pane_wait top '^busy +1? ?[0-9]+ +[0-9]' || fail "no busy row: $(pane top)" || return 1
	pane_wait top 'sorted by cpu' || fail "not sorted by cpu" || return 1
	# Once top has two samples (-d 0.5), busy's CPU% puts it first.
	cgt_wait_for 5 pane_first top busy || { pane top; return 1; }
	busy_stop
	pane top
	tmux -S "$TMUXSOCK" send-keys -t top n
	pane_wait top 'sorted by name' || fail "the n key did not switch the sort: $(pane top)" || return 1
	[ "$(pane top | awk '/^NAME /{getline; print $1; exit}')" = a-idle ] || fail "by name, a-idle is not first" ||
		return 1
	tmux -S "$TMUXSOCK" send-keys -t top c
	pane_wait top 'sorted by cpu' || fail "the c key did not switch back" || return 1
	tmux -S "$TMUXSOCK" send-keys -t top q
	local i dead=0
	for ((i = 0; i < CGT_TIMEOUT * 10; i++)); do
		dead=$(tmux -S "$TMUXSOCK" display-message -p -t top '#{pane_dead} #{pane_dead_status}')
		[ "${dead%% *}" = 1 ] && break
		cgt_nap 0.1
	done
	# tmux 3.3 sometimes reports no status for a pane that ended (seen only in full runs,
	# never alone); an error would show as a status other than 0 or as text on stderr.
	case $dead in "1 0" | "1 ") ;; *) fail "q did not end top with status 0 (pane_dead, status: $dead)"; return 1 ;; esac
	[ ! -s "$CGT_TMP/top.err" ] || fail "top said on stderr: $(cat "$CGT_TMP/top.err")" || return 1
	# The alternate screen is left: the view does not stay behind.
	! pane top | grep -q '^NAME ' || fail "top left its view on the screen: $(pane top)" || return 1
}

# Frames (batch text "NAME" lines, or JSON lines) in top's output $1.
top_frames() { grep -cE '^NAME |"cgroups":' "$1"; }

# top's output $1 has more than $2 frames.
top_frames_over() { [ "$(top_frames "$1")" -gt "$2" ]; }

test_top_daemon_restarts() {
	# cgctld stopped (or killed) and started again under a running top: top says so, reconnects,
	# and goes on drawing frames, in batch and JSON modes; it quits on SIGINT at any time.
	cgt_daemon_start || return 1
	c create a
	expect_rc 0 || return 1
	local out=$CGT_TMP/stop p pids=() sig n
	for sig in TERM KILL; do
		pids=()
		cgt_user_bg_split "$CGT_WORK" "$out.t$sig" "$out.t$sig.err" "$CGCTL" --socket "$DSOCK" top -b -d 0.2
		pids+=("$BGPID")
		cgt_user_bg_split "$CGT_WORK" "$out.j$sig" "$out.j$sig.err" "$CGCTL" --socket "$DSOCK" --json top -b -d 0.2
		pids+=("$BGPID")
		cgt_wait_line "$out.t$sig" '^NAME ' 10 && cgt_wait_line "$out.j$sig" '"cgroups":' 10 ||
			fail "top did not draw a frame" || return 1
		if [ "$sig" = TERM ]; then
			cgt_daemon_stop || return 1
		else
			kill -KILL "$DPID" && wait "$DPID" 2>/dev/null
		fi
		for p in "$out.t$sig.err" "$out.j$sig.err"; do
			cgt_wait_line "$p" '^cgctl top: cgctld closed the connection \(it stopped or restarted\): reconnecting$' 10 ||
				fail "after SIG$sig top said: $(cat "$p")" || return 1
		done
		for p in "${pids[@]}"; do
			kill -0 "$p" 2>/dev/null || fail "top exited when the daemon got SIG$sig" || return 1
		done
		n=$(top_frames "$out.t$sig")
		# Its state directory is another one (no a): top shows what the new daemon has.
		cgt_daemon_up || return 1
		for p in "$out.t$sig.err" "$out.j$sig.err"; do
			cgt_wait_line "$p" '^cgctl top: reconnected to cgctld$' 10 || fail "top did not reconnect: $(cat "$p")" ||
				return 1
		done
		cgt_wait_for 10 top_frames_over "$out.t$sig" $((n + 1)) ||
			fail "no frames after reconnecting: $(tail -n 5 "$out.t$sig")" || return 1
		for p in "${pids[@]}"; do
			kill -INT "$p"
			cgt_wait_gone "$p" 5 || fail "top still runs after SIGINT" || return 1
			wait "$p" || fail "top did not exit 0 on SIGINT" || return 1
		done
	done
	# SIGINT while it waits for the daemon to come back: it quits at once, not after the retries.
	cgt_user_bg_split "$CGT_WORK" "$out.i" "$out.i.err" "$CGCTL" --socket "$DSOCK" top -b -d 0.2
	p=$BGPID
	cgt_wait_line "$out.i" '^NAME ' 10 || fail "top did not draw a frame" || return 1
	cgt_daemon_stop || return 1
	cgt_wait_line "$out.i.err" 'reconnecting$' 10 || fail "top did not say it reconnects: $(cat "$out.i.err")" || return 1
	kill -INT "$p"
	cgt_wait_gone "$p" 5 || fail "top still runs after SIGINT while reconnecting" || return 1
	wait "$p" || fail "top did not exit 0 on SIGINT while reconnecting" || return 1
	return 0
}

# At a terminal: cgctld restarts under top; it says so over the screen, keeps the terminal, draws
# frames again once the daemon is back, and q still ends it with status 0.
test_top_tmux_daemon_restarts() {
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	cgt_daemon_start || return 1
	c create a
	expect_rc 0 || return 1
	TMUXSOCK=$CGT_TMP/tmux-restart.sock
	cgt_defer tmux -S "$TMUXSOCK" kill-server
	top_in_tmux 0.3 || return 1
	pane_wait top '^a +' || fail "top did not render a: $(pane top)" || return 1
	cgt_daemon_stop || return 1
	pane_wait top 'reconnecting \(q quits\)' || fail "top did not say it reconnects: $(pane top)" || return 1
	# The new daemon has another state directory: b, not a, once top is back.
	cgt_daemon_up || return 1
	c create b
	expect_rc 0 || return 1
	pane_wait top '^b +' || fail "top did not draw the new daemon's b: $(pane top)" || return 1
	! pane top | grep -q 'reconnecting' || fail "the reconnecting line stayed: $(pane top)" || return 1
	tmux -S "$TMUXSOCK" send-keys -t top q
	local i dead=0
	for ((i = 0; i < CGT_TIMEOUT * 10; i++)); do
		dead=$(tmux -S "$TMUXSOCK" display-message -p -t top '#{pane_dead} #{pane_dead_status}')
		[ "${dead%% *}" = 1 ] && break
		cgt_nap 0.1
	done
	case $dead in "1 0" | "1 ") ;; *) fail "q did not end top with status 0 (pane_dead, status: $dead)"; return 1 ;; esac
	[ ! -s "$CGT_TMP/top.err" ] || fail "top said on stderr: $(cat "$CGT_TMP/top.err")" || return 1
}

test_top_tmux_small_terminal() {
	# Under 8 rows and 40 columns: the frame is cut to the terminal, the screen does not scroll.
	command -v tmux >/dev/null || { skip "tmux not installed"; return; }
	cgt_daemon_start || return 1
	local i
	for i in 01 02 03 04 05 06 07 08 09 10 11 12; do
		c create "cg$i"
		expect_rc 0 || return 1
	done
	TMUXSOCK=$CGT_TMP/tmux-small.sock
	cgt_defer tmux -S "$TMUXSOCK" kill-server
	tmux -S "$TMUXSOCK" -f /dev/null new-session -d -s small -x 40 -y 6 \
		env TERM=xterm setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		"$CGCTL" --socket "$DSOCK" top -d 0.3 -s name ||
		fail "tmux did not start" || return 1
	pane_wait small '^NAME +PROCS' || fail "top did not render: $(pane small)" || return 1
	sleep 1 # a few frames
	pane small
	# The header's first line on the top row (a scrolled screen would have lost it), cut, not wrapped.
	[[ $(pane small | head -n 1) == "cgctld: 12 cgroups, 12 entries, contro"* ]] ||
		fail "the first line is not the header's: $(pane small | head -n 1)" || return 1
	pane small | sed -n 2p | grep -qE '^(not enabled|sorted by)' ||
		fail "the header wrapped: $(pane small | sed -n 2p)" || return 1
	[ "$(pane small | grep -c '^NAME ')" = 1 ] || fail "not one frame on the screen" || return 1
	tmux -S "$TMUXSOCK" send-keys -t small q
}

# --- pressure triggers ---------------------------------------------------------

test_pressure_cpu_fires() {
	[ -e "$CGT_MROOT/cpu.pressure" ] || { skip "no cpu.pressure: the kernel has no PSI"; return; }
	cgt_daemon_start || return 1
	local out=$CGT_TMP/p.json
	c create hog
	expect_rc 0 || return 1
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" --json watch \
		--pressure cpu=some:150ms/2s hog
	cgt_nap 0.5
	# Three loops on two cores in one cgroup: its tasks wait for a CPU most of the time.
	busy_in hog 3
	cgt_wait_line "$out" '"type":"pressure","name":"hog"' 15 ||
		fail "no pressure event for a cpu-stalled cgroup (stderr: $(cat "$out.err"); $(cat "$CGT_MROOT/hog/cpu.pressure"))" ||
		return 1
	busy_stop
	head -n 3 "$out"
	jq -e -s 'map(select(.type == "pressure"))[0].details | .resource == "cpu" and .kind == "some" and
		.stall_us == 150000 and .window_us == 2000000 and (.avg10 | type == "number") and .total > 0' \
		"$out" >/dev/null || fail "pressure event details: $(head -n 1 "$out")" || return 1
}

test_pressure_refusals() {
	cgt_daemon_start || return 1
	c create hog
	expect_rc 0 || return 1
	# The kernel takes from an unprivileged opener only windows that are multiples of 2 s.
	c watch --pressure cpu=some:150ms/1s hog
	expect_rc 1 "1 s window" || return 1
	expect_err PermissionDenied || return 1
	expect_err "multiple of 2 s" || return 1
	c watch --pressure cpu=some:3s/2s hog
	expect_rc 1 "stall over window" || return 1
	expect_err InvalidValue || return 1
	c watch --pressure cpu=some:150ms/2s nosuch
	expect_rc 1 "unknown cgroup" || return 1
	expect_err NotFound || return 1
	c watch --pressure cpu=some:150ms/2s
	expect_rc 2 "--pressure without NAME" || return 1
	c watch --pressure cpu=most:150ms/2s hog
	expect_rc 2 "bad kind" || return 1
	c call Watch '{"pressure":[{"name":"hog","resource":"cpu","kind":"some","stall_us":1,"window_us":2000000,"x":1}]}'
	expect_rc 1 "unknown member" || return 1
	if cgt_has_word "$CGT_MROOT/hog/cgroup.controllers" memory; then
		skip "the memory controller is enabled here: no refusal to see"
		return
	fi
	c watch --pressure memory=some:150ms/2s hog
	expect_rc 1 "memory trigger without the memory controller" || return 1
	expect_err ControllerUnavailable || return 1
	expect_err "needs the memory controller" || return 1
}

# The pressure_triggers figure of the daemon's Snapshot.
triggers_held() {
	c call Snapshot >/dev/null
	jq -r '.status.pressure_triggers' <<<"$OUT"
}

test_pressure_triggers_released() {
	cgt_daemon_start "" --max-pressure-triggers-per-uid 2 || return 1
	local out=$CGT_TMP/w1 out3=$CGT_TMP/w3 w1 w3
	c create x && c create y
	expect_rc 0 || return 1
	cgt_user_bg_split "$CGT_WORK" "$out" "$out.err" "$CGCTL" --socket "$DSOCK" call --more Watch \
		'{"pressure":[{"name":"x","resource":"cpu","kind":"some","stall_us":150000,"window_us":2000000},
		{"name":"y","resource":"cpu","kind":"full","stall_us":150000,"window_us":4000000}]}'
	w1=$BGPID
	cgt_wait_line "$out" '"watching"' || fail "first watch not in place: $(cat "$out.err")" || return 1
	[ "$(triggers_held)" = 2 ] || fail "the daemon does not count 2 triggers" || return 1
	c watch --pressure cpu=some:150ms/2s x
	expect_rc 1 "a third trigger for the uid" || return 1
	expect_err QuotaExceeded || return 1
	# The stream ends: its triggers go with it.
	kill -TERM "$w1"
	cgt_wait_gone "$w1" || fail "watch did not end" || return 1
	local i
	for ((i = 0; i < 50; i++)); do
		[ "$(triggers_held)" = 0 ] && break
		cgt_nap 0.1
	done
	[ "$(triggers_held)" = 0 ] || fail "triggers still held after the stream ended" || return 1
	cgt_user_bg_split "$CGT_WORK" "$out3" "$out3.err" "$CGCTL" --socket "$DSOCK" call --more Watch \
		'{"pressure":[{"name":"x","resource":"cpu","kind":"some","stall_us":150000,"window_us":2000000},
		{"name":"y","resource":"cpu","kind":"some","stall_us":150000,"window_us":2000000}]}'
	w3=$BGPID
	cgt_wait_line "$out3" '"watching"' || fail "triggers were not released: $(cat "$out3.err")" || return 1
	# The cgroup of an armed trigger goes away: the daemon neither spins on it nor frees the slot early.
	c destroy y
	expect_rc 0 || return 1
	local t0 t1
	t0=$(daemon_ticks)
	cgt_nap 1
	t1=$(daemon_ticks)
	[ $((t1 - t0)) -lt 30 ] || fail "cgctld used $((t1 - t0)) ticks in 1 s after y went away" || return 1
	[ "$(triggers_held)" = 2 ] || fail "a removed cgroup's trigger stopped counting before its stream ended" ||
		return 1
	kill -TERM "$w3"
	cgt_wait_gone "$w3" || fail "watch did not end" || return 1
	for ((i = 0; i < 50; i++)); do
		[ "$(triggers_held)" = 0 ] && break
		cgt_nap 0.1
	done
	[ "$(triggers_held)" = 0 ] || fail "triggers still held after the second stream ended" || return 1
}

# CPU time of the daemon so far, in clock ticks (utime + stime).
daemon_ticks() {
	local stat
	stat=$(cat "/proc/$DPID/stat")
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo $(($12 + $13))
}
