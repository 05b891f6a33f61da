// SPDX-License-Identifier: MIT
/* ledger.c: persistent record of created cgroups: snapshot + checksummed append-only journal. */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "ledger.h"

#define LEDGER_FORMAT "cgctl-ledger"
#define LEDGER_VERSION 1
#define SNAPSHOT_FILE "ledger.json"
#define SNAPSHOT_TMP "ledger.json.tmp"
#define JOURNAL_FILE "journal.jsonl"
#define JOURNAL_TMP "journal.jsonl.tmp"
#define LOCK_FILE "lock"

#define JOURNAL_LINE_MAX (64u * 1024)           /* one journal line, newline included */
#define SNAPSHOT_MAX (256u * 1024 * 1024)      /* whole snapshot file */
#define COMPACT_MIN_RECORDS 1024
#define HT_INITIAL_BUCKETS 16
#define JSON_DEPTH_MAX 64

#define REC_PREFIX "{\"rec\":"
#define CRC_PREFIX ",\"crc\":\""
#define REC_PREFIX_LEN (sizeof(REC_PREFIX) - 1)
#define CRC_PREFIX_LEN (sizeof(CRC_PREFIX) - 1)
#define REC_SUFFIX_LEN (CRC_PREFIX_LEN + 8 + 2) /* ,"crc":"xxxxxxxx"} */

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

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

static const char *const state_names[] = {
	[LEDGER_CREATING] = "creating",
	[LEDGER_ACTIVE] = "active",
	[LEDGER_DESTROYING] = "destroying",
};

/* ---- CRC-32C (Castagnoli, reflected polynomial 0x82F63B78) ---- */

static uint32_t crc32c_table[256];
static bool crc32c_ready;

/* Fill the byte-at-a-time lookup table once. */
static void crc32c_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
		crc32c_table[i] = c;
	}
	crc32c_ready = true;
}

/* CRC-32C of len bytes. */
static uint32_t crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	if (!crc32c_ready)
		crc32c_init();
	while (len--)
		crc = crc32c_table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}

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

/* Add v (NULL = allocation failed) under key k, consuming v. */
static int json_add(json_object *o, const char *k, json_object *v)
{
	if (!v)
		return -ENOMEM;
	if (json_object_object_add(o, k, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Parse exactly len bytes of JSON (trailing whitespace allowed); -EBADMSG when they are not. */
static int json_parse_exact(const char *text, size_t len, int depth, json_object **ret)
{
	struct json_tokener *tok;
	json_object *o;
	size_t used;

	if (len > INT32_MAX)
		return -EBADMSG;
	tok = json_tokener_new_ex(depth);
	if (!tok)
		return -ENOMEM;
	o = json_tokener_parse_ex(tok, text, (int)len);
	used = (size_t)json_tokener_get_parse_end(tok);
	if (!o || json_tokener_get_error(tok) != json_tokener_success) {
		json_tokener_free(tok);
		json_object_put(o);
		return -EBADMSG;
	}
	json_tokener_free(tok);
	for (; used < len; used++)
		if (!strchr(" \t\r\n", text[used])) {
			json_object_put(o);
			return -EBADMSG;
		}
	*ret = o;
	return 0;
}

/* Boolean member key of o; -EBADMSG when missing or not a boolean. */
static int json_get_bool(json_object *o, const char *key, bool *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_boolean))
		return -EBADMSG;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* Non-negative integer member key of o; -EBADMSG when missing, negative or not an integer. */
static int json_get_u64(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -EBADMSG;
	if (json_object_get_int64(v) < 0)
		return -EBADMSG;
	*ret = json_object_get_uint64(v);
	return 0;
}

/*
 * A sequence number: far below 2^64, so appending can never wrap it (json-c
 * saturates an out-of-range number, which would otherwise pass as UINT64_MAX).
 */
static int json_get_seq(json_object *o, uint64_t *ret)
{
	uint64_t v;

	if (json_get_u64(o, "seq", &v) < 0 || v >= (UINT64_C(1) << 62))
		return -EBADMSG;
	*ret = v;
	return 0;
}

/* String member key of o; -EBADMSG when missing or not a string. */
static int json_get_str(json_object *o, const char *key, const char **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EBADMSG;
	*ret = json_object_get_string(v);
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

/* The JSON form of an entry, as stored in records and the snapshot. */
static int entry_to_json(const struct ledger_entry *e, json_object **ret)
{
	json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	r = json_add(o, "name", json_object_new_string(e->name));
	if (r >= 0)
		r = json_add(o, "state", json_object_new_string(ledger_state_to_string(e->state)));
	if (r >= 0)
		r = json_add(o, "generated", json_object_new_boolean(e->generated));
	if (r >= 0)
		r = json_add(o, "delegate", json_object_new_boolean(e->delegate));
	if (r >= 0)
		r = json_add(o, "auto_remove", json_object_new_boolean(e->auto_remove));
	if (r >= 0)
		r = json_add(o, "lease", json_object_new_boolean(e->lease));
	if (r >= 0 && e->was_populated)
		r = json_add(o, "was_populated", json_object_new_boolean(true));
	if (r >= 0)
		r = json_add(o, "created", json_object_new_uint64(e->created_usec));
	if (r >= 0)
		r = json_add(o, "cgroup_id", json_object_new_uint64(e->cgroup_id));
	if (r >= 0 && json_object_object_add(o, "labels", json_object_get(e->labels)) < 0) {
		json_object_put(e->labels);
		r = -ENOMEM;
	}
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

/* A new node from the JSON form of an entry; -EBADMSG when it is malformed. */
static int entry_from_json(json_object *o, struct node **ret)
{
	_cleanup_(node_freep) struct node *n = NULL;
	const char *name, *state;
	json_object *labels = NULL;

	if (!json_object_is_type(o, json_type_object))
		return -EBADMSG;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	if (json_get_str(o, "name", &name) < 0 || !name[0] || json_get_str(o, "state", &state) < 0 ||
	    ledger_state_from_string(state, &n->e.state) < 0 ||
	    json_get_bool(o, "generated", &n->e.generated) < 0 ||
	    json_get_bool(o, "delegate", &n->e.delegate) < 0 ||
	    json_get_bool(o, "auto_remove", &n->e.auto_remove) < 0 ||
	    json_get_bool(o, "lease", &n->e.lease) < 0 ||
	    json_get_u64(o, "created", &n->e.created_usec) < 0 ||
	    json_get_u64(o, "cgroup_id", &n->e.cgroup_id) < 0)
		return -EBADMSG;
	json_object_object_get_ex(o, "labels", &labels);
	if (labels && !json_object_is_type(labels, json_type_object))
		return -EBADMSG;
	/* Optional (absent in older records): auto_remove waits for it. */
	if (json_object_object_get_ex(o, "was_populated", NULL) &&
	    json_get_bool(o, "was_populated", &n->e.was_populated) < 0)
		return -EBADMSG;
	n->e.name = strdup(name);
	if (!n->e.name)
		return -ENOMEM;
	n->e.labels = json_object_get(labels);
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

/* A record {"seq":seq,"op":op} for the caller to complete. */
static int record_new(uint64_t seq, const char *op, json_object **ret)
{
	json_object *o = json_object_new_object();
	int r;

	if (!o)
		return -ENOMEM;
	r = json_add(o, "seq", json_object_new_uint64(seq));
	if (r >= 0)
		r = json_add(o, "op", json_object_new_string(op));
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

/* The journal line for rec: {"rec":REC,"crc":"xxxxxxxx"}\n, checked to read back. */
static int record_line(json_object *rec, bool check_readback, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *line = NULL;
	json_object *check = NULL;
	size_t rlen, len;
	const char *s = json_object_to_json_string_length(rec, JSON_FLAGS, &rlen);
	char crc[9];

	if (!s)
		return -ENOMEM;
	len = REC_PREFIX_LEN + rlen + REC_SUFFIX_LEN + 1;
	if (len > JOURNAL_LINE_MAX)
		return -EFBIG;
	/* Never write what the loader would refuse (nesting depth, odd numbers): only
	 * client-given labels can bring those, so only records with labels pay for it. */
	if (check_readback) {
		if (json_parse_exact(s, rlen, JSON_DEPTH_MAX - 2, &check) < 0)
			return -EINVAL;
		json_object_put(check);
	}
	if (snprintf(crc, sizeof(crc), "%08x", crc32c(s, rlen)) != 8)
		return -EIO;
	line = malloc(len + 1);
	if (!line)
		return -ENOMEM;
	memcpy(line, REC_PREFIX, REC_PREFIX_LEN);
	memcpy(line + REC_PREFIX_LEN, s, rlen);
	memcpy(line + REC_PREFIX_LEN + rlen, CRC_PREFIX, CRC_PREFIX_LEN);
	memcpy(line + REC_PREFIX_LEN + rlen + CRC_PREFIX_LEN, crc, 8);
	memcpy(line + len - 3, "\"}\n", 4);
	*ret = TAKE_PTR(line);
	*ret_len = len;
	return 0;
}

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

/* Build and append the record rec (consumed); on success the caller commits to memory. */
static int journal_write(struct ledger *l, json_object *rec, bool check_readback)
{
	_cleanup_free_ char *line = NULL;
	size_t len = 0;
	int r = record_line(rec, check_readback, &line, &len);

	json_object_put(rec);
	if (r < 0)
		return r;
	return journal_append(l, line, len);
}

/* Check the shape and crc of one journal line (without '\n'); the REC bytes in *ret_rec. */
static int line_check(const char *line, size_t len, const char **ret_rec, size_t *ret_rec_len)
{
	const char *sfx, *hex;
	uint32_t want = 0;

	if (len < REC_PREFIX_LEN + 2 + REC_SUFFIX_LEN || memcmp(line, REC_PREFIX, REC_PREFIX_LEN) != 0)
		return -EBADMSG;
	sfx = line + len - REC_SUFFIX_LEN;
	hex = sfx + CRC_PREFIX_LEN;
	if (memcmp(sfx, CRC_PREFIX, CRC_PREFIX_LEN) != 0 || memcmp(hex + 8, "\"}", 2) != 0)
		return -EBADMSG;
	for (int i = 0; i < 8; i++) {
		char c = hex[i];
		int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;

		if (v < 0)
			return -EBADMSG;
		want = want << 4 | (uint32_t)v;
	}
	*ret_rec = line + REC_PREFIX_LEN;
	*ret_rec_len = (size_t)(sfx - *ret_rec);
	if (crc32c(*ret_rec, *ret_rec_len) != want)
		return -EBADMSG;
	return 0;
}

/* Apply one parsed record; -EBADMSG when it is malformed or out of sequence. */
static int record_apply(struct ledger *l, json_object *rec, uint64_t snap_seq, uint64_t *prev_seq)
{
	json_object *entry;
	struct node *n = NULL, *old;
	const char *op, *name = NULL;
	uint64_t seq;
	int r;

	if (!json_object_is_type(rec, json_type_object) || json_get_seq(rec, &seq) < 0 ||
	    seq <= *prev_seq || json_get_str(rec, "op", &op) < 0)
		return -EBADMSG;
	if (strcmp(op, "put") == 0) {
		if (!json_object_object_get_ex(rec, "entry", &entry))
			return -EBADMSG;
		r = entry_from_json(entry, &n);
	} else if (strcmp(op, "del") == 0) {
		r = json_get_str(rec, "name", &name);
	} else {
		r = -EBADMSG;
	}
	if (r < 0)
		return r;
	*prev_seq = seq;
	if (seq <= snap_seq) {
		/* Already in the snapshot: a crash came between its rename and the journal reset. */
		node_free(n);
		return 0;
	}
	l->seq = seq;
	if (n)
		return ht_upsert(l, n);
	old = ht_find(l, name, fnv1a(name));
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
	const char *s;
	size_t slen;
	int r;

	r = line_check(line, len, &s, &slen);
	if (r >= 0)
		r = json_parse_exact(s, slen, JSON_DEPTH_MAX, &rec);
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

/* Load the entries of a parsed snapshot object; -EBADMSG when malformed. */
static int snapshot_apply(struct ledger *l, json_object *o, uint64_t *ret_seq)
{
	json_object *entries, *v;
	const char *format;
	uint64_t version, seq;
	int r;

	if (!json_object_is_type(o, json_type_object) || json_get_str(o, "format", &format) < 0 ||
	    strcmp(format, LEDGER_FORMAT) != 0 || json_get_u64(o, "version", &version) < 0)
		return -EBADMSG;
	if (version != LEDGER_VERSION)
		return -EPROTONOSUPPORT;
	if (json_get_seq(o, &seq) < 0 || !json_object_object_get_ex(o, "entries", &entries) ||
	    !json_object_is_type(entries, json_type_array))
		return -EBADMSG;
	for (size_t i = 0; i < json_object_array_length(entries); i++) {
		struct node *n = NULL;

		v = json_object_array_get_idx(entries, i);
		r = entry_from_json(v, &n);
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
	*ret_seq = seq;
	return 0;
}

/* Load ledger.json (missing: empty, seq 0). */
static int snapshot_load(struct ledger *l, uint64_t *ret_seq)
{
	_cleanup_free_ char *text = NULL;
	json_object *o = NULL;
	size_t len = 0;
	int r;

	r = snapshot_read(l, &text, &len);
	if (r == -ENOENT) {
		*ret_seq = 0;
		return 0;
	}
	if (r < 0)
		return r;
	r = json_parse_exact(text, len, JSON_DEPTH_MAX, &o);
	if (r < 0)
		return r;
	r = snapshot_apply(l, o, ret_seq);
	json_object_put(o);
	return r;
}

/* The snapshot document of the current entries, sorted by name. */
static int snapshot_build(struct ledger *l, json_object **ret)
{
	_cleanup_free_ struct ledger_entry **v = NULL;
	json_object *o = json_object_new_object(), *arr = NULL;
	size_t n = 0;
	int r;

	if (!o)
		return -ENOMEM;
	r = ledger_list(l, &v, &n);
	if (r >= 0)
		r = json_add(o, "format", json_object_new_string(LEDGER_FORMAT));
	if (r >= 0)
		r = json_add(o, "version", json_object_new_int(LEDGER_VERSION));
	if (r >= 0)
		r = json_add(o, "seq", json_object_new_uint64(l->seq));
	if (r >= 0)
		r = json_add(o, "entries", arr = json_object_new_array());
	for (size_t i = 0; r >= 0 && i < n; i++) {
		json_object *e = NULL;

		r = entry_to_json(v[i], &e);
		if (r >= 0 && json_object_array_add(arr, e) < 0) {
			json_object_put(e);
			r = -ENOMEM;
		}
	}
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
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
	_cleanup_free_ char *doc = NULL;
	json_object *o = NULL;
	const char *s;
	size_t len = 0;
	int r;

	r = snapshot_build(l, &o);
	if (r < 0)
		return r;
	s = json_object_to_json_string_length(o, JSON_FLAGS, &len);
	doc = s ? malloc(len + 1) : NULL;
	if (doc) {
		memcpy(doc, s, len);
		doc[len++] = '\n';
	}
	json_object_put(o);
	if (!doc)
		return -ENOMEM;
	if (len > SNAPSHOT_MAX)
		return -EFBIG;
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

/* Build the "put" record for e with sequence number seq. */
static int put_record(const struct ledger_entry *e, uint64_t seq, json_object **ret)
{
	json_object *rec = NULL, *je = NULL;
	int r = record_new(seq, "put", &rec);

	if (r >= 0)
		r = entry_to_json(e, &je);
	if (r >= 0)
		r = json_add(rec, "entry", je);
	if (r < 0) {
		json_object_put(rec);
		return r;
	}
	*ret = rec;
	return 0;
}

/* Insert or replace an entry: journal first, memory after. */
int ledger_put(struct ledger *l, const struct ledger_entry *e, struct ledger_entry **ret)
{
	_cleanup_(node_freep) struct node *fresh = NULL;
	json_object *rec = NULL;
	struct node *existing;
	struct ledger_entry *stored;
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
	r = put_record(&fresh->e, l->seq + 1, &rec);
	if (r >= 0)
		r = journal_write(l, rec, fresh->e.labels && json_object_object_length(fresh->e.labels) > 0);
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
	json_object *rec = NULL;
	int r;

	if (!e)
		return -ENOENT;
	if (!ledger_state_to_string(state))
		return -EINVAL;
	copy = *e;
	copy.state = state;
	r = put_record(&copy, l->seq + 1, &rec);
	if (r >= 0)
		r = journal_write(l, rec, copy.labels && json_object_object_length(copy.labels) > 0);
	if (r < 0)
		return r;
	l->seq++;
	e->state = state;
	return 0;
}

/* Remove an entry: journal first, memory after. */
int ledger_remove(struct ledger *l, const char *name)
{
	struct node *n;
	json_object *rec = NULL;
	int r;

	if (!l || !name)
		return -EINVAL;
	n = ht_find(l, name, fnv1a(name));
	if (!n)
		return -ENOENT;
	r = record_new(l->seq + 1, "del", &rec);
	if (r >= 0)
		r = json_add(rec, "name", json_object_new_string(name));
	if (r < 0) {
		json_object_put(rec);
		return r;
	}
	r = journal_write(l, rec, false);
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

/* Name of a state; NULL when out of range. */
const char *ledger_state_to_string(enum ledger_state s)
{
	if ((unsigned)s >= ELEMENTSOF(state_names))
		return NULL;
	return state_names[s];
}

/* State for a name; -EINVAL when unknown. */
int ledger_state_from_string(const char *s, enum ledger_state *ret)
{
	for (size_t i = 0; s && i < ELEMENTSOF(state_names); i++)
		if (strcmp(s, state_names[i]) == 0) {
			*ret = (enum ledger_state)i;
			return 0;
		}
	return -EINVAL;
}
