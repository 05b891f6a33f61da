/* SPDX-License-Identifier: MIT */
/* manager_destroy.c: removal that is total and honest: kill, wait for empty by inotify, rmdir depth-first with bounded retries. */
#include "manager.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "attach.h"
#include "cgroupfs.h"
#include "cleanup.h"
#include "controllers.h"
#include "crashpoint.h"
#include "kill.h"
#include "log.h"
#include "manager_internal.h"
#include "tenant.h"
#include "events.h"
#include "evwait.h"
#include "monitor.h"
#include "now.h"

#define DESTROY_RETRIES 8
#define DESTROY_BACKOFF_MS 5

struct destroy_op {
	struct destroy_op *next;
	struct manager *m;
	destroy_done_fn done;
	void *arg;
	char **names; /* deepest first; the target last */
	size_t n, i;
	bool kill, emptied, existed;
	unsigned retries;
	long long deadline_ms;
	struct event *timer;
	json_object *removed;
	struct op_error e;
	int reactivate_r; /* < 0: the entry stays, but its "active" record could not be written */
};

static void destroy_undo_due(struct manager *m, struct ledger_entry *le, const char *name, unsigned tries, int arg);

/* Names to remove: ledger children of name, deepest first, then name. */
static int destroy_collect(struct manager *m, const char *name, bool has_children, char ***ret, size_t *ret_n)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	char **v;
	size_t n = 0, k = 0;
	int r;

	/* The common case, a leaf, costs O(1); only a recursive destroy walks the ledger. */
	r = has_children ? ledger_list(m->ledger, &all, &n) : 0;
	if (r < 0)
		return r;
	v = calloc(n + 2, sizeof(char *));
	if (!v)
		return -ENOMEM;
	/* Sorted by name, a parent precedes its children: walk backwards. */
	for (size_t i = n; i-- > 0;)
		if (strcmp(all[i]->name, name) != 0 && cgname_is_below(all[i]->name, name))
			v[k++] = strdup(all[i]->name);
	v[k++] = strdup(name);
	for (size_t i = 0; i < k; i++)
		if (!v[i]) {
			/* Not cgfs_strv_free(): it would stop at this hole and leak the names after it. */
			for (size_t j = 0; j < k; j++)
				free(v[j]);
			free(v);
			return -ENOMEM;
		}
	*ret = v;
	*ret_n = k;
	return 0;
}

/* End the operation: report, unlink, free. */
static void destroy_finish(struct destroy_op *op, int r)
{
	struct manager *m = op->m;

	if (op->timer)
		event_free(op->timer);
	for (struct destroy_op **pp = &m->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			break;
		}
	if (r < 0 && op->reactivate_r < 0) {
		size_t n = strlen(op->e.message);

		snprintf(op->e.message + n, sizeof(op->e.message) - n,
			 "; it stays, but the ledger could not record so (%s): listed as being destroyed until it can "
			 "(tried again; a restart before then finishes the destroy if it can)",
			 strerror(-op->reactivate_r));
	}
	op->done(op->arg, r, op->existed, op->removed, &op->e);
	json_object_put(op->removed);
	cgfs_strv_free(op->names);
	free(op);
}

/*
 * The destroy stops short: the entry it was at, if the ledger still has it,
 * is active again. When that record cannot be written (a full state
 * directory), the entry stays "destroying" in memory as on disk, the answer
 * says so, and the record is tried again until it is written.
 */
static void destroy_reactivate(struct destroy_op *op)
{
	const char *name = op->names[op->i];
	struct ledger_entry *le = ledger_get(op->m->ledger, name);
	int r;

	if (!le || le->state == LEDGER_ACTIVE)
		return;
	r = ledger_set_state(op->m->ledger, name, LEDGER_ACTIVE);
	if (r >= 0)
		return;
	log_error_errno(r, "%s: its destroy stopped short, but the ledger could not record that it stays", name);
	op->reactivate_r = r;
	manager_retry_later(op->m, le, 0, destroy_undo_due, 0);
}

/* Is a destroy in progress at name? It settles the entry itself. */
static bool destroy_at(const struct manager *m, const char *name)
{
	for (const struct destroy_op *op = m->ops; op; op = op->next)
		if (op->names && op->i < op->n && strcmp(op->names[op->i], name) == 0)
			return true;
	return false;
}

/* Write the "active" record again, if that very entry is still "destroying" and no destroy is at it. */
static void destroy_undo_due(struct manager *m, struct ledger_entry *le, const char *name, unsigned tries, int arg)
{
	int r;

	(void)arg;
	if (le->state != LEDGER_DESTROYING || destroy_at(m, name))
		return;
	r = ledger_set_state(m->ledger, name, LEDGER_ACTIVE);
	if (r >= 0)
		log_notice("%s: recorded as active again (its destroy had stopped short)", name);
	else if ((le = ledger_get(m->ledger, name)))
		manager_retry_later(m, le, tries, destroy_undo_due, 0);
}

/*
 * Remove the inside of a delegated entry through its verified directory,
 * deepest first, its cgroup.max.descendants at 0 meanwhile: whoever the
 * inside was handed to can make no cgroup there while it is emptied (else a
 * tenant's mkdirs from outside keep the entry Busy). The former bound in
 * *ret_bound (NULL when none was set), to put back should the entry stay.
 */
static int destroy_clear_inside(struct destroy_op *op, const char *name, char **ret_bound)
{
	_cleanup_free_ char *bound = NULL;
	_cleanup_close_ int fd = -1;
	int r = manager_open_verified(op->m, name, &fd, &op->e);

	if (r == -ENOENT)
		return 0; /* gone: the rmdir says so */
	if (r < 0)
		return r;
	if (cgfs_read_attr(fd, "", "cgroup.max.descendants", 64, &bound) >= 0 &&
	    cgfs_write_attr(fd, "", "cgroup.max.descendants", "0") >= 0)
		*ret_bound = TAKE_PTR(bound);
	/* A crash from here on leaves the 0: the next start puts the bound back (manager_bound_again()). */
	crashpoint("destroy-bounded");
	return cgkill_rmdir_inside(fd);
}

/* The entry stays: its inside may grow again as before. */
static void destroy_restore_bound(struct destroy_op *op, const char *name, const char *bound)
{
	struct op_error ignored;
	_cleanup_close_ int fd = -1;
	int r = manager_open_verified(op->m, name, &fd, &ignored);

	if (r >= 0)
		r = cgfs_write_attr(fd, "", "cgroup.max.descendants", bound);
	if (r < 0 && r != -ENOENT)
		log_warn_errno(r, "%s: cannot put its cgroup.max.descendants back", name);
}

/* rmdir one entry (whole tree for delegated ones), proven ours first, and drop its record. */
static int destroy_remove(struct destroy_op *op, const struct ledger_entry *le)
{
	struct manager *m = op->m;
	const char *name = op->names[op->i];
	_cleanup_free_ char *bound = NULL;
	uid_t owner = le->owner; /* le goes with the record */
	bool existed = false;
	int r = 0;

	crashpoint("destroy-intent");
	if (le->delegate)
		r = destroy_clear_inside(op, name, &bound);
	if (r >= 0)
		r = manager_rmdir_verified(m, name, &existed, &op->e);
	if (r == -ENOTEMPTY)
		r = -EBUSY;
	if (r < 0 && bound)
		destroy_restore_bound(op, name, bound);
	if (r < 0)
		return r;
	crashpoint("destroy-rmdir");
	r = manager_forget(m, name);
	if (r < 0)
		log_error_errno(r, "%s: removed, but the ledger write failed", name);
	events_emit_owned(m, "removed", name, owner, NULL);
	json_object_array_add(op->removed, json_object_new_string(name));
	log_op(LOG_DEBUG, "destroy", name, "removed %s%s", name, existed ? "" : " (it was already gone)");
	return 0;
}

/* Arm the timer for ms from now, never past the deadline. */
static void destroy_arm(struct destroy_op *op, long long ms)
{
	long long left = op->deadline_ms - now_mono_msec();
	struct timeval tv;

	if (ms > left)
		ms = left > 0 ? left : 0;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	evtimer_add(op->timer, &tv);
}

static void destroy_step(struct destroy_op *op);
static int destroy_check_foreign(struct manager *m, char **names, size_t n, struct op_error *e);

/* The cgroup emptied, or the wait ended otherwise. */
static void destroy_empty_cb(void *arg, int r)
{
	struct destroy_op *op = arg;

	if (r < 0) {
		const char *name = op->names[op->i];

		destroy_reactivate(op);
		if (r == -ETIMEDOUT || r == -ECANCELED)
			op_error_set(&op->e, r, CGERR_TIMEOUT, NULL, NULL,
				     r == -ECANCELED ? "cgctld is stopping" :
				     "the processes of \"%s\" did not exit before the timeout", name);
		else
			op_error_set(&op->e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "wait for \"%s\" to empty: %s",
				     name, strerror(-r));
		destroy_finish(op, r);
		return;
	}
	op->emptied = true;
	destroy_step(op);
}

/* Backoff timer: try the rmdir again, unless time is up. */
static void destroy_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct destroy_op *op = arg;

	if (now_mono_msec() >= op->deadline_ms) {
		const char *name = op->names[op->i];

		destroy_reactivate(op);
		op_error_set(&op->e, -ETIMEDOUT, CGERR_TIMEOUT, NULL, NULL,
			     "\"%s\" could not be removed before the timeout", name);
		destroy_finish(op, -ETIMEDOUT);
		return;
	}
	destroy_step(op);
}

/*
 * Record that name is being destroyed before anything is killed or removed:
 * without the record (a full state directory) nothing is touched, and the
 * entry stays active and listed as it is. Once recorded (a kill came first),
 * the removal that follows needs no second record.
 */
static int destroy_intent(struct destroy_op *op, const char *name)
{
	struct ledger_entry *le = ledger_get(op->m->ledger, name);
	int r = ledger_set_state(op->m->ledger, name, LEDGER_DESTROYING);

	if (r >= 0 || (le && le->state == LEDGER_DESTROYING))
		return 0;
	log_error_errno(r, "%s: not destroyed: the ledger write failed", name);
	return op_error_set(&op->e, r, CGERR_SYSTEM_ERROR, NULL, NULL,
			    "ledger write failed: %s; \"%s\" was not touched", strerror(-r), name);
}

/* Kill every process of name through its verified directory. 0 (also when it is gone) or -errno, op->e filled. */
static int destroy_kill(struct destroy_op *op, const char *name)
{
	_cleanup_close_ int fd = -1;
	int r = manager_open_verified(op->m, name, &fd, &op->e);

	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* Checked before anything was killed, but a wait for the entries below may have come since:
	 * a directory made in it meanwhile would be reached by cgroup.kill too. */
	r = destroy_check_foreign(op->m, &op->names[op->i], 1, &op->e);
	if (r < 0)
		return r;
	r = destroy_intent(op, name);
	if (r < 0)
		return r;
	r = cgkill_start(fd, "");
	if (r < 0 && r != -ENOENT)
		return op_error_set(&op->e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "kill \"%s\": %s", name,
				    strerror(-r));
	return 0;
}

/* Kill once, then wait (by inotify) until the cgroup is empty. 1 wait, 0 go on, -errno. */
static int destroy_wait_empty(struct destroy_op *op, const char *name, const char *rel)
{
	struct manager *m = op->m;
	long long left = op->deadline_ms - now_mono_msec();
	bool populated = false;
	int r;

	if (op->emptied)
		return 0;
	r = destroy_kill(op, name);
	if (r < 0)
		return r;
	/* Already empty (the usual case): no watch, no recursion through callbacks. */
	r = cgfs_read_events(m->rootfd, rel, &populated, NULL);
	if (r == -ENOENT || (r >= 0 && !populated))
		return 0;
	r = evwait_start(m, rel, EVWAIT_EMPTY, left > 0 ? (int)left : 0, destroy_empty_cb, op);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return op_error_set(&op->e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "watch \"%s\": %s", name,
				    strerror(-r));
	/* The callback may already have run (and moved on, or finished op). */
	return 1;
}

/* Work through the names until one must be waited for, or all are gone. */
static void destroy_step(struct destroy_op *op)
{
	for (; op->i < op->n; op->i++, op->emptied = false, op->retries = 0) {
		const char *name = op->names[op->i];
		struct ledger_entry *le = ledger_get(op->m->ledger, name);
		_cleanup_free_ char *rel = NULL;
		int r;

		if (!le)
			continue; /* somebody else removed it meanwhile */
		if (cgname_to_path(name, &rel) < 0) {
			destroy_finish(op, op_error_oom(&op->e));
			return;
		}
		if (op->kill) {
			r = destroy_wait_empty(op, name, rel);
			if (r > 0)
				return;
			if (r < 0) {
				destroy_finish(op, r);
				return;
			}
		}
		r = destroy_intent(op, name);
		if (r < 0) {
			destroy_finish(op, r);
			return;
		}
		r = destroy_remove(op, le);
		if (r == -EBUSY && op->kill && op->retries < DESTROY_RETRIES &&
		    now_mono_msec() < op->deadline_ms) {
			/* Just emptied cgroups can refuse rmdir for a moment: back off. */
			destroy_arm(op, (long long)DESTROY_BACKOFF_MS << op->retries++);
			return;
		}
		if (r < 0) {
			destroy_reactivate(op);
			if (r == -ESTALE)
				; /* Replaced: op->e says so, the entry is lost, nothing was touched */
			else if (r == -EBUSY)
				op_error_set(&op->e, r, CGERR_BUSY, "name", name,
					     "\"%s\" has processes or child cgroups not created by cgctld "
					     "(use kill to end the processes)", name);
			else
				op_error_set(&op->e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "rmdir \"%s\": %s%s", name,
					     strerror(-r),
					     manager_errno_may_be_root(r) && !manager_recheck_delegation(op->m)
						     ? " (the managed root is not writable: degraded mode, see GetStatus)"
						     : "");
			destroy_finish(op, r);
			return;
		}
	}
	destroy_finish(op, 0);
}

/* Every child directory of each name to remove must be ours too (or inside a delegated entry). */
static int destroy_check_foreign(struct manager *m, char **names, size_t n, struct op_error *e)
{
	for (size_t i = 0; i < n; i++) {
		struct ledger_entry *le = ledger_get(m->ledger, names[i]);
		_cleanup_free_ char *rel = NULL;
		char **kids = NULL;
		int r;

		if (!le || le->delegate)
			continue; /* a delegated entry is removed whole */
		if (cgname_to_path(names[i], &rel) < 0)
			return op_error_oom(e);
		r = cgfs_list_children(m->rootfd, rel, &kids);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "list \"%s\": %s", names[i],
					    strerror(-r));
		for (char **k = kids; *k; k++) {
			_cleanup_free_ char *path = NULL, *child = NULL;

			if (asprintf(&path, "%s/%s", rel, *k) < 0) {
				r = op_error_oom(e);
				break;
			}
			if (cgname_from_path(path, &child) < 0 || !ledger_get(m->ledger, child)) {
				r = op_error_set(e, -EBUSY, CGERR_BUSY, "name", names[i],
						 "\"%s\" contains \"%s\", which cgctld did not create; nothing was "
						 "touched (remove it first, or create with delegate to hand a subtree over)",
						 names[i], *k);
				break;
			}
		}
		cgfs_strv_free(kids);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * An entry below the one acted on is still the directory cgctld made: a
 * descendant replaced behind our back (or never proven) would be reached by
 * the parent's cgroup.kill or cgroup.freeze. 0 when ours or gone, else
 * -errno with e filled (Replaced: it is dropped from the ledger).
 */
static int destroy_check_identity(struct manager *m, const char *name, struct op_error *e)
{
	_cleanup_close_ int fd = -1;
	int r = manager_open_verified(m, name, &fd, e);

	return r == -ENOENT ? 0 : r;
}

int manager_check_subtree_proven(struct manager *m, const char *name, struct op_error *e)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	char **names = NULL;
	size_t n = 0;
	int r;

	if (!le)
		return 0;
	if (destroy_collect(m, name, le->children > 0, &names, &n) < 0)
		return op_error_oom(e);
	r = destroy_check_foreign(m, names, n, e);
	for (size_t i = 0; r >= 0 && i < n; i++)
		if (strcmp(names[i], name) != 0)
			r = destroy_check_identity(m, names[i], e);
	cgfs_strv_free(names);
	return r;
}

/* A recursive destroy never reaches another owner's entries: refuse before touching any. */
static int destroy_check_owners(struct manager *m, const struct destroy_request *req, char **names, size_t n,
				struct op_error *e)
{
	for (size_t i = 0; i < n; i++) {
		struct ledger_entry *le = ledger_get(m->ledger, names[i]);

		if (le && !tenant_may_access(req->caller, le))
			return op_error_set(e, -EPERM, CGERR_PERMISSION_DENIED, NULL, NULL,
					    "\"%s\" holds cgroups that another user created; nothing was touched",
					    req->name);
	}
	return 0;
}

/* Prove every directory to be removed ours before anything is killed or removed. */
static int destroy_verify_all(struct manager *m, char **names, size_t n, struct op_error *e)
{
	for (size_t i = 0; i < n; i++) {
		int fd, r = manager_open_verified(m, names[i], &fd, e);

		if (r == -ENOENT)
			continue; /* already gone: nothing of anybody's to touch there */
		if (r < 0)
			return r;
		close(fd);
	}
	return 0;
}

/* Check the request; 0 to proceed, 1 when there is nothing to do, -errno. */
static int destroy_check(struct manager *m, const struct destroy_request *req, size_t *ret_children,
			 char ***ret_names, struct op_error *e)
{
	struct ledger_entry *le;
	size_t n = 0;
	int r = manager_check_name(m, req->name, e);

	if (r < 0)
		return r;
	/* Never created by us: nothing to do, nothing touched (runc 4518). */
	le = ledger_get(m->ledger, req->name);
	/* Another tenant's entry is, to this caller, one it never created: not disclosed. */
	if (!le || !tenant_may_access(req->caller, le))
		return 1;
	if (le->children > 0 && !req->recursive)
		return op_error_set(e, -EBUSY, CGERR_BUSY, "name", req->name,
				    "\"%s\" has %u child cgroup(s); destroy them first or use recursive",
				    req->name, le->children);
	r = destroy_collect(m, req->name, le->children > 0, ret_names, &n);
	if (r < 0)
		return op_error_oom(e);
	*ret_children = n - 1;
	r = destroy_check_owners(m, req, *ret_names, n, e);
	if (r < 0)
		return r;
	/*
	 * A plain leaf without kill needs no look: rmdir itself refuses (EBUSY),
	 * nothing is lost, and the rmdir proves the directory ours first.
	 */
	if (n == 1 && !req->kill)
		return 0;
	/* A replaced target or child: refuse before anything is killed or removed. */
	r = destroy_verify_all(m, *ret_names, n, e);
	if (r < 0)
		return r;
	/* Refuse before killing or removing anything: cgroup.kill would reach the stranger too. */
	return destroy_check_foreign(m, *ret_names, n, e);
}

void manager_destroy(struct manager *m, const struct destroy_request *req, destroy_done_fn done, void *arg)
{
	struct destroy_op *op = calloc(1, sizeof(*op));
	size_t children = 0;
	int r;

	if (!op) {
		struct op_error e;

		done(arg, op_error_oom(&e), false, NULL, &e);
		return;
	}
	op->m = m;
	op->done = done;
	op->arg = arg;
	op->kill = req->kill;
	op->removed = json_object_new_array();
	op->deadline_ms = now_mono_msec() + req->timeout_ms;
	op->next = m->ops;
	m->ops = op;
	op->timer = evtimer_new(m->base, destroy_timer_cb, op);
	if (!op->timer) {
		destroy_finish(op, op_error_oom(&op->e));
		return;
	}
	r = destroy_check(m, req, &children, &op->names, &op->e);
	if (r != 0) {
		destroy_finish(op, r > 0 ? 0 : r);
		return;
	}
	op->existed = true;
	op->n = children + 1;
	destroy_step(op);
}

void destroy_cancel_all(struct manager *m)
{
	while (m->ops) {
		if (m->ops->names)
			destroy_reactivate(m->ops);
		op_error_set(&m->ops->e, -ECANCELED, CGERR_TIMEOUT, NULL, NULL, "cgctld is stopping");
		destroy_finish(m->ops, -ECANCELED);
	}
	/* Stopping: the next start settles what is still "destroying" (LEDGER.md). */
	manager_retries_free(m);
}

bool destroy_pending(const struct manager *m)
{
	return m->ops != NULL;
}
