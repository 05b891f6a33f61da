/* SPDX-License-Identifier: MIT */
/* kill.h: end every process of a cgroup, wait for it to empty, remove a tree. */
#pragma once

#include <stdbool.h>

/*
 * Kill all processes in relpath (beneath rootfd): cgroup.kill where the
 * kernel has it, else freeze, SIGKILL every pid in cgroup.procs, thaw. Then
 * wait, by inotify on cgroup.events, until "populated 0" or timeout_ms.
 * 0, -ETIMEDOUT, -errno.
 */
int cgkill(int rootfd, const char *relpath, int timeout_ms);
/* Wait until relpath's cgroup.events says "populated 0". 0, -ETIMEDOUT, -errno. */
int cgkill_wait_empty(int rootfd, const char *relpath, int timeout_ms);
/*
 * Remove relpath and every cgroup below it, deepest first (for delegated
 * entries, whose inside is not in the ledger). Honest like cgfs_rmdir(): 0
 * when all of it is gone, -EBUSY when something still has processes, -errno.
 * Depth is bounded by the kernel's cgroup.max.depth and our own limit.
 */
int cgkill_rmdir_tree(int rootfd, const char *relpath, bool *ret_existed);
