# SPDX-License-Identifier: MIT
# t_hostile2.sh: a client that turns the daemon's own means against it (its process, its state).
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK, DPID... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Attach never moves cgctld itself into an entry: a Freeze of it would wedge
# the daemon (the freeze call never came back, nor did any other client's) and
# a Kill or destroy --kill end it, each from one client call.
test_hostile2_attach_daemon_itself() {
	local cg
	cgt_daemon_up || return 1
	cg=$(cgt_proc_cgroup "$DPID")
	c create box && expect_rc 0 || return 1
	c attach box "$DPID"
	expect_rc 1 "attach of cgctld's own pid" && expect_err PermissionDenied && expect_err "cgctld itself" || return 1
	c attach box "$DPID" --pidfd
	expect_rc 1 "attach of a pidfd of cgctld" && expect_err "cgctld itself" || return 1
	[ "$(cgt_proc_cgroup "$DPID")" = "$cg" ] || fail "cgctld was moved to $(cgt_proc_cgroup "$DPID")" || return 1
	c freeze box && expect_rc 0 && c thaw box && expect_rc 0 || return 1
	c destroy box --kill && expect_rc 0 || return 1
	kill -0 "$DPID" 2>/dev/null || fail "cgctld is gone" || return 1
	c status && expect_rc 0
}
