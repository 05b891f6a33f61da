# SPDX-License-Identifier: MIT
# t_oci.sh: cgctl-oci-hook by hand and under Debian's unmodified rootless runc; the libcgctl runtime example.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Default daemon: in cgctld/, default socket, fresh state dir.
up() { cgt_daemon_start ""; }

# /proc/PID/cgroup form of managed cgroup $1.
cg_of() { cgt_cg_relpath "$CGT_MROOT/$1"; }

# pid $1 sits in managed cgroup $2.
expect_in_cg() {
	cgt_proc_cgroup_v "$1"
	cgt_cg_relpath_v "$CGT_MROOT/$2"
	[ "$CGT_CGROUP" = "$CGT_RELPATH" ] || fail "pid $1 in $CGT_CGROUP, want $CGT_RELPATH"
}

# Kernel file $1 (relative to the managed root) reads $2.
expect_file() {
	local have
	have=$(cat "$CGT_MROOT/$1" 2>&1)
	[ "$have" = "$2" ] || fail "$1 reads '$have', want '$2'"
}

# Whether the managed root hands controller $1 to its children.
have_ctrl() { cgt_has_word "$CGT_MROOT/cgroup.subtree_control" "$1"; }

# Set HOOK to the user's copy of the hook; 1 (with a reason) when not built.
need_hook() {
	cgt_user_bin cgctl-oci-hook || fail "build/cgctl-oci-hook missing (run make)" || return 1
	HOOK=$CGT_USER_BIN
}

# Make bundle directory $1 with config.json = jq filter $2 (extra jq args after it) applied to {}.
mk_bundle() {
	local b=$1 filter=$2
	shift 2
	mkdir -p "$b" && chown "$CGT_UID:$CGT_GID" "$b" || return 1
	if [ "$filter" = . ] && [ "$#" = 0 ]; then
		# The bare bundle: no jq start for it.
		printf '{"ociVersion": "1.0.2"}\n' >"$b/config.json" || return 1
	else
		jq -n "$@" "{ociVersion: \"1.0.2\"} | $filter" >"$b/config.json" || return 1
	fi
	chmod 0644 "$b/config.json"
}

# mk_bundle "$1" '.linux.cgroupsPath = $p' --arg p "$2" without a jq start
# (the race tests make dozens): cgroupsPath $2, escaped by cgt_json_str.
mk_bundle_path() {
	cgt_json_str "$2"
	mkdir -p "$1" && chown "$CGT_UID:$CGT_GID" "$1" || return 1
	printf '{"ociVersion": "1.0.2", "linux": {"cgroupsPath": %s}}\n' "$CGT_JSON" >"$1/config.json" || return 1
	chmod 0644 "$1/config.json"
}

# Write the state of container $1 (pid $2, bundle $3, status $4) to file $5.
mk_state() { cgt_oci_state "$1" "$2" "$3" "$4" >"$5"; }

# Run the hook as the test user from workloads/ with stdin from file $1 and
# the rest as arguments (--socket $DSOCK unless NOSOCK=1). Sets RC, OUT, ERR.
hook() {
	local st=$1
	shift
	[ "${NOSOCK:-0}" = 1 ] || set -- --socket "$DSOCK" "$@"
	cgt_as_user_in "$CGT_WORK" "$HOOK" "$@" <"$st" >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "cgctl-oci-hook $*"
}

# The hook printed nothing at all (bash's own job notices on stderr aside).
expect_quiet() {
	if [ -n "$OUT" ] || grep -q '^cgctl-oci-hook' <<<"$ERR"; then
		fail "hook said something: ${OUT:0:100} ${ERR:0:200}"
	fi
}

# A Resources-heavy linux.resources for the by-hand tests.
RES_FILTER='.linux.resources = {
	memory: {limit: 268435456},
	pids: {limit: 10},
	hugepageLimits: [{pageSize: "2MB", limit: 4194304}],
	unified: {"cgroup.max.descendants": "5"}}'

test_oci_hook_translation() {
	need_hook || return 1
	local b=$CGT_TMP/oci/tr st=$CGT_TMP/oci/tr.state
	mk_bundle "$b" '.annotations = {"io.cgctl.resources": ({pids: {limit: -1}} | tojson)}
	| .linux.resources = {
		memory: {limit: 1073741824, reservation: 536870912, swap: 1610612736, swappiness: 60},
		cpu: {shares: 1024, quota: 50000, period: 100000, cpus: "0-1", mems: "", idle: 1},
		pids: {limit: 100},
		blockIO: {weight: 500,
			throttleReadBpsDevice: [{major: 8, minor: 0, rate: 1048576}],
			throttleWriteIOPSDevice: [{major: 8, minor: 0, rate: 0}, {major: 8, minor: 16, rate: 100}]},
		hugepageLimits: [{pageSize: "2MB", limit: 4194304}, {pageSize: "1GB", limit: 0}],
		unified: {"cgroup.max.descendants": "5", "memory.oom.group": "1"},
		devices: [{allow: false, access: "rwm"}]}' || return 1
	mk_state tr 0 "$b" creating "$st"
	NOSOCK=1 hook "$st" --dry-run
	expect_rc 0 "--dry-run" || return 1
	expect_jq '.name == "oci-tr" and .labels == {"oci.id": "tr", "oci.bundle": "'"$b"'", "oci.derived": "true"}' || return 1
	expect_jq_all '.resources.memory == {max: "1073741824", low: "536870912", swap_max: "536870912"}' \
		'.resources.cpu == {shares: 1024, quota: "50000", period: 100000, idle: true, cpus: "0-1"}' || return 1
	# The annotation overrides linux.resources member by member.
	expect_jq_all '.resources.pids_max == "max"' \
		'.resources.io.weight == 4950 and (.resources.io.max | length) == 2' \
		'.resources.io.max[] | select(.major == 8 and .minor == 0) | . == {major: 8, minor: 0, rbps: "1048576", wiops: "max"}' \
		'.resources.hugetlb == [{pagesize: "2MB", max: "4194304"}, {pagesize: "1GB", max: "0"}]' \
		'.resources.unified == {"cgroup.max.descendants": "5", "memory.oom.group": "1"}' || return 1
	expect_err "memory.swappiness is not supported" || return 1
	# Nothing but the JSON on stdout.
	[ "$(wc -l <<<"$OUT")" = 1 ] || fail "stdout has more than the JSON line" || return 1
	# OCI errors are caught before the daemon is asked.
	mk_bundle "$b" '.linux.resources.memory = {limit: 1000000, swap: 10}' || return 1
	NOSOCK=1 hook "$st" --dry-run
	expect_rc 1 "swap below the memory limit" || return 1
	expect_err "below the memory limit" || return 1
	mk_bundle "$b" '.annotations = {"io.cgctl.resources": "{not json"}' || return 1
	NOSOCK=1 hook "$st" --dry-run
	expect_rc 1 "annotation that is not JSON" || return 1
	expect_err "io.cgctl.resources is not a JSON object" || return 1
}

test_oci_hook_lifecycle() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/b1 st=$CGT_TMP/oci/h1.state stop=$CGT_TMP/oci/h1.stop before
	mk_bundle "$b" "$RES_FILTER" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state h1 "$SPID" "$b" creating "$st"
	mk_state h1 0 "$b" stopped "$stop"
	hook "$st" createRuntime
	expect_rc 0 "createRuntime" || return 1
	expect_dir oci-h1 || return 1
	expect_in_cg "$SPID" oci-h1 || return 1
	expect_file oci-h1/cgroup.max.descendants 5 || return 1
	if have_ctrl hugetlb && [ -e "$CGT_MROOT/oci-h1/hugetlb.2MB.max" ]; then
		expect_file oci-h1/hugetlb.2MB.max 4194304 || return 1
	else
		expect_err 'limits of controller "hugetlb" skipped' || return 1
	fi
	# Controllers the kernel does not give us are skipped with a warning, the rest applied.
	if have_ctrl pids; then
		expect_file oci-h1/pids.max 10 || return 1
	else
		expect_err 'limits of controller "pids" skipped' || return 1
	fi
	if ! have_ctrl memory; then
		expect_err 'limits of controller "memory" skipped' || return 1
	fi
	[ -z "$OUT" ] || fail "createRuntime wrote to stdout: $OUT" || return 1
	c --json list
	expect_jq '.[] | select(.name == "oci-h1") | .labels == {"oci.id": "h1", "oci.bundle": "'"$b"'", "oci.derived": "true"}' || return 1
	# Twice: the same cgroup, the same limits, no error.
	cgt_tree
	before=$CGT_TREE
	hook "$st" createRuntime
	expect_rc 0 "createRuntime again" || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "second createRuntime changed the tree" || return 1
	expect_in_cg "$SPID" oci-h1 || return 1
	# poststop kills and removes it.
	hook "$stop" poststop
	expect_rc 0 "poststop" || return 1
	expect_quiet || return 1
	expect_no_dir oci-h1 || return 1
	cgt_wait_gone "$SPID" || fail "the container's process survived poststop" || return 1
	c --json list
	expect_jq 'map(select(.name == "oci-h1")) | length == 0' || return 1
	# Again, and by the CLI: nothing there, nothing touched, no error.
	cgt_tree
	before=$CGT_TREE
	hook "$stop" poststop
	expect_rc 0 "poststop again" || return 1
	expect_quiet || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "second poststop changed the tree" || return 1
	c destroy oci-h1
	expect_rc 0 "cgctl destroy after poststop" || return 1
}

test_oci_hook_stage_from_status() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/b2 st=$CGT_TMP/oci/s2.state stop=$CGT_TMP/oci/s2.stop
	mk_bundle "$b" '.' || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state s2 "$SPID" "$b" creating "$st"
	mk_state s2 0 "$b" stopped "$stop"
	# poststop of a container that never got a cgroup: nothing to do.
	hook "$stop"
	expect_rc 0 "poststop without createRuntime" || return 1
	expect_quiet || return 1
	# podman's hooks.d passes the same arguments to every stage.
	hook "$st"
	expect_rc 0 "createRuntime from status" || return 1
	expect_in_cg "$SPID" oci-s2 || return 1
	hook "$stop"
	expect_rc 0 "poststop from status" || return 1
	expect_no_dir oci-s2 || return 1
	mk_state s2 1 "$b" running "$st"
	hook "$st"
	expect_rc 1 "status running without a stage" || return 1
	expect_err "cannot tell the stage" || return 1
	hook "$st" startContainer
	expect_rc 2 "unsupported stage" || return 1
}

test_oci_hook_names() {
	need_hook || return 1
	up || return 1
	local d=$CGT_TMP/oci st=$CGT_TMP/oci/n.state stop=$CGT_TMP/oci/n.stop
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	# cgroupsPath, absolute cgroupfs style: the parent is created too.
	mk_bundle_path "$d/n1" "/ocitest/n1" || return 1
	mk_state n1 "$SPID" "$d/n1" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 "cgroupsPath /ocitest/n1" || return 1
	expect_in_cg "$SPID" ocitest/n1 || return 1
	mk_state n1 0 "$d/n1" stopped "$stop"
	hook "$stop" poststop
	expect_rc 0 || return 1
	expect_no_dir ocitest/n1 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	# systemd style slice:prefix:name: the scope's name.
	mk_bundle_path "$d/n2" "user.slice:ocipfx:n2" || return 1
	mk_state n2 "$SPID" "$d/n2" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 "cgroupsPath slice:prefix:name" || return 1
	expect_in_cg "$SPID" ocipfx-n2 || return 1
	# The annotation wins over cgroupsPath.
	mk_bundle "$d/n3" '.linux.cgroupsPath = "ignored" | .annotations = {"io.cgctl.name": "named-n3"}' || return 1
	mk_state n3 "$SPID" "$d/n3" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 "io.cgctl.name" || return 1
	expect_in_cg "$SPID" named-n3 || return 1
	expect_no_dir ignored || return 1
	# Invalid names are refused before the daemon is asked.
	mk_bundle_path "$d/n4" "a/../b" || return 1
	mk_state n4 "$SPID" "$d/n4" creating "$st"
	hook "$st" createRuntime
	expect_rc 1 "cgroupsPath a/../b" || return 1
	expect_err "is invalid" || return 1
	mk_bundle_path "$d/n4" "x:y" || return 1
	hook "$st" createRuntime
	expect_rc 1 "cgroupsPath x:y" || return 1
	expect_err "slice:prefix:name" || return 1
	# Someone else's cgroup of that name is neither used nor removed.
	c create foreign
	expect_rc 0 || return 1
	mk_bundle "$d/n5" '.annotations = {"io.cgctl.name": "foreign"}' || return 1
	mk_state n5 "$SPID" "$d/n5" creating "$st"
	hook "$st" createRuntime
	expect_rc 1 "createRuntime into a foreign cgroup" || return 1
	expect_err "is not this container's" || return 1
	expect_in_cg "$SPID" named-n3 || return 1
	mk_state n5 0 "$d/n5" stopped "$stop"
	hook "$stop" poststop
	expect_rc 0 "poststop next to a foreign cgroup" || return 1
	expect_dir foreign || return 1
	# The same id from another bundle is another container.
	mk_bundle "$d/n6" '.' || return 1
	mk_bundle "$d/n6b" '.' || return 1
	mk_state n6 "$SPID" "$d/n6" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 || return 1
	mk_state n6 "$SPID" "$d/n6b" creating "$st"
	hook "$st" createRuntime
	expect_rc 1 "same id, other bundle" || return 1
	mk_state n6 0 "$d/n6b" stopped "$stop"
	hook "$stop" poststop
	expect_rc 0 || return 1
	expect_dir oci-n6 "poststop of the other bundle removed it" || return 1
}

test_oci_hook_strict_controller() {
	need_hook || return 1
	up || return 1
	local ctrl="" b=$CGT_TMP/oci/sc st=$CGT_TMP/oci/sc.state x
	for x in pids memory cpu io; do
		have_ctrl "$x" || { ctrl=$x; break; }
	done
	[ -n "$ctrl" ] || { skip "pids, memory, cpu and io are all available: nothing to skip"; return; }
	mk_bundle "$b" "$RES_FILTER | .linux.resources.blockIO = {weight: 100} | .linux.resources.cpu = {shares: 512}" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state sc "$SPID" "$b" creating "$st"
	hook "$st" createRuntime --strict
	expect_rc 1 "--strict with controller $ctrl missing" || return 1
	expect_err ControllerUnavailable || return 1
	expect_no_dir oci-sc || return 1
	[ "$(cgt_proc_cgroup "$SPID")" = "$(cgt_cg_relpath "$CGT_WORK")" ] || fail "the process moved" || return 1
	# Without --strict: every missing controller skipped with a warning, the cgroup made.
	hook "$st" createRuntime
	expect_rc 0 "createRuntime with controller $ctrl missing" || return 1
	expect_err "limits of controller \"$ctrl\" skipped" || return 1
	expect_in_cg "$SPID" oci-sc || return 1
	expect_file oci-sc/cgroup.max.descendants 5 || return 1
}

test_oci_hook_missing_file() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/mf st=$CGT_TMP/oci/mf.state
	have_ctrl hugetlb || { skip "no hugetlb controller for managed cgroups"; return; }
	[ ! -e "$CGT_MROOT/hugetlb.64KB.max" ] || { skip "this kernel has 64KB huge pages"; return; }
	# The controller is there, one of its files is not: only that limit is skipped.
	mk_bundle "$b" '.linux.resources.hugepageLimits = [{pageSize: "2MB", limit: 2097152}, {pageSize: "64KB", limit: 65536}]' || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state mf "$SPID" "$b" creating "$st"
	hook "$st" createRuntime --strict
	expect_rc 1 "--strict with hugetlb.64KB.max missing" || return 1
	expect_no_dir oci-mf || return 1
	hook "$st" createRuntime
	expect_rc 0 "createRuntime with hugetlb.64KB.max missing" || return 1
	expect_err "limit resources.hugetlb[1].max skipped" || return 1
	expect_file oci-mf/hugetlb.2MB.max 2097152 || return 1
	expect_in_cg "$SPID" oci-mf || return 1
}

test_oci_hook_no_daemon() {
	need_hook || return 1
	local b=$CGT_TMP/oci/nd st=$CGT_TMP/oci/nd.state stop=$CGT_TMP/oci/nd.stop ro=$CGT_SCRATCH/rootowned
	mk_bundle "$b" "$RES_FILTER" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state nd "$SPID" "$b" creating "$st"
	mk_state nd 0 "$b" stopped "$stop"
	DSOCK=$CGT_RUN/nodaemon.sock
	hook "$st" createRuntime
	expect_rc 0 "createRuntime without a daemon" || return 1
	expect_err "cgctld is not running" || return 1
	[ "$(wc -l <<<"$ERR")" = 1 ] || fail "more than one line on stderr" || return 1
	hook "$st" createRuntime --strict
	expect_rc 1 "--strict without a daemon" || return 1
	expect_err "error: cgctld is not running" || return 1
	# The runtime refuses the container: the message must not say it runs.
	expect_err "strict: the container is not started" || return 1
	! grep -q "runs without a cgroup" <<<"$ERR" || fail "--strict claims the container runs" || return 1
	hook "$stop" poststop
	expect_rc 0 "poststop without a daemon" || return 1
	# It left a note for this socket's next sweep, which never comes: removed
	# (the test user's notes outlive the run).
	local note left=0
	for note in "$CGT_HOME"/.local/state/cgctl/oci-hook-stopped/*.json; do
		[ "$(jq -r .socket "$note" 2>/dev/null)" = "$DSOCK" ] && rm -f "$note" && left=1
	done
	[ "$left" = 1 ] || fail "poststop without a daemon left no note for a later sweep" || return 1
	# CGCTL_SOCKET is honoured (runtimes pass the hook's env only).
	cgt_as_user_in "$CGT_WORK" env CGCTL_SOCKET="$CGT_RUN/other.sock" "$HOOK" createRuntime \
		<"$st" >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "CGCTL_SOCKET=... cgctl-oci-hook"
	expect_rc 0 || return 1
	expect_err "$CGT_RUN/other.sock" || return 1
	# A daemon without delegation: NoDelegation, the same soft failure.
	cgt_mkcg "$ro" root || return 1
	cgt_mkcg "$CGT_SCRATCH/deghome" || return 1
	cgt_daemon_start "$CGT_SCRATCH/deghome" --cgroup-root "$ro" --socket "$CGT_RUN/deg.sock" || return 1
	hook "$st" createRuntime
	expect_rc 0 "createRuntime, daemon without delegation" || return 1
	expect_err "no delegated cgroup subtree" || return 1
	[ "$(wc -l <<<"$ERR")" = 1 ] || fail "more than one line on stderr" || return 1
	hook "$st" createRuntime --strict
	expect_rc 1 "--strict, daemon without delegation" || return 1
	hook "$stop" poststop
	expect_rc 0 "poststop, daemon without delegation" || return 1
	expect_quiet || return 1
	[ -z "$(find "$ro" -mindepth 1 -type d)" ] || fail "something appeared under the root-owned root" || return 1
	[ "$(cgt_proc_cgroup "$SPID")" = "$(cgt_cg_relpath "$CGT_WORK")" ] || fail "the process moved" || return 1
}

# --- under runc ---------------------------------------------------------------

# Skip unless rootless runc can run a busybox container here; set HOOK and RUNC.
need_runc() {
	need_hook || return 1
	cgt_runc_missing # sets RUNC, read by lib.sh's cgt_runc
	[ -z "$CGT_WHY" ] || { skip "$CGT_WHY"; return; }
	cgt_defer cgt_runc_cleanup
}

# Write config.json of bundle $1: process prints its cgroup to /out/cgroup and
# sleeps; hooks with the socket $2 in their env, extra createRuntime args $3
# (words), limits in the io.cgctl.resources annotation (rootless runc refuses
# linux.resources and cgroupsPath when it cannot create cgroups itself).
oci_config() {
	local b=$1 sock=$2 extra=${3:-} log=$1/hook.log tmp
	tmp=$(mktemp "$CGT_TMP/config.XXXXXX") || return 1
	jq --arg hook "$HOOK" --arg sock "$sock" --arg log "$log" --arg out "$b/out" --arg extra "$extra" '
		def h($stage): {path: $hook, env: ["CGCTL_SOCKET=" + $sock],
			args: (["cgctl-oci-hook", $stage, "--log", $log] + ($extra | split(" ") | map(select(. != ""))))};
		.process.terminal = false
		| .process.args = ["sh", "-c", "cat /proc/self/cgroup > /out/cgroup; exec sleep 300"]
		| .mounts += [{destination: "/out", type: "bind", source: $out, options: ["rbind", "rw"]}]
		| .annotations = {"io.cgctl.resources": ({
			pids: {limit: 20},
			hugepageLimits: [{pageSize: "2MB", limit: 6291456}],
			unified: {"cgroup.max.descendants": "5"}} | tojson)}
		| .hooks = {createRuntime: [h("createRuntime"), h("createRuntime")],
			poststop: [(h("poststop") | .args -= ["--strict"])]}' \
		"$b/config.json" >"$tmp" || return 1
	mv "$tmp" "$b/config.json" && chmod 0644 "$b/config.json" && chown "$CGT_UID:$CGT_GID" "$b/config.json"
	mkdir -p "$b/out" && chown "$CGT_UID:$CGT_GID" "$b/out"
}

# Pid of runc container $1 (empty when none).
runc_pid() {
	cgt_runc state "$1" >/dev/null
	jq -r '.pid // empty' <<<"$OUT" 2>/dev/null
}

# Wait until runc says container $1 is "stopped".
runc_wait_stopped() {
	local i=0
	while :; do
		cgt_runc state "$1" >/dev/null
		[ "$(jq -r .status <<<"$OUT" 2>/dev/null)" = stopped ] && return 0
		i=$((i + 1))
		[ "$i" -ge 100 ] && return 1
		cgt_nap 0.1
	done
}

test_oci_runc() {
	need_runc || return
	oci_runc_body
	local rc=$?
	cgt_runc_cleanup
	return "$rc"
}

# The body of test_oci_runc (the caller deletes every container, whatever happens).
oci_runc_body() {
	up || return 1
	local id=ctr1 b=$CGT_TMP/oci/ctr1 pid before stop=$CGT_TMP/oci/ctr1.stop
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$DSOCK" || fail "cannot write config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	expect_rc 0 "runc run -d" || return 1
	pid=$(runc_pid "$id")
	[ -n "$pid" ] || fail "runc state has no pid" || return 1
	# The init (runc's container process) sits in the cgroup cgctld made, from its first instruction on.
	expect_in_cg "$pid" "oci-$id" || return 1
	cgt_wait_file "$b/out/cgroup" || fail "the container did not write /out/cgroup" || return 1
	cgt_has_line "$b/out/cgroup" "0::$(cg_of "oci-$id")" ||
		fail "container sees $(grep '^0::' "$b/out/cgroup"), want $(cg_of "oci-$id")" || return 1
	expect_file "oci-$id/cgroup.max.descendants" 5 || return 1
	if have_ctrl hugetlb && [ -e "$CGT_MROOT/oci-$id/hugetlb.2MB.max" ]; then
		expect_file "oci-$id/hugetlb.2MB.max" 6291456 || return 1
	fi
	if have_ctrl pids; then
		expect_file "oci-$id/pids.max" 20 || return 1
	else
		cgt_has_text "$b/hook.log" 'warning: limits of controller "pids" skipped' ||
			fail "hook log lacks the pids warning: $(cat "$b/hook.log" 2>&1)" || return 1
	fi
	# The createRuntime hook ran twice; the second found its own cgroup.
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
	c --json list
	expect_jq '.[] | select(.name == "oci-'"$id"'") | .populated == true and .labels["oci.id"] == "'"$id"'"' || return 1
	# runc kill + delete: poststop removes cgroup and ledger entry.
	cgt_runc kill "$id" KILL
	expect_rc 0 "runc kill" || return 1
	runc_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_runc delete "$id"
	expect_rc 0 "runc delete" || return 1
	expect_no_dir "oci-$id" || return 1
	c --json list
	expect_jq 'map(select(.name == "oci-'"$id"'")) | length == 0' || return 1
	# The seed scenario: no cgroupsPath, destroyed twice, never an error.
	cgt_tree
	before=$CGT_TREE
	mk_state "$id" 0 "$b" stopped "$stop"
	hook "$stop" poststop
	expect_rc 0 "poststop again by hand" || return 1
	expect_quiet || return 1
	c destroy "oci-$id"
	expect_rc 0 "cgctl destroy after runc delete" || return 1
	cgt_tree
	[ "$CGT_TREE" = "$before" ] || fail "something changed after the container was gone" || return 1
}

# runc takes a container id of any length: one too long for "oci-<id>" (128
# bytes a name component) gets a cut name told apart by a hash, and the
# container starts in it (the hook refused it before, and runc with it).
test_oci_runc_long_id() {
	need_runc || return
	up || return 1
	local id b pid name
	id=long-$(printf '0123456789%.0s' $(seq 1 20))
	b=$CGT_TMP/oci/long
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$DSOCK" || fail "cannot write config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	expect_rc 0 "runc run -d with a ${#id}-byte id" || return 1
	c --json list
	name=$(jq -r --arg id "$id" '.[] | select(.labels["oci.id"] == $id) | .name' <<<"$OUT")
	[ "${name:0:100}" = "oci-${id:0:96}" ] && [ "${#name}" -le 128 ] ||
		fail "the container's cgroup is '$name', want oci- and the id's first 96 bytes" || return 1
	pid=$(runc_pid "$id")
	expect_in_cg "$pid" "$name" || return 1
	cgt_runc kill "$id" KILL
	runc_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_runc delete "$id"
	expect_rc 0 "runc delete" || return 1
	expect_no_dir "$name" || return 1
	! cgt_has_text "$b/hook.log" 'error:' || fail "hook log has errors: $(cat "$b/hook.log")" || return 1
}

test_oci_runc_without_daemon() {
	need_runc || return
	oci_runc_nodaemon_body
	local rc=$?
	cgt_runc_cleanup
	return "$rc"
}

# The body of test_oci_runc_without_daemon.
oci_runc_nodaemon_body() {
	local id=ctr2 b=$CGT_TMP/oci/ctr2 pid sock
	# A daemon that stopped (its socket gone or refusing).
	cgt_daemon_start "" || return 1
	sock=$DSOCK
	cgt_daemon_stop || fail "cgctld did not stop" || return 1
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$sock" || fail "cannot write config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	expect_rc 0 "runc run -d without cgctld" || return 1
	grep -q "warning: cgctld is not running ($sock" "$b/hook.log" ||
		fail "hook log lacks the warning: $(cat "$b/hook.log" 2>&1)" || return 1
	pid=$(runc_pid "$id")
	[ -n "$pid" ] || fail "runc state has no pid" || return 1
	cgt_wait_file "$b/out/cgroup" || fail "the container did not run" || return 1
	[ "$(cgt_proc_cgroup "$pid")" = "$(cgt_cg_relpath "$CGT_WORK")" ] ||
		fail "init in $(cgt_proc_cgroup "$pid"), want runc's own cgroup" || return 1
	cgt_runc kill "$id" KILL
	runc_wait_stopped "$id" || fail "container did not stop" || return 1
	cgt_runc delete "$id"
	expect_rc 0 "runc delete without cgctld" || return 1
	# --strict: the container does not start, and runc cleans up after it.
	# This time the daemon died (kill -9): a stale socket that refuses connections.
	# (Restarted in its leaf: its cgroup enables controllers now, and takes no processes.)
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" || return 1
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	id=ctr3 b=$CGT_TMP/oci/ctr3
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	oci_config "$b" "$sock" --strict || fail "cannot write config.json" || return 1
	cgt_runc run -d -b "$b" "$id"
	[ "$RC" != 0 ] || fail "runc run succeeded with a --strict hook and no daemon" || return 1
	expect_err "cgctld is not running" || return 1
	cgt_runc list -q
	! cgt_text_has_line "$OUT" "$id" || fail "runc kept the failed container" || return 1
}

test_oci_hook_foreign_server() {
	need_hook || return 1
	local b=$CGT_TMP/oci/fs st=$CGT_TMP/oci/fs.state shared log
	mk_bundle "$b" "$RES_FILTER" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state fs "$SPID" "$b" creating "$st"
	shared=$(mktemp -d "$CGT_TMP/shared.XXXXXX") && chmod 1777 "$shared" || return 1
	DSOCK=$shared/cgctl.sock log=$shared/impostor.log
	cgt_impostor_start "$NOBODY_UID" "$NOBODY_GID" "$DSOCK" "$log" || return 1
	chmod 0666 "$DSOCK"
	# Somebody else's socket is as good as no daemon: a warning that says who, and no cgroup.
	hook "$st" createRuntime
	expect_rc 0 "createRuntime against another uid's socket" || return 1
	expect_err "warning: $DSOCK is served by uid $NOBODY_UID, not by you (uid $CGT_UID) or root; refusing to talk to it; the container runs without a cgroup of its own" || return 1
	hook "$st" createRuntime --strict
	expect_rc 1 "--strict against another uid's socket" || return 1
	expect_err "error: $DSOCK is served by uid $NOBODY_UID" || return 1
	[ "$(grep -c '^conn ' "$log")" = 2 ] || fail "the impostor saw $(grep -c '^conn ' "$log") connections, want 2" || return 1
	! grep -q '^conn [1-9]' "$log" || fail "the impostor received bytes: $(tr '\n' ' ' <"$log")" || return 1
}

# --- libcgctl for runtime authors ----------------------------------------------

test_oci_example_runtime() {
	local ex name=exrt
	cgt_user_bin examples/runtime || { skip "examples not built (make examples)"; return; }
	ex=$CGT_USER_BIN
	up || return 1
	cgt_as_user_in "$CGT_WORK" "$ex" --socket "$DSOCK" "$name" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "examples/runtime $name"
	expect_rc 0 "examples/runtime" || return 1
	cgt_text_has_line "$OUT" "created $name" || fail "no 'created $name'" || return 1
	cgt_text_has_line "$OUT" "init cgroup $(cg_of "$name")" || fail "the init did not start in $name" || return 1
	cgt_text_has_line "$OUT" "frozen 1" || fail "not frozen" || return 1
	cgt_text_has_line "$OUT" "thawed, frozen 0" || fail "not thawed" || return 1
	grep -qx "destroyed $name (existed 1)" <<<"$OUT" || fail "not destroyed" || return 1
	cgt_text_has_line "$OUT" "init killed by signal 9" || fail "the init was not killed" || return 1
	expect_no_dir "$name" || return 1
}

# --- cleanup that does not need poststop; diagnostics ---------------------------

test_oci_hook_auto_remove() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/ar st=$CGT_TMP/oci/ar.state state=$DSTATE
	mk_bundle "$b" '.' || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state ar "$SPID" "$b" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 "createRuntime" || return 1
	expect_in_cg "$SPID" oci-ar || return 1
	# The daemon dies at once, the container's process ends while it is away: no poststop.
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	kill -KILL "$SPID"
	cgt_wait_gone "$SPID" || fail "the sleeper survived" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	local i=0
	while [ -d "$CGT_MROOT/oci-ar" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	expect_no_dir oci-ar "the daemon kept the emptied container cgroup" || return 1
	c --json list
	expect_jq 'length == 0' || return 1
	# While it runs, the same without a restart.
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state ar "$SPID" "$b" creating "$st"
	hook "$st" createRuntime
	expect_rc 0 "createRuntime again" || return 1
	kill -KILL "$SPID"
	i=0
	while [ -d "$CGT_MROOT/oci-ar" ] && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	expect_no_dir oci-ar "the daemon kept the emptied container cgroup" || return 1
}

test_oci_hook_gc() {
	need_hook || return 1
	up || return 1
	local b=/oci/gc
	# Empty and the hook's: swept. Populated, unlabelled, or too young: kept.
	c create --label oci.id=gone --label oci.bundle=$b oci-gone
	expect_rc 0 || return 1
	c create --label oci.id=busy --label oci.bundle=$b oci-busy
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	c attach oci-busy "$SPID"
	expect_rc 0 || return 1
	c create --label owner=me oci-mine
	expect_rc 0 || return 1
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc"
	expect_rc 0 "--gc" || return 1
	[ -z "$OUT" ] || fail "--gc removed a young entry: $OUT" || return 1
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc --gc-age 0 >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc --gc-age 0"
	expect_rc 0 "--gc --gc-age 0" || return 1
	[ "$OUT" = "removed oci-gone" ] || fail "--gc said '$OUT', want 'removed oci-gone'" || return 1
	expect_no_dir oci-gone || return 1
	expect_dir oci-busy || return 1
	expect_dir oci-mine || return 1
	expect_in_cg "$SPID" oci-busy || return 1
	cgt_as_user_in "$CGT_WORK" "$HOOK" --gc createRuntime >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc createRuntime"
	expect_rc 2 "--gc with a stage" || return 1
}

# One container of bundle dir $1 (id ${1##*/}, linux.cgroupsPath $2) started on a new sleeper.
oci_parent_start() {
	mk_bundle_path "$1" "$2" || return 1
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state "${1##*/}" "$SPID" "$1" creating "$CGT_TMP/oci/p.state"
	hook "$CGT_TMP/oci/p.state" createRuntime
	expect_rc 0 "createRuntime of ${1##*/} in $2" || return 1
}

# poststop of the container of bundle dir $1.
oci_parent_stop() {
	mk_state "${1##*/}" 0 "$1" stopped "$CGT_TMP/oci/p.stop"
	hook "$CGT_TMP/oci/p.stop" poststop
	expect_rc 0 "poststop of ${1##*/}" || return 1
}

# The parents a cgroupfs-style cgroupsPath made the hook create go with the
# last container below them (poststop, or --gc after a missed one); a parent
# the user made, or one still holding a container, stays.
test_oci_hook_parent_not_left() {
	need_hook || return 1
	up || return 1
	local d=$CGT_TMP/oci
	oci_parent_start "$d/p1" /ocishared/p1 && oci_parent_start "$d/p2" /ocishared/deep/p2 || return 1
	oci_parent_stop "$d/p1" || return 1
	expect_dir ocishared/deep/p2 "poststop of p1" || return 1
	oci_parent_stop "$d/p2" || return 1
	expect_no_dir ocishared "the parents outlived their last container" || return 1
	c create mine
	expect_rc 0 || return 1
	oci_parent_start "$d/p3" /mine/p3 && oci_parent_stop "$d/p3" || return 1
	expect_dir mine "a parent the user made" || return 1
	# No poststop: the container ends, the daemon collects it, --gc the parent.
	oci_parent_start "$d/p4" /ocigc/p4 || return 1
	kill -KILL "$SPID"
	cgt_wait_for 10 test ! -d "$CGT_MROOT/ocigc/p4" || return 1
	cgt_as_user_in "$CGT_WORK" "$HOOK" --socket "$DSOCK" --gc --gc-age 0 >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl-oci-hook --gc --gc-age 0"
	expect_rc 0 "--gc" || return 1
	expect_no_dir ocigc "--gc left the parent of a collected container" || return 1
	c --json list
	expect_jq '[.[].name] == ["mine"]' || return 1
}

# cgctl hook-log with --json, as the CLI's file $2 (a scratch XDG_STATE_HOME $1, no daemon): sets RC, OUT, ERR.
hooklog_json() {
	local state=$1
	shift
	cgt_as_user_in "$CGT_WORK" env XDG_STATE_HOME="$state" "$CGCTL" "$@" >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "XDG_STATE_HOME=$state cgctl $*"
}

# --json holds for hook-log too: a JSON array of the lines, [] without a log.
test_oci_hook_log_json() {
	local state=$CGT_TMP/hlstate
	install -d -m 0700 -o "$CGT_UID" -g "$CGT_GID" "$state" "$state/cgctl" || return 1
	hooklog_json "$state" --json hook-log
	expect_rc 0 "hook-log --json without a log" || return 1
	[ -n "$OUT" ] || fail "hook-log --json without a log printed nothing" || return 1
	expect_jq '. == []' || return 1
	printf '%s\n' 'one' 'two "quoted" \ back' 'three' >"$state/cgctl/oci-hook.log"
	chown "$CGT_UID:$CGT_GID" "$state/cgctl/oci-hook.log"
	hooklog_json "$state" --json hook-log -n 2
	expect_rc 0 "--json hook-log -n 2" || return 1
	expect_jq '. == ["two \"quoted\" \\ back", "three"]' || return 1
	hooklog_json "$state" hook-log --json
	expect_jq '. == ["one", "two \"quoted\" \\ back", "three"]' || return 1
	hooklog_json "$state" hook-log -n 1
	[ "$OUT" = three ] || fail "hook-log -n 1 printed '$OUT'" || return 1
}

test_oci_hook_diagnostics() {
	need_hook || return 1
	up || return 1
	local b=$CGT_TMP/oci/dg st=$CGT_TMP/oci/dg.state ctrl="" x log
	log=$CGT_HOME/.local/state/cgctl/oci-hook.log
	for x in memory pids cpu io; do
		have_ctrl "$x" || { ctrl=$x; break; }
	done
	[ -n "$ctrl" ] || { skip "memory, pids, cpu and io are all available: nothing to report"; return; }
	mk_bundle "$b" "$RES_FILTER | .linux.resources.blockIO = {weight: 100} | .linux.resources.cpu = {shares: 512}" || return 1
	mk_state dg 0 "$b" creating "$st"
	# --dry-run says which controllers the daemon lacks.
	hook "$st" --dry-run createRuntime
	expect_rc 0 "--dry-run" || return 1
	expect_jq '.unavailable | index("'"$ctrl"'") != null' || return 1
	expect_err "controller \"$ctrl\" is not available" || return 1
	# Without a daemon it says it cannot tell.
	DSOCK=$CGT_RUN/nodaemon.sock hook "$st" --dry-run createRuntime
	expect_rc 0 "--dry-run without a daemon" || return 1
	expect_err "cannot tell which controllers are available" || return 1
	expect_jq 'has("unavailable") | not' || return 1
	# A successful hook's warnings reach the default log file without --log.
	cgt_sleeper "$CGT_WORK" || fail "cannot start a sleeper" || return 1
	mk_state dg "$SPID" "$b" creating "$st"
	rm -f "$log"
	hook "$st" createRuntime
	expect_rc 0 "createRuntime" || return 1
	grep -q "dg: warning: limits of controller \"$ctrl\" skipped" "$log" ||
		fail "the default log lacks the warning: $(cat "$log" 2>&1)" || return 1
	# cgctl hook-log shows it, no daemon needed.
	cgctl_u hook-log -n 50
	expect_rc 0 "cgctl hook-log" || return 1
	grep -q "dg: warning: limits of controller \"$ctrl\" skipped" <<<"$OUT" ||
		fail "cgctl hook-log lacks the warning" || return 1
	# For poststop: where createRuntime found the daemon and its log.
	jq -e --arg s "$DSOCK" --arg l "$log" '.socket == $s and .log == $l' "$b/.cgctl-oci-hook.json" >/dev/null ||
		fail "bad record: $(cat "$b/.cgctl-oci-hook.json" 2>&1)" || return 1
	mk_state dg 0 "$b" stopped "$st"
	NOSOCK=1 hook "$st" poststop
	expect_rc 0 "poststop with the record only" || return 1
	expect_no_dir oci-dg || return 1
	[ ! -e "$b/.cgctl-oci-hook.json" ] || fail "poststop left the record" || return 1
}

test_oci_readme_runc_recipe() {
	need_runc || return
	up || return 1
	local b=$CGT_TMP/oci/rd recipe=$CGT_TMP/recipe.sh pid
	# The lines of README.md's runc block up to the config.json rewrite, as they are.
	awk '/^runc spec --rootless$/ { on = 1 } on { print } on && /mv config.json.new config.json$/ { exit }' \
		"$TOP/README.md" >"$recipe"
	cgt_has_text "$recipe" cgctl-oci-hook || fail "no runc recipe in README.md" || return 1
	cgt_oci_bundle "$b" || fail "cannot build the bundle" || return 1
	rm -f "$b/config.json"
	chmod a+r "$recipe"
	cgt_as_user_in "$CGT_WORK" env PATH="$CGT_TMP/bin:${RUNC%/*}:/usr/bin:/bin" sh -ec 'cd "$1"; . "$2"' sh "$b" "$recipe" \
		>"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "README's runc recipe"
	expect_rc 0 "README's runc recipe" || return 1
	# Detached, no terminal: the rest is the test's, not the recipe's.
	jq '.process.terminal = false | .process.args = ["sleep", "30"]' "$b/config.json" >"$b/c.new" &&
		mv "$b/c.new" "$b/config.json" && chmod 0644 "$b/config.json" || return 1
	cgt_runc run -d -b "$b" rd1
	expect_rc 0 "runc run -d" || return 1
	pid=$(runc_pid rd1)
	expect_in_cg "$pid" oci-rd1 || return 1
	cgt_runc kill rd1 KILL
	runc_wait_stopped rd1 || fail "container did not stop" || return 1
	cgt_runc delete rd1
	expect_rc 0 "runc delete" || return 1
	expect_no_dir oci-rd1 || return 1
}
