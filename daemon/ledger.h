/* SPDX-License-Identifier: MIT */
/* ledger.h: the persistent record of every cgroup the daemon created. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

/*
 * Files in the state directory (format documented in daemon/LEDGER.md):
 *   lock            flock()ed for the daemon's lifetime (one instance per dir)
 *   ledger.json     snapshot: {"format":"cgctl-ledger","version":1,"seq":N,"entries":[...]}
 *   journal.jsonl   one record a line: {"rec":{...},"crc":"xxxxxxxx"} with crc32c of
 *                   the exact bytes of the rec value; records with seq <= the
 *                   snapshot's are already in it.
 *   ledger.prev.json, journal.prev.jsonl
 *                   the previous generation: the snapshot before the last
 *                   compaction and the journal that bridges it to ledger.json,
 *                   the fallback when ledger.json is damaged.
 * Every file must be the daemon's own regular file, not writable by others
 * (daemon/trust.h); the directory too.
 * Writes are append-only write(2)s; ledger_sync() makes them durable with one
 * fdatasync (group commit); compaction writes a new snapshot atomically
 * (tmp + fsync + rename + fsync dir) and starts an empty journal.
 */

enum ledger_state {
	LEDGER_CREATING,   /* intent recorded, mkdir may or may not have happened */
	LEDGER_ACTIVE,     /* created and acknowledged */
	LEDGER_DESTROYING, /* removal started */
};

struct ledger_entry {
	char *name;          /* client name, unescaped: the key */
	enum ledger_state state;
	bool generated;
	bool delegate;
	bool auto_remove;
	bool lease;
	bool was_populated;  /* has had processes (auto_remove removes it once empty again) */
	uint64_t created_usec;
	uint64_t cgroup_id;  /* inode of the directory, 0 if not known */
	char nonce[33];      /* identity nonce on the directory (identity.h), "" if not recorded */
	uid_t owner;         /* uid of the client that created it (absent in old ledgers: the daemon's euid) */
	json_object *labels; /* object or NULL; owned */
	void *userdata;      /* the daemon's, never persisted */
	unsigned children;   /* entries directly below this one; kept by the ledger, not persisted */
};

struct ledger_stats {
	size_t entries;
	uint64_t journal_bytes;
	uint64_t journal_records; /* records in the current journal file */
	uint64_t compactions;     /* since open */
	uint64_t last_compaction_usec; /* 0: never (since open) */
	uint64_t dropped_records; /* torn/corrupt records dropped at open */
	uint64_t seq;
	uint64_t bytes;           /* what the entries cost against the budget */
	uint64_t budget;          /* ledger_set_budget() */
};

/* Damage found at open: what, where, what was lost, where the damaged bytes were kept. */
struct ledger_damage {
	char file[64];   /* name in the state directory */
	uint64_t offset; /* first damaged byte */
	char kept[96];   /* the damaged file kept aside under this name, "" if not */
	char lost[512];  /* in words; "nothing" when another generation proved the state */
};

#define LEDGER_DAMAGE_MAX 4

enum ledger_mode {
	LEDGER_NORMAL,   /* the files proved the state */
	LEDGER_FALLBACK, /* ledger.json was damaged; the previous generation proved the state */
	LEDGER_RECOVERY, /* records were lost: the entries are what the intact records prove */
};

struct ledger_recovery {
	enum ledger_mode mode;
	unsigned n;
	struct ledger_damage damage[LEDGER_DAMAGE_MAX];
};

/*
 * The snapshot must fit SNAPSHOT_MAX whatever the entries: each entry costs
 * its serialised size plus LEDGER_ENTRY_SLACK (room for its later state
 * changes), and inserts beyond the budget are refused (-EDQUOT).
 */
#define LEDGER_ENTRY_SLACK 256u
#define LEDGER_BUDGET_MAX (255ull * 1024 * 1024)
#define LEDGER_BUDGET_DEFAULT (128ull * 1024 * 1024)

struct ledger;

/*
 * Open (creating, mode 0700) the state directory dir, lock it (-EBUSY when
 * another process holds the lock), load snapshot and journal. The directory
 * and its files must be trusted (daemon/trust.h: -EPERM, -EACCES, -ELOOP,
 * -EBADFD, -ENOTDIR). A torn journal tail is dropped (and counted): the
 * journal is truncated after the last good record. Damage (a malformed or
 * too big ledger.json, a corrupt record with intact ones after it) never
 * fails the open: see ledger_get_recovery() and daemon/LEDGER.md. A snapshot
 * of another version is -EPROTONOSUPPORT and nothing is modified. 0 or -errno.
 */
int ledger_open(const char *dir, struct ledger **ret);
/* The same; on failure why (when not NULL) says which file and what is wrong. */
int ledger_open_why(const char *dir, struct ledger **ret, char *why, size_t n);
/* What ledger_open() found damaged and how it came up. */
const struct ledger_recovery *ledger_get_recovery(const struct ledger *l);
/* Refuse inserts beyond bytes (clamped to LEDGER_BUDGET_MAX; 0: the default). */
void ledger_set_budget(struct ledger *l, uint64_t bytes);
/* Write deferred records (no sync), close files and free memory; NULL is fine. Returns NULL. */
struct ledger *ledger_close(struct ledger *l);

/* The entry for name, NULL if none. Valid until it is removed or replaced. */
struct ledger_entry *ledger_get(struct ledger *l, const char *name);
/* Number of entries. */
size_t ledger_count(const struct ledger *l);
/* What the entries of one owner take: their number and their cost against the budget. */
struct ledger_usage {
	size_t entries;
	uint64_t bytes;
};
void ledger_owner_usage(const struct ledger *l, uid_t uid, struct ledger_usage *ret);
/* What e would cost against the budget (and its owner's figures) once stored. 0 or -errno. */
int ledger_entry_cost(const struct ledger_entry *e, uint64_t *ret);
/*
 * All entries sorted by name, as a malloc'd array of borrowed pointers
 * (free the array only). 0 or -ENOMEM.
 */
int ledger_list(struct ledger *l, struct ledger_entry ***ret, size_t *ret_n);

/*
 * Insert or replace the entry e->name (deep-copied, userdata of a replaced
 * entry kept) and append a record (not yet durable). Returns the stored
 * entry in *ret (may be NULL). 0 or -errno (memory is unchanged on error);
 * -EDQUOT for a new entry beyond the budget.
 */
int ledger_put(struct ledger *l, const struct ledger_entry *e, struct ledger_entry **ret);
/* Set the state of an existing entry and append a record. -ENOENT if absent. */
int ledger_set_state(struct ledger *l, const char *name, enum ledger_state state);
/* Remove name and append a record. -ENOENT if absent. */
int ledger_remove(struct ledger *l, const char *name);
/*
 * Remove name whose directory is already gone: the rollback of a create that
 * was never acknowledged. Its record is deferred, as a destroy's removal is
 * (below): memory changes at once even when the journal cannot be written.
 */
int ledger_remove_settled(struct ledger *l, const char *name);
/*
 * The record that settles what the kernel already did -- a "creating" entry
 * put as "active" (a create's commit), a "destroying" one removed (a
 * destroy's removal) -- is deferred: it reaches the file with the next record
 * written or at ledger_sync_begin(), in the same write(2), so a busy pair
 * costs two writes, not four. Every other record is written before the call
 * returns (and before the mkdir/rmdir it announces). A daemon that dies
 * before a deferred record is written leaves the "creating"/"destroying"
 * record reconcile resolves, as a crash right before it would; nothing
 * deferred was acknowledged, since replies wait for the sync.
 */

/* True when records were appended since the last sync. */
bool ledger_dirty(const struct ledger *l);
/* fdatasync the journal if dirty, then compact if due. 0 or -errno. */
int ledger_sync(struct ledger *l);
/*
 * The same in steps, for a sync on another thread: ledger_sync_begin() gives
 * the journal fd whose fdatasync makes every record appended so far durable
 * (-1: none pending); records appended later need the next sync. Report the
 * outcome (0 or -errno) with ledger_sync_end(). The fd stays valid until
 * ledger_compact() or ledger_close(), which must not run meanwhile.
 */
int ledger_sync_begin(struct ledger *l);
/* Returns r, or the error that kept the deferred records from the file (then still pending). */
int ledger_sync_end(struct ledger *l, int r);
/* True when the journal should be folded into a new snapshot. */
bool ledger_compact_due(const struct ledger *l);
/* Write a snapshot of the entries and start an empty journal. 0 or -errno. */
int ledger_compact(struct ledger *l);

void ledger_get_stats(const struct ledger *l, struct ledger_stats *ret);
/* Path of the state directory. */
const char *ledger_dir(const struct ledger *l);

const char *ledger_state_to_string(enum ledger_state s);
/* -EINVAL for an unknown string. */
int ledger_state_from_string(const char *s, enum ledger_state *ret);
