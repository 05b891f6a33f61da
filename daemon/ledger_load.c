// SPDX-License-Identifier: MIT
/* ledger_load.c: loading the ledger at open: snapshot, journals, the previous generation, damage. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "ledger_format.h"
#include "ledger_internal.h"

/* What a journal scan found after its intact prefix. */
struct scan {
	uint64_t good;   /* bytes of intact records from the start */
	uint64_t lines;  /* lines after them, all dropped */
	uint64_t intact; /* of which whole, checksummed records: the damage is in the middle */
	uint64_t first_seq, last_seq; /* of those */
	char names[256]; /* names they touch (as many as fit) */
};

/* Reading a journal line by line in a JOURNAL_LINE_MAX buffer. */
struct lines {
	int fd;
	char *buf;
	size_t start, len;
	bool eof;
	bool skipping; /* inside an overlong line, already returned */
};

/* Apply one parsed record; -EBADMSG when it is malformed or out of sequence. */
static int record_apply(struct ledger *l, json_object *rec, uint64_t snap_seq, uint64_t *prev_seq)
{
	struct ledger_record rd;
	struct node *n = NULL, *old;
	int r;

	r = ledger_format_record_decode(rec, *prev_seq, &rd);
	if (r >= 0 && rd.entry)
		r = ledger_node_from_json(rd.entry, &n);
	if (r < 0)
		return r;
	*prev_seq = rd.seq;
	if (rd.seq <= snap_seq) {
		/* Already in the snapshot: a crash came between its rename and the journal reset. */
		ledger_node_free(n);
		return 0;
	}
	if (rd.seq != l->seq + 1 && !l->gap) {
		l->gap = true;
		l->gap_from = l->seq + 1;
		l->gap_to = rd.seq - 1;
	}
	l->seq = rd.seq;
	if (n)
		return ledger_ht_upsert(l, n);
	old = ledger_ht_get(l, rd.name);
	if (old)
		ledger_ht_drop(l, old);
	return 0;
}

/* Check, parse and apply one journal line (without '\n'). */
static int journal_line(struct ledger *l, const char *line, size_t len, uint64_t snap_seq, uint64_t *prev_seq)
{
	json_object *rec = NULL;
	int r;

	r = ledger_format_line_parse(line, len, &rec);
	if (r >= 0)
		r = record_apply(l, rec, snap_seq, prev_seq);
	json_object_put(rec);
	return r;
}

/* The next line (without '\n'): 1, 0 at the end, -errno; *whole false for a torn or overlong one. */
static int lines_next(struct lines *it, const char **line, size_t *llen, bool *whole)
{
	for (;;) {
		char *nl = memchr(it->buf + it->start, '\n', it->len - it->start);
		int r;

		if (nl) {
			bool tail = it->skipping;

			*line = it->buf + it->start;
			*llen = (size_t)(nl - *line);
			it->start += *llen + 1;
			it->skipping = false;
			if (tail)
				continue; /* the rest of an overlong line, already counted */
			*whole = true;
			return 1;
		}
		if (it->eof) {
			if (it->start == it->len || it->skipping)
				return 0;
			*line = it->buf + it->start;
			*llen = it->len - it->start;
			*whole = false;
			it->start = it->len;
			return 1;
		}
		if (it->start == 0 && it->len == JOURNAL_LINE_MAX) {
			it->start = it->len;
			if (!it->skipping) {
				it->skipping = true;
				*line = it->buf;
				*llen = it->len;
				*whole = false;
				return 1;
			}
		}
		memmove(it->buf, it->buf + it->start, it->len - it->start);
		it->len -= it->start;
		it->start = 0;
		r = ledger_read_more(it->fd, it->buf, &it->len, JOURNAL_LINE_MAX, &it->eof);
		if (r < 0)
			return r;
	}
}

/* A line after the damage: note it when it is a whole, checksummed record. */
static void scan_note(struct scan *sc, const char *line, size_t len)
{
	json_object *rec = NULL;
	struct ledger_record rd;
	const char *name = NULL;
	json_object *v;
	size_t used;

	if (ledger_format_line_parse(line, len, &rec) < 0)
		return;
	if (ledger_format_record_decode(rec, 0, &rd) >= 0) {
		if (!sc->intact++)
			sc->first_seq = rd.seq;
		sc->last_seq = rd.seq;
		name = rd.name;
		if (rd.entry && json_object_object_get_ex(rd.entry, "name", &v))
			name = json_object_get_string(v);
		used = strlen(sc->names);
		if (name && !strstr(sc->names, name) && used + strlen(name) + 3 < sizeof(sc->names))
			snprintf(sc->names + used, sizeof(sc->names) - used, "%s%s", used ? ", " : "", name);
	}
	json_object_put(rec);
}

/* Apply the good prefix of fd's journal; describe what follows it in *sc. */
static int journal_scan(struct ledger *l, int fd, uint64_t snap_seq, struct scan *sc)
{
	_cleanup_free_ char *buf = malloc(JOURNAL_LINE_MAX);
	struct lines it = { .fd = fd, .buf = buf };
	uint64_t prev = 0;
	bool lost = false;
	const char *line;
	size_t llen;
	bool whole;
	int r;

	if (!buf)
		return -ENOMEM;
	while ((r = lines_next(&it, &line, &llen, &whole)) > 0) {
		if (!lost) {
			r = whole ? journal_line(l, line, llen, snap_seq, &prev) : -EBADMSG;
			if (r >= 0) {
				sc->good += llen + 1;
				l->journal_records++;
				continue;
			}
			if (r != -EBADMSG)
				return r;
			lost = true;
		}
		sc->lines++;
		if (whole)
			scan_note(sc, line, llen);
	}
	return r;
}

/* Fill a damage report slot (the last one is reused when they run out). */
static struct ledger_damage *damage_add(struct ledger *l, const char *file, uint64_t offset, const char *kept)
{
	struct ledger_damage *d = &l->rec.damage[l->rec.n < LEDGER_DAMAGE_MAX ? l->rec.n++ : LEDGER_DAMAGE_MAX - 1];

	snprintf(d->file, sizeof(d->file), "%s", file);
	d->offset = offset;
	snprintf(d->kept, sizeof(d->kept), "%s", kept);
	snprintf(d->lost, sizeof(d->lost), "nothing");
	return d;
}

/*
 * Keep name aside as name.TAG-<seconds>[-N], never replacing a file: renamed,
 * or (by_link) hard-linked so that name stays in place until replaced. The new
 * name in kept.
 */
static int keep_aside(struct ledger *l, const char *name, const char *tag, bool by_link, char *kept, size_t n)
{
	unsigned long long t = (unsigned long long)(now_usec() / 1000000u);

	for (unsigned i = 0; i < 100; i++) {
		int r;

		if (i == 0)
			snprintf(kept, n, "%s.%s-%llu", name, tag, t);
		else
			snprintf(kept, n, "%s.%s-%llu-%u", name, tag, t, i);
		r = by_link ? linkat(l->dirfd, name, l->dirfd, kept, 0)
			 : renameat2(l->dirfd, name, l->dirfd, kept, RENAME_NOREPLACE);
		if (r == 0)
			return fsync(l->dirfd) < 0 ? -errno : 0;
		if (errno != EEXIST) {
			r = -errno;
			kept[0] = '\0';
			return r;
		}
	}
	kept[0] = '\0';
	return -EEXIST;
}

/* Put the current journal's intact prefix in a fresh journal.jsonl, the damaged one aside. */
static int journal_replace_prefix(struct ledger *l, int fd, uint64_t good, char *kept, size_t n)
{
	_cleanup_close_ int out = -1;
	_cleanup_free_ char *buf = malloc(JOURNAL_LINE_MAX);
	uint64_t off = 0;
	int r;

	if (!buf)
		return -ENOMEM;
	unlinkat(l->dirfd, JOURNAL_TMP, 0);
	out = ledger_openat(l, JOURNAL_TMP, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (out < 0)
		return out;
	while (off < good) {
		size_t want = good - off < JOURNAL_LINE_MAX ? (size_t)(good - off) : JOURNAL_LINE_MAX;
		ssize_t got = pread(fd, buf, want, (off_t)off);

		if (got <= 0)
			return got < 0 ? -errno : -EIO;
		r = ledger_write_all(out, buf, (size_t)got);
		if (r < 0)
			return r;
		off += (uint64_t)got;
	}
	if (fsync(out) < 0)
		return -errno;
	/* Linked aside first, then replaced: there is always a journal.jsonl. */
	r = keep_aside(l, JOURNAL_FILE, "corrupt", true, kept, n);
	if (r < 0)
		return r;
	if (renameat(l->dirfd, JOURNAL_TMP, l->dirfd, JOURNAL_FILE) < 0 || fsync(l->dirfd) < 0)
		return -errno;
	return 0;
}

/* Records were lost in the middle of journal name: keep it aside, report what and where. */
static int journal_damaged(struct ledger *l, const char *name, int fd, const struct scan *sc, bool current)
{
	char kept[96] = "";
	struct ledger_damage *d;
	int r;

	r = current ? journal_replace_prefix(l, fd, sc->good, kept, sizeof(kept))
		    : keep_aside(l, name, "corrupt", false, kept, sizeof(kept));
	if (r < 0)
		return r;
	d = damage_add(l, name, sc->good, kept);
	if (sc->intact)
		snprintf(d->lost, sizeof(d->lost),
			 "%llu line(s) from byte %llu on, %llu of them intact records (seq %llu..%llu) of: %s; "
			 "not applied: their cgroups are reported unknown and left alone",
			 (unsigned long long)sc->lines, (unsigned long long)sc->good, (unsigned long long)sc->intact,
			 (unsigned long long)sc->first_seq, (unsigned long long)sc->last_seq, sc->names);
	else
		snprintf(d->lost, sizeof(d->lost), "%llu damaged line(s) from byte %llu on",
			 (unsigned long long)sc->lines, (unsigned long long)sc->good);
	l->rec.mode = LEDGER_RECOVERY;
	return 0;
}

/* Open the current journal for appending after its intact prefix (fd: truncate it there first). */
static int journal_open_append(struct ledger *l, int fd, const struct scan *sc)
{
	struct stat st;

	if (fd >= 0 && fstat(fd, &st) < 0)
		return -errno;
	if (fd >= 0 && (uint64_t)st.st_size != sc->good) {
		/* A torn tail: the append a crash interrupted was never acknowledged. */
		if (ftruncate(fd, (off_t)sc->good) < 0 || fsync(fd) < 0)
			return -errno;
	}
	l->journal_bytes = sc->good;
	l->journalfd = ledger_openat(l, JOURNAL_FILE, O_WRONLY | O_APPEND, 0);
	return l->journalfd < 0 ? l->journalfd : 0;
}

/*
 * Replay journal name after seq snap_seq. The current journal loses a torn
 * tail (truncated); damage with intact records after it, or any damage in the
 * previous generation's journal, is kept aside and reported.
 */
static int journal_load(struct ledger *l, const char *name, uint64_t snap_seq, bool current)
{
	_cleanup_close_ int fd = -1;
	struct scan sc = { 0 };
	uint64_t records = l->journal_records;
	int r;

	fd = ledger_openat(l, name, current ? O_RDWR | O_CREAT : O_RDONLY, 0600);
	if (fd == -ENOENT && !current)
		return 0;
	if (fd < 0)
		return fd;
	r = journal_scan(l, fd, snap_seq, &sc);
	if (r < 0)
		return r;
	if (!current)
		l->journal_records = records;
	else
		l->dropped_records = sc.lines;
	if (sc.intact || (!current && sc.lines)) {
		r = journal_damaged(l, name, fd, &sc, current);
		if (r < 0)
			return r;
		/* The damaged file is kept aside whole; a fresh one holds the intact prefix. */
		return current ? journal_open_append(l, -1, &sc) : 0;
	}
	return current ? journal_open_append(l, fd, &sc) : 0;
}

/* Read a whole snapshot file; -ENOENT when there is none. */
static int snapshot_read(struct ledger *l, const char *name, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;
	bool eof = false;

	fd = ledger_openat(l, name, O_RDONLY, 0);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if ((uint64_t)st.st_size > SNAPSHOT_MAX)
		return -EFBIG;
	/* One byte more than the size shows a file that grew underneath us. */
	cap = (size_t)st.st_size + 1;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	while (!eof && len < cap) {
		int r = ledger_read_more(fd, buf, &len, cap, &eof);

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

		r = ledger_node_from_json(json_object_array_get_idx(entries, i), &n);
		if (r < 0)
			return r;
		if (ledger_ht_get(l, n->e.name)) {
			ledger_node_free(n);
			return -EBADMSG;
		}
		r = ledger_ht_upsert(l, n);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Load snapshot file name; *ret_off is where a malformed one goes wrong. */
static int snapshot_load(struct ledger *l, const char *name, uint64_t *ret_seq, uint64_t *ret_off)
{
	_cleanup_free_ char *text = NULL;
	json_object *entries = NULL;
	uint64_t seq = 0;
	size_t len = 0;
	int r;

	*ret_off = 0;
	r = snapshot_read(l, name, &text, &len);
	if (r < 0)
		return r;
	r = ledger_format_snapshot_parse(text, len, &seq, &entries);
	if (r == -EBADMSG)
		*ret_off = ledger_format_json_error_offset(text, len);
	if (r < 0)
		return r;
	r = snapshot_apply(l, entries);
	json_object_put(entries);
	if (r >= 0)
		*ret_seq = seq;
	return r;
}

/* True for the errors that mean "this file is damaged" rather than "refuse to start". */
static bool damaged(int r)
{
	return r == -EBADMSG || r == -EFBIG;
}

/* Load the previous generation's snapshot: 1 when it loaded, 0 when absent or damaged. */
static int fallback_prev(struct ledger *l, uint64_t *ret_seq)
{
	uint64_t off = 0;
	char kept[96] = "";
	int r = snapshot_load(l, SNAPSHOT_PREV, ret_seq, &off);

	if (r >= 0)
		return 1;
	*ret_seq = 0;
	ledger_ht_clear(l);
	if (r == -ENOENT)
		return 0;
	if (!damaged(r))
		return r;
	keep_aside(l, SNAPSHOT_PREV, "corrupt", false, kept, sizeof(kept));
	snprintf(damage_add(l, SNAPSHOT_PREV, off, kept)->lost, sizeof(l->rec.damage[0].lost),
		 "the previous generation's snapshot");
	return 0;
}

/* Say what the loss of ledger.json cost, now that the fallback ran. */
static void fallback_report(struct ledger *l, struct ledger_damage *d, int have_prev, uint64_t prev_seq)
{
	if (l->rec.mode != LEDGER_RECOVERY && have_prev && !l->gap) {
		l->rec.mode = LEDGER_FALLBACK;
		snprintf(d->lost, sizeof(d->lost),
			 "nothing: %s (seq %llu), %s and %s prove the state up to seq %llu", SNAPSHOT_PREV,
			 (unsigned long long)prev_seq, JOURNAL_PREV, JOURNAL_FILE, (unsigned long long)l->seq);
		return;
	}
	l->rec.mode = LEDGER_RECOVERY;
	if (have_prev && l->gap)
		snprintf(d->lost, sizeof(d->lost),
			 "records seq %llu..%llu (no file bridges %s to the journal); %zu entries come from %s "
			 "and intact records; other cgroups are reported unknown and left alone",
			 (unsigned long long)l->gap_from, (unsigned long long)l->gap_to, SNAPSHOT_PREV, l->count,
			 SNAPSHOT_PREV);
	else
		snprintf(d->lost, sizeof(d->lost),
			 "the entries only %s recorded (no intact previous generation); %zu entries come from "
			 "intact journal records; other cgroups are reported unknown and left alone",
			 SNAPSHOT_FILE, l->count);
}

/* ledger.json is damaged (r) or missing: keep it aside, come up from the previous generation. */
static int ledger_fallback(struct ledger *l, int why, uint64_t off)
{
	char kept[96] = "";
	struct ledger_damage *d;
	uint64_t prev_seq = 0;
	int have_prev, r;

	ledger_ht_clear(l);
	l->seq = 0;
	l->gap = false;
	l->snapshot_lost = true;
	if (why != -ENOENT) {
		r = keep_aside(l, SNAPSHOT_FILE, "corrupt", false, kept, sizeof(kept));
		if (r < 0)
			return r;
	}
	d = damage_add(l, SNAPSHOT_FILE, off, kept);
	have_prev = fallback_prev(l, &prev_seq);
	if (have_prev < 0)
		return have_prev;
	l->seq = prev_seq;
	r = journal_load(l, JOURNAL_PREV, prev_seq, false);
	if (r >= 0)
		r = journal_load(l, JOURNAL_FILE, l->seq, true);
	if (r < 0)
		return r;
	fallback_report(l, d, have_prev, prev_seq);
	if (l->rec.mode == LEDGER_RECOVERY) {
		/* They did not prove the state, but a person may want them: never dropped. */
		keep_aside(l, SNAPSHOT_PREV, "unproven", false, kept, sizeof(kept));
		keep_aside(l, JOURNAL_PREV, "unproven", false, kept, sizeof(kept));
	}
	return 0;
}

/* Load snapshot and journal; on damage fall back to the previous generation. */
int ledger_load(struct ledger *l)
{
	uint64_t seq = 0, off = 0;
	struct stat st;
	int r = snapshot_load(l, SNAPSHOT_FILE, &seq, &off);

	/* No snapshot yet is an empty ledger, unless a previous generation shows one was lost. */
	if (r == -ENOENT && fstatat(l->dirfd, SNAPSHOT_PREV, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
		r = 0;
	if (r >= 0) {
		l->seq = seq;
		return journal_load(l, JOURNAL_FILE, seq, true);
	}
	if (!damaged(r) && r != -ENOENT)
		return r;
	return ledger_fallback(l, r, off);
}
