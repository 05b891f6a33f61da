/* SPDX-License-Identifier: MIT */
/* manager.c: what every manager_* operation shares: errors for the wire, names, the ledger's sync, the loop. */
#include "manager.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attach.h"
#include "cleanup.h"
#include "controllers.h"
#include "events.h"
#include "evwait.h"
#include "log.h"
#include "manager_internal.h"
#include "monitor.h"

int op_error_set(struct op_error *e, int r, enum cgerr code, const char *key, const char *value,
		 const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->errnum = r < 0 ? -r : EINVAL;
	e->key = key;
	snprintf(e->value, sizeof(e->value), "%s", value ? value : "");
	e->field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return r < 0 ? r : -EINVAL;
}

int op_error_oom(struct op_error *e)
{
	return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
}

char *manager_abs_path(const struct manager *m, const char *name)
{
	_cleanup_free_ char *rel = NULL;
	char *abs;

	if (cgname_to_path(name, &rel) < 0)
		return NULL;
	if (asprintf(&abs, "%s/%s", m->root_path, rel) < 0)
		return NULL;
	return abs;
}

int manager_check_name(const struct manager *m, const char *name, struct op_error *e)
{
	const char *why = NULL;
	size_t leaf_len = strlen(MANAGER_LEAF);

	if (!name || cgname_validate(name, strlen(name), &why) < 0)
		return op_error_set(e, -EINVAL, CGERR_INVALID_NAME, "name", name, "invalid name: %s",
				    why ? why : "missing");
	if (strncmp(name, MANAGER_LEAF, leaf_len) == 0 && (name[leaf_len] == '\0' || name[leaf_len] == '/'))
		return op_error_set(e, -EINVAL, CGERR_INVALID_NAME, "name", name,
				    "\"%s\" is reserved for the daemon itself", MANAGER_LEAF);
	return 0;
}

int manager_check_new_name(const struct manager *m, const char *param, const char *name, struct op_error *e)
{
	const char *why = NULL;
	int r = manager_check_name(m, name, e);

	if (r < 0)
		return r;
	/* Names print on every client's terminal (root's list and top too): nothing that acts on it. */
	if (cgname_validate_new(name, strlen(name), &why) < 0)
		return op_error_set(e, -EINVAL, CGERR_INVALID_NAME, "name", name, "invalid %s: %s", param, why);
	return 0;
}

int manager_no_delegation(const struct manager *m, struct op_error *e)
{
	return op_error_set(e, -EROFS, CGERR_NO_DELEGATION, "reason", m->reason, "no delegated cgroup subtree: %s",
			    m->reason ? m->reason : "the managed root is not writable");
}

int manager_sync(struct manager *m)
{
	int r = ledger_sync(m->ledger);

	if (r < 0)
		log_error_errno(r, "ledger sync failed");
	return r;
}

int manager_forget(struct manager *m, const char *name)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);

	if (!le)
		return -ENOENT;
	events_untrack(m, le);
	return ledger_remove(m->ledger, name);
}

int manager_start(struct manager *m, struct event_base *base)
{
	int r;

	m->base = base;
	r = monitor_new(base, &m->mon);
	if (r < 0)
		return r;
	/* Not fatal: without the watches, controllers change only at a restart. */
	controllers_watch(m);
	return 0;
}

void manager_stop(struct manager *m)
{
	attach_cancel_all(m);
	evwait_cancel_all(m);
	destroy_cancel_all(m);
	controllers_unwatch(m);
	m->mon = monitor_free(m->mon);
}

bool manager_busy(const struct manager *m)
{
	return destroy_pending(m) || evwait_pending(m) || attach_pending(m) || ledger_count(m->ledger) > 0;
}

struct ledger *manager_ledger(const struct manager *m)
{
	return m->ledger;
}

int manager_rootfd(const struct manager *m)
{
	return m->rootfd;
}

const char *manager_root_path(const struct manager *m)
{
	return m->root_path;
}

bool manager_delegated(const struct manager *m)
{
	return m->delegated;
}

const char *manager_reason(const struct manager *m)
{
	return m->reason;
}

char *const *manager_controllers(const struct manager *m)
{
	return m->controllers;
}

const struct discovery *manager_discovery(const struct manager *m)
{
	return &m->disc;
}

struct event_base *manager_base(const struct manager *m)
{
	return m->base;
}

struct pressure *manager_pressure(const struct manager *m)
{
	return m->pressure;
}

struct pressure **manager_pressure_slot(struct manager *m)
{
	return &m->pressure;
}

unsigned manager_watchers_max(const struct manager *m)
{
	return m->watchers_max;
}

bool manager_stopping(const struct manager *m)
{
	return m->stopping;
}
