// SPDX-License-Identifier: MIT
/* fuzz_ledger.c: libFuzzer harness for the ledger loader: open, change, close, reopen. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sweep.h"
#include "ledger.h"

/*
 * Input layout:
 *   [0]   bit 0: recompute the crc of every journal line shaped like a record,
 *         so the fuzzer reaches the record parser; bits 1-3: how many changes
 *         to make once the ledger is open (which ones: a hash of the input)
 *   [1..] the snapshot (ledger.json) up to the first SNAP_SEP byte, then the
 *         journal (journal.jsonl); without SNAP_SEP there is no snapshot
 *         and all of it is the journal
 * Checked:
 *  - damage never fails the open; a failed open (another version) returns a
 *    documented error and leaves both files as they were;
 *  - an opened ledger lists its entries sorted and unique, ledger_get agrees;
 *  - after some puts, removes, state changes, syncs and compactions (mirrored in
 *    a model), close and reopen succeeds, drops no record, and holds exactly
 *    the model's entries with the same sequence number;
 *  - every entry's "children" is the number of entries directly below it,
 *    whatever order the files listed them in.
 * $CGCTL_FUZZ_STRICT also makes changes to a ledger whose sequence number is
 * about to wrap (a known, reported bug).
 */
#define SNAP_SEP 0x1e /* ASCII record separator: never valid in a JSON document */

/* Report a broken invariant and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn)) fail(const char *what, int r)
{
	fprintf(stderr, "fuzz_ledger: invariant broken: %s (r=%d %s)\n", what, r, r < 0 ? strerror(-r) : "");
	abort();
}

static char state_dir[256];
static bool strict; /* $CGCTL_FUZZ_STRICT: no work-around for the known sequence wrap */

/* Remove every file in the state directory (kept-aside damage, generations included). */
static void clear_dir(void)
{
	DIR *d = opendir(state_dir);
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			unlinkat(dirfd(d), de->d_name, 0);
	closedir(d);
}

/* Remove the state directory (at exit). */
static void cleanup_dir(void)
{
	if (!state_dir[0])
		return;
	clear_dir();
	rmdir(state_dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One state directory for the whole process, on tmpfs when there is one. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	strict = getenv("CGCTL_FUZZ_STRICT") != NULL;
	sweep_stale(base, "cgctl-fuzz-ledger");
	snprintf(state_dir, sizeof(state_dir), "%s/cgctl-fuzz-ledger.%d", base, (int)getpid());
	if (mkdir(state_dir, 0700) < 0 && errno != EEXIST) {
		perror(state_dir);
		abort();
	}
	atexit(cleanup_dir);
	return 0;
}

/* ---- files ---- */

/* Write or (data NULL) remove dir/name. */
static void put_file(const char *name, const uint8_t *data, size_t len)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", state_dir, name);
	unlink(p);
	if (!data)
		return;
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(p);
		abort();
	}
	close(fd);
}

/* Does dir/name hold exactly data (NULL: must not exist)? */
static bool file_is(const char *name, const uint8_t *data, size_t len)
{
	char p[512];
	struct stat st;
	bool same;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", state_dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return !data && errno == ENOENT;
	if (!data || fstat(fd, &st) < 0 || (size_t)st.st_size != len) {
		close(fd);
		return false;
	}
	uint8_t *buf = malloc(len ? len : 1);
	same = buf && read(fd, buf, len) == (ssize_t)len && memcmp(buf, data, len) == 0;
	free(buf);
	close(fd);
	return same;
}

/* ---- CRC-32C, to make record-shaped lines pass the check ---- */

/* CRC-32C (Castagnoli), bit by bit: slow and obviously right. */
static uint32_t crc32c(const uint8_t *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82f63b78u & (0u - (c & 1)));
	}
	return ~c;
}

/* Rewrite the crc of every line of the form {"rec":R,"crc":"xxxxxxxx"} in place. */
static void fix_crcs(uint8_t *j, size_t len)
{
	static const char pre[] = "{\"rec\":", mid[] = ",\"crc\":\"";
	const size_t plen = sizeof(pre) - 1, mlen = sizeof(mid) - 1, slen = mlen + 8 + 2;
	size_t start = 0;

	while (start < len) {
		uint8_t *nl = memchr(j + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - j) : len, l = end - start;
		uint8_t *line = j + start;

		if (l >= plen + slen && memcmp(line, pre, plen) == 0 && memcmp(line + l - slen, mid, mlen) == 0) {
			char hex[9];
			snprintf(hex, sizeof(hex), "%08x", crc32c(line + plen, l - plen - slen));
			memcpy(line + l - slen + mlen, hex, 8);
		}
		start = end + 1;
	}
}

/* ---- the model ---- */

struct model {
	struct ledger_entry *v;
	size_t n;
};

/* Free a model's copies. */
static void model_free(struct model *m)
{
	for (size_t i = 0; i < m->n; i++) {
		free(m->v[i].name);
		json_object_put(m->v[i].labels);
	}
	free(m->v);
	*m = (struct model){ 0 };
}

/* Index of name in m, or -1. */
static ssize_t model_find(const struct model *m, const char *name)
{
	for (size_t i = 0; i < m->n; i++)
		if (strcmp(m->v[i].name, name) == 0)
			return (ssize_t)i;
	return -1;
}

/* Deep copy of e's persisted fields. */
static struct ledger_entry entry_copy(const struct ledger_entry *e)
{
	struct ledger_entry c = *e;

	c.name = strdup(e->name);
	c.labels = NULL;
	c.userdata = NULL;
	if (!c.name || (e->labels && json_object_deep_copy(e->labels, &c.labels, NULL) < 0))
		fail("out of memory copying an entry", -ENOMEM);
	return c;
}

/* Insert or replace e in m. */
static void model_put(struct model *m, const struct ledger_entry *e)
{
	ssize_t i = model_find(m, e->name);

	if (i >= 0) {
		free(m->v[i].name);
		json_object_put(m->v[i].labels);
		m->v[i] = entry_copy(e);
		return;
	}
	m->v = realloc(m->v, (m->n + 1) * sizeof(*m->v));
	if (!m->v)
		fail("out of memory growing the model", -ENOMEM);
	m->v[m->n++] = entry_copy(e);
}

/* Drop name from m. */
static void model_remove(struct model *m, const char *name)
{
	ssize_t i = model_find(m, name);

	if (i < 0)
		return;
	free(m->v[i].name);
	json_object_put(m->v[i].labels);
	m->v[i] = m->v[--m->n];
}

/* Do two entries agree on everything the ledger persists? */
static bool entry_same(const struct ledger_entry *a, const struct ledger_entry *b)
{
	if (strcmp(a->name, b->name) != 0 || a->state != b->state || a->generated != b->generated ||
	    a->delegate != b->delegate || a->auto_remove != b->auto_remove || a->lease != b->lease ||
	    a->was_populated != b->was_populated || a->created_usec != b->created_usec ||
	    a->cgroup_id != b->cgroup_id)
		return false;
	if (!a->labels || !b->labels)
		return !a->labels && !b->labels;
	return json_object_equal(a->labels, b->labels);
}

/* Entries in all[0..n) directly below name. */
static unsigned count_children(struct ledger_entry **all, size_t n, const char *name)
{
	size_t len = strlen(name);
	unsigned k = 0;

	for (size_t i = 0; i < n; i++)
		if (strncmp(all[i]->name, name, len) == 0 && all[i]->name[len] == '/' &&
		    !strchr(all[i]->name + len + 1, '/'))
			k++;
	return k;
}

/* The ledger lists sorted unique names, agrees with ledger_get and its count; fill m. */
static void check_listing(struct ledger *l, struct model *m)
{
	struct ledger_entry **all = NULL;
	struct ledger_stats st;
	size_t n = 0;
	int r = ledger_list(l, &all, &n);

	if (r < 0)
		fail("ledger_list", r);
	if (n != ledger_count(l))
		fail("ledger_list and ledger_count disagree", 0);
	ledger_get_stats(l, &st);
	if (st.entries != n)
		fail("stats.entries is not the number of entries", 0);
	for (size_t i = 0; i < n; i++) {
		if (!all[i]->name || !all[i]->name[0] || !ledger_state_to_string(all[i]->state))
			fail("an entry without a name or with an unknown state", 0);
		if (i > 0 && strcmp(all[i - 1]->name, all[i]->name) >= 0)
			fail("ledger_list is not sorted by unique names", 0);
		if (ledger_get(l, all[i]->name) != all[i])
			fail("ledger_get does not find a listed entry", 0);
		if (all[i]->labels && !json_object_is_type(all[i]->labels, json_type_object))
			fail("labels that are not an object", 0);
		if (all[i]->children != count_children(all, n, all[i]->name)) {
			fprintf(stderr, "entry: %s children %u\n", all[i]->name, all[i]->children);
			fail("children is not the number of entries directly below", 0);
		}
		if (m)
			model_put(m, all[i]);
	}
	free(all);
}

/* ---- changes ---- */

/* xorshift64: the changes are a function of the input only. */
static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Expected outcome of an update: 0, or a refusal that leaves memory unchanged. */
static bool update_refused(int r, const char *what)
{
	if (r == 0)
		return false;
	/* -EFBIG: a record over the line limit; -EINVAL: one the loader could not read back. */
	if (r == -EFBIG || r == -EINVAL || r == -ENOMEM)
		return true;
	fail(what, r);
}

/* A put of a fresh entry, a child of one, or a replacement of one. */
static void op_put(struct ledger *l, struct model *m, uint64_t *s, unsigned i)
{
	struct ledger_entry e = { 0 };
	char name[64], *owned = NULL;
	uint64_t x = rnd(s);
	int r;

	if (m->n > 0 && (x & 1)) {
		const char *base = m->v[(x >> 8) % m->n].name;

		/* Replace it, or add a child (names kept short enough for a record). */
		if ((x & 2 ? (owned = strdup(base)) == NULL : asprintf(&owned, "%.900s/c%u", base, i) < 0))
			return;
		e.name = owned;
	} else {
		snprintf(name, sizeof(name), "fz%u/%c\xc3\xa9", i, 'a' + (int)(x % 26));
		e.name = name;
	}
	e.state = (enum ledger_state)((x >> 2) % 3);
	e.generated = x & 16;
	e.delegate = x & 32;
	e.auto_remove = x & 64;
	e.lease = x & 128;
	e.was_populated = x & 256;
	e.created_usec = x >> 1;
	e.cgroup_id = (x & 512) ? UINT64_MAX - (x & 0xff) : x & 0xffff;
	if (x & 1024) {
		e.labels = json_object_new_object();
		json_object_object_add(e.labels, "k", json_object_new_string_len("v\0\xe2\x82\xac", 5));
		json_object_object_add(e.labels, "n", json_object_new_int64(-(int64_t)(x & 0xffff)));
	}
	r = ledger_put(l, &e, NULL);
	if (!update_refused(r, "ledger_put"))
		model_put(m, &e);
	json_object_put(e.labels);
	free(owned);
}

/* One change chosen by the generator, mirrored in the model. */
static void do_op(struct ledger *l, struct model *m, uint64_t *s, unsigned i)
{
	uint64_t x = rnd(s);
	char *name;
	int r;

	switch (x % 6) {
	case 0:
	case 1:
		op_put(l, m, s, i);
		break;
	case 2:
		if (m->n == 0 || (x & 64)) {
			r = ledger_remove(l, "fz-absent");
			if (r != -ENOENT)
				fail("ledger_remove of an absent name", r);
			break;
		}
		name = strdup(m->v[(x >> 8) % m->n].name);
		r = ledger_remove(l, name);
		if (!update_refused(r, "ledger_remove"))
			model_remove(m, name);
		free(name);
		break;
	case 3:
		if (m->n == 0)
			break;
		{
			struct ledger_entry *me = &m->v[(x >> 8) % m->n];
			enum ledger_state st = (enum ledger_state)((x >> 4) % 3);
			r = ledger_set_state(l, me->name, st);
			if (!update_refused(r, "ledger_set_state"))
				me->state = st;
		}
		break;
	case 4:
		r = ledger_sync(l);
		if (r < 0)
			fail("ledger_sync", r);
		break;
	case 5:
		r = ledger_compact(l);
		if (r < 0 && r != -EFBIG && r != -ENOMEM)
			fail("ledger_compact", r);
		break;
	}
}

/* Reopen and compare with the model. */
static void check_reopen(const struct model *m, uint64_t seq)
{
	struct ledger *l = NULL;
	struct ledger_stats st;
	int r = ledger_open(state_dir, &l);

	if (r < 0)
		fail("a ledger the daemon wrote does not open again", r);
	ledger_get_stats(l, &st);
	if (st.dropped_records != 0)
		fail("reopening dropped records the ledger itself wrote", (int)st.dropped_records);
	if (st.seq != seq)
		fail("the sequence number changed across close and open", 0);
	check_listing(l, NULL);
	if (ledger_count(l) != m->n)
		fail("the reopened ledger has a different number of entries", (int)ledger_count(l));
	for (size_t i = 0; i < m->n; i++) {
		struct ledger_entry *e = ledger_get(l, m->v[i].name);

		if (!e) {
			fprintf(stderr, "missing: %s\n", m->v[i].name);
			fail("an entry is missing after reopening", 0);
		}
		if (!entry_same(e, &m->v[i])) {
			fprintf(stderr, "differs: %s\n", m->v[i].name);
			fail("an entry changed across close and open", 0);
		}
	}
	ledger_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *snap = NULL, *sep;
	uint8_t *journal;
	size_t snap_len = 0, journal_len;
	struct model m = { 0 };
	struct ledger *l = NULL;
	struct ledger_stats st;
	uint64_t seed = 0x9e3779b97f4a7c15u;
	int r;

	if (size < 1)
		return 0;
	sep = memchr(data + 1, SNAP_SEP, size - 1);
	if (sep) {
		snap = data + 1;
		snap_len = (size_t)(sep - snap);
	}
	journal_len = sep ? size - 1 - snap_len - 1 : size - 1;
	journal = malloc(journal_len + 1);
	if (!journal)
		return 0;
	memcpy(journal, sep ? sep + 1 : data + 1, journal_len);
	if (data[0] & 1)
		fix_crcs(journal, journal_len);
	/* Damage is kept aside and generations rotate: every input starts from an empty directory. */
	clear_dir();
	put_file("ledger.json", snap, snap_len);
	put_file("journal.jsonl", journal, journal_len);

	r = ledger_open(state_dir, &l);
	if (r < 0) {
		/* Damage never fails the open any more: only another version or no memory does. */
		if (r != -EPROTONOSUPPORT && r != -ENOMEM)
			fail("ledger_open returned an undocumented error", r);
		/* "... nothing is modified." */
		if (!file_is("ledger.json", snap, snap_len) || !file_is("journal.jsonl", journal, journal_len))
			fail("a failed ledger_open modified the files", r);
		free(journal);
		return 0;
	}
	check_listing(l, &m);

	for (size_t i = 0; i < size; i++)
		seed = (seed ^ data[i]) * 0x100000001b3u;
	seed |= 1;
	/*
	 * Known, reported: a sequence number near UINT64_MAX (only from a damaged
	 * snapshot or journal) wraps at the next record, which the next load then
	 * drops. Make no changes to such a ledger unless $CGCTL_FUZZ_STRICT.
	 */
	ledger_get_stats(l, &st);
	for (unsigned i = 0, n = (data[0] >> 1) & 7; i < n && (strict || st.seq < UINT64_MAX - 64); i++)
		do_op(l, &m, &seed, i);

	r = ledger_sync(l);
	if (r < 0)
		fail("ledger_sync before close", r);
	ledger_get_stats(l, &st);
	ledger_close(l);
	check_reopen(&m, st.seq);
	model_free(&m);
	free(journal);
	return 0;
}
