/* SPDX-License-Identifier: MIT */
/* test_reconcile.c: Check suite for daemon/manager_reconcile.c: ledger and tree brought into agreement after a crash. */

#include "domainfix.h"

#include <sys/sysmacros.h>

#include "../../daemon/identity.h"
#include "../../daemon/trust.h"

static struct domfix f;

/* A temp root standing in for the cgroup tree; the manager not started (reconcile runs before). */
static void setup(void)
{
	domfix_setup(&f, false);
	manager_stop(&f.m);
}

/* Tear the fixture down. */
static void teardown(void)
{
	domfix_teardown(&f);
}

/* Record name in state st as the daemon would have: its directory made and marked (unless dir is false). */
static void put_entry(const char *name, enum ledger_state st, bool dir)
{
	struct ledger_entry le = { .name = (char *)name, .state = st, .created_usec = 1 };
	struct stat sb;
	int fd;

	ck_assert_int_eq(identity_nonce_new(le.nonce), 0);
	if (dir) {
		domfix_mkdir(&f, name);
		fd = open(domfix_path(&f, name), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(fstat(fd, &sb), 0);
		le.cgroup_id = sb.st_ino;
		if (identity_mark(fd, le.nonce) < 0)
			le.nonce[0] = '\0';
		close(fd);
	}
	ck_assert_int_eq(ledger_put(f.m.ledger, &le, NULL), 0);
}

/* Is name in the report list? */
static bool reported(json_object *list, const char *name)
{
	for (size_t i = 0; list && i < json_object_array_length(list); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0)
			return true;
	return false;
}

/* The number of names in a report list. */
static size_t count(json_object *list)
{
	return list ? json_object_array_length(list) : 0;
}

/* An active entry whose directory is there stays; one whose directory vanished is dropped. */
START_TEST(test_active)
{
	put_entry("kept", LEDGER_ACTIVE, true);
	put_entry("vanished", LEDGER_ACTIVE, false);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert_ptr_nonnull(ledger_get(f.m.ledger, "kept"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "vanished"));
	ck_assert(reported(f.m.report.dropped, "vanished"));
	ck_assert_uint_eq(count(f.m.report.dropped), 1);
	ck_assert_uint_eq(count(f.m.report.unknown), 0);
}
END_TEST

/* An unacknowledged create is undone: its directory removed (or, never made, just forgotten). */
START_TEST(test_creating_rolled_back)
{
	put_entry("half", LEDGER_CREATING, true);
	put_entry("never", LEDGER_CREATING, false);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(!domfix_exists(&f, "half"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "half"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "never"));
	ck_assert(reported(f.m.report.rolled_back, "half"));
	ck_assert(reported(f.m.report.rolled_back, "never"));
}
END_TEST

/* An interrupted destroy is finished. */
START_TEST(test_destroying_resumed)
{
	put_entry("going", LEDGER_DESTROYING, true);
	put_entry("gone", LEDGER_DESTROYING, false);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(!domfix_exists(&f, "going"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "going"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "gone"));
	ck_assert(reported(f.m.report.resumed, "going"));
	ck_assert(reported(f.m.report.resumed, "gone"));
}
END_TEST

/* A directory replaced while the daemon was away is not ours: dropped from the ledger, left on disk. */
START_TEST(test_replaced_left_alone)
{
	put_entry("swapped", LEDGER_DESTROYING, true);
	ck_assert_int_eq(rmdir(domfix_path(&f, "swapped")), 0);
	domfix_mkdir(&f, "swapped");
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(domfix_exists(&f, "swapped"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "swapped"));
	ck_assert(reported(f.m.report.unknown, "swapped"));
	/* Reported once, not again as an unknown directory. */
	ck_assert_uint_eq(count(f.m.report.unknown), 1);
}
END_TEST

/* Directories the ledger does not know are reported, never removed; the daemon's leaf is not among them. */
START_TEST(test_unknown_reported)
{
	put_entry("mine", LEDGER_ACTIVE, true);
	domfix_mkdir(&f, "stranger");
	domfix_mkdir(&f, "mine/inner");
	domfix_mkdir(&f, MANAGER_LEAF);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(domfix_exists(&f, "stranger"));
	ck_assert(domfix_exists(&f, "mine/inner"));
	ck_assert(reported(f.m.report.unknown, "stranger"));
	ck_assert(reported(f.m.report.unknown, "mine/inner"));
	ck_assert(!reported(f.m.report.unknown, MANAGER_LEAF));
	ck_assert_uint_eq(count(f.m.report.unknown), 2);
}
END_TEST

/* A create or destroy that cannot be finished (something inside): kept, active, reported as resumed. */
START_TEST(test_busy_kept_active)
{
	put_entry("used", LEDGER_CREATING, true);
	domfix_put(&f, "used/somebody's-file", "");
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(domfix_exists(&f, "used"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "used")->state, LEDGER_ACTIVE);
	ck_assert(reported(f.m.report.resumed, "used"));
}
END_TEST

/* Without delegation nothing is removed: interrupted work is kept as active. */
START_TEST(test_not_delegated_removes_nothing)
{
	f.m.delegated = false;
	put_entry("half", LEDGER_CREATING, true);
	put_entry("going", LEDGER_DESTROYING, true);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	ck_assert(domfix_exists(&f, "half"));
	ck_assert(domfix_exists(&f, "going"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "half")->state, LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_get(f.m.ledger, "going")->state, LEDGER_ACTIVE);
}
END_TEST

/* The result is durable: a reopened ledger holds what reconcile left. */
START_TEST(test_synced)
{
	char path[PATH_MAX];
	struct ledger *l = NULL;

	put_entry("vanished", LEDGER_ACTIVE, false);
	put_entry("kept", LEDGER_ACTIVE, true);
	ck_assert_int_eq(manager_reconcile(&f.m), 0);
	f.m.ledger = ledger_close(f.m.ledger);
	snprintf(path, sizeof(path), "%s/state", f.base);
	ck_assert_int_eq(ledger_open(path, &l), 0);
	ck_assert_ptr_null(ledger_get(l, "vanished"));
	ck_assert_ptr_nonnull(ledger_get(l, "kept"));
	f.m.ledger = l;
}
END_TEST

/* A second manager on the same root, with its own state directory, is refused. */
START_TEST(test_second_manager_same_root)
{
	struct manager *a = manager_new(), *b = manager_new();
	char sa[PATH_MAX], sb[PATH_MAX];
	struct manager_options o = { .cgroup_root = f.root, .state_dir = sa, .entries_max = 16 };
	int r;

	ck_assert(a && b);
	snprintf(sa, sizeof(sa), "%s/state-a", f.base);
	snprintf(sb, sizeof(sb), "%s/state-b", f.base);
	r = manager_init(a, &o);
	if (r < 0) {
		/* No cgroup2 hierarchy or own cgroup to discover here: nothing to test. */
		fprintf(stderr, "second_manager_same_root: manager_init: %s, skipped\n", strerror(-r));
		manager_free(a);
		manager_free(b);
		return;
	}
	o.state_dir = sb;
	ck_assert_int_eq(manager_init(b, &o), -EBUSY);
	manager_free(b);
	manager_free(a);
	/* The first one gone, the root is free again. */
	b = manager_new();
	ck_assert_int_eq(manager_init(b, &o), 0);
	manager_free(b);
}
END_TEST

/* /proc/locks lines: the FLOCK on the file asked about gives its pid; waiters, POSIX locks and other files, 0. */
START_TEST(test_lock_line_pid)
{
	dev_t dev = makedev(0, 0x1b);

	ck_assert_int_eq(trust_lock_line_pid("1: FLOCK  ADVISORY  WRITE 1234 00:1b:5678 0 EOF\n", dev, 5678), 1234);
	ck_assert_int_eq(trust_lock_line_pid("12: FLOCK  ADVISORY  WRITE 99 00:1b:5678 0 EOF\n", dev, 5679), 0);
	ck_assert_int_eq(trust_lock_line_pid("12: FLOCK  ADVISORY  WRITE 99 00:1c:5678 0 EOF\n", dev, 5678), 0);
	ck_assert_int_eq(trust_lock_line_pid("1: -> FLOCK  ADVISORY  WRITE 77 00:1b:5678 0 EOF\n", dev, 5678), 0);
	ck_assert_int_eq(trust_lock_line_pid("2: POSIX  ADVISORY  WRITE 88 00:1b:5678 0 EOF\n", dev, 5678), 0);
	ck_assert_int_eq(trust_lock_line_pid("3: FLOCK  ADVISORY  WRITE 99999999999 00:1b:5678 0 EOF\n", dev, 5678),
			 0);
	ck_assert_int_eq(trust_lock_line_pid("", dev, 5678), 0);
}
END_TEST

/* The suite. */
static Suite *reconcile_suite(void)
{
	Suite *s = suite_create("reconcile");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_active);
	tcase_add_test(tc, test_creating_rolled_back);
	tcase_add_test(tc, test_destroying_resumed);
	tcase_add_test(tc, test_replaced_left_alone);
	tcase_add_test(tc, test_unknown_reported);
	tcase_add_test(tc, test_busy_kept_active);
	tcase_add_test(tc, test_not_delegated_removes_nothing);
	tcase_add_test(tc, test_synced);
	tcase_add_test(tc, test_second_manager_same_root);
	tcase_add_test(tc, test_lock_line_pid);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(reconcile_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
