// SPDX-License-Identifier: MIT
/* test_cgroupfs.c: Check suite for daemon/cgroupfs.c on a plain directory tree standing in for a cgroup. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/cgroupfs.h"
#include "testutil.h"

static char base[] = "/tmp/cgfs-test.XXXXXX";
static char root_path[64];
static char outside_path[64];
static int rootfd = -1;
static int outsidefd = -1;

/* Fresh tree: base/root (the "cgroup" root) and base/outside (what must never be reached). */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "cgfs-test");
	ck_assert_int_lt(snprintf(root_path, sizeof(root_path), "%s/root", base), sizeof(root_path));
	ck_assert_int_lt(snprintf(outside_path, sizeof(outside_path), "%s/outside", base),
			 sizeof(outside_path));
	ck_assert_int_eq(mkdir(root_path, 0755), 0);
	ck_assert_int_eq(mkdir(outside_path, 0755), 0);
	rootfd = open(root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	outsidefd = open(outside_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
	ck_assert_int_ge(outsidefd, 0);
	cgfs_force_walk(false);
}

/* Remove the tree. */
static void teardown(void)
{
	close(rootfd);
	close(outsidefd);
	tu_rm_tree(base);
}

/* Create file relpath under dirfd with content. */
static void put_file(int dirfd, const char *relpath, const char *content)
{
	int fd = openat(dirfd, relpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
}

START_TEST(test_mkdir_exists)
{
	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a/b", 0755), 0);
	ck_assert_int_eq(cgfs_exists(rootfd, "a"), 1);
	ck_assert_int_eq(cgfs_exists(rootfd, "a/b"), 1);
	ck_assert_int_eq(cgfs_exists(rootfd, ""), 1);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a", 0755), -EEXIST);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "x/y", 0755), -ENOENT);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "", 0755), -EINVAL);
	ck_assert_int_eq(cgfs_exists(rootfd, "nope"), 0);
	ck_assert_int_eq(cgfs_exists(rootfd, "nope/deeper"), 0);
	put_file(rootfd, "file", "x");
	ck_assert_int_eq(cgfs_exists(rootfd, "file"), -ENOTDIR);
	ck_assert_int_eq(faccessat(rootfd, "a/b", F_OK, 0), 0);
}
END_TEST

START_TEST(test_rmdir)
{
	bool existed = false;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a", 0755), 0);
	ck_assert_int_eq(cgfs_rmdir(rootfd, "a", &existed), 0);
	ck_assert(existed);
	ck_assert_int_eq(cgfs_exists(rootfd, "a"), 0);
	/* ENOENT is success: the directory is gone, this call did not remove it. */
	ck_assert_int_eq(cgfs_rmdir(rootfd, "a", &existed), 0);
	ck_assert(!existed);
	existed = true;
	ck_assert_int_eq(cgfs_rmdir(rootfd, "missing/parent", &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(cgfs_rmdir(rootfd, "a", NULL), 0);
	ck_assert_int_eq(cgfs_rmdir(rootfd, "", NULL), -EINVAL);
}
END_TEST

START_TEST(test_rmdir_not_empty)
{
	bool existed = true;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a/child", 0755), 0);
	/* A stand-in tree says ENOTEMPTY where cgroupfs says EBUSY; both are reported as -EBUSY. */
	ck_assert_int_eq(cgfs_rmdir(rootfd, "a", &existed), -EBUSY);
	ck_assert(existed); /* not written on failure */
	ck_assert_int_eq(cgfs_exists(rootfd, "a/child"), 1);
}
END_TEST

START_TEST(test_rmdir_resolve_erofs)
{
	bool existed = true;

	ck_assert_int_eq(cgfs_mkdir(rootfd, "there", 0755), 0);
	/* runc 4518: EROFS for a directory that is not there means it is gone. */
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "missing", EROFS, &existed), 0);
	ck_assert(!existed);
	existed = true;
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "missing/deeper", EPERM, &existed), 0);
	ck_assert(!existed);
	existed = true;
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "missing", EACCES, &existed), 0);
	ck_assert(!existed);
	existed = false;
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", EROFS, &existed), -EROFS);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", EACCES, &existed), -EACCES);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", EPERM, &existed), -EPERM);
	ck_assert(!existed); /* untouched on failure */
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", 0, &existed), 0);
	ck_assert(existed);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "missing", ENOENT, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", EBUSY, NULL), -EBUSY);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", ENOTEMPTY, NULL), -EBUSY);
	ck_assert_int_eq(cgfs_rmdir_resolve(rootfd, "there", EIO, NULL), -EIO);
}
END_TEST

START_TEST(test_escape_paths)
{
	static const char *const bad[] = {
		"../x", "/etc", "a/../../x", "..", ".", "a/./b", "a//b", "a/", "a/..",
	};

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "a", 0755), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(cgfs_open(rootfd, bad[i], O_RDONLY, 0), -EINVAL);
		ck_assert_int_eq(cgfs_mkdir(rootfd, bad[i], 0755), -EINVAL);
		ck_assert_int_eq(cgfs_rmdir(rootfd, bad[i], NULL), -EINVAL);
		ck_assert_int_eq(cgfs_exists(rootfd, bad[i]), -EINVAL);
		ck_assert_int_eq(cgfs_write(rootfd, bad[i], "1"), -EINVAL);
	}
	ck_assert_int_eq(cgfs_open(rootfd, NULL, O_RDONLY, 0), -EINVAL);
	ck_assert_int_eq(faccessat(outsidefd, "x", F_OK, 0), -1);
}
END_TEST

START_TEST(test_escape_symlink)
{
	char *text = NULL;

	cgfs_force_walk(_i);
	put_file(outsidefd, "secret", "outside\n");
	ck_assert_int_eq(symlinkat(outside_path, rootfd, "link"), 0);
	ck_assert_int_eq(symlinkat("../outside", rootfd, "rel"), 0);
	ck_assert_int_eq(symlinkat("../outside/secret", rootfd, "flink"), 0);
	ck_assert_int_eq(cgfs_open(rootfd, "link/secret", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(cgfs_open(rootfd, "rel/secret", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(cgfs_open_dir(rootfd, "link"), -ELOOP);
	ck_assert_int_eq(cgfs_open(rootfd, "link", O_PATH, 0), -ELOOP);
	ck_assert_int_eq(cgfs_read(rootfd, "flink", 4096, &text), -ELOOP);
	ck_assert_int_eq(cgfs_write(rootfd, "flink", "pwned"), -ELOOP);
	ck_assert_int_eq(cgfs_write(rootfd, "link/secret", "pwned"), -ELOOP);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "link/new", 0755), -ELOOP);
	ck_assert_int_eq(cgfs_rmdir(rootfd, "link/new", NULL), -ELOOP);
	ck_assert_int_eq(cgfs_exists(rootfd, "link"), -ELOOP);
	ck_assert_int_eq(faccessat(outsidefd, "new", F_OK, 0), -1);
	ck_assert_ptr_null(text);
	/* The outside file is untouched. */
	ck_assert_int_eq(cgfs_read(outsidefd, "secret", 4096, &text), 0);
	ck_assert_str_eq(text, "outside\n");
	free(text);
}
END_TEST

START_TEST(test_read_write)
{
	char *text = NULL;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	put_file(rootfd, "g/memory.max", "max\n");
	ck_assert_int_eq(cgfs_write(rootfd, "g/memory.max", "1048576\n"), 0);
	ck_assert_int_eq(cgfs_read(rootfd, "g/memory.max", 4096, &text), 0);
	ck_assert_str_eq(text, "1048576\n");
	free(text);
	/* No O_CREAT: interface files must exist. */
	ck_assert_int_eq(cgfs_write(rootfd, "g/pids.max", "10"), -ENOENT);
	ck_assert_int_eq(faccessat(rootfd, "g/pids.max", F_OK, 0), -1);
	ck_assert_int_eq(cgfs_read(rootfd, "g/nope", 4096, &text), -ENOENT);
	ck_assert_int_eq(cgfs_write(rootfd, "g/memory.max", NULL), -EINVAL);
}
END_TEST

/* An attribute of a cgroup: of rootfd itself for "", never reached through a path that escapes. */
START_TEST(test_attr)
{
	char *text = NULL;
	int fd;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	/* Empty: a plain file is not truncated by the write as an interface file is replaced. */
	put_file(rootfd, "g/pids.max", "");
	put_file(rootfd, "pids.max", "7\n");
	put_file(outsidefd, "pids.max", "outside\n");
	ck_assert_int_eq(cgfs_write_attr(rootfd, "g", "pids.max", "10"), 0);
	ck_assert_int_eq(cgfs_read_attr(rootfd, "g", "pids.max", 64, &text), 0);
	ck_assert_str_eq(text, "10");
	free(text);
	ck_assert_int_eq(cgfs_read_attr(rootfd, "", "pids.max", 64, &text), 0);
	ck_assert_str_eq(text, "7\n");
	free(text);
	fd = cgfs_open_attr(rootfd, "g", "pids.max", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(cgfs_read_attr(rootfd, "g", "nope", 64, &text), -ENOENT);
	ck_assert_int_eq(cgfs_write_attr(rootfd, "g", "nope", "1"), -ENOENT);
	ck_assert_int_lt(cgfs_read_attr(rootfd, "..", "outside/pids.max", 64, &text), 0);
	ck_assert_int_lt(cgfs_write_attr(rootfd, "g/..", "../outside/pids.max", "1"), 0);
	ck_assert_int_lt(cgfs_open_attr(rootfd, "..", "outside/pids.max", O_RDONLY), 0);
	ck_assert_int_eq(cgfs_read_attr(rootfd, NULL, "pids.max", 64, &text), -EINVAL);
}
END_TEST

START_TEST(test_read_limit)
{
	char *text = NULL, big[100001];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_file(rootfd, "big", big);
	ck_assert_int_eq(cgfs_read(rootfd, "big", 100000, &text), 0);
	ck_assert_uint_eq(strlen(text), 100000);
	free(text);
	text = NULL;
	ck_assert_int_eq(cgfs_read(rootfd, "big", 99999, &text), -EFBIG);
	ck_assert_ptr_null(text);
	put_file(rootfd, "empty", "");
	ck_assert_int_eq(cgfs_read(rootfd, "empty", 0, &text), 0);
	ck_assert_str_eq(text, "");
	free(text);
}
END_TEST

START_TEST(test_events)
{
	bool populated = false, frozen = true;

	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	put_file(rootfd, "g/cgroup.events", "populated 1\nfrozen 0\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, &frozen), 0);
	ck_assert(populated);
	ck_assert(!frozen);
	put_file(rootfd, "g/cgroup.events", "frozen 1\npopulated 0\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, &frozen), 0);
	ck_assert(!populated);
	ck_assert(frozen);
	/* Older kernels have no "frozen" key. */
	put_file(rootfd, "g/cgroup.events", "populated 1\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, &frozen), 0);
	ck_assert(populated);
	ck_assert(!frozen);
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", NULL, NULL), 0);
	put_file(rootfd, "cgroup.events", "populated 0\nfrozen 1");
	ck_assert_int_eq(cgfs_read_events(rootfd, "", &populated, &frozen), 0);
	ck_assert(!populated);
	ck_assert(frozen);
}
END_TEST

START_TEST(test_events_malformed)
{
	bool populated = false;

	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), -ENOENT);
	put_file(rootfd, "g/cgroup.events", "frozen 0\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), -EBADMSG);
	put_file(rootfd, "g/cgroup.events", "populated 2\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), -EBADMSG);
	put_file(rootfd, "g/cgroup.events", "populated\n");
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), -EBADMSG);
}
END_TEST

/* cgroup.events is read in one go: a file too long for that is refused, not half-parsed. */
START_TEST(test_events_too_long)
{
	char text[400];
	bool populated = true;

	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	memset(text, 'x', sizeof(text));
	memcpy(text, "populated 0\nfrozen 0\n#", 22);
	text[sizeof(text) - 2] = '\n';
	text[sizeof(text) - 1] = '\0';
	put_file(rootfd, "g/cgroup.events", text);
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), -EBADMSG);
	ck_assert(populated);
	/* Just under the limit still parses. */
	text[200] = '\n';
	text[201] = '\0';
	put_file(rootfd, "g/cgroup.events", text);
	ck_assert_int_eq(cgfs_read_events(rootfd, "g", &populated, NULL), 0);
	ck_assert(!populated);
}
END_TEST

START_TEST(test_list_children)
{
	char **v = NULL;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g", 0755), 0);
	ck_assert_int_eq(cgfs_list_children(rootfd, "g", &v), 0);
	ck_assert_ptr_null(v[0]);
	v = cgfs_strv_free(v);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g/c", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g/a", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g/b", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "g/a/nested", 0755), 0);
	put_file(rootfd, "g/cgroup.procs", "");
	put_file(rootfd, "g/memory.max", "max\n");
	ck_assert_int_eq(symlinkat(outside_path, rootfd, "g/link"), 0);
	ck_assert_int_eq(cgfs_list_children(rootfd, "g", &v), 0);
	ck_assert_str_eq(v[0], "a");
	ck_assert_str_eq(v[1], "b");
	ck_assert_str_eq(v[2], "c");
	ck_assert_ptr_null(v[3]);
	v = cgfs_strv_free(v);
	ck_assert_ptr_null(v);
	ck_assert_int_eq(cgfs_list_children(rootfd, "missing", &v), -ENOENT);
	ck_assert_int_eq(cgfs_list_children(rootfd, "g/link", &v), -ELOOP);
}
END_TEST

START_TEST(test_parse_controllers)
{
	char **v = NULL;

	ck_assert_int_eq(cgfs_parse_controllers("cpu io memory\n", &v), 0);
	ck_assert_str_eq(v[0], "cpu");
	ck_assert_str_eq(v[1], "io");
	ck_assert_str_eq(v[2], "memory");
	ck_assert_ptr_null(v[3]);
	cgfs_strv_free(v);
	ck_assert_int_eq(cgfs_parse_controllers("", &v), 0);
	ck_assert_ptr_null(v[0]);
	cgfs_strv_free(v);
	ck_assert_int_eq(cgfs_parse_controllers("\n", &v), 0);
	ck_assert_ptr_null(v[0]);
	cgfs_strv_free(v);
	ck_assert_int_eq(cgfs_parse_controllers("  hugetlb   pids ", &v), 0);
	ck_assert_str_eq(v[0], "hugetlb");
	ck_assert_str_eq(v[1], "pids");
	ck_assert_ptr_null(v[2]);
	cgfs_strv_free(v);
	ck_assert_ptr_null(cgfs_strv_free(NULL));
}
END_TEST

/* Handed over: the directory and the kernel's delegatable files change owner; limits and a link's target do not. */
START_TEST(test_hand_over)
{
	struct stat st;
	int fd;

	/* Giving a file to another uid takes root (make check runs as root). */
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(cgfs_mkdir(rootfd, "d", 0755), 0);
	put_file(rootfd, "d/cgroup.procs", "");
	put_file(rootfd, "d/cgroup.subtree_control", "");
	put_file(rootfd, "d/memory.max", "max\n");
	put_file(outsidefd, "victim", "");
	ck_assert_int_eq(symlinkat("../../outside/victim", rootfd, "d/cgroup.threads"), 0);
	fd = cgfs_open_dir(rootfd, "d");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(cgfs_hand_over(fd, 4242), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_uid, 4242);
	ck_assert_int_eq(fstatat(fd, "cgroup.procs", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 4242);
	ck_assert_int_eq(fstatat(fd, "cgroup.subtree_control", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 4242);
	ck_assert_int_eq(fstatat(fd, "memory.max", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_int_eq(fstatat(outsidefd, "victim", &st, 0), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	close(fd);
}
END_TEST

/*
 * A directory made under an interface file's name (a delegatee's mkdir while
 * the controller was off) is never opened as that file: not read, written,
 * watched nor given away.
 */
START_TEST(test_directory_in_a_files_place)
{
	char *text = NULL;
	struct stat st;
	int fd;

	cgfs_force_walk(_i);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "d", 0755), 0);
	ck_assert_int_eq(cgfs_mkdir(rootfd, "d/memory.stat", 0755), 0);
	ck_assert_int_eq(cgfs_read(rootfd, "d/memory.stat", 4096, &text), -EISDIR);
	ck_assert_int_eq(cgfs_read_attr(rootfd, "d", "memory.stat", 4096, &text), -EISDIR);
	ck_assert_int_eq(cgfs_open_attr(rootfd, "d", "memory.stat", O_RDONLY), -EISDIR);
	ck_assert_int_eq(cgfs_open_file(rootfd, "d/memory.stat", O_RDONLY), -EISDIR);
	ck_assert_int_eq(cgfs_write_attr(rootfd, "d", "memory.stat", "1"), -EISDIR);
	put_file(rootfd, "d/pids.max", "max\n");
	fd = cgfs_open_file(rootfd, "d/pids.max", O_RDONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	if (geteuid() != 0)
		return;
	ck_assert_int_eq(cgfs_mkdir(rootfd, "d/cgroup.threads", 0755), 0);
	fd = cgfs_open_dir(rootfd, "d");
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(cgfs_hand_over(fd, 4242), 0);
	ck_assert_int_eq(fstatat(fd, "cgroup.threads", &st, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_uint_eq(st.st_uid, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_uid, 4242);
	close(fd);
}
END_TEST

/* Add a test case running fn once per resolver (openat2, then the component walk). */
static void add_tcase(Suite *s, const char *name, const TTest *fn, bool both)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	if (both)
		tcase_add_loop_test(tc, fn, 0, 2);
	else
		tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/* The cgroupfs suite. */
static Suite *cgroupfs_suite(void)
{
	Suite *s = suite_create("cgroupfs");

	add_tcase(s, "mkdir_exists", test_mkdir_exists, true);
	add_tcase(s, "rmdir", test_rmdir, true);
	add_tcase(s, "rmdir_not_empty", test_rmdir_not_empty, true);
	add_tcase(s, "rmdir_resolve_erofs", test_rmdir_resolve_erofs, false);
	add_tcase(s, "escape_paths", test_escape_paths, true);
	add_tcase(s, "escape_symlink", test_escape_symlink, true);
	add_tcase(s, "read_write", test_read_write, true);
	add_tcase(s, "attr", test_attr, true);
	add_tcase(s, "read_limit", test_read_limit, false);
	add_tcase(s, "hand_over", test_hand_over, false);
	add_tcase(s, "directory_in_a_files_place", test_directory_in_a_files_place, true);
	add_tcase(s, "events", test_events, false);
	add_tcase(s, "events_malformed", test_events_malformed, false);
	add_tcase(s, "events_too_long", test_events_too_long, false);
	add_tcase(s, "list_children", test_list_children, true);
	add_tcase(s, "parse_controllers", test_parse_controllers, false);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(cgroupfs_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
