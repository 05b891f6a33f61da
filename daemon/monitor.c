/* SPDX-License-Identifier: MIT */
/* monitor.c: inotify watches on cgroup interface files, driven by the event loop. */
#include "monitor.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/time.h>
#include <unistd.h>
#include <event2/event.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"

/* One user of an inotify wd; several may share it (the kernel gives one wd per inode). */
struct watch {
	struct watch *prev, *next; /* on its slot's list */
	struct watch *dead_next;   /* on the monitor's dead list while dispatching */
	struct slot *slot;
	monitor_cb cb;
	void *arg;
	int dead;
};

/* Everything watching one wd. */
struct slot {
	struct slot *hnext; /* hash chain */
	int wd;
	struct watch *head;
};

struct monitor {
	int fd;
	struct event *ev;
	struct slot **buckets; /* by wd, chained; grows at load factor 1 */
	size_t nbuckets, nslots;
	int dispatching;
	struct watch *dead;    /* removed during dispatch, freed after it */
	size_t max_slots;      /* $CGCTLD_TEST_INOTIFY_MAX (tests only): more wds fail with -ENOSPC; 0: the kernel's limit */
	unsigned long late_ms; /* $CGCTLD_TEST_INOTIFY_LATE_MS (tests only): notifications reach us this late; 0: at once */
	struct event *late_ev; /* the timer that then reads them */
};

/* The slot of wd, NULL if none. O(1) expected. */
static struct slot *slot_find(const struct monitor *mon, int wd)
{
	struct slot *s = mon->buckets[(unsigned)wd & (mon->nbuckets - 1)];

	while (s && s->wd != wd)
		s = s->hnext;
	return s;
}

/* Double the bucket array. */
static int slot_grow(struct monitor *mon)
{
	size_t nb = mon->nbuckets * 2;
	struct slot **b = calloc(nb, sizeof(*b));

	if (!b)
		return -ENOMEM;
	for (size_t i = 0; i < mon->nbuckets; i++)
		for (struct slot *s = mon->buckets[i], *next; s; s = next) {
			next = s->hnext;
			s->hnext = b[(unsigned)s->wd & (nb - 1)];
			b[(unsigned)s->wd & (nb - 1)] = s;
		}
	free(mon->buckets);
	mon->buckets = b;
	mon->nbuckets = nb;
	return 0;
}

/* The slot of wd, created if needed. */
static struct slot *slot_get(struct monitor *mon, int wd)
{
	struct slot *s = slot_find(mon, wd);

	if (s)
		return s;
	if (mon->nslots >= mon->nbuckets && slot_grow(mon) < 0)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->wd = wd;
	s->hnext = mon->buckets[(unsigned)wd & (mon->nbuckets - 1)];
	mon->buckets[(unsigned)wd & (mon->nbuckets - 1)] = s;
	mon->nslots++;
	return s;
}

/* Drop an empty slot (and its wd, unless the kernel already did). */
static void slot_drop(struct monitor *mon, struct slot *s, int rm_wd)
{
	struct slot **pp = &mon->buckets[(unsigned)s->wd & (mon->nbuckets - 1)];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	if (rm_wd)
		inotify_rm_watch(mon->fd, s->wd);
	mon->nslots--;
	free(s);
}

/* Free watches removed during dispatch. */
static void monitor_reap(struct monitor *mon)
{
	while (mon->dead) {
		struct watch *w = mon->dead;
		mon->dead = w->dead_next;
		free(w);
	}
}

/* Run the callbacks of every watch on wd; the kernel dropped wd when gone. */
static void monitor_fire(struct monitor *mon, int wd, int gone)
{
	struct slot *s = slot_find(mon, wd);

	/* Watches removed by a callback stay allocated (dead) until the reap: walking on is safe. */
	for (struct watch *w = s ? s->head : NULL; w; w = w->next)
		if (!w->dead)
			w->cb(w->arg, gone);
}

/* Read and dispatch every event queued on the inotify fd. */
static void monitor_dispatch(struct monitor *mon)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t n;

	mon->dispatching++;
	while ((n = read(mon->fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *ev = (struct inotify_event *)p;
			monitor_fire(mon, ev->wd, (ev->mask & (IN_IGNORED | IN_DELETE_SELF)) != 0);
			p += sizeof(*ev) + ev->len;
		}
		/* Room left for the largest event: the queue was empty, skip the read that says EAGAIN. */
		if (sizeof(buf) - (size_t)n >= sizeof(struct inotify_event) + NAME_MAX + 1)
			break;
	}
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		log_warn_errno(-errno, "inotify read");
	if (--mon->dispatching == 0)
		monitor_reap(mon);
}

/* The late timer (tests only): what the kernel queued is "delivered" now; listen again. */
static void monitor_late_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *mon = arg;

	monitor_dispatch(mon);
	if (event_add(mon->ev, NULL) < 0)
		log_warnx("inotify: cannot listen again after a late delivery");
}

/*
 * The inotify fd is readable: dispatch every event. Under
 * $CGCTLD_TEST_INOTIFY_LATE_MS they wait that long first, as the kernel's
 * own work queue makes them wait on a loaded machine.
 */
static void monitor_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct monitor *mon = arg;
	struct timeval tv;

	if (!mon->late_ms) {
		monitor_dispatch(mon);
		return;
	}
	tv.tv_sec = (time_t)(mon->late_ms / 1000);
	tv.tv_usec = (suseconds_t)(mon->late_ms % 1000) * 1000;
	/* Level-triggered: stop listening until the timer has read the queue. */
	event_del(mon->ev);
	if (evtimer_add(mon->late_ev, &tv) < 0)
		monitor_late_cb(fd, what, mon);
}

void monitor_flush(struct monitor *mon)
{
	/* Late delivery (tests only): what is queued is not "delivered" before its time. */
	if (mon && !mon->late_ms)
		monitor_dispatch(mon);
}

/*
 * A number > 0 from test-only variable var, 0 when unset: $CGCTLD_TEST_INOTIFY_MAX stands in for
 * fs.inotify.max_user_watches, which is global; $CGCTLD_TEST_INOTIFY_LATE_MS for a loaded kernel.
 */
static unsigned long monitor_test_env(const char *var)
{
	const char *s = getenv(var);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return 0;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0) {
		log_warnx("%s=%s is not a number > 0; ignored", var, s);
		return 0;
	}
	return v;
}

int monitor_new(struct event_base *base, struct monitor **ret)
{
	struct monitor *mon = calloc(1, sizeof(*mon));

	if (!mon)
		return -ENOMEM;
	mon->nbuckets = 64;
	mon->buckets = calloc(mon->nbuckets, sizeof(*mon->buckets));
	mon->max_slots = monitor_test_env("CGCTLD_TEST_INOTIFY_MAX");
	mon->late_ms = monitor_test_env("CGCTLD_TEST_INOTIFY_LATE_MS");
	mon->fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (mon->fd < 0 || !mon->buckets) {
		int r = mon->fd < 0 ? -errno : -ENOMEM;
		if (mon->fd >= 0)
			close(mon->fd);
		free(mon->buckets);
		free(mon);
		return r;
	}
	mon->ev = event_new(base, mon->fd, EV_READ | EV_PERSIST, monitor_read_cb, mon);
	mon->late_ev = mon->late_ms ? evtimer_new(base, monitor_late_cb, mon) : NULL;
	if (!mon->ev || (mon->late_ms && !mon->late_ev) || event_add(mon->ev, NULL) < 0) {
		monitor_free(mon);
		return -ENOMEM;
	}
	*ret = mon;
	return 0;
}

struct monitor *monitor_free(struct monitor *mon)
{
	if (!mon)
		return NULL;
	if (mon->ev)
		event_free(mon->ev);
	if (mon->late_ev)
		event_free(mon->late_ev);
	for (size_t i = 0; i < mon->nbuckets; i++)
		while (mon->buckets[i]) {
			struct slot *s = mon->buckets[i];
			mon->buckets[i] = s->hnext;
			while (s->head) {
				struct watch *w = s->head;
				s->head = w->next;
				free(w);
			}
			free(s);
		}
	monitor_reap(mon);
	free(mon->buckets);
	close(mon->fd);
	free(mon);
	return NULL;
}

int monitor_add_fd(struct monitor *mon, int fd, monitor_cb cb, void *arg, struct watch **ret)
{
	char proc[64];
	struct watch *w;
	struct slot *s;
	int wd;

	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	wd = inotify_add_watch(mon->fd, proc, IN_MODIFY | IN_DELETE_SELF);
	if (wd < 0)
		return -errno;
	/* What the kernel says at max_user_watches. */
	if (mon->max_slots && mon->nslots >= mon->max_slots && !slot_find(mon, wd)) {
		inotify_rm_watch(mon->fd, wd);
		return -ENOSPC;
	}
	w = calloc(1, sizeof(*w));
	s = w ? slot_get(mon, wd) : NULL;
	if (!s) {
		free(w);
		if (!slot_find(mon, wd))
			inotify_rm_watch(mon->fd, wd);
		return -ENOMEM;
	}
	w->cb = cb;
	w->arg = arg;
	w->slot = s;
	w->next = s->head;
	if (s->head)
		s->head->prev = w;
	s->head = w;
	*ret = w;
	return 0;
}

int monitor_add(struct monitor *mon, int rootfd, const char *relpath, const char *file,
		monitor_cb cb, void *arg, struct watch **ret)
{
	_cleanup_close_ int fd = cgfs_open_attr(rootfd, relpath, file, O_RDONLY);

	if (fd < 0)
		return fd;
	return monitor_add_fd(mon, fd, cb, arg, ret);
}

void monitor_remove(struct monitor *mon, struct watch *w)
{
	struct slot *s;

	if (!w || w->dead)
		return;
	s = w->slot;
	w->dead = 1;
	if (mon->dispatching) {
		/* Keep w linked (a dispatch may be walking past it); unlink after. */
		w->dead_next = mon->dead;
		mon->dead = w;
	}
	if (w->prev)
		w->prev->next = w->next;
	else
		s->head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	/* inotify gives one wd per inode: drop it with its last user. */
	if (!s->head)
		slot_drop(mon, s, 1);
	if (!mon->dispatching)
		free(w);
}
