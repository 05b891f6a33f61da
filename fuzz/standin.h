/* SPDX-License-Identifier: MIT */
/* standin.h: a plain directory tree that cgctld takes for cgroupfs, and fences around it (fuzz_requests). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The daemon's calls of kill(), mkdirat(), unlinkat(), cgfs_write(),
 * inotify_init1() and inotify_add_watch() are intercepted at link time
 * (-Wl,--wrap, see fuzz.mk); its log goes where standin_log() says
 * (log_set_output()). While standin_armed is set (the daemon's
 * code is running):
 *  - kill() signals nothing, and aborts for a pid that could exist;
 *  - a directory made under the root gets cgroup interface files, and
 *    removing one fails with EBUSY while it has child directories or pids in
 *    cgroup.procs, else takes its interface files with it (cgroupfs rules);
 *  - every directory made or removed must lie below the root, or abort;
 *  - writes to cgroup.procs, cgroup.kill and cgroup.freeze update
 *    cgroup.events (populated, frozen) as the kernel would: at once for an
 *    empty cgroup, at the next standin_settle() for one with processes;
 *  - files written are noted, so standin_reset() restores only those;
 *  - every daemon shares one inotify instance (closing one is slow).
 */
extern bool standin_armed;

/* A stand-in cgroup that exists (and is in the ledger) at the start of every input. */
struct standin_cgroup {
	const char *name; /* as a client names it */
	const char *path; /* escaped, relative to the root */
	const char *events; /* cgroup.events */
	bool delegate, auto_remove;
};
extern const struct standin_cgroup standin_cgroups[];
extern const size_t standin_n_cgroups;

/* Create base/root (the managed root) and base/outside (must stay empty). */
void standin_init(const char *base);
/* The managed root's absolute path. */
const char *standin_root(void);
/* Put the tree back as it was at the start; abort if anything appeared outside the root. */
void standin_reset(void);
/* Make the changes the kernel would have made by now (call between loop turns). */
void standin_settle(void);
/* Remove everything standin_init() made. */
void standin_cleanup(void);
/* Directories the daemon made during this input, relative to the root, in order (i < n). */
size_t standin_n_made(void);
const char *standin_made(size_t i);
/* A pid no process can have (above pid_max), or one the daemon refuses outright. */
int64_t standin_safe_pid(int64_t pid);
/* Show the daemon's log on stderr, else format every line into /dev/null. */
void standin_log(bool on);
