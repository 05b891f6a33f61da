/* SPDX-License-Identifier: MIT */
/* quota.h: per-uid budgets that keep one tenant from filling the daemon-wide limits. */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

struct ledger_entry;
struct manager;
struct op_error;

/* What one tenant (tenant.h) may hold at once (0: no budget of its own); administrators are bounded by the global limits only. */
struct quota {
	unsigned entries;      /* --max-cgroups-per-uid */
	uint64_t ledger_bytes; /* --max-ledger-size-per-uid */
	unsigned watchers;     /* --max-watchers-per-uid */
};

/*
 * Fill each unset (0) budget of q from its global limit: global / (tenants + 1),
 * at least 1, so all the tenants together leave at least a share to the
 * administrators; a budget set above its global limit is clamped to it.
 */
void quota_defaults(struct quota *q, unsigned tenants, unsigned entries_max, uint64_t ledger_max,
		    unsigned watchers_max);
/*
 * May tmpl->owner (a tenant) create tmpl? 0, or -EDQUOT with e filled
 * (QuotaExceeded, limit "entries-per-uid" or "ledger-size-per-uid").
 * Administrators always pass. Other failures -errno with e filled.
 */
int quota_check_create(struct manager *m, const struct ledger_entry *tmpl, struct op_error *e);
/*
 * A tenant's view of the ledger figures of GetStatus (the LedgerStatus object
 * o): its own entries and bytes against its own budget; the journal's
 * figures, which count everybody's activity, are 0 (last_compaction null).
 */
void quota_status_view(struct manager *m, uid_t uid, json_object *o);
/* May uid (holding held streams) open another Watch stream? 0, or -EDQUOT with e filled ("watchers-per-uid"). */
int quota_check_watch(struct manager *m, uid_t uid, unsigned held, struct op_error *e);
