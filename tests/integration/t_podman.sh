# SPDX-License-Identifier: MIT
# t_podman.sh: Debian's rootless podman (runc) through the shipped hooks.d file; nothing is left behind.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The README's podman recipe, word for word (test_podman_readme_recipe checks README.md has it).
PODMAN_RECIPE_ARGS=(--runtime runc --network=none
	--annotation io.cgctl.enable=true
	--annotation '"io.cgctl.resources={""pids"":{""limit"":100}}"')

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Podman as the test user from workloads/, its storage in the run's scratch HOME. Sets RC, OUT, ERR.
pm() {
	cgt_podman "$@"
}

# Run the README's recipe detached (extra podman run options in $@ before the
# image, then "--" and the command); set CID to the container's id.
pm_run() {
	local opts=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
	shift
	pm run -d "${opts[@]}" "${PODMAN_RECIPE_ARGS[@]}" "$CGT_PODMAN_IMAGE" "$@"
	CID=$OUT
	expect_rc 0 "podman run" || return 1
	[ -n "$CID" ] || fail "podman run printed no id" || return 1
}

# Set PM_PID to the pid of container $CID's init (empty once it stopped).
pm_pid() {
	pm inspect --format '{{.State.Pid}}' "$CID"
	PM_PID=$OUT
	[ "$PM_PID" != 0 ] || PM_PID=""
}

# While the container runs: its init sits in oci-<id>, a populated daemon entry with the hook's labels.
expect_pm_entry() {
	local pid
	pm_pid
	pid=$PM_PID
	[ -n "$pid" ] || fail "container $CID has no pid" || return 1
	cgt_proc_cgroup_v "$pid"
	cgt_cg_relpath_v "$CGT_MROOT/oci-$CID"
	[ "$CGT_CGROUP" = "$CGT_RELPATH" ] || fail "init $pid in $CGT_CGROUP, want oci-$CID" || return 1
	c --json list
	expect_jq '.[] | select(.name == "oci-'"$CID"'") | .populated == true and .labels["oci.id"] == "'"$CID"'"' ||
		return 1
}

# A running "podman run --rm" container and its entry.
pm_run_entry() {
	pm_run --rm -- sleep 30 && expect_pm_entry
}

# oci-<id> is gone from kernel and ledger (waiting for the daemon's auto_remove up to the timeout).
expect_pm_gone() {
	local i=0
	while [ -d "$CGT_MROOT/oci-$CID" ]; do
		i=$((i + 1))
		[ "$i" -ge $((CGT_TIMEOUT * 10)) ] && { fail "oci-$CID is still in the kernel"; return 1; }
		cgt_nap 0.1
	done
	c --json list
	expect_jq '[.[] | select(.name | startswith("oci-"))] | length == 0' || return 1
	c --json status
	expect_rc 0 "status" || return 1
}

# Run test body $1 with the default daemon and podman ready, then remove
# every container; skip (with the reason) when podman cannot run here.
pm_test() {
	local rc
	cgt_podman_missing # sets CGT_PODMAN_* too
	[ -z "$CGT_WHY" ] || { skip "$CGT_WHY"; return; }
	cgt_daemon_start "" || return 1
	"$1"
	rc=$?
	cgt_podman_cleanup
	return "$rc"
}

test_podman_run_rm() { pm_test pm_run_rm_body; }

# The body of test_podman_run_rm.
pm_run_rm_body() {
	pm_run --rm -- sleep 30 || return 1
	expect_pm_entry || return 1
	# The pids limit is skipped where pids is not delegated: said in the default log, not lost.
	if ! cgt_has_word "$CGT_MROOT/cgroup.subtree_control" pids; then
		grep -q "oci-hook.*$CID.*limits of controller \"pids\" skipped\|$CID: warning: limits of controller \"pids\" skipped" \
			"$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log" ||
			fail "the hook's warning is not in its default log: $(cat "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log" 2>&1)" ||
			return 1
	fi
	pm stop -t 0 "$CID"
	expect_rc 0 "podman stop" || return 1
	expect_pm_gone || return 1
	# poststop found the daemon from inside podman's user namespace: it says nothing went wrong.
	! grep -q "$CID.*error\|$CID.*not running" "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log" ||
		fail "the hook logged trouble: $(cat "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log")" || return 1
}

test_podman_run_then_rm() { pm_test pm_run_then_rm_body; }

# The body of test_podman_run_then_rm.
pm_run_then_rm_body() {
	pm_run -- sleep 30 || return 1
	expect_pm_entry || return 1
	pm rm -f -t 0 "$CID"
	expect_rc 0 "podman rm -f" || return 1
	expect_pm_gone || return 1
	# A short-lived one: gone before anybody looks.
	pm run --rm "${PODMAN_RECIPE_ARGS[@]}" "$CGT_PODMAN_IMAGE" true
	expect_rc 0 "podman run --rm true" || return 1
	CID=none
	expect_pm_gone || return 1
}

test_podman_pod() { pm_test pm_pod_body; }

# The body of test_podman_pod: a pod (its infra container runs catatonit on podman's
# global --runtime: crun, podman's default once installed, refuses hybrid hosts), the
# recipe's container in it, then pod rm -f: nothing left.
pm_pod_body() {
	pm --runtime runc pod create --name cgctl-pod --network=none
	expect_rc 0 "podman pod create" || return 1
	pm_run --pod cgctl-pod -- sleep 30 || return 1
	expect_pm_entry || return 1
	pm pod ps --format '{{.Status}} {{.NumberOfContainers}}'
	[ "$OUT" = "Running 2" ] || fail "pod ps: '$OUT', want 'Running 2' (infra and ours)" || return 1
	pm pod rm -f -t 0 cgctl-pod
	expect_rc 0 "podman pod rm -f" || return 1
	expect_pm_gone || return 1
	[ ! -e "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook-stopped" ] ||
		[ -z "$(ls -A "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook-stopped")" ] ||
		fail "poststop left notes: $(ls "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook-stopped")" || return 1
}

test_podman_kill9() { pm_test pm_kill9_body; }

# The body of test_podman_kill9.
pm_kill9_body() {
	local pid
	pm_run -- sleep 30 || return 1
	expect_pm_entry || return 1
	pm_pid
	pid=$PM_PID
	kill -KILL "$pid" || fail "cannot kill $pid" || return 1
	# Gone once its processes are, podman's clean-up or not.
	expect_pm_gone || return 1
	pm rm -f -t 0 "$CID"
	expect_rc 0 "podman rm after kill -9" || return 1
}

test_podman_daemon_restart() { pm_test pm_daemon_restart_body; }

# The body of test_podman_daemon_restart.
pm_daemon_restart_body() {
	local state=$DSTATE
	pm_run_entry || return 1
	cgt_daemon_stop || fail "cgctld did not stop" || return 1
	# The container stops while nobody listens: poststop cannot reach the daemon.
	pm stop -t 0 "$CID"
	expect_rc 0 "podman stop without cgctld" || return 1
	[ -d "$CGT_MROOT/oci-$CID" ] || fail "oci-$CID vanished without the daemon?" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	expect_pm_gone || return 1
}

# Same, but the daemon dies (kill -9) while the container runs, and comes back before it stops.
test_podman_daemon_kill9() { pm_test pm_daemon_kill9_body; }

# The body of test_podman_daemon_kill9.
pm_daemon_kill9_body() {
	local state=$DSTATE
	pm_run_entry || return 1
	cgt_daemon_kill9 || fail "cgctld did not die" || return 1
	cgt_daemon_start "$CGT_MROOT/cgctld.leaf" --state-dir "$state" || return 1
	expect_pm_entry || return 1
	pm stop -t 0 "$CID"
	expect_rc 0 "podman stop" || return 1
	expect_pm_gone || return 1
}

# podman restarts a container of a --restart policy itself, from "podman
# container cleanup": every run gets its cgroup, and nothing is left after.
test_podman_restart_policy() { pm_test pm_restart_policy_body; }

# The body of test_podman_restart_policy.
pm_restart_policy_body() {
	local i want lines
	# Each run prints its cgroup, lives a moment and fails: podman starts it again.
	pm_run --restart=always -- sh -c 'grep "^0::" /proc/self/cgroup; sleep 0.3; exit 1' || return 1
	for ((i = 0; i < CGT_TIMEOUT * 10; i++)); do
		pm inspect --format '{{.RestartCount}}' "$CID" >/dev/null
		[ "${OUT:-0}" -ge 3 ] 2>/dev/null && break
		cgt_nap 0.1
	done
	[ "${OUT:-0}" -ge 3 ] 2>/dev/null || fail "podman restarted the container ${OUT:-0} times, want 3" || return 1
	pm logs "$CID"
	want="0::$(cgt_cg_relpath "$CGT_MROOT/oci-$CID")"
	lines=$(grep -c '^0::' <<<"$OUT")
	[ "$lines" -ge 3 ] || fail "$lines runs logged their cgroup, want 3 or more" || return 1
	# The restarts too: with --hooks-dir on podman's command line they ran in workloads/.
	! grep '^0::' <<<"$OUT" | grep -vqxF "$want" ||
		fail "a run of the container was not in oci-$CID: $(grep '^0::' <<<"$OUT" | sort | uniq -c | tr '\n' ' ')" || return 1
	# podman's own race: a kill that lands between a run's exit and its restart
	# fails "container not running" (podman 4.3); the next try finds it up or down.
	for ((i = 0; i < 5; i++)); do
		pm rm -f -t 0 "$CID"
		[ "$RC" = 0 ] && break
		grep -q "container not running" <<<"$ERR" || break
		cgt_nap 0.3
	done
	expect_rc 0 "podman rm -f" || return 1
	expect_pm_gone || return 1
	! grep -q "$CID.*error" "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log" ||
		fail "the hook logged trouble: $(cat "$CGT_PODMAN_HOME/.local/state/cgctl/oci-hook.log")" || return 1
}

test_podman_readme_recipe() {
	local readme=$TOP/README.md line
	# The lines of README's podman block that carry the recipe's options.
	line="podman run --rm ${PODMAN_RECIPE_ARGS[*]:0:3} \\"
	grep -qxF "$line" "$readme" || fail "README.md lacks the line: $line" || return 1
	line="    ${PODMAN_RECIPE_ARGS[*]:3:2} \\"
	grep -qxF "$line" "$readme" || fail "README.md lacks the line: $line" || return 1
	line="    ${PODMAN_RECIPE_ARGS[5]} '${PODMAN_RECIPE_ARGS[6]}' \\"
	grep -qxF "$line" "$readme" || fail "README.md lacks the line: $line" || return 1
	! grep -qF -- "podman run --cgroups=disabled" "$readme" || fail "README.md recommends --cgroups=disabled" || return 1
	# The man page's example too.
	grep -qF -- 'podman run \-\-rm \-\-runtime runc \-\-network=none' "$TOP/docs/cgctl-oci-hook.1" ||
		fail "cgctl-oci-hook(1) lacks the podman recipe" || return 1
}
