/* SPDX-License-Identifier: MIT */
/* test_varlink.c: Check suite for protocol/varlink.c (framing and codecs). */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "varlink.h"

/* Feed a string including its terminating NUL. */
static void feed_msg(struct vl_framer *f, const char *s)
{
	ck_assert_int_eq(vl_framer_feed(f, s, strlen(s) + 1), 0);
}

/* Expect the next message to be exactly want. */
static void expect_msg(struct vl_framer *f, const char *want)
{
	const char *msg = NULL;
	size_t len = 0;

	ck_assert_int_eq(vl_framer_next(f, &msg, &len), 1);
	ck_assert_uint_eq(len, strlen(want));
	ck_assert_mem_eq(msg, want, len);
	ck_assert_int_eq(msg[len], '\0');
}

/* Expect no complete message. */
static void expect_none(struct vl_framer *f)
{
	const char *msg;
	size_t len;

	ck_assert_int_eq(vl_framer_next(f, &msg, &len), 0);
}

START_TEST(test_framer_one)
{
	struct vl_framer f;

	vl_framer_init(&f, 0);
	ck_assert_uint_eq(f.max, VL_MESSAGE_MAX_DEFAULT);
	expect_none(&f);
	feed_msg(&f, "{\"method\":\"a.b\"}");
	expect_msg(&f, "{\"method\":\"a.b\"}");
	expect_none(&f);
	ck_assert_uint_eq(vl_framer_pending(&f), 0);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_two_in_one_feed)
{
	static const char two[] = "{\"a\":1}\0{\"b\":2}";
	struct vl_framer f;

	vl_framer_init(&f, 0);
	ck_assert_int_eq(vl_framer_feed(&f, two, sizeof(two)), 0);
	expect_msg(&f, "{\"a\":1}");
	expect_msg(&f, "{\"b\":2}");
	expect_none(&f);
	ck_assert_uint_eq(vl_framer_pending(&f), 0);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_split_everywhere)
{
	static const char two[] = "{\"method\":\"x.y\",\"parameters\":{\"k\":\"v\"}}\0{\"b\":2}";
	size_t n = sizeof(two), cut, i;

	for (cut = 0; cut <= n; cut++) {
		struct vl_framer f;
		const char *msg;
		size_t len;
		int got = 0, r;

		vl_framer_init(&f, 0);
		ck_assert_int_eq(vl_framer_feed(&f, two, cut), 0);
		while ((r = vl_framer_next(&f, &msg, &len)) == 1)
			got++;
		ck_assert_int_eq(r, 0);
		ck_assert_int_eq(vl_framer_feed(&f, two + cut, n - cut), 0);
		if (got == 0)
			expect_msg(&f, "{\"method\":\"x.y\",\"parameters\":{\"k\":\"v\"}}");
		if (got < 2)
			expect_msg(&f, "{\"b\":2}");
		expect_none(&f);
		vl_framer_free(&f);
	}

	/* One byte at a time, through reserve/commit. */
	{
		struct vl_framer f;
		int got = 0;

		vl_framer_init(&f, 0);
		for (i = 0; i < n; i++) {
			const char *msg;
			size_t len, avail;
			char *p;

			ck_assert_int_eq(vl_framer_reserve(&f, 1, &p, &avail), 0);
			ck_assert_uint_ge(avail, 1);
			*p = two[i];
			vl_framer_commit(&f, 1);
			while (vl_framer_next(&f, &msg, &len) == 1)
				got++;
		}
		ck_assert_int_eq(got, 2);
		vl_framer_free(&f);
	}
}
END_TEST

START_TEST(test_framer_missing_nul)
{
	struct vl_framer f;

	vl_framer_init(&f, 0);
	ck_assert_int_eq(vl_framer_feed(&f, "{\"a\":1}", 7), 0);
	expect_none(&f);
	ck_assert_uint_eq(vl_framer_pending(&f), 7);
	expect_none(&f);
	ck_assert_int_eq(vl_framer_feed(&f, "", 1), 0);
	expect_msg(&f, "{\"a\":1}");
	ck_assert_uint_eq(vl_framer_pending(&f), 0);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_oversized_unterminated)
{
	struct vl_framer f;
	char buf[17];

	memset(buf, 'x', sizeof(buf));
	vl_framer_init(&f, 16);
	/* Exactly the limit, still unterminated: may yet be valid. */
	ck_assert_int_eq(vl_framer_feed(&f, buf, 16), 0);
	expect_none(&f);
	/* One more byte without a NUL: reported at once, and it stays an error. */
	ck_assert_int_eq(vl_framer_feed(&f, buf, 1), 0);
	{
		const char *msg;
		size_t len;

		ck_assert_int_eq(vl_framer_next(&f, &msg, &len), -EMSGSIZE);
		ck_assert_int_eq(vl_framer_next(&f, &msg, &len), -EMSGSIZE);
	}
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_oversized_terminated)
{
	struct vl_framer f;
	const char *msg;
	size_t len;
	char buf[40];

	/* A message of exactly max bytes is accepted. */
	memset(buf, 'x', sizeof(buf));
	buf[16] = '\0';
	vl_framer_init(&f, 16);
	ck_assert_int_eq(vl_framer_feed(&f, buf, 17), 0);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), 1);
	ck_assert_uint_eq(len, 16);
	vl_framer_free(&f);

	/* max + 1 bytes arriving with their NUL in a single read. */
	buf[16] = 'x';
	buf[17] = '\0';
	vl_framer_init(&f, 16);
	ck_assert_int_eq(vl_framer_feed(&f, buf, 18), 0);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), -EMSGSIZE);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), -EMSGSIZE);
	vl_framer_free(&f);

	/* A good message followed by an oversized one: the first still comes out. */
	vl_framer_init(&f, 16);
	ck_assert_int_eq(vl_framer_feed(&f, "{}", 3), 0);
	ck_assert_int_eq(vl_framer_feed(&f, buf, 18), 0);
	expect_msg(&f, "{}");
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), -EMSGSIZE);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_empty_message)
{
	struct vl_framer f;
	struct vl_call c;
	const char *msg;
	size_t len;

	vl_framer_init(&f, 0);
	ck_assert_int_eq(vl_framer_feed(&f, "\0{}", 4), 0);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), 1);
	ck_assert_uint_eq(len, 0);
	ck_assert_int_eq(vl_call_parse(msg, len, &c), -EBADMSG);
	expect_msg(&f, "{}");
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_bounded_memory)
{
	/* A long-lived connection whose reads always end mid-message (the framer
	 * never sees a boundary) must not grow its buffer. */
	static const char m[] = "{\"method\":\"io.cgctl.Manager.GetStatus\"}";
	struct vl_framer f;
	size_t i, maxcap = 0, got = 0, bad = 0;

	vl_framer_init(&f, 0);
	ck_assert_int_eq(vl_framer_feed(&f, m, 5), 0);
	for (i = 0; i < 200000; i++) {
		const char *msg;
		size_t len;

		/* The rest of one message, then the first bytes of the next (Check's
		 * assertions each do I/O: count misbehaviour, assert once). */
		bad += vl_framer_feed(&f, m + 5, sizeof(m) - 5) != 0;
		bad += vl_framer_feed(&f, m, 5) != 0;
		while (vl_framer_next(&f, &msg, &len) == 1) {
			bad += len != sizeof(m) - 1;
			got++;
		}
		bad += vl_framer_pending(&f) != 5;
		if (f.cap > maxcap)
			maxcap = f.cap;
	}
	ck_assert_uint_eq(bad, 0);
	ck_assert_uint_eq(got, 200000);
	ck_assert_uint_le(maxcap, 8192);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_framer_big_then_small)
{
	/* One big message must not pin a big buffer for the connection's life. */
	struct vl_framer f;
	const char *msg;
	size_t len;
	char *big = malloc(512 * 1024);

	ck_assert_ptr_nonnull(big);
	memset(big, ' ', 512 * 1024);
	big[512 * 1024 - 1] = '\0';
	vl_framer_init(&f, 0);
	ck_assert_int_eq(vl_framer_feed(&f, big, 512 * 1024), 0);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), 1);
	ck_assert_uint_eq(len, 512 * 1024 - 1);
	expect_none(&f);
	feed_msg(&f, "{}");
	expect_msg(&f, "{}");
	ck_assert_uint_le(f.cap, 64 * 1024);
	vl_framer_free(&f);
	free(big);
}
END_TEST

START_TEST(test_framer_linear_scan)
{
	/* A max-sized message delivered one byte at a time: each byte is scanned
	 * once (a rescan from the start would take minutes here, not milliseconds). */
	struct vl_framer f;
	const char *msg;
	size_t i, len, avail;
	char *p;

	/* Check's assertions each do I/O: count misbehaviour, assert once. */
	size_t bad = 0;

	vl_framer_init(&f, 0);
	for (i = 0; i < VL_MESSAGE_MAX_DEFAULT; i++) {
		if (vl_framer_reserve(&f, 1, &p, &avail) < 0)
			break;
		*p = i == 0 ? '"' : 'x';
		vl_framer_commit(&f, 1);
		bad += vl_framer_next(&f, &msg, &len) != 0;
		bad += f.scan != f.len;
	}
	ck_assert_uint_eq(i, VL_MESSAGE_MAX_DEFAULT);
	ck_assert_uint_eq(bad, 0);
	ck_assert_int_eq(vl_framer_feed(&f, "", 1), 0);
	ck_assert_int_eq(vl_framer_next(&f, &msg, &len), 1);
	ck_assert_uint_eq(len, VL_MESSAGE_MAX_DEFAULT);
	vl_framer_free(&f);
}
END_TEST

START_TEST(test_parse_call)
{
	static const char m[] = "{\"method\":\"io.cgctl.Manager.Create\",\"parameters\":{\"name\":\"a/b\"},"
				"\"more\":true,\"oneway\":false,\"upgrade\":false,\"unknown\":[1,2]}";
	struct vl_call c;
	json_object *v;

	ck_assert_int_eq(vl_call_parse(m, strlen(m), &c), 0);
	ck_assert_str_eq(c.method, "io.cgctl.Manager.Create");
	ck_assert(c.more);
	ck_assert(!c.oneway);
	ck_assert(!c.upgrade);
	ck_assert(json_object_object_get_ex(c.parameters, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), "a/b");
	vl_call_done(&c);
	ck_assert_ptr_null(c.method);
	vl_call_done(&c);

	/* Parameters absent (or null) give an empty object; whitespace around is fine. */
	ck_assert_int_eq(vl_call_parse(" {\"method\":\"a.B\"} \n", 19, &c), 0);
	ck_assert(json_object_is_type(c.parameters, json_type_object));
	ck_assert_int_eq(json_object_object_length(c.parameters), 0);
	vl_call_done(&c);
	ck_assert_int_eq(vl_call_parse("{\"method\":\"a.B\",\"parameters\":null}", 34, &c), 0);
	ck_assert_int_eq(json_object_object_length(c.parameters), 0);
	vl_call_done(&c);
}
END_TEST

START_TEST(test_parse_exact_length)
{
	/* Only len bytes are parsed: a prefix that is a whole object parses. */
	static const char m[] = "{\"method\":\"a.B\"}{\"method\":\"c.D\"}";
	struct vl_call c;

	ck_assert_int_eq(vl_call_parse(m, 16, &c), 0);
	ck_assert_str_eq(c.method, "a.B");
	vl_call_done(&c);
	/* ... while a second object or junk after the first is refused. */
	ck_assert_int_eq(vl_call_parse(m, strlen(m), &c), -EBADMSG);
	ck_assert_int_eq(vl_call_parse("{\"method\":\"a.B\"} x", 18, &c), -EBADMSG);
	ck_assert_int_eq(vl_call_parse("{\"method\":\"a.B\"}\0", 17, &c), -EBADMSG);
	/* Truncated. */
	ck_assert_int_eq(vl_call_parse(m, 15, &c), -EBADMSG);
}
END_TEST

START_TEST(test_parse_invalid_json)
{
	static const char *const bad[] = {
		"{", "}", "{\"method\":}", "{method:\"a.B\"}", "{'method':'a.B'}",
		"{\"method\":\"a.B\",}", "nul", "{\"method\":\"\xff\"}",
	};
	struct vl_call c;
	struct vl_reply rep;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		ck_assert_int_eq(vl_call_parse(bad[i], strlen(bad[i]), &c), -EBADMSG);
		ck_assert_int_eq(vl_reply_parse(bad[i], strlen(bad[i]), &rep), -EBADMSG);
	}
	ck_assert_int_eq(vl_call_parse(NULL, 0, &c), -EBADMSG);
	ck_assert_int_eq(vl_call_parse("", 0, &c), -EBADMSG);
}
END_TEST

START_TEST(test_parse_not_object)
{
	static const char *const bad[] = {
		"[]", "[{\"method\":\"a.B\"}]", "\"a.B\"", "42", "4.2", "true", "null",
	};
	struct vl_call c;
	struct vl_reply rep;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++) {
		ck_assert_int_eq(vl_call_parse(bad[i], strlen(bad[i]), &c), -EBADMSG);
		ck_assert_int_eq(vl_reply_parse(bad[i], strlen(bad[i]), &rep), -EBADMSG);
	}
}
END_TEST

START_TEST(test_parse_call_shape)
{
	static const char *const bad[] = {
		"{}",
		"{\"parameters\":{}}",
		"{\"method\":42}",
		"{\"method\":null}",
		"{\"method\":[\"a.B\"]}",
		"{\"method\":\"a.B\\u0000c.D\"}",
		"{\"method\":\"a.B\",\"parameters\":[]}",
		"{\"method\":\"a.B\",\"parameters\":\"x\"}",
		"{\"method\":\"a.B\",\"parameters\":1}",
		"{\"method\":\"a.B\",\"more\":1}",
		"{\"method\":\"a.B\",\"more\":\"true\"}",
		"{\"method\":\"a.B\",\"more\":null}",
		"{\"method\":\"a.B\",\"oneway\":0}",
		"{\"method\":\"a.B\",\"upgrade\":{}}",
	};
	struct vl_call c;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(vl_call_parse(bad[i], strlen(bad[i]), &c) == -EPROTO, "%s", bad[i]);
}
END_TEST

START_TEST(test_parse_reply_shape)
{
	static const char *const bad[] = {
		"{\"error\":42}",
		"{\"error\":null}",
		"{\"error\":\"a.B\\u0000\"}",
		"{\"parameters\":[]}",
		"{\"continues\":\"yes\"}",
	};
	struct vl_reply rep;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(vl_reply_parse(bad[i], strlen(bad[i]), &rep) == -EPROTO, "%s", bad[i]);

	ck_assert_int_eq(vl_reply_parse("{}", 2, &rep), 0);
	ck_assert_ptr_null(rep.error);
	ck_assert(!rep.continues);
	ck_assert_int_eq(json_object_object_length(rep.parameters), 0);
	vl_reply_done(&rep);
}
END_TEST

START_TEST(test_parse_deep_nesting)
{
	char buf[1024];
	struct vl_call c;
	size_t i, n = 0, depth;

	/* 60 levels inside parameters are fine; 200 are refused. */
	for (depth = 60; depth <= 200; depth += 140) {
		n = 0;
		n += (size_t)snprintf(buf, sizeof(buf), "{\"method\":\"a.B\",\"parameters\":{\"x\":");
		for (i = 0; i < depth; i++)
			buf[n++] = '[';
		for (i = 0; i < depth; i++)
			buf[n++] = ']';
		buf[n++] = '}';
		buf[n++] = '}';
		ck_assert_uint_lt(n, sizeof(buf));
		if (depth == 60) {
			ck_assert_int_eq(vl_call_parse(buf, n, &c), 0);
			vl_call_done(&c);
		} else {
			ck_assert_int_eq(vl_call_parse(buf, n, &c), -EBADMSG);
		}
	}
}
END_TEST

START_TEST(test_format_call)
{
	json_object *p = json_object_new_object();
	_cleanup_free_ char *buf = NULL, *buf2 = NULL;
	struct vl_call c;
	json_object *v;
	size_t len;

	json_object_object_add(p, "name", json_object_new_string("a/b"));
	ck_assert_int_eq(vl_call_format("io.cgctl.Manager.Watch", p, true, false, &buf, &len), 0);
	ck_assert_uint_eq(len, strlen(buf) + 1);
	ck_assert_str_eq(buf, "{\"method\":\"io.cgctl.Manager.Watch\",\"parameters\":{\"name\":\"a/b\"},\"more\":true}");
	/* params is not consumed. */
	ck_assert_int_eq(json_object_object_length(p), 1);
	json_object_put(p);

	ck_assert_int_eq(vl_call_parse(buf, len - 1, &c), 0);
	ck_assert_str_eq(c.method, "io.cgctl.Manager.Watch");
	ck_assert(c.more);
	ck_assert(!c.oneway);
	ck_assert(json_object_object_get_ex(c.parameters, "name", &v));
	ck_assert_str_eq(json_object_get_string(v), "a/b");
	vl_call_done(&c);

	ck_assert_int_eq(vl_call_format("a.B", NULL, false, true, &buf2, &len), 0);
	ck_assert_str_eq(buf2, "{\"method\":\"a.B\",\"parameters\":{},\"oneway\":true}");
	ck_assert_int_eq(vl_call_parse(buf2, len - 1, &c), 0);
	ck_assert(c.oneway);
	ck_assert(!c.more);
	vl_call_done(&c);
}
END_TEST

START_TEST(test_format_reply)
{
	_cleanup_free_ char *ok = NULL, *more = NULL, *err = NULL;
	json_object *p = json_object_new_object();
	struct vl_reply rep;
	json_object *v;
	size_t len;

	json_object_object_add(p, "n", json_object_new_int(7));

	ck_assert_int_eq(vl_reply_format(NULL, NULL, false, &ok, &len), 0);
	ck_assert_str_eq(ok, "{\"parameters\":{}}");
	ck_assert_uint_eq(len, sizeof("{\"parameters\":{}}"));
	ck_assert_int_eq(ok[len - 1], '\0');

	ck_assert_int_eq(vl_reply_format(NULL, p, true, &more, &len), 0);
	ck_assert_str_eq(more, "{\"parameters\":{\"n\":7},\"continues\":true}");
	ck_assert_int_eq(vl_reply_parse(more, len - 1, &rep), 0);
	ck_assert_ptr_null(rep.error);
	ck_assert(rep.continues);
	ck_assert(json_object_object_get_ex(rep.parameters, "n", &v));
	ck_assert_int_eq(json_object_get_int(v), 7);
	vl_reply_done(&rep);

	ck_assert_int_eq(vl_reply_format("io.cgctl.Manager.NotFound", p, false, &err, &len), 0);
	ck_assert_str_eq(err, "{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":{\"n\":7}}");
	ck_assert_int_eq(vl_reply_parse(err, len - 1, &rep), 0);
	ck_assert_str_eq(rep.error, "io.cgctl.Manager.NotFound");
	ck_assert(!rep.continues);
	vl_reply_done(&rep);
	vl_reply_done(&rep);
	json_object_put(p);
}
END_TEST

START_TEST(test_format_bad_params)
{
	json_object *a = json_object_new_array();
	char *buf = NULL;
	size_t len = 0;

	ck_assert_int_eq(vl_call_format("a.B", a, false, false, &buf, &len), -EINVAL);
	ck_assert_int_eq(vl_reply_format(NULL, a, false, &buf, &len), -EINVAL);
	ck_assert_int_eq(vl_call_format(NULL, NULL, false, false, &buf, &len), -EINVAL);
	ck_assert_ptr_null(buf);
	json_object_put(a);
}
END_TEST

/* Parse m as a call: the code, with bad_parameter (or "-") in *ret_bad (a static buffer). */
static int parse_bad(const char *m, const char **ret_bad)
{
	static char bad[64];
	struct vl_call c;
	int r = vl_call_parse(m, strlen(m), &c);

	snprintf(bad, sizeof(bad), "%s", r == 0 && c.bad_parameter ? c.bad_parameter : "-");
	*ret_bad = bad;
	if (r == 0)
		vl_call_done(&c);
	return r;
}

START_TEST(test_parse_lone_surrogate)
{
	const char *bad;

	/* json-c would make "sur\udcffx" "sur\xef\xbf\xbdx": another name than the one asked for. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"name\":\"sur\\udcffx\"}}", &bad), 0);
	ck_assert_str_eq(bad, "name");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"a\":1,\"name\":\"x\\ud800\"}}", &bad), 0);
	ck_assert_str_eq(bad, "name");
	/* A high surrogate followed by anything but a low one; nested; in a key. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"n\":\"\\ud83d\\u0041\"}}", &bad), 0);
	ck_assert_str_eq(bad, "n");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"r\":{\"l\":[\"\\udfff\"]}}}", &bad), 0);
	ck_assert_str_eq(bad, "r");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"\\udc00\":1}}", &bad), 0);
	ck_assert_str_ne(bad, "-");
	/* Outside the parameters, nothing of the message can be trusted. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\\udcff\"}", &bad), -EBADMSG);
	/* A pair is one character; U+FFFD written as such is just that. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"n\":\"\\ud83d\\ude00\"}}", &bad), 0);
	ck_assert_str_eq(bad, "-");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"n\":\"\\ufffd\xef\xbf\xbd\\\\udcff\"}}", &bad), 0);
	ck_assert_str_eq(bad, "-");
}
END_TEST

START_TEST(test_parse_nul_escape)
{
	const char *bad;

	/* json-c cuts a key at "\u0000" ("a\u0000b" became "a"); C cuts every string value there. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"labels\":{\"a\\u0000b\":\"x\"}}}", &bad), 0);
	ck_assert_str_eq(bad, "labels");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"labels\":{\"k\":\"v\\u0000w\"}}}", &bad), 0);
	ck_assert_str_eq(bad, "labels");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"x\":1,\"name\":\"a\\u0000\"}}", &bad), 0);
	ck_assert_str_eq(bad, "name");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"\\u0000\":1}}", &bad), 0);
	ck_assert_str_ne(bad, "-");
	/* The method itself: not a call at all (its shape is wrong, as before). */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\\u0000\"}", &bad), -EPROTO);
	/* "\\u0000" is a backslash and "u0000"; "\u0001" is no NUL. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"n\":\"\\\\u0000\\u0001\"}}", &bad), 0);
	ck_assert_str_eq(bad, "-");
}
END_TEST

START_TEST(test_parse_duplicate_keys)
{
	const char *bad;
	struct vl_reply rep;
	static const char dup_reply[] = "{\"parameters\":{\"a\":1,\"a\":2}}";
	static const char sur_reply[] = "{\"parameters\":{\"a\":\"\\ud800\"}}";

	/* json-c keeps the last: {"name":"a","name":"b"} would quietly be "b". */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"name\":\"a\",\"name\":\"b\"}}", &bad), 0);
	ck_assert_str_eq(bad, "name");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"x\":1,\"r\":{\"m\":{\"k\":1,\"k\":2}}}}", &bad), 0);
	ck_assert_str_eq(bad, "r");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"l\":[{\"k\":1},{\"k\":1,\"k\":1}]}}", &bad), 0);
	ck_assert_str_eq(bad, "l");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameter\\u0073\":{\"name\":\"a\",\"name\":\"b\"}}", &bad), 0);
	ck_assert_str_eq(bad, "name");
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"method\":\"c.D\"}", &bad), -EBADMSG);
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{},\"parameters\":{\"a\":1}}", &bad), -EBADMSG);
	/* The same key in different objects, and key-like text in strings, are fine. */
	ck_assert_int_eq(parse_bad("{\"method\":\"a.B\",\"parameters\":{\"l\":[{\"k\":1},{\"k\":\"\\\":x\\\"\"}],"
				  "\"s\":\"{\\\"a\\\":1,\\\"a\\\":2}\"}}", &bad), 0);
	ck_assert_str_eq(bad, "-");
	/* A reply is refused whole. */
	ck_assert_int_eq(vl_reply_parse(dup_reply, strlen(dup_reply), &rep), -EBADMSG);
	ck_assert_int_eq(vl_reply_parse(sur_reply, strlen(sur_reply), &rep), -EBADMSG);
}
END_TEST

/* A call of n elements x (",x" between) in parameters' array "a"; the caller frees it. */
static char *many_values(const char *x, size_t n, size_t *ret_len)
{
	size_t cap = 64 + n * (strlen(x) + 1), k;
	char *b = malloc(cap);

	ck_assert_ptr_nonnull(b);
	k = (size_t)snprintf(b, cap, "{\"method\":\"a.B\",\"parameters\":{\"a\":[");
	for (size_t i = 0; i < n; i++)
		k += (size_t)snprintf(b + k, cap - k, "%s%s", i ? "," : "", x);
	k += (size_t)snprintf(b + k, cap - k, "]}}");
	ck_assert_uint_lt(k, cap);
	*ret_len = k;
	return b;
}

START_TEST(test_parse_values_limit)
{
	/* Outer object, method, parameters and its object, a and its array: 6 values around the elements. */
	static const struct { const char *x; size_t per, n; int want; } cases[] = {
		{ "0", 1, VL_CALL_VALUES_MAX - 6, 0 },
		{ "0", 1, VL_CALL_VALUES_MAX - 5, -E2BIG },
		{ "{}", 2, (VL_CALL_VALUES_MAX - 6) / 2, 0 },
		{ "{}", 2, 65536, -E2BIG },
		{ "{\"k\":[1]}", 4, (VL_CALL_VALUES_MAX - 6) / 4 + 1, -E2BIG },
		{ "\"x\\\",[{\"", 1, VL_CALL_VALUES_MAX - 6, 0 }, /* structure inside strings is not counted */
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vl_call c;
		size_t len;
		char *b = many_values(cases[i].x, cases[i].n, &len);

		ck_assert_msg(vl_call_parse(b, len, &c) == cases[i].want, "case %zu", i);
		if (cases[i].want == 0)
			vl_call_done(&c);
		free(b);
	}
}
END_TEST

/* Seconds vl_call_parse() takes on len bytes of b (refused: -EBADMSG). */
static double parse_refused_secs(const char *b, size_t len)
{
	struct timespec t0, t1;
	struct vl_call c;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ck_assert_int_eq(vl_call_parse(b, len, &c), -EBADMSG);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
}

START_TEST(test_parse_unterminated_escapes_linear)
{
	/*
	 * A call whose last string never ends, all escapes: the pre-parse scan
	 * looked for its closing quote again after every escape (quadratic: a
	 * 1 MiB call held the loop over 2 s). Compared in the same run, not
	 * against a clock: the same escapes in a string that does end (then
	 * refused for its garbage tail) cost one pass; the unterminated one
	 * must cost about as much, not a thousand times more.
	 */
	static const char head[] = "{\"method\":\"";
	size_t len = VL_MESSAGE_MAX_DEFAULT, i;
	char *b = malloc(len);
	double open_s, closed_s;

	ck_assert_ptr_nonnull(b);
	memcpy(b, head, sizeof(head) - 1);
	for (i = sizeof(head) - 1; i + 1 < len; i += 2)
		b[i] = '\\', b[i + 1] = 'n';
	len = i;
	open_s = parse_refused_secs(b, len);
	b[len - 2] = '"'; /* ends just before the last escape's n: a string, then junk */
	closed_s = parse_refused_secs(b, len);
	ck_assert_msg(open_s < 20 * closed_s + 0.05,
		      "unterminated string of escapes: %.4f s, the same ended: %.4f s", open_s, closed_s);
	free(b);
}
END_TEST

START_TEST(test_parse_reply_values_unbounded)
{
	/* A reply is the daemon's (a List of thousands of entries): no count. */
	struct vl_reply rep;
	size_t len;
	char *b = many_values("{\"k\":[1]}", 20000, &len);

	/* {"method":"a.B","parameters":... becomes {"parameters":... */
	b[15] = '{';
	ck_assert_int_eq(vl_reply_parse(b + 15, len - 15, &rep), 0);
	vl_reply_done(&rep);
	free(b);
}
END_TEST

/* Add a test case named after its only test. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *varlink_suite(void)
{
	Suite *s = suite_create("varlink");

	add_case(s, "framer_one", test_framer_one);
	add_case(s, "parse_values_limit", test_parse_values_limit);
	add_case(s, "parse_reply_values_unbounded", test_parse_reply_values_unbounded);
	add_case(s, "parse_unterminated_escapes_linear", test_parse_unterminated_escapes_linear);
	add_case(s, "framer_two_in_one_feed", test_framer_two_in_one_feed);
	add_case(s, "framer_split_everywhere", test_framer_split_everywhere);
	add_case(s, "framer_missing_nul", test_framer_missing_nul);
	add_case(s, "framer_oversized_unterminated", test_framer_oversized_unterminated);
	add_case(s, "framer_oversized_terminated", test_framer_oversized_terminated);
	add_case(s, "framer_empty_message", test_framer_empty_message);
	add_case(s, "framer_bounded_memory", test_framer_bounded_memory);
	add_case(s, "framer_big_then_small", test_framer_big_then_small);
	add_case(s, "framer_linear_scan", test_framer_linear_scan);
	add_case(s, "parse_call", test_parse_call);
	add_case(s, "parse_exact_length", test_parse_exact_length);
	add_case(s, "parse_invalid_json", test_parse_invalid_json);
	add_case(s, "parse_not_object", test_parse_not_object);
	add_case(s, "parse_call_shape", test_parse_call_shape);
	add_case(s, "parse_reply_shape", test_parse_reply_shape);
	add_case(s, "parse_deep_nesting", test_parse_deep_nesting);
	add_case(s, "parse_lone_surrogate", test_parse_lone_surrogate);
	add_case(s, "parse_nul_escape", test_parse_nul_escape);
	add_case(s, "parse_duplicate_keys", test_parse_duplicate_keys);
	add_case(s, "format_call", test_format_call);
	add_case(s, "format_reply", test_format_reply);
	add_case(s, "format_bad_params", test_format_bad_params);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(varlink_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
