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
	cgt_tree
	[ -z "${CGT_TREE#./cgctld.leaf}" ] || fail "left in the managed root: ${CGT_TREE//$'\n'/ }" || return 1
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

# --- the client checks the server (SO_PEERCRED) ------------------------------

# True once impostor log $2 has at least $1 connection lines.
impostor_saw() {
	[ "$(grep -c '^conn ' "$2" 2>/dev/null)" -ge "$1" ]
}

test_client_refuses_foreign_server() {
	local shared sock log want conns
	# A shared sticky directory, as /tmp is: anybody may squat a name there.
	shared=$(mktemp -d "$CGT_TMP/shared.XXXXXX") && chmod 1777 "$shared" || return 1
	sock=$shared/cgctl.sock log=$shared/impostor.log
	cgt_impostor_start "$NOBODY_UID" "$NOBODY_GID" "$sock" "$log" || return 1
	[ "$(stat -c %u "$sock")" = "$NOBODY_UID" ] || fail "the impostor's socket is not uid $NOBODY_UID's" || return 1
	chmod 0666 "$sock"
	want="$sock is served by uid $NOBODY_UID, not by you (uid $CGT_UID) or root; refusing to talk to it"
	cgctl_u --socket "$sock" status
	expect_rc 1 "status against a socket another uid serves" || return 1
	[ "$ERR" = "cgctl: $want" ] || fail "stderr is not the refusal: $ERR" || return 1
	cgctl_u --socket "$sock" create x
	expect_rc 1 "create against a socket another uid serves" || return 1
	cgctl_u --socket "$sock" call io.cgctl.Manager.GetStatus
	expect_rc 1 "raw call against a socket another uid serves" || return 1
	# The same through libcgctl, $CGCTL_SOCKET included.
	if [ -x "$SMOKE" ]; then
		cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$sock" "$SMOKE" >"$CGT_TMP/smoke.out" 2>&1 &&
			fail "client_smoke talked to the impostor" || true
		cat "$CGT_TMP/smoke.out"
		cgt_has_text "$CGT_TMP/smoke.out" "FAILED connect: r=-4098 (Socket served by another user): $want" ||
			fail "libcgctl did not refuse with -CGCTL_EUNTRUSTED and the message" || return 1
	fi
	# Root talks to root only, too.
	cgctl_root --socket "$sock" status
	expect_rc 1 "root's status against a socket uid $NOBODY_UID serves" || return 1
	grep -qF "served by uid $NOBODY_UID, not by you (uid 0) or root" <<<"$ERR" || fail "root not refused: $ERR" || return 1
	# Every client connected, and not one byte reached the impostor. The
	# impostor logs a connection once it sees it close: wait for the last one.
	cgt_wait_for 10 impostor_saw 5 "$log" || return 1
	conns=$(grep -c '^conn ' "$log")
	[ "$conns" -ge 5 ] || fail "the impostor saw $conns connections, want 5: $(tr '\n' ' ' <"$log")" || return 1
	! grep -q '^conn [1-9]' "$log" || fail "the impostor received bytes: $(tr '\n' ' ' <"$log")" || return 1
}

test_client_same_user_through_userns() {
	cgt_as_user_in "$CGT_WORK" unshare --user --map-root-user true >/dev/null 2>&1 ||
		{ skip "user namespaces are not available to unprivileged users"; return; }
	cgt_daemon_start "" || return 1
	# podman's hooks run as uid 0 of a rootless user namespace: the daemon's uid is that 0.
	cgt_as_user_in "$CGT_WORK" unshare --user --map-root-user "$CGCTL" --socket "$DSOCK" --json status \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "(unshare -r) cgctl status"
	expect_rc 0 "status from uid 0 of the user's own user namespace" || return 1
	expect_jq ".uid == $CGT_UID" || return 1
	cgt_as_user_in "$CGT_WORK" unshare --user --map-root-user "$CGCTL" --socket "$DSOCK" create ns-made \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "(unshare -r) cgctl create ns-made"
	expect_rc 0 || return 1
	expect_dir ns-made || return 1
	# Unmapped, both we and the daemon are the overflow uid: still the same user.
	cgt_as_user_in "$CGT_WORK" unshare --user "$CGCTL" --socket "$DSOCK" status \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "(unshare -U) cgctl status"
	expect_rc 0 "status from an unmapped user namespace of the same user" || return 1
}
