// SPDX-License-Identifier: MIT
/* test_commit.c: Check suite for daemon/commit.c (pipelined group commit, no transport linked) and the ledger's sync steps. */

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <event2/event.h>

#include <unistd.h>

#include "../../daemon/commit.h"
#include "../../daemon/ledger.h"
#include "testutil.h"

/* The daemon's loop priorities: the committer's turn event runs last. */
#define N_PRIOS 3
#define PRIO_COMMIT 2

/*
 * Every callback the committer makes is recorded with its result and whether
 * the ledger still had unsynced records at that moment.
 */
#define ANSWERS_MAX 64
static struct {
	int id;           /* the userdata the callback was queued with */
	int r;            /* the result it got: 0 or -errno */
	bool dirty;       /* ledger_dirty() when called */
} answers[ANSWERS_MAX];
static size_t n_answers;
static bool in_after_sync; /* inside commit_after_sync(): a callback now is a re-entry */

static char base[] = "/tmp/commit-test.XXXXXX";
static struct ledger *l;
static struct event_base *evb;
static struct commit *cm;

/* The callback: record one answer. */
static void record_answer(void *userdata, int r)
{
	ck_assert(!in_after_sync);
	ck_assert_uint_lt(n_answers, ANSWERS_MAX);
	answers[n_answers].id = (int)(intptr_t)userdata;
	answers[n_answers].r = r;
	answers[n_answers].dirty = ledger_dirty(l);
	n_answers++;
}

/* Queue callback id for after the next sync. */
static void after_sync(int id)
{
	in_after_sync = true;
	ck_assert_int_eq(commit_after_sync(cm, record_answer, (void *)(intptr_t)id), 0);
	in_after_sync = false;
}

/* A ledger in a fresh temp dir, a loop with the daemon's priorities, a committer. */
static void setup(void)
{
	char dir[128];

	tu_scratch(base, sizeof(base), "commit-test");
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/state", base), sizeof(dir));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	ck_assert_int_eq(event_base_priority_init(evb, N_PRIOS), 0);
	ck_assert_int_eq(commit_new(evb, PRIO_COMMIT, l, &cm), 0);
	n_answers = 0;
}

/* Stop the committer, remove the tree. */
static void teardown(void)
{
	cm = commit_free(cm);
	l = ledger_close(l);
	event_base_free(evb);
	tu_rm_tree(base);
}

/* Append one record to the ledger. */
static void put(const char *name)
{
	struct ledger_entry e = { .name = (char *)name, .state = LEDGER_ACTIVE };

	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
}

/* Run the loop until n answers arrived (bounded, so a lost answer fails instead of hanging). */
static void run_until(size_t n)
{
	for (int i = 0; i < 10000 && n_answers < n; i++)
		event_base_loop(evb, EVLOOP_ONCE);
	ck_assert_uint_eq(n_answers, n);
}

/* The ledger's steps: begin hands out the journal only when records wait. */
START_TEST(test_sync_steps)
{
	int fd;

	ck_assert_int_eq(ledger_sync_begin(l), -1);
	put("a");
	ck_assert(ledger_dirty(l));
	fd = ledger_sync_begin(l);
	ck_assert_int_ge(fd, 0);
	/* Records after begin need the next sync. */
	ck_assert(!ledger_dirty(l));
	put("b");
	ck_assert(ledger_dirty(l));
	ledger_sync_end(l, 0);
	ck_assert(ledger_dirty(l));
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert(!ledger_dirty(l));
	/* A failed sync leaves its records pending. */
	put("c");
	ck_assert_int_ge(ledger_sync_begin(l), 0);
	ledger_sync_end(l, -EIO);
	ck_assert(ledger_dirty(l));
	ck_assert(!ledger_compact_due(l));
}
END_TEST

/* A durable reply goes out only once its records are synced. */
START_TEST(test_reply_after_sync)
{
	put("a");
	after_sync(7);
	ck_assert_uint_eq(n_answers, 0);
	run_until(1);
	ck_assert_int_eq(answers[0].id, 7);
	ck_assert_int_eq(answers[0].r, 0);
	ck_assert(!answers[0].dirty);
	ck_assert(!commit_busy(cm));
}
END_TEST

/* With nothing pending the reply needs no sync, but still waits for the turn's end. */
START_TEST(test_clean_ledger_answers_at_once)
{
	after_sync(1);
	ck_assert_uint_eq(n_answers, 0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_answers, 1);
	ck_assert_int_eq(answers[0].r, 0);
}
END_TEST

/*
 * Pipelining: a call queued while a sync runs is not answered by that sync
 * (its record came after the sync began), but by the next one; answers keep
 * their order.
 */
START_TEST(test_pipelined_batches)
{
	put("a");
	after_sync(1);
	after_sync(2);
	/* End the turn: two calls, so the sync of "a" starts on the thread. */
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_answers, 0);
	ck_assert(commit_busy(cm));
	put("b");
	after_sync(3);
	put("c");
	after_sync(4);
	run_until(4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(answers[i].id, i + 1);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(answers[i].r, 0);
	/* "b" answered with "c" still unsynced would mean "a"'s sync answered it. */
	ck_assert(!answers[2].dirty);
	ck_assert(!answers[3].dirty);
	ck_assert(!ledger_dirty(l));
}
END_TEST

/* A lone call after a lone call syncs on the loop (no hand-off); after a batch, on the thread. */
START_TEST(test_lone_call_syncs_inline)
{
	put("a");
	after_sync(0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_answers, 1);
	ck_assert(!answers[0].dirty);
	ck_assert(!commit_busy(cm));
	/* A batch of two goes to the thread... */
	put("b");
	after_sync(0);
	after_sync(0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(commit_busy(cm));
	run_until(3);
	/* ...and so does the lone call right after it: others may be about to come. */
	put("c");
	after_sync(0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(commit_busy(cm));
	run_until(4);
	ck_assert(!answers[3].dirty);
}
END_TEST

/* Stopping answers what is queued, after a final sync on the caller's thread. */
START_TEST(test_free_answers_queue)
{
	put("a");
	after_sync(0);
	after_sync(0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(commit_busy(cm));
	put("b");
	after_sync(0);
	cm = commit_free(cm);
	ck_assert_uint_eq(n_answers, 3);
	ck_assert(!ledger_dirty(l));
	for (size_t i = 0; i < 3; i++)
		ck_assert_int_eq(answers[i].r, 0);
}
END_TEST

/* commit_later() with no call waiting still syncs, also while another sync runs. */
START_TEST(test_later_without_calls)
{
	put("a");
	after_sync(0);
	after_sync(0);
	event_base_loop(evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	ck_assert(commit_busy(cm));
	put("b");
	commit_later(cm);
	run_until(2);
	for (int i = 0; i < 10000 && (ledger_dirty(l) || commit_busy(cm)); i++)
		event_base_loop(evb, EVLOOP_ONCE);
	ck_assert(!ledger_dirty(l));
}
END_TEST

/* The journal's fd, found through the ledger's own sync step (its records stay pending). */
static int journal_fd(void)
{
	int fd = ledger_sync_begin(l);

	ck_assert_int_ge(fd, 0);
	ledger_sync_end(l, -EIO);
	ck_assert(ledger_dirty(l));
	return fd;
}

/*
 * A failed sync reaches every callback it covered with its -errno (here
 * EINVAL: the journal's fd made a pipe), the records stay pending, and the
 * next sync, once the journal is back, succeeds for the next callbacks.
 */
START_TEST(test_sync_error_propagates)
{
	int fd, saved, p[2];

	put("a");
	fd = journal_fd();
	saved = dup(fd);
	ck_assert_int_ge(saved, 0);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(dup2(p[0], fd), fd);
	after_sync(1);
	after_sync(2);
	run_until(2);
	ck_assert_int_eq(answers[0].r, -EINVAL);
	ck_assert_int_eq(answers[1].r, -EINVAL);
	ck_assert(ledger_dirty(l));
	ck_assert_int_eq(dup2(saved, fd), fd);
	close(saved);
	close(p[0]);
	close(p[1]);
	after_sync(3);
	run_until(3);
	ck_assert_int_eq(answers[2].id, 3);
	ck_assert_int_eq(answers[2].r, 0);
	ck_assert(!ledger_dirty(l));
}
END_TEST

/* A callback that writes and queues again (as a handler answering a call might) waits for a sync of its own. */
static void requeue_cb(void *userdata, int r)
{
	record_answer(userdata, r);
	put("b");
	after_sync(2);
	ck_assert_uint_eq(n_answers, 1);
}

/* A callback queued while the committer is calling back waits for the next sync, which covers its record. */
START_TEST(test_queued_during_answer_waits)
{
	put("a");
	ck_assert_int_eq(commit_after_sync(cm, requeue_cb, (void *)(intptr_t)1), 0);
	run_until(2);
	ck_assert_int_eq(answers[0].id, 1);
	ck_assert_int_eq(answers[1].id, 2);
	ck_assert_int_eq(answers[1].r, 0);
	ck_assert(!answers[1].dirty);
}
END_TEST

/* Many entries: compaction happens between syncs and keeps every entry. */
START_TEST(test_compaction_between_syncs)
{
	struct ledger_stats st;
	char name[32];
	size_t n = 0;

	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 50; i++) {
			snprintf(name, sizeof(name), "e%d", i);
			put(name);
		}
		after_sync(0);
		run_until(++n);
		ck_assert(!ledger_dirty(l));
	}
	ledger_get_stats(l, &st);
	ck_assert_uint_ge(st.compactions, 1);
	ck_assert_uint_eq(st.entries, 50);
	for (size_t i = 0; i < n; i++)
		ck_assert_int_eq(answers[i].r, 0);
}
END_TEST

/* Add one test case with the fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* The suite. */
static Suite *commit_suite(void)
{
	Suite *s = suite_create("commit");

	add_tcase(s, "sync_steps", test_sync_steps);
	add_tcase(s, "reply_after_sync", test_reply_after_sync);
	add_tcase(s, "clean_ledger_answers_at_once", test_clean_ledger_answers_at_once);
	add_tcase(s, "pipelined_batches", test_pipelined_batches);
	add_tcase(s, "lone_call_syncs_inline", test_lone_call_syncs_inline);
	add_tcase(s, "free_answers_queue", test_free_answers_queue);
	add_tcase(s, "later_without_calls", test_later_without_calls);
	add_tcase(s, "compaction_between_syncs", test_compaction_between_syncs);
	add_tcase(s, "sync_error_propagates", test_sync_error_propagates);
	add_tcase(s, "queued_during_answer_waits", test_queued_during_answer_waits);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(commit_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
