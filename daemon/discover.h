/* SPDX-License-Identifier: MIT */
/* discover.h: find the cgroup2 mount and the daemon's own cgroup. */
#pragma once

#include <stdbool.h>

struct discovery {
	char *mount;      /* absolute mount point of cgroup2, e.g. /sys/fs/cgroup/unified */
	char *mount_root; /* root of the mount inside the hierarchy (mountinfo field 4), "/" normally */
	char *own_cgroup; /* own cgroup as /proc/self/cgroup's "0::" line gives it */
	char *own_path;   /* absolute directory of the own cgroup (mount + own relative to mount_root) */
	bool hybrid;      /* v1 controllers are mounted too */
};

/*
 * Pick the cgroup2 mount from mountinfo text: /sys/fs/cgroup, then
 * /sys/fs/cgroup/unified, then the first cgroup2 mount. Octal escapes
 * (\040) are decoded. *ret_hybrid is true when any "cgroup" (v1) mount with a
 * controller exists. 0, -ENOENT when there is no cgroup2 mount, -ENOMEM.
 */
int discover_parse_mountinfo(const char *text, char **ret_mount, char **ret_mount_root,
			     bool *ret_hybrid);

/*
 * The cgroup2 path from /proc/<pid>/cgroup text (the "0::" line; a
 * " (deleted)" suffix is an error, -EIDRM). 0, -ENOENT when absent,
 * -EBADMSG when not absolute, -ENOMEM.
 */
int discover_parse_proc_cgroup(const char *text, char **ret_path);

/*
 * Directory of cgroup path own inside a mount rooted at mount_root: own must
 * equal mount_root or lie below it by whole components (-EXDEV otherwise,
 * e.g. "/.." outside a cgroup namespace). 0 or -errno.
 */
int discover_join(const char *mount, const char *mount_root, const char *own, char **ret_path);

/* Fill d from /proc/self/mountinfo and /proc/self/cgroup. 0 or -errno. */
int discover_self(struct discovery *d);
/* Free d's strings. */
void discovery_done(struct discovery *d);
