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

# README's "No systemd" recipe, line for line, as root, for the test user: only
# the names are the harness's (the user, the directory below the cgroup2
# mount, the runtime dir, the built cgctld) and the line about a login shell
# is left out. The daemon must come up delegated and answer the user.
test_nosystemd_readme_recipe() {
	readme_recipe_body
	local rc=$? junk=/sys/fs/cgroup/${CGT_SCRATCH##*/}
	# A recipe that took /sys/fs/cgroup for the cgroup2 mount made plain directories there (tmpfs).
	if [ "$junk" != "$CGT_SCRATCH" ] && [ -d "$junk" ] && [ "$(stat -f -c %T "$junk")" = tmpfs ]; then
		rm -rf "$junk"
	fi
	return "$rc"
}

# The body of test_nosystemd_readme_recipe.
readme_recipe_body() {
	local block run=$CGT_TMP/readme-run d=$CGT_SCRATCH/readme-$CGT_USER pid
	block=$(sed -n '/^\*\*No systemd/,/^## Building/p' "$TOP/README.md" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d')
	[ -n "$block" ] || fail "no 'No systemd' recipe in README.md" || return 1
	block=${block//u=alice/u=$CGT_USER}
	block=${block//cgctl-\$u/${CGT_SCRATCH##*/}/readme-\$u}
	block=${block//\/run\/user\/\$uid/$run}
	block=${block//cgctld --cgroup-root/$CGCTLD --cgroup-root}
	block=$(grep -v PID_OF_THE_SHELL <<<"$block")
	printf '+ the recipe:\n%s\n' "$block"
	(cd / && HOME=/root exec bash -c "$block") >"$CGT_TMP/recipe.out" 2>&1 </dev/null &
	cgt_track_pid $!
	if ! cgt_wait_for 10 test -S "$run/cgctl/io.cgctl.Manager"; then
		sed 's/^/  recipe: /' "$CGT_TMP/recipe.out"
		return 1
	fi
	pid=$(head -n1 "$d/cgctld/cgctld.leaf/cgroup.procs" 2>/dev/null)
	[ -n "$pid" ] && cgt_track_pid "$pid"
	# The daemon's own log aside, the recipe's commands run without a complaint.
	! grep -v '^cgctld: ' "$CGT_TMP/recipe.out" | grep -q . ||
		fail "the recipe's commands said: $(grep -v '^cgctld: ' "$CGT_TMP/recipe.out" | tr '\n' ' ')" || return 1
	cgctl_u --socket "$run/cgctl/io.cgctl.Manager" --json status
	expect_rc 0 "status of the recipe's daemon" || return 1
	expect_jq ".delegated == true and .managed_root == \"$d/cgctld\"" || return 1
	cgctl_u --socket "$run/cgctl/io.cgctl.Manager" create fromreadme
	expect_rc 0 || return 1
	expect_dir "$d/cgctld/fromreadme" || return 1
	cgctl_u --socket "$run/cgctl/io.cgctl.Manager" destroy fromreadme
	expect_rc 0 || return 1
}
