#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: `make run`: start build/cgctld in the foreground on the best delegated cgroup subtree available.
#
# (a) not root, own cgroup writable (systemd user session): exec cgctld, which
#     manages its own cgroup.
# (b) root, systemd not PID 1: make a scratch subtree <cgroup2>/cgctl-run.<pid>,
#     run cgctld (as root) in it with a private state dir, socket
#     /run/cgctl/io.cgctl.Manager; remove it all again on exit, INT or TERM.
# (c) anything else: exec cgctld anyway; it reports degraded mode in `status`.
# Extra arguments go to cgctld. Needs no stdin (CI may run it under timeout).

set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
CGCTLD=$TOP/build/cgctld
CGCTL=$TOP/build/cgctl

[ -x "$CGCTLD" ] || { echo "run.sh: $CGCTLD missing; run make first" >&2; exit 1; }

# The cgroup2 mount point and its root, from /proc/self/mountinfo: prefer
# /sys/fs/cgroup, then /sys/fs/cgroup/unified, then the first one.
# Prints "MOUNT ROOT" (octal escapes decoded); nothing when there is none.
find_cg2() {
	awk '
	function unesc(s,   out, i, c) {
		out = ""
		for (i = 1; i <= length(s); i++) {
			c = substr(s, i, 1)
			if (c == "\\" && substr(s, i + 1, 3) ~ /^[0-7][0-7][0-7]$/) {
				out = out sprintf("%c", (substr(s, i + 1, 1) * 64) + (substr(s, i + 2, 1) * 8) + substr(s, i + 3, 1))
				i += 3
			} else
				out = out c
		}
		return out
	}
	{
		for (i = 7; i <= NF; i++) if ($i == "-") break
		if ($(i + 1) != "cgroup2") next
		mnt = unesc($5); root = unesc($4)
		r = (mnt == "/sys/fs/cgroup") ? 0 : (mnt == "/sys/fs/cgroup/unified") ? 1 : 2
		if (best == "" || r < rank) { best = mnt; broot = root; rank = r }
	}
	END { if (best != "") print best " " broot }' /proc/self/mountinfo
}

# This process's cgroup2 path ("0::" line of /proc/self/cgroup).
own_cgroup() {
	sed -n 's/^0:://p' /proc/self/cgroup
}

# Print how to reach the daemon listening on $1.
hint() {
	cat <<EOF
cgctld: starting ($2). Talk to it from another shell with:
    export CGCTL_SOCKET=$1
    $CGCTL status
  or: $CGCTL --socket $1 list
EOF
}

CG2='' CG2_ROOT=''
m=$(find_cg2)
if [ -n "$m" ]; then
	CG2=${m% *}
	CG2_ROOT=${m##* }
fi
OWN=
if [ -n "$CG2" ]; then
	rel=$(own_cgroup)
	[ "$CG2_ROOT" = / ] || rel=${rel#"$CG2_ROOT"}
	OWN=$CG2${rel%/}
fi

# (a) Unprivileged, in a cgroup of our own (a systemd user session's app scope).
if [ "$(id -u)" != 0 ]; then
	if [ -n "$OWN" ] && [ -w "$OWN" ] && [ -w "$OWN/cgroup.procs" ]; then
		sock=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/cgctl/io.cgctl.Manager
		hint "$sock" "managing $OWN"
		exec "$CGCTLD" "$@"
	fi
	echo "cgctld: no writable cgroup here ($OWN); it will run in degraded mode" >&2
	hint "${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/cgctl/io.cgctl.Manager" "degraded"
	exec "$CGCTLD" "$@"
fi

# (c) Root on a systemd host, or without a writable cgroup2: run it as it is.
if [ -d /run/systemd/system ] || [ -z "$CG2" ] || [ ! -w "$CG2" ]; then
	hint "${CGCTL_RUN_SOCKET:-/run/cgctl/io.cgctl.Manager}" "root; own cgroup ${OWN:-unknown}"
	sock_dir=${CGCTL_RUN_SOCKET:-/run/cgctl/io.cgctl.Manager}
	[ -d "${sock_dir%/*}" ] || mkdir -m 0700 "${sock_dir%/*}"
	exec "$CGCTLD" --socket "${CGCTL_RUN_SOCKET:-/run/cgctl/io.cgctl.Manager}" "$@"
fi

# (b) Root without systemd: a scratch subtree that lives as long as this script.
SUB=$CG2/cgctl-run.$$
SOCK=${CGCTL_RUN_SOCKET:-/run/cgctl/io.cgctl.Manager}
STATE=
DPID=

# shellcheck disable=SC2317 # called from the EXIT trap
# Remove every cgroup below and including $1, depth-first, after killing what is in it.
remove_tree() {
	[ -d "$1" ] || return 0
	if [ -e "$1/cgroup.kill" ]; then
		echo 1 >"$1/cgroup.kill" 2>/dev/null
	else
		find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null | while read -r p; do
			kill -KILL "$p" 2>/dev/null
		done
	fi
	i=0
	while grep -qx 'populated 1' "$1/cgroup.events" 2>/dev/null && [ "$i" -lt 100 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	find "$1" -depth -type d -exec rmdir {} \; 2>/dev/null
	[ ! -d "$1" ] || echo "run.sh: could not remove $1" >&2
}

# shellcheck disable=SC2317 # the EXIT trap
# Stop the daemon by pid, then remove the subtree and the state dir.
cleanup() {
	cleanup_rc=$?
	trap - EXIT INT TERM
	if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
		kill -TERM "$DPID" 2>/dev/null
		i=0
		while kill -0 "$DPID" 2>/dev/null && [ "$i" -lt 50 ]; do
			sleep 0.1
			i=$((i + 1))
		done
		kill -KILL "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	remove_tree "$SUB"
	[ -z "$STATE" ] || rm -rf "$STATE"
	exit "$cleanup_rc"
}

trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$SUB" || exit 1
STATE=$(mktemp -d /tmp/cgctl-run.XXXXXX) || exit 1
[ -d "${SOCK%/*}" ] || mkdir -m 0700 "${SOCK%/*}" || exit 1
hint "$SOCK" "root, managing $SUB, state in $STATE; Ctrl-C or SIGTERM to stop and clean up"
# Only the daemon goes into the subtree (it then moves itself into its leaf);
# this shell stays out so the subtree can enable controllers for children.
# shellcheck disable=SC2016
sh -c 'echo $$ >"$1/cgroup.procs" || exit 1; shift; exec "$@"' sh "$SUB" \
	"$CGCTLD" --socket "$SOCK" --state-dir "$STATE" "$@" </dev/null &
DPID=$!
wait "$DPID"
rc=$?
DPID=
exit "$rc"
