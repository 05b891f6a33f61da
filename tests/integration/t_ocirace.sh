# SPDX-License-Identifier: MIT
# t_ocirace.sh: cgctl-oci-hook racing other hooks (containers started and stopped together under one parent) and the daemon (a poststop it missed).
# shellcheck shell=bash source-path=SCRIPTDIR
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The helpers of t_oci.sh (its tests are listed from its own file only).
# shellcheck source=t_oci.sh
. "$HERE/t_oci.sh"

# Run the hook for container $1 of bundle dir $2 (pid $3, status $4, stage $5)
# in the background (as cgt_as_user_in, one exec, no subshell); its stderr
# goes to $2.$5.err, its exit status to $2.$5.rc when race_join reaps it.
race_hook_bg() {
	local id=$1 b=$2 pid=$3 status=$4 stage=$5 CGT_AS CGT_ENV
	mk_state "$id" "$pid" "$b" "$status" "$b.$stage.state"
	cgt_as_prefix "$CGT_WORK" "$CGT_UID" "$CGT_GID" init "$CGT_TIMEOUT"
	cgt_user_env
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$HOOK" --socket "$DSOCK" "$stage" <"$b.$stage.state" >/dev/null 2>"$b.$stage.err" &
	RACE_JOBS+=("$!")
	RACE_RCS+=("$b.$stage.rc")
}

# Wait for every hook race_hook_bg started; write each one's exit status to its .rc file.
race_join() {
	local i
	for i in "${!RACE_JOBS[@]}"; do
		wait "${RACE_JOBS[i]}"
		echo $? >"${RACE_RCS[i]}"
	done
}

# Each hook of stage $1 for the bundles $2... exited 0 and said nothing.
race_expect_ok() {
	local stage=$1 b rc
	shift
	for b in "$@"; do
		rc="no $b.$stage.rc"
		read -r rc <"$b.$stage.rc"
		[ "$rc" = 0 ] || fail "$stage of ${b##*/}: exit $rc: $(cat "$b.$stage.err")" || return 1
		! cgt_has_text "$b.$stage.err" 'cgctl-oci-hook' || fail "$stage of ${b##*/} said: $(cat "$b.$stage.err")" || return 1
	done
}

# Containers under one cgroupsPath parent start while others below it stop, all
# at once: a poststop removing the shared parent (its last container gone)
# races a createRuntime making a child in it. Every hook succeeds, every
# container gets its cgroup, and the parent goes with the last of them.
test_oci_hook_parent_race() {
	need_hook || return 1
	up || return 1
	local d=$CGT_TMP/oci r i b old=() new=() pids=() n=${CGCTL_RACE_N:-6} rounds=${CGCTL_RACE_ROUNDS:-3}
	mkdir -p "$d"
	for r in $(seq 1 "$rounds") last; do
		new=() pids=() RACE_JOBS=() RACE_RCS=()
		[ "$r" = last ] || for i in $(seq 1 "$n"); do
			b=$d/r$r-c$i
			mk_bundle_path "$b" "/shared/${b##*/}" || return 1
			cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
			new+=("$b") pids+=("$SPID")
		done
		for i in "${!new[@]}"; do race_hook_bg "${new[$i]##*/}" "${new[$i]}" "${pids[$i]}" creating createRuntime; done
		for b in "${old[@]}"; do race_hook_bg "${b##*/}" "$b" 0 stopped poststop; done
		race_join
		race_expect_ok createRuntime "${new[@]}" || return 1
		race_expect_ok poststop "${old[@]}" || return 1
		for i in "${!new[@]}"; do expect_in_cg "${pids[$i]}" "shared/${new[$i]##*/}" || return 1; done
		old=("${new[@]}")
	done
	expect_no_dir shared "the parent outlived its last container" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

# One container starts again and again while other containers' hooks make and
# remove the shared parent as fast as the daemon answers (parent_churn.py):
# however often the parent vanishes between the hook making it and creating
# the container's cgroup in it, createRuntime succeeds.
test_oci_hook_parent_churn() {
	need_hook || return 1
	up || return 1
	local d=$CGT_TMP/oci b=$CGT_TMP/oci/churn i fails=0 stop=$CGT_TMP/churn.stop out=$CGT_TMP/churn.out
	# 10 starts by default (one in 15 failed with 3 tries); 30 with CGCTL_THOROUGH=1.
	local rounds=${CGCTL_CHURN_ROUNDS:-10}
	[ "${CGCTL_THOROUGH:-0}" = 1 ] && rounds=${CGCTL_CHURN_ROUNDS:-30}
	mk_bundle_path "$b" /shared/churn || return 1
	cgt_user_bg "$CGT_WORK" "$out" /usr/bin/python3 -S "$HERE/parent_churn.py" "$DSOCK" shared "$stop"
	for i in $(seq 1 "$rounds"); do
		cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
		mk_state churn "$SPID" "$b" creating "$d/churn.state"
		hook "$d/churn.state" createRuntime
		if [ "$RC" != 0 ]; then
			fails=$((fails + 1))
			kill -KILL "$SPID"
			continue
		fi
		expect_in_cg "$SPID" shared/churn || return 1
		mk_state churn 0 "$b" stopped "$d/churn.stop"
		hook "$d/churn.stop" poststop
		expect_rc 0 "poststop $i" || return 1
	done
	touch "$stop"
	cgt_wait_file "$out" || fail "parent_churn.py did not stop" || return 1
	cgt_log "parent_churn.py: $(cat "$out")"
	grep -q '^cycles [0-9]* removed [1-9]' "$out" || fail "the churn never removed the parent: $(cat "$out")" || return 1
	[ "$fails" = 0 ] || fail "$fails of $rounds createRuntime failed while the parent churned (last: ${ERR:0:200})" || return 1
}

# Container m of bundle dir $1 on a new sleeper (SPID) whose poststop runs
# while cgctld is down (killed, restarted on state dir $2): the sleeper stands
# for what a container without a PID namespace leaves behind, which neither
# rootless runc nor the never-empty auto_remove entry ends.
missed_poststop() {
	local b=$1 state=$2
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state m "$SPID" "$b" creating "$b.state"
	hook "$b.state" createRuntime
	expect_rc 0 "createRuntime" || return 1
	expect_in_cg "$SPID" oci-m || return 1
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	mk_state m 0 "$b" stopped "$b.stop"
	hook "$b.stop" poststop
	expect_rc 0 "poststop without cgctld" || return 1
	expect_err "kills what is left in it" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	cgt_nap 0.3
	kill -0 "$SPID" 2>/dev/null || fail "the leftover died before anything killed it" || return 1
	expect_in_cg "$SPID" oci-m || return 1
}

# A poststop that missed ANOTHER daemon (its own socket; the user's notes are
# shared) leaves this daemon's container of the same id alone: this daemon's
# --gc and createRuntime neither kill it nor drop the note, which is the other
# daemon's to finish.
test_oci_hook_poststop_missed_other_daemon() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/o other=$CGT_TMP/other.sock note=
	mk_bundle "$b" '.' || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state o "$SPID" "$b" creating "$b.state"
	hook "$b.state" createRuntime
	expect_rc 0 "createRuntime" || return 1
	expect_in_cg "$SPID" oci-o || return 1
	# The same container id stops under a daemon that is not running.
	mk_state o 0 "$b" stopped "$b.stop"
	NOSOCK=1 hook "$b.stop" --socket "$other" poststop
	expect_rc 0 "poststop without its cgctld" || return 1
	for note in "$CGT_HOME"/.local/state/cgctl/oci-hook-stopped/*.json; do
		[ "$(jq -r .socket "$note" 2>/dev/null)" = "$other" ] && break
		note=
	done
	[ -n "$note" ] || fail "no note for $other" || return 1
	# And a note another daemon never came back for, 31 days old: dropped, so
	# such notes cannot pile up.
	local stale=${note%/*}/1.000000000.$$.json
	printf '{"id":"o","bundle":"%s","socket":"%s","stopped_usec":%s}' "$b" "$other" \
		$(( ($(date +%s) - 31 * 86400) * 1000000 )) >"$stale"
	chown "$CGT_UID:$CGT_GID" "$stale" && chmod 0600 "$stale"
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc"
	expect_rc 0 "--gc" || return 1
	[ -z "$OUT" ] || { rm -f "$note"; fail "--gc of this daemon said '$OUT'"; return 1; }
	[ -f "$note" ] || { rm -f "$stale"; fail "this daemon's --gc dropped the other daemon's note"; return 1; }
	rm -f "$note"
	[ ! -e "$stale" ] || { rm -f "$stale"; fail "another daemon's 31-day-old note was kept"; return 1; }
	kill -0 "$SPID" 2>/dev/null || fail "this daemon's container was killed for the other's poststop" || return 1
	expect_in_cg "$SPID" oci-o || return 1
}

# A poststop that missed the daemon is finished later: --gc, or the next
# createRuntime (before it makes its own cgroup, so a container of the same id
# started again gets a fresh one and is not killed with the leftovers).
test_oci_hook_poststop_missed() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/m state=$DSTATE left
	mk_bundle "$b" '.' || return 1
	missed_poststop "$b" "$state" || return 1
	left=$SPID
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc"
	expect_rc 0 "--gc" || return 1
	[ "$OUT" = "removed oci-m" ] || fail "--gc said '$OUT', want 'removed oci-m'" || return 1
	cgt_wait_gone "$left" || fail "--gc left the stopped container's process" || return 1
	expect_no_dir oci-m || return 1
	# Again, and the same container is started again instead.
	missed_poststop "$b" "$state" || return 1
	left=$SPID
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state m "$SPID" "$b" creating "$b.state"
	hook "$b.state" createRuntime
	expect_rc 0 "createRuntime of m again" || return 1
	cgt_wait_gone "$left" || fail "createRuntime left the stopped container's process" || return 1
	expect_in_cg "$SPID" oci-m || return 1
	kill -0 "$SPID" || fail "the new container's init was killed" || return 1
	# Done once: a later sweep leaves the new container alone.
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc"
	[ -z "$OUT" ] || fail "--gc removed '$OUT'" || return 1
	expect_in_cg "$SPID" oci-m || return 1
}

# Container $1 of bundle dir $2 on a new sleeper (SPID) that moves itself into
# a cgroup it makes inside its own, as a nested runtime or systemd does.
nested_start() {
	local id=$1 b=$2
	mk_bundle "$b" '.' || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state "$id" "$SPID" "$b" creating "$b.state"
	hook "$b.state" createRuntime
	expect_rc 0 "createRuntime of $id" || return 1
	# shellcheck disable=SC2016 # expanded by the inner shell
	cgt_as_user_in "$CGT_WORK" sh -c 'mkdir "$1/inner" && echo "$2" >"$1/inner/cgroup.procs"' sh \
		"$CGT_MROOT/oci-$id" "$SPID" || fail "the container could not make its inner cgroup" || return 1
	expect_in_cg "$SPID" "oci-$id/inner" || return 1
}

# The container's cgroup is its own inside (delegated, as systemd's
# Delegate=yes gives container scopes): what it made there goes with it, at
# poststop (killed) and when its last process ends (auto_remove); a poststop
# that refused it failed runc delete and left the container's processes.
test_oci_hook_container_inner_cgroups() {
	need_hook || return 1
	up || return 1
	local d=$CGT_TMP/oci
	nested_start nest "$d/nest" || return 1
	mk_state nest 0 "$d/nest" stopped "$d/nest.stop"
	hook "$d/nest.stop" poststop
	expect_rc 0 "poststop of a container with an inner cgroup" || return 1
	expect_quiet || return 1
	cgt_wait_gone "$SPID" || fail "poststop left the container's process" || return 1
	expect_no_dir oci-nest || return 1
	# No poststop: its last process ends, the daemon removes it whole.
	nested_start nest2 "$d/nest2" || return 1
	kill -KILL "$SPID"
	cgt_wait_for 10 test ! -d "$CGT_MROOT/oci-nest2" || fail "oci-nest2 outlived its last process" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

# Real runc, a container without a PID namespace whose init leaves a process
# behind; it is deleted while cgctld is down. runc cannot kill the leftover
# (no cgroup of its own), poststop cannot reach the daemon: the next --gc does.
test_oci_runc_no_pidns_missed_poststop() {
	need_runc || return
	up || return 1
	local id=np b=$CGT_TMP/oci/np tmp state=$DSTATE bg
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$DSOCK" || fail "cannot write config.json" || return 1
	# Rootless without a PID namespace cannot mount a new /proc: bind the host's, as runc's own tests do.
	tmp=$(mktemp "$CGT_TMP/config.XXXXXX") || return 1
	jq '.linux.namespaces |= map(select(.type != "pid"))
		| .mounts |= map(if .type == "proc" then {destination: "/proc", type: "bind", source: "/proc",
			options: ["rbind", "nosuid", "nodev", "noexec"]} else . end)
		| .process.args = ["sh", "-c", "sleep 300 & echo $! >/out/bg; exec sleep 300"]' \
		"$b/config.json" >"$tmp" && mv "$tmp" "$b/config.json" && chmod 0644 "$b/config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	expect_rc 0 "runc run -d" || return 1
	cgt_wait_file "$b/out/bg" || fail "the container did not start its background process" || return 1
	bg=$(cat "$b/out/bg")
	cgt_track_pid "$bg"
	expect_in_cg "$bg" "oci-$id" || return 1
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	cgt_runc kill "$id" KILL
	runc_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_runc delete "$id"
	expect_rc 0 "runc delete without cgctld" || return 1
	cgt_proc_state_v "$bg"
	[ "$CGT_STATE" = S ] || fail "the leftover is $CGT_STATE, want it sleeping (runc left it)" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc"
	expect_rc 0 "--gc" || return 1
	[ "$OUT" = "removed oci-$id" ] || fail "--gc said '$OUT', want 'removed oci-$id'" || return 1
	# Killed (a zombie until the host's init reaps it) or gone.
	cgt_proc_state_v "$bg"
	case $CGT_STATE in '' | Z) ;; *) fail "the leftover survived --gc: $CGT_STATE" || return 1 ;; esac
	expect_no_dir "oci-$id" || return 1
}
