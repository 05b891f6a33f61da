// SPDX-License-Identifier: MIT
/* test_pressure.c: Check suite for daemon/pressure.c's checking of PressureTrigger objects. */

#include <check.h>
#include <errno.h>
#include <json-c/json.h>
#include <string.h>

#include "../../daemon/manager.h"
#include "../../daemon/pressure.h"

/* The last object parsed: the spec's strings are borrowed from it. */
static json_object *held;

/* Release the object held (fixture teardown). */
static void release(void)
{
	json_object_put(held);
	held = NULL;
}

/* Parse the PressureTrigger JSON text as element 3 of a request; the spec and error in the out-parameters. */
static int parse(const char *text, bool privileged, struct pressure_spec *s, struct op_error *e)
{
	release();
	held = json_tokener_parse(text);
	ck_assert_ptr_nonnull(held);
	memset(e, 0, sizeof(*e));
	return pressure_spec_parse(held, 3, privileged, s, e);
}

START_TEST(test_valid)
{
	struct pressure_spec s;
	struct op_error e;

	ck_assert_int_eq(parse("{\"name\":\"a/b\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":150000,"
			       "\"window_us\":2000000}", false, &s, &e), 0);
	ck_assert_str_eq(s.name, "a/b");
	ck_assert_str_eq(s.resource, "cpu");
	ck_assert_str_eq(s.kind, "some");
	ck_assert_int_eq(s.stall_us, 150000);
	ck_assert_int_eq(s.window_us, 2000000);
	/* 64-bit values may travel as strings. */
	ck_assert_int_eq(parse("{\"name\":\"a\",\"resource\":\"memory\",\"kind\":\"full\",\"stall_us\":\"1\","
			       "\"window_us\":\"4000000\"}", false, &s, &e), 0);
	ck_assert_int_eq(s.stall_us, 1);
	ck_assert_int_eq(s.window_us, 4000000);
}
END_TEST

START_TEST(test_unprivileged_window)
{
	struct pressure_spec s;
	struct op_error e;
	const char *one_s = "{\"name\":\"a\",\"resource\":\"io\",\"kind\":\"some\",\"stall_us\":150000,\"window_us\":1000000}";

	ck_assert_int_eq(parse(one_s, false, &s, &e), -EPERM);
	ck_assert_int_eq(e.code, CGERR_PERMISSION_DENIED);
	ck_assert_ptr_nonnull(strstr(e.message, "multiple of 2 s"));
	ck_assert_ptr_nonnull(strstr(e.message, "pressure[3]"));
	/* With CAP_SYS_RESOURCE the kernel takes it. */
	ck_assert_int_eq(parse(one_s, true, &s, &e), 0);
}
END_TEST

START_TEST(test_invalid)
{
	static const struct {
		const char *json, *field;
	} cases[] = {
		{ "{\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":1,\"window_us\":2000000}", "pressure[3].name" },
		{ "{\"name\":\"a\",\"resource\":\"irq\",\"kind\":\"some\",\"stall_us\":1,\"window_us\":2000000}",
		  "pressure[3].resource" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"most\",\"stall_us\":1,\"window_us\":2000000}",
		  "pressure[3].kind" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":1,\"window_us\":400000}",
		  "pressure[3].window_us" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":1,\"window_us\":12000000}",
		  "pressure[3].window_us" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":0,\"window_us\":2000000}",
		  "pressure[3].stall_us" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":2000001,\"window_us\":2000000}",
		  "pressure[3].stall_us" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":\"1x\",\"window_us\":2000000}",
		  "pressure[3].stall_us" },
		{ "{\"name\":\"a\",\"resource\":\"cpu\",\"kind\":\"some\",\"stall_us\":1,\"window_us\":2000000,\"x\":1}",
		  "pressure[3].x" },
		{ "[1]", "pressure[3]" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pressure_spec s;
		struct op_error e;

		ck_assert_int_eq(parse(cases[i].json, true, &s, &e), -EINVAL);
		ck_assert_int_eq(e.code, CGERR_INVALID_VALUE);
		ck_assert_str_eq(e.key, "field");
		ck_assert_str_eq(e.value, cases[i].field);
	}
}
END_TEST

/* The suite. */
static Suite *pressure_suite(void)
{
	Suite *s = suite_create("pressure");
	TCase *tc = tcase_create("spec");

	tcase_add_checked_fixture(tc, NULL, release);

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_unprivileged_window);
	tcase_add_test(tc, test_invalid);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(pressure_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
