/* SPDX-License-Identifier: MIT */
/* events.h: kernel notifications per managed cgroup, the Watch streams, auto_remove and leases. */
#pragma once

#include <stdbool.h>
#include <sys/types.h>
#include <json-c/json.h>

struct call;
struct conn;
struct ledger_entry;
struct manager;
struct op_error;

#define EVENTS_WATCHERS_MAX 256
#define EVENTS_WATCH_NAMES_MAX 64 /* subtrees one Watch may name */
#define EVENTS_WATCH_BUFFER_MAX (1024u * 1024u) /* queued bytes before a slow watcher is dropped */

/* Start following le's cgroup.events (and memory.events) by inotify. 0 or -errno. */
int events_track(struct manager *m, struct ledger_entry *le);
/* Cached populated/frozen of a tracked entry (current after monitor_flush): 0 or -ENOENT. */
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
/* Tell every interested watcher (details consumed, may be NULL). */
void events_emit(struct manager *m, const char *type, const char *name, json_object *details);
/* The same for an entry already gone from the ledger: only owner (and administrators) hear of it. */
void events_emit_owned(struct manager *m, const char *type, const char *name, uid_t owner, json_object *details);
/* Tell only the watcher of call (details consumed; nothing when call is not watching). */
void events_send(struct manager *m, const struct call *call, const char *type, const char *name,
		 json_object *details);
/*
 * Register call (a "more" call of Watch) as a watcher of names (NULL: all),
 * with the PSI triggers of the array pressure (NULL: none). 0 or -errno with e.
 */
int events_watch_add(struct manager *m, struct call *call, json_object *names, json_object *pressure,
		     struct op_error *e);
/* Tie le to the connection that created it: killed and removed when it closes. */
int events_lease(struct manager *m, struct ledger_entry *le, struct conn *c);
/* A connection closed: end its watchers, release its leases. */
void events_conn_closed(struct manager *m, struct conn *c);
/* Processes were moved into name: auto_remove bookkeeping. true when the ledger changed. */
bool events_attached(struct manager *m, const char *name);
/* After reconcile: track every entry, release leases of a previous run, collect empties. */
void events_startup(struct manager *m);
/* End every watcher (daemon stopping). */
void events_stop(struct manager *m);
/* Number of watchers. */
unsigned events_watcher_count(const struct manager *m);
/* True when something needs the daemon awake (auto_remove entries, pending work). */
bool events_busy(struct manager *m);
