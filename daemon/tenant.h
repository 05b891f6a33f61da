/* SPDX-License-Identifier: MIT */
/* tenant.h: who may see and act on which ledger entry, and which processes a client may move. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct ledger;
struct ledger_entry;
struct res_plan;

/* PF_KTHREAD in the flags of /proc/PID/stat (include/linux/sched.h). */
#define TENANT_PF_KTHREAD 0x00200000UL

/* What /proc says about one process. */
struct tenant_proc {
	uid_t uids[4];        /* real, effective, saved, filesystem */
	unsigned long flags;  /* the task's PF_* flags */
};

/* Administrators (root and the daemon's own euid) see and act on every entry. */
bool tenant_is_admin(uid_t uid);
/* May uid see and act on le: an administrator, or the uid that created it. */
bool tenant_may_access(uid_t uid, const struct ledger_entry *le);
/* How many of the n uids (the --allow-uid ones) are tenants: neither root nor our own uid. */
unsigned tenant_count(const uid_t *uids, size_t n);

/*
 * Does an entry below name (not name itself) belong to somebody uid may not
 * act on? Then an act on name's whole subtree (cgroup.kill, cgroup.freeze)
 * would reach it. Always false for an administrator.
 */
bool tenant_subtree_foreign(uid_t uid, struct ledger *l, const char *name);

/* The four uids of the "Uid:" line of /proc/PID/status text. 0 or -EBADMSG. */
int tenant_parse_status(const char *text, uid_t ret_uids[4]);
/* The flags (field 9) of /proc/PID/stat text, whatever the comm holds. 0 or -EBADMSG. */
int tenant_parse_stat(const char *text, unsigned long *ret_flags);
/* Read /proc/PID/status and stat. 0, -ESRCH once it is gone (a zombie too), or -errno. */
int tenant_read_proc(pid_t pid, struct tenant_proc *ret);
/*
 * May a client of uid (an administrator or not) move process pid described
 * by p? 0, or -EPERM with *ret_why saying why not (a static string): never
 * PID 1, the daemon itself nor a kernel thread; for a tenant, all four uids
 * must be its own.
 */
int tenant_may_move(uid_t uid, pid_t pid, const struct tenant_proc *p, const char **ret_why);
/* The cgroup2 path of pid from /proc/PID/cgroup. 0, -ESRCH once it is gone, or -errno. */
int tenant_read_cgroup(pid_t pid, char **ret_path);
/*
 * May a client of uid take a process out of its cgroup rel (relative to the
 * managed root)? An administrator always; a tenant only out of an entry of
 * its own (the deepest entry holding rel decides). 0, or -EPERM with *ret_why.
 */
int tenant_may_take_from(uid_t uid, struct ledger *l, const char *rel, const char **ret_why);
/*
 * May a tenant make plan's writes to any cgroup, even below its own entry?
 * Not those that rank it above every other cgroup whatever its place in the
 * tree: an io.prio.class other than no-change, restrict-to-be or idle
 * (real-time I/O). 0, or -EPERM with *ret_file (points into plan) and *ret_why.
 */
int tenant_check_plan(const struct res_plan *plan, const char **ret_file, const char **ret_why);
/*
 * Does plan keep the bounds cgctld sets on a tenant's cgroups, at most
 * descendants cgroups (its --max-cgroups-per-uid) and depth levels below each?
 * They keep the removal of a handed-over entry's inside short. 0, or -EPERM
 * with *ret_file (points into plan) and *ret_why.
 */
int tenant_check_bounds(const struct res_plan *plan, unsigned descendants, unsigned depth, const char **ret_file,
			const char **ret_why);
/*
 * May a tenant make plan's writes to a cgroup whose siblings are not all its
 * own (a top-level entry: root's and other tenants' entries are its
 * siblings)? Files that share the parent among siblings may only be lowered
 * there: cpu.weight above 100, cpu.weight.nice below 0, io.weight and
 * io.bfq.weight above 100, memory.min and memory.low above 0 (protection
 * the siblings share), any io.latency target, a cpuset partition or
 * exclusive cpus. 0, or -EPERM with *ret_file (points into plan) and *ret_why.
 */
int tenant_check_sibling_plan(const struct res_plan *plan, const char **ret_file, const char **ret_why);
