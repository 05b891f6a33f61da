/* SPDX-License-Identifier: MIT */
/* events.c: kernel notifications per managed cgroup, their cached state, auto_remove; events go to a sink. */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <event2/event.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"
#include "manager_internal.h"
#include "monitor.h"
#include "now.h"
#include "pressure.h"
#include "tenant.h"

/* What we know of one managed cgroup at run time (ledger_entry.userdata). */
struct entry_rt {
	char *name;
	struct manager *m;
	struct watch *ev_w, *mem_w;
	bool populated, frozen;
	bool failed;           /* cgroup.events could not be watched: counted in m->unfollowed, retried */
	uint64_t changed_usec; /* when populated or frozen last changed, monotonic (0: never) */
	long long oom, oom_kill;
};

/*
 * The kernel sends at most one cgroup.events notification a file every 10 ms
 * and delays the next: for this long after a change a cached "empty" (or
 * frozen) may be behind. A cached "populated" is never trusted (events_state).
 */
#define EVENTS_SETTLE_USEC (50 * 1000)

/* Where events go. */
void events_set_sink(struct manager *m, events_sink_fn fn, void *userdata)
{
	m->sink = fn;
	m->sink_data = userdata;
}

/* Tell every interested stream that may see the entry. */
void events_emit(struct manager *m, const char *type, const char *name, json_object *details)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	/* An entry the ledger no longer holds: administrators only, unless the caller said whose. */
	events_emit_owned(m, type, name, le ? le->owner : 0, details);
}

/* Tell every interested stream of owner's entry name. */
void events_emit_owned(struct manager *m, const char *type, const char *name, uid_t owner, json_object *details)
{
	if (m->sink)
		m->sink(m->sink_data, NULL, type, name, owner, details);
	json_object_put(details);
}

/* Tell stream to only, if it may hear of name (an entry the ledger no longer holds: administrators). */
void events_send(struct manager *m, const void *to, const char *type, const char *name, json_object *details)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	if (m->sink)
		m->sink(m->sink_data, to, type, name, le ? le->owner : 0, details);
	json_object_put(details);
}

/* Parse "key N" out of a flat-keyed file's text; -1 when absent. */
static long long events_key(const char *text, const char *key)
{
	size_t n = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (strncmp(p, key, n) == 0 && p[n] == ' ')
			return strtoll(p + n + 1, NULL, 10);
	return -1;
}

/* Read rt's memory.events counters "oom" and "oom_kill". 0 or -errno. */
static int events_memory_read(const struct entry_rt *rt, long long *ret_oom, long long *ret_kill)
{
	_cleanup_free_ char *rel = NULL, *text = NULL;
	int r = cgname_to_path(rt->name, &rel);

	if (r < 0 || (r = cgfs_read_attr(rt->m->rootfd, rel, "memory.events", 4096, &text)) < 0)
		return r;
	*ret_oom = events_key(text, "oom");
	*ret_kill = events_key(text, "oom_kill");
	return 0;
}

/* memory.events changed: report new OOM events. */
static void events_memory_cb(void *arg, int gone)
{
	struct entry_rt *rt = arg;
	long long oom, kill;

	if (gone || events_memory_read(rt, &oom, &kill) < 0)
		return;
	if (oom > rt->oom) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "count", json_object_new_int64(oom));
		events_emit(rt->m, "oom", rt->name, d);
	}
	if (kill > rt->oom_kill) {
		json_object *d = json_object_new_object();
		json_object_object_add(d, "count", json_object_new_int64(kill));
		events_emit(rt->m, "oom_kill", rt->name, d);
	}
	rt->oom = oom;
	rt->oom_kill = kill;
}

/* A collection nobody waits for: what it was, for a retry. */
struct events_collecting {
	struct manager *m;
	char *name;
	bool kill;
	unsigned tries;
};

static void events_collect_try(struct manager *m, const char *name, bool kill, unsigned tries);
static void events_populated_changed(struct manager *m, struct ledger_entry *le, bool populated, unsigned tries);

/* A lease's release (arg 1) or an auto_remove (arg 0) is due again: settle the entry again. */
static void events_retry_due(struct manager *m, struct ledger_entry *le, const char *name, unsigned tries, int arg)
{
	if (arg && le->lease)
		events_collect_try(m, name, true, tries);
	else if (le->auto_remove) {
		_cleanup_free_ char *rel = NULL;
		bool populated;

		if (cgname_to_path(name, &rel) >= 0 && cgfs_read_events(m->rootfd, rel, &populated, NULL) >= 0)
			events_populated_changed(m, le, populated, tries);
	}
}

/* Try name's release (kill) or auto_remove again later: the ledger could not be written, or the processes outlived the wait. */
static void events_retry_later(struct manager *m, const char *name, bool kill, unsigned tries)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	if (le)
		manager_retry_later(m, le, tries, events_retry_due, kill);
}

/* A lease's release or an auto_remove ended (logged; nobody waits for the answer). */
static void events_auto_removed_cb(void *arg, int r, bool existed, json_object *removed, const struct op_error *e)
{
	struct events_collecting *c = arg;

	if (r < 0) {
		log_notice("%s of %s failed: %s", c->kill ? "lease release" : "auto_remove", c->name, e->message);
		/* Transient: a full state directory, processes that outlived the wait. Not at a stop. */
		if (e->code == CGERR_SYSTEM_ERROR || (e->code == CGERR_TIMEOUT && r != -ECANCELED))
			events_retry_later(c->m, c->name, c->kill, c->tries);
	}
	free(c->name);
	free(c);
}

/* events_collect(), the tries-th time. */
static void events_collect_try(struct manager *m, const char *name, bool kill, unsigned tries)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	struct destroy_request req = { .name = name, .recursive = true, .kill = kill,
				       .timeout_ms = MANAGER_KILL_TIMEOUT_MS, .caller = le ? le->owner : 0 };
	struct events_collecting *c = calloc(1, sizeof(*c));

	if (!c || !(c->name = strdup(name))) {
		free(c);
		return;
	}
	c->m = m;
	c->kill = kill;
	c->tries = tries;
	manager_destroy(m, &req, events_auto_removed_cb, c);
}

/*
 * Start an asynchronous destroy nobody waits for, with the reach of the
 * entry's owner: a lease's hang-up or an auto_remove of a tenant's entry never
 * kills or removes another owner's entry below it, as the tenant's own
 * recursive destroy would not. One that fails for want of the ledger or of
 * time is tried again.
 */
void events_collect(struct manager *m, const char *name, bool kill)
{
	events_collect_try(m, name, kill, 0);
}

/* populated went 0 → 1 or 1 → 0 for an entry (the tries-th time): auto_remove bookkeeping. */
static void events_populated_changed(struct manager *m, struct ledger_entry *le, bool populated, unsigned tries)
{
	if (!le->auto_remove)
		return;
	if (populated && !le->was_populated) {
		struct ledger_entry copy = *le;
		copy.was_populated = true;
		if (ledger_put(m->ledger, &copy, NULL) < 0) {
			log_warnx("%s: could not record that it was populated", le->name);
			events_retry_later(m, le->name, false, tries);
		}
	} else if (!populated && le->was_populated) {
		log_info("%s emptied: removing it (auto_remove)", le->name);
		events_collect_try(m, le->name, false, tries);
	}
}

/*
 * A state of rt's cgroup read just now: cache it, report each transition,
 * drive auto_remove. rt may be gone when this returns (an auto_remove).
 */
static void events_apply(struct entry_rt *rt, bool populated, bool frozen)
{
	struct manager *m = rt->m;
	_cleanup_free_ char *name = strdup(rt->name);
	struct ledger_entry *le;

	if (!name)
		return;
	if (frozen != rt->frozen || populated != rt->populated)
		rt->changed_usec = now_mono_usec();
	if (frozen != rt->frozen) {
		rt->frozen = frozen;
		events_emit(m, frozen ? "frozen" : "thawed", name, NULL);
	}
	if (populated == rt->populated)
		return;
	rt->populated = populated;
	events_emit(m, populated ? "populated" : "empty", name, NULL);
	le = ledger_get(m->ledger, name);
	if (le)
		events_populated_changed(m, le, populated, 0);
}

/* Read rt's cgroup.events now and take it. */
static void events_reread(struct entry_rt *rt)
{
	_cleanup_free_ char *rel = NULL;
	bool populated, frozen;

	if (cgname_to_path(rt->name, &rel) < 0 || cgfs_read_events(rt->m->rootfd, rel, &populated, &frozen) < 0)
		return;
	events_apply(rt, populated, frozen);
}

/* cgroup.events changed (inotify): take what it says now. */
static void events_cgroup_cb(void *arg, int gone)
{
	if (!gone)
		events_reread(arg);
}

/* The run-time state of a tracked entry called name, NULL if none. */
static struct entry_rt *events_rt_of(struct manager *m, const char *name)
{
	struct ledger_entry *le = name ? ledger_get(m->ledger, name) : NULL;
	struct entry_rt *rt = le ? le->userdata : NULL;

	return rt && rt->ev_w ? rt : NULL;
}

/* Re-read every tracked entry strictly below name: they follow its freezer. */
static void events_reread_below(struct manager *m, const char *name)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	_cleanup_free_ char **below = NULL;
	size_t n, k = 0;

	if (ledger_list(m->ledger, &all, &n) < 0 || !(below = calloc(n + 1, sizeof(char *))))
		return;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(all[i]->name, name) == 0 || !cgname_is_below(all[i]->name, name))
			continue;
		below[k] = strdup(all[i]->name);
		if (!below[k])
			break;
		k++;
	}
	/* By name again: an auto_remove started by one re-read may take others away. */
	for (size_t i = 0; i < k; i++) {
		struct entry_rt *rt = events_rt_of(m, below[i]);

		if (rt)
			events_reread(rt);
		free(below[i]);
	}
}

/* A Freeze or Thaw reply is about to confirm frozen: the cache and the watchers learn it first. */
void events_confirm_frozen(struct manager *m, const char *name, bool frozen)
{
	struct entry_rt *rt = events_rt_of(m, name);

	if (rt)
		events_apply(rt, rt->populated, frozen);
	events_reread_below(m, name);
}

/* Something we did changed name's state (processes moved in): read it and its ancestors now. */
void events_refresh(struct manager *m, const char *name)
{
	_cleanup_free_ char *n = name ? strdup(name) : NULL;

	/* populated counts the whole subtree: every ancestor may have changed too. */
	for (char *slash = n ? n + strlen(n) : NULL; slash; slash = strrchr(n, '/')) {
		struct entry_rt *rt;

		*slash = '\0';
		rt = events_rt_of(m, n);
		if (rt)
			events_reread(rt);
	}
}

/*
 * Processes were moved into name. An auto_remove entry has had processes from
 * now on, even when they were gone before anyone read populated 1 (a short-lived
 * container): record it, and collect the entry when it is already empty. true
 * when the ledger changed (the caller answers durably). rt may be gone after.
 */
bool events_attached(struct manager *m, const char *name)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	struct entry_rt *rt = le ? le->userdata : NULL;

	if (!le || !le->auto_remove || le->was_populated || !rt || !rt->ev_w)
		return false;
	if (!rt->populated)
		events_apply(rt, true, rt->frozen);
	else
		events_populated_changed(m, le, true, 0);
	/* Gone already? Then it is empty now, and goes (auto_remove). */
	rt = events_rt_of(m, name);
	if (rt)
		events_reread(rt);
	return true;
}

/* Read cgroup.events into rt and watch it, through one descriptor. */
static int events_watch_events(struct manager *m, struct entry_rt *rt, const char *rel)
{
	_cleanup_close_ int fd = cgfs_open_attr(m->rootfd, rel, "cgroup.events", O_RDONLY);
	int r;

	if (fd < 0)
		return fd;
	/* Watched first, read after: a change in between is then heard (and re-read), never lost. */
	r = monitor_add_fd(m->mon, fd, events_cgroup_cb, rt, &rt->ev_w);
	if (r < 0)
		return r;
	r = cgfs_read_events_fd(fd, &rt->populated, &rt->frozen);
	if (r < 0) {
		/* No state known: not a cache List may trust. */
		monitor_remove(m->mon, rt->ev_w);
		rt->ev_w = NULL;
	}
	return r;
}

/* Cached populated/frozen of a tracked entry: 0, -ENOENT when not tracked, -EAGAIN while it may lag. */
int events_state(struct manager *m, const struct ledger_entry *le, bool *ret_populated, bool *ret_frozen)
{
	const struct entry_rt *rt = le->userdata;

	if (!rt || !rt->ev_w)
		return -ENOENT;
	/*
	 * Its last process may have exited: the kernel hands inotify the news
	 * through a work queue, which under load runs tens of ms after the parent's
	 * wait returned, with no bound. Processes leave on their own; they come in
	 * only when moved (Attach re-reads), so "populated" is what goes stale.
	 */
	if (rt->populated)
		return -EAGAIN;
	/* A change within the kernel's notification delay: a second may be on its way. */
	if (rt->changed_usec && now_mono_usec() - rt->changed_usec < EVENTS_SETTLE_USEC)
		return -EAGAIN;
	*ret_populated = rt->populated;
	*ret_frozen = rt->frozen;
	return 0;
}

/* Does something need le followed: auto_remove (populated drives it), or an open Watch stream? */
static bool events_needed(const struct manager *m, const struct ledger_entry *le)
{
	return le->auto_remove || m->watching;
}

/* Follow le where something needs it. */
int events_track(struct manager *m, struct ledger_entry *le)
{
	return events_needed(m, le) ? events_follow(m, le) : 0;
}

/*
 * Watch rt's cgroup.events (and memory.events), the first time or again after
 * a failure (inotify out of watches, say): a failure is logged once and
 * counted in m->unfollowed until a retry (the next List or Watch) succeeds.
 */
static int events_watch_rt(struct manager *m, struct entry_rt *rt)
{
	_cleanup_free_ char *rel = NULL;
	int r;

	if (cgname_to_path(rt->name, &rel) < 0)
		return -ENOMEM;
	/* One open serves the first read and the watch. */
	r = events_watch_events(m, rt, rel);
	if (r < 0 && !rt->failed)
		log_warn_errno(r, "%s: cannot watch cgroup.events; no events or auto_remove for it until the next "
			       "List or Watch retries", rt->name);
	else if (r >= 0 && rt->failed)
		log_info("%s: cgroup.events watched now (it could not be before)", rt->name);
	if ((r < 0) != rt->failed)
		m->unfollowed = r < 0 ? m->unfollowed + 1 : m->unfollowed - 1;
	rt->failed = r < 0;
	/* memory.events exists only with the memory controller: don't probe for it otherwise. The
	 * counts so far are where its events start, not events (a Watch may start long after). */
	if (m->have_memory && !rt->mem_w &&
	    monitor_add(m->mon, m->rootfd, rel, "memory.events", events_memory_cb, rt, &rt->mem_w) >= 0 &&
	    events_memory_read(rt, &rt->oom, &rt->oom_kill) < 0)
		rt->oom = rt->oom_kill = -1;
	return r;
}

/* Start following le; one whose watch failed before is tried again. */
int events_follow(struct manager *m, struct ledger_entry *le)
{
	struct entry_rt *rt = le->userdata;

	if (rt)
		return rt->failed ? events_watch_rt(m, rt) : 0;
	if (!m->mon)
		return -ENOTCONN; /* nothing to follow with */
	rt = calloc(1, sizeof(*rt));
	if (!rt || !(rt->name = strdup(le->name))) {
		free(rt);
		return -ENOMEM;
	}
	rt->m = m;
	rt->oom = rt->oom_kill = -1;
	le->userdata = rt;
	events_watch_rt(m, rt);
	return 0;
}


/* The first Watch stream opened: follow every entry (existing ones too), so that it hears of them. */
int events_set_watching(struct manager *m, bool on)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	size_t n;

	/* Another stream: entries whose watch failed are tried again. */
	if (on && (!m->watching || m->unfollowed > 0)) {
		if (ledger_list(m->ledger, &all, &n) < 0)
			return -ENOMEM;
		/* One that cannot be followed was logged; the stream still hears of the others. */
		for (size_t i = 0; i < n; i++)
			events_follow(m, all[i]);
	}
	m->watching = on;
	return 0;
}

/* Stop following le. */
void events_untrack(struct manager *m, struct ledger_entry *le)
{
	struct entry_rt *rt = le->userdata;

	if (!rt)
		return;
	if (rt->failed)
		m->unfollowed--;
	monitor_remove(m->mon, rt->ev_w);
	monitor_remove(m->mon, rt->mem_w);
	free(rt->name);
	free(rt);
	le->userdata = NULL;
}

/* After reconcile: track every entry, release old leases, collect empties. */
void events_startup(struct manager *m)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	_cleanup_free_ char **drop = NULL;
	size_t n, k = 0;

	if (ledger_list(m->ledger, &all, &n) < 0)
		return;
	drop = calloc(n + 1, sizeof(char *));
	if (!drop)
		return;
	for (size_t i = 0; i < n; i++) {
		struct ledger_entry *le = all[i];
		struct entry_rt *rt;

		events_track(m, le);
		rt = le->userdata;
		if (le->lease)
			drop[k++] = le->name; /* its connection died with the previous daemon */
		else if (le->auto_remove && rt) {
			if (rt->populated && !le->was_populated)
				events_populated_changed(m, le, true, 0);
			else if (!rt->populated && le->was_populated)
				drop[k++] = le->name;
		}
	}
	if (ledger_get_recovery(m->ledger)->mode == LEDGER_RECOVERY && k > 0) {
		/* Records were lost: release no lease and remove nothing at this start. */
		log_warnx("recovery: %zu lease release(s) and auto-removal(s) skipped at this start", k);
		k = 0;
	}
	/* Destroys change the ledger: start them after the walk, deepest names last is fine. */
	for (size_t i = k; i-- > 0;) {
		_cleanup_free_ char *name = strdup(drop[i]);
		struct ledger_entry *le = name ? ledger_get(m->ledger, name) : NULL;
		if (le)
			events_collect(m, name, le->lease);
	}
}

/* Stop following every entry, free the PSI triggers (daemon stopping, after the streams ended). */
void events_stop(struct manager *m)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	size_t n;

	m->stopping = true;
	manager_retries_free(m);
	if (ledger_list(m->ledger, &all, &n) >= 0)
		for (size_t i = 0; i < n; i++)
			events_untrack(m, all[i]);
	pressure_done(m);
}
