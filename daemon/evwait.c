/* SPDX-License-Identifier: MIT */
/* evwait.c: wait, without blocking the loop, until cgroup.events says what we want. */
#include "evwait.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "cgroupfs.h"
#include "manager_internal.h"
#include "monitor.h"

struct evwait {
	struct evwait *next; /* on the manager's list, for cancellation */
	struct manager *m;
	char *rel;
	enum evwait_cond cond;
	evwait_fn cb;
	void *arg;
	struct watch *w;
	struct event *timer;
	bool done;
};

/* 1 when the condition holds, 0 not yet, -errno. */
static int evwait_test(struct evwait *ew)
{
	bool populated, frozen;
	int r = cgfs_read_events(ew->m->rootfd, ew->rel, &populated, &frozen);

	if (r == -ENOENT && ew->cond == EVWAIT_EMPTY)
		return 1;
	if (r < 0)
		return r;
	switch (ew->cond) {
	case EVWAIT_EMPTY:
		return !populated;
	case EVWAIT_FROZEN:
		return frozen;
	case EVWAIT_THAWED:
		return !frozen;
	}
	return -EINVAL;
}

/* Take ew off the manager's list. */
static void evwait_unlink(struct evwait *ew)
{
	for (struct evwait **pp = &ew->m->waits; *pp; pp = &(*pp)->next)
		if (*pp == ew) {
			*pp = ew->next;
			return;
		}
}

/* Report and free. */
static void evwait_end(struct evwait *ew, int r)
{
	evwait_unlink(ew);
	monitor_remove(ew->m->mon, ew->w);
	if (ew->timer)
		event_free(ew->timer);
	ew->cb(ew->arg, r);
	free(ew->rel);
	free(ew);
}

/* cgroup.events changed. */
static void evwait_wake_cb(void *arg, int gone)
{
	struct evwait *ew = arg;
	int r = evwait_test(ew);

	if (r != 0)
		evwait_end(ew, r > 0 ? 0 : r);
}

/* Out of time. */
static void evwait_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct evwait *ew = arg;
	int r = evwait_test(ew);

	evwait_end(ew, r > 0 ? 0 : r < 0 ? r : -ETIMEDOUT);
}

int evwait_start(struct manager *m, const char *relpath, enum evwait_cond cond, int timeout_ms,
		 evwait_fn cb, void *arg)
{
	struct evwait *ew = calloc(1, sizeof(*ew));
	struct timeval tv = { timeout_ms / 1000, (timeout_ms % 1000) * 1000 };
	int r;

	if (!ew)
		return -ENOMEM;
	*ew = (struct evwait){ .m = m, .cond = cond, .cb = cb, .arg = arg, .rel = strdup(relpath) };
	ew->timer = evtimer_new(m->base, evwait_timer_cb, ew);
	if (!ew->rel || !ew->timer) {
		r = -ENOMEM;
		goto fail;
	}
	r = monitor_add(m->mon, m->rootfd, relpath, "cgroup.events", evwait_wake_cb, ew, &ew->w);
	if (r < 0)
		goto fail;
	/* Test after the watch is in place so no change slips between. */
	r = evwait_test(ew);
	if (r != 0) {
		evwait_end(ew, r > 0 ? 0 : r);
		return 0;
	}
	evtimer_add(ew->timer, &tv);
	ew->next = m->waits;
	m->waits = ew;
	return 0;
fail:
	monitor_remove(m->mon, ew->w);
	if (ew->timer)
		event_free(ew->timer);
	free(ew->rel);
	free(ew);
	return r;
}

void evwait_cancel_all(struct manager *m)
{
	while (m->waits)
		evwait_end(m->waits, -ECANCELED);
}

bool evwait_pending(const struct manager *m)
{
	return m->waits != NULL;
}
