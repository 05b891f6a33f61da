// SPDX-License-Identifier: MIT
/* test_resources.c: Check suite for daemon/resources.c: conversions, rejections, rollback. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/cgroupfs.h"
#include "../../daemon/resources.h"
#include "testutil.h"

static char base[] = "/tmp/res-test.XXXXXX";
static int rootfd = -1;

/* Fresh directory standing in for the managed root, with a cgroup "cg" in it. */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "res-test");
	rootfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	ck_assert_int_eq(mkdirat(rootfd, "cg", 0755), 0);
}

/* Remove the tree. */
static void teardown(void)
{
	close(rootfd);
	tu_rm_tree(base);
}

/* Create file cg/name with content. */
static void put_file(const char *name, const char *content)
{
	char path[128];
	int fd;

	ck_assert_int_lt(snprintf(path, sizeof(path), "cg/%s", name), (int)sizeof(path));
	fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

/* The first line of cg/name (files are not truncated by writes: only it is meaningful). */
static void assert_first_line(const char *name, const char *want)
{
	char path[128], *text = NULL;

	ck_assert_int_lt(snprintf(path, sizeof(path), "cg/%s", name), (int)sizeof(path));
	ck_assert_int_eq(cgfs_read(rootfd, path, 4096, &text), 0);
	text[strcspn(text, "\n")] = '\0';
	ck_assert_str_eq(text, want);
	free(text);
}

/* Build a plan from JSON text; the result of res_plan_build(). */
static int build(const char *text, struct res_plan *p, char **field, char **msg)
{
	json_object *o = json_tokener_parse(text);
	int r;

	ck_assert_msg(o != NULL, "bad test JSON: %s", text);
	*p = (struct res_plan){ 0 };
	r = res_plan_build(o, p, field, msg);
	json_object_put(o);
	return r;
}

/* The value the plan writes to file (the nth such write), or NULL. */
static const char *plan_value(const struct res_plan *p, const char *file, int nth)
{
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->w[i].file, file) == 0 && nth-- == 0)
			return p->w[i].value;
	return NULL;
}

/* Assert text builds into exactly one write of file = value. */
static void assert_one(const char *text, const char *file, const char *value)
{
	struct res_plan p;
	char *field = NULL, *msg = NULL;
	int r = build(text, &p, &field, &msg);

	ck_assert_msg(r == 0, "%s: %d %s: %s", text, r, field, msg);
	ck_assert_uint_eq(p.n, 1);
	ck_assert_str_eq(p.w[0].file, file);
	ck_assert_str_eq(p.w[0].value, value);
	res_plan_done(&p);
}

/* Assert text builds into no write at all. */
static void assert_none(const char *text)
{
	struct res_plan p;

	ck_assert_int_eq(build(text, &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.n, 0);
	res_plan_done(&p);
}

/* Assert text is refused with -EINVAL naming field, with a message. */
static void assert_rejected(const char *text, const char *want_field)
{
	struct res_plan p;
	char *field = NULL, *msg = NULL;
	int r = build(text, &p, &field, &msg);

	ck_assert_msg(r == -EINVAL, "%s: accepted (%d)", text, r);
	ck_assert_ptr_nonnull(field);
	ck_assert_ptr_nonnull(msg);
	ck_assert_msg(strcmp(field, want_field) == 0, "%s: field %s, want %s (%s)", text, field,
		      want_field, msg);
	ck_assert_uint_eq(p.n, 0);
	ck_assert_ptr_null(p.w);
	free(field);
	free(msg);
}

START_TEST(test_memory)
{
	struct res_plan p;

	ck_assert_int_eq(build("{\"memory\": {\"max\": \"1048576\", \"high\": \"max\", \"low\": \"0\","
			       " \"min\": \"max\", \"swap_max\": \"0042\"}}", &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.n, 5);
	ck_assert_str_eq(plan_value(&p, "memory.max", 0), "1048576");
	ck_assert_str_eq(plan_value(&p, "memory.high", 0), "max");
	ck_assert_str_eq(plan_value(&p, "memory.low", 0), "0");
	ck_assert_str_eq(plan_value(&p, "memory.min", 0), "max");
	ck_assert_str_eq(plan_value(&p, "memory.swap.max", 0), "42");
	ck_assert_str_eq(p.w[0].controller, "memory");
	ck_assert_str_eq(p.w[0].field, "resources.memory.max");
	ck_assert_str_eq(p.w[4].field, "resources.memory.swap_max");
	res_plan_done(&p);
	assert_one("{\"memory\": {\"max\": \"9223372036854775807\"}}", "memory.max",
		   "9223372036854775807");
	assert_none("{\"memory\": {\"max\": null}}");
	assert_none("{\"memory\": null}");
}
END_TEST

START_TEST(test_memory_rejected)
{
	assert_rejected("{\"memory\": {\"max\": \"-1\"}}", "resources.memory.max");
	assert_rejected("{\"memory\": {\"high\": \"12abc\"}}", "resources.memory.high");
	assert_rejected("{\"memory\": {\"low\": \"1K\"}}", "resources.memory.low");
	assert_rejected("{\"memory\": {\"min\": \"\"}}", "resources.memory.min");
	assert_rejected("{\"memory\": {\"max\": \" 1\"}}", "resources.memory.max");
	assert_rejected("{\"memory\": {\"max\": \"+1\"}}", "resources.memory.max");
	assert_rejected("{\"memory\": {\"swap_max\": \"9223372036854775808\"}}",
			"resources.memory.swap_max");
	assert_rejected("{\"memory\": {\"max\": \"99999999999999999999999\"}}",
			"resources.memory.max");
	assert_rejected("{\"memory\": {\"max\": 1024}}", "resources.memory.max");
	assert_rejected("{\"memory\": \"1G\"}", "resources.memory");
}
END_TEST

START_TEST(test_pids)
{
	assert_one("{\"pids_max\": \"max\"}", "pids.max", "max");
	assert_one("{\"pids_max\": \"100\"}", "pids.max", "100");
	assert_one("{\"pids_max\": \"0\"}", "pids.max", "0"); /* the kernel accepts 0: no new tasks */
	assert_rejected("{\"pids_max\": \"-1\"}", "resources.pids_max");
	assert_rejected("{\"pids_max\": \"-5\"}", "resources.pids_max");
	assert_rejected("{\"pids_max\": \"4194305\"}", "resources.pids_max");
	assert_rejected("{\"pids_max\": \"ten\"}", "resources.pids_max");
}
END_TEST

START_TEST(test_cpu_max)
{
	assert_one("{\"cpu\": {\"quota\": \"50000\", \"period\": 100000}}", "cpu.max",
		   "50000 100000");
	assert_one("{\"cpu\": {\"quota\": \"20000\"}}", "cpu.max", "20000 100000");
	assert_one("{\"cpu\": {\"period\": 50000}}", "cpu.max", "max 50000");
	assert_one("{\"cpu\": {\"quota\": \"max\"}}", "cpu.max", "max 100000");
	assert_one("{\"cpu\": {\"quota\": \"1000\", \"period\": 1000000}}", "cpu.max",
		   "1000 1000000");
}
END_TEST

START_TEST(test_cpu_max_rejected)
{
	assert_rejected("{\"cpu\": {\"period\": 999}}", "resources.cpu.period");
	assert_rejected("{\"cpu\": {\"period\": 1000001}}", "resources.cpu.period");
	assert_rejected("{\"cpu\": {\"period\": -100000}}", "resources.cpu.period");
	assert_rejected("{\"cpu\": {\"period\": \"100000\"}}", "resources.cpu.period");
	assert_rejected("{\"cpu\": {\"quota\": \"999\"}}", "resources.cpu.quota");
	assert_rejected("{\"cpu\": {\"quota\": \"-1\"}}", "resources.cpu.quota");
	assert_rejected("{\"cpu\": {\"quota\": \"17592186044416\"}}", "resources.cpu.quota");
	assert_rejected("{\"cpu\": {\"quota\": \"50ms\", \"period\": 100000}}",
			"resources.cpu.quota");
}
END_TEST

START_TEST(test_cpu_weight_shares)
{
	assert_one("{\"cpu\": {\"weight\": 100}}", "cpu.weight", "100");
	assert_one("{\"cpu\": {\"weight\": 1}}", "cpu.weight", "1");
	assert_one("{\"cpu\": {\"weight\": 10000}}", "cpu.weight", "10000");
	/* The quadratic curve of runc and crun (1024 maps to the default 100). */
	assert_one("{\"cpu\": {\"shares\": 2}}", "cpu.weight", "1");
	assert_one("{\"cpu\": {\"shares\": 1024}}", "cpu.weight", "100");
	assert_one("{\"cpu\": {\"shares\": 262144}}", "cpu.weight", "10000");
	assert_one("{\"cpu\": {\"shares\": 512}}", "cpu.weight", "59");
	/* OCI: 0 shares means unset. */
	assert_none("{\"cpu\": {\"shares\": 0}}");
	assert_one("{\"cpu\": {\"shares\": 0, \"weight\": 50}}", "cpu.weight", "50");
}
END_TEST

START_TEST(test_cpu_weight_rejected)
{
	assert_rejected("{\"cpu\": {\"weight\": 0}}", "resources.cpu.weight");
	assert_rejected("{\"cpu\": {\"weight\": 10001}}", "resources.cpu.weight");
	assert_rejected("{\"cpu\": {\"shares\": 1}}", "resources.cpu.shares");
	assert_rejected("{\"cpu\": {\"shares\": 262145}}", "resources.cpu.shares");
	assert_rejected("{\"cpu\": {\"shares\": -2}}", "resources.cpu.shares");
	assert_rejected("{\"cpu\": {\"weight\": 100, \"shares\": 1024}}", "resources.cpu.shares");
	assert_rejected("{\"cpu\": {\"weight\": 1.5}}", "resources.cpu.weight");
}
END_TEST

START_TEST(test_cpu_idle)
{
	assert_one("{\"cpu\": {\"idle\": true}}", "cpu.idle", "1");
	assert_one("{\"cpu\": {\"idle\": false}}", "cpu.idle", "0");
	assert_rejected("{\"cpu\": {\"idle\": 1}}", "resources.cpu.idle");
}
END_TEST

START_TEST(test_cpuset)
{
	struct res_plan p;

	assert_one("{\"cpu\": {\"cpus\": \"0-3,5\"}}", "cpuset.cpus", "0-3,5");
	assert_one("{\"cpu\": {\"cpus\": \"7\"}}", "cpuset.cpus", "7");
	assert_one("{\"cpu\": {\"cpus\": \"\"}}", "cpuset.cpus", "");
	assert_one("{\"cpu\": {\"mems\": \"0,1\"}}", "cpuset.mems", "0,1");
	ck_assert_int_eq(build("{\"cpu\": {\"mems\": \"0\"}}", &p, NULL, NULL), 0);
	ck_assert_str_eq(p.w[0].controller, "cpuset");
	res_plan_done(&p);
	assert_rejected("{\"cpu\": {\"cpus\": \"3-1\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \"0,\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \",0\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \"0--1\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \"a\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \"0 1\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"cpus\": \"65536\"}}", "resources.cpu.cpus");
	assert_rejected("{\"cpu\": {\"mems\": \"-1\"}}", "resources.cpu.mems");
}
END_TEST

START_TEST(test_cpuset_too_long)
{
	char text[4096];
	size_t n = (size_t)snprintf(text, sizeof(text), "{\"cpu\": {\"cpus\": \"");

	while (n < 1200)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "1,");
	snprintf(text + n, sizeof(text) - n, "1\"}}");
	assert_rejected(text, "resources.cpu.cpus");
}
END_TEST

START_TEST(test_io)
{
	struct res_plan p;

	assert_one("{\"io\": {\"weight\": 100}}", "io.weight", "default 100");
	ck_assert_int_eq(build("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0, \"rbps\": \"1048576\","
			       " \"wiops\": \"max\"}, {\"major\": 253, \"minor\": 1, \"wbps\": \"10\","
			       " \"riops\": \"20\"}]}}", &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_str_eq(plan_value(&p, "io.max", 0), "8:0 rbps=1048576 wiops=max");
	ck_assert_str_eq(plan_value(&p, "io.max", 1), "253:1 wbps=10 riops=20");
	ck_assert_str_eq(p.w[1].field, "resources.io.max[1]");
	ck_assert_str_eq(p.w[1].controller, "io");
	res_plan_done(&p);
}
END_TEST

START_TEST(test_io_rejected)
{
	assert_rejected("{\"io\": {\"weight\": 0}}", "resources.io.weight");
	assert_rejected("{\"io\": {\"weight\": 10001}}", "resources.io.weight");
	assert_rejected("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0}]}}", "resources.io.max[0]");
	assert_rejected("{\"io\": {\"max\": [{\"minor\": 0, \"rbps\": \"1\"}]}}",
			"resources.io.max[0]");
	assert_rejected("{\"io\": {\"max\": [{\"major\": -8, \"minor\": 0, \"rbps\": \"1\"}]}}",
			"resources.io.max[0].major");
	assert_rejected("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0, \"rbps\": \"0\"}]}}",
			"resources.io.max[0].rbps");
	assert_rejected("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0, \"wbps\": \"-1\"}]}}",
			"resources.io.max[0].wbps");
	assert_rejected("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0, \"rbps\": \"1\"},"
			" {\"major\": 8, \"minor\": 0, \"wbps\": \"1\"}]}}", "resources.io.max[1]");
	assert_rejected("{\"io\": {\"max\": {\"major\": 8}}}", "resources.io.max");
}
END_TEST

START_TEST(test_hugetlb)
{
	struct res_plan p;

	ck_assert_int_eq(build("{\"hugetlb\": [{\"pagesize\": \"2MB\", \"max\": \"4194304\"},"
			       " {\"pagesize\": \"1GB\", \"max\": \"max\"}, {\"pagesize\": \"64KB\","
			       " \"max\": \"0\"}]}", &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.n, 3);
	ck_assert_str_eq(plan_value(&p, "hugetlb.2MB.max", 0), "4194304");
	ck_assert_str_eq(plan_value(&p, "hugetlb.1GB.max", 0), "max");
	ck_assert_str_eq(plan_value(&p, "hugetlb.64KB.max", 0), "0");
	ck_assert_str_eq(p.w[0].controller, "hugetlb");
	ck_assert_str_eq(p.w[1].field, "resources.hugetlb[1].max");
	res_plan_done(&p);
}
END_TEST

START_TEST(test_hugetlb_rejected)
{
	static const char *const sizes[] = { "2mb", "2M", "MB", "", "2MB/../x", "2 MB", "-2MB",
					     "2TB", "2MB.max", NULL };

	for (size_t i = 0; sizes[i]; i++) {
		char text[128];

		snprintf(text, sizeof(text), "{\"hugetlb\": [{\"pagesize\": \"%s\", \"max\": \"1\"}]}",
			 sizes[i]);
		assert_rejected(text, "resources.hugetlb[0].pagesize");
	}
	assert_rejected("{\"hugetlb\": [{\"pagesize\": \"2MB\", \"max\": \"-1\"}]}",
			"resources.hugetlb[0].max");
	assert_rejected("{\"hugetlb\": [{\"pagesize\": \"2MB\"}]}", "resources.hugetlb[0].max");
	assert_rejected("{\"hugetlb\": [{\"pagesize\": \"2MB\", \"max\": \"1\"},"
			" {\"pagesize\": \"2MB\", \"max\": \"2\"}]}", "resources.hugetlb[1].max");
	assert_rejected("{\"hugetlb\": {\"pagesize\": \"2MB\"}}", "resources.hugetlb");
}
END_TEST

START_TEST(test_unified)
{
	struct res_plan p;

	ck_assert_int_eq(build("{\"unified\": {\"memory.oom.group\": \"1\\n\", \"cgroup.max.descendants\":"
			       " \"10\", \"hugetlb.2MB.rsvd.max\": \"max\", \"io.max\": \"8:0 rbps=1\","
			       " \"cpuset.cpus.partition\": \"member\", \"misc.max\": \"res_a 3\"}}",
			       &p, NULL, NULL), 0);
	ck_assert_uint_eq(p.n, 6);
	ck_assert_str_eq(plan_value(&p, "memory.oom.group", 0), "1");
	ck_assert_str_eq(p.w[0].controller, "memory");
	ck_assert_str_eq(p.w[0].field, "resources.unified[\"memory.oom.group\"]");
	ck_assert_str_eq(plan_value(&p, "cgroup.max.descendants", 0), "10");
	ck_assert_ptr_null(p.w[1].controller);
	ck_assert_str_eq(p.w[2].controller, "hugetlb");
	ck_assert_str_eq(p.w[3].controller, "io");
	res_plan_done(&p);
	assert_one("{\"unified\": {\"cgroup.max.depth\": \"max\"}}", "cgroup.max.depth", "max");
	assert_one("{\"unified\": {\"cpu.uclamp.min\": \"\"}}", "cpu.uclamp.min", "");
}
END_TEST

START_TEST(test_unified_forbidden_names)
{
	static const char *const names[] = {
		"cgroup.procs", "cgroup.threads", "cgroup.subtree_control", "cgroup.kill",
		"cgroup.type", "cgroup.freeze", "cgroup.events", "release_agent", "notify_on_release",
		"tasks", "../x", "memory/../../x", "./memory.max", ".memory.max", "memory.max\\n",
		"memory..max", "memory.", "foo.bar", "devices.allow", "memory.stat", "memory.pressure",
		"memory.events.local", "cpuset.cpus.effective", "memory.peak", "memory", "", NULL
	};

	for (size_t i = 0; names[i]; i++) {
		char text[256];

		snprintf(text, sizeof(text), "{\"unified\": {\"%s\": \"1\"}}", names[i]);
		json_object *o = json_tokener_parse(text);
		struct res_plan p = { 0 };
		char *f = NULL, *msg = NULL;

		ck_assert_ptr_nonnull(o);
		ck_assert_msg(res_plan_build(o, &p, &f, &msg) == -EINVAL, "%s accepted", names[i]);
		ck_assert_ptr_nonnull(msg);
		ck_assert_int_eq(strncmp(f, "resources.unified[\"", 19), 0);
		ck_assert_uint_eq(p.n, 0);
		free(f);
		free(msg);
		json_object_put(o);
	}
}
END_TEST

START_TEST(test_unified_bad_values)
{
	char big[5000];

	assert_rejected("{\"unified\": {\"memory.max\": \"1\\n2\"}}", "resources.unified[\"memory.max\"]");
	assert_rejected("{\"unified\": {\"memory.max\": \"1\\n\\n\"}}",
			"resources.unified[\"memory.max\"]");
	assert_rejected("{\"unified\": {\"memory.max\": \"1\\u00002\"}}",
			"resources.unified[\"memory.max\"]");
	assert_rejected("{\"unified\": {\"memory.max\": 1}}", "resources.unified[\"memory.max\"]");
	assert_rejected("{\"unified\": [\"memory.max\"]}", "resources.unified");
	memcpy(big, "{\"unified\": {\"memory.max\": \"", 28);
	memset(big + 28, '1', 4097);
	memcpy(big + 28 + 4097, "\"}}", 4);
	assert_rejected(big, "resources.unified[\"memory.max\"]");
	/* The same file set twice, typed and raw. */
	assert_rejected("{\"memory\": {\"max\": \"1\"}, \"unified\": {\"memory.max\": \"2\"}}",
			"resources.unified[\"memory.max\"]");
	assert_rejected("{\"io\": {\"weight\": 10}, \"unified\": {\"io.weight\": \"20\"}}",
			"resources.unified[\"io.weight\"]");
}
END_TEST

START_TEST(test_unknown_keys)
{
	assert_rejected("{\"bogus\": 1}", "resources.bogus");
	assert_rejected("{\"memory\": {\"limit\": \"1\"}}", "resources.memory.limit");
	assert_rejected("{\"cpu\": {\"cpu_quota\": \"1\"}}", "resources.cpu.cpu_quota");
	assert_rejected("{\"io\": {\"bfq\": 1}}", "resources.io.bfq");
	assert_rejected("{\"io\": {\"max\": [{\"major\": 8, \"minor\": 0, \"rbps\": \"1\", \"x\": 1}]}}",
			"resources.io.max[0].x");
	assert_rejected("{\"hugetlb\": [{\"pagesize\": \"2MB\", \"max\": \"1\", \"rsvd\": \"1\"}]}",
			"resources.hugetlb[0].rsvd");
}
END_TEST

START_TEST(test_not_an_object)
{
	struct res_plan p = { 0 };
	char *field = NULL, *msg = NULL;

	ck_assert_int_eq(res_plan_build(NULL, &p, &field, &msg), -EINVAL);
	ck_assert_str_eq(field, "resources");
	free(field);
	free(msg);
	assert_rejected("[]", "resources");
	assert_none("{}");
	/* Nothing is written on failure, and output is optional. */
	ck_assert_int_eq(build("{\"pids_max\": \"10\", \"cpu\": {\"weight\": 0}}", &p, NULL, NULL),
			 -EINVAL);
	ck_assert_uint_eq(p.n, 0);
}
END_TEST

START_TEST(test_check_controllers)
{
	char *all[] = { "cpu", "io", "memory", NULL }, *mem[] = { "memory", NULL };
	struct res_plan p;
	const char *c = NULL;

	ck_assert_int_eq(build("{\"memory\": {\"max\": \"1\"}, \"cpu\": {\"weight\": 5},"
			       " \"unified\": {\"cgroup.max.depth\": \"3\"}}", &p, NULL, NULL), 0);
	ck_assert_int_eq(res_plan_check_controllers(&p, all, &c), 0);
	ck_assert_int_eq(res_plan_check_controllers(&p, mem, &c), -EOPNOTSUPP);
	ck_assert_str_eq(c, "cpu");
	ck_assert_int_eq(res_plan_check_controllers(&p, NULL, NULL), -EOPNOTSUPP);
	res_plan_done(&p);
	/* cgroup.* core files need no controller; cpuset is not cpu. */
	ck_assert_int_eq(build("{\"unified\": {\"cgroup.max.depth\": \"3\"}}", &p, NULL, NULL), 0);
	ck_assert_int_eq(res_plan_check_controllers(&p, NULL, &c), 0);
	res_plan_done(&p);
	ck_assert_int_eq(build("{\"cpu\": {\"cpus\": \"0\"}}", &p, NULL, NULL), 0);
	ck_assert_int_eq(res_plan_check_controllers(&p, all, &c), -EOPNOTSUPP);
	ck_assert_str_eq(c, "cpuset");
	res_plan_done(&p);
	res_plan_done(&p);
	res_plan_done(NULL);
}
END_TEST

START_TEST(test_to_json)
{
	struct res_plan p;
	json_object *o, *v;

	ck_assert_int_eq(build("{\"memory\": {\"max\": \"100\"}, \"io\": {\"max\": [{\"major\": 8,"
			       " \"minor\": 0, \"rbps\": \"1\"}, {\"major\": 8, \"minor\": 16,"
			       " \"rbps\": \"2\"}]}}", &p, NULL, NULL), 0);
	o = res_plan_to_json(&p);
	ck_assert_ptr_nonnull(o);
	ck_assert_int_eq(json_object_object_length(o), 2);
	ck_assert(json_object_object_get_ex(o, "memory.max", &v));
	ck_assert_str_eq(json_object_get_string(v), "100");
	ck_assert(json_object_object_get_ex(o, "io.max", &v));
	ck_assert_str_eq(json_object_get_string(v), "8:0 rbps=1\n8:16 rbps=2");
	json_object_put(o);
	res_plan_done(&p);
}
END_TEST

/* Assert res_restore_values(file, value, old) is exactly the values given (NULL-terminated). */
static void assert_restore(const char *file, const char *value, const char *old, const char *v0,
			   const char *v1)
{
	char **v = NULL;

	ck_assert_int_eq(res_restore_values(file, value, old, &v), 0);
	if (v0)
		ck_assert_str_eq(v[0], v0);
	else
		ck_assert_ptr_null(v[0]);
	if (v0 && v1)
		ck_assert_str_eq(v[1], v1);
	else if (v0)
		ck_assert_ptr_null(v[1]);
	cgfs_strv_free(v);
}

START_TEST(test_restore_values)
{
	assert_restore("memory.max", "100", "max\n", "max\n", NULL);
	assert_restore("cpu.max", "50000 100000", "max 100000\n", "max 100000\n", NULL);
	assert_restore("cpuset.cpus", "0-1", "", "\n", NULL);
	assert_restore("io.max", "8:0 rbps=1", "", "8:0 rbps=max wbps=max riops=max wiops=max",
		       NULL);
	assert_restore("io.max", "8:16 rbps=1",
		       "8:0 rbps=5 wbps=max riops=max wiops=max\n8:16 rbps=max wbps=7 riops=max wiops=max\n",
		       "8:16 rbps=max wbps=max riops=max wiops=max",
		       "8:16 rbps=max wbps=7 riops=max wiops=max");
	assert_restore("io.max", "8:1 rbps=1", "8:16 rbps=2 wbps=max riops=max wiops=max\n",
		       "8:1 rbps=max wbps=max riops=max wiops=max", NULL);
	assert_restore("io.weight", "default 200", "default 100\n8:0 50\n", "default 100", NULL);
	assert_restore("io.weight", "300", "default 100\n", "default 100", NULL);
	assert_restore("io.weight", "8:0 300", "default 100\n8:0 50\n", "8:0 50", NULL);
	assert_restore("io.weight", "8:16 300", "default 100\n8:0 50\n", "8:16 default", NULL);
	assert_restore("misc.max", "res_a 3", "res_a max\nres_b 5\n", "res_a max", NULL);
	assert_restore("rdma.max", "mlx4_0 hca_handle=2", "",
		       "mlx4_0 hca_handle=max hca_object=max", NULL);
}
END_TEST

/* The plan the apply tests use: memory, pids, cpu, in that order. */
static void apply_plan(struct res_plan *p)
{
	ck_assert_int_eq(build("{\"memory\": {\"max\": \"1048576\", \"high\": \"524288\"},"
			       " \"pids_max\": \"64\", \"cpu\": {\"quota\": \"50000\"}}", p, NULL, NULL),
			 0);
	ck_assert_uint_eq(p->n, 4);
}

START_TEST(test_apply)
{
	struct res_plan p;
	char *field = NULL;
	int err = 1;

	put_file("memory.max", "");
	put_file("memory.high", "");
	put_file("pids.max", "");
	put_file("cpu.max", "");
	apply_plan(&p);
	ck_assert_int_eq(res_plan_apply(rootfd, "cg", &p, &field, &err), 0);
	ck_assert_ptr_null(field);
	assert_first_line("memory.max", "1048576");
	assert_first_line("memory.high", "524288");
	assert_first_line("pids.max", "64");
	assert_first_line("cpu.max", "50000 100000");
	res_plan_done(&p);
}
END_TEST

START_TEST(test_apply_root)
{
	struct res_plan p;
	int fd = openat(rootfd, "pids.max", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(build("{\"pids_max\": \"7\"}", &p, NULL, NULL), 0);
	ck_assert_int_eq(res_plan_apply(rootfd, "", &p, NULL, NULL), 0);
	ck_assert_int_eq(res_plan_apply(rootfd, "nope", &p, NULL, NULL), -ENOENT);
	res_plan_done(&p);
}
END_TEST

/* An empty value reaches the file as the empty line: a write(2) of no bytes is a no-op. */
START_TEST(test_apply_empty_value)
{
	struct res_plan p;

	put_file("cpuset.cpus", "0-1\n");
	put_file("cgroup.max.depth", "max\n");
	ck_assert_int_eq(build("{\"cpu\": {\"cpus\": \"\"}, \"unified\": {\"cgroup.max.depth\": \"\"}}",
			       &p, NULL, NULL),
			 0);
	ck_assert_uint_eq(p.n, 2);
	ck_assert_int_eq(res_plan_apply(rootfd, "cg", &p, NULL, NULL), 0);
	assert_first_line("cpuset.cpus", "");
	assert_first_line("cgroup.max.depth", "");
	res_plan_done(&p);
}
END_TEST

/* Apply the test plan over the cg files, where cpu.max is broken by the caller. */
static void assert_rolled_back(int want)
{
	struct res_plan p;
	char *field = NULL;
	int err = 1;

	apply_plan(&p);
	ck_assert_int_eq(res_plan_apply(rootfd, "cg", &p, &field, &err), want);
	ck_assert_str_eq(field, "resources.cpu.quota");
	ck_assert_int_eq(err, 0);
	assert_first_line("memory.max", "max");
	assert_first_line("memory.high", "max");
	assert_first_line("pids.max", "max");
	free(field);
	res_plan_done(&p);
}

START_TEST(test_apply_rollback_eisdir)
{
	put_file("memory.max", "max\n");
	put_file("memory.high", "max\n");
	put_file("pids.max", "max\n");
	ck_assert_int_eq(mkdirat(rootfd, "cg/cpu.max", 0755), 0);
	assert_rolled_back(-EISDIR);
}
END_TEST

START_TEST(test_apply_rollback_enoent)
{
	put_file("memory.max", "max\n");
	put_file("memory.high", "max\n");
	put_file("pids.max", "max\n");
	assert_rolled_back(-ENOENT);
}
END_TEST

START_TEST(test_apply_rollback_symlink)
{
	struct res_plan p;
	char *field = NULL;
	int err = 0;

	put_file("memory.max", "max\n");
	put_file("memory.high", "max\n");
	/* A symlink planted as an interface file is never followed: the apply fails there. */
	ck_assert_int_eq(build("{\"memory\": {\"max\": \"1048576\"}, \"unified\": {\"memory.high\":"
			       " \"5\", \"pids.max\": \"6\", \"cpu.max\": \"1000\"}}", &p, NULL, NULL),
			 0);
	put_file("pids.max", "max\n");
	ck_assert_int_eq(symlinkat("/nonexistent", rootfd, "cg/cpu.max"), 0);
	ck_assert_int_eq(res_plan_apply(rootfd, "cg", &p, &field, &err), -ELOOP);
	ck_assert_str_eq(field, "resources.unified[\"cpu.max\"]");
	ck_assert_int_eq(err, 0);
	assert_first_line("memory.max", "max");
	assert_first_line("memory.high", "max");
	assert_first_line("pids.max", "max");
	free(field);
	res_plan_done(&p);
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

/* The resources suite. */
static Suite *resources_suite(void)
{
	Suite *s = suite_create("resources");

	add_tcase(s, "memory", test_memory);
	add_tcase(s, "memory_rejected", test_memory_rejected);
	add_tcase(s, "pids", test_pids);
	add_tcase(s, "cpu_max", test_cpu_max);
	add_tcase(s, "cpu_max_rejected", test_cpu_max_rejected);
	add_tcase(s, "cpu_weight_shares", test_cpu_weight_shares);
	add_tcase(s, "cpu_weight_rejected", test_cpu_weight_rejected);
	add_tcase(s, "cpu_idle", test_cpu_idle);
	add_tcase(s, "cpuset", test_cpuset);
	add_tcase(s, "cpuset_too_long", test_cpuset_too_long);
	add_tcase(s, "io", test_io);
	add_tcase(s, "io_rejected", test_io_rejected);
	add_tcase(s, "hugetlb", test_hugetlb);
	add_tcase(s, "hugetlb_rejected", test_hugetlb_rejected);
	add_tcase(s, "unified", test_unified);
	add_tcase(s, "unified_forbidden_names", test_unified_forbidden_names);
	add_tcase(s, "unified_bad_values", test_unified_bad_values);
	add_tcase(s, "unknown_keys", test_unknown_keys);
	add_tcase(s, "not_an_object", test_not_an_object);
	add_tcase(s, "check_controllers", test_check_controllers);
	add_tcase(s, "to_json", test_to_json);
	add_tcase(s, "restore_values", test_restore_values);
	add_tcase(s, "apply", test_apply);
	add_tcase(s, "apply_root", test_apply_root);
	add_tcase(s, "apply_empty_value", test_apply_empty_value);
	add_tcase(s, "apply_rollback_eisdir", test_apply_rollback_eisdir);
	add_tcase(s, "apply_rollback_enoent", test_apply_rollback_enoent);
	add_tcase(s, "apply_rollback_symlink", test_apply_rollback_symlink);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(resources_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
