// SPDX-License-Identifier: MIT
/* test_discover.c: Check suite for daemon/discover.c (mountinfo, /proc/self/cgroup, joins). */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../daemon/discover.h"

/* A Debian 12 / Fedora style pure cgroup v2 host. */
static const char pure_v2[] =
	"22 28 0:20 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw\n"
	"26 22 0:24 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 "
	"rw,nsdelegate,memory_recursiveprot\n"
	"28 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro\n";

/* The hybrid layout of the build machines (grep cgroup /proc/self/mountinfo). */
static const char hybrid[] =
	"31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
	"32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
	"33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct\n"
	"34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset\n"
	"35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
	"36 31 0:33 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices\n"
	"37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer\n"
	"38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio\n"
	"39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids\n"
	"40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd\n"
	"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";

/* The matching /proc/self/cgroup of the build machines. */
static const char hybrid_cgroup[] = "9:name=systemd:/\n8:pids:/\n7:blkio:/\n6:freezer:/\n"
				    "5:devices:/\n4:memory:/process_api/d681203b\n3:cpuset:/\n"
				    "2:cpuacct:/\n1:cpu:/\n0::/user.slice/cgctld.service\n";

/* Parse text expecting success; check mount, root and hybrid. */
static void expect_mount(const char *text, const char *mount, const char *root, bool hyb)
{
	char *m = NULL, *r = NULL;
	bool h = !hyb;

	ck_assert_int_eq(discover_parse_mountinfo(text, &m, &r, &h), 0);
	ck_assert_str_eq(m, mount);
	ck_assert_str_eq(r, root);
	ck_assert(h == hyb);
	free(m);
	free(r);
}

/* Join expecting success with result want. */
static void expect_join(const char *mount, const char *root, const char *own, const char *want)
{
	char *p = NULL;

	ck_assert_int_eq(discover_join(mount, root, own, &p), 0);
	ck_assert_str_eq(p, want);
	free(p);
}

START_TEST(test_pure_v2)
{
	expect_mount(pure_v2, "/sys/fs/cgroup", "/", false);
}
END_TEST

START_TEST(test_hybrid)
{
	expect_mount(hybrid, "/sys/fs/cgroup/unified", "/", true);
}
END_TEST

START_TEST(test_named_v1_is_not_hybrid)
{
	/* A v1 mount without a controller (systemd's name=systemd) leaves the host pure v2. */
	static const char text[] =
		"26 22 0:24 / /sys/fs/cgroup rw shared:9 - cgroup2 cgroup2 rw\n"
		"27 26 0:25 / /run/systemd/compat rw - cgroup cgroup rw,xattr,name=systemd\n"
		"28 26 0:26 / /x rw - cgroup none rw,none,name=foo,release_agent=/bin/true\n";

	expect_mount(text, "/sys/fs/cgroup", "/", false);
}
END_TEST

START_TEST(test_preference)
{
	/* /sys/fs/cgroup/unified beats an earlier mount elsewhere; the first "elsewhere" wins otherwise. */
	static const char unified[] =
		"50 1 0:40 / /mnt/first rw - cgroup2 cgroup2 rw\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n";
	static const char others[] = "50 1 0:40 /sub /mnt/first rw - cgroup2 cgroup2 rw\n"
				     "51 1 0:40 / /mnt/second rw - cgroup2 cgroup2 rw\n";
	static const char both[] = "41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
				   "26 22 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";

	expect_mount(unified, "/sys/fs/cgroup/unified", "/", false);
	expect_mount(others, "/mnt/first", "/sub", false);
	expect_mount(both, "/sys/fs/cgroup", "/", false);
}
END_TEST

START_TEST(test_optional_fields)
{
	static const char none[] = "26 22 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	static const char many[] =
		"26 22 0:24 / /sys/fs/cgroup rw shared:9 master:3 propagate_from:2 unbindable - "
		"cgroup2 cgroup2 rw\n";

	expect_mount(none, "/sys/fs/cgroup", "/", false);
	expect_mount(many, "/sys/fs/cgroup", "/", false);
}
END_TEST

START_TEST(test_escaped)
{
	static const char text[] =
		"60 1 0:50 /a\\040b /tmp/my\\040cg\\011x\\134y\\012z rw - cgroup2 cgroup2 rw\n";

	expect_mount(text, "/tmp/my cg\tx\\y\nz", "/a b", false);
}
END_TEST

START_TEST(test_no_cgroup2)
{
	char *m = NULL, *r = NULL;
	bool h = false;
	static const char v1_only[] = "32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n";

	ck_assert_int_eq(discover_parse_mountinfo(v1_only, &m, &r, &h), -ENOENT);
	ck_assert_int_eq(discover_parse_mountinfo("", &m, &r, &h), -ENOENT);
	ck_assert_ptr_null(m);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(discover_parse_mountinfo(NULL, &m, &r, &h), -EINVAL);
}
END_TEST

START_TEST(test_malformed_lines_skipped)
{
	static const char text[] = "garbage\n"
				   "1 2 3 4 5 6 - cgroup2\n"
				   "26 22 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n"
				   "\n";

	expect_mount(text, "/sys/fs/cgroup", "/", false);
}
END_TEST

START_TEST(test_proc_cgroup)
{
	char *p = NULL;

	ck_assert_int_eq(discover_parse_proc_cgroup("0::/user.slice/a.service\n", &p), 0);
	ck_assert_str_eq(p, "/user.slice/a.service");
	free(p);
	ck_assert_int_eq(discover_parse_proc_cgroup(hybrid_cgroup, &p), 0);
	ck_assert_str_eq(p, "/user.slice/cgctld.service");
	free(p);
	ck_assert_int_eq(discover_parse_proc_cgroup("0::/", &p), 0);
	ck_assert_str_eq(p, "/");
	free(p);
	p = NULL;
	ck_assert_int_eq(discover_parse_proc_cgroup("0::/a/b (deleted)\n", &p), -EIDRM);
	ck_assert_int_eq(discover_parse_proc_cgroup("1:cpu:/\n2:memory:/x\n", &p), -ENOENT);
	ck_assert_int_eq(discover_parse_proc_cgroup("", &p), -ENOENT);
	ck_assert_int_eq(discover_parse_proc_cgroup("0::\n", &p), -EBADMSG);
	ck_assert_int_eq(discover_parse_proc_cgroup("0::relative\n", &p), -EBADMSG);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_cgroupns_root)
{
	/* Inside a cgroup namespace the mount root and the own cgroup are both "/". */
	static const char text[] = "700 699 0:38 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n";
	char *m = NULL, *r = NULL, *own = NULL;

	ck_assert_int_eq(discover_parse_mountinfo(text, &m, &r, NULL), 0);
	ck_assert_int_eq(discover_parse_proc_cgroup("0::/\n", &own), 0);
	expect_join(m, r, own, "/sys/fs/cgroup");
	free(m);
	free(r);
	free(own);
}
END_TEST

START_TEST(test_join)
{
	char *p = NULL;

	expect_join("/sys/fs/cgroup", "/", "/user.slice/x", "/sys/fs/cgroup/user.slice/x");
	expect_join("/sys/fs/cgroup/unified", "/", "/", "/sys/fs/cgroup/unified");
	expect_join("/mnt", "/a", "/a/b/c", "/mnt/b/c");
	expect_join("/mnt", "/a", "/a", "/mnt");
	expect_join("/mnt", "/a/", "/a/b", "/mnt/b");
	expect_join("/", "/", "/x", "/x");
	ck_assert_int_eq(discover_join("/mnt", "/a", "/b", &p), -EXDEV);
	/* Whole components: "/ab" is not below "/a". */
	ck_assert_int_eq(discover_join("/mnt", "/a", "/ab", &p), -EXDEV);
	ck_assert_int_eq(discover_join("/mnt", "/a", "/ab/c", &p), -EXDEV);
	/* Outside a cgroup namespace the kernel shows "/..". */
	ck_assert_int_eq(discover_join("/mnt", "/", "/..", &p), -EXDEV);
	ck_assert_int_eq(discover_join("/mnt", "/a", "/a/../b", &p), -EXDEV);
	ck_assert_int_eq(discover_join("/mnt", "/a", "relative", &p), -EINVAL);
	ck_assert_ptr_null(p);
}
END_TEST

START_TEST(test_self)
{
	struct discovery d = {};
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool have_v2 = false;
	int r;

	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		have_v2 |= strstr(line, " - cgroup2 ") != NULL;
	fclose(f);
	r = discover_self(&d);
	if (!have_v2) {
		ck_assert_int_eq(r, -ENOENT);
		return;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_ptr_nonnull(d.mount);
	ck_assert_int_eq(d.mount[0], '/');
	ck_assert_int_eq(d.own_cgroup[0], '/');
	ck_assert_int_eq(strncmp(d.own_path, d.mount, strlen(d.mount)), 0);
	discovery_done(&d);
	ck_assert_ptr_null(d.mount);
	discovery_done(&d);
}
END_TEST

/* Add a one-test case. */
static void add_tcase(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/* The discover suite. */
static Suite *discover_suite(void)
{
	Suite *s = suite_create("discover");

	add_tcase(s, "pure_v2", test_pure_v2);
	add_tcase(s, "hybrid", test_hybrid);
	add_tcase(s, "named_v1_is_not_hybrid", test_named_v1_is_not_hybrid);
	add_tcase(s, "preference", test_preference);
	add_tcase(s, "optional_fields", test_optional_fields);
	add_tcase(s, "escaped", test_escaped);
	add_tcase(s, "no_cgroup2", test_no_cgroup2);
	add_tcase(s, "malformed_lines_skipped", test_malformed_lines_skipped);
	add_tcase(s, "proc_cgroup", test_proc_cgroup);
	add_tcase(s, "cgroupns_root", test_cgroupns_root);
	add_tcase(s, "join", test_join);
	add_tcase(s, "self", test_self);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(discover_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
