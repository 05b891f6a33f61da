/* SPDX-License-Identifier: MIT */
/* quota.c: per-uid budgets that keep one tenant from filling the daemon-wide limits. */
#include "quota.h"

#include <errno.h>
#include <string.h>

#include "ledger.h"
#include "manager.h"
#include "manager_internal.h"
#include "tenant.h"

/* global / (tenants + 1), at least 1; a value set explicitly is only clamped to global. */
static uint64_t quota_share(uint64_t set, unsigned tenants, uint64_t global)
{
	uint64_t v = set ? set : global / ((uint64_t)tenants + 1);

	if (v > global)
		v = global;
	return v ? v : 1;
}

/* Resolve the per-uid budgets. */
void quota_defaults(struct quota *q, unsigned tenants, unsigned entries_max, uint64_t ledger_max,
		    unsigned watchers_max)
{
	q->entries = (unsigned)quota_share(q->entries, tenants, entries_max);
	q->ledger_bytes = quota_share(q->ledger_bytes, tenants, ledger_max);
	q->watchers = (unsigned)quota_share(q->watchers, tenants, watchers_max);
}

/* The tenant's entries and their bytes, with tmpl, stay within its budgets. */
int quota_check_create(struct manager *m, const struct ledger_entry *tmpl, struct op_error *e)
{
	struct ledger_usage u;
	uint64_t cost = 0;
	int r;

	if (tenant_is_admin(tmpl->owner))
		return 0;
	ledger_owner_usage(m->ledger, tmpl->owner, &u);
	if (m->quota.entries && u.entries >= m->quota.entries)
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "entries-per-uid",
				    "uid %u may have at most %u cgroups managed at once (--max-cgroups-per-uid)",
				    (unsigned)tmpl->owner, m->quota.entries);
	r = ledger_entry_cost(tmpl, &cost);
	if (r < 0)
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "cannot size the entry: %s", strerror(-r));
	if (m->quota.ledger_bytes && u.bytes + cost > m->quota.ledger_bytes)
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "ledger-size-per-uid",
				    "the names and labels of uid %u's cgroups may take at most %llu bytes of the "
				    "ledger (--max-ledger-size-per-uid); they take %llu, this one %llu",
				    (unsigned)tmpl->owner, (unsigned long long)m->quota.ledger_bytes,
				    (unsigned long long)u.bytes, (unsigned long long)cost);
	return 0;
}

/* A tenant's Watch streams stay within its budget. */
int quota_check_watch(struct manager *m, uid_t uid, unsigned held, struct op_error *e)
{
	if (tenant_is_admin(uid) || !m->quota.watchers || held < m->quota.watchers)
		return 0;
	return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "watchers-per-uid",
			    "uid %u may have at most %u Watch streams at once (--max-watchers-per-uid)",
			    (unsigned)uid, m->quota.watchers);
}

/* Replace key's value in o by v (an int). */
static void quota_set(json_object *o, const char *key, uint64_t v)
{
	json_object_object_add(o, key, json_object_new_int64((int64_t)v));
}

/* Own entries and bytes; nobody else's activity. */
void quota_status_view(struct manager *m, uid_t uid, json_object *o)
{
	static const char *const activity[] = { "journal_bytes", "journal_records", "compactions", "dropped_records" };
	struct ledger_usage u;

	ledger_owner_usage(m->ledger, uid, &u);
	quota_set(o, "entries", u.entries);
	quota_set(o, "bytes", u.bytes);
	quota_set(o, "max_bytes", m->quota.ledger_bytes);
	for (size_t i = 0; i < sizeof(activity) / sizeof(activity[0]); i++)
		quota_set(o, activity[i], 0);
	json_object_object_add(o, "last_compaction", NULL);
}
