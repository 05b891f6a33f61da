// SPDX-License-Identifier: MIT
/* ledger.c: persistent record of created cgroups: the files, the in-memory table, the API. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "ledger.h"
#include "ledger_format.h"

#define SNAPSHOT_FILE "ledger.json"
#define SNAPSHOT_TMP "ledger.json.tmp"
#define JOURNAL_FILE "journal.jsonl"
#define JOURNAL_TMP "journal.jsonl.tmp"
#define LOCK_FILE "lock"

#define COMPACT_MIN_RECORDS 1024
#define HT_INITIAL_BUCKETS 16

/* One hash-table slot; callers hold &node->e, which stays put across resizes and replacements. */
struct node {
	struct ledger_entry e;
	struct node *next;
	uint64_t hash;
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
	bool dirty;
	bool journal_torn; /* a failed append could not be rolled back yet */
};

/* ---- small helpers ---- */

/* Wall-clock time in microseconds. */
static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Write all of buf to fd, retrying short writes and EINTR. */
static int write_all(int fd, const char *buf, size_t len)
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

/* Free a node and its entry. */
static void node_free(struct node *n)
{
	if (!n)
		return;
	entry_done(&n->e);
	free(n);
}

/* Free a node at scope exit. */
static inline void node_freep(struct node **n)
{
	node_free(*n);
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

/* A new node from the JSON form of an entry; -EBADMSG when it is malformed. */
static int node_from_json(json_object *o, struct node **ret)
{
	_cleanup_(node_freep) struct node *n = calloc(1, sizeof(*n));
	int r;

	if (!n)
		return -ENOMEM;
	r = ledger_format_entry_from_json(o, &n->e);
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
	entry_done(&existing->e);
	existing->e = fresh->e;
	existing->e.userdata = userdata;
	existing->e.children = children;
	free(fresh);
	return &existing->e;
}

/* Insert or replace fresh (consumed) while loading. */
static int ht_upsert(struct ledger *l, struct node *fresh)
{
	struct node *existing = ht_find(l, fresh->e.name, fnv1a(fresh->e.name));
	int r;

	if (!existing) {
		r = ht_reserve(l, l->count + 1);
		if (r < 0) {
			node_free(fresh);
			return r;
		}
	}
	ht_commit(l, existing, fresh);
	return 0;
}

/* ---- journal records ---- */

/* Append one line with one write loop; on failure roll the file back and leave state alone. */
static int journal_append(struct ledger *l, const char *line, size_t len)
{
	int r;

	if (l->journal_torn) {
		if (ftruncate(l->journalfd, (off_t)l->journal_bytes) < 0)
			return -EIO;
		l->journal_torn = false;
	}
	r = write_all(l->journalfd, line, len);
	if (r < 0) {
		/* A torn line left behind would swallow every later record at the next load. */
		if (ftruncate(l->journalfd, (off_t)l->journal_bytes) < 0)
			l->journal_torn = true;
		return r;
	}
	l->journal_bytes += len;
	l->journal_records++;
	l->dirty = true;
	return 0;
}


/* Apply one parsed record; -EBADMSG when it is malformed or out of sequence. */
static int record_apply(struct ledger *l, json_object *rec, uint64_t snap_seq, uint64_t *prev_seq)
{
	struct ledger_record rd;
	struct node *n = NULL, *old;
	int r;

	r = ledger_format_record_decode(rec, *prev_seq, &rd);
	if (r >= 0 && rd.entry)
		r = node_from_json(rd.entry, &n);
	if (r < 0)
		return r;
	*prev_seq = rd.seq;
	if (rd.seq <= snap_seq) {
		/* Already in the snapshot: a crash came between its rename and the journal reset. */
		node_free(n);
		return 0;
	}
	l->seq = rd.seq;
	if (n)
		return ht_upsert(l, n);
	old = ht_find(l, rd.name, fnv1a(rd.name));
	if (old) {
		ht_unlink(l, old);
		node_free(old);
	}
	return 0;
}

/* Check, parse and apply one journal line (without '\n'). */
static int journal_line(struct ledger *l, const char *line, size_t len, uint64_t snap_seq,
			uint64_t *prev_seq)
{
	json_object *rec = NULL;
	int r;

	r = ledger_format_line_parse(line, len, &rec);
	if (r >= 0)
		r = record_apply(l, rec, snap_seq, prev_seq);
	json_object_put(rec);
	return r;
}

/* Read more journal bytes into buf[*len..cap); *eof at end of file. */
static int read_more(int fd, char *buf, size_t *len, size_t cap, bool *eof)
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

/* Lines from rest to the end of the file (a final unterminated one counts). */
static int count_rest(int fd, char *buf, size_t cap, size_t start, size_t len, uint64_t *ret)
{
	uint64_t lines = 0;
	bool any = len > start, eof = false;
	char last = any ? buf[len - 1] : '\n';
	int r;

	for (;;) {
		for (size_t i = start; i < len; i++)
			lines += buf[i] == '\n';
		if (eof)
			break;
		start = len = 0;
		r = read_more(fd, buf, &len, cap, &eof);
		if (r < 0)
			return r;
		if (len > 0) {
			any = true;
			last = buf[len - 1];
		}
	}
	*ret = lines + (any && last != '\n');
	return 0;
}

/* Apply the good prefix of fd's journal, count the lines after it; *ret_good is its length. */
static int journal_scan(struct ledger *l, int fd, char *buf, uint64_t snap_seq, uint64_t *ret_good)
{
	uint64_t good = 0, prev = 0;
	size_t start = 0, len = 0;
	bool eof = false;
	int r;

	for (;;) {
		char *nl = memchr(buf + start, '\n', len - start);
		size_t llen;

		if (!nl) {
			if (eof || (start == 0 && len == JOURNAL_LINE_MAX))
				break; /* torn tail or a line over the limit */
			memmove(buf, buf + start, len - start);
			len -= start;
			start = 0;
			r = read_more(fd, buf, &len, JOURNAL_LINE_MAX, &eof);
			if (r < 0)
				return r;
			continue;
		}
		llen = (size_t)(nl - (buf + start));
		r = journal_line(l, buf + start, llen, snap_seq, &prev);
		if (r == -EBADMSG)
			break;
		if (r < 0)
			return r;
		good += llen + 1;
		l->journal_records++;
		start += llen + 1;
	}
	r = count_rest(fd, buf, JOURNAL_LINE_MAX, start, len, &l->dropped_records);
	if (r < 0)
		return r;
	*ret_good = good;
	return 0;
}

/* Replay the journal after the snapshot; drop (truncate away) a torn or corrupt tail. */
static int journal_load(struct ledger *l, uint64_t snap_seq)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	uint64_t good = 0;
	struct stat st;
	int r;

	fd = openat(l->dirfd, JOURNAL_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	buf = malloc(JOURNAL_LINE_MAX);
	if (!buf)
		return -ENOMEM;
	r = journal_scan(l, fd, buf, snap_seq, &good);
	if (r < 0)
		return r;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size != good) {
		if (ftruncate(fd, (off_t)good) < 0 || fsync(fd) < 0)
			return -errno;
	}
	l->journal_bytes = good;
	l->journalfd = openat(l->dirfd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	return l->journalfd < 0 ? -errno : 0;
}

/* ---- snapshot ---- */

/* Read the whole snapshot; -ENOENT when there is none. */
static int snapshot_read(struct ledger *l, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	bool eof = false;

	fd = openat(l->dirfd, SNAPSHOT_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EBADMSG;
	if ((uint64_t)st.st_size > SNAPSHOT_MAX)
		return -EFBIG;
	/* One byte more than the size shows a file that grew underneath us. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (!eof && len < cap) {
		int r = read_more(fd, buf, &len, cap, &eof);

		if (r < 0)
			return r;
	}
	if (!eof)
		return -EBADMSG;
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Load the snapshot's entries array; -EBADMSG when an entry is malformed or a duplicate. */
static int snapshot_apply(struct ledger *l, json_object *entries)
{
	int r;

	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		struct node *n = NULL;

		r = node_from_json(json_object_array_get_idx(entries, i), &n);
		if (r < 0)
			return r;
		if (ht_find(l, n->e.name, fnv1a(n->e.name))) {
			node_free(n);
			return -EBADMSG;
		}
		r = ht_upsert(l, n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Load ledger.json (missing: empty, seq 0). */
static int snapshot_load(struct ledger *l, uint64_t *ret_seq)
{
	_cleanup_free_ char *text = NULL;
	json_object *entries = NULL;
	uint64_t seq = 0;
	size_t len = 0;
	int r;

	r = snapshot_read(l, &text, &len);
	if (r == -ENOENT) {
		*ret_seq = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = ledger_format_snapshot_parse(text, len, &seq, &entries);
	if (r < 0)
		return r;
	r = snapshot_apply(l, entries);
	json_object_put(entries);
	if (r >= 0)
		*ret_seq = seq;
	return r;
}

/* Replace dir/final with data atomically and durably (tmp, fsync, rename, fsync dir). */
static int replace_file(int dirfd, const char *tmp, const char *final, const char *data, size_t len)
{
	_cleanup_close_ int fd = -1;
	int r;

	fd = openat(dirfd, tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r >= 0 && fsync(fd) < 0)
		r = -errno;
	if (r >= 0 && renameat(dirfd, tmp, dirfd, final) < 0)
		r = -errno;
	if (r < 0) {
		unlinkat(dirfd, tmp, 0);
		return r;
	}
	return fsync(dirfd) < 0 ? -errno : 0;
}

/* Write ledger.json from memory. */
static int snapshot_write(struct ledger *l)
{
	_cleanup_free_ struct ledger_entry **v = NULL;
	_cleanup_free_ char *doc = NULL;
	size_t n = 0, len = 0;
	int r;

	r = ledger_list(l, &v, &n);
	if (r >= 0)
		r = ledger_format_snapshot_text(v, n, l->seq, &doc, &len);
	if (r < 0)
		return r;
	return replace_file(l->dirfd, SNAPSHOT_TMP, SNAPSHOT_FILE, doc, len);
}

/* ---- open / close ---- */

/* mkdir -p dir, every missing component 0700. */
static int mkdir_p(const char *dir)
{
	_cleanup_free_ char *p = NULL;

	if (mkdir(dir, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	p = strdup(dir);
	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* Create and open the state directory and take its lock. */
static int ledger_open_dir(struct ledger *l)
{
	int r = mkdir_p(l->dir);

	if (r < 0)
		return r;
	l->dirfd = open(l->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (l->dirfd < 0)
		return -errno;
	l->lockfd = openat(l->dirfd, LOCK_FILE, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (l->lockfd < 0)
		return -errno;
	if (flock(l->lockfd, LOCK_EX | LOCK_NB) < 0)
		return errno == EWOULDBLOCK ? -EBUSY : -errno;
	return 0;
}

/* Close a ledger at scope exit. */
static inline void ledger_closep(struct ledger **l)
{
	ledger_close(*l);
}

/* Create, lock and load the state directory. */
int ledger_open(const char *dir, struct ledger **ret)
{
	_cleanup_(ledger_closep) struct ledger *l = NULL;
	uint64_t snap_seq = 0;
	int r;

	if (!dir || !dir[0])
		return -EINVAL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->dirfd = l->lockfd = l->journalfd = -1;
	l->dir = strdup(dir);
	if (!l->dir)
		return -ENOMEM;
	r = ledger_open_dir(l);
	if (r >= 0)
		r = ht_reserve(l, 0);
	if (r >= 0)
		r = snapshot_load(l, &snap_seq);
	if (r < 0)
		return r;
	l->seq = snap_seq;
	r = journal_load(l, snap_seq);
	if (r < 0)
		return r;
	ht_recount(l);
	*ret = TAKE_PTR(l);
	return 0;
}

/* Release files and memory; no implicit sync. */
struct ledger *ledger_close(struct ledger *l)
{
	if (!l)
		return NULL;
	for (size_t i = 0; i < l->nbuckets; i++)
		for (struct node *n = l->buckets[i], *next; n; n = next) {
			next = n->next;
			node_free(n);
		}
	free(l->buckets);
	if (l->journalfd >= 0)
		close(l->journalfd);
	if (l->lockfd >= 0)
		close(l->lockfd);
	if (l->dirfd >= 0)
		close(l->dirfd);
	free(l->dir);
	free(l);
	return NULL;
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
	if (r < 0)
		return r;
	existing = ht_find(l, e->name, fnv1a(e->name));
	if (!existing) {
		r = ht_reserve(l, l->count + 1);
		if (r < 0)
			return r;
	}
	r = ledger_format_put_line(&fresh->e, l->seq + 1, &line, &len);
	if (r >= 0)
		r = journal_append(l, line, len);
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
		r = journal_append(l, line, len);
	if (r < 0)
		return r;
	l->seq++;
	e->state = state;
	return 0;
}

/* Remove an entry: journal first, memory after. */
int ledger_remove(struct ledger *l, const char *name)
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
		r = journal_append(l, line, len);
	if (r < 0)
		return r;
	l->seq++;
	ht_unlink(l, n);
	node_free(n);
	return 0;
}

/* ---- durability ---- */

/* True when appended records await ledger_sync(). */
bool ledger_dirty(const struct ledger *l)
{
	return l && l->dirty;
}

/* Start a group commit: the journal to fdatasync, or -1 when nothing is pending. */
int ledger_sync_begin(struct ledger *l)
{
	if (!l->dirty)
		return -1;
	/* Records appended from now on wait for the next sync. */
	l->dirty = false;
	return l->journalfd;
}

/* The fdatasync ended with r: on failure its records count as pending again. */
void ledger_sync_end(struct ledger *l, int r)
{
	if (r < 0)
		l->dirty = true;
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
		ledger_sync_end(l, r);
		if (r < 0)
			return r;
	}
	return ledger_compact_due(l) ? ledger_compact(l) : 0;
}

/* Atomically replace the snapshot, then start an empty journal. */
int ledger_compact(struct ledger *l)
{
	int r, fd;

	r = snapshot_write(l);
	if (r < 0)
		return r;
	/* A crash here leaves old records with seq <= the snapshot's: the loader skips them. */
	r = replace_file(l->dirfd, JOURNAL_TMP, JOURNAL_FILE, "", 0);
	if (r < 0)
		return r;
	fd = openat(l->dirfd, JOURNAL_FILE, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	close(l->journalfd);
	l->journalfd = fd;
	l->journal_bytes = 0;
	l->journal_records = 0;
	l->journal_torn = false;
	l->dirty = false; /* everything is in the fsynced snapshot */
	l->compactions++;
	l->last_compaction_usec = now_usec();
	return 0;
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
	};
}

/* Path of the state directory. */
const char *ledger_dir(const struct ledger *l)
{
	return l ? l->dir : NULL;
}
