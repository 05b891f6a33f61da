#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: `make bench`: scratch cgroup2 subtree and work dir, build/bench/cgbench, clean-up even on failure.
#
# What it creates, and removes on exit whatever happens:
#   <cgroup2>/cgctl-bench.<id>/          scratch subtree (available controllers enabled)
#   ├── raw/                             the raw mkdir/rmdir baseline
#   ├── cgctld/                          the daemon's managed root (it moves into cgctld.leaf)
#   └── client/                          cgbench and everything it runs
#   ${CGBENCH_WORK_BASE:-/var/tmp}/cgctl-bench.<id>/   ledger state dir, socket, logs
# Nothing else is written but build/bench/results.json (build/bench/smoke/ with --smoke or
# CGBENCH_SMOKE=1) and, with CGBENCH_PERF, build/bench/perf-<phase>.{data,txt}.
# Every process it starts lives in the scratch subtree, so cgroup.kill there ends exactly those.
#
# Usage: sh bench/run.sh [--smoke]     (knobs: CGBENCH_* variables, see cgbench --help)

set -u

B=${BUILD:-build}
OUT=$B/bench
CGBENCH=$OUT/cgbench
CGCTLD=${CGBENCH_CGCTLD:-$B/cgctld}
CGCTL=${CGBENCH_CGCTL:-$B/cgctl}
SCRATCH=
WORK=

if [ "${1:-}" = --smoke ]; then
	CGBENCH_SMOKE=1
	export CGBENCH_SMOKE
fi
# Tiny counts only prove it still runs: keep them away from the real results.
[ "${CGBENCH_SMOKE:-0}" = 0 ] || OUT=$B/bench/smoke

# Print a message to stderr.
say() { printf 'bench: %s\n' "$*" >&2; }

# Nothing to measure here: say why and succeed (make bench on a machine without cgroup2 or root).
skip() {
	printf 'bench: skipped: %s\n' "$1"
	exit 0
}

# The cgroup2 mount point: /sys/fs/cgroup, then /sys/fs/cgroup/unified, then the first one.
find_cg2() {
	awk '{
		for (i = 7; i <= NF && $i != "-"; i++) ;
		if ($(i + 1) != "cgroup2") next
		m = $5; gsub(/\\040/, " ", m)
		rank = m == "/sys/fs/cgroup" ? 0 : m == "/sys/fs/cgroup/unified" ? 1 : 2
		if (best == "" || rank < brank) { best = m; brank = rank }
	} END { if (best != "") print best }' /proc/self/mountinfo
}

# Filesystem type and device of the directory $1 (or its nearest existing ancestor).
fs_of() {
	d=$1
	while [ ! -e "$d" ] && [ "$d" != / ]; do d=$(dirname "$d"); done
	df -PT "$d" 2>/dev/null | awk 'NR == 2 { print $2 " (" $1 ")" }'
}

# Enable in cgroup $1's subtree_control every controller its cgroup.controllers offers.
enable_controllers() {
	read -r avail <"$1/cgroup.controllers" || avail=
	for c in $avail; do
		echo "+$c" >"$1/cgroup.subtree_control" 2>/dev/null || say "note: cannot enable $c in $1"
	done
}

# Kill every process in cgroup $1 and below, wait until it is empty.
kill_tree() {
	if [ -e "$1/cgroup.kill" ]; then
		echo 1 >"$1/cgroup.kill" 2>/dev/null
	else
		find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r pid; do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	i=0
	while ! grep -qx 'populated 0' "$1/cgroup.events" 2>/dev/null; do
		i=$((i + 1))
		[ "$i" -ge 200 ] && { say "warning: $1 still populated"; return 1; }
		sleep 0.05
	done
}

# EXIT trap: end what we started, remove the scratch subtree and the work dir.
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	if [ -n "$SCRATCH" ] && [ -d "$SCRATCH" ]; then
		kill_tree "$SCRATCH"
		# Children before parents; cgroupfs files are not directories.
		find "$SCRATCH" -depth -mindepth 1 -type d -exec rmdir {} + 2>/dev/null
		rmdir "$SCRATCH" 2>/dev/null || say "warning: cannot remove $SCRATCH"
	fi
	if [ "$rc" != 0 ] && [ -n "$WORK" ]; then
		for f in "$WORK"/cgctld.*.log; do
			[ -f "$f" ] || continue
			say "last lines of $f:"
			tail -n 15 "$f" >&2
		done
	fi
	case $WORK in */cgctl-bench.*) rm -rf "$WORK" ;; esac
	exit "$rc"
}

[ "$(id -u)" = 0 ] || skip "needs root (it creates a scratch cgroup subtree and runs cgctld there)"
for f in "$CGBENCH" "$CGCTLD" "$CGCTL"; do
	[ -x "$f" ] || { say "$f missing: run make first"; exit 1; }
done
CG2=$(find_cg2)
[ -n "$CG2" ] || skip "no cgroup2 mount in /proc/self/mountinfo"
if [ ! -w "$CG2" ] || [ ! -e "$CG2/cgroup.procs" ]; then
	skip "cgroup2 at $CG2 is not writable"
fi

ID=$(od -An -N4 -tx4 /dev/urandom | tr -d ' \n')
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

WORK=${CGBENCH_WORK_BASE:-/var/tmp}/cgctl-bench.$ID
mkdir -m 0700 "$WORK" || exit 1
SCRATCH=$CG2/cgctl-bench.$ID
mkdir "$SCRATCH" || skip "cannot create cgroups in $CG2"
enable_controllers "$SCRATCH"
mkdir "$SCRATCH/raw" "$SCRATCH/cgctld" "$SCRATCH/client" || exit 1
# The raw baseline gets what the daemon gives its children: every available controller.
enable_controllers "$SCRATCH/raw"
mkdir -p "$OUT" || exit 1

# The ledger's filesystem decides the fdatasync cost: report it, and the default one's.
WORK_FS=$(fs_of "$WORK")
DEFAULT_STATE=${STATE_DIRECTORY:-${XDG_STATE_HOME:-${HOME:-/root}/.local/state}/cgctl}
DEFAULT_FS=$(fs_of "$DEFAULT_STATE")
say "scratch cgroup $SCRATCH (controllers: $(cat "$SCRATCH/cgroup.subtree_control"))"
say "state dir $WORK/state on $WORK_FS; the default state dir $DEFAULT_STATE is on $DEFAULT_FS"
[ "$WORK_FS" = "$DEFAULT_FS" ] || say "note: not the filesystem a default cgctld would use; set CGBENCH_WORK_BASE"

REV=$(git describe --always --dirty 2>/dev/null || echo unknown)

# cgbench runs inside the scratch subtree: the clean-up's cgroup.kill reaches everything it started.
# In the background so that a signal to this shell runs the trap at once, not after cgbench.
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" || exit 125; shift; exec "$@"' sh "$SCRATCH/client" \
	"$CGBENCH" --cgroup-dir "$SCRATCH" --work-dir "$WORK" --cgctld "$CGCTLD" --cgctl "$CGCTL" \
	--out-dir "$OUT" --state-fs "$WORK_FS" --revision "$REV" &
wait $!
