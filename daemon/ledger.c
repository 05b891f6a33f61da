// SPDX-License-Identifier: MIT
/* ledger.c: persistent record of created cgroups: the files, the in-memory table, the API. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "cleanup.h"
#include "ledger.h"
#include "ledger_format.h"
#include "ledger_internal.h"
#include "log.h"
#include "trust.h"

#define COMPACT_MIN_RECORDS 1024
#define HT_INITIAL_BUCKETS 16

/* ---- small helpers ---- */

int ledger_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- entries ---- */

/* Free what an entry owns (not userdata). */
static void entry_done(struct ledger_entry *e)
{
	free(e->name);
	json_object_put(e->labels);
	e->name = NULL;
	e->labels = NULL;
}

void ledger_node_free(struct node *n)
{
	if (!n)
		return;
	entry_done(&n->e);
	free(n);
}

/* Free a node at scope exit. */
static inline void node_freep(struct node **n)
{
	ledger_node_free(*n);
}

/* A new node holding a deep copy of src (userdata not copied). */
static int node_copy(const struct ledger_entry *src, struct node **ret)
{
	_cleanup_(node_freep) struct node *n = calloc(1, sizeof(*n));

	if (!n)
		return -ENOMEM;
	n->e = *src;
	n->e.name = NULL;
	n->e.labels = NULL;
	n->e.userdata = NULL;
	n->e.children = 0;
	n->e.name = strdup(src->name);
	if (!n->e.name)
		return -ENOMEM;
	if (src->labels && json_object_deep_copy(src->labels, &n->e.labels, NULL) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(n);
	return 0;
}

/* What e costs against the budget: its snapshot bytes, a separator, room to change state. */
int ledger_entry_cost(const struct ledger_entry *e, uint64_t *ret)
{
	size_t size = 0;
	int r = ledger_format_entry_size(e, &size);

	if (r < 0)
		return r;
	*ret = (uint64_t)size + 1 + LEDGER_ENTRY_SLACK;
	return 0;
}

/* Set n's cost. */
static int node_cost(struct node *n)
{
	return ledger_entry_cost(&n->e, &n->cost);
}

/* A new node from the JSON form of an entry; -EBADMSG when it is malformed. */
int ledger_node_from_json(json_object *o, struct node **ret)
{
	_cleanup_(node_freep) struct node *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	r = ledger_format_entry_from_json(o, &n->e);
	if (r >= 0)
		r = node_cost(n);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(n);
	return 0;
}

/* ---- hash table (FNV-1a, separate chaining, grows at load factor 0.75) ---- */

/* 64-bit FNV-1a of a NUL-terminated string. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3u;
	}
	return h;
}

/* The node for name, or NULL. */
static struct node *ht_find(const struct ledger *l, const char *name, uint64_t h)
{
	for (struct node *n = l->buckets[h & (l->nbuckets - 1)]; n; n = n->next)
		if (n->hash == h && strcmp(n->e.name, name) == 0)
			return n;
	return NULL;
}

/* Make room for want entries without passing load factor 0.75. */
static int ht_reserve(struct ledger *l, size_t want)
{
	size_t nb = l->nbuckets ? l->nbuckets : HT_INITIAL_BUCKETS;
	struct node **nbk;

	while (want > nb / 4 * 3) {
		if (nb > SIZE_MAX / 2 / sizeof(*nbk))
			return -ENOMEM;
		nb *= 2;
	}
	if (nb == l->nbuckets)
		return 0;
	nbk = calloc(nb, sizeof(*nbk));
	if (!nbk)
		return -ENOMEM;
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct node *n = l->buckets[i], *next; n; n = next) {
			next = n->next;
			n->next = nbk[n->hash & (nb - 1)];
			nbk[n->hash & (nb - 1)] = n;
		}
	free(l->buckets);
	l->buckets = nbk;
	l->nbuckets = nb;
	return 0;
}

/* The entry directly above name ("a/b" → "a"), NULL for top-level names or when not ours. */
static struct node *ht_parent(const struct ledger *l, const char *name)
{
	const char *slash = strrchr(name, '/');
	char buf[4096];
	size_t n;

	if (!slash)
		return NULL;
	n = (size_t)(slash - name);
	if (n >= sizeof(buf))
		return NULL;
	memcpy(buf, name, n);
	buf[n] = '\0';
	return ht_find(l, buf, fnv1a(buf));
}

/* Link a fresh node in; capacity must have been reserved. */
static void ht_insert(struct ledger *l, struct node *n)
{
	struct node **b;
	struct node *parent;

	n->hash = fnv1a(n->e.name);
	b = &l->buckets[n->hash & (l->nbuckets - 1)];
	n->next = *b;
	*b = n;
	l->count++;
	l->bytes += n->cost;
	ledger_owner_account(l, n, 1);
	/* Parents are always recorded before their children: count them as they come. */
	parent = ht_parent(l, n->e.name);
	if (parent)
		parent->e.children++;
}

/* Unlink n (which must be in the table). */
static void ht_unlink(struct ledger *l, struct node *n)
{
	struct node **p = &l->buckets[n->hash & (l->nbuckets - 1)];
	struct node *parent;

	while (*p != n)
		p = &(*p)->next;
	*p = n->next;
	l->count--;
	l->bytes -= n->cost;
	ledger_owner_account(l, n, -1);
	parent = ht_parent(l, n->e.name);
	if (parent && parent->e.children > 0)
		parent->e.children--;
}

/* Count every entry's children afresh: whatever order the files listed them in. */
static void ht_recount(struct ledger *l)
{
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct node *n = l->buckets[i]; n; n = n->next)
			n->e.children = 0;
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct node *n = l->buckets[i]; n; n = n->next) {
			struct node *parent = ht_parent(l, n->e.name);
			if (parent)
				parent->e.children++;
		}
}

/* Store fresh (consumed): replaces the existing entry in place keeping its userdata, or inserts. */
static struct ledger_entry *ht_commit(struct ledger *l, struct node *existing, struct node *fresh)
{
	void *userdata;

	if (!existing) {
		ht_insert(l, fresh);
		return &fresh->e;
	}
	unsigned children = existing->e.children;

	userdata = existing->e.userdata;
	l->bytes = l->bytes - existing->cost + fresh->cost;
	ledger_owner_account(l, existing, -1);
	ledger_owner_account(l, fresh, 1);
	existing->cost = fresh->cost;
	entry_done(&existing->e);
	existing->e = fresh->e;
	existing->e.userdata = userdata;
	existing->e.children = children;
	free(fresh);
	return &existing->e;
}

/* Insert or replace fresh (consumed) while loading. */
int ledger_ht_upsert(struct ledger *l, struct node *fresh)
{
	struct node *existing = ht_find(l, fresh->e.name, fnv1a(fresh->e.name));
	int r = ledger_owner_reserve(l, fresh->e.owner);

	if (r < 0) {
		ledger_node_free(fresh);
		return r;
	}
	if (!existing) {
		r = ht_reserve(l, l->count + 1);
		if (r < 0) {
			ledger_node_free(fresh);
			return r;
		}
	}
	ht_commit(l, existing, fresh);
	return 0;
}

struct node *ledger_ht_get(const struct ledger *l, const char *name)
{
	return ht_find(l, name, fnv1a(name));
}

void ledger_ht_drop(struct ledger *l, struct node *n)
{
	ht_unlink(l, n);
	ledger_node_free(n);
}

int ledger_read_more(int fd, char *buf, size_t *len, size_t cap, bool *eof)
{
	ssize_t n;

	do
		n = read(fd, buf + *len, cap - *len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n == 0)
		*eof = true;
	*len += (size_t)n;
	return 0;
}

/* ---- snapshot and generations ---- */

/* Open dir/name as a trusted file, the message in l->why. */
int ledger_openat(struct ledger *l, const char *name, int flags, mode_t mode)
{
	return trust_openat(l->dirfd, l->dir, name, flags, mode, l->why, l->why_len);
}

/* Write data to a fresh tmp file, durably (never through whatever sat at tmp). */
static int tmp_write(struct ledger *l, const char *tmp, const char *data, size_t len)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (unlinkat(l->dirfd, tmp, 0) < 0 && errno != ENOENT)
		return -errno;
	fd = ledger_openat(l, tmp, O_CREAT | O_EXCL | O_WRONLY, 0600);
	if (fd < 0)
		return fd;
	r = ledger_write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(l->dirfd, tmp, 0);
	return r;
}

/* Replace dir/final with data atomically and durably (tmp, fsync, rename, fsync dir). */
static int replace_file(struct ledger *l, const char *tmp, const char *final, const char *data, size_t len)
{
	int r = tmp_write(l, tmp, data, len);

	if (r < 0)
		return r;
	if (renameat(l->dirfd, tmp, l->dirfd, final) < 0) {
		r = -errno;
		unlinkat(l->dirfd, tmp, 0);
		return r;
	}
	return fsync(l->dirfd) < 0 ? -errno : 0;
}

/* Make name a hard link to src (replacing it); -errno (ENOENT: src is absent). */
static int relink(struct ledger *l, const char *src, const char *name)
{
	if (unlinkat(l->dirfd, name, 0) < 0 && errno != ENOENT)
		return -errno;
	return linkat(l->dirfd, src, l->dirfd, name, 0) < 0 ? -errno : 0;
}

/*
 * The current snapshot and journal become the previous generation, the new
 * snapshot (in SNAPSHOT_TMP) the current one. Without a current snapshot the
 * old previous generation would no longer bridge to the new one: drop it.
 */
static int generation_rotate(struct ledger *l)
{
	struct stat st;

	if (fstatat(l->dirfd, SNAPSHOT_FILE, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    relink(l, JOURNAL_FILE, JOURNAL_PREV) >= 0 && relink(l, SNAPSHOT_FILE, SNAPSHOT_PREV) >= 0)
		return renameat(l->dirfd, SNAPSHOT_TMP, l->dirfd, SNAPSHOT_FILE) < 0 ? -errno : 0;
	if (renameat(l->dirfd, SNAPSHOT_TMP, l->dirfd, SNAPSHOT_FILE) < 0)
		return -errno;
	/* Renamed in first: a crash in between leaves a good snapshot and a stale pair. */
	if (unlinkat(l->dirfd, SNAPSHOT_PREV, 0) < 0 && errno != ENOENT)
		return -errno;
	if (unlinkat(l->dirfd, JOURNAL_PREV, 0) < 0 && errno != ENOENT)
		return -errno;
	return 0;
}

/* Write ledger.json from memory, keeping the previous generation. */
static int snapshot_write(struct ledger *l)
{
	_cleanup_free_ struct ledger_entry **v = NULL;
	_cleanup_free_ char *doc = NULL;
	size_t n = 0, len = 0;
	int r;

	r = ledger_list(l, &v, &n);
	if (r >= 0)
		r = ledger_format_snapshot_text(v, n, l->seq, &doc, &len);
	if (r >= 0)
		r = tmp_write(l, SNAPSHOT_TMP, doc, len);
	if (r < 0)
		return r;
	r = generation_rotate(l);
	if (r < 0) {
		unlinkat(l->dirfd, SNAPSHOT_TMP, 0);
		return r;
	}
	return fsync(l->dirfd) < 0 ? -errno : 0;
}

/* ---- open / close ---- */

/*
 * Lock the state directory itself (lockfd's lock taken), which a program that
 * removes or replaces the lock file cannot take away from us. Anybody who may
 * read the directory (mode 0755 is trusted) may flock it too, so a lock held
 * by another user's process is logged and ignored, as on the managed root,
 * and so is a file system that cannot flock a directory (NFS).
 */
static int ledger_lock_dir(struct ledger *l)
{
	if (flock(l->dirfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	/* NFS answers EBADF (its exclusive lock needs a writable descriptor): the lock file's is what we have. */
	if (errno != EWOULDBLOCK) {
		log_warn_errno(-errno, "%s: cannot lock the directory itself, only its lock file (a second daemon is "
			       "refused unless the file is removed or replaced)", l->dir);
		return 0;
	}
	if (trust_lock_ours(l->dirfd))
		return -EBUSY;
	log_warnx("%s: locked by a process of another user, not a daemon of ours; going on (the lock file still "
		  "refuses a second daemon)", l->dir);
	return 0;
}

/* Create, check and open the state directory and take its locks: the lock file's (what older daemons take) and the directory's. */
static int ledger_open_dir(struct ledger *l)
{
	int r = 0;

	l->dirfd = trust_open_dir(l->dir, l->why, l->why_len);
	if (l->dirfd < 0)
		return l->dirfd;
	l->lockfd = ledger_openat(l, LOCK_FILE, O_RDWR | O_CREAT, 0600);
	if (l->lockfd < 0)
		return l->lockfd;
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) < 0)
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
	else
		r = ledger_lock_dir(l);
	if (r == -EBUSY && l->why)
		snprintf(l->why, l->why_len, "%s: locked by another running cgctld", l->dir);
	return r;
}

/* Close a ledger at scope exit. */
static inline void ledger_closep(struct ledger **l)
{
	ledger_close(*l);
}

/* Create, lock and load the state directory. */
int ledger_open(const char *dir, struct ledger **ret)
{
	return ledger_open_why(dir, ret, NULL, 0);
}

/* The same, saying why it failed. */
int ledger_open_why(const char *dir, struct ledger **ret, char *why, size_t n)
{
	_cleanup_(ledger_closep) struct ledger *l = NULL;
	int r;

	if (!dir || !dir[0])
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->dirfd = l->lockfd = l->journalfd = -1;
	l->budget = LEDGER_BUDGET_DEFAULT;
	l->why = why;
	l->why_len = n;
	l->dir = strdup(dir);
	if (!l->dir)
		return -ENOMEM;
	r = ledger_open_dir(l);
	if (r >= 0)
		r = ht_reserve(l, 0);
	if (r >= 0)
		r = ledger_load(l);
	if (r < 0)
		return r;
	ht_recount(l);
	/* ledger.json was kept aside: write the state the files proved, so the next start is clean. */
	if (l->snapshot_lost)
		ledger_compact(l);
	l->why = NULL;
	*ret = TAKE_PTR(l);
	return 0;
}

/* Drop every entry. */
void ledger_ht_clear(struct ledger *l)
{
	for (size_t i = 0; i < l->nbuckets; i++) {
		for (struct node *n = l->buckets[i], *next; n; n = next) {
			next = n->next;
			ledger_node_free(n);
		}
		l->buckets[i] = NULL;
	}
	l->count = 0;
	l->bytes = 0;
	ledger_owner_clear(l);
}

/* Release files and memory; no implicit sync. */
struct ledger *ledger_close(struct ledger *l)
{
	if (!l)
		return NULL;
	if (l->buckets)
		ledger_ht_clear(l);
	free(l->buckets);
	ledger_owner_clear(l);
	if (l->journalfd >= 0) {
		/* The deferred records reach the file (not the disk) as if written at once. */
		ledger_journal_flush(l);
		close(l->journalfd);
	}
	free(l->pend);
	if (l->lockfd >= 0)
		close(l->lockfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->dir);
	free(l);
	return NULL;
}

/* What open found damaged. */
const struct ledger_recovery *ledger_get_recovery(const struct ledger *l)
{
	return &l->rec;
}

/* Set the budget for inserts. */
void ledger_set_budget(struct ledger *l, uint64_t bytes)
{
	l->budget = !bytes ? LEDGER_BUDGET_DEFAULT : bytes > LEDGER_BUDGET_MAX ? LEDGER_BUDGET_MAX : bytes;
}

/* ---- queries ---- */

/* O(1) lookup by name. */
struct ledger_entry *ledger_get(struct ledger *l, const char *name)
{
	struct node *n;

	if (!l || !name)
		return NULL;
	n = ht_find(l, name, fnv1a(name));
	return n ? &n->e : NULL;
}

/* Number of live entries. */
size_t ledger_count(const struct ledger *l)
{
	return l ? l->count : 0;
}

/* qsort comparator: entries by name. */
static int entry_cmp(const void *a, const void *b)
{
	const struct ledger_entry *x = *(struct ledger_entry *const *)a;
	const struct ledger_entry *y = *(struct ledger_entry *const *)b;

	return strcmp(x->name, y->name);
}

/* Borrowed pointers to all entries, sorted by name. */
int ledger_list(struct ledger *l, struct ledger_entry ***ret, size_t *ret_n)
{
	struct ledger_entry **v = calloc(l->count ? l->count : 1, sizeof(*v));
	size_t k = 0;

	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct node *n = l->buckets[i]; n; n = n->next)
			v[k++] = &n->e;
	qsort(v, k, sizeof(*v), entry_cmp);
	*ret = v;
	*ret_n = k;
	return 0;
}

/* ---- updates ---- */

/* Insert or replace an entry: journal first, memory after. */
int ledger_put(struct ledger *l, const struct ledger_entry *e, struct ledger_entry **ret)
{
	_cleanup_(node_freep) struct node *fresh = NULL;
	_cleanup_free_ char *line = NULL;
	struct node *existing;
	struct ledger_entry *stored;
	size_t len = 0;
	int r;

	if (!l || !e || !e->name || !e->name[0] || !ledger_state_to_string(e->state) ||
	    (e->labels && !json_object_is_type(e->labels, json_type_object)))
		return -EINVAL;
	r = node_copy(e, &fresh);
	if (r >= 0)
		r = node_cost(fresh);
	if (r >= 0)
		r = ledger_owner_reserve(l, e->owner);
	if (r < 0)
		return r;
	existing = ht_find(l, e->name, fnv1a(e->name));
	if (!existing) {
		/* Only new entries are refused: a state change must always be recordable. */
		if (l->bytes + fresh->cost > l->budget)
			return -EDQUOT;
		r = ht_reserve(l, l->count + 1);
		if (r < 0)
			return r;
	}
	r = ledger_format_put_line(&fresh->e, l->seq + 1, &line, &len);
	if (r >= 0)
		r = ledger_journal_append(l, line, len, existing && existing->e.state == LEDGER_CREATING &&
							   fresh->e.state == LEDGER_ACTIVE);
	if (r < 0)
		return r;
	l->seq++;
	stored = ht_commit(l, existing, TAKE_PTR(fresh));
	if (ret)
		*ret = stored;
	return 0;
}

/* Change an entry's state, recorded as a put of the whole entry. */
int ledger_set_state(struct ledger *l, const char *name, enum ledger_state state)
{
	struct ledger_entry *e = ledger_get(l, name), copy;
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	int r;

	if (!e)
		return -ENOENT;
	if (!ledger_state_to_string(state))
		return -EINVAL;
	copy = *e;
	copy.state = state;
	r = ledger_format_put_line(&copy, l->seq + 1, &line, &len);
	if (r >= 0)
		r = ledger_journal_append(l, line, len, e->state == LEDGER_CREATING && state == LEDGER_ACTIVE);
	if (r < 0)
		return r;
	l->seq++;
	e->state = state;
	return 0;
}

/* Remove an entry: journal first (deferred when settled), memory after. */
static int ledger_remove_rec(struct ledger *l, const char *name, bool settled)
{
	_cleanup_free_ char *line = NULL;
	struct node *n;
	size_t len = 0;
	int r;

	if (!l || !name)
		return -EINVAL;
	n = ht_find(l, name, fnv1a(name));
	if (!n)
		return -ENOENT;
	r = ledger_format_del_line(name, l->seq + 1, &line, &len);
	if (r >= 0)
		r = ledger_journal_append(l, line, len, settled || n->e.state == LEDGER_DESTROYING);
	if (r < 0)
		return r;
	l->seq++;
	ht_unlink(l, n);
	ledger_node_free(n);
	return 0;
}

int ledger_remove(struct ledger *l, const char *name)
{
	return ledger_remove_rec(l, name, false);
}

int ledger_remove_settled(struct ledger *l, const char *name)
{
	return ledger_remove_rec(l, name, true);
}

/* ---- durability ---- */

/* True when appended records await ledger_sync(). */
bool ledger_dirty(const struct ledger *l)
{
	return l && (l->dirty || l->pend_len > 0);
}

/* Start a group commit: write the deferred records, then the journal to fdatasync (-1: nothing pending). */
int ledger_sync_begin(struct ledger *l)
{
	int r = ledger_journal_flush(l);

	/* A failed write keeps its records deferred; the sync still runs so that its end reports it. */
	if (r < 0)
		l->flush_err = r;
	if (!l->dirty && !l->flush_err)
		return -1;
	/* Records appended from now on wait for the next sync. */
	l->dirty = false;
	return l->journalfd;
}

/* The fdatasync ended with r; a failed write of the deferred records fails it too. */
int ledger_sync_end(struct ledger *l, int r)
{
	if (l->flush_err < 0 && r >= 0)
		r = l->flush_err;
	l->flush_err = 0;
	if (r < 0)
		l->dirty = true;
	return r;
}

/* The journal holds more than twice the live entries (and is not tiny). */
bool ledger_compact_due(const struct ledger *l)
{
	return l->journal_records > COMPACT_MIN_RECORDS && l->journal_records > 2 * (uint64_t)l->count;
}

/* Group commit: one fdatasync for all pending records, then compact if due. */
int ledger_sync(struct ledger *l)
{
	int fd = ledger_sync_begin(l), r = 0;

	if (fd >= 0) {
		r = fdatasync(fd) < 0 ? -errno : 0;
		r = ledger_sync_end(l, r);
		if (r < 0)
			return r;
	}
	return ledger_compact_due(l) ? ledger_compact(l) : 0;
}

/* Atomically replace the snapshot, then start an empty journal. */
int ledger_compact(struct ledger *l)
{
	int r, fd;

	/* The journal becomes the previous generation's: it must lead all the way to the new snapshot. */
	r = ledger_journal_flush(l);
	if (r < 0)
		return r;
	r = snapshot_write(l);
	if (r < 0)
		return r;
	/* A crash here leaves old records with seq <= the snapshot's: the loader skips them. */
	r = replace_file(l, JOURNAL_TMP, JOURNAL_FILE, "", 0);
	if (r < 0)
		return r;
	fd = ledger_openat(l, JOURNAL_FILE, O_WRONLY | O_APPEND, 0);
	if (fd < 0)
		return fd;
	close(l->journalfd);
	l->journalfd = fd;
	l->journal_bytes = 0;
	l->journal_records = 0;
	l->journal_torn = false;
	/* Everything, the deferred records too, is in the fsynced snapshot. */
	l->dirty = false;
	l->pend_len = 0;
	l->pend_records = 0;
	l->flush_err = 0;
	l->compactions++;
	l->last_compaction_usec = now_usec();
	return 0;
}

const char *ledger_dir(const struct ledger *l)
{
	return l ? l->dir : NULL;
}
