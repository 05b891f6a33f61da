# SPDX-License-Identifier: MIT
# lanes.sh: run.sh's parallel mode (CGCTL_TEST_LANES=N), sourced by run.sh.
# shellcheck shell=bash
#
# N lanes, each a run.sh of its own (its own tmp dir, scratch subtree, test
# daemons and reply log), take the test files from a shared queue; this shell
# prints each file's verdicts and transcripts in one block as soon as the file
# is done (so in the order they end) and counts every lane in the summary. A lane claims a unit of the queue with
# mkdir (atomic): the next unit whoever is free first.

# Files that share something outside a run's tmp dir and scratch subtree run
# one after the other in one unit; the units are listed longest first (by
# wall time in make check, an ASan unit right after its plain one), so that
# the lanes end together: the shortest come last, where they fill the gaps
# (a file missing here runs alone, after these; add it where its time puts it):
# - t_systemd, t_nosystemd, t_proc: the /run/systemd/system marker, which
#   t_systemd creates and the daemon's attach fallback (and its error) reads;
# - t_podman, t_oci, t_ocirace, t_crun: the heaviest CPU users (container start-up), kept in one
#   lane so that the timing tests beside them keep time.
# FILE:GLOB is the part of FILE whose tests match GLOB (FILE alone: the rest
# of it), so that one long file does not hold up the end of the run.
# Wall times of one make check (3 lanes, load 5 to 9; "+": the ASan unit):
# podman+oci+ocirace 194 s, hostile 161 + 156, systemd+nosystemd+proc 138,
# events 120, tenants 105, crash 82 + 89, crash_torture 68 + 36, top 60,
# trust 50, torn_* 41 + 48, identity 40, harness 37, varlink 8 + 33,
# contract 32, basic 27, tenants2 26, daemon 24, lifecycle 20, go 11,
# client 10 + 9, names 9, autoremove 8, hostile2 6; newer files, timed alone
# at load 15 (slower than the figures above): cli 99 s (CPU 19 s), hostile3 19 s,
# hostile4 21 s (CPU 3 s).
CGT_LANE_UNITS=(
	t_hostile
	"t_podman t_oci t_ocirace t_crun"
	"t_systemd t_nosystemd t_proc"
	t_events
	t_tenants
	t_crash
	t_crash:crash_torture
	t_top
	t_cli
	t_trust
	t_crash:torn_*
	t_identity
	t_harness
	t_varlink
	t_contract
	t_basic
	t_tenants2
	t_tenants3
	t_daemon
	t_lifecycle
	t_hostile3
	t_hostile4
	t_go
	t_client
	t_names
	t_autoremove
	t_hostile2
)

# The queue, one unit a line of FILE or FILE:GLOB items (file names without
# .sh): CGT_LANE_UNITS' (or CGCTL_TEST_LANE_UNITS', units separated by ";")
# selected files, then every other selected file alone. With a second pass
# (CGCTL_TEST_ASAN_BUILD, see lane_asan_run), each unit is followed by the
# same unit of that pass, its items prefixed "asan/", its files those of
# CGCTL_TEST_ASAN_SUITES: both passes share the lanes, longest first.
lane_units() {
	local files=" " asan=" " whole=" " unit item f out aout items
	[ -z "${CGCTL_TEST_LANE_UNITS:-}" ] || IFS=';' read -ra CGT_LANE_UNITS <<<"$CGCTL_TEST_LANE_UNITS"
	while IFS= read -r f; do
		f=${f##*/}
		files="$files${f%.sh} "
	done < <(cgt_files)
	[ -z "${CGCTL_TEST_ASAN_BUILD:-}" ] || asan=" $(CGCTL_TEST_SUITES=${CGCTL_TEST_ASAN_SUITES:-} cgt_files |
		sed 's|.*/||; s|\.sh$||' | tr '\n' ' ')"
	for unit in "${CGT_LANE_UNITS[@]}"; do
		out="" aout=""
		read -ra items <<<"$unit"
		for item in "${items[@]}"; do
			f=${item%%:*}
			case $asan in *" $f "*) aout="$aout asan/$item" ;; esac
			case $files in *" $f "*) out="$out $item" ;; *) continue ;; esac
			[ "$item" = "$f" ] && whole="$whole$f "
		done
		[ -z "$out" ] || printf '%s\n' "${out# }"
		[ -z "$aout" ] || printf '%s\n' "${aout# }"
	done
	for f in $files; do
		case $whole in *" $f "*) ;; *) printf '%s\n' "$f" ;; esac
	done
	for f in $asan; do
		case $whole in *" $f "*) ;; *) printf 'asan/%s\n' "$f" ;; esac
	done
}

# Run unit $1 (items "asan/...") as the second pass: a run.sh of its own in
# this lanes' directory, on CGCTL_TEST_ASAN_BUILD's daemon (and hook) with
# this pass's clients (CLI, test programs), with the VAR=VALUE words of
# CGCTL_TEST_ASAN_ENV (sanitizer options, fewer repetitions) in its
# environment; it writes the items' .out and .sum files.
lane_asan_run() {
	local -a envw
	read -ra envw <<<"${CGCTL_TEST_ASAN_ENV:-}"
	env "${envw[@]}" CGCTL_BUILD="$CGCTL_TEST_ASAN_BUILD" CGCTL_TEST_CLIENT_BUILD="$BUILD" \
		CGCTL_TEST_ASAN_BUILD= CGCTL_TEST_PASS=asan \
		CGCTL_TEST_LANE="$CGCTL_TEST_LANE.asan" CGCTL_TEST_LANE_ONLY="$1" \
		bash "$HERE/run.sh" "$PATTERN" </dev/null
}

# Set LANE_PARTS to the GLOBs (space-separated) of file $2's parts (FILE:GLOB
# items) in the queue of lanes' directory $1.
lane_parts() {
	local item all
	LANE_PARTS=""
	read -ra all -d '' <"$1/units"
	for item in "${all[@]}"; do
		case $item in "$2":*) LANE_PARTS+="${item#*:} " ;; esac
	done
}

# A lane: claim units of $CGCTL_TEST_LANE_DIR/units until none is left; each
# item's output goes to its .out file, then its counts to its .sum file.
lane_run() {
	local dir=$CGCTL_TEST_LANE_DIR i=0 unit
	if [ -n "${CGCTL_TEST_LANE_ONLY:-}" ]; then
		lane_unit "$dir" "$CGCTL_TEST_LANE_ONLY"
		return
	fi
	while IFS= read -r -u 3 unit; do
		i=$((i + 1))
		mkdir "$dir/claim.$i" 2>/dev/null || continue
		case $unit in
		asan/*) lane_asan_run "$unit" >>"$dir/lane.$CGCTL_TEST_LANE.asan.log" 2>&1 ;;
		*) lane_unit "$dir" "$unit" ;;
		esac
	done 3<"$dir/units"
	printf '%s\n' "$EPOCHREALTIME" >"$dir/end.$CGCTL_TEST_LANE"
}

# Run the items of unit $2 of lanes' directory $1, each into its .out, then its counts into its .sum.
lane_unit() {
	local dir=$1 item f o p k s items
	read -ra items <<<"$2"
	for item in "${items[@]}"; do
		f=${item#asan/} o=${item//[^A-Za-z0-9_.-]/_}
		f=${f%%:*}
		p=$passed k=$failed s=$skipped
		if [ "$item" = "${item%%:*}" ]; then
			lane_parts "$dir" "${item%%:*}"
			run_file "$HERE/$f.sh" "*" "$LANE_PARTS"
		else
			run_file "$HERE/$f.sh" "${item#*:}"
		fi >"$dir/$o.out" 2>&1
		printf '%s %s %s\n' "$((passed - p))" "$((failed - k))" "$((skipped - s))" >"$dir/$o.sum.new"
		mv "$dir/$o.sum.new" "$dir/$o.sum"
	done
}

# True while some lane is running.
lanes_alive() {
	local pid
	for pid in "${LANE_PIDS[@]}"; do
		kill -0 "$pid" 2>/dev/null && return 0
	done
	return 1
}

# Start N lanes of this run.sh in directory $2, each logging to lane.K.log; sets LANE_PIDS.
lanes_start() {
	local n=$1 dir=$2 k
	LANE_PIDS=()
	for ((k = 1; k <= n; k++)); do
		CGCTL_TEST_LANE_DIR=$dir CGCTL_TEST_LANE=$k \
			bash "$HERE/run.sh" "$PATTERN" >"$dir/lane.$k.log" 2>&1 </dev/null &
		LANE_PIDS+=("$!")
	done
}

# Print each item's output (a whole file, or a part) as soon as it is done,
# in the order they end; add its counts. An item no lane ran is a failure.
lanes_report() {
	local dir=$1 item o p k s all=() left=() last=0
	read -ra all -d '' <"$dir/units"
	while [ "${#all[@]}" -gt 0 ]; do
		lanes_alive || last=1
		left=()
		for item in "${all[@]}"; do
			o=${item//[^A-Za-z0-9_.-]/_}
			if [ ! -e "$dir/$o.sum" ]; then
				[ "$last" = 1 ] || { left+=("$item"); continue; }
				printf 'FAIL lanes: no lane ran %s (see the lane logs below)\n' "$item"
				failed=$((failed + 1))
				continue
			fi
			cat "$dir/$o.out"
			read -r p k s <"$dir/$o.sum"
			passed=$((passed + p)) failed=$((failed + k)) skipped=$((skipped + s))
		done
		all=("${left[@]}")
		[ "${#all[@]}" = 0 ] || sleep 0.2
	done
}

# Wait for the lanes; a lane that failed (its set-up, say) shows its log and counts a failure.
lanes_join() {
	local dir=$1 k rc
	for ((k = 1; k <= ${#LANE_PIDS[@]}; k++)); do
		wait "${LANE_PIDS[k - 1]}"
		rc=$?
		[ "$rc" = 0 ] && continue
		printf 'FAIL lane %s: exit %s\n' "$k" "$rc"
		sed 's/^/    | /' "$dir/lane.$k.log" | tail -n 20
		failed=$((failed + 1))
	done
	LANE_PIDS=()
}

# EXIT trap of the parallel run: end the lanes still running (each cleans up
# after its current test), remove the lanes' directory.
lanes_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${LANE_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	wait
	case ${LANE_DIR:-} in /tmp/cgctl-test.lanes.*) rm -rf "$LANE_DIR" ;; esac
	exit "$rc"
}

# When each lane of directory $1 ended, in seconds after $2 (an EPOCHREALTIME), earliest first:
# the last should not end long after the others (then the queue's order needs a look).
lanes_ends() {
	local f e d
	for f in "$1"/end.*; do
		[ -f "$f" ] && read -r e <"$f" || continue
		d=$(((${e/./} - ${2/./}) / 100000))
		printf '%d.%d\n' "$((d / 10))" "$((d % 10))"
	done | sort -n | paste -sd ' '
}

# The parallel run: N lanes, the report in file order, one reply check over
# every lane's replies, the summary last.
lanes_main() {
	local t0=$EPOCHREALTIME
	LANE_PIDS=()
	if ! { cgt_setup_user && LANE_DIR=$(mktemp -d /tmp/cgctl-test.lanes.XXXXXX) && chmod 0755 "$LANE_DIR"; }; then
		printf 'FAIL setup: cannot make the lanes directory\n0 passed, 1 failed, 0 skipped\n'
		exit 1
	fi
	trap lanes_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	lane_units >"$LANE_DIR/units"
	lanes_start "$1" "$LANE_DIR"
	lanes_report "$LANE_DIR"
	lanes_join "$LANE_DIR"
	# shellcheck disable=SC2034 # check_replies writes its report there
	CGT_TMP=$LANE_DIR
	CGCTLD_TEST_REPLY_LOG=$LANE_DIR/replies.jsonl
	cat "$LANE_DIR"/replies.*.jsonl >"$CGCTLD_TEST_REPLY_LOG" 2>/dev/null
	check_replies
	printf '   each lane ended after: %ss\n' "$(lanes_ends "$LANE_DIR" "$t0")"
	printf -- '-- %s lanes in %ss\n' "$1" "$(cgt_elapsed "$t0")"
	printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "$skipped"
	[ "$failed" = 0 ]
}
