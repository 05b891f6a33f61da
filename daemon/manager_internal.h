/* SPDX-License-Identifier: MIT */
/*
 * manager_internal.h: struct manager and what the domain's files share among
 * themselves (manager_*.c, controllers, evwait, attach, and events.c's entry
 * tracking). Glue, transport and main
 * use manager.h's accessors; white-box tests and fuzz_requests include it.
 */
#pragma once

#include "manager.h"

/* The managed subtree. Only the domain's files see inside; the glue uses manager.h's accessors. */
struct manager {
	struct discovery disc;
	char *root_path;    /* absolute managed root */
	int rootfd;
	bool delegated;
	char *reason;       /* why not delegated */
	uint64_t degraded_usec; /* degraded at run time since (µs since the epoch); 0: not, or since start */
	bool have_leaf;
	char **controllers; /* enabled for children */
	char **available;   /* the root's cgroup.controllers when last synced (controllers.c) */
	struct watch *controllers_w[2]; /* the root's and its parent's cgroup.subtree_control */
	struct ledger *ledger;
	struct reconcile_report report;
	unsigned entries_max;
	struct event_base *base;
	struct monitor *mon;
	struct destroy_op *ops; /* destroys in progress */
	/* Ledger records to try again (manager_retry.c): lease releases and auto-removals (events.c),
	 * the "active" record of a destroy that stopped short (manager_destroy.c). */
	struct manager_retry *retries;
	struct evwait *waits;   /* cgroup.events waits in progress */
	struct attach_req *attaches; /* requests to the systemd user manager in flight */
	unsigned n_attaches;
	/* Where events go (events_set_sink()): the Watch streams, in the glue. */
	void (*sink)(void *userdata, const void *to, const char *type, const char *name, uid_t owner,
		     json_object *details);
	void *sink_data;
	struct pressure *pressure; /* PSI triggers of Watch streams (pressure.c) */
	bool stopping;          /* shutting down: connection closes release nothing */
	bool have_memory;       /* the memory controller is enabled for children */
	bool watching;          /* a Watch stream is open: every entry is followed (events.c) */
	unsigned unfollowed;    /* followed entries whose cgroup.events could not be watched (events.c) */
	unsigned watchers_max;
	struct quota quota;     /* what one tenant may hold (quota.h) */
};

/*
 * End every destroy in progress with Timeout "cgctld is stopping", its entry
 * active again (manager_destroy.c). After evwait_cancel_all(): a wait's callback
 * would find its destroy gone.
 */
void destroy_cancel_all(struct manager *m);
/* True while a destroy is in progress (manager_destroy.c). */
bool destroy_pending(const struct manager *m);

/*
 * What a retry does when due (manager_retry_later()): le is the entry the
 * ledger still holds under name, the very one the retry was for; name is the
 * retry's own copy (what fn does to the ledger may free le's); tries counts
 * this one.
 */
typedef void (*manager_retry_fn)(struct manager *m, struct ledger_entry *le, const char *name, unsigned tries,
				 int arg);
/*
 * Call fn(arg) for le again after a pause of 1 s, doubling with each of the
 * tries before, up to a minute (logged), if the ledger then still holds that
 * very entry (its cgroup_id) and the daemon is not stopping: the next start
 * settles what is left. At most one retry of fn is due for a name. 0, or
 * -ENOMEM when none could be scheduled (logged).
 */
int manager_retry_later(struct manager *m, const struct ledger_entry *le, unsigned tries, manager_retry_fn fn, int arg);
/* Drop every retry due (stopping). */
void manager_retries_free(struct manager *m);

/* A tenant's delegated entry, handed over to its owner (manager_handover.c). */
bool manager_handed_over(const struct ledger_entry *le);
/* The cgroup.max.descendants a delegated entry has when nothing removes it: the tenant's share, else "max". */
void manager_delegate_bound(const struct manager *m, const struct ledger_entry *le, char *buf, size_t size);
/* Bound what a tenant can make inside the cgroup open at fd (tenant_check_bounds()), in files it does not get. */
int manager_bound_inside(struct manager *m, int fd);
/*
 * At start-up: a delegated entry (rel) whose removal was interrupted between
 * Destroy's cgroup.max.descendants of 0 and its end gets its bound back.
 */
void manager_bound_again(struct manager *m, const struct ledger_entry *le, const char *rel);
/*
 * At start-up: a tenant's delegated entry (rel) recorded before hand-overs
 * existed (the directory not the tenant's) is bounded and handed over now,
 * as systemd gives a Delegate= unit's cgroup to its User= at every start.
 */
void manager_hand_over_again(struct manager *m, const struct ledger_entry *le, const char *rel);
