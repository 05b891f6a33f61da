// SPDX-License-Identifier: MIT
/* test_stats.c: Check suite for daemon/stats.c on a directory tree standing in for a cgroup. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/stats.h"
#include "testutil.h"

static char base[] = "/tmp/stats-test.XXXXXX";
static int rootfd = -1;

/* Create file relpath beneath the root with content. */
static void put_file(const char *relpath, const char *content)
{
	int fd = openat(rootfd, relpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* Fresh root with an empty cgroup "cg" (core files only, no controllers). */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "stats-test");
	rootfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	ck_assert_int_eq(mkdirat(rootfd, "cg", 0755), 0);
	put_file("cg/cgroup.events", "populated 0\nfrozen 0\n");
	put_file("cg/cgroup.procs", "");
}

/* Remove the tree. */
static void teardown(void)
{
	close(rootfd);
	tu_rm_tree(base);
}

/* o[key], asserted to exist. */
static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s in %s", key,
		      json_object_to_json_string(o));
	return v;
}

/* Assert o[key] is the integer want. */
static void assert_int(json_object *o, const char *key, int64_t want)
{
	json_object *v = get(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_int), "%s is not an int", key);
	ck_assert_int_eq(json_object_get_int64(v), want);
}

/* Assert o[key] is the string want. */
static void assert_str(json_object *o, const char *key, const char *want)
{
	json_object *v = get(o, key);

	ck_assert_msg(json_object_is_type(v, json_type_string), "%s is not a string", key);
	ck_assert_str_eq(json_object_get_string(v), want);
}

/* Assert o has no member key. */
static void assert_absent(json_object *o, const char *key)
{
	ck_assert_msg(!json_object_object_get_ex(o, key, NULL), "unexpected %s", key);
}

/* Collect the stats of cg, asserting success; returns its "files". */
static json_object *collect(json_object **ret_stats)
{
	ck_assert_int_eq(stats_collect(rootfd, "cg", ret_stats), 0);
	ck_assert_ptr_nonnull(*ret_stats);
	return get(*ret_stats, "files");
}

/* The "values" (single-value files) of stats. */
static json_object *values_of(json_object *stats)
{
	return get(stats, "values");
}

START_TEST(test_core)
{
	json_object *stats, *files, *pids;

	put_file("cg/cgroup.events", "populated 1\nfrozen 1\n");
	put_file("cg/cgroup.procs", "12\n34\nbogus\n-1\n0\n\n99999999999\n56\n");
	files = collect(&stats);
	ck_assert(json_object_get_boolean(get(stats, "populated")));
	ck_assert(json_object_get_boolean(get(stats, "frozen")));
	pids = get(stats, "pids");
	ck_assert_uint_eq(json_object_array_length(pids), 3);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(pids, 0)), 12);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(pids, 1)), 34);
	ck_assert_int_eq(json_object_get_int64(json_object_array_get_idx(pids, 2)), 56);
	ck_assert_int_eq(json_object_object_length(files), 0);
	ck_assert_int_eq(json_object_object_length(values_of(stats)), 0);
	json_object_put(stats);
}
END_TEST

START_TEST(test_missing_controllers)
{
	json_object *stats, *files;

	/* Only core files: every controller's statistics are simply absent. */
	files = collect(&stats);
	ck_assert(!json_object_get_boolean(get(stats, "populated")));
	ck_assert(!json_object_get_boolean(get(stats, "frozen")));
	ck_assert_uint_eq(json_object_array_length(get(stats, "pids")), 0);
	ck_assert_int_eq(json_object_object_length(files), 0);
	json_object_put(stats);
	/* One controller present, the others not. */
	put_file("cg/pids.current", "3\n");
	files = collect(&stats);
	ck_assert_int_eq(json_object_object_length(files), 0);
	ck_assert_int_eq(json_object_object_length(values_of(stats)), 1);
	assert_str(values_of(stats), "pids.current", "3");
	assert_absent(values_of(stats), "memory.current");
	json_object_put(stats);
}
END_TEST

START_TEST(test_single_values)
{
	json_object *stats, *values;

	put_file("cg/memory.current", "4096\n");
	put_file("cg/memory.swap.current", "0");
	put_file("cg/pids.current", "7\n");
	put_file("cg/memory.peak", "12abc\n");
	put_file("cg/pids.peak", "1\n2\n");
	put_file("cg/memory.swap.peak", "");
	put_file("cg/hugetlb.2MB.max", "max\n");
	put_file("cg/hugetlb.1GB.max", "18446744073709551615\n");
	ck_assert_int_eq(json_object_object_length(collect(&stats)), 0);
	/* 64-bit values travel as strings, "max" among them. */
	values = values_of(stats);
	assert_str(values, "memory.current", "4096");
	assert_str(values, "memory.swap.current", "0");
	assert_str(values, "pids.current", "7");
	assert_str(values, "hugetlb.2MB.max", "max");
	/* Malformed single values are left out, not fatal. */
	assert_absent(values, "memory.peak");
	assert_absent(values, "pids.peak");
	assert_absent(values, "memory.swap.peak");
	/* Beyond int64: not a number we pass on. */
	assert_absent(values, "hugetlb.1GB.max");
	json_object_put(stats);
}
END_TEST

START_TEST(test_flat_keyed)
{
	json_object *stats, *files, *o;

	put_file("cg/memory.stat", "anon 100\nfile 200\nbad line here\nnovalue\n kernel 3\n"
				   "shmem 5x\nslab 18446744073709551615\nsock -1\n");
	put_file("cg/memory.events", "low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\n");
	put_file("cg/cpu.stat", "usage_usec 1000\nuser_usec 600\nsystem_usec 400\n");
	put_file("cg/pids.events", "max 5");
	put_file("cg/cgroup.stat", "nr_descendants 2\nnr_dying_descendants 0\n");
	files = collect(&stats);
	o = get(files, "memory.stat");
	ck_assert_int_eq(json_object_object_length(o), 3);
	assert_int(o, "anon", 100);
	assert_int(o, "file", 200);
	assert_int(o, "sock", -1);
	o = get(files, "memory.events");
	ck_assert_int_eq(json_object_object_length(o), 5);
	assert_int(o, "oom_kill", 4);
	assert_int(get(files, "cpu.stat"), "usage_usec", 1000);
	assert_int(get(files, "pids.events"), "max", 5);
	assert_int(get(files, "cgroup.stat"), "nr_descendants", 2);
	assert_absent(files, "memory.events.local");
	json_object_put(stats);
}
END_TEST

/* Assert p[line] is {"avg10": avg10, "avg60": 0, "avg300": 0, "total": total}. */
static void assert_pressure_line(json_object *p, const char *line, double avg10, int64_t total)
{
	json_object *o = get(p, line);

	ck_assert_int_eq(json_object_object_length(o), 4);
	ck_assert(json_object_is_type(get(o, "avg10"), json_type_double));
	ck_assert(json_object_get_double(get(o, "avg10")) == avg10);
	ck_assert(json_object_get_double(get(o, "avg300")) == 0.0);
	assert_int(o, "total", total);
}

START_TEST(test_pressure)
{
	json_object *stats, *files, *p;

	put_file("cg/memory.pressure", "some avg10=1.50 avg60=0.00 avg300=0.00 total=12345\n"
				       "full avg10=0.25 avg60=0.00 avg300=0.00 total=7\n");
	put_file("cg/cpu.pressure", "some avg10=abc avg60=0.00 avg300=0.00 total=1\n"
				    "weird avg10=0.00 total=2\n"
				    "full avg10=0.00 avg60=0.00 avg300=0.00 total=3\n");
	put_file("cg/irq.pressure", "full avg10=0.00 avg60=0.00 avg300=0.00 total=9");
	put_file("cg/io.pressure", "some avg10=1..0 avg60=0.00 avg300=0.00 total=1\n"
				   "full avg10=0.00 avg60=0.00 avg300=0.00 total\n"
				   "some\n");
	files = collect(&stats);
	p = get(files, "memory.pressure");
	assert_pressure_line(p, "some", 1.5, 12345);
	assert_pressure_line(p, "full", 0.25, 7);
	p = get(files, "cpu.pressure");
	ck_assert_int_eq(json_object_object_length(p), 1);
	assert_pressure_line(p, "full", 0.0, 3);
	assert_pressure_line(get(files, "irq.pressure"), "full", 0.0, 9);
	ck_assert_int_eq(json_object_object_length(get(files, "io.pressure")), 0);
	json_object_put(stats);
}
END_TEST

START_TEST(test_io_stat)
{
	json_object *stats, *files, *io, *dev;

	put_file("cg/io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n"
			       "253:1 rbytes=5\nbad line\n8:16 rbytes=x\nsda rbytes=1\n8: rbytes=1\n"
			       "8:32 =1\n");
	files = collect(&stats);
	io = get(files, "io.stat");
	ck_assert_int_eq(json_object_object_length(io), 2);
	dev = get(io, "8:0");
	ck_assert_int_eq(json_object_object_length(dev), 6);
	assert_int(dev, "rbytes", 1);
	assert_int(dev, "wios", 4);
	assert_int(get(io, "253:1"), "rbytes", 5);
	json_object_put(stats);
}
END_TEST

START_TEST(test_hugetlb)
{
	json_object *stats, *files;
	struct json_object_iterator it, end;
	const char *prev = "";

	put_file("cg/hugetlb.2MB.current", "2097152\n");
	put_file("cg/hugetlb.2MB.max", "4194304\n");
	put_file("cg/hugetlb.2MB.events", "max 1\n");
	put_file("cg/hugetlb.2MB.events.local", "max 0\n");
	put_file("cg/hugetlb.1GB.rsvd.max", "max\n");
	put_file("cg/hugetlb.1GB.current", "0\n");
	/* Not statistics files, or not hugetlb ones. */
	put_file("cg/hugetlb.2MB.numa_stat", "total=0 N0=0\n");
	put_file("cg/hugetlb.foo.current", "1\n");
	put_file("cg/hugetlb.2XB.current", "1\n");
	put_file("cg/cpu.weight", "100\n");
	files = collect(&stats);
	ck_assert_int_eq(json_object_object_length(files), 2);
	ck_assert_int_eq(json_object_object_length(values_of(stats)), 4);
	assert_str(values_of(stats), "hugetlb.2MB.current", "2097152");
	assert_str(values_of(stats), "hugetlb.2MB.max", "4194304");
	assert_int(get(files, "hugetlb.2MB.events"), "max", 1);
	assert_int(get(files, "hugetlb.2MB.events.local"), "max", 0);
	assert_str(values_of(stats), "hugetlb.1GB.rsvd.max", "max");
	assert_str(values_of(stats), "hugetlb.1GB.current", "0");
	/* Enumerated in sorted order, whatever readdir said. */
	it = json_object_iter_begin(values_of(stats));
	end = json_object_iter_end(values_of(stats));
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *name = json_object_iter_peek_name(&it);

		ck_assert_int_lt(strcmp(prev, name), 0);
		prev = name;
	}
	json_object_put(stats);
}
END_TEST

START_TEST(test_root_and_missing)
{
	json_object *stats = NULL;

	ck_assert_int_eq(stats_collect(rootfd, "nope", &stats), -ENOENT);
	ck_assert_ptr_null(stats);
	/* relpath "" is the root itself. */
	put_file("cgroup.events", "populated 1\n");
	put_file("cgroup.procs", "1\n");
	put_file("cgroup.stat", "nr_descendants 1\n");
	ck_assert_int_eq(stats_collect(rootfd, "", &stats), 0);
	ck_assert(json_object_get_boolean(get(stats, "populated")));
	ck_assert(!json_object_get_boolean(get(stats, "frozen")));
	ck_assert_uint_eq(json_object_array_length(get(stats, "pids")), 1);
	assert_int(get(get(stats, "files"), "cgroup.stat"), "nr_descendants", 1);
	json_object_put(stats);
}
END_TEST

START_TEST(test_read_errors)
{
	json_object *stats = NULL;

	char *big;

	/* A directory where a statistics file would be (a delegatee's cgroup named like one
	 * while its controller is off) is not that file: absent, never read. */
	ck_assert_int_eq(mkdirat(rootfd, "cg/memory.stat", 0755), 0);
	ck_assert_int_eq(stats_collect(rootfd, "cg", &stats), 0);
	ck_assert_ptr_null(json_object_object_get(get(stats, "files"), "memory.stat"));
	json_object_put(stats);
	stats = NULL;
	/* A failure other than absence is reported, not hidden. */
	big = malloc(1024 * 1024 + 2);
	ck_assert_ptr_nonnull(big);
	memset(big, '1', 1024 * 1024 + 1);
	big[1024 * 1024 + 1] = '\0';
	put_file("cg/memory.current", big);
	free(big);
	ck_assert_int_eq(stats_collect(rootfd, "cg", &stats), -EFBIG);
	ck_assert_ptr_null(stats);
	put_file("cg/memory.current", "1\n");
	ck_assert_int_eq(unlinkat(rootfd, "cg/cgroup.procs", 0), 0);
	ck_assert_int_eq(stats_collect(rootfd, "cg", &stats), -ENOENT);
	ck_assert_ptr_null(stats);
}
END_TEST

/* Add a test case with the temp-tree fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/* The stats suite. */
static Suite *stats_suite(void)
{
	Suite *s = suite_create("stats");

	add_tcase(s, "core", test_core);
	add_tcase(s, "missing_controllers", test_missing_controllers);
	add_tcase(s, "single_values", test_single_values);
	add_tcase(s, "flat_keyed", test_flat_keyed);
	add_tcase(s, "pressure", test_pressure);
	add_tcase(s, "io_stat", test_io_stat);
	add_tcase(s, "hugetlb", test_hugetlb);
	add_tcase(s, "root_and_missing", test_root_and_missing);
	add_tcase(s, "read_errors", test_read_errors);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
