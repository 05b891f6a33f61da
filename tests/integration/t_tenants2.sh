# SPDX-License-Identifier: MIT
# t_tenants2.sh: tenants beside root's OCI hook (it uses only root's entries), and what a tenant may set nowhere.
# shellcheck shell=bash disable=SC2153 # CGCTL, BUILD, DSOCK... are lib.sh's and t_tenants.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
# The root daemon with two tenants, t1/t2/adm and the sleepers come from t_tenants.sh.

# shellcheck source=t_tenants.sh
. "$HERE/t_tenants.sh"

# Bundle $1 (container id ${1##*/}) of root's, with linux.cgroupsPath $2 (no jq start).
th_bundle() {
	cgt_json_str "$2"
	mkdir -p "$1" && printf '{"ociVersion": "1.0.2", "linux": {"cgroupsPath": %s}}\n' "$CGT_JSON" >"$1/config.json"
}

# Root's hook, stage $1, for the container of bundle $2 with init pid $3; sets RC, OUT, ERR.
th_hook() {
	local b=$2
	cgt_oci_state "${b##*/}" "$3" "$b" "$([ "$1" = poststop ] && echo stopped || echo creating)" >"$CGT_TMP/th.state"
	timeout -k 2 "$CGT_TIMEOUT" "$BUILD/cgctl-oci-hook" --socket "$DSOCK" --log "$CGT_TMP/th.log" "$1" \
		<"$CGT_TMP/th.state" >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "(root) cgctl-oci-hook $1 (${b##*/})"
}

# A tenant that takes a container's name first, with its oci.id and oci.bundle
# labels (both public: runc's command line shows them), must not receive root's
# container init: it could kill or freeze it through its own entry. The same
# for a parent of a cgroupfs-style path that a tenant made and labelled
# oci.parent=true: root's container would live inside the tenant's entry.
# And root's poststop and --gc remove none of a tenant's entries.
test_tenants2_hook_adopts_only_roots() {
	local d=$CGT_TMP/thb rp tp
	[ -x "$BUILD/cgctl-oci-hook" ] || { fail "build/cgctl-oci-hook missing (run make)"; return 1; }
	tn_up || return 1
	th_bundle "$d/rc1" /rc1 && th_bundle "$d/rc2" /par/rc2 || return 1
	t1 create rc1 --label oci.id=rc1 --label "oci.bundle=$d/rc1" && expect_rc 0 || return 1
	t1 create par --label oci.parent=true && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" 0 0 || return 1
	rp=$SPID
	th_hook createRuntime "$d/rc1" "$rp"
	[ "$RC" != 0 ] || fail "root's hook used tenant 1's rc1 for root's container" || return 1
	expect_in "$rp" "$CGT_WORK" || return 1
	th_hook createRuntime "$d/rc2" "$rp"
	[ "$RC" != 0 ] || fail "root's hook put root's container below tenant 1's par" || return 1
	expect_in "$rp" "$CGT_WORK" || return 1
	[ ! -d "$TN_ROOT/par/rc2" ] || fail "root's hook made par/rc2 inside tenant 1's entry" || return 1
	# Tenant 1's kill of its own entries reaches no root process.
	t1 kill rc1 && expect_rc 0 && t1 kill par && expect_rc 0 || return 1
	cgt_nap 0.2
	expect_in "$rp" "$CGT_WORK" || return 1
	# Root's poststop of rc1 and --gc leave tenant 1's entries, and its process, alone.
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	tp=$SPID
	t1 attach rc1 "$tp" && expect_rc 0 || return 1
	th_hook poststop "$d/rc1" 0
	expect_in "$tp" "$TN_ROOT/rc1" || return 1
	timeout -k 2 "$CGT_TIMEOUT" "$BUILD/cgctl-oci-hook" --socket "$DSOCK" --log "$CGT_TMP/th.log" --gc --gc-age 0 \
		</dev/null >"$CGT_TMP/out" 2>"$CGT_TMP/err"
	cgt_collect "(root) cgctl-oci-hook --gc --gc-age 0"
	t1 --json list && expect_rc 0 && expect_jq '[.[].name] == ["par", "rc1"]' || return 1
	# Root's own containers still work: a fresh name, and a parent the hook makes for root.
	th_bundle "$d/rc3" /rpar/rc3 || return 1
	th_hook createRuntime "$d/rc3" "$rp"
	expect_rc 0 "root's createRuntime of rc3" || return 1
	expect_in "$rp" "$TN_ROOT/rpar/rc3" || return 1
	th_hook poststop "$d/rc3" 0
	expect_rc 0 "root's poststop of rc3" || return 1
	[ ! -d "$TN_ROOT/rpar" ] || fail "root's poststop left its own parent rpar"
}

# io.prio.class promote-to-rt (or none-to-rt) makes a cgroup's I/O real-time,
# above every other cgroup's wherever it sits (ioprio_set(2) grants that class
# only to privileged processes): refused to a tenant at any depth, even below
# its own entry; the policies that never raise a class stay allowed; root decides.
test_tenants2_io_prio_class() {
	local v
	tn_up || return 1
	t1 create box && t1 create box/in && expect_rc 0 || return 1
	for v in promote-to-rt none-to-rt rt; do
		t1 call SetResources "{\"name\":\"box\",\"resources\":{\"unified\":{\"io.prio.class\":\"$v\"}}}" &&
			expect_rc 1 "io.prio.class=$v on box" && expect_err PermissionDenied && expect_err io.prio.class || return 1
		t1 call SetResources "{\"name\":\"box/in\",\"resources\":{\"unified\":{\"io.prio.class\":\"$v\"}}}" &&
			expect_rc 1 "io.prio.class=$v below its own entry" && expect_err PermissionDenied || return 1
	done
	t2 call Create '{"name":"rt","resources":{"unified":{"io.prio.class":"promote-to-rt"}}}' &&
		expect_rc 1 && expect_err PermissionDenied || return 1
	[ ! -d "$TN_ROOT/rt" ] || fail "tenant 2's refused rt was made" || return 1
	for v in no-change restrict-to-be idle; do
		t1 call SetResources "{\"name\":\"box/in\",\"resources\":{\"unified\":{\"io.prio.class\":\"$v\"}}}" &&
			expect_not_denied "io.prio.class=$v" || return 1
	done
	adm call SetResources '{"name":"box","resources":{"unified":{"io.prio.class":"promote-to-rt"}}}' &&
		expect_not_denied "root setting io.prio.class"
}

# Pids are read in cgctld's pid namespace. A client in a pid namespace of its
# own (a container) names its own processes with numbers that are other
# processes to the daemon: root in such a namespace asking for its sleeper
# (made to get the number of a host process with ns_last_pid) moved that host
# process instead. Such a client is refused integer pids (pidfds carry the
# process itself); a pidfd from there still works.
test_tenants2_attach_pids_of_another_pid_namespace() {
	local v out=$CGT_TMP/pidns
	tn_up || return 1
	adm create box && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" 0 0 || return 1
	v=$SPID
	# shellcheck disable=SC2016 # for the inner shell
	timeout -k 2 "$CGT_TIMEOUT" unshare --pid --fork --mount-proc sh -c '
		echo $(($1 - 1)) >/proc/sys/kernel/ns_last_pid || exit 125
		sleep 300 & p=$!
		echo "inner sleeper: pid $p here"
		"$2" --socket "$3" attach box "$p"; echo "attach by pid: $?"
		"$2" --socket "$3" attach box "$p" --pidfd; echo "attach by pidfd: $?"
		grep -c . "$4/cgroup.procs"
		kill $p' sh "$v" "$CGCTL" "$DSOCK" "$TN_ROOT/box" </dev/null >"$out" 2>&1
	cat "$out"
	expect_in "$v" "$CGT_WORK" || return 1
	grep -q "^inner sleeper: pid $v here" "$out" || fail "the inner sleeper did not get pid $v: $(head -n 1 "$out")" || return 1
	grep -q '^attach by pid: 1' "$out" || fail "attach by pid from another pid namespace was not refused" || return 1
	grep -q 'InvalidValue.*pid namespace' "$out" || fail "the refusal does not say why" || return 1
	grep -q '^attach by pidfd: 0' "$out" || fail "attach by pidfd from another pid namespace failed" || return 1
}

# The same, when the process that connected is gone and its child, which
# inherited the socket, asks: cgctld read the connecting pid's namespace at
# each Attach, and took a pid that no longer exists for one of its own
# namespace, so the child's numbers were read as ours. The peer's namespace
# is now read once, at accept, through SO_PEERPIDFD.
test_tenants2_attach_pids_connecting_process_gone() {
	local v out=$CGT_TMP/pidns-gone
	tn_up || return 1
	adm create box && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" 0 0 || return 1
	v=$SPID
	cat >"$CGT_TMP/gone.py" <<'PY'
import os, sys, time
sys.path.insert(0, sys.argv[3])
from hostile import Conn
sock, want = sys.argv[1], int(sys.argv[2])
with open("/proc/sys/kernel/ns_last_pid", "w") as f:
    f.write(str(want - 1))
sleeper = os.fork()
if sleeper == 0:
    os.execvp("sleep", ["sleep", "300"])
print("inner sleeper: pid %d here" % sleeper, flush=True)
c = Conn(sock)
if os.fork() == 0:
    # The process that connected is gone, and reaped, before the first call.
    while os.getppid() != 1:
        time.sleep(0.01)
    time.sleep(0.1)
    try:
        r = c.call("io.cgctl.Manager.Attach", {"name": "box", "pids": [sleeper]}, timeout=15)
    except Exception as e:
        r = "no reply: %r" % e
    print("reply: %s" % r, flush=True)
    os.kill(sleeper, 15)
    os._exit(0)
os._exit(0)
PY
	# The inner init reaps the connecting process and waits for the rest.
	# shellcheck disable=SC2016 # for the inner shell
	timeout -k 2 $((CGT_TIMEOUT * 2)) unshare --pid --fork --mount-proc sh -c '
		/usr/bin/python3 -S -B "$1" "$2" "$3" "$4"
		while ! grep -q "^reply" "$5"; do sleep 0.05; done' \
		sh "$CGT_TMP/gone.py" "$DSOCK" "$v" "$HERE" "$out" </dev/null >"$out" 2>&1
	cat "$out"
	grep -q "^inner sleeper: pid $v here" "$out" || fail "the inner sleeper did not get pid $v: $(head -n 1 "$out")" || return 1
	expect_in "$v" "$CGT_WORK" || return 1
	grep -q '^reply: .*InvalidValue.*pass pidfds' "$out" || fail "attach by pid from a gone peer in another pid namespace was not refused" || return 1
}

# Write $CGT_TMP/hold.py: a gdb script that, at the first strtol() called from
# daemon/kill.c (the daemon has read a cgroup.procs and parses it), touches
# $CGT_TMP/hit and waits for $CGT_TMP/go; it touches $CGT_TMP/armed once the
# breakpoint is in.
th_write_hold() {
	cat >"$CGT_TMP/hold.py" <<PY
import gdb, os, time
class Parse(gdb.Breakpoint):
    def stop(self):
        f = gdb.newest_frame().older()
        sal = f.find_sal() if f else None
        if not sal or not sal.symtab or not sal.symtab.filename.endswith("kill.c"):
            return False
        open("$CGT_TMP/hit", "w").close()
        for _ in range(400):
            if os.path.exists("$CGT_TMP/go"):
                break
            time.sleep(0.05)
        self.enabled = False
        return False
Parse("strtol")
open("$CGT_TMP/armed", "w").close()
gdb.execute("continue")
PY
}

# Kill with a signal other than SIGKILL signals every pid its cgroup.procs
# lists: a process that died and was reaped after the read left its number
# to whoever came next (pids cycle through 32768 here), and root's daemon
# signalled that process. gdb holds the daemon after the read; the tenant's
# process dies, and a root process gets its pid (ns_last_pid).
test_tenants2_kill_signal_reused_pid() {
	local x v i kp
	command -v gdb >/dev/null || { skip "no gdb"; return; }
	tn_up || return 1
	t1 create box && expect_rc 0 || return 1
	tn_sleeper "$TN_ROOT/box" "$CGT_UID" "$CGT_GID" || return 1
	x=$SPID
	th_write_hold
	rm -f "$CGT_TMP/hit" "$CGT_TMP/go" "$CGT_TMP/armed"
	# Hard limit 0 too: gdb raises its soft limit, and it crashed at the daemon's stop
	# (a 'core' of gdb in make's directory, run.sh's soft limit notwithstanding).
	(ulimit -c 0 && exec gdb -p "$DPID" -batch -x "$CGT_TMP/hold.py" >"$CGT_TMP/gdb.out" 2>&1) &
	cgt_track_pid $!
	# Not a fixed 2 s: under load gdb attached after the kill had read (no hit).
	cgt_wait_for 60 test -e "$CGT_TMP/armed" || { cat "$CGT_TMP/gdb.out"; return 1; }
	t1 kill box --signal TERM >"$CGT_TMP/kill.out" 2>&1 &
	kp=$!
	cgt_wait_for 20 test -e "$CGT_TMP/hit" || { cat "$CGT_TMP/gdb.out" "$CGT_TMP/kill.out"; return 1; }
	# The tenant's process goes after the read; a root process takes its number.
	kill -KILL "$x"
	wait "$x" 2>/dev/null
	for i in $(seq 1 200); do
		echo $((x - 1)) >/proc/sys/kernel/ns_last_pid
		/bin/sleep 300 </dev/null >/dev/null 2>&1 &
		v=$!
		[ "$v" = "$x" ] && break
		kill -KILL "$v"
		wait "$v" 2>/dev/null
	done
	cgt_track_pid "$v"
	touch "$CGT_TMP/go"
	wait "$kp"
	cat "$CGT_TMP/kill.out"
	[ "$v" = "$x" ] || { skip "no root process got pid $x in 200 tries"; return; }
	cgt_nap 0.3
	kill -0 "$v" 2>/dev/null || fail "root's process $v (the tenant's old pid) was signalled by the tenant's Kill"
	kill -KILL "$v"
}

# A tenant's lease and auto_remove end its entry with the tenant's own reach:
# an entry root made below it (root's processes in it) is not killed or
# removed with it, as the tenant's own recursive destroy would be refused.
# Before, the release acted with the daemon's authority: the tenant's hang-up
# killed root's process and removed root's entry.
test_tenants2_lease_release_not_into_roots() {
	local out=$CGT_TMP/lease hpid rp i=0
	tn_up || return 1
	tn_lease_x "$out.t1" || return 1
	hpid=$BGPID
	adm create x/adm && expect_rc 0 || return 1
	tn_sleeper "$TN_ROOT/x/adm" 0 0 || return 1
	rp=$SPID
	# auto_remove: tenant 1's process in a goes; root's empty a/adm is not removed with a.
	t1 create a --auto-remove && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach a "$SPID" && expect_rc 0 || return 1
	adm create a/adm && expect_rc 0 || return 1
	kill -KILL "$SPID"
	kill -KILL "$hpid"
	wait "$hpid" 2>/dev/null
	until cgt_has_text "$DLOG" 'x: its lease holder went away' && cgt_has_text "$DLOG" 'a emptied'; do
		i=$((i + 1))
		[ "$i" -ge 50 ] && break
		cgt_nap 0.1
	done
	cgt_nap 0.5
	expect_in "$rp" "$TN_ROOT/x/adm" || return 1
	adm --json list && expect_rc 0 || return 1
	expect_jq '[.[].name] | contains(["x/adm", "a/adm"])' || return 1
	adm destroy x --kill --recursive && expect_rc 0 && adm destroy a --recursive && expect_rc 0
}

# A limit no kernel file takes here (a controller missing in the root): a
# Create with it fails after its mkdir. Sets TN_NOLIMIT, empty when every one is there.
tn_unavailable_limit() {
	local ctl c
	TN_NOLIMIT=
	read -r ctl <"$TN_ROOT/cgroup.subtree_control"
	for c in memory.max=1M pids.max=10 io.weight=50 cpu.weight=50; do
		case " $ctl " in *" ${c%%.*} "*) ;; *) TN_NOLIMIT=$c && return 0 ;; esac
	done
}

# A tenant that spins on mkdir inside the name of its own --delegate Create
# whose limits fail: the create is undone whole, nothing of it stays outside
# the ledger. Before, the entry was handed over before its limits were
# written; the tenant's mkdir in between made the undo's rmdir Busy and the
# record was dropped anyway: a tenant-owned cgroup no ledger, quota or
# Destroy knew of.
test_tenants2_delegate_undo_not_raced() {
	local stop=$CGT_TMP/spin.stop i left=""
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	tn_unavailable_limit
	[ -n "$TN_NOLIMIT" ] || { skip "every controller is available: no Create fails after its mkdir"; return; }
	# shellcheck disable=SC2016
	cgt_user_bg "$CGT_WORK" "$CGT_TMP/spin.out" /usr/bin/python3 -S -c '
import os, sys
while not os.path.exists(sys.argv[2]):
    for _ in range(2000):
        try:
            os.mkdir(sys.argv[1])
            print("made", sys.argv[1])
            sys.exit(0)
        except OSError:
            pass
' "$TN_ROOT/d/x" "$stop"
	for i in $(seq 60); do
		t1 create d --delegate --set "$TN_NOLIMIT" >/dev/null 2>&1
		[ -e "$TN_ROOT/d" ] && { left="after try $i"; break; }
		kill -0 "$BGPID" 2>/dev/null || break
	done
	touch "$stop"
	wait "$BGPID" 2>/dev/null
	cat "$CGT_TMP/spin.out"
	if [ -e "$TN_ROOT/d" ]; then
		t1 list && adm list
		rmdir "$TN_ROOT/d/x" "$TN_ROOT/d" 2>/dev/null
		fail "tenant 1's undone --delegate create left d ${left}, outside the ledger" || return 1
	fi
	t1 create d --delegate && expect_rc 0 && t1 destroy d && expect_rc 0
}

# Root's destroy --kill of a tenant's handed-over entry while the tenant, from
# outside it, makes 200 cgroups inside, each again once it is gone: the entry goes
# (no cgroup can be made in it once its removal starts). Before, every rmdir
# of the entry met the tenant's newest child and the destroy ended Busy.
# A destroy that stops short leaves the entry's bound as it was.
test_tenants2_delegate_destroy_not_raced() {
	local stop=$CGT_TMP/spin.stop was now
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	read -r was <"$TN_ROOT/d/cgroup.max.descendants"
	# A destroy that stops short (Busy: a process, no kill) puts the bound back.
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach d "$SPID" && expect_rc 0 && adm destroy d && expect_rc 1 && expect_err Busy || return 1
	read -r now <"$TN_ROOT/d/cgroup.max.descendants"
	[ "$now" = "$was" ] || fail "d's cgroup.max.descendants is $now after a Busy destroy, not $was" || return 1
	kill -KILL "$SPID"
	tn_spin_inside "$TN_ROOT/d" "$stop"
	until [ -d "$TN_ROOT/d/x199" ] || ! kill -0 "$BGPID" 2>/dev/null; do cgt_nap 0.01; done
	adm destroy d --kill
	touch "$stop"
	wait "$BGPID" 2>/dev/null
	cat "$CGT_TMP/spin.out"
	expect_rc 0 "root's destroy --kill of tenant 1's delegated d" || { adm destroy d --kill; return 1; }
	expect_no_dir "$TN_ROOT/d"
}

# The daemon dies between handing a tenant's --delegate entry over and
# committing its create; the tenant makes a cgroup in it meanwhile. The next
# start keeps the entry as the tenant's (an unacknowledged create somebody
# uses: resumed, counted, destroyable whole); one the tenant left empty is
# rolled back. Nothing is left that the ledger does not know.
test_tenants2_delegate_crash_after_hand_over() {
	local TN_PRE=(env CGCTLD_TEST_CRASH=create-set-up)
	tn_up || return 1
	t1 create d --delegate && expect_rc 1 || return 1
	cgt_wait_gone "$DPID" || { fail "cgctld did not stop at create-set-up"; return 1; }
	wait "$DPID" 2>/dev/null
	cgt_has_text "$DLOG" 'test crash point create-set-up reached' || fail "no crash at create-set-up" || return 1
	cgt_as_user_in "$CGT_WORK" mkdir "$TN_ROOT/d/x" </dev/null || fail "tenant 1 cannot use d" || return 1
	TN_PRE=()
	TN_STATE=$DSTATE tn_up || return 1
	case $OUT in *"resumed 1,"*) ;; *) fail "the restart did not resume d" && return 1 ;; esac
	t1 --json list && expect_rc 0 || return 1
	expect_jq '[.[] | select(.name == "d" and .delegate and .state == "active")] | length == 1' || return 1
	t1 destroy d && expect_rc 0 && expect_no_dir "$TN_ROOT/d" || return 1
	# Left empty: undone at the next start.
	tn_down
	TN_PRE=(env CGCTLD_TEST_CRASH=create-set-up)
	TN_STATE=$DSTATE tn_up || return 1
	t1 create e --delegate && expect_rc 1 || return 1
	cgt_wait_gone "$DPID" && wait "$DPID" 2>/dev/null
	TN_PRE=()
	TN_STATE=$DSTATE tn_up || return 1
	case $OUT in *"rolled back 1,"*) ;; *) fail "the restart did not roll e back" && return 1 ;; esac
	expect_no_dir "$TN_ROOT/e"
}

# A root cgctld in a user namespace (not CAP_SYS_ADMIN of the host) marks its
# directories with user.cgctl.id, which a directory's owner may rewrite: it
# refuses a tenant's --delegate create (PermissionDenied, nothing left) and
# still makes its plain ones and root's delegated ones. Before, it handed the
# entry over; the tenant rewrote the mark and its next call dropped the entry
# from the ledger as replaced: a tenant-owned cgroup outside ledger and quota,
# as many as it liked.
test_tenants2_delegate_mark_the_tenant_could_rewrite() {
	# shellcheck disable=SC2034 # tn_up (t_tenants.sh) reads it
	local TN_PRE=(/usr/bin/python3 -S "$HERE/userns_root.py")
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	t1 create d --delegate
	if [ "$RC" = 0 ]; then
		# shellcheck disable=SC2016
		cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c 'import os, sys
os.setxattr(sys.argv[1], "user.cgctl.id", b"0" * 32)' "$TN_ROOT/d" </dev/null
		t1 destroy d
		rmdir "$TN_ROOT/d" 2>/dev/null
		fail "tenant 1's delegated d was handed over with a mark it could rewrite" || return 1
	fi
	expect_rc 1 && expect_err PermissionDenied && expect_err "user.* attribute" || return 1
	expect_no_dir "$TN_ROOT/d" || return 1
	t1 create p && expect_rc 0 && adm create r --delegate && expect_rc 0 || return 1
	t1 destroy p && expect_rc 0 && adm destroy r && expect_rc 0
}
