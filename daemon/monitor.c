/* SPDX-License-Identifier: MIT */
/* monitor.c: inotify watches on cgroup interface files, driven by the event loop. */
#include "monitor.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <event2/event.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"

struct watch {
	struct watch *next;
	int wd;
	monitor_cb cb;
	void *arg;
	int dead; /* removed while callbacks run; freed after */
};

struct monitor {
	int fd;
	struct event *ev;
	struct watch *watches;
	unsigned n;
	int dispatching;
};

/* Free watches removed during dispatch. */
static void monitor_reap(struct monitor *mon)
{
	for (struct watch **pp = &mon->watches; *pp;) {
		struct watch *w = *pp;
		if (w->dead) {
			*pp = w->next;
			free(w);
		} else {
			pp = &w->next;
		}
	}
}

/* Run the callbacks of every watch on wd. */
static void monitor_fire(struct monitor *mon, int wd, int gone)
{
	for (struct watch *w = mon->watches; w; w = w->next)
		if (w->wd == wd && !w->dead)
			w->cb(w->arg, gone);
}

/* The inotify fd is readable: dispatch every event. */
static void monitor_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *mon = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	mon->dispatching++;
	while ((n = read(mon->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			monitor_fire(mon, ev->wd, (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) != 0);
			p += sizeof(*ev) + ev->len;
		}
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_warn_errno(-errno, "inotify read");
	if (--mon->dispatching == 0)
		monitor_reap(mon);
}

/* Create the monitor. */
int monitor_new(struct event_base *base, struct monitor **ret)
{
	struct monitor *mon = calloc(1, sizeof(*mon));

	if (!mon)
		return -ENOMEM;
	mon->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (mon->fd < 0) {
		int r = -errno;
		free(mon);
		return r;
	}
	mon->ev = event_new(base, mon->fd, EV_READ | EV_PERSIST, monitor_read_cb, mon);
	if (!mon->ev || event_add(mon->ev, NULL) < 0) {
		monitor_free(mon);
		return -ENOMEM;
	}
	*ret = mon;
	return 0;
}

/* Free the monitor. */
struct monitor *monitor_free(struct monitor *mon)
{
	if (!mon)
		return NULL;
	if (mon->ev)
		event_free(mon->ev);
	while (mon->watches) {
		struct watch *w = mon->watches;
		mon->watches = w->next;
		free(w);
	}
	close(mon->fd);
	free(mon);
	return NULL;
}

/* Watch file of the cgroup relpath beneath rootfd. */
int monitor_add(struct monitor *mon, int rootfd, const char *relpath, const char *file,
		monitor_cb cb, void *arg, struct watch **ret)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char proc[64];
	struct watch *w;
	int wd;

	if (asprintf(&path, "%s%s%s", relpath, *relpath ? "/" : "", file) < 0)
		return -ENOMEM;
	fd = cgfs_open(rootfd, path, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(mon->fd, proc, IN_MODIFY | IN_DELETE_SELF);
	if (wd < 0)
		return -errno;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->wd = wd;
	w->cb = cb;
	w->arg = arg;
	w->next = mon->watches;
	mon->watches = w;
	mon->n++;
	*ret = w;
	return 0;
}

/* Is wd still used by a live watch other than w? */
static int monitor_wd_shared(const struct monitor *mon, const struct watch *w)
{
	for (const struct watch *o = mon->watches; o; o = o->next)
		if (o != w && !o->dead && o->wd == w->wd)
			return 1;
	return 0;
}

/* Stop a watch. */
void monitor_remove(struct monitor *mon, struct watch *w)
{
	if (!w || w->dead)
		return;
	/* inotify gives one wd per inode: drop it with its last user. */
	if (!monitor_wd_shared(mon, w))
		inotify_rm_watch(mon->fd, w->wd);
	w->dead = 1;
	mon->n--;
	if (!mon->dispatching)
		monitor_reap(mon);
}

/* Number of live watches. */
unsigned monitor_count(const struct monitor *mon)
{
	return mon->n;
}
