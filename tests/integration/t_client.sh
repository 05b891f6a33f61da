# SPDX-License-Identifier: MIT
# t_client.sh: libcgctl from C (client_smoke) as the test user, checked against the kernel tree.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

SMOKE=$CGT_TMP/bin/client_smoke

# Paths client_smoke printed ("named NAME PATH", "generated NAME PATH"), one per line.
smoke_paths() { awk '$1 == "named" || $1 == "generated" { print $3 }' "$CGT_TMP/smoke.out"; }

test_client_smoke() {
	[ -x "$SMOKE" ] || { skip "client_smoke not built"; return; }
	cgt_daemon_start "" || return 1
	local p n=0
	# First with --keep: the cgroups it reports must be real, user-owned directories.
	if ! cgt_as_user_in "$CGT_WORK" "$SMOKE" --keep "$DSOCK" >"$CGT_TMP/smoke.out"; then
		fail "client_smoke --keep failed: $(cat "$CGT_TMP/smoke.out")"
		return 1
	fi
	cat "$CGT_TMP/smoke.out"
	for p in $(smoke_paths); do
		n=$((n + 1))
		[ "${p%/*}" = "$CGT_MROOT" ] || fail "client_smoke path $p not directly below the managed root" || return 1
		expect_dir "$p" || return 1
		[ "$(stat -c %u "$p")" = "$CGT_UID" ] || fail "$p not owned by the user" || return 1
	done
	[ "$n" = 2 ] || fail "client_smoke reported $n cgroups, want 2" || return 1
	cgctl_u --socket "$DSOCK" destroy smoke-named
	expect_rc 0 || return 1
	cgctl_u --socket "$DSOCK" destroy "$(awk '$1 == "generated" { print $2 }' "$CGT_TMP/smoke.out")"
	expect_rc 0 || return 1
	# Then the full run: create, list, destroy; nothing may be left.
	if ! cgt_as_user_in "$CGT_WORK" "$SMOKE" "$DSOCK" >"$CGT_TMP/smoke.out"; then
		fail "client_smoke failed (see transcript)"
		return 1
	fi
	cat "$CGT_TMP/smoke.out"
	[ "$(smoke_paths | wc -l)" = 2 ] || fail "client_smoke did not report both cgroups" || return 1
	for p in $(smoke_paths); do
		expect_no_dir "$p" "after client_smoke destroyed it" || return 1
	done
	! cgt_tree | grep -qv '^\./cgctld\.leaf$' || fail "left in the managed root: $(cgt_tree | tr '\n' ' ')" || return 1
}

test_client_env_socket() {
	[ -x "$SMOKE" ] || { skip "client_smoke not built"; return; }
	cgt_daemon_start "" --socket "$CGT_RUN/env.sock" || return 1
	# The library's default comes from $CGCTL_SOCKET when no path is given.
	if ! cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$DSOCK" "$SMOKE" >"$CGT_TMP/smoke.out"; then
		fail "client_smoke with CGCTL_SOCKET failed"
		return 1
	fi
	[ "$(smoke_paths | wc -l)" = 2 ] || fail "client_smoke did not report both cgroups" || return 1
}
