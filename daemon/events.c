/* SPDX-License-Identifier: MIT */
/* events.c: kernel notifications per managed cgroup, the Watch streams, auto_remove and leases. */
#include "events.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "conn.h"
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
	long long oom, oom_kill;
};

/* A Watch call streaming events. */
struct watcher {
	struct watcher *next;
	struct call *call;
	json_object *names; /* array of names (subtrees), NULL: all */
	uid_t uid;          /* the client's: a tenant hears of its own entries only */
};

/* Does w want events about owner's entry name, and may it hear of them? Daemon-wide ones (""): everybody. */
static bool watcher_wants(const struct watcher *w, const char *name, uid_t owner)
{
	if (!name[0])
		return true;
	if (!tenant_is_admin(w->uid) && w->uid != owner)
		return false;
	if (!w->names)
		return true;
	for (size_t i = 0; i < json_object_array_length(w->names); i++)
		if (cgname_is_below(name, json_object_get_string(json_object_array_get_idx(w->names, i))))
			return true;
	return false;
}

/* Unlink and free w (its call already answered). */
static void watcher_free(struct manager *m, struct watcher *w)
{
	for (struct watcher **pp = (struct watcher **)&m->watchers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	m->n_watchers--;
	pressure_release(m, w->call);
	json_object_put(w->names);
	free(w);
}

/* A watcher that does not read: drop it with a clear final error. */
static void watcher_drop_slow(struct manager *m, struct watcher *w)
{
	struct call *call = w->call;

	log_notice("connection %llu: watcher does not read its events, dropped",
		   (unsigned long long)call->conn->id);
	watcher_free(m, w);
	call_errorf(call, CGERR_QUOTA_EXCEEDED, "limit", "watch-buffer",
		    "more than %u bytes of events unread: the watch was dropped; watch again and read faster",
		    EVENTS_WATCH_BUFFER_MAX);
}

/* Stream one event to w (details borrowed), or drop w when it does not read. */
static void watcher_send(struct manager *m, struct watcher *w, const char *type, const char *name,
			 json_object *details)
{
	json_object *ev, *p;

	if (conn_out_bytes(w->call->conn) > EVENTS_WATCH_BUFFER_MAX) {
		watcher_drop_slow(m, w);
		return;
	}
	ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "name", json_object_new_string(name));
	json_object_object_add(ev, "timestamp", json_object_new_int64((int64_t)now_usec()));
	json_object_object_add(ev, "details", details ? json_object_get(details) : NULL);
	p = json_object_new_object();
	json_object_object_add(p, "event", ev);
	call_reply_more(w->call, p);
}

/* Tell every interested watcher that may see the entry. */
void events_emit(struct manager *m, const char *type, const char *name, json_object *details)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	/* An entry the ledger no longer holds: administrators only, unless the caller said whose. */
	events_emit_owned(m, type, name, le ? le->owner : 0, details);
}

/* Tell every interested watcher of owner's entry name. */
void events_emit_owned(struct manager *m, const char *type, const char *name, uid_t owner, json_object *details)
{
	struct watcher *w, *next;

	for (w = m->watchers; w; w = next) {
		next = w->next;
		if (watcher_wants(w, name, owner))
			watcher_send(m, w, type, name, details);
	}
	json_object_put(details);
}

/* Tell the watcher of call only, if it may hear of name (an entry the ledger no longer holds: administrators). */
void events_send(struct manager *m, const struct call *call, const char *type, const char *name,
		 json_object *details)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	for (struct watcher *w = m->watchers; w; w = w->next)
		if (w->call == call) {
			if (!name[0] || tenant_is_admin(w->uid) || (le && tenant_may_access(w->uid, le)))
				watcher_send(m, w, type, name, details);
			break;
		}
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

/* memory.events changed: report new OOM events. */
static void events_memory_cb(void *arg, int gone)
{
	struct entry_rt *rt = arg;
	_cleanup_free_ char *rel = NULL, *text = NULL;
	long long oom, kill;

	if (gone || cgname_to_path(rt->name, &rel) < 0 ||
	    cgfs_read_attr(rt->m->rootfd, rel, "memory.events", 4096, &text) < 0)
		return;
	oom = events_key(text, "oom");
	kill = events_key(text, "oom_kill");
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

/* An auto_remove entry emptied: remove it (logged; nobody waits for the answer). */
static void events_auto_removed_cb(void *arg, int r, bool existed, json_object *removed, const struct op_error *e)
{
	char *name = arg;

	if (r < 0)
		log_notice("auto_remove of %s failed: %s", name, e->message);
	free(name);
}

/* Start an asynchronous destroy nobody waits for. */
static void events_destroy(struct manager *m, const char *name, bool kill)
{
	struct destroy_request req = { .name = name, .recursive = true, .kill = kill,
				       .timeout_ms = MANAGER_KILL_TIMEOUT_MS };
	char *copy = strdup(name);

	if (copy)
		manager_destroy(m, &req, events_auto_removed_cb, copy);
}

/* populated went 0 → 1 or 1 → 0 for an entry: auto_remove bookkeeping. */
static void events_populated_changed(struct manager *m, struct ledger_entry *le, bool populated)
{
	if (!le->auto_remove)
		return;
	if (populated && !le->was_populated) {
		struct ledger_entry copy = *le;
		copy.was_populated = true;
		if (ledger_put(m->ledger, &copy, NULL) < 0)
			log_warnx("%s: could not record that it was populated", le->name);
	} else if (!populated && le->was_populated) {
		log_info("%s emptied: removing it (auto_remove)", le->name);
		events_destroy(m, le->name, false);
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
		events_populated_changed(m, le, populated);
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
		events_populated_changed(m, le, true);
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
	cgfs_read_events_fd(fd, &rt->populated, &rt->frozen);
	r = monitor_add_fd(m->mon, fd, events_cgroup_cb, rt, &rt->ev_w);
	return r;
}

/* Cached populated/frozen of a tracked entry: 0, or -ENOENT when not tracked. */
int events_state(struct manager *m, const struct ledger_entry *le, bool *ret_populated, bool *ret_frozen)
{
	const struct entry_rt *rt = le->userdata;

	if (!rt || !rt->ev_w)
		return -ENOENT;
	*ret_populated = rt->populated;
	*ret_frozen = rt->frozen;
	return 0;
}

/* Start following le. */
int events_track(struct manager *m, struct ledger_entry *le)
{
	_cleanup_free_ char *rel = NULL;
	struct entry_rt *rt;
	int r;

	if (le->userdata)
		return 0;
	rt = calloc(1, sizeof(*rt));
	if (!rt || !(rt->name = strdup(le->name)) || cgname_to_path(le->name, &rel) < 0) {
		if (rt)
			free(rt->name);
		free(rt);
		return -ENOMEM;
	}
	rt->m = m;
	rt->oom = rt->oom_kill = -1;
	/* One open serves the first read and the watch. */
	r = events_watch_events(m, rt, rel);
	if (r < 0)
		log_warn_errno(r, "%s: cannot watch cgroup.events; no events or auto_remove for it", le->name);
	/* memory.events exists only with the memory controller: don't probe for it otherwise. */
	if (m->have_memory &&
	    monitor_add(m->mon, m->rootfd, rel, "memory.events", events_memory_cb, rt, &rt->mem_w) >= 0)
		events_memory_cb(rt, 0);
	le->userdata = rt;
	return 0;
}

/* Stop following le. */
void events_untrack(struct manager *m, struct ledger_entry *le)
{
	struct entry_rt *rt = le->userdata;

	if (!rt)
		return;
	monitor_remove(m->mon, rt->ev_w);
	monitor_remove(m->mon, rt->mem_w);
	free(rt->name);
	free(rt);
	le->userdata = NULL;
}

/* Register call as a watcher of names (NULL: all). */
int events_watch_add(struct manager *m, struct call *call, json_object *names, json_object *pressure,
		     struct op_error *e)
{
	struct watcher *w;
	json_object *ev, *p;

	if (m->n_watchers >= m->watchers_max)
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "watchers",
				    "at most %u watchers at once (--max-watchers)", m->watchers_max);
	/* Every event is matched against every name: keep the list short. */
	if (names && json_object_array_length(names) > EVENTS_WATCH_NAMES_MAX)
		return op_error_set(e, -E2BIG, CGERR_INVALID_VALUE, "field", "names",
				    "at most %d names in one Watch", EVENTS_WATCH_NAMES_MAX);
	for (size_t i = 0; names && i < json_object_array_length(names); i++) {
		json_object *n = json_object_array_get_idx(names, i);
		const char *why = NULL;

		if (!json_object_is_type(n, json_type_string) ||
		    cgname_validate(json_object_get_string(n), (size_t)json_object_get_string_len(n), &why) < 0)
			return op_error_set(e, -EINVAL, CGERR_INVALID_NAME, "name",
					    json_object_get_string(n), "invalid name: %s", why ? why : "not a string");
	}
	w = calloc(1, sizeof(*w));
	if (!w)
		return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
	w->call = call;
	w->uid = call->conn->uid;
	if (pressure_add(m, call, pressure, e) < 0) {
		free(w);
		return -e->errnum;
	}
	w->names = names && json_object_array_length(names) > 0 ? json_object_get(names) : NULL;
	w->next = m->watchers;
	m->watchers = w;
	m->n_watchers++;
	/* The first reply says the watch is in place: events after it are not missed. */
	ev = json_object_new_object();
	json_object_object_add(ev, "type", json_object_new_string("watching"));
	json_object_object_add(ev, "name", json_object_new_string(""));
	json_object_object_add(ev, "timestamp", json_object_new_int64((int64_t)now_usec()));
	json_object_object_add(ev, "details", NULL);
	p = json_object_new_object();
	json_object_object_add(p, "event", ev);
	call_reply_more(call, p);
	return 0;
}

/* Tie le, this very entry (a later one of the same name is somebody else's), to the connection that created it. */
int events_lease(struct manager *m, struct ledger_entry *le, struct conn *c)
{
	json_object *list = conn_get_data(c), *o;

	if (!list) {
		list = json_object_new_array();
		if (!list)
			return -ENOMEM;
		conn_set_data(c, list);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(le->name));
	json_object_object_add(o, "id", json_object_new_uint64(le->cgroup_id));
	json_object_object_add(o, "created", json_object_new_uint64(le->created_usec));
	if (json_object_array_add(list, o) < 0) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

/* The entry lease o (see events_lease()) was taken on, if the ledger still holds that very one. */
static struct ledger_entry *events_leased_entry(struct manager *m, json_object *o)
{
	json_object *name, *id, *created;
	struct ledger_entry *le;

	if (!json_object_object_get_ex(o, "name", &name) || !json_object_object_get_ex(o, "id", &id) ||
	    !json_object_object_get_ex(o, "created", &created))
		return NULL;
	le = ledger_get(m->ledger, json_object_get_string(name));
	if (!le || !le->lease || le->cgroup_id != json_object_get_uint64(id) ||
	    le->created_usec != json_object_get_uint64(created))
		return NULL;
	return le;
}

/* A connection closed: end its watchers, release its leases. */
void events_conn_closed(struct manager *m, struct conn *c)
{
	json_object *list = conn_get_data(c);
	struct watcher *w, *next;

	for (w = m->watchers; w; w = next) {
		struct call *call = w->call;
		next = w->next;
		if (call->conn != c)
			continue;
		watcher_free(m, w);
		call_reply(call, NULL); /* into the void: frees the call */
	}
	/* Closed because we are stopping: the next start releases these leases. */
	for (size_t i = 0; list && !m->stopping && i < json_object_array_length(list); i++) {
		struct ledger_entry *le = events_leased_entry(m, json_object_array_get_idx(list, i));

		if (le) {
			_cleanup_free_ char *name = strdup(le->name);

			if (!name)
				continue;
			log_info("%s: its lease holder went away; killing and removing it", name);
			events_destroy(m, name, true);
		}
	}
	json_object_put(list);
	conn_set_data(c, NULL);
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
				events_populated_changed(m, le, true);
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
			events_destroy(m, name, le->lease);
	}
}

/* End every watcher and stop following every entry (daemon stopping). */
void events_stop(struct manager *m)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	size_t n;

	m->stopping = true;
	if (ledger_list(m->ledger, &all, &n) >= 0)
		for (size_t i = 0; i < n; i++)
			events_untrack(m, all[i]);
	while (m->watchers) {
		struct watcher *w = m->watchers;
		struct call *call = w->call;

		watcher_free(m, w);
		call_errorf(call, CGERR_TIMEOUT, NULL, NULL, "cgctld is stopping");
	}
	pressure_done(m);
}

/* Number of watchers. */
unsigned events_watcher_count(const struct manager *m)
{
	return m->n_watchers;
}

/*
 * True when something needs the daemon awake: pending work, watchers, or any
 * managed cgroup at all — when the unit stops, systemd removes the empty
 * cgroups below it, so exiting with entries would lose them.
 */
bool events_busy(struct manager *m)
{
	return manager_busy(m) || m->watchers;
}
