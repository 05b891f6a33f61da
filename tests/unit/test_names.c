/* SPDX-License-Identifier: MIT */
/* test_names.c: Check suite for protocol/names.c (validation and escaping). */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "names.h"

/* Validate a NUL-terminated name. */
static int validate(const char *name, const char **reason)
{
	return cgname_validate(name, strlen(name), reason);
}

/* Assert name is rejected with -EINVAL and a reason. */
static void assert_invalid(const char *name)
{
	const char *reason = NULL;

	ck_assert_msg(validate(name, &reason) == -EINVAL, "accepted \"%s\"", name);
	ck_assert_ptr_nonnull(reason);
	ck_assert_uint_gt(strlen(reason), 0);
}

/* A name of n components, each "c". */
static char *make_depth(size_t n)
{
	char *s = malloc(2 * n);
	size_t i;

	ck_assert_ptr_nonnull(s);
	for (i = 0; i < n; i++) {
		s[2 * i] = 'c';
		s[2 * i + 1] = i + 1 < n ? '/' : '\0';
	}
	return s;
}

/* A string of n copies of ch. */
static char *make_run(size_t n, char ch)
{
	char *s = malloc(n + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, ch, n);
	s[n] = '\0';
	return s;
}

/* Escape name and compare with the expected on-disk path. */
static void assert_escape(const char *name, const char *want)
{
	_cleanup_free_ char *path = NULL;

	ck_assert_int_eq(cgname_to_path(name, &path), 0);
	ck_assert_str_eq(path, want);
}

START_TEST(test_valid)
{
	static const char *const ok[] = {
		"a", "buildkit", "buildkit/abc123", "a/b/c", "a-b_c.d", "x y", "_x", ".hidden",
		"cgroup.procs", "memory.max", "...", "a/.../b", "ünïcode/日本", "a.b.c",
	};
	const char *reason = "untouched";
	size_t i;

	for (i = 0; i < ELEMENTSOF(ok); i++)
		ck_assert_msg(validate(ok[i], &reason) == 0, "rejected \"%s\"", ok[i]);
	ck_assert_str_eq(reason, "untouched");
	ck_assert_int_eq(cgname_validate("a/b", 3, NULL), 0);
	/* Only len bytes count. */
	ck_assert_int_eq(cgname_validate("a/b/", 3, NULL), 0);
}
END_TEST

START_TEST(test_empty)
{
	const char *reason = NULL;

	ck_assert_int_eq(cgname_validate("", 0, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name is empty");
	ck_assert_int_eq(cgname_validate(NULL, 0, &reason), -EINVAL);
	ck_assert_int_eq(cgname_validate(NULL, 5, NULL), -EINVAL);
}
END_TEST

START_TEST(test_slashes)
{
	const char *reason = NULL;

	ck_assert_int_eq(validate("/a", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name starts with \"/\"");
	ck_assert_int_eq(validate("a/", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name ends with \"/\"");
	ck_assert_int_eq(validate("a//b", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name contains \"//\"");
	assert_invalid("/");
	assert_invalid("//");
	assert_invalid("/a/b");
	assert_invalid("a/b/");
}
END_TEST

START_TEST(test_dots)
{
	static const char *const bad[] = {
		".", "..", "./a", "../a", "a/.", "a/..", "a/./b", "a/../b", "../../etc",
	};
	const char *reason = NULL;
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		assert_invalid(bad[i]);
	ck_assert_int_eq(validate("a/../b", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name component is \"..\"");
	ck_assert_int_eq(validate("a/.", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name component is \".\"");
}
END_TEST

START_TEST(test_nul_inside)
{
	const char *reason = NULL;

	ck_assert_int_eq(cgname_validate("a\0b", 3, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name contains a NUL byte");
	ck_assert_int_eq(cgname_validate("ab\0", 3, NULL), -EINVAL);
	ck_assert_int_eq(cgname_validate("\0", 1, NULL), -EINVAL);
}
END_TEST

START_TEST(test_control_chars)
{
	char name[4] = "a?b";
	const char *reason = NULL;
	int c;

	ck_assert_int_eq(validate("a\nb", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name contains a control character");
	for (c = 1; c < 0x20; c++) {
		name[1] = (char)c;
		ck_assert_msg(validate(name, NULL) == -EINVAL, "accepted 0x%02x", c);
	}
	name[1] = 0x7f;
	ck_assert_int_eq(validate(name, NULL), -EINVAL);
	assert_invalid("a/b\t");
	assert_invalid("\x1b[31m");
	/* Invalid UTF-8 would not survive JSON on the way back to clients. */
	ck_assert_int_eq(validate("a\xff", &reason), -EINVAL);
	ck_assert_str_eq(reason, "name is not valid UTF-8");
	assert_invalid("\xc0\xaf");         /* overlong "/" */
	assert_invalid("\xed\xa0\x80");     /* surrogate */
	assert_invalid("\xe6\x97");         /* truncated */
	ck_assert_int_eq(validate("\xf0\x9f\x90\xa7", NULL), 0);
}
END_TEST

/* Assert the new-name rule refuses name (with a reason naming the kind) while lookups still take it. */
static void assert_hidden(const char *name, const char *kind)
{
	const char *reason = NULL;

	ck_assert_msg(validate(name, NULL) == 0, "lookup rule refused \"%s\"", name);
	ck_assert_msg(cgname_validate_new(name, strlen(name), &reason) == -EINVAL, "new-name rule accepted \"%s\"",
		      name);
	ck_assert_ptr_nonnull(strstr(reason, kind));
}

START_TEST(test_hidden_chars)
{
	_cleanup_free_ char *path = NULL, *back = NULL;
	const char *reason = NULL;

	/* C1: U+009B is CSI, U+0085 NEL, U+0080 and U+009F the ends. */
	assert_hidden("a\xc2\x9b" "2J", "C1 control");
	assert_hidden("\xc2\x80", "C1 control");
	assert_hidden("x/\xc2\x85", "C1 control");
	assert_hidden("\xc2\x9f", "C1 control");
	/* Bidi controls (Trojan Source), line separators, zero width. */
	assert_hidden("abc\xe2\x80\xae", "formatting");        /* U+202E RLO */
	assert_hidden("\xe2\x80\xaa", "formatting");            /* U+202A LRE */
	assert_hidden("\xe2\x81\xa6x", "formatting");           /* U+2066 LRI */
	assert_hidden("\xe2\x81\xa9", "formatting");            /* U+2069 PDI */
	assert_hidden("\xd8\x9c", "formatting");                 /* U+061C ALM */
	assert_hidden("\xe2\x80\x8e", "formatting");            /* U+200E LRM */
	assert_hidden("\xe2\x80\x8f", "formatting");            /* U+200F RLM */
	assert_hidden("\xe2\x80\xa8", "formatting");            /* U+2028 */
	assert_hidden("\xe2\x80\xa9", "formatting");            /* U+2029 */
	assert_hidden("ro\xe2\x80\x8bot", "formatting");        /* U+200B ZWSP */
	assert_hidden("\xe2\x81\xa0", "formatting");            /* U+2060 WJ */
	assert_hidden("\xef\xbb\xbf" "name", "formatting");        /* U+FEFF BOM */
	/* Neighbours stay allowed: U+00A0, U+00E9, U+200C/D (ZWNJ, ZWJ: Persian, emoji), U+2065, U+206A, U+202F. */
	static const char *const fine[] = { "\xc2\xa0", "caf\xc3\xa9", "\xe2\x80\x8c", "\xe2\x80\x8d",
					    "\xe2\x81\xa5", "\xe2\x81\xaa", "\xe2\x80\xaf", "\xf0\x9f\x90\xa7" };
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++)
		ck_assert_msg(cgname_validate_new(fine[i], strlen(fine[i]), NULL) == 0, "refused %s", fine[i]);
	/* What an older cgctld recorded still maps to disk and back: it can be listed and destroyed. */
	ck_assert_int_eq(cgname_to_path("old\xc2\x9b", &path), 0);
	ck_assert_int_eq(cgname_from_path(path, &back), 0);
	ck_assert_str_eq(back, "old\xc2\x9b");
	/* Everything the lookup rule refuses, the new-name rule refuses too. */
	ck_assert_int_eq(cgname_validate_new("a\nb", 3, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name contains a control character");
	ck_assert(cgname_char_hidden(0x1b) && cgname_char_hidden(0x7f) && !cgname_char_hidden('a'));
}
END_TEST

START_TEST(test_component_length)
{
	_cleanup_free_ char *c128 = make_run(CGNAME_COMPONENT_MAX, 'x');
	_cleanup_free_ char *c129 = make_run(CGNAME_COMPONENT_MAX + 1, 'x');
	_cleanup_free_ char *path = NULL, *back = NULL;
	char nested[200];
	const char *reason = NULL;

	ck_assert_int_eq(validate(c128, NULL), 0);
	ck_assert_int_eq(validate(c129, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name component is longer than 128 bytes");
	ck_assert_int_lt(snprintf(nested, sizeof(nested), "a/%s/b", c129), (int)sizeof(nested));
	assert_invalid(nested);

	/* The longest component still escapes and comes back. */
	c128[0] = '_';
	ck_assert_int_eq(cgname_to_path(c128, &path), 0);
	ck_assert_uint_eq(strlen(path), CGNAME_COMPONENT_MAX + 1);
	ck_assert_int_eq(cgname_from_path(path, &back), 0);
	ck_assert_str_eq(back, c128);
}
END_TEST

START_TEST(test_depth)
{
	_cleanup_free_ char *d16 = make_depth(CGNAME_DEPTH_MAX);
	_cleanup_free_ char *d17 = make_depth(CGNAME_DEPTH_MAX + 1);
	const char *reason = NULL;

	ck_assert_int_eq(validate(d16, NULL), 0);
	ck_assert_int_eq(validate(d17, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name has more than 16 components");
}
END_TEST

START_TEST(test_total_length)
{
	/* 8 components of 127 bytes and 7 slashes make 1023 bytes. */
	char name[CGNAME_MAX + 2];
	const char *reason = NULL;
	size_t i;

	memset(name, 'x', sizeof(name));
	for (i = 127; i < CGNAME_MAX; i += 128)
		name[i] = '/';
	name[1023] = '\0';
	ck_assert_int_eq(validate(name, NULL), 0);
	name[1023] = 'y';
	name[1024] = '\0';
	ck_assert_int_eq(validate(name, NULL), 0);
	/* Nine short enough components, only the total is too long. */
	name[1023] = '/';
	name[1024] = 'z';
	name[1025] = '\0';
	ck_assert_int_eq(validate(name, &reason), -EINVAL);
	ck_assert_str_eq(reason, "name is longer than 1024 bytes");
}
END_TEST

START_TEST(test_needs_escape)
{
	static const char *const yes[] = {
		"cgroup.procs", "cgroup.", "cgroup.subtree_control", "memory.max", "cpu.weight",
		"cpuset.cpus", "io.max", "pids.max", "net_cls.classid", "hugetlb.2MB.max",
		"irq.pressure", "misc.max", "rdma.max", "_x", "_", ".x", ".hidden",
		"tasks", "notify_on_release", "release_agent",
	};
	static const char *const no[] = {
		"cpu", "memory", "cgroup", "cpufoo.x", "memoryx.max", "x.cpu", "tasks2",
		"a_b", "a.b", "Memory.max", "foo",
	};
	size_t i;

	for (i = 0; i < ELEMENTSOF(yes); i++)
		ck_assert_msg(cgname_component_needs_escape(yes[i], strlen(yes[i])),
			      "\"%s\" not escaped", yes[i]);
	for (i = 0; i < ELEMENTSOF(no); i++)
		ck_assert_msg(!cgname_component_needs_escape(no[i], strlen(no[i])),
			      "\"%s\" escaped", no[i]);
	/* Only len bytes count: "memory" alone is fine. */
	ck_assert(!cgname_component_needs_escape("memory.max", 6));
}
END_TEST

START_TEST(test_to_path)
{
	char *path = (char *)"untouched";

	assert_escape("cgroup.procs", "_cgroup.procs");
	assert_escape("memory.max", "_memory.max");
	assert_escape("_x", "__x");
	assert_escape(".x", "_.x");
	assert_escape("tasks", "_tasks");
	assert_escape("cpu", "cpu");
	assert_escape("cpufoo.x", "cpufoo.x");
	assert_escape("a/b/c", "a/b/c");
	assert_escape("a/cgroup.procs/b/memory.max", "a/_cgroup.procs/b/_memory.max");
	assert_escape("_/_", "__/__");
	ck_assert_int_eq(cgname_to_path("a/../b", &path), -EINVAL);
	ck_assert_int_eq(cgname_to_path("", &path), -EINVAL);
	ck_assert_int_eq(cgname_to_path(NULL, &path), -EINVAL);
	ck_assert_str_eq(path, "untouched");
}
END_TEST

START_TEST(test_round_trip)
{
	static const char *const names[] = {
		"a", "a/b", "cgroup.procs", "memory.max", "_x", "__x", ".x", "tasks", "cpu",
		"cpufoo.x", "_", "._", "_.", "a/_/b", "cgroup.events/cgroup.events",
		"notify_on_release/release_agent", "...", "x.", "io.", "日本/語", "a b/c d",
	};
	_cleanup_free_ char *d16 = make_depth(CGNAME_DEPTH_MAX);
	size_t i;

	for (i = 0; i <= ELEMENTSOF(names); i++) {
		const char *n = i < ELEMENTSOF(names) ? names[i] : d16;
		_cleanup_free_ char *path = NULL, *back = NULL;

		ck_assert_int_eq(cgname_to_path(n, &path), 0);
		ck_assert_msg(cgname_from_path(path, &back) == 0, "\"%s\" -> \"%s\"", n, path);
		ck_assert_str_eq(back, n);
	}
}
END_TEST

START_TEST(test_from_path_rejects)
{
	static const char *const bad[] = {
		"cgroup.procs", "memory.max", "a/cgroup.controllers", "_foo", "a/_b", "_",
		".x", ".", "..", "a/..", "tasks", "", "/a", "a/", "a//b", "_..", "_.",
		"x\n", "a\xff",
	};
	char *name = (char *)"untouched";
	size_t i;

	for (i = 0; i < ELEMENTSOF(bad); i++)
		ck_assert_msg(cgname_from_path(bad[i], &name) == -EINVAL, "accepted \"%s\"", bad[i]);
	ck_assert_int_eq(cgname_from_path(NULL, &name), -EINVAL);
	ck_assert_str_eq(name, "untouched");
}
END_TEST

START_TEST(test_from_path_unescapes)
{
	_cleanup_free_ char *a = NULL, *b = NULL;

	ck_assert_int_eq(cgname_from_path("x/_cgroup.procs/__y/_.z", &a), 0);
	ck_assert_str_eq(a, "x/cgroup.procs/_y/.z");
	ck_assert_int_eq(cgname_from_path("plain", &b), 0);
	ck_assert_str_eq(b, "plain");
}
END_TEST

START_TEST(test_is_below)
{
	ck_assert(cgname_is_below("a/b", "a"));
	ck_assert(cgname_is_below("a/b/c", "a/b"));
	ck_assert(cgname_is_below("a", "a"));
	ck_assert(!cgname_is_below("ab", "a"));
	ck_assert(!cgname_is_below("a", "a/b"));
	ck_assert(!cgname_is_below("a/bc", "a/b"));
	ck_assert(!cgname_is_below("b/a", "a"));
	ck_assert(cgname_is_below("a", ""));
	ck_assert(!cgname_is_below(NULL, "a"));
	ck_assert(!cgname_is_below("a", NULL));
}
END_TEST

/* Add a test case named after its only test. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *names_suite(void)
{
	Suite *s = suite_create("names");

	add_case(s, "valid", test_valid);
	add_case(s, "empty", test_empty);
	add_case(s, "slashes", test_slashes);
	add_case(s, "dots", test_dots);
	add_case(s, "nul_inside", test_nul_inside);
	add_case(s, "control_chars", test_control_chars);
	add_case(s, "hidden_chars", test_hidden_chars);
	add_case(s, "component_length", test_component_length);
	add_case(s, "depth", test_depth);
	add_case(s, "total_length", test_total_length);
	add_case(s, "needs_escape", test_needs_escape);
	add_case(s, "to_path", test_to_path);
	add_case(s, "round_trip", test_round_trip);
	add_case(s, "from_path_rejects", test_from_path_rejects);
	add_case(s, "from_path_unescapes", test_from_path_unescapes);
	add_case(s, "is_below", test_is_below);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(names_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
