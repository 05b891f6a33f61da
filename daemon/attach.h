/* SPDX-License-Identifier: MIT */
/* attach.h: move processes into a cgroup: cgroup.procs, pidfds, systemd fallback. */
#pragma once

#include <sys/types.h>

struct manager;

/* Pid behind a pidfd (from /proc/self/fdinfo), -ESRCH once it exited. */
int attach_pidfd_to_pid(int pidfd, pid_t *ret);
/*
 * Write pid into relpath's cgroup.procs. When the kernel refuses (EACCES:
 * the common ancestor of source and target is not ours), ask our systemd
 * user manager to do it (AttachProcessesToUnit). 0, or -errno with *ret_how
 * saying which path failed ("kernel", "systemd").
 */
int attach_pid(struct manager *m, const char *relpath, pid_t pid, const char **ret_how);
