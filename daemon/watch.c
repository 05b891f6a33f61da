/* SPDX-License-Identifier: MIT */
/* watch.c: the Watch streams (glue): the domain's events, filtered per stream, as "more" replies. */
#include "watch.h"

#include <errno.h>
#include <stdlib.h>

#include "app.h"
#include "conn.h"
#include "events.h"
#include "log.h"
#include "manager.h"
#include "now.h"
#include "pressure.h"
#include "quota.h"
#include "server.h"
#include "tenant.h"

/* A Watch call streaming events. */
struct watcher {
	struct watcher *next;
	struct call *call;
	json_object *names; /* array of names (subtrees), NULL: all */
	uid_t uid;          /* the client's: a tenant hears of its own entries only */
};

/* May w hear of owner's entry name? Daemon-wide events (""): everybody. */
static bool watcher_may(const struct watcher *w, const char *name, uid_t owner)
{
	return !name[0] || tenant_is_admin(w->uid) || w->uid == owner;
}

/* Does w want events about owner's entry name, and may it hear of them? */
static bool watcher_wants(const struct watcher *w, const char *name, uid_t owner)
{
	if (!watcher_may(w, name, owner))
		return false;
	if (!name[0] || !w->names)
		return true;
	for (size_t i = 0; i < json_object_array_length(w->names); i++)
		if (cgname_is_below(name, json_object_get_string(json_object_array_get_idx(w->names, i))))
			return true;
	return false;
}

/* Unlink and free w (its call already answered or about to be). */
static void watcher_free(struct app *a, struct watcher *w)
{
	for (struct watcher **pp = &a->watchers; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			break;
		}
	a->n_watchers--;
	events_set_watching(a->mgr, a->n_watchers > 0);
	pressure_release(a->mgr, w->call);
	json_object_put(w->names);
	free(w);
}

/* A watcher that does not read: drop it with a clear final error. */
static void watcher_drop_slow(struct app *a, struct watcher *w)
{
	struct call *call = w->call;

	log_notice("connection %llu: watcher does not read its events, dropped",
		   (unsigned long long)conn_id(call_conn(call)));
	watcher_free(a, w);
	call_errorf(call, CGERR_QUOTA_EXCEEDED, "limit", "watch-buffer",
		    "more than %u bytes of events unread: the watch was dropped; watch again and read faster",
		    WATCH_BUFFER_MAX);
}

/* The Event object {type, name, timestamp, details} (details borrowed), in its reply parameters. */
static json_object *watch_event(const char *type, const char *name, json_object *details)
{
	json_object *ev = json_object_new_object(), *p = json_object_new_object();

	json_object_object_add(ev, "type", json_object_new_string(type));
	json_object_object_add(ev, "name", json_object_new_string(name));
	json_object_object_add(ev, "timestamp", json_object_new_int64((int64_t)now_usec()));
	json_object_object_add(ev, "details", details ? json_object_get(details) : NULL);
	json_object_object_add(p, "event", ev);
	return p;
}

/* Stream one event to w (details borrowed), or drop w when it does not read. */
static void watcher_send(struct app *a, struct watcher *w, const char *type, const char *name,
			 json_object *details)
{
	if (conn_out_bytes(call_conn(w->call)) > WATCH_BUFFER_MAX) {
		watcher_drop_slow(a, w);
		return;
	}
	call_reply_more(w->call, watch_event(type, name, details));
}

/* The domain's sink: to every interested stream, or to the stream to only. */
static void watch_sink(void *userdata, const void *to, const char *type, const char *name, uid_t owner,
		       json_object *details)
{
	struct app *a = userdata;
	struct watcher *w, *next;

	for (w = a->watchers; w; w = next) {
		next = w->next;
		if (to && w->call == to) {
			if (watcher_may(w, name, owner))
				watcher_send(a, w, type, name, details);
			return;
		}
		if (!to && watcher_wants(w, name, owner))
			watcher_send(a, w, type, name, details);
	}
}

/* Take the domain's events. */
void watch_init(struct app *a)
{
	events_set_sink(a->mgr, watch_sink, a);
}

/* Check Watch's names: at most EVENTS_WATCH_NAMES_MAX valid names. 0 or -errno with e. */
static int watch_check_names(json_object *names, struct op_error *e)
{
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
	return 0;
}

/* Register call as a stream of names (NULL: all). */
int watch_add(struct app *a, struct call *call, json_object *names, json_object *pressure, struct op_error *e)
{
	struct manager *m = a->mgr;
	struct watcher *w;
	int r;

	if (a->n_watchers >= manager_watchers_max(m))
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "watchers",
				    "at most %u watchers at once (--max-watchers)", manager_watchers_max(m));
	if ((r = quota_check_watch(m, call_peer_uid(call), watch_count_of(a, call_peer_uid(call)), e)) < 0)
		return r;
	if ((r = watch_check_names(names, e)) < 0)
		return r;
	/* Entries are followed only where needed: from now on every one is, existing ones too. */
	w = calloc(1, sizeof(*w));
	if (!w || events_set_watching(m, true) < 0) {
		events_set_watching(m, a->n_watchers > 0);
		free(w);
		return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
	}
	w->call = call;
	w->uid = call_peer_uid(call);
	if (pressure_add(m, call, w->uid, server_limits(call_server(call))->triggers_per_uid, pressure, e) < 0) {
		events_set_watching(m, a->n_watchers > 0);
		free(w);
		return -e->errnum;
	}
	w->names = names && json_object_array_length(names) > 0 ? json_object_get(names) : NULL;
	w->next = a->watchers;
	a->watchers = w;
	a->n_watchers++;
	/* The first reply says the watch is in place: events after it are not missed. */
	call_reply_more(call, watch_event("watching", "", NULL));
	return 0;
}

/* Connection c is gone: end its stream. */
void watch_conn_closed(struct app *a, struct conn *c)
{
	struct watcher *w, *next;

	for (w = a->watchers; w; w = next) {
		struct call *call = w->call;

		next = w->next;
		if (call_conn(call) != c)
			continue;
		watcher_free(a, w);
		call_reply(call, NULL); /* into the void: frees the call */
	}
}

/*
 * End every stream (daemon stopping): a final reply (no "continues") with a
 * "stopping" event, the clean end of a Varlink stream, not an error: nothing
 * timed out, and a client tells it from a daemon that died (the socket closes).
 */
void watch_stop(struct app *a)
{
	while (a->watchers) {
		struct watcher *w = a->watchers;
		struct call *call = w->call;

		watcher_free(a, w);
		call_reply(call, watch_event("stopping", "", NULL));
	}
}

unsigned watch_count(const struct app *a)
{
	return a->n_watchers;
}

/* Count the Watch streams of uid. */
unsigned watch_count_of(const struct app *a, uid_t uid)
{
	unsigned n = 0;

	for (const struct watcher *w = a->watchers; w; w = w->next)
		n += w->uid == uid;
	return n;
}
