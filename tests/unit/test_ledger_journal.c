// SPDX-License-Identifier: MIT
/* test_ledger_journal.c: Check suite for the journal: deferred records, their writes and failures, the record text. */

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/ledger.h"
#include "../../daemon/ledger_format.h"
#include "testutil.h"

static char base[] = "/tmp/ledger-journal-test.XXXXXX";
static char dir[128];
static struct ledger *l;

/* A fresh temp dir and an open ledger in it. */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "ledger-journal-test");
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/state", base), sizeof(dir));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
}

/* Close the ledger and remove the tree. */
static void teardown(void)
{
	l = ledger_close(l);
	tu_rm_tree(base);
}

/* Size of the journal. */
static off_t journal_size(void)
{
	char p[256];
	struct stat st;

	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/journal.jsonl", dir), sizeof(p));
	ck_assert_int_eq(stat(p, &st), 0);
	return st.st_size;
}

/* Put name in state st. */
static void put(const char *name, enum ledger_state st)
{
	struct ledger_entry e = { .name = (char *)name, .state = st, .created_usec = 42 };

	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
}

/* The state name has in the ledger as a fresh open reads it, -1 when absent. */
static int state_on_disk(const char *name)
{
	struct ledger_entry *e;

	l = ledger_close(l);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	e = ledger_get(l, name);
	return e ? (int)e->state : -1;
}

/* Limit the file size to limit bytes: no ck_assert until fsize_restore() (Check writes files). */
static int fsize_limit(rlim_t limit, struct rlimit *saved)
{
	struct rlimit rl;

	signal(SIGXFSZ, SIG_IGN);
	if (getrlimit(RLIMIT_FSIZE, saved) < 0)
		return -errno;
	rl = *saved;
	rl.rlim_cur = limit;
	return setrlimit(RLIMIT_FSIZE, &rl) < 0 ? -errno : 0;
}

/* Lift the limit again; r_limit is what fsize_limit() returned. */
static void fsize_restore(const struct rlimit *saved, int r_limit)
{
	int r = setrlimit(RLIMIT_FSIZE, saved);

	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(r_limit, 0);
	ck_assert_int_eq(r, 0);
}

START_TEST(test_commit_and_removal_deferred)
{
	off_t before;

	put("a", LEDGER_CREATING);
	before = journal_size();
	put("a", LEDGER_ACTIVE);
	/* The commit waits in memory; memory already has it. */
	ck_assert_int_eq(journal_size(), before);
	ck_assert_int_eq(ledger_get(l, "a")->state, LEDGER_ACTIVE);
	ck_assert(ledger_dirty(l));
	/* The next record takes it along, in order. */
	put("b", LEDGER_CREATING);
	ck_assert_int_gt(journal_size(), before);
	ck_assert_int_eq(ledger_set_state(l, "b", LEDGER_ACTIVE), 0);
	ck_assert_int_eq(ledger_set_state(l, "b", LEDGER_DESTROYING), 0);
	before = journal_size();
	ck_assert_int_eq(ledger_remove(l, "b"), 0);
	ck_assert_int_eq(journal_size(), before);
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert_int_gt(journal_size(), before);
	ck_assert(!ledger_dirty(l));
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("b"), -1);
}
END_TEST

START_TEST(test_other_records_written_at_once)
{
	off_t before = journal_size();

	put("a", LEDGER_CREATING);
	ck_assert_int_gt(journal_size(), before);
	before = journal_size();
	put("b", LEDGER_ACTIVE); /* not a commit: there was no "creating" b */
	ck_assert_int_gt(journal_size(), before);
	before = journal_size();
	ck_assert_int_eq(ledger_set_state(l, "b", LEDGER_DESTROYING), 0);
	ck_assert_int_gt(journal_size(), before);
	before = journal_size();
	ck_assert_int_eq(ledger_remove(l, "a"), 0); /* a "creating" rollback */
	ck_assert_int_gt(journal_size(), before);
}
END_TEST

/* A daemon that dies with records deferred (after a sync when sync_first): _exit, no close. */
static void crash_after(bool sync_first)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ledger_entry e = { .name = "gone", .state = LEDGER_DESTROYING };
		struct ledger_entry c = { .name = "made", .state = LEDGER_CREATING };

		if (ledger_put(l, &e, NULL) < 0 || ledger_put(l, &c, NULL) < 0)
			_exit(2);
		c.state = LEDGER_ACTIVE;
		if (ledger_put(l, &c, NULL) < 0 || ledger_remove(l, "gone") < 0)
			_exit(3);
		if (sync_first && ledger_sync(l) < 0)
			_exit(4);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}

START_TEST(test_crash_before_sync_leaves_intents)
{
	crash_after(false);
	/* What reconcile resolves: the records before the mkdir/rmdir. */
	ck_assert_int_eq(state_on_disk("made"), LEDGER_CREATING);
	ck_assert_int_eq(state_on_disk("gone"), LEDGER_DESTROYING);
}
END_TEST

START_TEST(test_crash_after_sync_keeps_all)
{
	crash_after(true);
	ck_assert_int_eq(state_on_disk("made"), LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("gone"), -1);
}
END_TEST

START_TEST(test_flush_failure_fails_the_sync)
{
	struct ledger_stats st;
	struct rlimit saved;
	off_t before;
	int fd, r_end, r_limit;

	put("a", LEDGER_CREATING);
	ck_assert_int_eq(ledger_sync(l), 0);
	put("a", LEDGER_ACTIVE);
	before = journal_size();
	r_limit = fsize_limit((rlim_t)before + 10, &saved);
	fd = ledger_sync_begin(l);
	r_end = ledger_sync_end(l, fd >= 0 ? 0 : -EBADF);
	fsize_restore(&saved, r_limit);
	/* The sync must not report success for a record that is not in the file. */
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(r_end, -EFBIG);
	ck_assert_int_eq(journal_size(), before);
	ck_assert(ledger_dirty(l));
	/* Kept, and written by the next sync that can. */
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert(!ledger_dirty(l));
	ledger_get_stats(l, &st);
	ck_assert_uint_eq(st.seq, 2);
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
	ledger_get_stats(l, &st);
	ck_assert_uint_eq(st.dropped_records, 0);
}
END_TEST

START_TEST(test_write_failure_keeps_deferred)
{
	struct ledger_entry b = { .name = "b", .state = LEDGER_CREATING };
	struct rlimit saved;
	off_t before;
	int r_put, r_limit;

	put("a", LEDGER_CREATING);
	put("a", LEDGER_ACTIVE);
	before = journal_size();
	r_limit = fsize_limit((rlim_t)before + 10, &saved);
	r_put = ledger_put(l, &b, NULL);
	fsize_restore(&saved, r_limit);
	/* The intent is refused and memory keeps no trace of it; the file is as before. */
	ck_assert_int_eq(r_put, -EFBIG);
	ck_assert_ptr_null(ledger_get(l, "b"));
	ck_assert_int_eq(journal_size(), before);
	put("c", LEDGER_CREATING);
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("b"), -1);
	ck_assert_int_eq(state_on_disk("c"), LEDGER_CREATING);
}
END_TEST

START_TEST(test_compaction_takes_deferred)
{
	put("a", LEDGER_CREATING);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_compact(l), 0);
	ck_assert_int_eq(journal_size(), 0);
	ck_assert(!ledger_dirty(l));
	put("b", LEDGER_CREATING);
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("b"), LEDGER_CREATING);
}
END_TEST

START_TEST(test_compaction_bridges_previous_generation)
{
	char p[256];

	put("a", LEDGER_CREATING);
	ck_assert_int_eq(ledger_compact(l), 0);
	put("a", LEDGER_ACTIVE);
	put("b", LEDGER_CREATING);
	ck_assert_int_eq(ledger_set_state(l, "b", LEDGER_ACTIVE), 0);
	ck_assert_int_eq(ledger_compact(l), 0);
	l = ledger_close(l);
	/* ledger.json damaged: the previous generation must prove the whole state. */
	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/ledger.json", dir), sizeof(p));
	ck_assert_int_eq(truncate(p, 10), 0);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_FALLBACK);
	ck_assert_int_eq(ledger_get(l, "a")->state, LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_get(l, "b")->state, LEDGER_ACTIVE);
}
END_TEST

START_TEST(test_close_writes_deferred)
{
	put("a", LEDGER_CREATING);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
}
END_TEST

/* The REC of line (malloc'd, NUL-terminated): the bytes between {"rec": and ,"crc":. */
static char *rec_of(const char *line, size_t len)
{
	const char *crc = strstr(line, ",\"crc\":\"");

	ck_assert_int_eq(strncmp(line, "{\"rec\":", 7), 0);
	ck_assert_ptr_nonnull(crc);
	ck_assert_int_eq(line[len - 1], '\n');
	return strndup(line + 7, (size_t)(crc - line - 7));
}

/* e's members as a json-c tree, in the order the ledger's format puts them. */
static json_object *entry_tree(const struct ledger_entry *e)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "state", json_object_new_string(ledger_state_to_string(e->state)));
	json_object_object_add(o, "generated", json_object_new_boolean(e->generated));
	json_object_object_add(o, "delegate", json_object_new_boolean(e->delegate));
	json_object_object_add(o, "auto_remove", json_object_new_boolean(e->auto_remove));
	json_object_object_add(o, "lease", json_object_new_boolean(e->lease));
	if (e->was_populated)
		json_object_object_add(o, "was_populated", json_object_new_boolean(true));
	json_object_object_add(o, "created", json_object_new_uint64(e->created_usec));
	json_object_object_add(o, "cgroup_id", json_object_new_uint64(e->cgroup_id));
	if (e->nonce[0])
		json_object_object_add(o, "nonce", json_object_new_string(e->nonce));
	json_object_object_add(o, "owner", json_object_new_uint64(e->owner));
	json_object_object_add(o, "labels", json_object_get(e->labels));
	return o;
}

/* e's JSON form the way json-c writes it (malloc'd). */
static char *entry_by_json_c(struct ledger_entry *e)
{
	json_object *o = entry_tree(e);
	char *out = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));

	ck_assert_ptr_nonnull(out);
	json_object_put(o);
	return out;
}

/* One entry's put record is {"seq":N,"op":"put","entry":E} with E as json-c writes it, and reads back. */
static void check_put_line(struct ledger_entry *e, uint64_t seq)
{
	char *line, *rec, *want, *ent = entry_by_json_c(e);
	json_object *parsed;
	size_t len, size;

	ck_assert_int_eq(ledger_format_put_line(e, seq, &line, &len), 0);
	ck_assert_uint_eq(strlen(line), len);
	rec = rec_of(line, len);
	ck_assert_int_gt(asprintf(&want, "{\"seq\":%llu,\"op\":\"put\",\"entry\":%s}", (unsigned long long)seq, ent),
			 0);
	ck_assert_str_eq(rec, want);
	ck_assert_int_eq(ledger_format_entry_size(e, &size), 0);
	ck_assert_uint_eq(size, strlen(ent));
	ck_assert_int_eq(ledger_format_line_parse(line, len - 1, &parsed), 0);
	json_object_put(parsed);
	free(want);
	free(rec);
	free(line);
	free(ent);
}

START_TEST(test_records_byte_identical)
{
	static const char odd[] = "we\"ird\\na/me\x01\x1f\x7f \xc3\xa9/sl\xe2\x80\xa8sh";
	struct ledger_entry e = { .name = "a", .state = LEDGER_CREATING };
	char *line, *rec;
	size_t len;

	check_put_line(&e, 1);
	e = (struct ledger_entry){ .name = (char *)odd, .state = LEDGER_DESTROYING, .generated = true,
				   .delegate = true, .auto_remove = true, .lease = true, .was_populated = true,
				   .created_usec = UINT64_MAX, .cgroup_id = (1ull << 63) + 5, .owner = 4294967294u,
				   .nonce = "0123456789abcdef0123456789abcdef" };
	e.labels = json_tokener_parse("{\"k\":\"v\",\"u\":\"\\u00fc\\u2028\\u0001/\",\"n\":{\"x\":[1,-3,1.5,true,null]}}");
	ck_assert_ptr_nonnull(e.labels);
	check_put_line(&e, UINT64_MAX - 1);
	json_object_put(e.labels);
	e.labels = json_object_new_object();
	e.state = LEDGER_ACTIVE;
	e.nonce[0] = '\0';
	check_put_line(&e, 42);
	json_object_put(e.labels);
	ck_assert_int_eq(ledger_format_del_line(odd, 9, &line, &len), 0);
	rec = rec_of(line, len);
	ck_assert_str_eq(rec, "{\"seq\":9,\"op\":\"del\",\"name\":\"we\\\"ird\\\\na/me\\u0001\\u001f\x7f \xc3\xa9/sl\xe2\x80\xa8sh\"}");
	free(rec);
	free(line);
}
END_TEST


/* The snapshot is the document json-c writes for the same entries, with a newline, and reads back. */
START_TEST(test_snapshot_byte_identical)
{
	static const char odd[] = "sn\"ap\x01/\xc3\xa9";
	struct ledger_entry a = { .name = "a", .state = LEDGER_ACTIVE, .created_usec = 5, .cgroup_id = 9 };
	struct ledger_entry b = { .name = (char *)odd, .state = LEDGER_DESTROYING, .lease = true, .was_populated = true,
				  .owner = 1000, .nonce = "0123456789abcdef0123456789abcdef" };
	struct ledger_entry *v[] = { &a, &b };
	json_object *doc = json_object_new_object(), *arr = json_object_new_array(), *entries;
	char *text, *want;
	size_t len, n;
	uint64_t seq;

	b.labels = json_tokener_parse("{\"k\":\"v\\u2028\"}");
	json_object_object_add(doc, "format", json_object_new_string("cgctl-ledger"));
	json_object_object_add(doc, "version", json_object_new_int(1)); /* the format this build writes */
	json_object_object_add(doc, "seq", json_object_new_uint64(77));
	json_object_array_add(arr, entry_tree(&a));
	json_object_array_add(arr, entry_tree(&b));
	json_object_object_add(doc, "entries", arr);
	ck_assert_int_gt(asprintf(&want, "%s\n", json_object_to_json_string_ext(doc, JSON_C_TO_STRING_PLAIN |
										  JSON_C_TO_STRING_NOSLASHESCAPE)), 0);
	ck_assert_int_eq(ledger_format_snapshot_text(v, 2, 77, &text, &len), 0);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_int_eq(memcmp(text, want, len), 0);
	ck_assert_int_eq(ledger_format_snapshot_parse(text, len, &seq, &entries), 0);
	ck_assert_uint_eq(seq, 77);
	n = json_object_array_length(entries);
	ck_assert_uint_eq(n, 2);
	json_object_put(entries);
	/* No entries: still a whole document. */
	free(text);
	ck_assert_int_eq(ledger_format_snapshot_text(v, 0, 1, &text, &len), 0);
	ck_assert_int_eq(ledger_format_snapshot_parse(text, len, &seq, &entries), 0);
	ck_assert_uint_eq(json_object_array_length(entries), 0);
	json_object_put(entries);
	free(text);
	free(want);
	json_object_put(doc);
	json_object_put(b.labels);
}
END_TEST

/* Add test t as its own case with the fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* The journal suite. */
static Suite *journal_suite(void)
{
	Suite *s = suite_create("ledger_journal");

	add_tcase(s, "commit_and_removal_deferred", test_commit_and_removal_deferred);
	add_tcase(s, "other_records_written_at_once", test_other_records_written_at_once);
	add_tcase(s, "crash_before_sync_leaves_intents", test_crash_before_sync_leaves_intents);
	add_tcase(s, "crash_after_sync_keeps_all", test_crash_after_sync_keeps_all);
	add_tcase(s, "flush_failure_fails_the_sync", test_flush_failure_fails_the_sync);
	add_tcase(s, "write_failure_keeps_deferred", test_write_failure_keeps_deferred);
	add_tcase(s, "compaction_takes_deferred", test_compaction_takes_deferred);
	add_tcase(s, "compaction_bridges_previous_generation", test_compaction_bridges_previous_generation);
	add_tcase(s, "close_writes_deferred", test_close_writes_deferred);
	add_tcase(s, "records_byte_identical", test_records_byte_identical);
	add_tcase(s, "snapshot_byte_identical", test_snapshot_byte_identical);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(journal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
