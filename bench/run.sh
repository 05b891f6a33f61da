#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: `make bench`: scratch cgroup2 subtree and work dir, build/bench/cgbench, clean-up even on failure.
#
# What it creates, and removes on exit whatever happens:
#   <cgroup2>/cgctl-bench.<id>/          scratch subtree (available controllers enabled)
#   ├── raw/                             the raw mkdir/rmdir baseline
#   ├── cgctld/                          the daemon's managed root (it moves into cgctld.leaf)
#   ├── client/                          cgbench and everything it runs
#   └── user@<uid>.service/              a systemd --user of its own, for systemd-run (below)
#       └── bench-client/                where cgbench runs systemd-run from
#   ${CGBENCH_WORK_BASE:-/var/tmp}/cgctl-bench.<id>/   ledger state dir, socket, logs,
#       systemd/{home,run}/              that manager's HOME and XDG_RUNTIME_DIR
#   /run/systemd/system                  only where absent (PID 1 is not systemd), see scripts/sd-marker.sh
# Nothing else is written but build/bench/results.json (build/bench/smoke/ with --smoke or
# CGBENCH_SMOKE=1) and, with CGBENCH_PERF, build/bench/perf-<phase>.{data,txt}.
# Every process it starts lives in the scratch subtree, so cgroup.kill there ends exactly those.
#
# The user manager runs as CGBENCH_SYSTEMD_USER (nobody), not root: in a hybrid cgroup
# layout a root manager would also create and attach in the v1 controller hierarchies,
# outside the scratch subtree; an unprivileged one cannot.
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
SD_MANAGER=${CGBENCH_SYSTEMD:-/lib/systemd/systemd}
SD_USER=${CGBENCH_SYSTEMD_USER:-nobody}
SD_TIMEOUT=${CGBENCH_SYSTEMD_TIMEOUT:-20}
SD_PID=     # the manager we booted, until it has been waited for
SD_MARKER=  # set while this run holds the /run/systemd/system marker
SD_SKIP=    # why there is no manager of our own

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

# The /run/systemd/system marker, which systemd --user wants where PID 1 is not systemd,
# shared with integration runs at the same time (scripts/sd-marker.sh).
SD_MARKER_TOOL=$(cd "$(dirname "$0")/.." && pwd)/scripts/sd-marker.sh

# Hold the marker (creating /run/systemd too if need be) until sd_marker_release.
sd_marker_acquire() {
	# Set first: releasing what a half-done acquire left is safe, forgetting it is not.
	SD_MARKER=held
	"$SD_MARKER_TOOL" acquire "$$"
}

# Let go of the marker; it goes if this was its last holder and a harness made it.
sd_marker_release() {
	[ -n "$SD_MARKER" ] || return 0
	SD_MARKER=
	"$SD_MARKER_TOOL" release "$$" || say "warning: cannot release /run/systemd/system"
}

# Whether our manager still runs: an exited child stays a zombie until waited for.
sd_alive() {
	[ -n "$SD_PID" ] || return 1
	st=$(sed -n 's/^.*) \(.\).*/\1/p' "/proc/$SD_PID/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ]
}

# Stop our manager by its pid (never by name: a user's own managers are not ours): SIGTERM
# makes it stop its units and exit; SIGKILL after 10 s. Not yet waited for, so the pid is
# still ours.
sd_stop() {
	[ -n "$SD_PID" ] || return 0
	kill -TERM "$SD_PID" 2>/dev/null
	i=0
	while sd_alive && [ "$i" -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if sd_alive; then
		say "warning: systemd --user ($SD_PID) still running 10 s after SIGTERM: SIGKILL"
		kill -KILL "$SD_PID" 2>/dev/null
	fi
	wait "$SD_PID" 2>/dev/null
	SD_PID=
}

# systemctl --user against our manager, as its user: the client refuses a manager of another uid.
sd_ctl() {
	timeout -k 2 5 setpriv --reuid="$SD_UID" --regid="$SD_GID" --init-groups \
		env -i HOME="$SD_DIR/home" XDG_RUNTIME_DIR="$SD_DIR/run" PATH=/usr/bin:/bin \
		systemctl --user --no-pager "$@"
}

# Whether a user manager is reachable as things are (a real session): then that one is measured.
sd_reachable() {
	case $(timeout -k 2 5 systemctl --user is-system-running 2>/dev/null) in
	running | degraded) return 0 ;;
	esac
	return 1
}

# Hand cgroup $1 to the manager's user, as PID 1 does for user@.service (Delegate=yes).
sd_delegate() {
	chown "$SD_UID:$SD_GID" "$1" || return 1
	while read -r f; do
		[ ! -e "$1/$f" ] || chown "$SD_UID:$SD_GID" "$1/$f" || return 1
	done </sys/kernel/cgroup/delegate
}

# What booting a manager needs; sets SD_SKIP and fails when something is missing.
sd_preflight() {
	[ "${CGBENCH_SYSTEMD:-}" != 0 ] || { SD_SKIP="CGBENCH_SYSTEMD=0"; return 1; }
	[ -x "$SD_MANAGER" ] || { SD_SKIP="no user manager, and no $SD_MANAGER to boot one"; return 1; }
	for t in systemd-run systemctl setpriv flock timeout; do
		command -v "$t" >/dev/null || { SD_SKIP="no user manager, and no $t to boot one"; return 1; }
	done
	[ -r /sys/kernel/cgroup/delegate ] || { SD_SKIP="no /sys/kernel/cgroup/delegate"; return 1; }
	if ! SD_UID=$(id -u "$SD_USER" 2>/dev/null) || ! SD_GID=$(id -g "$SD_USER" 2>/dev/null); then
		SD_SKIP="no user $SD_USER (CGBENCH_SYSTEMD_USER)"
		return 1
	fi
	[ "$SD_UID" != 0 ] || { SD_SKIP="CGBENCH_SYSTEMD_USER must not be root (see bench/run.sh)"; return 1; }
}

# Boot systemd --user as $SD_USER in user@<uid>.service of the scratch subtree, with a HOME and
# an XDG_RUNTIME_DIR of its own, and wait until it has started up. On failure SD_SKIP says why;
# the caller stops what was started.
sd_boot() {
	sd_preflight || return 1
	SD_DIR=$WORK/systemd
	SD_CG=$SCRATCH/user@$SD_UID.service
	# 0711: the manager's user must get through the work dir to its own directories, nothing more.
	if ! { chmod 0711 "$WORK" && mkdir -m 0755 "$SD_DIR" && mkdir -m 0700 "$SD_DIR/home" "$SD_DIR/run" &&
		chown "$SD_UID:$SD_GID" "$SD_DIR/home" "$SD_DIR/run"; }; then
		SD_SKIP="cannot prepare $SD_DIR"
		return 1
	fi
	sd_marker_acquire || { SD_SKIP="cannot create the /run/systemd/system marker"; return 1; }
	# systemd-run's process must start below the manager's cgroup: the manager may move it into
	# the scope only if it can write the common ancestor's cgroup.procs.
	if ! { mkdir "$SD_CG" "$SD_CG/bench-client" && sd_delegate "$SD_CG" && sd_delegate "$SD_CG/bench-client"; }; then
		SD_SKIP="cannot create $SD_CG"
		return 1
	fi
	# In its cgroup before exec, as PID 1 would start user@.service.
	# shellcheck disable=SC2016
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 125; shift; exec "$@"' sh "$SD_CG" \
		setpriv --reuid="$SD_UID" --regid="$SD_GID" --init-groups \
		env -i HOME="$SD_DIR/home" USER="$SD_USER" LOGNAME="$SD_USER" XDG_RUNTIME_DIR="$SD_DIR/run" \
		PATH=/usr/bin:/bin "$SD_MANAGER" --user </dev/null >"$SD_DIR/manager.log" 2>&1 &
	SD_PID=$!
	deadline=$(($(date +%s) + SD_TIMEOUT))
	state=
	while [ "$(date +%s)" -lt "$deadline" ]; do
		if ! sd_alive; then
			wait "$SD_PID"
			sd_rc=$?
			SD_SKIP="systemd --user exited during start-up (status $sd_rc)"
			[ ! -s "$SD_DIR/manager.log" ] || SD_SKIP="$SD_SKIP: $(tail -n 3 "$SD_DIR/manager.log" | tr '\n' ' ')"
			SD_PID=
			return 1
		fi
		if [ -S "$SD_DIR/run/systemd/private" ]; then
			state=$(sd_ctl is-system-running 2>/dev/null)
			case $state in
			running) return 0 ;;
			degraded)
				say "note: user manager degraded: $(sd_ctl --failed --plain --no-legend | tr '\n' ' ')"
				return 0
				;;
			esac
		fi
		sleep 0.1
	done
	SD_SKIP="systemd --user not up within ${SD_TIMEOUT}s (state '${state:-no private socket}')"
	return 1
}

# EXIT trap: end what we started, remove the scratch subtree and the work dir.
cleanup() {
	rc=$?
	trap - EXIT INT TERM HUP
	# The manager first, by its pid, so that it stops its units itself; cgroup.kill gets the rest.
	sd_stop
	sd_marker_release
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

# systemd-run --user --scope needs a user manager; where none is reachable, boot one. Whatever
# goes wrong there only skips that comparison, never the bench.
set --
if sd_reachable; then
	say "systemd-run: using the user manager this environment reaches"
elif sd_boot; then
	say "systemd-run: systemd --user (pid $SD_PID, user $SD_USER) in ${SD_CG#"$SCRATCH"/}, XDG_RUNTIME_DIR $SD_DIR/run"
	set -- --systemd-runtime-dir "$SD_DIR/run" --systemd-cgroup "$SD_CG/bench-client" \
		--systemd-user "$SD_UID:$SD_GID"
else
	say "systemd-run: skipped: $SD_SKIP"
	sd_stop
	sd_marker_release
	set -- --systemd-skip "$SD_SKIP"
fi

# cgbench runs inside the scratch subtree: the clean-up's cgroup.kill reaches everything it started.
# In the background so that a signal to this shell runs the trap at once, not after cgbench.
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" || exit 125; shift; exec "$@"' sh "$SCRATCH/client" \
	"$CGBENCH" --cgroup-dir "$SCRATCH" --work-dir "$WORK" --cgctld "$CGCTLD" --cgctl "$CGCTL" \
	--out-dir "$OUT" --state-fs "$WORK_FS" --revision "$REV" "$@" &
wait $!
