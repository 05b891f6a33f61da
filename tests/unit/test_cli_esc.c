/* SPDX-License-Identifier: MIT */
/* test_cli_esc.c: Check suite for client/cli_esc.c (daemon text made safe for a terminal). */

#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli_esc.h"

/* Assert the escaped form of in (flags) is want, through every entry point. */
static void assert_esc(const char *in, unsigned flags, const char *want)
{
	_cleanup_free_ char *d = cli_esc_dup(in, strlen(in), flags);

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d, want);
	ck_assert_str_eq(flags ? cli_esc_raw(in) : cli_esc(in), want);
}

START_TEST(test_plain_untouched)
{
	const char *s = "buildkit/abc-123_x.y caf\xc3\xa9 \xf0\x9f\x90\xa7 \xe2\x80\x8d";

	/* Nothing to escape: the very same pointer. */
	ck_assert_ptr_eq(cli_esc(s), s);
	ck_assert_str_eq(cli_esc(NULL), "-");
}
END_TEST

START_TEST(test_controls)
{
	/* C1 CSI "2J" would clear root's screen; ESC [ the same with C0. */
	assert_esc("a\xc2\x9b" "2J", 0, "a\\u009b2J");
	assert_esc("\x1b]0;pwned\x07", 0, "\\x1b]0;pwned\\x07");
	assert_esc("l1\nl2\tx\ry\x7f", 0, "l1\\nl2\\tx\\ry\\x7f");
	assert_esc("\xc2\x80\xc2\x9f\xc2\xa0", 0, "\\u0080\\u009f\xc2\xa0");
}
END_TEST

START_TEST(test_formatting)
{
	/* Trojan Source: an override makes "txt.exe" show as "exe.txt". */
	assert_esc("a\xe2\x80\xae" "b", 0, "a\\u202eb");
	assert_esc("\xe2\x81\xa6\xe2\x81\xa9\xd8\x9c\xe2\x80\x8e\xe2\x80\x8f", 0, "\\u2066\\u2069\\u061c\\u200e\\u200f");
	assert_esc("\xe2\x80\xa8\xe2\x80\xa9\xe2\x80\x8b\xe2\x81\xa0\xef\xbb\xbf", 0,
		   "\\u2028\\u2029\\u200b\\u2060\\ufeff");
}
END_TEST

START_TEST(test_bad_utf8_and_backslash)
{
	/* Bytes that are no UTF-8 one by one; a truncated sequence too. */
	assert_esc("a\xff\xc0\xaf", 0, "a\\xff\\xc0\\xaf");
	assert_esc("x\xe2\x80", 0, "x\\xe2\\x80");
	/* "\" doubled, so that a name spelt "\x1b" never looks like an escaped ESC. */
	assert_esc("a\\x1b", 0, "a\\\\x1b");
	/* JSON text and log lines keep theirs; hidden characters are still escaped. */
	assert_esc("{\"a\":\"x\\n\xc2\x9b\"}", CLI_ESC_KEEP_BACKSLASH, "{\"a\":\"x\\n\\u009b\"}");
}
END_TEST

START_TEST(test_json)
{
	/* Pretty JSON keeps its lines and escapes; what acts on a terminal becomes the JSON escape that reads the same. */
	const char *in = "{\n  \"name\": \"a\xc2\x9b" "2J\\n\xe2\x80\xae" "b\",\n\t\"x\": \"\x7f\xff\"\r\n}";
	const char *want = "{\n  \"name\": \"a\\u009b2J\\n\\u202eb\",\n\t\"x\": \"\\u007f\\ufffd\"\r\n}";
	_cleanup_free_ char *d = cli_esc_dup(in, strlen(in), CLI_ESC_JSON);
	const char *plain = "{\"a\": \"caf\xc3\xa9 \\u001b\"}";

	ck_assert_ptr_nonnull(d);
	ck_assert_str_eq(d, want);
	ck_assert_str_eq(cli_esc_json(in), want);
	/* Nothing to escape: the very same pointer. */
	ck_assert_ptr_eq(cli_esc_json(plain), plain);
}
END_TEST

START_TEST(test_buffer_cut)
{
	char buf[8];

	/* Cut before an escape that does not fit, never inside one; the full length is returned. */
	ck_assert_uint_eq(cli_esc_to("abcd\xc2\x9b", 6, 0, buf, sizeof(buf)), 10);
	ck_assert_str_eq(buf, "abcd");
	ck_assert_uint_eq(cli_esc_to("ab", 2, 0, buf, 1), 2);
	ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(test_ring)
{
	const char *first = cli_esc("\x1b" "1");

	/* Held while 15 more are made. */
	for (int i = 0; i < 15; i++)
		ck_assert_str_eq(cli_esc("\x1b"), "\\x1b");
	ck_assert_str_eq(first, "\\x1b1");
}
END_TEST

/* Add a test case named after its only test. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *esc_suite(void)
{
	Suite *s = suite_create("cli_esc");

	add_case(s, "plain_untouched", test_plain_untouched);
	add_case(s, "controls", test_controls);
	add_case(s, "formatting", test_formatting);
	add_case(s, "bad_utf8_and_backslash", test_bad_utf8_and_backslash);
	add_case(s, "json", test_json);
	add_case(s, "buffer_cut", test_buffer_cut);
	add_case(s, "ring", test_ring);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(esc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
