/* SPDX-License-Identifier: MIT */
/* test_jsonbuf.c: Check suite for protocol/jsonbuf.c: its text must be json-c's, byte for byte. */

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "jsonbuf.h"
#include "varlink.h"

#define FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* Deterministic pseudo-random numbers (xorshift64), so a failure can be replayed. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Expect the buffer to hold exactly json-c's serialisation of v (consumed). */
static void expect_json_c(struct jsonbuf *b, json_object *v)
{
	size_t n = 0;
	const char *want = json_object_to_json_string_length(v, FLAGS, &n);

	ck_assert_ptr_nonnull(want);
	ck_assert(!b->failed);
	ck_assert_uint_eq(b->len, n);
	ck_assert_mem_eq(b->buf, want, n);
	json_object_put(v);
	jsonbuf_free(b);
}

/* s[0..n) as a string, through both writers. */
static void check_string(const char *s, size_t n)
{
	struct jsonbuf b = { 0 };

	jsonbuf_put_string(&b, s, n);
	expect_json_c(&b, json_object_new_string_len(s, (int)n));
}

START_TEST(test_string_every_byte)
{
	char all[256];

	/* Each byte alone and between others, NUL included. */
	for (int c = 0; c < 256; c++) {
		char s[3] = { 'a', (char)c, 'z' };

		check_string(s + 1, 1);
		check_string(s, 3);
		all[c] = (char)c;
	}
	check_string(all, sizeof(all));
	check_string("", 0);
}
END_TEST

START_TEST(test_string_random)
{
	/* The characters that matter, and any byte at all. */
	static const char hostile[] = "\"\\/\b\f\n\r\t\x01\x1f\x7f\x80\xff\xc3\xa9\xe2\x80\xa8 u0{}[]:,";
	char s[96];

	for (int i = 0; i < 20000; i++) {
		size_t n = rng() % sizeof(s);

		for (size_t j = 0; j < n; j++)
			s[j] = (rng() & 1) ? hostile[rng() % (sizeof(hostile) - 1)] : (char)rng();
		check_string(s, n);
	}
}
END_TEST

START_TEST(test_escaped_pieces)
{
	struct jsonbuf b = { 0 };

	/* Escaping piece by piece is escaping the whole: a path built from parts. */
	jsonbuf_put_lit(&b, "\"");
	jsonbuf_put_escaped(&b, "/sys/fs/cgroup/\"x\"", 18);
	jsonbuf_put_lit(&b, "/");
	jsonbuf_put_escaped(&b, "a\\b\n", 4);
	jsonbuf_put_escaped(&b, "", 0);
	jsonbuf_put_lit(&b, "\"");
	expect_json_c(&b, json_object_new_string("/sys/fs/cgroup/\"x\"/a\\b\n"));
}
END_TEST

START_TEST(test_ints)
{
	static const int64_t v[] = { 0, 1, -1, 9, 10, -10, 1700000000000000, INT64_MAX, INT64_MIN, INT64_MIN + 1 };

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		struct jsonbuf b = { 0 };

		jsonbuf_put_int(&b, v[i]);
		expect_json_c(&b, json_object_new_int64(v[i]));
	}
	for (int i = 0; i < 10000; i++) {
		struct jsonbuf b = { 0 };
		int64_t x = (int64_t)rng() >> (rng() % 64);

		jsonbuf_put_int(&b, x);
		expect_json_c(&b, json_object_new_int64(x));
	}
}
END_TEST

START_TEST(test_bools)
{
	struct jsonbuf b = { 0 };

	jsonbuf_put_bool(&b, true);
	expect_json_c(&b, json_object_new_boolean(1));
	jsonbuf_put_bool(&b, false);
	expect_json_c(&b, json_object_new_boolean(0));
}
END_TEST

/* A labels-like object with hostile keys and values, and every other kind of value. */
static json_object *hostile_object(void)
{
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	json_object_object_add(o, "k\"\\/\b\f\n\r\t\x01\x1f\x7f\xff", json_object_new_string_len("v\0nul\"\\/\x01", 10));
	json_object_object_add(o, "", json_object_new_string(""));
	json_object_object_add(o, "utf8 \xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80 \xe2\x80\xa8",
			       json_object_new_string("\xe2\x80\xa9"));
	json_object_object_add(o, "null", NULL);
	json_object_object_add(o, "true", json_object_new_boolean(1));
	json_object_object_add(o, "int", json_object_new_int64(INT64_MIN));
	json_object_object_add(o, "uint", json_object_new_uint64(UINT64_MAX));
	json_object_object_add(o, "double", json_object_new_double(0.1));
	json_object_object_add(o, "double_s", json_object_new_double_s(1.5, "1.50"));
	json_object_array_add(a, json_object_new_string("\"]"));
	json_object_array_add(a, NULL);
	json_object_array_add(a, json_object_new_object());
	json_object_array_add(a, json_object_new_array());
	json_object_object_add(o, "array", a);
	json_object_object_add(o, "nested", json_object_get(a));
	return o;
}

START_TEST(test_value_hostile)
{
	struct jsonbuf b = { 0 };
	json_object *o = hostile_object();

	jsonbuf_put_value(&b, o);
	expect_json_c(&b, o);
	jsonbuf_put_value(&b, NULL);
	ck_assert_uint_eq(b.len, 4);
	ck_assert_mem_eq(b.buf, "null", 4);
	jsonbuf_free(&b);
}
END_TEST

START_TEST(test_to_json_in_tree)
{
	struct jsonbuf b = { 0 };
	json_object *want = json_object_new_object(), *got = json_object_new_object();
	json_object *raw, *labels = hostile_object();
	_cleanup_free_ char *want_msg = NULL, *got_msg = NULL;
	size_t want_len, got_len;

	/* A ready-made member serialises inside a reply exactly as the tree it stands for. */
	jsonbuf_put_lit(&b, "[");
	jsonbuf_put_value(&b, labels);
	jsonbuf_put_lit(&b, ",");
	jsonbuf_put_string(&b, "x\"", 2);
	jsonbuf_put_lit(&b, "]");
	raw = jsonbuf_to_json(&b);
	ck_assert_ptr_nonnull(raw);
	ck_assert_ptr_null(b.buf);
	ck_assert_uint_eq(b.len, 0);
	json_object_object_add(got, "entries", raw);
	json_object_object_add(want, "entries", json_object_new_array());
	json_object_array_add(json_object_object_get(want, "entries"), labels);
	json_object_array_add(json_object_object_get(want, "entries"), json_object_new_string("x\""));
	ck_assert_int_eq(vl_reply_format(NULL, want, false, &want_msg, &want_len), 0);
	ck_assert_int_eq(vl_reply_format(NULL, got, false, &got_msg, &got_len), 0);
	ck_assert_uint_eq(got_len, want_len);
	ck_assert_mem_eq(got_msg, want_msg, want_len);
	/* The text outlives no one: freeing the tree frees it (ASan checks). */
	json_object_put(got);
	json_object_put(want);
}
END_TEST

START_TEST(test_failure_sticks)
{
	struct jsonbuf b = { 0 };
	static const char dummy[1];

	jsonbuf_put_lit(&b, "[");
	/* A length that cannot be escaped fails before reading anything. */
	jsonbuf_put_escaped(&b, dummy, SIZE_MAX / 2);
	ck_assert(b.failed);
	jsonbuf_put_lit(&b, "]");
	ck_assert_uint_eq(b.len, 1);
	ck_assert_ptr_null(jsonbuf_to_json(&b));
	ck_assert_ptr_null(b.buf);
	ck_assert(!b.failed);
	/* Nothing written is not JSON either. */
	ck_assert_ptr_null(jsonbuf_to_json(&b));
}
END_TEST

START_TEST(test_large)
{
	struct jsonbuf b = { 0 };
	json_object *a = json_object_new_array();

	/* Many small writes through several doublings of the buffer. */
	jsonbuf_put_lit(&b, "[");
	for (int i = 0; i < 50000; i++) {
		char s[32];
		int n = snprintf(s, sizeof(s), "n\"%d\\", i);

		if (i > 0)
			jsonbuf_put_lit(&b, ",");
		jsonbuf_put_string(&b, s, (size_t)n);
		json_object_array_add(a, json_object_new_string(s));
	}
	jsonbuf_put_lit(&b, "]");
	expect_json_c(&b, a);
}
END_TEST

/* Add a test case named after its only test. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *jsonbuf_suite(void)
{
	Suite *s = suite_create("jsonbuf");

	add_case(s, "string_every_byte", test_string_every_byte);
	add_case(s, "string_random", test_string_random);
	add_case(s, "escaped_pieces", test_escaped_pieces);
	add_case(s, "ints", test_ints);
	add_case(s, "bools", test_bools);
	add_case(s, "value_hostile", test_value_hostile);
	add_case(s, "to_json_in_tree", test_to_json_in_tree);
	add_case(s, "failure_sticks", test_failure_sticks);
	add_case(s, "large", test_large);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(jsonbuf_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
