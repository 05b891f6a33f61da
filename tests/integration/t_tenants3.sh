# SPDX-License-Identifier: MIT
# t_tenants3.sh: what a tenant can do inside its handed-over (--delegate) entry, and what the daemon does about it.
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK, TN_ROOT... are lib.sh's and t_tenants.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
# The root daemon with two tenants, t1/t2/adm and the sleepers come from t_tenants.sh.

# shellcheck source=t_tenants.sh
. "$HERE/t_tenants.sh"

# Tenant 1 makes cgroup(s) $@ (paths), as itself, from outside the entry.
t3_mkdir() {
	cgt_as_user_in "$CGT_WORK" mkdir "$@" </dev/null || fail "tenant 1 cannot mkdir $*"
}

# A tenant names a cgroup inside its entry like a statistics file its kernel
# lacks there (memory.stat where memory is off): the daemon never reads that
# directory as the file. Before, GetStats of the entry failed ("Is a
# directory") for as long as the tenant liked.
test_tenants3_delegate_dir_named_like_a_file() {
	local f name=""
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	for f in memory.stat pids.current io.stat irq.pressure; do
		[ -e "$TN_ROOT/d/$f" ] || { name=$f && break; }
	done
	[ -n "$name" ] || { skip "every statistics file tried is there: no name to take"; return; }
	t3_mkdir "$TN_ROOT/d/$name" || return 1
	t1 --json stats d && expect_rc 0 "stats of d, which holds a cgroup named $name" || return 1
	expect_jq "(.files // {}) | has(\"$name\") | not" || return 1
	t1 destroy d && expect_rc 0 && expect_no_dir "$TN_ROOT/d"
}

# A controller off in p: tenant 1 names a cgroup inside its p/d like one of the
# controller's files. Enabling it in p then fails (EEXIST), for p's every child:
# the log and a SetResources needing it name that cgroup as the cause, and no
# write of the daemon lands in it. Before, the log said "File exists" and the
# call "the parent must enable it in cgroup.subtree_control".
test_tenants3_delegate_controller_file_taken() {
	local f=""
	tn_up || return 1
	t1 create p && expect_rc 0 && t1 create p/d --delegate && expect_rc 0 || return 1
	for f in "$TN_ROOT"/p/d/hugetlb.*.max; do break; done
	f=${f##*/}
	case $f in hugetlb.*.max) ;; *) skip "no hugetlb.*.max in p/d: no controller to take a file of"; return ;; esac
	echo -hugetlb >"$TN_ROOT/p/cgroup.subtree_control" || { fail "cannot withdraw hugetlb from p"; return 1; }
	t3_mkdir "$TN_ROOT/p/d/$f" || return 1
	t1 create p/e && expect_rc 0 || return 1
	grep -q "p: cannot enable controller hugetlb for children: p/d/$f is a cgroup named like" "$DLOG" ||
		fail "the log does not name p/d/$f: $(grep 'cannot enable' "$DLOG" | tail -n 1)" || return 1
	t1 set p/e "$f=0" && expect_rc 1 && expect_err ControllerUnavailable || return 1
	expect_err "while \"p/d/$f\" exists" || return 1
	tn_owned_by "$TN_ROOT/p/d/$f" "$CGT_UID" || return 1
	t1 destroy p --recursive && expect_rc 0 && expect_no_dir "$TN_ROOT/p"
}

# Hugetlb withdrawn from p on purpose (no cgroup in the way); tenant 1 names a
# cgroup in p/d like no file hugetlb has (hugetlb.decoy). SetResources on p/e
# needing hugetlb is told that p must enable it, not that hugetlb.decoy keeps
# it off: only a name the controller's files really have (as in p, where it is
# enabled) is blamed. Before, the error said "while \"p/d/hugetlb.decoy\"
# exists, a cgroup named like one of its files".
test_tenants3_delegate_shadow_decoy_not_blamed() {
	local f=""
	tn_up || return 1
	t1 create p && expect_rc 0 && t1 create p/d --delegate && expect_rc 0 && t1 create p/e && expect_rc 0 || return 1
	for f in "$TN_ROOT"/p/d/hugetlb.*.max; do break; done
	f=${f##*/}
	case $f in hugetlb.*.max) ;; *) skip "no hugetlb.*.max in p/d: no controller to take a file of"; return ;; esac
	echo -hugetlb >"$TN_ROOT/p/cgroup.subtree_control" || { fail "cannot withdraw hugetlb from p"; return 1; }
	t3_mkdir "$TN_ROOT/p/d/hugetlb.decoy" || return 1
	t1 set p/e "$f=0" && expect_rc 1 && expect_err ControllerUnavailable || return 1
	case $ERR in *decoy*) fail "p/d/hugetlb.decoy, no file of hugetlb, is blamed: ${ERR:0:300}" && return 1 ;; esac
	expect_err "the parent must enable it" || return 1
	t1 destroy p --recursive && expect_rc 0 && expect_no_dir "$TN_ROOT/p"
}

# Tenant 1 names a cgroup inside its top-level d like a file of a controller
# withdrawn from the managed root; tenant 2's SetResources on its own e, which
# needs that controller, is told that a cgroup of another user keeps it off,
# never that user's entry's name nor what is inside it (DESIGN: a tenant sees
# its own entries only). Tenant 1 (and the log) still get the name. Before,
# tenant 2's error said "while \"d/hugetlb.*.max\" exists".
test_tenants3_delegate_shadow_not_told_to_others() {
	local f=""
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 && t2 create e && expect_rc 0 && t1 create g && expect_rc 0 || return 1
	for f in "$TN_ROOT"/d/hugetlb.*.max; do break; done
	f=${f##*/}
	case $f in hugetlb.*.max) ;; *) skip "no hugetlb.*.max in d: no controller to take a file of"; return ;; esac
	echo -hugetlb >"$TN_ROOT/cgroup.subtree_control" || { fail "cannot withdraw hugetlb from the root"; return 1; }
	t3_mkdir "$TN_ROOT/d/$f" || return 1
	t2 set e "$f=0" && expect_rc 1 && expect_err ControllerUnavailable || return 1
	expect_err "a cgroup of another user" || return 1
	case $ERR in *"d/$f"* | *'"d'*) fail "tenant 2 is told of tenant 1's d: ${ERR:0:300}" && return 1 ;; esac
	t1 set g "$f=0" && expect_rc 1 && expect_err "while \"d/$f\" exists" || return 1
	rmdir "$TN_ROOT/d/$f" && echo +hugetlb >"$TN_ROOT/cgroup.subtree_control" ||
		{ fail "cannot give hugetlb back to the root"; return 1; }
	t1 destroy d && expect_rc 0 && t1 destroy g && expect_rc 0 && t2 destroy e && expect_rc 0
}

# The daemon dies between Destroy's cgroup.max.descendants of 0 on a tenant's
# delegated entry and the end of its removal, which a process in it keeps
# Busy. The next start keeps the entry and puts its bound back (the tenant's
# share, --max-cgroups-per-uid): the tenant makes cgroups in it again.
# Before, the 0 stayed: the entry was the tenant's but it could make nothing in it.
test_tenants3_delegate_crash_at_zero_bound() {
	local TN_OPTS=(--max-cgroups-per-uid 1000) TN_PRE=(env CGCTLD_TEST_CRASH=destroy-bounded) lim
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach d "$SPID" && expect_rc 0 || return 1
	adm destroy d && expect_rc 1 || return 1
	cgt_wait_gone "$DPID" || { fail "cgctld did not stop at destroy-bounded"; return 1; }
	wait "$DPID" 2>/dev/null
	grep -q 'test crash point destroy-bounded reached' "$DLOG" || fail "no crash at destroy-bounded" || return 1
	read -r lim <"$TN_ROOT/d/cgroup.max.descendants"
	[ "$lim" = 0 ] || fail "the crash left d's cgroup.max.descendants at $lim, not 0" || return 1
	TN_PRE=()
	TN_STATE=$DSTATE tn_up || return 1
	read -r lim <"$TN_ROOT/d/cgroup.max.descendants"
	[ "$lim" = 1000 ] || fail "d's cgroup.max.descendants is $lim after the restart, not 1000" || return 1
	t3_mkdir "$TN_ROOT/d/in" || return 1
	t1 --json list && expect_rc 0 && expect_jq '[.[] | select(.name == "d" and .state == "active")] | length == 1' ||
		return 1
	t1 destroy d --kill && expect_rc 0 && expect_no_dir "$TN_ROOT/d"
}

# The daemon dies as it starts to remove a tenant's delegated entry, while the
# tenant, from outside it, makes 200 cgroups inside, each again once it is
# gone. The next start finishes the removal: the entry's bound is 0 first, as
# in Destroy. Before, reconcile emptied it without the bound, met the tenant's
# newest cgroup at every rmdir and kept the entry.
test_tenants3_delegate_restart_removal_not_raced() {
	local stop=$CGT_TMP/spin.stop TN_PRE=(env CGCTLD_TEST_CRASH=destroy-intent) spin
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	tn_spin_inside "$TN_ROOT/d" "$stop"
	spin=$BGPID
	until [ -d "$TN_ROOT/d/x199" ] || ! kill -0 "$spin" 2>/dev/null; do cgt_nap 0.01; done
	adm destroy d && expect_rc 1 || { touch "$stop"; return 1; }
	cgt_wait_gone "$DPID" || { touch "$stop"; fail "cgctld did not stop at destroy-intent"; return 1; }
	wait "$DPID" 2>/dev/null
	TN_PRE=()
	TN_STATE=$DSTATE tn_up
	touch "$stop"
	wait "$spin" 2>/dev/null
	cat "$CGT_TMP/spin.out"
	expect_no_dir "$TN_ROOT/d" || { adm destroy d --kill; return 1; }
	adm --json list && expect_rc 0 && expect_jq 'length == 0'
}

# A tenant's --delegate entry recorded by a cgctld from before hand-overs: the
# ledger's record is the same, the directory stayed root's and unbounded. As
# systemd gives a Delegate= unit's cgroup to its User= at every start, the
# next start bounds it and hands it over; an entry handed over already is
# left as it is (a bound its tenant lowered stays).
test_tenants3_delegate_handed_over_at_start() {
	local TN_OPTS=(--max-cgroups-per-uid 1000) f lim
	tn_up || return 1
	t1 create d --delegate && expect_rc 0 || return 1
	t1 create e --delegate && expect_rc 0 && t1 set e cgroup.max.descendants=7 && expect_rc 0 || return 1
	tn_down
	# What the code before hand-overs left behind.
	chown 0 "$TN_ROOT/d" || return 1
	while read -r f; do
		[ ! -f "$TN_ROOT/d/$f" ] || chown 0 "$TN_ROOT/d/$f" || return 1
	done </sys/kernel/cgroup/delegate
	echo max >"$TN_ROOT/d/cgroup.max.descendants" && echo max >"$TN_ROOT/d/cgroup.max.depth" || return 1
	TN_STATE=$DSTATE tn_up || return 1
	tn_owned_by "$TN_ROOT/d" "$CGT_UID" && tn_owned_by "$TN_ROOT/d/cgroup.procs" "$CGT_UID" || return 1
	tn_owned_by "$TN_ROOT/d/cgroup.max.descendants" 0 || return 1
	read -r lim <"$TN_ROOT/d/cgroup.max.descendants" && [ "$lim" = 1000 ] ||
		fail "d's cgroup.max.descendants is $lim, not 1000" || return 1
	read -r lim <"$TN_ROOT/d/cgroup.max.depth" && [ "$lim" = 64 ] || fail "d's cgroup.max.depth is $lim" || return 1
	read -r lim <"$TN_ROOT/e/cgroup.max.descendants" && [ "$lim" = 7 ] ||
		fail "e's cgroup.max.descendants is $lim, not the 7 its tenant set" || return 1
	grep -q 'd: delegated to uid [0-9]*, which did not own it (made before cgctld handed such entries over, or taken back since): handed over now' "$DLOG" ||
		fail "the log does not say d was handed over" || return 1
	t3_mkdir "$TN_ROOT/d/in" || return 1
	t1 destroy d && expect_rc 0 && t1 destroy e && expect_rc 0 && expect_no_dir "$TN_ROOT/d"
}

# Remove (as root) every cgroup below dir $1 by fds, after cgroup.kill: the
# harness's clean-up joins paths, and a tree nested deep with long names has
# longer ones than PATH_MAX.
t3_rm_deep() {
	# shellcheck disable=SC2016
	/usr/bin/python3 -S -c '
import os, sys, time
def rm_below(fd):
    for n in os.listdir(fd):
        try:
            c = os.open(n, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError:
            continue
        try:
            k = os.open("cgroup.kill", os.O_WRONLY, dir_fd=c)
            os.write(k, b"1")
            os.close(k)
        except OSError:
            pass
        rm_below(c)
        os.close(c)
        for _ in range(300):
            try:
                os.rmdir(n, dir_fd=fd)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)
try:
    fd = os.open(sys.argv[1], os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
except OSError:
    sys.exit(0)
rm_below(fd)
' "$1"
}

# Tenant 1 nests 64 cgroups with 199-byte names inside its p/d (the 65th is
# refused by d's cgroup.max.depth) and moves its process to the bottom: 66
# levels and 12 KB of path below p. Kill of p with a signal reaches it, and a
# destroy removes it all. Before, the signal walk stopped 64 levels below p
# (the process was not signalled) and the removal joined paths longer than
# PATH_MAX (ENAMETOOLONG: Destroy failed).
test_tenants3_delegate_deep_inside_walked() {
	local out
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	tn_up || return 1
	t1 create p && expect_rc 0 && t1 create p/d --delegate && expect_rc 0 || return 1
	tn_sleeper "$CGT_WORK" "$CGT_UID" "$CGT_GID" || return 1
	t1 attach p/d "$SPID" && expect_rc 0 || return 1
	# shellcheck disable=SC2016
	out=$(cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c '
import os, sys
os.chdir(sys.argv[1])
for i in range(64):
    n = "%02d" % i + "x" * 197
    os.mkdir(n)
    os.chdir(n)
try:
    os.mkdir("deeper")
    print("65th made")
except OSError:
    print("65th refused")
with open("cgroup.procs", "w") as f:
    f.write(sys.argv[2])
' "$TN_ROOT/p/d" "$SPID" </dev/null 2>&1)
	printf '    %s\n' "$out"
	[ "$out" = "65th refused" ] || fail "tenant 1's nesting: $out" || { t3_rm_deep "$TN_ROOT/p/d"; return 1; }
	t1 kill p --signal TERM && expect_rc 0 || { t3_rm_deep "$TN_ROOT/p/d"; return 1; }
	cgt_wait_gone "$SPID" || fail "the process 66 levels below p was not signalled" ||
		{ t3_rm_deep "$TN_ROOT/p/d"; return 1; }
	t1 destroy p --recursive --kill && expect_rc 0 && expect_no_dir "$TN_ROOT/p" ||
		{ t3_rm_deep "$TN_ROOT/p/d"; return 1; }
}
