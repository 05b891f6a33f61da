# SPDX-License-Identifier: MIT
# lib.sh: integration-test helpers: scratch cgroup2 subtree, test user, daemon and CLI runners.
# shellcheck shell=bash
#
# Sourced by run.sh (bash). Builds the topology systemd gives a user:
#   <cg2>/cgctl-test.<id>/      delegated to the test user ("user@UID.service")
#   ├── cgctld/                 the daemon's delegated subtree ("cgctld.service")
#   └── workloads/              client processes ("other user services")
# and removes everything on exit. Nothing outside the scratch subtree is
# written, except the cgroup2 root's cgroup.subtree_control when it lacks a
# controller its cgroup.controllers offers (enabled and disabled again by the
# last of concurrent harness runs, see cgt_root_controllers_acquire; disable
# with CGCTL_TEST_PARENT_CONTROLLERS=0).

CGT_USER=${CGCTL_TEST_USER:-cgctltest}
CGT_HOME=/var/lib/$CGT_USER
CGT_TIMEOUT=${CGCTL_TEST_TIMEOUT:-10}   # seconds, per CLI call and per daemon wait
CGT_PIDS=()                            # "pid:starttime" of every process we started

# --- small utilities -------------------------------------------------------

# Print a message to stderr.
cgt_log() { printf '%s\n' "$*" >&2; }

# Bash's loadable builtins (Debian's bash-builtins, a test dependency in
# scripts/deps.sh) for the commands the harness's shells run most: each was a
# fork and an exec (~5 ms of CPU on the test VM; mkdir, rmdir and chown of
# the topology between every two tests). Without the package, or with
# CGCTL_TEST_LOADABLES=0, the programs run as before. Only builtins whose
# options the harness and the tests use as the programs do: head (no -c),
# stat, cat (not shipped) stay programs; mkdir -m is mkdir(1) (see mkdir
# below); rm -f of a directory says nothing and returns 0 (rm(1): 1; every
# "rm -f X || ..." of the tests names a file). A builtin runs in this shell, as root, in its cgroup: what must run
# elsewhere or be a process of its own still execs a program (as_user, exec,
# setpriv, sh -c; a victim process a test starts is /bin/sleep, not sleep &).
cgt_loadables() {
	local dir=${CGCTL_TEST_LOADABLE_DIR:-/usr/lib/bash} b
	[ "${CGCTL_TEST_LOADABLES:-1}" = 1 ] && [ -d "$dir" ] || return 0
	for b in sleep mkdir rmdir rm ln mktemp; do
		[ -f "$dir/$b" ] && enable -f "$dir/$b" "$b" 2>/dev/null
	done
	return 0
}
cgt_loadables

# mkdir: the builtin (when loaded) without -m; mkdir(1) with it: the builtin
# applies the umask to MODE and drops the sticky bit, mkdir(1) sets MODE.
mkdir() {
	local a
	for a; do
		case $a in
		--) break ;;
		-*m*) /bin/mkdir "$@"; return ;;
		esac
	done
	command mkdir "$@"
}

# Return status $1 (sets $? as (exit N) would, without the subshell).
cgt_status() { return "$1"; }

# Record why the current test failed (first line wins in the report) and return 1.
fail() {
	printf '%s\n' "$*" >>"${CGT_REASON:-/dev/stderr}"
	return 1
}

# Record why the current test is skipped and return 77.
skip() {
	printf '%s\n' "$*" >>"${CGT_REASON:-/dev/stderr}"
	return 77
}

# Start time (clock ticks since boot) of pid, empty if gone.
cgt_starttime() {
	cgt_starttime_v "$1"
	[ -z "$CGT_STARTTIME" ] || printf '%s\n' "$CGT_STARTTIME"
}

# Set CGT_STARTTIME to pid $1's start time, empty if gone (no $(...) fork).
cgt_starttime_v() {
	local stat
	CGT_STARTTIME=""
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	# Fields after the ")" of comm: state is field 3, starttime field 22.
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	CGT_STARTTIME=${20}
}

# Remember pid as started by the harness (persisted for the EXIT trap).
cgt_track_pid() {
	local entry
	cgt_starttime_v "$1"
	entry="$1:$CGT_STARTTIME"
	CGT_PIDS+=("$entry")
	[ -n "${CGT_TMP:-}" ] && printf '%s\n' "$entry" >>"$CGT_TMP/pids"
	return 0
}

# Kill a tracked pid (by pid, only if its start time still matches).
cgt_kill_tracked() {
	local entry=$1 sig=${2:-KILL} pid st
	pid=${entry%%:*}
	st=${entry#*:}
	[ -n "$st" ] || return 0
	cgt_starttime_v "$pid"
	[ "$CGT_STARTTIME" = "$st" ] || return 0
	kill "-$sig" "$pid" 2>/dev/null || true
}

# Sleep $1 seconds (a decimal) without a process: read -t on a FIFO nobody
# writes (cgt_setup makes it; "sleep" until then). A poll loop's "sleep 0.05"
# was a fork and an exec every turn.
cgt_nap() {
	if [ -n "${CGT_NAP_FIFO:-}" ] && [ -p "$CGT_NAP_FIFO" ]; then
		read -rt "$1" <>"$CGT_NAP_FIFO"
		return 0
	fi
	sleep "$1"
}

# Poll "$@" (first at once, then every 50 ms) until it succeeds, for at most
# $1 seconds (a decimal: 0.5, 10); 0 as soon as it does. On timeout, record
# why (fail: the command waited for) and return 1. Waits on a condition, never
# a fixed sleep: "$@" names what the test is waiting for.
cgt_wait_for() {
	local limit=$1 sec frac end
	shift
	sec=${limit%%.*} frac=000
	case $limit in *.*) frac=${limit#*.}000 ;; esac
	end=$((${EPOCHREALTIME/./} + (${sec:-0} * 1000 + 10#${frac:0:3}) * 1000))
	until "$@"; do
		if [ "${EPOCHREALTIME/./}" -ge "$end" ]; then
			"$@" && return 0 # once more: the last sleep may have been long
			fail "timed out after ${limit}s waiting for: $*"
			return 1
		fi
		cgt_nap 0.05
	done
	return 0
}

# Wait up to $2 seconds (default CGT_TIMEOUT) for pid $1 to disappear; 0 when gone.
cgt_wait_gone() {
	local pid=$1 limit=$(( ${2:-$CGT_TIMEOUT} * 20 )) i=0
	while [ -d "/proc/$pid" ]; do
		# A zombie child of ours counts as gone.
		cgt_proc_state_v "$pid"
		case $CGT_STATE in Z|X|"") return 0 ;; esac
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		cgt_nap 0.05
	done
	return 0
}

# Set CGT_STATE to pid $1's state letter, empty if gone (no $(...) fork).
cgt_proc_state_v() {
	local stat
	CGT_STATE=""
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
	stat=${stat##*) }
	CGT_STATE=${stat%% *}
}

# Set CGT_FDS to the number of descriptors pid $1 holds, 0 when it is gone
# (find | wc in a $(...) was three processes; fd counts are polled).
cgt_fd_count() {
	local f
	CGT_FDS=0
	for f in "/proc/$1/fd"/*; do
		[ -e "$f" ] || [ -L "$f" ] && CGT_FDS=$((CGT_FDS + 1))
	done
	return 0
}

# --- cgroup2 discovery and cgroup helpers ---------------------------------

# Find the cgroup2 mount: sets CGT_CG2 (mount point) and CGT_CG2_ROOT (root of
# the mount inside the hierarchy). Prefers /sys/fs/cgroup, then
# /sys/fs/cgroup/unified, then the first cgroup2 mount. 1 when there is none.
cgt_find_cg2() {
	local line pre post fstype root mnt first="" first_root="" best="" best_root="" rank best_rank=9
	# shellcheck disable=SC2034
	while IFS= read -r line; do
		pre=${line%% - *}
		post=${line#* - }
		fstype=${post%% *}
		[ "$fstype" = cgroup2 ] || continue
		# shellcheck disable=SC2086
		set -- $pre
		# Decode mountinfo's octal escapes (\040 for space...).
		printf -v root '%b' "$4"
		printf -v mnt '%b' "$5"
		[ -z "$first" ] && { first=$mnt; first_root=$root; }
		case $mnt in
		/sys/fs/cgroup) rank=0 ;;
		/sys/fs/cgroup/unified) rank=1 ;;
		*) continue ;;
		esac
		if [ "$rank" -lt "$best_rank" ]; then
			best=$mnt; best_root=$root; best_rank=$rank
		fi
	done </proc/self/mountinfo
	[ -z "$best" ] && { best=$first; best_root=$first_root; }
	[ -n "$best" ] || return 1
	CGT_CG2=$best
	CGT_CG2_ROOT=$best_root
}

# Path of directory $1 (inside the cgroup2 mount) as /proc/PID/cgroup shows it.
cgt_cg_relpath() {
	cgt_cg_relpath_v "$1"
	printf '%s\n' "$CGT_RELPATH"
}

# Set CGT_RELPATH to cgt_cg_relpath's answer (no $(...) fork).
cgt_cg_relpath_v() {
	CGT_RELPATH=${1#"$CGT_CG2"}
	[ "$CGT_CG2_ROOT" = / ] || CGT_RELPATH=$CGT_CG2_ROOT$CGT_RELPATH
	CGT_RELPATH=${CGT_RELPATH:-/}
}

# The "0::" cgroup of pid $1, as in /proc/PID/cgroup.
cgt_proc_cgroup() {
	cgt_proc_cgroup_v "$1" && printf '%s\n' "$CGT_CGROUP"
}

# Set CGT_CGROUP to cgt_proc_cgroup's answer, empty and 1 when there is none (no $(...) fork).
cgt_proc_cgroup_v() {
	local line
	CGT_CGROUP=""
	while IFS= read -r line; do
		case $line in 0::*) CGT_CGROUP=${line#0::}; return 0 ;; esac
	done <"/proc/$1/cgroup"
	return 1
}

# The files a delegation hands over (/sys/kernel/cgroup/delegate), read once.
CGT_DELEGATE_FILES=()

# Hand cgroup directories "$@" to the test user, as systemd does for
# Delegate=yes: one chown for all of them and their delegated files.
cgt_delegate() {
	local dir f paths=()
	[ "${#CGT_DELEGATE_FILES[@]}" -gt 0 ] || mapfile -t CGT_DELEGATE_FILES </sys/kernel/cgroup/delegate
	for dir in "$@"; do
		paths+=("$dir")
		for f in "${CGT_DELEGATE_FILES[@]}"; do
			[ -e "$dir/$f" ] && paths+=("$dir/$f")
		done
	done
	chown "$CGT_UID:$CGT_GID" "${paths[@]}"
}

# Create cgroup $1 as root; delegate it to the test user unless $2 is "root".
cgt_mkcg() {
	mkdir "$1" || return 1
	[ "${2:-user}" = root ] || cgt_delegate "$1"
}

# Set CGT_DIRS to the cgroup directories below $1 (not $1), every child after
# its parent (C-locale glob order: a path sorts after its prefixes). Builtins
# only: the harness runs it between every two tests.
cgt_cg_dirs() {
	local d o off=()
	for o in nullglob dotglob globstar; do shopt -q "$o" || off+=("$o"); done
	shopt -s nullglob dotglob globstar
	CGT_DIRS=()
	for d in "$1"/**/; do
		d=${d%/}
		[ "$d" = "${1%/}" ] || CGT_DIRS+=("$d")
	done
	[ "${#off[@]}" = 0 ] || shopt -u "${off[@]}"
}

# The pids in cgroup $1 and below, space-separated, in CGT_CG_PIDS (builtins only).
cgt_cg_pids() {
	local d pid
	CGT_CG_PIDS=""
	cgt_cg_dirs "$1"
	for d in "$1" "${CGT_DIRS[@]}"; do
		while IFS= read -r pid; do CGT_CG_PIDS+="$pid "; done <"$d/cgroup.procs" 2>/dev/null
	done
}

# True while cgroup $1's cgroup.events says "populated 1". (No bare "return":
# in the EXIT trap it would return the status from before the trap.)
cgt_cg_populated() {
	local k v
	while read -r k v; do
		[ "$k" = populated ] || continue
		[ "$v" = 1 ] && return 0
		return 1
	done <"$1/cgroup.events" 2>/dev/null
	return 1
}

# Kill everything in cgroup $1 (and below) and wait until it is empty.
cgt_cg_kill() {
	local dir=$1 i=0 pid
	[ -d "$dir" ] || return 0
	if [ -e "$dir/cgroup.kill" ]; then
		echo 1 >"$dir/cgroup.kill" 2>/dev/null || true
	else
		# Old kernels: freeze-less best effort, pid by pid.
		cgt_cg_pids "$dir"
		for pid in $CGT_CG_PIDS; do
			kill -KILL "$pid" 2>/dev/null || true
		done
	fi
	while cgt_cg_populated "$dir"; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && { cgt_log "warning: $dir still populated"; return 1; }
		cgt_nap 0.05
	done
	return 0
}

# Remove every cgroup below $1 depth-first (killing their processes), keep $1.
cgt_cg_empty() {
	local dir=$1 d i rev=()
	[ -d "$dir" ] || return 0
	cgt_cg_kill "$dir"
	cgt_cg_dirs "$dir"
	[ "${#CGT_DIRS[@]}" -gt 0 ] || return 0
	# Children before parents, all in one rmdir; one by one (after a moment) what it left.
	for ((i = ${#CGT_DIRS[@]} - 1; i >= 0; i--)); do rev+=("${CGT_DIRS[i]}"); done
	rmdir "${rev[@]}" 2>/dev/null && return 0
	for d in "${rev[@]}"; do
		[ -d "$d" ] || continue
		rmdir "$d" 2>/dev/null || { cgt_nap 0.1; rmdir "$d" 2>/dev/null; } ||
			cgt_log "warning: cannot remove $d"
	done
	return 0
}

# Remove cgroup $1 and everything below it.
cgt_cg_remove() {
	[ -d "$1" ] || return 0
	cgt_cg_empty "$1"
	rmdir "$1" 2>/dev/null || cgt_log "warning: cannot remove $1"
}

# Enable in $1's subtree_control every controller its cgroup.controllers offers.
cgt_enable_controllers() {
	local dir=$1 c have avail
	read -r have <"$dir/cgroup.subtree_control"
	have=" $have "
	read -ra avail <"$dir/cgroup.controllers"
	for c in "${avail[@]}"; do
		case $have in *" $c "*) continue ;; esac
		echo "+$c" >"$dir/cgroup.subtree_control" 2>/dev/null
	done
	return 0
}

# Controllers a harness enables in the cgroup2 root are shared by concurrent
# harness runs: a run that finds one enabled cannot tell a user's from another
# run's, and the run that enabled it cannot disable it while another run's
# scratch subtree uses it. So, under flock on $CGT_SC_DIR: a file enabled.<c>
# for every controller some run enabled, a file holder.<pid> for every run
# relying on them; the last holder to let go disables the marked ones and
# removes the directory. Dead holders (killed runs) are pruned.
CGT_SC_DIR=/run/cgctl-test-controllers
CGT_SC_HELD=0

# Run "$@" holding the lock on $CGT_SC_DIR (created if need be); retried when
# the directory was removed while we waited for the lock.
cgt_sc_locked() {
	local i rc fd
	for ((i = 0; i < 20; i++)); do
		mkdir -m 0700 "$CGT_SC_DIR" 2>/dev/null
		[ -d "$CGT_SC_DIR" ] || return 1
		# Held on a descriptor of this shell (a subshell was a fork), closed after.
		exec {fd}<"$CGT_SC_DIR" || return 1
		rc=75
		if ! flock "$fd"; then
			rc=1
		elif [ "$CGT_SC_DIR" -ef "/proc/self/fd/$fd" ]; then
			# The directory we locked is still the one at the path.
			"$@"
			rc=$?
		fi
		exec {fd}<&-
		[ "$rc" = 75 ] || return "$rc"
	done
	return 1
}

# (Locked) enable what the root offers, marking what we enabled; become a holder.
cgt_sc_enable_locked() {
	local root=$1 c have avail
	read -r have <"$root/cgroup.subtree_control"
	have=" $have "
	read -ra avail <"$root/cgroup.controllers"
	for c in "${avail[@]}"; do
		case $have in *" $c "*) continue ;; esac
		if echo "+$c" >"$root/cgroup.subtree_control" 2>/dev/null; then
			: >"$CGT_SC_DIR/enabled.$c"
		fi
	done
	: >"$CGT_SC_DIR/holder.$$"
}

# (Locked) stop holding; the last live holder disables the marked controllers.
cgt_sc_release_locked() {
	local root=$1 f left=0
	rm -f "$CGT_SC_DIR/holder.$$"
	for f in "$CGT_SC_DIR"/holder.*; do
		[ -e "$f" ] || continue
		if kill -0 "${f##*.}" 2>/dev/null; then left=1; else rm -f "$f"; fi
	done
	[ "$left" = 0 ] || return 0
	for f in "$CGT_SC_DIR"/enabled.*; do
		[ -e "$f" ] || continue
		# Kept (and retried by the next run) while a cgroup outside ours uses it.
		if echo "-${f##*/enabled.}" >"$root/cgroup.subtree_control" 2>/dev/null; then
			rm -f "$f"
		else
			cgt_log "note: could not disable ${f##*/enabled.} in $root (in use elsewhere)"
		fi
	done
	rmdir "$CGT_SC_DIR" 2>/dev/null
	return 0
}

# Enable every controller the cgroup2 root offers, shared with concurrent runs.
cgt_root_controllers_acquire() {
	cgt_sc_locked cgt_sc_enable_locked "$1" || return 1
	CGT_SC_HELD=1
	CGT_SC_ROOT=$1
}

# Let go of the root's controllers (at exit).
cgt_root_controllers_release() {
	[ "$CGT_SC_HELD" = 1 ] || return 0
	CGT_SC_HELD=0
	cgt_sc_locked cgt_sc_release_locked "$CGT_SC_ROOT"
}

# --- environment set-up and tear-down -------------------------------------

# Print the skip line and exit 0: the harness cannot run here.
cgt_skip_all() {
	printf 'SKIP integration: %s\n' "$1"
	printf '0 passed, 0 failed, %s skipped\n' "${2:-1}"
	exit 0
}

# Check the preconditions; skip everything with a reason when they do not hold.
cgt_preflight() {
	local t
	[ "$(id -u)" = 0 ] || cgt_skip_all "not root (the harness needs to create a test user and a scratch cgroup)"
	cgt_find_cg2 || cgt_skip_all "no cgroup2 mount in /proc/self/mountinfo"
	if [ ! -w "$CGT_CG2" ] || [ ! -e "$CGT_CG2/cgroup.procs" ]; then
		cgt_skip_all "cgroup2 at $CGT_CG2 is not writable"
	fi
	t=$CGT_CG2/cgctl-probe.$$
	mkdir "$t" 2>/dev/null || cgt_skip_all "cannot create cgroups in $CGT_CG2 (read-only or not delegated)"
	rmdir "$t"
	[ -r /sys/kernel/cgroup/delegate ] || cgt_skip_all "/sys/kernel/cgroup/delegate missing (kernel too old)"
	for t in setpriv useradd jq timeout; do
		command -v "$t" >/dev/null || cgt_skip_all "$t not installed"
	done
}

# Set CGT_PW_UID, CGT_PW_GID, CGT_PW_HOME from user $1's passwd entry: read
# from /etc/passwd (every run, lane and tenants test looks its users up; id
# and getent in $(...) were forks), else from getent; 1 when there is none.
cgt_passwd() {
	local name="" uid="" gid="" home=""
	while IFS=: read -r name _ uid gid _ home _; do
		[ "$name" = "$1" ] && break
	done </etc/passwd
	[ "$name" = "$1" ] || IFS=: read -r name _ uid gid _ home _ < <(getent passwd "$1") || return 1
	CGT_PW_UID=$uid CGT_PW_GID=$gid CGT_PW_HOME=$home
}

# Create the test user if missing; set CGT_UID, CGT_GID, CGT_HOME.
cgt_setup_user() {
	if ! cgt_passwd "$CGT_USER"; then
		useradd --system --create-home --home-dir "$CGT_HOME" --shell /bin/bash "$CGT_USER" 2>/dev/null
		cgt_passwd "$CGT_USER" || { cgt_log "cannot create user $CGT_USER"; return 1; }
	fi
	CGT_UID=$CGT_PW_UID CGT_GID=$CGT_PW_GID CGT_HOME=$CGT_PW_HOME
	# shellcheck disable=SC2034 # used by the tests
	NOBODY_UID=65534 NOBODY_GID=65534
	# shellcheck disable=SC2034 # used by the tests
	! cgt_passwd nobody || NOBODY_UID=$CGT_PW_UID NOBODY_GID=$CGT_PW_GID
}

# A second unprivileged user (a second tenant), created if missing, never
# given a login shell; sets CGT_UID2, CGT_GID2. Its processes are the tests'
# own, started and ended by pid like the first user's.
cgt_setup_user2() {
	local u=${CGCTL_TEST_USER2:-cgctltest2}
	if ! cgt_passwd "$u"; then
		useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$u" 2>/dev/null
		cgt_passwd "$u" || { cgt_log "cannot create user $u"; return 1; }
	fi
	CGT_USER2=$u CGT_UID2=$CGT_PW_UID CGT_GID2=$CGT_PW_GID
}

# Create the tmp dir, binaries copy, scratch subtree; install the cleanup trap.
cgt_setup() {
	local id
	printf -v id '%08x' "$SRANDOM"
	CGT_TMP=/tmp/cgctl-test.$id
	CGT_SCRATCH=$CGT_CG2/cgctl-test.$id
	trap cgt_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir -m 0755 "$CGT_TMP" || return 1
	: >"$CGT_TMP/pids"
	mkfifo -m 0600 "$CGT_TMP/nap" && CGT_NAP_FIFO=$CGT_TMP/nap
	cgt_setup_user || return 1

	# The test user must be able to run the binaries wherever the tree is.
	# The clients (the CLI, the test programs) may come from another tree
	# (CGCTL_TEST_CLIENT_BUILD): the ASan pass runs the ASan daemon with plain clients.
	local cbuild=${CGCTL_TEST_CLIENT_BUILD:-$BUILD}
	mkdir -m 0755 "$CGT_TMP/bin"
	cp "$BUILD/cgctld" "$cbuild/cgctl" "$CGT_TMP/bin/" || return 1
	if [ -d "$cbuild/tests/integration" ]; then
		find "$cbuild/tests/integration" -maxdepth 1 -type f -perm -u+x -exec cp {} "$CGT_TMP/bin/" \;
	fi
	chmod -R a+rX "$CGT_TMP/bin"
	# The one-exec runner of user processes (cgt_as_prefix); without it, sh + timeout + setpriv + env.
	CGT_AS_USER=""
	[ -x "$CGT_TMP/bin/as_user" ] && CGT_AS_USER=$CGT_TMP/bin/as_user
	CGCTLD=$CGT_TMP/bin/cgctld
	CGCTL=$CGT_TMP/bin/cgctl

	CGT_RUN=$CGT_TMP/run                 # the user's XDG_RUNTIME_DIR
	CGT_STATES=$CGT_TMP/state            # state dirs, one per daemon
	CGT_LOGS=$CGT_TMP/log
	mkdir -m 0700 "$CGT_RUN" "$CGT_STATES" && chown "$CGT_UID:$CGT_GID" "$CGT_RUN" "$CGT_STATES" || return 1
	mkdir -m 0755 "$CGT_LOGS" || return 1

	if [ "${CGCTL_TEST_PARENT_CONTROLLERS:-1}" = 1 ] && [ "$CGT_CG2_ROOT" = / ]; then
		# Only the hierarchy root is exempt from the no-internal-process rule.
		cgt_root_controllers_acquire "$CGT_CG2" || return 1
	fi
	cgt_mkcg "$CGT_SCRATCH" || return 1
	cgt_enable_controllers "$CGT_SCRATCH"
	cgt_topology
}

# (Re)create the per-test topology below the scratch root, empty.
cgt_topology() {
	cgt_cg_empty "$CGT_SCRATCH"
	CGT_MROOT=$CGT_SCRATCH/cgctld
	CGT_WORK=$CGT_SCRATCH/workloads
	mkdir "$CGT_MROOT" "$CGT_WORK" && cgt_delegate "$CGT_MROOT" "$CGT_WORK"
}

# The EXIT trap's end (after cgt_run_deferred, see cgt_cleanup): kill what we
# started, remove the scratch subtree and tmp dir, undo subtree_control
# changes; exit with the status it found. Safe to run more than once.
cgt_cleanup_base() {
	local rc=$? entry
	trap - EXIT INT TERM
	if [ -n "${CGT_TMP:-}" ] && [ -f "$CGT_TMP/pids" ]; then
		while IFS= read -r entry; do cgt_kill_tracked "$entry" KILL; done <"$CGT_TMP/pids"
	fi
	for entry in "${CGT_PIDS[@]}"; do cgt_kill_tracked "$entry" KILL; done
	[ -n "${CGT_SCRATCH:-}" ] && cgt_cg_remove "$CGT_SCRATCH"
	cgt_root_controllers_release
	case ${CGT_TMP:-} in /tmp/cgctl-test.*) rm -rf "$CGT_TMP" ;; esac
	exit "$rc"
}

# --- running things as the test user --------------------------------------

# Run "$@" as the test user (clean environment, SIGHUP at its default even
# when the harness runs under nohup: an ignored signal stays ignored across
# exec) with the process placed in cgroup dir $1 first. Foreground; exit status is the command's (124 on timeout).
cgt_as_user_in() {
	local cg=$1 CGT_AS CGT_ENV
	shift
	cgt_as_prefix "$cg" "$CGT_UID" "$CGT_GID" init "$CGT_TIMEOUT"
	cgt_user_env
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$@"
}

# Run "$@" in cgroup dir $1 with the harness's credentials and environment:
# a forked shell moves itself there and execs "$@" (what sh -c 'echo $$
# >cgroup.procs; exec "$@"' did, without sh). 125 when the move fails.
cgt_in_cg() {
	local cg=$1
	shift
	(
		echo "$BASHPID" >"$cg/cgroup.procs" || exit 125
		exec "$@"
	)
}

# cgt_in_cg in the background; sets BGPID (the command's pid once it execs).
cgt_in_cg_bg() {
	local cg=$1
	shift
	(
		echo "$BASHPID" >"$cg/cgroup.procs" || exit 125
		exec "$@"
	) &
	BGPID=$!
}

# Set variable $1 to the output of "$@" (after $1) run as the test user from
# workloads/, as $1=$(cgt_as_user_in "$CGT_WORK" ...) would without the
# subshell's fork; CGT_USER_ERR to its stderr, which goes to stderr too.
# The status is the command's.
cgt_user_out() {
	local cgt_user_out_rc
	cgt_as_user_in "$CGT_WORK" "${@:2}" >"$CGT_TMP/user.out" 2>"$CGT_TMP/user.err" </dev/null
	cgt_user_out_rc=$?
	cgt_slurp "$1" "$CGT_TMP/user.out"
	cgt_slurp CGT_USER_ERR "$CGT_TMP/user.err"
	[ -z "$CGT_USER_ERR" ] || printf '%s\n' "$CGT_USER_ERR" >&2
	return "$cgt_user_out_rc"
}

# Set CGT_AS to the words that run a command (VAR=VALUE words of its whole
# environment first) in cgroup dir $1 as uid $2, gid $3 with its supplementary
# groups ($4 init) or none ($4 clear), SIGHUP at its default, under a timeout
# of $5 seconds (timeout -k 2; 0: none, and the command's pid is the one
# started). One exec (tests/integration/as_user.c, CGT_AS_USER) instead of
# four: sh, timeout, setpriv, env, which the harness falls back to.
cgt_as_prefix() {
	if [ -n "${CGT_AS_USER:-}" ]; then
		CGT_AS=("$CGT_AS_USER" "$1" "$5" "$2" "$3" "$4")
		return 0
	fi
	# shellcheck disable=SC2016
	CGT_AS=(sh -c 'echo $$ >"$1/cgroup.procs" || exit 125; shift; exec "$@"' sh "$1")
	[ "$5" = 0 ] || CGT_AS+=(timeout -k 2 "$5")
	CGT_AS+=(setpriv --reuid="$2" --regid="$3" "--$4-groups" env -i --default-signal=HUP)
}

# Set CGT_ENV to the test user's clean environment (VAR=VALUE words), with the
# sanitizer options and the reply log when the harness has them.
cgt_user_env() {
	CGT_ENV=(HOME="$CGT_HOME" USER="$CGT_USER" LOGNAME="$CGT_USER" XDG_RUNTIME_DIR="$CGT_RUN" PATH=/usr/bin:/bin)
	[ -z "${ASAN_OPTIONS:-}" ] || CGT_ENV+=(ASAN_OPTIONS="$ASAN_OPTIONS")
	[ -z "${CGCTLD_TEST_REPLY_LOG:-}" ] || CGT_ENV+=(CGCTLD_TEST_REPLY_LOG="$CGCTLD_TEST_REPLY_LOG")
	return 0
}

# Run the CLI as the test user from workloads/: sets RC, OUT, ERR.
# Pass --socket yourself, or rely on the XDG_RUNTIME_DIR default.
cgctl_u() {
	cgt_as_user_in "$CGT_WORK" "$CGCTL" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl $*"
}

# Pick up RC (from $?), OUT and ERR of the last CLI run and log them under
# label $1. Builtins only (no cat, sed, head): it runs after every CLI call.
cgt_collect() {
	RC=$?
	cgt_slurp OUT "$CGT_TMP/out"
	cgt_slurp ERR "$CGT_TMP/err"
	printf '+ %s -> rc=%s\n' "$1" "$RC"
	[ -z "$OUT" ] || cgt_prefixed '  out: ' 40 "$OUT"
	[ -z "$ERR" ] || cgt_prefixed '  err: ' 20 "$ERR"
	return 0
}

# Set variable $1 to file $2's text as $(cat "$2") would (trailing newlines dropped).
cgt_slurp() {
	local -n cgt_slurp_v=$1
	cgt_slurp_v=""
	IFS= read -r -d '' cgt_slurp_v <"$2"
	while [ "${cgt_slurp_v: -1}" = $'\n' ]; do cgt_slurp_v=${cgt_slurp_v%$'\n'}; done
	return 0
}

# Print the first $2 lines of text $3, each after prefix $1.
cgt_prefixed() {
	local line n=0
	while [ "$n" -lt "$2" ] && IFS= read -r line; do
		printf '%s%s\n' "$1" "$line"
		n=$((n + 1))
	done <<<"$3"
}

# Run the CLI as root, in the harness's environment without CGCTL_SOCKET and
# with the test user's XDG_RUNTIME_DIR: sets RC, OUT, ERR. Through as_user
# (timeout included: one exec, not timeout's and env's too) when it is built.
cgctl_root() {
	local name words=()
	if [ -n "${CGT_AS_USER:-}" ]; then
		compgen -e >"$CGT_TMP/env-names"
		while IFS= read -r name; do
			case $name in CGCTL_SOCKET | XDG_RUNTIME_DIR) continue ;; esac
			words+=("$name=${!name}")
		done <"$CGT_TMP/env-names"
		"$CGT_AS_USER" "" "$CGT_TIMEOUT" 0 0 init "${words[@]}" XDG_RUNTIME_DIR="$CGT_RUN" "$CGCTL" "$@" \
			>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	else
		timeout -k 2 "$CGT_TIMEOUT" env -u CGCTL_SOCKET XDG_RUNTIME_DIR="$CGT_RUN" "$CGCTL" "$@" \
			>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	fi
	cgt_collect "(root) cgctl $*"
}

# Run the CLI as uid:gid $1:$2 (no supplementary groups) from workloads/: sets RC, OUT, ERR.
cgctl_as() {
	local uid=$1 gid=$2 CGT_AS
	shift 2
	cgt_as_prefix "$CGT_WORK" "$uid" "$gid" clear "$CGT_TIMEOUT"
	"${CGT_AS[@]}" PATH=/usr/bin:/bin "$CGCTL" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "(uid $uid) cgctl $*"
}

# --- the daemon ------------------------------------------------------------

# Start cgctld as the test user in cgroup dir $1 (default cgctld/), extra
# daemon args after it. Sets DPID, DLOG, DSOCK (from --socket, else the
# default), DSTATE (from --state-dir, else a fresh one is added). Does not wait.
cgt_daemon_spawn() {
	local cg=${1:-$CGT_MROOT} arg prev="" have_state=0 n
	shift || true
	DSOCK=$CGT_RUN/cgctl/io.cgctl.Manager
	for arg in "$@"; do
		case $prev in
		--socket) DSOCK=$arg ;;
		--state-dir) DSTATE=$arg; have_state=1 ;;
		esac
		prev=$arg
	done
	cgt_count_logs
	n=$CGT_NLOGS
	DLOG=$CGT_LOGS/cgctld.$n.log
	if [ "$have_state" = 0 ]; then
		DSTATE=$CGT_STATES/s$n
		set -- --state-dir "$DSTATE" "$@"
	fi
	printf '+ cgctld %s (cgroup %s, log %s)\n' "$*" "${cg#"$CGT_SCRATCH"/}" "$DLOG"
	local CGT_AS CGT_ENV
	cgt_as_prefix "$cg" "$CGT_UID" "$CGT_GID" init 0
	cgt_user_env
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$CGCTLD" "$@" </dev/null >>"$DLOG" 2>&1 &
	DPID=$!
	# DLOG is this daemon's alone (a fresh file): cgt_daemon_wait may read its readiness there.
	CGT_DLOG_OF=$DPID
	cgt_track_pid "$DPID"
	printf '%s\n' "$DLOG" >>"$CGT_TMP/daemon-logs"
	return 0
}

# Set CGT_NLOGS to the number of daemon logs (cgctld.*.log) in CGT_LOGS.
cgt_count_logs() {
	local l
	CGT_NLOGS=0
	for l in "$CGT_LOGS"/cgctld.*.log; do
		[ -e "$l" ] && CGT_NLOGS=$((CGT_NLOGS + 1))
	done
	return 0
}

# Wait until the daemon $DPID is ready, polled every 20 ms: its log (when
# cgt_daemon_spawn made it its own) says "ready on" (logged once it listens,
# has reconciled and set up, as it sends READY=1: no CLI call, no fork of this
# shell); otherwise, once $DSOCK is a socket, it answers status.
cgt_daemon_wait() {
	local i=0 limit=$((CGT_TIMEOUT * 50))
	while :; do
		cgt_proc_state_v "$DPID"
		if ! kill -0 "$DPID" 2>/dev/null || [ "$CGT_STATE" = Z ]; then
			wait "$DPID" 2>/dev/null
			fail "cgctld exited early (status $?): $(tail -n 3 "$DLOG" | tr '\n' ' ')"
			return 1
		fi
		if [ "${CGT_DLOG_OF:-}" = "$DPID" ]; then
			cgt_daemon_logged_ready && return 0
		elif [ -S "$DSOCK" ]; then
			cgctl_u --socket "$DSOCK" status >/dev/null
			[ "$RC" = 0 ] && return 0
		fi
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && { fail "cgctld did not answer on $DSOCK within ${CGT_TIMEOUT}s"; return 1; }
		cgt_nap 0.02
	done
}

# True when $DLOG has the daemon's "ready on" line (builtins only).
cgt_daemon_logged_ready() {
	local line
	[ -f "$DLOG" ] || return 1
	while IFS= read -r line; do
		case $line in "cgctld: ready on "* | "<"[0-9]">ready on "*) return 0 ;; esac
	done <"$DLOG"
	return 1
}

# Start the daemon and wait for it (args as cgt_daemon_spawn).
cgt_daemon_start() {
	cgt_daemon_spawn "$@" && cgt_daemon_wait
}

# A daemon (extra daemon args in "$@") in cgctld/ or, once a daemon has run
# there, in its leaf: with children and controllers enabled, no process can
# join cgctld/ itself (no internal processes), so, like systemd's
# DelegateSubgroup=, the supervisor places it in the leaf.
cgt_daemon_up() {
	if [ -d "$CGT_MROOT/cgctld.leaf" ]; then
		cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --cgroup-root "$CGT_MROOT" "$@"
	else
		cgt_daemon_start "" "$@"
	fi
}

# SIGTERM daemon $1 (default $DPID), wait; sets DEXIT to its exit status
# (KILLed and 137 after the timeout).
cgt_daemon_stop() {
	local pid=${1:-$DPID}
	kill -TERM "$pid" 2>/dev/null
	if ! cgt_wait_gone "$pid"; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		# shellcheck disable=SC2034 # read by the tests
		DEXIT=137
		return 1
	fi
	wait "$pid" 2>/dev/null
	# shellcheck disable=SC2034 # read by the tests
	DEXIT=$?
	return 0
}

# Kill every daemon and tracked process this test started (test tear-down).
cgt_test_teardown() {
	local entry
	for entry in "${CGT_PIDS[@]}"; do
		cgt_kill_tracked "$entry" TERM
	done
	for entry in "${CGT_PIDS[@]}"; do
		cgt_wait_gone "${entry%%:*}" 3 || cgt_kill_tracked "$entry" KILL
	done
	wait 2>/dev/null
	return 0
}

# Start "sleep" as the test user in cgroup dir $1 (its environment: the
# harness's, as before; one exec of as_user when it is built); sets SPID.
cgt_sleeper() {
	local CGT_AS
	cgt_as_prefix "$1" "$CGT_UID" "$CGT_GID" init 0
	if [ -n "${CGT_AS_USER:-}" ]; then
		"${CGT_AS[@]}" PATH=/usr/bin:/bin sleep 300 </dev/null >/dev/null 2>&1 &
	else
		# shellcheck disable=SC2016
		sh -c 'echo $$ >"$1/cgroup.procs" || exit 125; exec setpriv --reuid="$2" --regid="$3" --init-groups sleep 300' \
			sh "$1" "$CGT_UID" "$CGT_GID" </dev/null >/dev/null 2>&1 &
	fi
	SPID=$!
	cgt_track_pid "$SPID"
	# Wait until it sits in the cgroup (the move happens in the child) and runs sleep: the move
	# comes before setpriv sets its uids, and a test that acts on it earlier acts on root's process.
	local i=0 comm=""
	until cgt_has_line "$1/cgroup.procs" "$SPID" && { read -r comm <"/proc/$SPID/comm"; } 2>/dev/null &&
		[ "$comm" = sleep ]; do
		i=$((i + 1))
		[ "$i" -ge 100 ] && return 1
		cgt_nap 0.02
	done
	return 0
}

# --- assertions (each returns 1 with a reason on failure) ------------------

# The CLI's last exit status was $1.
expect_rc() {
	[ "$RC" = "$1" ] || fail "${2:-cgctl}: exit $RC, expected $1 (stderr: ${ERR:0:200})"
}

# The CLI's last stderr contains $1.
expect_err() {
	case $ERR in *"$1"*) return 0 ;; esac
	fail "${2:-cgctl}: stderr lacks '$1': ${ERR:0:200}"
}

# Cgroup directory $1 (relative to the managed root unless absolute) exists.
expect_dir() {
	local d=$1
	case $d in /*) ;; *) d=$CGT_MROOT/$d ;; esac
	[ -d "$d" ] || fail "directory ${d#"$CGT_SCRATCH"/} missing${2:+ ($2)}"
}

# Cgroup directory $1 (relative to the managed root unless absolute) does not exist.
expect_no_dir() {
	local d=$1
	case $d in /*) ;; *) d=$CGT_MROOT/$d ;; esac
	[ ! -e "$d" ] || fail "directory ${d#"$CGT_SCRATCH"/} exists${2:+ ($2)}"
}

# jq expression $1 over $OUT (or $2) is true.
expect_jq() {
	local json=${2-$OUT}
	jq -e "$1" >/dev/null 2>&1 <<<"$json" || fail "jq '$1' false on: ${json:0:300}"
}

# Every jq expression $1... over $OUT (one JSON document) is true, each as
# expect_jq judges it (its last output neither false nor null; no output or
# an error is false), in one jq start (~28 ms CPU each); fails naming the
# first that is not. With --value EXPR first: then sets JQV to what jqo EXPR
# would print (a string raw, anything else as JSON), from the same start.
expect_jq_all() {
	local e prog="" res value='""'
	[ "$1" != --value ] || { value="(${2}) | if type == \"string\" then . else tojson end"; shift 2; }
	for e in "$@"; do
		prog+="(try ([$e] | length > 0 and (last | . != false and . != null)) catch false),"
	done
	jq -r ". as \$doc | [${prog%,}] | index(false) // (\"ok \" + (\$doc | $value))" <<<"$OUT" >"$CGT_TMP/jq-all" 2>&1
	cgt_slurp res "$CGT_TMP/jq-all"
	case $res in
	# shellcheck disable=SC2034 # read by the tests
	"ok "*) JQV=${res#ok } && return 0 ;;
	[0-9] | [1-9][0-9]) fail "jq '${*:res+1:1}' false on: ${OUT:0:300}" ;;
	*) fail "jq: ${res:0:200} on: ${OUT:0:300}" ;;
	esac
}

# Print jq expression $1 over $OUT (raw).
jqo() { jq -r "$1" <<<"$OUT"; }

# Set CGT_TREE to every directory below $1 (default the managed root), one
# "./a/b" a line, sorted as sort(1) in the C locale (the glob's order puts
# "./a-b" before "./a"), for before/after checks. Builtins only.
cgt_tree() {
	local base=${1:-$CGT_MROOT} d i rel=()
	cgt_cg_dirs "$base"
	for d in "${CGT_DIRS[@]}"; do
		d=./${d#"${base%/}"/}
		for ((i = ${#rel[@]}; i > 0; i--)); do
			[[ ${rel[i - 1]} > $d ]] || break
			rel[i]=${rel[i - 1]}
		done
		rel[i]=$d
	done
	CGT_TREE=""
	[ "${#rel[@]}" = 0 ] || printf -v CGT_TREE '%s\n' "${rel[@]}"
	CGT_TREE=${CGT_TREE%$'\n'}
}

# --- helpers for process tests (t_proc.sh) ---------------------------------

# Start "$@" as the test user in cgroup dir $1, in the background, exec'd all
# the way down so BGPID is the command itself (for signals and wait); stdout
# and stderr go to $CGT_TMP/bg.out and bg.err. Tracked for tear-down.
cgt_spawn_user_in() {
	local cg=$1 CGT_AS CGT_ENV
	shift
	cgt_as_prefix "$cg" "$CGT_UID" "$CGT_GID" init 0
	cgt_user_env
	: >"$CGT_TMP/bg.out"
	: >"$CGT_TMP/bg.err"
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$@" </dev/null >"$CGT_TMP/bg.out" 2>"$CGT_TMP/bg.err" &
	BGPID=$!
	cgt_track_pid "$BGPID"
	return 0
}

# Wait up to CGT_TIMEOUT for file $1 to exist and be non-empty; 1 on timeout.
cgt_wait_file() {
	local i=0 limit=$((CGT_TIMEOUT * 20))
	until [ -s "$1" ]; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		cgt_nap 0.05
	done
	return 0
}

# True when file $1 has a line that is exactly $2 (grep -qx, without its exec).
cgt_has_line() {
	local line
	while IFS= read -r line || [ -n "$line" ]; do
		[ "$line" = "$2" ] && return 0
	done <"$1"
	return 1
} 2>/dev/null

# True when text $1 has a line that is exactly $2 (grep -qx <<<"$1" with a
# fixed string, without its fork and exec).
cgt_text_has_line() {
	[[ $'\n'$1$'\n' == *$'\n'"$2"$'\n'* ]]
}

# True when file $1 contains string $2 (grep -qF; $2 has no newline). Builtins only.
cgt_has_text() {
	local t
	cgt_slurp t "$1" 2>/dev/null || return 1
	[[ $t == *"$2"* ]]
}

# True when a line of file $1 matches ERE $2 (grep -qE; a last line without its
# newline too); 1 when none does or the file cannot be read. Builtins only.
cgt_has_match() {
	local lines l
	{ mapfile -t lines <"$1"; } 2>/dev/null || return 1
	for l in "${lines[@]}"; do
		[[ $l =~ $2 ]] && return 0
	done
	return 1
}

# True when every line of file $1 matches ERE $2 (! grep -Evq, without its
# exec); 1 when one does not or the file cannot be read. Builtins only.
cgt_all_match() {
	local lines l
	{ mapfile -t lines <"$1"; } 2>/dev/null || return 1
	for l in "${lines[@]}"; do
		[[ $l =~ $2 ]] || return 1
	done
	return 0
}

# True when file $1 (a list such as cgroup.subtree_control) has word $2
# among its blank-separated words (grep -qw on such a list). Builtins only.
cgt_has_word() {
	local w words
	{ read -ra words -d '' <"$1"; } 2>/dev/null
	for w in "${words[@]}"; do
		[ "$w" = "$2" ] && return 0
	done
	return 1
}

# Wait up to CGT_TIMEOUT for cgroup dir $1's cgroup.events to say "$2 $3" (populated 0...).
cgt_wait_event() {
	local i=0 limit=$((CGT_TIMEOUT * 20))
	until cgt_has_line "$1/cgroup.events" "$2 $3"; do
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && return 1
		cgt_nap 0.05
	done
	return 0
}

# Install Python modules "$@" (file names in $HERE) into $CGT_TMP/bin, once a run,
# with their bytecode compiled by root (read-only to the users that run them): a
# script run as a program is compiled at every start, a module imported is not.
cgt_py_modules() {
	local f todo=()
	for f; do [ -f "$CGT_TMP/bin/$f" ] || todo+=("$f"); done
	[ "${#todo[@]}" -gt 0 ] || return 0
	install -m 0644 "${todo[@]/#/$HERE/}" "$CGT_TMP/bin/" &&
		/usr/bin/python3 -S -m py_compile "${todo[@]/#/$CGT_TMP/bin/}" &&
		chmod -R a+rX "$CGT_TMP/bin/__pycache__"
}

# Start an impostor: /usr/bin/python3 as uid $1 gid $2 listening on socket $3,
# logging "conn BYTES" per connection to file $4 (bytes it received). Sets IMPID.
cgt_impostor_start() {
	local uid=$1 gid=$2 sock=$3 log=$4
	cgt_in_cg_bg "$CGT_WORK" \
		setpriv --reuid="$uid" --regid="$gid" --clear-groups env -i --default-signal=HUP PATH=/usr/bin:/bin \
		/usr/bin/python3 -S -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(sys.argv[1])
s.listen(16)
open(sys.argv[2], "a").write("listening\n")
while True:
    c, _ = s.accept()
    n = 0
    c.settimeout(2)
    try:
        while True:
            b = c.recv(65536)
            if not b:
                break
            n += len(b)
    except OSError:
        pass
    c.close()
    open(sys.argv[2], "a").write("conn %d\n" % n)
' "$sock" "$log" </dev/null >/dev/null 2>"$log.err"
	IMPID=$BGPID
	cgt_track_pid "$IMPID"
	cgt_wait_file "$log" || { fail "impostor did not start: $(cat "$log.err")"; return 1; }
}

# --- daemon environment, quick starts, crashes (t_crash.sh, t_lifecycle.sh) ---

# Extra VAR=VALUE words for the daemon's environment, used by cgt_daemon_spawn_env
# (e.g. CGT_DAEMON_ENV=(CGCTLD_TEST_CRASH=create-mkdir)).
CGT_DAEMON_ENV=()

# cgt_daemon_spawn with CGT_DAEMON_ENV added to the daemon's clean
# environment: the daemon runs through a wrapper that execs it, so $DPID is
# still the daemon's pid.
cgt_daemon_spawn_env() {
	local wrapper
	[ "${#CGT_DAEMON_ENV[@]}" -gt 0 ] || { cgt_daemon_spawn "$@"; return; }
	wrapper=$(mktemp "$CGT_TMP/bin/cgctld-env.XXXXXX") || return 1
	{
		printf '#!/bin/bash\nexec env'
		printf ' %q' "${CGT_DAEMON_ENV[@]}" "$CGCTLD"
		printf ' "$@"\n'
	} >"$wrapper"
	chmod 0755 "$wrapper"
	# cgt_daemon_spawn runs whatever CGCTLD names (dynamic scope).
	local CGCTLD=$wrapper
	cgt_daemon_spawn "$@"
}

# Start the daemon with CGT_DAEMON_ENV and wait for it (args as cgt_daemon_spawn).
cgt_daemon_start_env() {
	cgt_daemon_spawn_env "$@" && cgt_daemon_wait
}

# Like cgt_daemon_wait, but polls every 10 ms: for loops that restart the
# daemon many times.
cgt_daemon_wait_quick() {
	local i=0 limit=$((CGT_TIMEOUT * 100))
	while :; do
		cgt_proc_state_v "$DPID"
		if [ "$CGT_STATE" = Z ] || ! kill -0 "$DPID" 2>/dev/null; then
			wait "$DPID" 2>/dev/null
			fail "cgctld exited early (status $?): $(tail -n 3 "$DLOG" | tr '\n' ' ')"
			return 1
		fi
		if [ -S "$DSOCK" ] && cgt_as_user_in "$CGT_WORK" "$CGCTL" --socket "$DSOCK" status \
			>/dev/null 2>&1 </dev/null; then
			return 0
		fi
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && { fail "cgctld did not answer on $DSOCK within ${CGT_TIMEOUT}s"; return 1; }
		cgt_nap 0.01
	done
}

# SIGKILL daemon $1 (default $DPID) and reap it; 0 when it died of the signal.
cgt_daemon_kill9() {
	local pid=${1:-$DPID} st
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	st=$?
	[ "$st" = 137 ]
}

# Wait for daemon $DPID to die on its own (a test crash point) and reap it;
# sets DEXIT. 1 when it is still running after the timeout.
cgt_daemon_wait_exit() {
	cgt_wait_gone "$DPID" || return 1
	wait "$DPID" 2>/dev/null
	# shellcheck disable=SC2034 # read by the tests
	DEXIT=$?
	return 0
}

# Run "$@" as the test user in cgroup dir $1, in the background, output to
# file $2; sets BGPID (tracked, killed at tear-down).
cgt_user_bg() {
	local cg=$1 out=$2 CGT_AS CGT_ENV
	shift 2
	cgt_as_prefix "$cg" "$CGT_UID" "$CGT_GID" init 0
	cgt_user_env
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$@" </dev/null >>"$out" 2>&1 &
	BGPID=$!
	cgt_track_pid "$BGPID"
}

# The journal records of state dir $1 as a JSON array of .rec objects (jq -s).
cgt_journal_recs() {
	jq -c -s 'map(.rec)' "$1/journal.jsonl"
}

# --- undo actions outside the scratch subtree (t_systemd.sh) ----------------

# Remember an undo command (argv) for something a test changed outside the
# scratch subtree, e.g. the /run/systemd/system marker it created.
cgt_defer() {
	[ -n "${CGT_TMP:-}" ] || return 1
	{ printf '%q ' "$@"; printf '\n'; } >>"$CGT_TMP/deferred"
}

# Run the remembered undo commands, newest first, and forget them. Tests call
# it in their own tear-down; the harness's EXIT trap calls it for a test that
# never got there.
cgt_run_deferred() {
	local f=${CGT_TMP:-/nonexistent}/deferred line
	[ -f "$f" ] || return 0
	while IFS= read -r line; do
		eval "$line" || cgt_log "warning: undo failed: $line"
	done < <(tac "$f")
	rm -f "$f"
}

# EXIT trap: run the remembered undo commands, then cgt_cleanup_base with the
# exit status the trap found.
cgt_cleanup() {
	local rc=$?
	cgt_run_deferred
	cgt_status "$rc"
	cgt_cleanup_base
}

# --- the daemon under a wrapper: valgrind (t_hostile.sh, CGCTL_TEST_VALGRIND=1) ---

# Run every daemon this shell starts from now on under the command "$@"
# (e.g. valgrind --leak-check=full): CGCTLD becomes a script that execs
# "$@" with the real binary, so $DPID is still the daemon's pid, and
# cgt_daemon_spawn_env / ns_daemon_spawn wrap around it unchanged.
cgt_daemon_wrap() {
	local wrapper
	CGT_CGCTLD_REAL=${CGT_CGCTLD_REAL:-$CGCTLD}
	wrapper=$(mktemp "$CGT_TMP/bin/cgctld-wrap.XXXXXX") || return 1
	{
		printf '#!/bin/bash\nexec'
		printf ' %q' "$@" "$CGT_CGCTLD_REAL"
		# shellcheck disable=SC2016 # expanded by the wrapper, not here
		printf ' "$@"\n'
	} >"$wrapper"
	chmod 0755 "$wrapper"
	CGCTLD=$wrapper
}

# Undo cgt_daemon_wrap: CGCTLD is the real binary again.
cgt_daemon_unwrap() {
	CGCTLD=${CGT_CGCTLD_REAL:-$CGCTLD}
	unset CGT_CGCTLD_REAL
}

# True when the daemon binary was built with ASan (valgrind cannot run it): gcc's
# imports the runtime from libasan.so, clang's (make's sanitizer tree) carries it.
# Looked at once a run for each binary (a grep of 5 MB, ~30 a run): the answer
# is kept in $CGT_TMP/asan.<path with _ for />.
cgt_daemon_is_asan() {
	local bin=${CGT_CGCTLD_REAL:-$CGCTLD} f v=""
	f=$CGT_TMP/asan.${bin//\//_}
	if ! { read -r v <"$f"; } 2>/dev/null; then
		v=0
		grep -q -a -m 1 __asan_init "$bin" 2>/dev/null && v=1
		printf '%s\n' "$v" >"$f"
	fi
	[ "$v" = 1 ]
}

# Wrap the daemon in valgrind memcheck (extra valgrind options in "$@"): full
# leak check, definite leaks count as errors, exit status 99 on any error,
# one log per daemon in $CGT_VG_DIR/vg.<pid>.log (readable with cgt_valgrind_check).
# valgrind 3.19 does not know openat2 (the daemon falls back to its
# component walk) and warns about the syscalls it does not know; harmless.
cgt_daemon_valgrind() {
	local vg
	vg=$(command -v valgrind) || { cgt_log "valgrind not installed"; return 1; }
	cgt_daemon_is_asan && { cgt_log "cgctld is an ASan build; valgrind cannot run it"; return 1; }
	CGT_VG_DIR=$CGT_TMP/valgrind
	[ -d "$CGT_VG_DIR" ] || mkdir -m 0755 "$CGT_VG_DIR" || return 1
	chown "$CGT_UID:$CGT_GID" "$CGT_VG_DIR" || return 1
	cgt_daemon_wrap "$vg" --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		--show-leak-kinds=definite --num-callers=30 --log-file="$CGT_VG_DIR/vg.%p.log" "$@"
}

# Judge valgrind log $1: 0 clean; 1 errors, invalid accesses or definite leaks
# (reason recorded with fail); 2 inconclusive: the daemon was killed before
# valgrind could summarise (SIGKILL, crash points).
cgt_valgrind_check() {
	local log=$1 bad='ERROR SUMMARY: [1-9]|Invalid (read|write|free)|uninitialised|definitely lost: [1-9]'
	if ! grep -q 'ERROR SUMMARY:' "$log" 2>/dev/null ||
		grep -q 'Process terminating with default action of signal' "$log"; then
		return 2
	fi
	if grep -qE "$bad" "$log"; then
		fail "valgrind: $(grep -m1 -E "$bad" "$log" | sed 's/^==[0-9]*== //') (${log##*/})"
		return 1
	fi
	return 0
}

# Check every valgrind log not checked yet (each test's daemons, at tear-down).
cgt_valgrind_check_new() {
	local log rc=0
	[ -n "${CGT_VG_DIR:-}" ] && [ -d "$CGT_VG_DIR" ] || return 0
	for log in "$CGT_VG_DIR"/vg.*.log; do
		[ -f "$log" ] || continue
		cgt_valgrind_check "$log"
		case $? in
		1) rc=1; printf '%s\n' "$log" >>"$CGT_TMP/daemon-logs" ;;
		2) cgt_log "note: ${log##*/}: daemon killed before valgrind's summary; not judged" ;;
		esac
		mv "$log" "$log.checked"
	done
	return "$rc"
}

# SIGTERM the daemons running under valgrind and give their leak check time.
cgt_valgrind_stop_all() {
	local entry pid
	for entry in "${CGT_PIDS[@]}"; do
		pid=${entry%%:*}
		case $(cat "/proc/$pid/comm" 2>/dev/null) in
		memcheck*) cgt_kill_tracked "$entry" TERM ;;
		*) continue ;;
		esac
		cgt_wait_gone "$pid" 30 || cgt_kill_tracked "$entry" KILL
	done
}

# CGCTL_TEST_VALGRIND=1: every daemon of the run under valgrind; a test whose
# daemons' valgrind logs show errors or definite leaks fails. Slow: pick a
# subset, e.g. CGCTL_TEST_VALGRIND=1 bash tests/integration/run.sh 'call_*';
# CGCTL_TEST_VALGRIND_OPTS adds valgrind options (--suppressions=FILE...).
if [ "${CGCTL_TEST_VALGRIND:-0}" = 1 ] && ! declare -F cgt_setup_base >/dev/null; then
	CGT_TIMEOUT=${CGCTL_TEST_TIMEOUT:-30}
	eval "$(declare -f cgt_setup | sed '1s/^cgt_setup /cgt_setup_base /')"
	cgt_setup() {
		local opts
		cgt_setup_base || return 1
		read -ra opts <<<"${CGCTL_TEST_VALGRIND_OPTS:-}"
		cgt_daemon_valgrind "${opts[@]}"
	}
	eval "$(declare -f cgt_test_teardown | sed '1s/^cgt_test_teardown /cgt_test_teardown_base /')"
	cgt_test_teardown() {
		cgt_valgrind_stop_all
		cgt_test_teardown_base
		cgt_valgrind_check_new
		return 0
	}
fi

# --- helpers for event tests (t_events.sh) ---------------------------------

# Wait up to $3 seconds (default CGT_TIMEOUT) until a line of file $1 matches ERE $2; 1 on timeout.
# As grep -E each turn would, without its exec: the file (which may not exist
# yet) is read on one descriptor, each line once, as it grows; a last line
# without its newline is matched too, and again when it is complete.
cgt_wait_line() {
	local i=0 limit=$(( ${3:-$CGT_TIMEOUT} * 20 )) fd="" line part="" rc=1
	while :; do
		[ -n "$fd" ] || { exec {fd}<"$1"; } 2>/dev/null || fd=""
		while [ -n "$fd" ]; do
			if IFS= read -r -u "$fd" line; then
				line=$part$line part=""
				[[ $line =~ $2 ]] && { rc=0; break 2; }
			else
				part=$part$line
				[[ -n $part && $part =~ $2 ]] && { rc=0; break 2; }
				break
			fi
		done
		i=$((i + 1))
		[ "$i" -ge "$limit" ] && break
		cgt_nap 0.05
	done
	[ -z "$fd" ] || exec {fd}<&-
	return "$rc"
}

# Like cgt_user_bg, with stdout to file $2 and stderr to file $3 (both truncated); sets BGPID.
cgt_user_bg_split() {
	local cg=$1 out=$2 err=$3 CGT_AS CGT_ENV
	shift 3
	cgt_as_prefix "$cg" "$CGT_UID" "$CGT_GID" init 0
	cgt_user_env
	# Emptied before the child starts (its own ">" comes later): a wait on
	# the file must not find a former process's line there.
	: >"$out"
	: >"$err"
	"${CGT_AS[@]}" "${CGT_ENV[@]}" "$@" </dev/null >"$out" 2>"$err" &
	BGPID=$!
	cgt_track_pid "$BGPID"
}

# Set CGT_VMRSS to pid $1's VmRSS in KiB; empty when it is gone (polled:
# builtins only). The file in one read: read line by line seeks back after
# each line, and the kernel makes the file anew at a seek, its lines moved
# by the busy daemon's changing figures (a VmRSS line was missed so).
cgt_vmrss_kb() {
	local st=""
	CGT_VMRSS=""
	IFS= read -r -d '' st <"/proc/$1/status"
	case $st in *VmRSS:*) ;; *) return 0 ;; esac
	st=${st#*VmRSS:}
	st=${st%%kB*}
	# shellcheck disable=SC2034 # read by the tests
	CGT_VMRSS=${st//[!0-9]/}
	return 0
} 2>/dev/null

# --- OCI runtimes and cgctl-oci-hook (t_oci.sh) -----------------------------

# Copy build binary $1 (relative to $BUILD) into $CGT_TMP/bin for the test
# user; set CGT_USER_BIN to its path. 1 when it was not built.
cgt_user_bin() {
	local src=$BUILD/$1 dst=$CGT_TMP/bin/${1##*/}
	CGT_USER_BIN=""
	[ -x "$src" ] || return 1
	if [ ! -x "$dst" ] || [ "$src" -nt "$dst" ]; then
		cp "$src" "$dst" && chmod 0755 "$dst" || return 1
	fi
	CGT_USER_BIN=$dst
}

# Set CGT_WHICH to command $1's absolute path as command -v would, without
# a $(...) subshell; 1 when there is none.
cgt_which() {
	CGT_WHICH=""
	hash "$1" 2>/dev/null && CGT_WHICH=${BASH_CMDS[$1]}
}

# Set CGT_WHY to why rootless runc cannot run a busybox container here (empty
# when it can) and RUNC to runc's absolute path (the test user's PATH lacks
# /usr/sbin). What it finds holds for the run: looked at once ($CGT_TMP/runc-ready).
cgt_runc_missing() {
	CGT_WHY=""
	cgt_which runc || { CGT_WHY="runc not installed (scripts/deps.sh installs it)"; return; }
	RUNC=$CGT_WHICH
	[ ! -f "$CGT_TMP/runc-ready" ] || return 0
	cgt_which busybox || { CGT_WHY="busybox-static not installed"; return; }
	if ! LC_ALL=C ldd "$CGT_WHICH" 2>&1 | grep -q 'not a dynamic executable'; then
		CGT_WHY="busybox is dynamically linked (install busybox-static)"
		return
	fi
	cgt_as_user_in "$CGT_WORK" unshare --user --map-root-user true >/dev/null 2>&1 ||
		{ CGT_WHY="user namespaces are not available to unprivileged users"; return; }
	: >"$CGT_TMP/runc-ready"
}

# Build a rootless bundle in directory $1 as the test user: a busybox rootfs
# (sh, cat, sleep, ...) and runc's "spec --rootless" config.json.
cgt_oci_bundle() {
	local b=$1
	mkdir -p "$b" && chown "$CGT_UID:$CGT_GID" "$b" && cgt_which busybox || return 1
	# shellcheck disable=SC2016 # expanded by the inner shell
	cgt_as_user_in "$CGT_WORK" sh -c '
		set -e
		cd "$1"
		mkdir -p rootfs/bin rootfs/out rootfs/proc rootfs/dev rootfs/sys rootfs/tmp
		cp "$2" rootfs/bin/busybox
		for a in sh cat sleep ls echo; do ln -sf busybox "rootfs/bin/$a"; done
		"$3" spec --rootless' sh "$b" "$CGT_WHICH" "$RUNC" >/dev/null
}

# Run runc as the test user from workloads/ with its state under the user's
# runtime dir; the container's stdio is runc's. Sets RC, OUT, ERR.
cgt_runc() {
	cgt_as_user_in "$CGT_WORK" "$RUNC" --root "$CGT_RUN/runc" "$@" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "runc $*"
}

# Kill and delete every container of the test user's runc root (tear-down;
# safe to call when there are none). Run as the user, without moving cgroups.
cgt_runc_cleanup() {
	local id runc=${RUNC:-$(command -v runc 2>/dev/null)} root=$CGT_RUN/runc
	[ -n "$runc" ] && [ -d "$root" ] || return 0
	while IFS= read -r id; do
		[ -n "$id" ] || continue
		timeout -k 2 "$CGT_TIMEOUT" setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
			env -i --default-signal=HUP XDG_RUNTIME_DIR="$CGT_RUN" PATH=/usr/bin:/bin "$runc" --root "$root" \
			delete --force "$id" >/dev/null 2>&1 || cgt_log "warning: runc delete --force $id failed"
	done < <(timeout -k 2 "$CGT_TIMEOUT" setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		env -i --default-signal=HUP XDG_RUNTIME_DIR="$CGT_RUN" PATH=/usr/bin:/bin "$runc" --root "$root" list -q 2>/dev/null)
	return 0
}

# The OCI state a runtime hands its hooks (id, pid, bundle, status) as JSON,
# the text jq -c made of it, without jq's start (~28 ms CPU, 100 a run).
cgt_oci_state() {
	local id bundle
	[[ $2 =~ ^(0|[1-9][0-9]*)$ ]] || { cgt_log "cgt_oci_state: pid '$2' is not a number"; return 1; }
	cgt_json_str "$1"
	id=$CGT_JSON
	cgt_json_str "$3"
	bundle=$CGT_JSON
	cgt_json_str "$4"
	printf '{"ociVersion":"1.0.2","id":%s,"pid":%s,"bundle":%s,"status":%s}\n' "$id" "$2" "$bundle" "$CGT_JSON"
}

# Set CGT_JSON to string $1 as a JSON string, escaped as jq escapes it (quote,
# backslash, control characters), without a fork: for values from the tests
# and hostile ones alike. Other bytes pass as they are (jq --arg would turn
# invalid UTF-8 into U+FFFD).
cgt_json_str() {
	local s=$1 i h c u
	s=${s//\\/\\\\}
	s=${s//\"/\\\"}
	s=${s//$'\b'/\\b}
	s=${s//$'\t'/\\t}
	s=${s//$'\n'/\\n}
	s=${s//$'\f'/\\f}
	s=${s//$'\r'/\\r}
	if [[ $s == *[$'\x01'-$'\x1f\x7f']* ]]; then
		for i in {1..7} 11 {14..31} 127; do
			printf -v h '%02x' "$i"
			printf -v c '%b' "\\x$h"
			printf -v u '\\u%04x' "$i"
			s=${s//"$c"/"$u"}
		done
	fi
	CGT_JSON="\"$s\""
}

# --- rootless podman (t_podman.sh) ------------------------------------------

# Give the test user subordinate ids (podman's user namespace needs 65536 of
# each) unless it has some: a range past every range already in file $1.
cgt_subids() {
	local f=$1 start
	[ -f "$f" ] && grep -q "^$CGT_USER:" "$f" && return 0
	start=$(awk -F: '$2 + $3 > m { m = $2 + $3 } END { print (m > 100000 ? m : 100000) }' "$f" 2>/dev/null)
	printf '%s:%s:65536\n' "$CGT_USER" "${start:-100000}" >>"$f"
}

# Podman as the test user from workloads/, with the run's scratch HOME (its
# storage: vfs, which needs neither /dev/fuse nor overlay in a user namespace,
# and its containers.conf, which names the project's hooks.d). Sets RC, OUT, ERR.
cgt_podman() {
	cgt_as_user_in "$CGT_WORK" env HOME="$CGT_PODMAN_HOME" podman --storage-driver vfs "$@" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "podman $*"
}

# Set CGT_WHY to why rootless podman cannot run here (empty when it can).
# Once per run: sub ids, the scratch HOME, hooks.d with the built hook, named
# by hooks_dir in the HOME's containers.conf as README says (podman's
# restarts of a --restart policy run "podman container cleanup", which gets
# no --hooks-dir from the command line), and a busybox image imported from a
# busybox-static rootfs (CGT_PODMAN_IMAGE).
cgt_podman_missing() {
	local rootfs=$CGT_TMP/podman-rootfs hook a
	CGT_PODMAN_HOME=$CGT_TMP/podman-home
	CGT_PODMAN_IMAGE=localhost/cgctl-busybox
	cgt_which podman || { CGT_WHY="podman not installed (scripts/deps.sh installs it)"; return; }
	cgt_runc_missing
	[ -z "$CGT_WHY" ] || return 0
	[ -f "$CGT_TMP/podman-ready" ] && return 0
	cgt_user_bin cgctl-oci-hook || { CGT_WHY="build/cgctl-oci-hook missing (run make)"; return; }
	hook=$CGT_USER_BIN
	cgt_subids /etc/subuid && cgt_subids /etc/subgid || { CGT_WHY="cannot add $CGT_USER to /etc/subuid, /etc/subgid"; return; }
	mkdir -p "$CGT_TMP/hooks.d" "$rootfs/bin" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp" &&
		sed "s|@BINDIR@|${hook%/*}|g" "$TOP/hooks/cgctl.json.in" >"$CGT_TMP/hooks.d/cgctl.json" &&
		chmod -R a+rX "$CGT_TMP/hooks.d" && cgt_which busybox && cp "$CGT_WHICH" "$rootfs/bin/busybox" ||
		{ CGT_WHY="cannot prepare hooks.d and the rootfs"; return; }
	for a in sh cat sleep ls echo true; do ln -sf busybox "$rootfs/bin/$a"; done
	install -d -m 0700 -o "$CGT_UID" -g "$CGT_GID" "$CGT_PODMAN_HOME" "$CGT_PODMAN_HOME/.config" \
		"$CGT_PODMAN_HOME/.config/containers" || { CGT_WHY="cannot make $CGT_PODMAN_HOME"; return; }
	printf '[engine]\nhooks_dir = ["%s"]\n' "$CGT_TMP/hooks.d" >"$CGT_PODMAN_HOME/.config/containers/containers.conf" &&
		chown "$CGT_UID:$CGT_GID" "$CGT_PODMAN_HOME/.config/containers/containers.conf" ||
		{ CGT_WHY="cannot write containers.conf"; return; }
	# shellcheck disable=SC2016 # expanded by the inner shell
	cgt_as_user_in "$CGT_WORK" env HOME="$CGT_PODMAN_HOME" sh -c 'tar -C "$1" -c . | podman --storage-driver vfs import - "$2"' \
		sh "$rootfs" "$CGT_PODMAN_IMAGE" >"$CGT_TMP/podman-import.log" 2>&1 ||
		{ CGT_WHY="podman import fails here: $(grep -m1 -i error "$CGT_TMP/podman-import.log" || tail -n1 "$CGT_TMP/podman-import.log")"; return; }
	touch "$CGT_TMP/podman-ready"
}

# Remove every container of the test user's scratch podman and end the
# pause process that holds its user namespace (test tear-down).
cgt_podman_cleanup() {
	local pid
	[ -n "${CGT_PODMAN_HOME:-}" ] && [ -d "$CGT_PODMAN_HOME" ] || return 0
	cgt_podman rm -a -f -t 0 >/dev/null 2>&1
	pid=$(cat "$CGT_RUN/libpod/tmp/pause.pid" 2>/dev/null)
	case $pid in '' | *[!0-9]*) return 0 ;; esac
	# Only when it is the test user's podman pause process.
	if [ "$(stat -c %u "/proc/$pid" 2>/dev/null)" = "$CGT_UID" ] &&
		tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q 'podman\|catatonit'; then
		kill -KILL "$pid" 2>/dev/null
		cgt_wait_gone "$pid" 3
	fi
	return 0
}
