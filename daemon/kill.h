/* SPDX-License-Identifier: MIT */
/* kill.h: end every process of a cgroup, wait for it to empty, remove a tree. */
#pragma once

#include <stdbool.h>

#include "names.h"


/* How deep a tenant may nest inside its handed-over entry (its cgroup.max.depth). */
#define CGKILL_MAX_DEPTH 64
/*
 * How deep below where it starts a walk of the daemon (signal, removal) goes:
 * entries below entries, as deep as names go (CGNAME_DEPTH_MAX), and inside
 * a delegated one CGKILL_MAX_DEPTH more. Beyond: -ELOOP.
 */
#define CGKILL_WALK_DEPTH (CGNAME_DEPTH_MAX + CGKILL_MAX_DEPTH)
/*
 * Send every process in relpath (beneath rootfd) SIGKILL: cgroup.kill where
 * the kernel has it, else freeze, kill each pid in cgroup.procs, thaw. Does
 * not wait: watch cgroup.events for "populated 0". 0 or -errno.
 */
int cgkill_start(int rootfd, const char *relpath);
/*
 * Send sig to every process of relpath's subtree: freeze (unless frozen),
 * signal each process of every cgroup.procs through a pidfd (only those a
 * second read still lists: never a pid reused meanwhile), thaw. 0 or -errno.
 */
int cgkill_signal(int rootfd, const char *relpath, int sig);
/*
 * Remove relpath and every cgroup below it, deepest first (for delegated
 * entries, whose inside is not in the ledger). Honest like cgfs_rmdir(): 0
 * when all of it is gone, -EBUSY when something still has processes, -errno.
 * Depth is bounded by the kernel's cgroup.max.depth and our own limit,
 * CGKILL_WALK_DEPTH levels below relpath (-ELOOP beyond); each level is
 * opened beneath its parent's fd, so no path length limits it.
 */
int cgkill_rmdir_tree(int rootfd, const char *relpath, bool *ret_existed);
/*
 * Remove every cgroup below the open directory dirfd (a verified delegated
 * entry), deepest first, as cgkill_rmdir_tree(); dirfd's own directory stays.
 */
int cgkill_rmdir_inside(int dirfd);
