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
