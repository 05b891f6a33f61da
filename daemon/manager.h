/* SPDX-License-Identifier: MIT */
/*
 * manager.h: the managed subtree (the domain): delegation, ledger, create/destroy/list, reconcile.
 * One file per concern: manager.c (errors, names, sync, start/stop), manager_setup.c (init/done),
 * manager_reconcile.c, manager_create.c, manager_destroy.c, manager_list.c, manager_limits.c,
 * manager_status.c, manager_identity.c (proof of ownership), manager_delegation.c (degraded mode);
 * what they share among themselves is in manager_internal.h.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "discover.h"
#include "errors.h"
#include "ledger.h"
#include "names.h"
#include "quota.h"

struct attach_req;
struct destroy_op;
struct evwait;
struct event_base;
struct monitor;
struct pressure;
struct watch;

#define MANAGER_LEAF "cgctld.leaf"
#define MANAGER_KILL_TIMEOUT_MS 10000
#define MANAGER_KILL_TIMEOUT_MAX_MS 300000

struct manager_options {
	const char *state_dir;
	const char *cgroup_root; /* NULL: own cgroup */
	unsigned entries_max;
	unsigned watchers_max;   /* 0: default */
	uint64_t ledger_max;     /* ledger budget in bytes, 0: default */
	struct quota quota;      /* a tenant's budgets, resolved (quota_defaults()) */
};

/* What start-up reconciliation found. */
struct reconcile_report {
	json_object *dropped, *rolled_back, *resumed, *unknown; /* arrays of names */
};

/* The managed subtree; its fields are the domain's (manager_internal.h), the rest use the accessors below. */
struct manager;


/* An operation's failure, for the handler to put on the wire. */
struct op_error {
	enum cgerr code;
	int errnum;         /* positive errno behind it */
	const char *key;    /* parameter naming what failed, or NULL */
	char value[CGNAME_MAX + 1];
	char field[256];    /* optional "field" parameter (JSON path), "" if none */
	char message[512];
};

/* Set e (always returns a negative errno r, for tail calls). */
int op_error_set(struct op_error *e, int r, enum cgerr code, const char *key, const char *value,
		 const char *fmt, ...) __attribute__((format(printf, 6, 7)));
/* Set e to SystemError "out of memory"; returns -ENOMEM. */
int op_error_oom(struct op_error *e);

struct create_request {
	const char *name;   /* NULL: generate */
	const char *prefix; /* for generated names */
	bool delegate, auto_remove, lease;
	json_object *labels; /* borrowed */
	json_object *resources; /* borrowed; applied after mkdir, rolled back whole */
	uid_t owner;         /* the client's uid; a tenant may create only below its own entries */
};

/* Discover, open the ledger (locks the state dir), set up delegation. 0 or -errno. */
int manager_init(struct manager *m, const struct manager_options *o);
/* Release everything; the ledger's last records are synced first. */
void manager_done(struct manager *m);
/* Compare ledger and filesystem after a start or crash; fills m->report. */
int manager_reconcile(struct manager *m);
/* Make the ledger durable (group commit). */
int manager_sync(struct manager *m);

/* Create a cgroup; *ret is the ledger entry. 0 or -errno with e filled. */
int manager_create(struct manager *m, const struct create_request *req, struct ledger_entry **ret,
		   struct op_error *e);
/*
 * Undo the create of name (directory cgroup_id) that could not be made
 * durable, so that its caller's error is the truth: its directory is removed
 * if still ours and empty, and the entry forgotten (the record deferred:
 * reconcile drops a create whose directory is gone). 0, or -errno when it
 * stays (gone already, replaced, or no longer empty: it is then kept, active).
 */
int manager_create_undo(struct manager *m, const char *name, uint64_t cgroup_id);
struct destroy_request {
	const char *name;
	bool recursive; /* also the ledger children, deepest first */
	bool kill;      /* end the processes first (cgroup.kill), wait for empty */
	int timeout_ms; /* for the processes to go */
	uid_t caller;   /* a tenant's uid: another's entry is as if absent; 0 (root) for the daemon itself */
};

/*
 * Called exactly once when a destroy ends: r 0 or -errno (e filled);
 * existed false when the ledger never knew the name (nothing was touched);
 * removed (borrowed) lists the names removed, also on failure.
 */
typedef void (*destroy_done_fn)(void *arg, int r, bool existed, json_object *removed,
				const struct op_error *e);

/* Destroy a cgroup, maybe waiting (event loop) for its processes to die. */
void manager_destroy(struct manager *m, const struct destroy_request *req, destroy_done_fn done, void *arg);
/*
 * Every cgroup below entry name that cgroup.kill or cgroup.freeze would reach is
 * ours: a ledger entry, or inside a delegated one. 0, or -EBUSY (e filled)
 * naming a directory cgctld did not create.
 */
int manager_check_subtree_proven(struct manager *m, const char *name, struct op_error *e);
/* Validate a client name and refuse the daemon's own leaf. 0 or -EINVAL with e filled. */
int manager_check_name(const struct manager *m, const char *name, struct op_error *e);
/*
 * manager_check_name() and the rule of new names (cgname_validate_new(): no
 * C1, bidi or zero-width characters) for what Create's parameter param
 * ("name", "prefix") would bring into the ledger. 0 or -EINVAL with e filled.
 */
int manager_check_new_name(const struct manager *m, const char *param, const char *name, struct op_error *e);
/* Attach the manager to the event loop (inotify monitor, timers). 0 or -errno. */
int manager_start(struct manager *m, struct event_base *base);
/* Abort pending destroys, waits and systemd attaches (daemon stopping). */
void manager_stop(struct manager *m);
/*
 * True while the domain has work under way (destroys, waits, systemd attaches)
 * or any managed cgroup at all: when the unit stops, systemd removes the empty
 * cgroups below it, so exiting with entries would lose them.
 */
bool manager_busy(const struct manager *m);

/*
 * Entries at or below name (NULL: all) that uid may see (tenant.h): *ret
 * serialises as the JSON array of Entry objects, to be put in a reply as it
 * is (jsonbuf_to_json()).
 */
int manager_list(struct manager *m, uid_t uid, const char *name, json_object **ret, struct op_error *e);
/* Validate a Resources object without writing. 0 or -EINVAL with e filled. */
int manager_check_resources(json_object *res, struct op_error *e);
/* Apply a Resources object to the cgroup open (verified) as cgfd, called name: all or nothing. 0 or -errno with e filled. */
int manager_apply_resources(struct manager *m, int cgfd, const char *name, json_object *res, struct op_error *e);
/*
 * May uid write res to entry name? An administrator may; a tenant may not raise,
 * in a cgroup whose siblings are not all its own (a top-level one), what the
 * siblings share (tenant_check_sibling_plan()). 0, or -EPERM with e filled.
 */
int manager_check_tenant_resources(struct manager *m, uid_t uid, const char *name, json_object *res,
				   struct op_error *e);
/* Create's Entry object, ready-made text like List's (see manager_list()); NULL when out of memory. */
json_object *manager_entry_to_json(struct manager *m, struct ledger_entry *le);
/* The Status object. */
json_object *manager_status(struct manager *m);
/* Absolute path of a ledger name; NULL on allocation failure. */
char *manager_abs_path(const struct manager *m, const char *name);

/*
 * Probe the managed root after an operation failed on it, or while degraded at
 * run time: switches to degraded mode (or back) with a log line and a Watch
 * event per transition. A daemon that started degraded stays so. True when delegated.
 */
bool manager_recheck_delegation(struct manager *m);
/* True for the errnos a no longer writable managed root gives (EROFS, EACCES, EPERM). */
bool manager_errno_may_be_root(int r);
/* Fill e with NoDelegation and m->reason; returns -EROFS. */
int manager_no_delegation(const struct manager *m, struct op_error *e);

/* Drop name from the ledger, and stop following it. 0 or -errno. */
int manager_forget(struct manager *m, const char *name);

/*
 * Open the directory of ledger entry name beneath the root and prove it is the
 * one cgctld made (daemon/identity.h): the verified fd in *ret_fd, to act
 * through. A replaced or unprovable directory is touched no further: the
 * entry and those below it are dropped as lost (manager_lose()) and e says
 * Replaced (-ESTALE). NotFound (-ENOENT) when the directory is gone.
 */
int manager_open_verified(struct manager *m, const char *name, int *ret_fd, struct op_error *e);
/*
 * rmdir the (empty) directory of entry name only once proven ours, as
 * identity_rmdir(). -ESTALE with e filled (Replaced) and the entry lost when
 * it is not; other failures as cgfs_rmdir(), e filled (Busy, NotFound, SystemError).
 */
int manager_rmdir_verified(struct manager *m, const char *name, bool *ret_existed, struct op_error *e);
/* Fill e with Replaced for name and drop name and the entries below it as lost. Returns -ESTALE. */
int manager_replaced(struct manager *m, const char *name, int why, struct op_error *e);
/* Drop name and every entry below it from the ledger as lost: log line and "lost" Watch event. */
void manager_lose(struct manager *m, const char *name, const char *reason);

/* Allocate a manager for manager_init() (nothing open yet); NULL when out of memory. */
struct manager *manager_new(void);
/* manager_done() and free; NULL is fine. Returns NULL. */
struct manager *manager_free(struct manager *m);

/* Read-only views for the glue: the ledger, the managed root (fd, path), delegation and its reason. */
struct ledger *manager_ledger(const struct manager *m);
int manager_rootfd(const struct manager *m);
const char *manager_root_path(const struct manager *m);
bool manager_delegated(const struct manager *m);
const char *manager_reason(const struct manager *m);
/* The controllers enabled for children (NULL-terminated). */
char *const *manager_controllers(const struct manager *m);
/* Where the cgroup2 hierarchy is mounted and what the daemon's own cgroup is. */
const struct discovery *manager_discovery(const struct manager *m);
/* The event loop (after manager_start()). */
struct event_base *manager_base(const struct manager *m);
/* The PSI triggers of Watch streams pressure.c keeps with the manager, and the slot it keeps them in. */
struct pressure *manager_pressure(const struct manager *m);
struct pressure **manager_pressure_slot(struct manager *m);
/* --max-watchers, for the Watch glue. */
unsigned manager_watchers_max(const struct manager *m);
/* True once the daemon is stopping (events_stop()): a connection's end releases no lease then. */
bool manager_stopping(const struct manager *m);
