/* SPDX-License-Identifier: MIT */
/* test_monitor.c: Check suite for daemon/monitor.c: inotify watches on files beneath a root, driven by the loop. */

#include "domainfix.h"

#include "../../daemon/monitor.h"

static struct domfix f;

/* What one watch saw. */
struct seen {
	int calls, gone;
	struct monitor *mon;
	struct watch *w;
	bool remove_self; /* remove the watch from inside its callback */
};

/* Count the call; maybe remove the watch from inside. */
static void seen_cb(void *arg, int gone)
{
	struct seen *s = arg;

	s->calls++;
	s->gone += gone;
	if (s->remove_self) {
		monitor_remove(s->mon, s->w);
		s->w = NULL;
	}
}

/* A temp root with a cgroup-like directory a/ holding cgroup.events. */
static void setup(void)
{
	domfix_setup(&f, false);
	domfix_mkdir(&f, "a");
	domfix_put(&f, "a/cgroup.events", "populated 0\nfrozen 0\n");
}

/* Tear the fixture down. */
static void teardown(void)
{
	domfix_teardown(&f);
}

/* A watched file that changes calls its callback (gone 0), through the loop or monitor_flush(). */
START_TEST(test_change_fires)
{
	struct monitor *mon = NULL;
	struct seen s = { 0 };

	ck_assert_int_eq(monitor_new(f.evb, &mon), 0);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "cgroup.events", seen_cb, &s, &s.w), 0);
	ck_assert_int_eq(s.calls, 0);
	domfix_put(&f, "a/cgroup.events", "populated 1\nfrozen 0\n");
	monitor_flush(mon);
	ck_assert_int_ge(s.calls, 1);
	ck_assert_int_eq(s.gone, 0);
	s.calls = 0;
	domfix_put(&f, "a/cgroup.events", "populated 0\nfrozen 0\n");
	for (int i = 0; i < 200 && !s.calls; i++) {
		event_base_loop(f.evb, EVLOOP_ONCE | EVLOOP_NONBLOCK);
		usleep(1000);
	}
	ck_assert_int_ge(s.calls, 1);
	monitor_remove(mon, s.w);
	mon = monitor_free(mon);
	ck_assert_ptr_null(mon);
}
END_TEST

/* A removed watch is quiet; removing one from inside its own callback is safe; NULL is fine. */
START_TEST(test_remove)
{
	struct monitor *mon = NULL;
	struct seen quiet = { 0 }, self = { .remove_self = true }, other = { 0 };

	ck_assert_int_eq(monitor_new(f.evb, &mon), 0);
	self.mon = mon;
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "cgroup.events", seen_cb, &quiet, &quiet.w), 0);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "cgroup.events", seen_cb, &self, &self.w), 0);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "cgroup.events", seen_cb, &other, &other.w), 0);
	monitor_remove(mon, quiet.w);
	monitor_remove(mon, NULL);
	domfix_put(&f, "a/cgroup.events", "populated 1\n");
	monitor_flush(mon);
	ck_assert_int_eq(quiet.calls, 0);
	ck_assert_int_eq(self.calls, 1);
	ck_assert_ptr_null(self.w);
	ck_assert_int_ge(other.calls, 1);
	/* Removed from inside: no second call. */
	domfix_put(&f, "a/cgroup.events", "populated 0\n");
	monitor_flush(mon);
	ck_assert_int_eq(self.calls, 1);
	ck_assert_int_ge(other.calls, 2);
	monitor_remove(mon, other.w);
	monitor_free(mon);
	monitor_flush(NULL);
}
END_TEST

/* A file that goes away tells its watch so (gone 1). */
START_TEST(test_gone)
{
	struct monitor *mon = NULL;
	struct seen s = { 0 };

	ck_assert_int_eq(monitor_new(f.evb, &mon), 0);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "cgroup.events", seen_cb, &s, &s.w), 0);
	ck_assert_int_eq(unlink(domfix_path(&f, "a/cgroup.events")), 0);
	monitor_flush(mon);
	ck_assert_int_ge(s.gone, 1);
	monitor_remove(mon, s.w);
	monitor_free(mon);
}
END_TEST

/* Missing files and paths that leave the root are refused; nothing is watched. */
START_TEST(test_refused)
{
	struct monitor *mon = NULL;
	struct seen s = { 0 };
	struct watch *w = NULL;

	ck_assert_int_eq(monitor_new(f.evb, &mon), 0);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "a", "nope", seen_cb, &s, &w), -ENOENT);
	ck_assert_int_eq(monitor_add(mon, f.m.rootfd, "b", "cgroup.events", seen_cb, &s, &w), -ENOENT);
	ck_assert_int_lt(monitor_add(mon, f.m.rootfd, "..", "state/ledger.json", seen_cb, &s, &w), 0);
	ck_assert_ptr_null(w);
	monitor_free(mon);
}
END_TEST

/* Many watches (past the first table size) each hear of their own file only. */
START_TEST(test_many)
{
	enum { N = 150 };
	struct monitor *mon = NULL;
	static struct seen s[N];
	char rel[32];

	memset(s, 0, sizeof(s));
	ck_assert_int_eq(monitor_new(f.evb, &mon), 0);
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "c%d", i);
		domfix_mkdir(&f, rel);
		snprintf(rel, sizeof(rel), "c%d/cgroup.events", i);
		domfix_put(&f, rel, "populated 0\n");
		snprintf(rel, sizeof(rel), "c%d", i);
		ck_assert_int_eq(monitor_add(mon, f.m.rootfd, rel, "cgroup.events", seen_cb, &s[i], &s[i].w), 0);
	}
	for (int i = 0; i < N; i += 2) {
		snprintf(rel, sizeof(rel), "c%d/cgroup.events", i);
		domfix_put(&f, rel, "populated 1\n");
	}
	monitor_flush(mon);
	for (int i = 0; i < N; i++) {
		ck_assert_msg(i % 2 ? s[i].calls == 0 : s[i].calls >= 1, "watch %d: %d calls", i, s[i].calls);
		monitor_remove(mon, s[i].w);
	}
	monitor_free(mon);
}
END_TEST

/* The suite. */
static Suite *monitor_suite(void)
{
	Suite *s = suite_create("monitor");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_change_fires);
	tcase_add_test(tc, test_remove);
	tcase_add_test(tc, test_gone);
	tcase_add_test(tc, test_refused);
	tcase_add_test(tc, test_many);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(monitor_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
