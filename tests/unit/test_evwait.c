/* SPDX-License-Identifier: MIT */
/* test_evwait.c: Check suite for daemon/evwait.c: waiting, without blocking the loop, for cgroup.events. */

#include "domainfix.h"

#include "../../daemon/evwait.h"

static struct domfix f;

/* How a wait ended. */
struct result {
	bool done;
	int r, calls;
};

/* Keep the result; count calls (exactly one is promised). */
static void result_cb(void *arg, int r)
{
	struct result *res = arg;

	res->done = true;
	res->r = r;
	res->calls++;
}

/* A temp root with a/ whose cgroup.events says populated, not frozen. */
static void setup(void)
{
	domfix_setup(&f, false);
	domfix_mkdir(&f, "a");
	domfix_put(&f, "a/cgroup.events", "populated 1\nfrozen 0\n");
}

/* Tear the fixture down. */
static void teardown(void)
{
	domfix_teardown(&f);
}

/* A condition true already is reported before evwait_start() returns; nothing stays pending. */
START_TEST(test_already_true)
{
	struct result res = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_THAWED, 1000, result_cb, &res), 0);
	ck_assert(res.done);
	ck_assert_int_eq(res.r, 0);
	ck_assert(!evwait_pending(&f.m));
}
END_TEST

/* A wait ends when cgroup.events changes to what it waits for, and not before. */
START_TEST(test_becomes_true)
{
	struct result empty = { 0 }, frozen = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_EMPTY, 5000, result_cb, &empty), 0);
	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_FROZEN, 5000, result_cb, &frozen), 0);
	ck_assert(!empty.done && !frozen.done);
	ck_assert(evwait_pending(&f.m));
	ck_assert(manager_busy(&f.m));
	domfix_put(&f, "a/cgroup.events", "populated 1\nfrozen 1\n");
	ck_assert(domfix_loop_until(&f, &frozen.done, 2000));
	ck_assert_int_eq(frozen.r, 0);
	ck_assert(!empty.done);
	domfix_put(&f, "a/cgroup.events", "populated 0\nfrozen 1\n");
	ck_assert(domfix_loop_until(&f, &empty.done, 2000));
	ck_assert_int_eq(empty.r, 0);
	ck_assert_int_eq(empty.calls, 1);
	ck_assert_int_eq(frozen.calls, 1);
	ck_assert(!evwait_pending(&f.m));
}
END_TEST

/* Out of time: -ETIMEDOUT, once. */
START_TEST(test_timeout)
{
	struct result res = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_EMPTY, 50, result_cb, &res), 0);
	ck_assert(domfix_loop_until(&f, &res.done, 2000));
	ck_assert_int_eq(res.r, -ETIMEDOUT);
	ck_assert_int_eq(res.calls, 1);
	ck_assert(!evwait_pending(&f.m));
}
END_TEST

/* Stopping ends every pending wait with -ECANCELED. */
START_TEST(test_cancel_all)
{
	struct result a = { 0 }, b = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_EMPTY, 5000, result_cb, &a), 0);
	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_FROZEN, 5000, result_cb, &b), 0);
	evwait_cancel_all(&f.m);
	ck_assert_int_eq(a.r, -ECANCELED);
	ck_assert_int_eq(b.r, -ECANCELED);
	ck_assert_int_eq(a.calls + b.calls, 2);
	ck_assert(!evwait_pending(&f.m));
}
END_TEST

/* A cgroup that is not there cannot be watched: -ENOENT, and the callback is never called. */
START_TEST(test_missing)
{
	struct result res = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "nope", EVWAIT_EMPTY, 1000, result_cb, &res), -ENOENT);
	ck_assert(!res.done);
	ck_assert(!evwait_pending(&f.m));
}
END_TEST

/* A cgroup.events the kernel would never write: the wait ends with its error. */
START_TEST(test_malformed)
{
	struct result res = { 0 };

	ck_assert_int_eq(evwait_start(&f.m, "a", EVWAIT_EMPTY, 5000, result_cb, &res), 0);
	domfix_put(&f, "a/cgroup.events", "populated 7\n");
	ck_assert(domfix_loop_until(&f, &res.done, 2000));
	ck_assert_int_eq(res.r, -EBADMSG);
}
END_TEST

/* On the real cgroup2 tree: a wait for empty ends when the last process dies. */
START_TEST(test_real_empty)
{
	struct domfix rf;
	struct result res = { 0 };
	pid_t pid;

	if (!domfix_can_real()) {
		fprintf(stderr, "test_real_empty: skipped (needs root and cgroup2)\n");
		return;
	}
	domfix_setup(&rf, true);
	domfix_mkdir(&rf, "w");
	pid = domfix_sleeper(&rf, "w");
	ck_assert_int_eq(evwait_start(&rf.m, "w", EVWAIT_EMPTY, 5000, result_cb, &res), 0);
	ck_assert(!res.done);
	kill(pid, SIGKILL);
	ck_assert_int_ne(domfix_reap(pid, 2000), -1);
	ck_assert(domfix_loop_until(&rf, &res.done, 3000));
	ck_assert_int_eq(res.r, 0);
	domfix_teardown(&rf);
}
END_TEST

/* The suite. */
static Suite *evwait_suite(void)
{
	Suite *s = suite_create("evwait");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_already_true);
	tcase_add_test(tc, test_becomes_true);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_cancel_all);
	tcase_add_test(tc, test_missing);
	tcase_add_test(tc, test_malformed);
	tcase_add_test(tc, test_real_empty);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(evwait_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
