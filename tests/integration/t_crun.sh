# SPDX-License-Identifier: MIT
# t_crun.sh: cgctl-oci-hook under Debian's crun (in a pure cgroup2 view) and runc's corners the hook must survive.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
# The helpers of t_oci.sh (c, up, need_runc, oci_config, runc_pid, ...) are shared.

# shellcheck source=t_oci.sh
. "$HERE/t_oci.sh"

# A container that ends on its own ends before its poststop runs: the daemon
# has removed its (auto_remove) cgroup by then, and poststop must still remove
# the parent a name "p/ctr" made the hook create. runc here: the name comes from
# the io.cgctl.name annotation (runc 1.1 refuses a cgroupsPath it cannot make).
test_oci_runc_parent_after_exit() {
	need_runc || return
	oci_runc_parent_body
	local rc=$?
	cgt_runc_cleanup
	return "$rc"
}

# The body of test_oci_runc_parent_after_exit.
oci_runc_parent_body() {
	up || return 1
	local id=pe1 b=$CGT_TMP/oci/pe1 pid tmp
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$DSOCK" || fail "cannot write config.json" || return 1
	tmp=$b/config.json.new
	jq '.annotations["io.cgctl.name"] = "ociparent/pe1"' "$b/config.json" >"$tmp" && mv "$tmp" "$b/config.json" &&
		chmod 0644 "$b/config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	expect_rc 0 "runc run -d" || return 1
	pid=$(runc_pid "$id")
	expect_in_cg "$pid" ociparent/pe1 || return 1
	c --json list
	expect_jq '.[] | select(.name == "ociparent") | .labels["oci.parent"] == "true"' || return 1
	# The container ends (its init is killed, as when it exits): the daemon removes its cgroup.
	cgt_runc kill "$id" KILL
	expect_rc 0 "runc kill" || return 1
	runc_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_wait_for 10 test ! -d "$CGT_MROOT/ociparent/pe1" || fail "the daemon did not remove ociparent/pe1" || return 1
	# runc delete runs poststop: the parent goes with its last container.
	cgt_runc delete "$id"
	expect_rc 0 "runc delete" || return 1
	expect_no_dir ociparent "poststop after the container's cgroup was gone left the parent" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	! grep -q 'error:' "$b/hook.log" || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}
