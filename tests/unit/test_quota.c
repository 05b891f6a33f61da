// SPDX-License-Identifier: MIT
/* test_quota.c: Check suite for daemon/quota.c and the ledger's per-owner figures (ledger_owner.c). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../daemon/ledger.h"
#include "../../daemon/quota.h"
#include "testutil.h"

START_TEST(test_defaults)
{
	struct quota q = { 0 };

	/* Two tenants: a third each, so together they leave the administrators a third. */
	quota_defaults(&q, 2, 65536, 128u << 20, 256);
	ck_assert_uint_eq(q.entries, 21845);
	ck_assert_uint_eq(q.ledger_bytes, (128u << 20) / 3);
	ck_assert_uint_eq(q.watchers, 85);
	/* No tenant: the whole; never 0; an explicit value is kept, but never above the global one. */
	q = (struct quota){ 0 };
	quota_defaults(&q, 0, 10, 4096, 1);
	ck_assert_uint_eq(q.entries, 10);
	ck_assert_uint_eq(q.watchers, 1);
	q = (struct quota){ .entries = 7, .ledger_bytes = 1u << 30, .watchers = 0 };
	quota_defaults(&q, 16, 100, 4096, 3);
	ck_assert_uint_eq(q.entries, 7);
	ck_assert_uint_eq(q.ledger_bytes, 4096);
	ck_assert_uint_eq(q.watchers, 1);
}
END_TEST

/* uid's figures. */
static struct ledger_usage usage(struct ledger *l, uid_t uid)
{
	struct ledger_usage u;

	ledger_owner_usage(l, uid, &u);
	return u;
}

START_TEST(test_owner_usage)
{
	char base[] = "/tmp/quota-test.XXXXXX", dir[64];
	struct ledger_entry a = { .name = "a", .state = LEDGER_ACTIVE, .owner = 1001 };
	struct ledger_entry b = { .name = "b", .state = LEDGER_ACTIVE, .owner = 1002 };
	struct ledger *l = NULL;
	uint64_t cost = 0;

	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(dir, sizeof(dir), "%s/state", base);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_entry_cost(&a, &cost), 0);
	ck_assert_int_eq(ledger_put(l, &a, NULL), 0);
	ck_assert_int_eq(ledger_put(l, &b, NULL), 0);
	ck_assert_uint_eq(usage(l, 1001).entries, 1);
	ck_assert_uint_eq(usage(l, 1001).bytes, cost);
	ck_assert_uint_eq(usage(l, 1003).entries, 0);
	/* A state change is no new entry; a removal gives the share back. */
	a.state = LEDGER_DESTROYING;
	ck_assert_int_eq(ledger_put(l, &a, NULL), 0);
	ck_assert_uint_eq(usage(l, 1001).entries, 1);
	ck_assert_int_eq(ledger_remove(l, "a"), 0);
	ck_assert_uint_eq(usage(l, 1001).entries, 0);
	ck_assert_uint_eq(usage(l, 1001).bytes, 0);
	/* Counted again from the files at open. */
	ck_assert_int_eq(ledger_sync(l), 0);
	l = ledger_close(l);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_uint_eq(usage(l, 1002).entries, 1);
	ck_assert_uint_eq(usage(l, 1001).entries, 0);
	l = ledger_close(l);
	tu_rm_tree(base);
}
END_TEST

/* The quota suite. */
static Suite *quota_suite(void)
{
	Suite *s = suite_create("quota");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_owner_usage);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(quota_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
