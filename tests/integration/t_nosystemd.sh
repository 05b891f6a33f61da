# SPDX-License-Identifier: MIT
# t_nosystemd.sh: cgctl run / attach from a shell outside the delegated subtree, on a host without systemd.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# Run "$@" as the test user where the harness runs (not placed in the user's subtree). Sets RC, OUT, ERR.
as_user_outside() {
	timeout -k 2 "$CGT_TIMEOUT" setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups \
		env -i HOME="$CGT_HOME" XDG_RUNTIME_DIR="$CGT_RUN" PATH=/usr/bin:/bin "$@" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "(outside) $*"
}

# The error is plain about the cause and the remedy, and does not send the user round in circles.
# $1: what ran, $2: its expected exit status.
expect_plain_nosystemd() {
	expect_rc "$2" "$1" || return 1
	expect_err PermissionDenied || return 1
	expect_err "without systemd nobody can move it" || return 1
	expect_err "No systemd" || return 1
	! grep -q "cgctl run\|Invalid cross-device link" <<<"$ERR" || fail "circular or cryptic: $ERR" || return 1
}

test_nosystemd_run_attach_outside() {
	local here
	here=$(cgt_proc_cgroup $$)
	case $here in "$(cgt_cg_relpath "$CGT_SCRATCH")"*) skip "the harness runs inside its scratch subtree"; return ;; esac
	# As README's "No systemd" recipe: the daemon started in a cgroup of its own, --cgroup-root elsewhere.
	cgt_mkcg "$CGT_SCRATCH/home" || return 1
	cgt_daemon_start "$CGT_SCRATCH/home" --cgroup-root "$CGT_MROOT" || return 1
	as_user_outside "$CGCTL" --socket "$DSOCK" run -- true
	# cgctl run's own failure, before CMD runs: 125, as env(1) and timeout(1) do.
	expect_plain_nosystemd "cgctl run from outside the subtree" 125 || return 1
	as_user_outside "$CGCTL" --socket "$DSOCK" create o
	expect_rc 0 || return 1
	# A process of the user's, outside the subtree.
	setpriv --reuid="$CGT_UID" --regid="$CGT_GID" --init-groups sleep 300 >/dev/null 2>&1 </dev/null &
	local pid=$!
	cgt_track_pid "$pid"
	as_user_outside "$CGCTL" --socket "$DSOCK" attach o "$pid"
	expect_plain_nosystemd "cgctl attach of a process outside the subtree" 1 || return 1
}
