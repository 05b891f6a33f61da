/* SPDX-License-Identifier: MIT */
/* events.h: kernel notifications per managed cgroup, their cached state, auto_remove; events go to a sink. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <json-c/json.h>

struct ledger_entry;
struct manager;
struct op_error;

#define EVENTS_WATCHERS_MAX 256
#define EVENTS_WATCH_NAMES_MAX 64 /* subtrees one Watch may name */

/*
 * Where events go (the Watch streams, watch.c): to every interested stream
 * when to is NULL, else to the stream to only (a PSI trigger's, pressure.h).
 * owner: the uid whose entry name is (0 when the ledger no longer holds it:
 * administrators only); name "": the daemon itself. details borrowed.
 */
typedef void (*events_sink_fn)(void *userdata, const void *to, const char *type, const char *name, uid_t owner,
			       json_object *details);

/* Send events to fn(userdata, ...) from now on (NULL: nowhere). */
void events_set_sink(struct manager *m, events_sink_fn fn, void *userdata);

/*
 * Follow le's cgroup.events (and memory.events) by inotify where something
 * needs it: auto_remove, or an open Watch stream (events_set_watching()).
 * Otherwise nothing: List follows it when it first reads it. 0 or -errno.
 */
int events_track(struct manager *m, struct ledger_entry *le);
/*
 * Follow le whatever needs it (a List's cold cache): one read, then inotify
 * keeps it current. One whose watch failed (logged, GetStatus's unfollowed) is
 * still "followed" and tried again by each call: the retry's 0 or -errno.
 */
int events_follow(struct manager *m, struct ledger_entry *le);
/* A Watch stream is open (on) or none is: on the first, every entry is followed from now on (and on each
 * one, those whose watch failed are tried again). 0 or -ENOMEM. */
int events_set_watching(struct manager *m, bool on);
/*
 * Cached populated/frozen of a tracked entry (after monitor_flush): 0, -ENOENT
 * when not tracked, -EAGAIN when the cache may be behind: then read the file.
 * That is while it says populated (the kernel tells of an exit late, through a
 * work queue) and within 50 ms of its last change (the kernel holds a second
 * notification back up to 10 ms); an empty cgroup's cache is answered as is.
 */
int events_state(struct manager *m, const struct ledger_entry *le, bool *ret_populated, bool *ret_frozen);
/*
 * The kernel's notifications lag (kernfs queues them, cgroup rate-limits them
 * to one per 10 ms) and merge quick flips: a freeze thawed within 10 ms can
 * reach inotify as no change at all. So a reply that confirms a state first
 * hands it here: the cache List answers from and the Watch streams agree with
 * the reply at once, and every confirmed transition is reported once.
 */
/* A Freeze (frozen true) or Thaw reply is about to confirm frozen for name. */
void events_confirm_frozen(struct manager *m, const char *name, bool frozen);
/* Re-read name's cgroup.events now (after we moved processes in, before GetStats). */
void events_refresh(struct manager *m, const char *name);
/* Stop following le (before it leaves the ledger). */
void events_untrack(struct manager *m, struct ledger_entry *le);
/* Tell every interested stream (details consumed, may be NULL). */
void events_emit(struct manager *m, const char *type, const char *name, json_object *details);
/* The same for an entry already gone from the ledger: only owner (and administrators) hear of it. */
void events_emit_owned(struct manager *m, const char *type, const char *name, uid_t owner, json_object *details);
/* Tell the stream to only (details consumed; nothing when it is not streaming). */
void events_send(struct manager *m, const void *to, const char *type, const char *name, json_object *details);
/* Destroy name (recursive; kill: its processes first) with nobody waiting for the answer, as its owner could: logged. */
void events_collect(struct manager *m, const char *name, bool kill);
/* Processes were moved into name: auto_remove bookkeeping. true when the ledger changed. */
bool events_attached(struct manager *m, const char *name);
/* After reconcile: track every entry, release leases of a previous run, collect empties. */
void events_startup(struct manager *m);
/* Stop following every entry; no lease is released from now on (daemon stopping, streams ended). */
void events_stop(struct manager *m);
