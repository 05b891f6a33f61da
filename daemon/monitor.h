/* SPDX-License-Identifier: MIT */
/* monitor.h: inotify watches on cgroup interface files, driven by the event loop. */
#pragma once

struct event_base;
struct monitor;
struct watch;

/* Called when the watched file changed, or with gone=1 when it went away. */
typedef void (*monitor_cb)(void *arg, int gone);

/* Create the monitor (one inotify fd on base). 0 or -errno. */
int monitor_new(struct event_base *base, struct monitor **ret);
/* Free the monitor; every watch must have been removed. NULL is fine. */
struct monitor *monitor_free(struct monitor *mon);
/*
 * Watch file (e.g. "cgroup.events") of the cgroup relpath beneath rootfd.
 * The file is opened beneath rootfd and watched through /proc/self/fd, so
 * the path is resolved once, safely. 0 or -errno.
 */
int monitor_add(struct monitor *mon, int rootfd, const char *relpath, const char *file,
		monitor_cb cb, void *arg, struct watch **ret);
/* Watch the file behind fd (the caller opened it beneath its root and keeps it). 0 or -errno. */
int monitor_add_fd(struct monitor *mon, int fd, monitor_cb cb, void *arg, struct watch **ret);
/* Stop a watch; NULL is fine. Safe from inside its own callback. */
void monitor_remove(struct monitor *mon, struct watch *w);
/* Dispatch the kernel notifications queued so far, now; NULL is fine. */
void monitor_flush(struct monitor *mon);
