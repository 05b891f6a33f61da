# SPDX-License-Identifier: MIT
# t_crun.sh: cgctl-oci-hook under Debian's crun, podman --runtime crun and runc in a pure cgroup2 view, and runc's corners.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
# The helpers of t_oci.sh (c, up, need_runc, oci_config, runc_pid, ...) are shared.

# shellcheck source=t_oci.sh
. "$HERE/t_oci.sh"

# A container that ends on its own ends before its poststop runs: the daemon
# has removed its (auto_remove) cgroup by then, and poststop must still remove
# the parent a name "p/ctr" made the hook create. runc here: the name comes from
# the io.cgctl.name annotation (runc 1.1 refuses a cgroupsPath it cannot make).
# A parent another container still uses stays (the daemon says Busy).
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
	# A second container below the same parent (the hook by hand, on a sleeper)
	# ends first: its poststop, after the daemon removed its cgroup, leaves the parent to pe1.
	oci_parent_start "$CGT_TMP/oci/pe2" /ociparent/pe2 || return 1
	kill -KILL "$SPID"
	cgt_wait_for 10 test ! -d "$CGT_MROOT/ociparent/pe2" || fail "the daemon did not remove ociparent/pe2" || return 1
	oci_parent_stop "$CGT_TMP/oci/pe2" || return 1
	expect_dir ociparent/pe1 "poststop of pe2" || return 1
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
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}

# --- under crun -----------------------------------------------------------------

# Skip unless crun can run a busybox container here; set HOOK, RUNC (the
# bundle's spec) and CRUN. crun 1.8 refuses hybrid hosts (cgroup2 with any
# controller beside v1), so it runs where /sys/fs/cgroup shows the cgroup2
# mount alone, as on a pure v2 machine (crun_u).
need_crun() {
	need_runc || return
	CRUN=$(command -v crun 2>/dev/null) || { skip "crun not installed (scripts/deps.sh installs it)"; return; }
}

# Run test body $1 under crun (need_crun), then delete every crun container.
crun_test() {
	local rc
	need_crun || return
	"$1"
	rc=$?
	crun_cleanup
	return "$rc"
}

# Run "$@" as the test user from workloads/ in a mount namespace of its own
# where /sys/fs/cgroup is the cgroup2 mount (a no-op on a pure v2 host).
crun_ns() {
	local CGT_AS CGT_ENV
	cgt_as_prefix "" "$CGT_UID" "$CGT_GID" init "$CGT_TIMEOUT"
	cgt_user_env
	# shellcheck disable=SC2016 # expanded by the inner shells
	sh -c 'echo $$ >"$1/cgroup.procs" || exit 125
		m=$2; shift 2
		exec unshare -m --propagation private sh -c "mount --bind \"\$0\" /sys/fs/cgroup && exec \"\$@\"" "$m" "$@"' \
		sh "$CGT_WORK" "$CGT_CG2" "${CGT_AS[@]}" "${CGT_ENV[@]}" "$@"
}

# crun as the test user (crun_ns), its state under the user's runtime dir;
# one extra global option before the command in CRUN_OPTS. Sets RC, OUT, ERR.
cgt_crun() {
	local opts=()
	[ -z "${CRUN_OPTS:-}" ] || opts=("$CRUN_OPTS")
	crun_ns "$CRUN" --root "$CGT_RUN/crun" "${opts[@]}" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "crun ${opts[*]} $*"
}

# Kill and delete every crun container of the test user (tear-down).
crun_cleanup() {
	local id
	[ -d "$CGT_RUN/crun" ] || return 0
	CRUN_OPTS="" cgt_crun list -q >/dev/null
	for id in $OUT; do CRUN_OPTS="" cgt_crun delete --force "$id" >/dev/null; done
	return 0
}

# Pid of crun container $1 (empty when none).
crun_pid() {
	cgt_crun state "$1" >/dev/null
	jq -r '.pid // empty' <<<"$OUT" 2>/dev/null
}

# Wait until crun says container $1 is "stopped".
crun_wait_stopped() {
	local i
	for ((i = 0; i < 100; i++)); do
		cgt_crun state "$1" >/dev/null
		[ "$(jq -r .status <<<"$OUT" 2>/dev/null)" = stopped ] && return 0
		cgt_nap 0.1
	done
	return 1
}

# Bundle $1 for crun: runc's rootless spec, a sleeping busybox, the hook as a
# podman hooks.d file gives it (no stage: crun's state says "created", then
# "stopped"), the socket in its env, then jq filter $2 (default: none; jq
# arguments after it).
crun_bundle() {
	local b=$1 tmp=$1/config.json.new filter=${2:-.}
	shift $(($# < 2 ? $# : 2))
	cgt_oci_bundle "$b" || return 1
	jq "$@" --arg hook "$HOOK" --arg sock "$DSOCK" --arg log "$b/hook.log" '
		def h: {path: $hook, env: ["CGCTL_SOCKET=" + $sock], args: ["cgctl-oci-hook", "--log", $log]};
		.process.terminal = false | .process.args = ["sleep", "300"]
		| .hooks = {createRuntime: [h], poststop: [h]} | '"$filter" "$b/config.json" >"$tmp" &&
		mv "$tmp" "$b/config.json" && chmod 0644 "$b/config.json"
}

# README's crun recipe: --cgroup-manager=disabled, the limits in
# linux.resources and the name from linux.cgroupsPath; the container runs
# in the daemon's cgroup with them, and nothing is left after crun delete.
test_oci_crun_recipe() { crun_test oci_crun_recipe_body; }

# The body of test_oci_crun_recipe.
oci_crun_recipe_body() {
	up || return 1
	local id=cr1 b=$CGT_TMP/oci/cr1 pid CRUN_OPTS=--cgroup-manager=disabled
	crun_bundle "$b" '.linux.cgroupsPath = "/ocimachine/cr1"
		| .linux.resources = {unified: {"cgroup.max.descendants": "3"},
			hugepageLimits: [{pageSize: "2MB", limit: 4194304}]}' || fail "cannot build the bundle" || return 1
	cgt_crun run -d -b "$b" "$id"
	expect_rc 0 "crun run -d" || return 1
	pid=$(crun_pid "$id")
	[ -n "$pid" ] || fail "crun state has no pid" || return 1
	expect_in_cg "$pid" ocimachine/cr1 || return 1
	expect_file ocimachine/cr1/cgroup.max.descendants 3 || return 1
	if have_ctrl hugetlb && [ -e "$CGT_MROOT/ocimachine/cr1/hugetlb.2MB.max" ]; then
		expect_file ocimachine/cr1/hugetlb.2MB.max 4194304 || return 1
	fi
	cgt_crun kill "$id" KILL
	expect_rc 0 "crun kill" || return 1
	crun_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_crun delete "$id"
	expect_rc 0 "crun delete" || return 1
	expect_no_dir ocimachine "crun delete left the container's parent" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}

# crun's own cgroup manager (cgroupfs, rootless) beside the hook: the init ends
# in the daemon's cgroup, crun's "pause" has no cgroup of its own to freeze (it
# says so; cgctl freeze does it), and a container killed from outside, then
# deleted, leaves nothing: not the daemon's cgroup, not one of crun's.
test_oci_crun_own_manager() { crun_test oci_crun_own_manager_body; }

# The body of test_oci_crun_own_manager.
oci_crun_own_manager_body() {
	up || return 1
	local id=cr2 b=$CGT_TMP/oci/cr2 pid before
	before=$(find "$CGT_SCRATCH" -type d | sort)
	crun_bundle "$b" || fail "cannot build the bundle" || return 1
	cgt_crun run -d -b "$b" "$id"
	expect_rc 0 "crun run -d" || return 1
	pid=$(crun_pid "$id")
	[ -n "$pid" ] || fail "crun state has no pid" || return 1
	expect_in_cg "$pid" "oci-$id" || return 1
	cgt_crun pause "$id"
	[ "$RC" != 0 ] || fail "crun pause froze something: which cgroup?" || return 1
	c freeze "oci-$id"
	expect_rc 0 "cgctl freeze" || return 1
	c --json list
	expect_jq '.[] | select(.name == "oci-'"$id"'") | .frozen == true' || return 1
	c thaw "oci-$id"
	expect_rc 0 "cgctl thaw" || return 1
	# The container's init dies from outside (a crash): the daemon removes the cgroup by itself.
	kill -KILL "$pid" || fail "cannot kill $pid" || return 1
	cgt_wait_for 10 test ! -d "$CGT_MROOT/oci-$id" || fail "the daemon did not remove oci-$id" || return 1
	crun_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_crun delete "$id"
	expect_rc 0 "crun delete after the crash" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	[ "$(find "$CGT_SCRATCH" -type d | sort)" = "$before" ] ||
		fail "cgroups left: $(comm -13 <(printf '%s\n' "$before") <(find "$CGT_SCRATCH" -type d | sort) | tr '\n' ' ')" || return 1
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}

# linux.cgroupsPath into the managed root with crun's own manager: crun makes
# that directory itself, before the hook; the hook refuses a cgroup it did not
# make (io.cgctl.name names it), the container does not start, nothing is left.
test_oci_crun_own_cgroup_in_root() { crun_test oci_crun_own_cgroup_body; }

# The body of test_oci_crun_own_cgroup_in_root.
oci_crun_own_cgroup_body() {
	up || return 1
	local id=cs b=$CGT_TMP/oci/cs
	# shellcheck disable=SC2016 # jq's $p
	crun_bundle "$b" '.linux.cgroupsPath = $p | .annotations["io.cgctl.name"] = "cs1"' \
		--arg p "${CGT_MROOT#"$CGT_CG2"}/cs1" || fail "cannot build the bundle" || return 1
	cgt_crun run -d -b "$b" "$id"
	[ "$RC" != 0 ] || fail "crun ran the container in a cgroup cgctld did not make" || return 1
	grep -q 'cgroup "cs1" exists and is not this container'"'"'s (cgctld did not create it)' "$b/hook.log" ||
		fail "the hook did not say why: $(cat "$b/hook.log" 2>&1)" || return 1
	cgt_crun delete -f "$id"
	expect_no_dir cs1 "crun's own cgroup outlived the container" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
}

# --- podman --runtime crun --------------------------------------------------------

# shellcheck source=t_podman.sh
. "$HERE/t_podman.sh"

# Podman as the test user in crun_ns's pure cgroup2 view (its pause process,
# made by the first call, keeps that view for the later ones). Sets RC, OUT, ERR.
pm_v2() {
	crun_ns env HOME="$CGT_PODMAN_HOME" podman --storage-driver vfs "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "podman (v2 view) $*"
}

# README's podman recipe with --runtime crun where cgroup2 is all there is:
# the container's init runs in oci-<id>, conmon stays in the caller's cgroup,
# and nothing is left after a kill -9 of conmon and podman rm -f, nor after a
# "podman run --rm" whose command fails.
test_podman_crun() { pm_test podman_crun_body; }

# The body of test_podman_crun.
podman_crun_body() {
	local opts=(--runtime crun --network=none --annotation io.cgctl.enable=true) pid conmon rc
	command -v crun >/dev/null || { skip "crun not installed (scripts/deps.sh installs it)"; return; }
	cgt_podman_cleanup # a pause process made outside the view
	pm_v2 run -d "${opts[@]}" "$CGT_PODMAN_IMAGE" sleep 60
	expect_rc 0 "podman run --runtime crun" || return 1
	CID=$OUT
	pm_v2 inspect --format '{{.State.Pid}} {{.State.ConmonPid}}' "$CID"
	read -r pid conmon <<<"$OUT"
	[ "$(cgt_proc_cgroup "$pid")" = "$(cgt_cg_relpath "$CGT_MROOT/oci-$CID")" ] ||
		fail "init $pid in $(cgt_proc_cgroup "$pid"), want oci-$CID" || return 1
	[ "$(cgt_proc_cgroup "$conmon")" = "$(cgt_cg_relpath "$CGT_WORK")" ] ||
		fail "conmon $conmon in $(cgt_proc_cgroup "$conmon"), want workloads/" || return 1
	# conmon dies: the container lives on in its cgroup until podman rm -f.
	kill -KILL "$conmon" || fail "cannot kill conmon $conmon" || return 1
	cgt_wait_gone "$conmon" 5
	[ -d "$CGT_MROOT/oci-$CID" ] || fail "oci-$CID went with conmon" || return 1
	pm_v2 rm -f -t 0 "$CID"
	expect_rc 0 "podman rm -f after conmon's kill -9" || return 1
	expect_pm_gone || return 1
	pm_v2 run --rm "${opts[@]}" "$CGT_PODMAN_IMAGE" sh -c 'grep "^0::" /proc/self/cgroup; exit 3'
	rc=$RC
	[ "$rc" = 3 ] || fail "podman run --rm of a failing command: exit $rc, want 3" || return 1
	grep -q "^0::.*/oci-" <<<"$OUT" || fail "the failing container ran outside oci-<id>: $OUT" || return 1
	CID=none
	expect_pm_gone || return 1
	pm_v2 rm -a -f -t 0 >/dev/null
}

# --- runc where cgroup2 is all there is ----------------------------------------------

# runc as the test user in crun_ns's pure cgroup2 view. Sets RC, OUT, ERR.
runc_v2() {
	crun_ns "$RUNC" --root "$CGT_RUN/runc" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "runc (v2 view) $*"
}

# Rootless runc on a pure v2 host makes a cgroup of its own (beside the
# caller's, where the user may write) and puts the init there; the hook then
# moves it into oci-<id>. runc's pause and update then "succeed" on its own
# empty cgroup (as README warns), and runc delete leaves neither cgroup behind.
test_oci_runc_v2_view() {
	need_runc || return
	oci_runc_v2_body
	local rc=$? id
	runc_v2 list -q
	for id in $OUT; do runc_v2 delete --force "$id" >/dev/null; done
	return "$rc"
}

# The body of test_oci_runc_v2_view.
oci_runc_v2_body() {
	up || return 1
	local id=rv2 b=$CGT_TMP/oci/rv2 pid before
	before=$(find "$CGT_SCRATCH" -type d | sort)
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$DSOCK" || fail "cannot write config.json" || return 1
	runc_v2 run -d -b "$b" "$id"
	expect_rc 0 "runc run -d" || return 1
	runc_v2 state "$id"
	pid=$(jq -r '.pid // empty' <<<"$OUT")
	[ -n "$pid" ] || fail "runc state has no pid" || return 1
	expect_in_cg "$pid" "oci-$id" || return 1
	runc_v2 pause "$id"
	c --json list
	expect_jq '.[] | select(.name == "oci-'"$id"'") | .frozen == false' || return 1
	runc_v2 resume "$id"
	# runc update writes into runc's own cgroup too: the container keeps the hook's limit.
	if [ -e "$CGT_MROOT/oci-$id/hugetlb.2MB.max" ]; then
		printf '{"unified": {"hugetlb.2MB.max": "2097152"}}\n' >"$b/update.json" && chmod 0644 "$b/update.json"
		runc_v2 update -r "$b/update.json" "$id"
		expect_file "oci-$id/hugetlb.2MB.max" 6291456 || return 1
	fi
	runc_v2 kill "$id" KILL
	expect_rc 0 "runc kill" || return 1
	cgt_wait_for 10 test ! -d "$CGT_MROOT/oci-$id" || fail "the daemon did not remove oci-$id" || return 1
	runc_v2 delete "$id"
	expect_rc 0 "runc delete" || return 1
	[ "$(find "$CGT_SCRATCH" -type d | sort)" = "$before" ] ||
		fail "cgroups left: $(comm -13 <(printf '%s\n' "$before") <(find "$CGT_SCRATCH" -type d | sort) | tr '\n' ' ')" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}
