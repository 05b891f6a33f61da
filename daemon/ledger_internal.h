/* SPDX-License-Identifier: MIT */
/* ledger_internal.h: the ledger's table and files, shared by ledger.c and ledger_load.c only. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "ledger.h"
#include "now.h"

#define SNAPSHOT_FILE "ledger.json"
#define SNAPSHOT_TMP "ledger.json.tmp"
#define SNAPSHOT_PREV "ledger.prev.json"
#define JOURNAL_FILE "journal.jsonl"
#define JOURNAL_TMP "journal.jsonl.tmp"
#define JOURNAL_PREV "journal.prev.jsonl"
#define LOCK_FILE "lock"

/* One hash-table slot; callers hold &node->e, which stays put across resizes and replacements. */
struct node {
	struct ledger_entry e;
	struct node *next;
	uint64_t hash;
	uint64_t cost; /* against the budget */
};

/* What one owner's entries take (ledger_owner.c). */
struct ledger_owner {
	uid_t uid;
	size_t entries;
	uint64_t bytes;
};

struct ledger {
	char *dir;
	int dirfd;
	int lockfd;
	int journalfd;
	struct node **buckets;
	size_t nbuckets;
	size_t count;
	uint64_t seq;
	uint64_t journal_bytes;
	uint64_t journal_records;
	uint64_t compactions;
	uint64_t last_compaction_usec;
	uint64_t dropped_records;
	uint64_t bytes;  /* sum of the entries' costs */
	uint64_t budget;
	struct ledger_owner *owners; /* one slot per owner ever seen, a handful */
	size_t n_owners;
	bool dirty;        /* records written since the last sync began */
	char *pend;        /* deferred records: written with the next write, before the next sync */
	size_t pend_len, pend_cap;
	uint64_t pend_records;
	int flush_err;     /* writing the deferred records failed at ledger_sync_begin() */
	bool journal_torn; /* a failed append could not be rolled back yet */
	bool snapshot_lost; /* loading: ledger.json was damaged or missing, a fallback ran */
	bool gap;          /* loading: a record did not follow the one before (seq + 1) */
	uint64_t gap_from, gap_to; /* the first gap's missing seqs */
	char *why;         /* loading: the caller's message buffer, or NULL */
	size_t why_len;
	struct ledger_recovery rec;
};

/* Write all of buf to fd, retrying short writes and EINTR. */
int ledger_write_all(int fd, const char *buf, size_t len);
/* Read more bytes into buf[*len..cap); *eof at end of file. */
int ledger_read_more(int fd, char *buf, size_t *len, size_t cap, bool *eof);
/* A node from the JSON form of an entry; -EBADMSG when it is malformed. */
int ledger_node_from_json(json_object *o, struct node **ret);
/* Free a node and its entry. */
void ledger_node_free(struct node *n);
/* The node for name, or NULL. */
struct node *ledger_ht_get(const struct ledger *l, const char *name);
/* Insert or replace fresh (consumed). */
int ledger_ht_upsert(struct ledger *l, struct node *fresh);
/* Unlink and free n. */
void ledger_ht_drop(struct ledger *l, struct node *n);
/* Drop every entry (a load starts over). */
void ledger_ht_clear(struct ledger *l);
/* Make sure uid has an accounting slot (so that accounting cannot fail). 0 or -ENOMEM. */
int ledger_owner_reserve(struct ledger *l, uid_t uid);
/* Count n into (sign > 0) or out of (sign < 0) its owner's figures; the slot must be reserved. */
void ledger_owner_account(struct ledger *l, const struct node *n, int sign);
/* Forget every owner's figures. */
void ledger_owner_clear(struct ledger *l);
/* Open dir/name as a trusted file (daemon/trust.h), the message in l->why. */
int ledger_openat(struct ledger *l, const char *name, int flags, mode_t mode);
/*
 * Append a record line (ledger_journal.c). defer: it only settles what the
 * kernel already did (a create's commit, a destroy's removal), so it waits in
 * memory for the next write or sync. Otherwise it is written now, after the
 * deferred ones, in one write(2). On failure the file is rolled back, the
 * deferred records stay deferred and -errno is returned.
 */
int ledger_journal_append(struct ledger *l, const char *line, size_t len, bool defer);
/* Write the deferred records in one write(2). 0 or -errno (they stay deferred). */
int ledger_journal_flush(struct ledger *l);
/* Load snapshot and journals, falling back on damage (ledger_load.c). */
int ledger_load(struct ledger *l);
