/* SPDX-License-Identifier: MIT */
/* test_libcgctl_entries.c: Check suite for client/libcgctl-entries.c, held to the json-c decoder it stands in for. */

#include <check.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/cgctl.h"
#include "../../client/libcgctl-internal.h"
#include "cleanup.h"
#include "varlink.h"

/* Deterministic pseudo-random numbers (xorshift64), so a failure can be replayed. */
static uint64_t rng_state = 0x2545f4914f6cdd1dull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* What cgctl_list() does with a reply when the text decoder leaves it: json-c, then the tree decoder. */
static int decode_json_c(const char *msg, size_t len, struct cgctl_entry ***ret, size_t *ret_n)
{
	struct vl_reply rep = { 0 };
	json_object *a;
	int r;

	r = vl_reply_parse(msg, len, &rep);
	if (r < 0)
		return r;
	if (rep.error || rep.continues || !json_object_object_get_ex(rep.parameters, "entries", &a))
		r = -EPROTO;
	else
		r = libcgctl_entries_decode(a, ret, ret_n);
	vl_reply_done(&rep);
	return r;
}

/* Two optional strings are equal. */
static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Two decoded entries hold the same values. */
static bool entry_same(const struct cgctl_entry *a, const struct cgctl_entry *b)
{
	size_t i;

	if (!str_same(a->name, b->name) || !str_same(a->path, b->path) || !str_same(a->state, b->state) ||
	    a->generated != b->generated || a->populated != b->populated || a->frozen != b->frozen ||
	    a->created_usec != b->created_usec || a->delegate != b->delegate ||
	    a->auto_remove != b->auto_remove || a->lease != b->lease || a->owner != b->owner || !a->labels ||
	    !b->labels)
		return false;
	for (i = 0; a->labels[i] && b->labels[i]; i++)
		if (strcmp(a->labels[i], b->labels[i]) != 0)
			return false;
	return !a->labels[i] && !b->labels[i];
}

/*
 * Decode msg both ways. When the text decoder takes it, json-c must take it
 * too and agree on every value. Returns what the text decoder returned.
 */
static int decode_both(const char *msg, struct cgctl_entry ***ret, size_t *ret_n)
{
	struct cgctl_entry **t = NULL, **j = NULL;
	size_t tn = 0, jn = 0, len = strlen(msg);
	int rt, rj;

	rt = libcgctl_entries_parse(msg, len, &t, &tn);
	ck_assert_msg(rt == 0 || rt == -ENOMSG, "text decoder returned %d", rt);
	if (rt < 0) {
		ck_assert_ptr_null(t);
		return rt;
	}
	ck_assert_ptr_nonnull(t);
	rj = decode_json_c(msg, len, &j, &jn);
	ck_assert_msg(rj == 0, "text decoder took what json-c refuses (%d): %.200s", rj, msg);
	ck_assert_uint_eq(tn, jn);
	for (size_t i = 0; i < tn; i++)
		ck_assert_msg(entry_same(t[i], j[i]), "entry %zu differs in: %.200s", i, msg);
	cgctl_entries_free(j, jn);
	if (ret) {
		*ret = t;
		*ret_n = tn;
	} else {
		cgctl_entries_free(t, tn);
	}
	return 0;
}

/* Expect the text decoder to take msg (and agree with json-c). */
static void expect_taken(const char *msg)
{
	ck_assert_msg(decode_both(msg, NULL, NULL) == 0, "declined: %.200s", msg);
}

/* Expect the text decoder to leave msg to json-c. */
static void expect_declined(const char *msg)
{
	struct cgctl_entry **t = (struct cgctl_entry **)1;
	size_t n = 7;

	ck_assert_msg(libcgctl_entries_parse(msg, strlen(msg), &t, &n) == -ENOMSG, "taken: %.200s", msg);
	ck_assert_ptr_eq(t, (struct cgctl_entry **)1);
	ck_assert_uint_eq(n, 7);
}

#define ENTRY(name, labels) \
	"{\"name\":" name ",\"path\":\"/sys/fs/cgroup/u/x\",\"state\":\"active\",\"generated\":false," \
	"\"populated\":true,\"frozen\":false,\"created\":1700000000000000,\"delegate\":true," \
	"\"auto_remove\":false,\"lease\":false,\"labels\":" labels "}"
#define REPLY(entries) "{\"parameters\":{\"entries\":[" entries "]}}"

/* A List reply as cgctld writes it (json-c's serialisation), hostile names and labels in it. */
static char *daemon_reply(void)
{
	static const char *const names[] = { "q\"uote", "back\\slash", "sl/a\"sh", "uni\xc3\xa9\xf0\x9f\x98\x80", "_x" };
	json_object *p = json_object_new_object(), *a = json_object_new_array();
	char *msg;
	size_t len;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		json_object *e = json_object_new_object(), *l = json_object_new_object();
		char path[128];

		snprintf(path, sizeof(path), "/sys/fs/cgroup/\"r\"/%s", names[i]);
		json_object_object_add(l, "k\"\\/\b\f\n\r\t\x01\x1f\x7f", json_object_new_string_len("v\0nul\"\\", 7));
		json_object_object_add(l, "", json_object_new_string(""));
		json_object_object_add(l, "k=eq", json_object_new_string("v=eq\xe2\x80\xa8"));
		json_object_object_add(e, "name", json_object_new_string(names[i]));
		json_object_object_add(e, "path", json_object_new_string(path));
		json_object_object_add(e, "state", json_object_new_string(i % 2 ? "active" : "creating"));
		json_object_object_add(e, "generated", json_object_new_boolean(i % 2));
		json_object_object_add(e, "populated", i % 3 == 0 ? NULL : json_object_new_boolean(i % 3 == 1));
		json_object_object_add(e, "frozen", i % 3 == 0 ? NULL : json_object_new_boolean(i % 3 == 2));
		json_object_object_add(e, "created", json_object_new_int64(i == 0 ? INT64_MAX : (int64_t)i));
		json_object_object_add(e, "delegate", json_object_new_boolean(i % 2 == 0));
		json_object_object_add(e, "auto_remove", json_object_new_boolean(i == 1));
		json_object_object_add(e, "lease", json_object_new_boolean(i == 2));
		/* As cgctld writes it; absent from an older daemon. */
		if (i != 4)
			json_object_object_add(e, "owner", json_object_new_int64(i == 1 ? 4294967294LL : (int64_t)i * 1000));
		json_object_object_add(e, "labels", i == 3 ? json_object_new_object() : l);
		if (i == 3)
			json_object_put(l);
		json_object_array_add(a, e);
	}
	json_object_object_add(p, "entries", a);
	ck_assert_int_eq(vl_reply_format(NULL, p, false, &msg, &len), 0);
	json_object_put(p);
	return msg;
}

START_TEST(test_daemon_reply)
{
	_cleanup_free_ char *msg = daemon_reply();
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(decode_both(msg, &e, &n), 0);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(e[0]->name, "q\"uote");
	ck_assert_str_eq(e[0]->path, "/sys/fs/cgroup/\"r\"/q\"uote");
	ck_assert_int_eq(e[0]->populated, -1);
	ck_assert_uint_eq(e[0]->created_usec, INT64_MAX);
	/* A value's \u0000 ends it, as printing it "%s=%s" did. */
	ck_assert_str_eq(e[0]->labels[0], "k\"\\/\b\f\n\r\t\x01\x1f\x7f=v");
	ck_assert_str_eq(e[0]->labels[1], "=");
	ck_assert_str_eq(e[0]->labels[2], "k=eq=v=eq\xe2\x80\xa8");
	ck_assert_ptr_null(e[0]->labels[3]);
	ck_assert_int_eq(e[0]->owner, 0);
	ck_assert_int_eq(e[1]->owner, 4294967294LL);
	ck_assert_int_eq(e[3]->owner, 3000);
	ck_assert_int_eq(e[4]->owner, -1);
	ck_assert_str_eq(e[3]->name, "uni\xc3\xa9\xf0\x9f\x98\x80");
	ck_assert_ptr_null(e[3]->labels[0]);
	cgctl_entries_free(e, n);
}
END_TEST

START_TEST(test_escapes)
{
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(decode_both(REPLY(ENTRY("\"\\u00e9\\u4E2D\\ud83d\\ude00\\/\\\\\\\"\\b\\f\\n\\r\\t\\u0001\"",
						 "{\"k\\u0041\":\"\\u0042\",\"n\\u0000cut\":\"v\"}")),
				 &e, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0]->name, "\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80/\\\"\b\f\n\r\t\x01");
	ck_assert_str_eq(e[0]->labels[0], "kA=B");
	/* json-c keeps keys as C strings: one is cut at its \u0000. */
	ck_assert_str_eq(e[0]->labels[1], "n=v");
	cgctl_entries_free(e, n);
	/* A name cut at \u0000, as strdup() of json-c's string cut it. */
	expect_taken(REPLY(ENTRY("\"ab\\u0000cd\"", "{}")));
}
END_TEST

START_TEST(test_taken_variants)
{
	static const char *const ok[] = {
		REPLY(""),
		REPLY(ENTRY("\"a\"", "{}") "," ENTRY("\"b\"", "null")),
		/* Whitespace wherever JSON allows it. */
		" \n{ \"parameters\" :\t{ \"entries\" : [ { \"name\" : \"a\" , \"path\" : \"/p\" , \"state\" : \"s\" ,"
		" \"labels\" : { \"k\" : \"v\" } } ] } }\r\n ",
		/* Members in another order, optional ones absent or null. */
		REPLY("{\"labels\":{},\"state\":\"active\",\"path\":\"/p\",\"name\":\"a\"}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"generated\":null,\"populated\":null,"
		      "\"frozen\":null,\"created\":null,\"delegate\":null,\"auto_remove\":null,\"lease\":null,"
		      "\"owner\":null,\"labels\":null}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"owner\":4294967294}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":0}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":9223372036854775807}"),
		"{\"parameters\":{\"entries\":[]},\"continues\":false}",
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		expect_taken(ok[i]);
}
END_TEST

START_TEST(test_declined)
{
	static const char *const no[] = {
		"", " ", "{}", "[]", "null", REPLY("") "x", REPLY("") ",", "{\"parameters\":{\"entries\":[]}",
		/* Replies the general path must judge. */
		"{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":{}}",
		"{\"parameters\":{\"entries\":[]},\"continues\":true}",
		"{\"parameters\":{\"entries\":[]},\"continues\":1}",
		"{\"parameters\":{}}", "{\"parameters\":null}", "{\"parameters\":{\"entries\":null}}",
		"{\"parameters\":{\"entries\":{}}}", "{\"continues\":false}",
		/*
		 * Members this version does not know, of every kind, at every level:
		 * json-c judges them (a key written twice inside is refused there).
		 */
		"{\"parameters\":{\"entries\":[" ENTRY("\"a\"", "{}") "],\"more\":{\"x\":[1,-2.5e+3,0.0,true,"
		"null,\"s\\u0000\",{\"\\u0041\":[]}]}},\"continues\":false,\"extra\":[[[]]]}",
		REPLY("{\"new\":{\"deep\":[{\"a\":1E9}]},\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"z\":-0}"),
		"{\"extra\":1,\"parameters\":{\"entries\":[]}}",
		REPLY("{\"x\":{\"\":\"\",\"\":\"\"},\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\"}"),
		"{\"parameters\":{\"entries\":[]},\"continues\":false,\"continues\":false}",
		/* What json-c would read differently, or refuse. */
		"{\"parameters\":{\"entries\":[]},\"parameters\":{\"entries\":[]}}",
		"{\"parameters\":{\"entries\":[],\"entries\":[]}}",
		"{\"parameter\\u0073\":{\"entries\":[]}}",
		"{\"parameters\":{\"entrie\\u0073\":[]}}",
		REPLY("{\"na\\u006de\":\"a\",\"path\":\"/p\",\"state\":\"s\"}"),
		REPLY("{\"name\":\"a\",\"name\":\"b\",\"path\":\"/p\",\"state\":\"s\"}"),
		REPLY(ENTRY("\"a\"", "{\"k\":\"1\",\"k\":\"2\"}")),
		REPLY(ENTRY("\"a\"", "{\"k\\u0000x\":\"1\",\"k\":\"2\"}")),
		REPLY(ENTRY("\"\\ud800\"", "{}")), REPLY(ENTRY("\"\\udc00\"", "{}")),
		REPLY(ENTRY("\"\\ud800\\u0041\"", "{}")), REPLY(ENTRY("\"\\ud800x\"", "{}")),
		REPLY(ENTRY("\"\\x\"", "{}")), REPLY(ENTRY("\"\\u12\"", "{}")), REPLY(ENTRY("\"a\x01\"", "{}")),
		REPLY(ENTRY("\"\xc0\x80\"", "{}")), REPLY(ENTRY("\"\xed\xa0\x80\"", "{}")),
		REPLY(ENTRY("\"\xc3\"", "{}")), REPLY(ENTRY("\"\xff\"", "{}")), REPLY(ENTRY("\"\xf4\x90\x80\x80\"", "{}")),
		REPLY(ENTRY("7", "{}")), REPLY(ENTRY("null", "{}")), REPLY(ENTRY("\"a\"", "[]")),
		REPLY(ENTRY("\"a\"", "{\"k\":1}")), REPLY(ENTRY("\"a\"", "{\"k\":null}")),
		REPLY("{\"path\":\"/p\",\"state\":\"s\"}"), REPLY("{\"name\":\"a\",\"state\":\"s\"}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"populated\":\"yes\"}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"populated\":1}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":-1}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":1.5}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":1e3}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":01}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"owner\":-1}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"owner\":4294967295}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"owner\":\"0\"}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"owner\":1.5}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":9223372036854775808}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"created\":\"1\"}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"x\":01}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"x\":.5}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"x\":1.}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"x\":NaN}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",\"x\":tru}"),
		REPLY("{\"name\":\"a\",\"path\":\"/p\",\"state\":\"s\",}"), REPLY(ENTRY("\"a\"", "{}") ","),
		REPLY("7"), REPLY("[]"),
	};

	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		expect_declined(no[i]);
}
END_TEST

/* A reply of one entry with n labels "k0": "v", "k1": "v", ... */
static char *reply_with_labels(int n)
{
	size_t cap = 256 + (size_t)n * 16, len = 0;
	char *msg = malloc(cap);

	ck_assert_ptr_nonnull(msg);
	len += (size_t)snprintf(msg + len, cap - len, "{\"parameters\":{\"entries\":[{\"name\":\"a\","
				"\"path\":\"/p\",\"state\":\"s\",\"labels\":{");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(msg + len, cap - len, "%s\"k%d\":\"v\"", i ? "," : "", i);
	snprintf(msg + len, cap - len, "}}]}}");
	return msg;
}

START_TEST(test_labels_limit)
{
	_cleanup_free_ char *most = reply_with_labels(64), *over = reply_with_labels(65);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	/* As many labels as cgctld takes are read here; more are json-c's (a hash table). */
	ck_assert_int_eq(decode_both(most, &e, &n), 0);
	ck_assert_str_eq(e[0]->labels[63], "k63=v");
	ck_assert_ptr_null(e[0]->labels[64]);
	cgctl_entries_free(e, n);
	expect_declined(over);
}
END_TEST

START_TEST(test_deep_nesting)
{
	char msg[512];
	int n = 0;

	/* A member nested deeper than json-c would go is left to json-c (which refuses it). */
	n += snprintf(msg + n, sizeof(msg) - (size_t)n, "{\"parameters\":{\"entries\":[],\"x\":");
	for (int i = 0; i < 70; i++)
		msg[n++] = '[';
	for (int i = 0; i < 70; i++)
		msg[n++] = ']';
	snprintf(msg + n, sizeof(msg) - (size_t)n, "}}");
	expect_declined(msg);
}
END_TEST

START_TEST(test_mutations)
{
	/* Characters that steer a JSON reader, and any byte but NUL (the framer splits there). */
	static const char steer[] = "{}[]\":,\\u0123456789abcdefABCDEFntrl -.eE+\xc3\xa9\xed\xf0\x80\xbf";
	_cleanup_free_ char *base = daemon_reply();
	size_t blen = strlen(base), taken = 0, declined = 0;
	char *m = malloc(blen + 64);

	ck_assert_ptr_nonnull(m);
	for (int round = 0; round < 30000; round++) {
		size_t len = blen, pos, k;

		memcpy(m, base, blen + 1);
		for (int edits = 1 + (int)(rng() % 3); edits > 0; edits--) {
			pos = rng() % (len + 1);
			switch (rng() % 4) {
			case 0: /* replace one byte */
				if (pos < len)
					m[pos] = (rng() & 1) ? steer[rng() % (sizeof(steer) - 1)] : (char)(1 + rng() % 255);
				break;
			case 1: /* delete a short run */
				k = rng() % 8;
				if (pos + k <= len) {
					memmove(m + pos, m + pos + k, len - pos - k + 1);
					len -= k;
				}
				break;
			case 2: /* insert a steering byte */
				if (len < blen + 60) {
					memmove(m + pos + 1, m + pos, len - pos + 1);
					m[pos] = steer[rng() % (sizeof(steer) - 1)];
					len++;
				}
				break;
			default: /* cut the end off */
				len = pos;
				m[len] = '\0';
				break;
			}
		}
		if (decode_both(m, NULL, NULL) == 0)
			taken++;
		else
			declined++;
	}
	free(m);
	/* Both sides must have been exercised for this test to mean anything. */
	ck_assert_uint_gt(taken, 1000);
	ck_assert_uint_gt(declined, 1000);
}
END_TEST

/* Add a test case named after its only test. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *entries_suite(void)
{
	Suite *s = suite_create("libcgctl_entries");

	add_case(s, "daemon_reply", test_daemon_reply);
	add_case(s, "escapes", test_escapes);
	add_case(s, "taken_variants", test_taken_variants);
	add_case(s, "declined", test_declined);
	add_case(s, "labels_limit", test_labels_limit);
	add_case(s, "deep_nesting", test_deep_nesting);
	add_case(s, "mutations", test_mutations);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(entries_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
