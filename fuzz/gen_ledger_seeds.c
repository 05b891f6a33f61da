// SPDX-License-Identifier: MIT
/* gen_ledger_seeds.c: write fuzz_ledger seeds made by the ledger's own writer (make fuzz-seeds). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ledger.h"

/*
 * A seed is fuzz_ledger's input: one flags byte, the snapshot, 0x1e, the
 * journal (see fuzz_ledger.c). The flags byte is a printable character:
 * bit 0 asks the harness to recompute crcs, bits 1-3 how many changes it makes.
 */
#define SNAP_SEP '\x1e'

static char dir[256], out_dir[512];

/* Abort with a message: the seeds must be exactly what this program intends. */
static void __attribute__((noreturn)) die(const char *what, int r)
{
	fprintf(stderr, "gen_ledger_seeds: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* The whole file dir/name, or an empty string when it does not exist. */
static char *slurp(const char *name, size_t *len)
{
	char p[512];
	struct stat st;
	char *buf;
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	*len = 0;
	if (fd < 0)
		return calloc(1, 1);
	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)) ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size)
		die(p, -errno);
	close(fd);
	*len = (size_t)st.st_size;
	return buf;
}

/* Write one seed: flags, snapshot (or none), separator, journal. */
static void seed(const char *name, char flags, const char *snap, size_t snap_len, const char *j, size_t j_len)
{
	char p[1024];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", out_dir, name);
	f = fopen(p, "wb");
	if (!f)
		die(p, -errno);
	fputc(flags, f);
	if (snap) {
		fwrite(snap, 1, snap_len, f);
		fputc(SNAP_SEP, f);
	}
	fwrite(j, 1, j_len, f);
	if (fclose(f) != 0)
		die(p, -errno);
}

/* Seed from the state directory as it is now. */
static void seed_dir(const char *name, char flags)
{
	size_t sl, jl;
	char *s = slurp("ledger.json", &sl), *j = slurp("journal.jsonl", &jl);

	seed(name, flags, sl ? s : NULL, sl, j, jl);
	free(s);
	free(j);
}

/* Empty the state directory. */
static void wipe(void)
{
	static const char *const files[] = { "ledger.json", "journal.jsonl", "lock" };
	char p[512];

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, files[i]);
		unlink(p);
	}
}

/* A fresh ledger. */
static struct ledger *open_fresh(void)
{
	struct ledger *l = NULL;
	int r;

	wipe();
	r = ledger_open(dir, &l);
	if (r < 0)
		die("ledger_open", r);
	return l;
}

/* Put an entry with a few labels. */
static void put(struct ledger *l, const char *name, enum ledger_state st, unsigned flags, uint64_t created)
{
	struct ledger_entry e = { .name = (char *)name, .state = st, .generated = flags & 1, .delegate = flags & 2,
				  .auto_remove = flags & 4, .lease = flags & 8, .was_populated = flags & 16,
				  .created_usec = created, .cgroup_id = created % 100000 };
	int r;

	if (flags & 32) {
		e.labels = json_object_new_object();
		json_object_object_add(e.labels, "owner", json_object_new_string("ci"));
		json_object_object_add(e.labels, "\xc3\xa9t\xc3\xa9", json_object_new_string_len("a\0b", 3));
	}
	r = ledger_put(l, &e, NULL);
	json_object_put(e.labels);
	if (r < 0)
		die("ledger_put", r);
}

/* The usual life of a few cgroups, all in the journal. */
static void journal_only(void)
{
	struct ledger *l = open_fresh();

	put(l, "buildkit", LEDGER_ACTIVE, 2, 1764440000000000u);
	put(l, "runc", LEDGER_CREATING, 0, 1764440000000001u);
	put(l, "runc", LEDGER_ACTIVE, 32, 1764440000000001u);
	put(l, "runc/ctr1", LEDGER_ACTIVE, 8 | 1, 1764440000000002u);
	put(l, "jobs", LEDGER_ACTIVE, 4 | 16, 1764440000000003u);
	if (ledger_set_state(l, "runc/ctr1", LEDGER_DESTROYING) < 0 || ledger_remove(l, "runc/ctr1") < 0 ||
	    ledger_sync(l) < 0)
		die("journal_only", -EIO);
	ledger_close(l);
	seed_dir("gen-journal", '0');
	seed_dir("gen-journal-changes", '6');
}

/* A snapshot, then more records; plus the state after a crash between the two renames. */
static void snapshot_and_journal(void)
{
	struct ledger *l = open_fresh();
	size_t old_len, snap_len, j_len;
	char *old, *snap, *j;

	put(l, "a", LEDGER_ACTIVE, 32, 1764440000000010u);
	put(l, "a/b", LEDGER_ACTIVE, 0, 1764440000000011u);
	put(l, "\xc3\xbcn\xc3\xaf", LEDGER_ACTIVE, 4, 1764440000000012u);
	if (ledger_sync(l) < 0)
		die("sync", -EIO);
	old = slurp("journal.jsonl", &old_len);
	if (ledger_compact(l) < 0)
		die("ledger_compact", -EIO);
	seed_dir("gen-snapshot-only", '0');
	/* Crash after the snapshot's rename, before the journal's: old records are <= seq. */
	snap = slurp("ledger.json", &snap_len);
	seed("gen-snapshot-stale-journal", '0', snap, snap_len, old, old_len);
	put(l, "c", LEDGER_CREATING, 1, 1764440000000013u);
	if (ledger_remove(l, "a/b") < 0 || ledger_sync(l) < 0)
		die("remove", -EIO);
	ledger_close(l);
	seed_dir("gen-snapshot-journal", '0');
	seed_dir("gen-snapshot-journal-changes", '>');
	/* A torn last line and a flipped crc in the middle. */
	j = slurp("journal.jsonl", &j_len);
	seed("gen-torn-tail", '0', snap, snap_len, j, j_len > 10 ? j_len - 10 : 0);
	if (j_len > 20) {
		char *nl = memchr(j, '\n', j_len);
		if (nl && nl > j + 3)
			nl[-3] = nl[-3] == '0' ? '1' : '0';
		seed("gen-bad-crc", '0', snap, snap_len, j, j_len);
		seed("gen-bad-crc-fixed", '1', snap, snap_len, j, j_len);
	}
	free(old);
	free(snap);
	free(j);
}

/* Snapshots the loader must refuse without touching anything. */
static void bad_snapshots(void)
{
	static const char *const snaps[][2] = {
		{ "gen-bad-version", "{\"format\":\"cgctl-ledger\",\"version\":2,\"seq\":0,\"entries\":[]}\n" },
		{ "gen-bad-format", "{\"format\":\"other\",\"version\":1,\"seq\":0,\"entries\":[]}\n" },
		{ "gen-bad-duplicate", "{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":2,\"entries\":["
				       "{\"name\":\"a\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
				       "\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null},"
				       "{\"name\":\"a\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
				       "\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null}]}" },
		{ "gen-bad-json", "{\"format\":\"cgctl-ledger\",\"version\":1," },
		{ "gen-empty-snapshot", "" },
		{ "gen-huge-seq", "{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":18446744073709551615,\"entries\":[]}" },
	};

	for (size_t i = 0; i < sizeof(snaps) / sizeof(snaps[0]); i++)
		seed(snaps[i][0], '2', snaps[i][1], strlen(snaps[i][1]), "", 0);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_ledger_seeds OUTDIR\n");
		return 2;
	}
	snprintf(out_dir, sizeof(out_dir), "%s", argv[1]);
	snprintf(dir, sizeof(dir), "/tmp/cgctl-gen-ledger.%d", (int)getpid());
	journal_only();
	snapshot_and_journal();
	bad_snapshots();
	wipe();
	rmdir(dir);
	return 0;
}
