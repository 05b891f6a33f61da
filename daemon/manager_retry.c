/* SPDX-License-Identifier: MIT */
/* manager_retry.c: what the ledger could not record now, tried again later for that very entry. */
#include "manager_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "cleanup.h"
#include "log.h"

/* One retry due: fn(arg) for the entry name, if the ledger still holds that very one. */
struct manager_retry {
	struct manager_retry *next;
	struct manager *m;
	struct event *timer;
	char *name;
	uint64_t cgroup_id; /* that very entry, not one made again under its name */
	manager_retry_fn fn;
	int arg;
	unsigned tries; /* those before this one */
};

/* Unlink rr from its manager's list and free it. */
static void manager_retry_free(struct manager_retry *rr)
{
	for (struct manager_retry **pp = &rr->m->retries; *pp; pp = &(*pp)->next)
		if (*pp == rr) {
			*pp = rr->next;
			break;
		}
	if (rr->timer)
		event_free(rr->timer);
	free(rr->name);
	free(rr);
}

/* A retry is due: free it first (fn may schedule the next), then call fn if the entry is that very one. */
static void manager_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	struct manager_retry *rr = arg;
	struct manager *m = rr->m;
	struct ledger_entry *le = ledger_get(m->ledger, rr->name);
	_cleanup_free_ char *name = TAKE_PTR(rr->name);
	manager_retry_fn fn = rr->fn;
	unsigned tries = rr->tries + 1;
	int a = rr->arg;
	bool ours = le && le->cgroup_id == rr->cgroup_id;

	(void)fd;
	(void)what;
	manager_retry_free(rr);
	if (ours && !m->stopping)
		fn(m, le, name, tries, a);
}

int manager_retry_later(struct manager *m, const struct ledger_entry *le, unsigned tries, manager_retry_fn fn, int arg)
{
	unsigned secs = tries < 6 ? 1u << tries : 60;
	struct timeval tv = { .tv_sec = secs };
	struct manager_retry *rr;

	if (m->stopping)
		return 0; /* the next start settles it */
	for (rr = m->retries; rr; rr = rr->next)
		if (rr->fn == fn && strcmp(rr->name, le->name) == 0)
			return 0; /* one is due already */
	rr = calloc(1, sizeof(*rr));
	if (!rr || !(rr->name = strdup(le->name)) || !(rr->timer = evtimer_new(m->base, manager_retry_cb, rr)) ||
	    evtimer_add(rr->timer, &tv) < 0) {
		if (rr && rr->timer)
			event_free(rr->timer);
		if (rr)
			free(rr->name);
		free(rr);
		log_warnx("%s: cannot schedule another try; the next start settles it", le->name);
		return -ENOMEM;
	}
	rr->m = m;
	rr->cgroup_id = le->cgroup_id;
	rr->fn = fn;
	rr->arg = arg;
	rr->tries = tries;
	rr->next = m->retries;
	m->retries = rr;
	log_notice("%s: trying again in %u s", le->name, secs);
	return 0;
}

void manager_retries_free(struct manager *m)
{
	while (m->retries)
		manager_retry_free(m->retries);
}
