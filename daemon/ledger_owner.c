/* SPDX-License-Identifier: MIT */
/* ledger_owner.c: the ledger's figures: each owner's count and bytes (per-uid quotas), and the counters. */
#include <errno.h>
#include <stdlib.h>

#include "ledger.h"
#include "ledger_internal.h"

/* The slot of uid, or NULL. */
static struct ledger_owner *owner_find(const struct ledger *l, uid_t uid)
{
	for (size_t i = 0; i < l->n_owners; i++)
		if (l->owners[i].uid == uid)
			return &l->owners[i];
	return NULL;
}

/* Make sure uid has a slot, so that accounting it later cannot fail. */
int ledger_owner_reserve(struct ledger *l, uid_t uid)
{
	struct ledger_owner *v;

	if (owner_find(l, uid))
		return 0;
	v = reallocarray(l->owners, l->n_owners + 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	l->owners = v;
	l->owners[l->n_owners++] = (struct ledger_owner){ .uid = uid };
	return 0;
}

/* Count n in (sign > 0) or out (sign < 0) of its owner's figures; its slot was reserved. */
void ledger_owner_account(struct ledger *l, const struct node *n, int sign)
{
	struct ledger_owner *o = owner_find(l, n->e.owner);

	if (!o)
		return;
	if (sign > 0) {
		o->entries++;
		o->bytes += n->cost;
	} else {
		o->entries -= o->entries > 0;
		o->bytes -= o->bytes >= n->cost ? n->cost : o->bytes;
	}
}

/* Forget every owner's figures (the entries were all dropped). */
void ledger_owner_clear(struct ledger *l)
{
	free(l->owners);
	l->owners = NULL;
	l->n_owners = 0;
}

/* Copy one owner's figures out. */
void ledger_owner_usage(const struct ledger *l, uid_t uid, struct ledger_usage *ret)
{
	const struct ledger_owner *o = owner_find(l, uid);

	*ret = o ? (struct ledger_usage){ .entries = o->entries, .bytes = o->bytes } : (struct ledger_usage){ 0 };
}

/* Copy the counters out. */
void ledger_get_stats(const struct ledger *l, struct ledger_stats *ret)
{
	*ret = (struct ledger_stats){
		.entries = l->count,
		.journal_bytes = l->journal_bytes,
		.journal_records = l->journal_records,
		.compactions = l->compactions,
		.last_compaction_usec = l->last_compaction_usec,
		.dropped_records = l->dropped_records,
		.seq = l->seq,
		.bytes = l->bytes,
		.budget = l->budget,
	};
}
