// SPDX-License-Identifier: MIT
/* test_ledger_journal.c: Check suite for daemon/ledger_journal.c: deferred records, their writes and failures. */

#include <check.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/ledger.h"

static char base[] = "/tmp/ledger-journal-test.XXXXXX";
static char dir[128];
static struct ledger *l;

/* nftw callback removing one entry. */
static int rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return remove(path);
}

/* A fresh temp dir and an open ledger in it. */
static void setup(void)
{
	memcpy(base, "/tmp/ledger-journal-test.XXXXXX", sizeof(base));
	ck_assert_ptr_nonnull(mkdtemp(base));
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/state", base), sizeof(dir));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
}

/* Close the ledger and remove the tree. */
static void teardown(void)
{
	l = ledger_close(l);
	nftw(base, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
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

START_TEST(test_close_writes_deferred)
{
	put("a", LEDGER_CREATING);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(state_on_disk("a"), LEDGER_ACTIVE);
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
	add_tcase(s, "close_writes_deferred", test_close_writes_deferred);
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
