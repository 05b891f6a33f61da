/* SPDX-License-Identifier: MIT */
/* attach.h: move processes into a cgroup: cgroup.procs, pidfds, systemd fallback. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>

struct manager;
struct attach_req;

/* Default bound on one request to the systemd user manager, connection included. */
#define ATTACH_SYSTEMD_TIMEOUT_MS 5000
/* Requests to the systemd user manager in flight at once (one socket each). */
#define ATTACH_SYSTEMD_MAX 64

/* r: 0 when systemd moved the process, or -errno (-ECANCELED: the daemon is stopping). */
typedef void (*attach_done_fn)(void *arg, int r);

/* Pid behind a pidfd (from /proc/self/fdinfo), -ESRCH once it exited, -EINVAL for a thread that leads no process. */
int attach_pidfd_to_pid(int pidfd, pid_t *ret);
/*
 * Write pid into the cgroup.procs of cgfd, the verified directory of relpath
 * (the systemd fallback can only name relpath). When the kernel refuses (EACCES:
 * the common ancestor of source and target is not ours), ask our systemd
 * user manager to do it (AttachProcessesToUnit) without blocking the loop.
 * 0 when the kernel moved it; 1 when systemd was asked: done(arg, r) runs
 * later, from the loop, exactly once; or -errno. *ret_how says which path
 * was taken ("kernel", "systemd").
 */
int attach_pid(struct manager *m, int cgfd, const char *relpath, pid_t pid, attach_done_fn done, void *arg,
	       const char **ret_how);
/*
 * AttachProcessesToUnit("", subcgroup, [pid]) on our user manager, first on
 * $XDG_RUNTIME_DIR/systemd/private, else the session bus; bounded by
 * $CGCTLD_SYSTEMD_TIMEOUT_MS (default ATTACH_SYSTEMD_TIMEOUT_MS). 0: done(arg, r)
 * runs later, exactly once, never before this returns. -errno (done not called):
 * -ENOENT/-ECONNREFUSED/-ENOMEDIUM no manager reachable, -EAGAIN too many
 * requests in flight, -EXDEV relpath is not below our unit.
 */
int attach_via_systemd(struct manager *m, const char *relpath, pid_t pid, attach_done_fn done, void *arg);
/* End every request in flight with -ECANCELED (daemon stopping). */
void attach_cancel_all(struct manager *m);
/* True while a request to the systemd user manager is in flight. */
bool attach_pending(const struct manager *m);
