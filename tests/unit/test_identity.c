// SPDX-License-Identifier: MIT
/* test_identity.c: Check suite for daemon/identity.c on a plain directory tree standing in for a cgroup. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../../daemon/identity.h"
#include "testutil.h"

static char base[] = "/tmp/identity-test.XXXXXX";
static int rootfd = -1;

/* A fresh directory standing in for the managed root. */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "identity-test");
	rootfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rootfd, 0);
}

/* Remove the tree. */
static void teardown(void)
{
	close(rootfd);
	tu_rm_tree(base);
}

/* mkdir name beneath the root, mark it with a fresh nonce (in nonce); its inode. */
static uint64_t make_marked(const char *name, char nonce[IDENTITY_NONCE_LEN + 1])
{
	struct stat st;
	int fd;

	ck_assert_int_eq(mkdirat(rootfd, name, 0755), 0);
	fd = openat(rootfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(identity_nonce_new(nonce), 0);
	ck_assert_int_eq(identity_mark(fd, nonce), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	close(fd);
	return st.st_ino;
}

/* identity_check() of name beneath the root. */
static int check_name(const char *name, uint64_t ino, const char *nonce)
{
	int fd = openat(rootfd, name, O_RDONLY | O_CLOEXEC), r;

	ck_assert_int_ge(fd, 0);
	r = identity_check(fd, ino, nonce);
	close(fd);
	return r;
}

/* Is name a directory beneath the root? */
static bool is_dir(const char *name)
{
	struct stat st;

	return fstatat(rootfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

START_TEST(test_nonce)
{
	char a[IDENTITY_NONCE_LEN + 1], b[IDENTITY_NONCE_LEN + 1];

	ck_assert_int_eq(identity_nonce_new(a), 0);
	ck_assert_int_eq(identity_nonce_new(b), 0);
	ck_assert_uint_eq(strlen(a), IDENTITY_NONCE_LEN);
	ck_assert(identity_nonce_valid(a));
	ck_assert_str_ne(a, b);
	ck_assert(!identity_nonce_valid(NULL));
	ck_assert(!identity_nonce_valid(""));
	ck_assert(!identity_nonce_valid("0123456789abcdef0123456789abcde"));   /* 31 */
	ck_assert(!identity_nonce_valid("0123456789abcdef0123456789abcdef0")); /* 33 */
	ck_assert(!identity_nonce_valid("0123456789ABCDEF0123456789abcdef"));
	ck_assert(!identity_nonce_valid("0123456789abcdeg0123456789abcdef"));
}
END_TEST

START_TEST(test_check_match)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	uint64_t ino = make_marked("a", nonce);

	ck_assert_int_eq(check_name("a", ino, nonce), 0);
	/* Records with only one part (older ledgers, filesystems without xattrs) check that part. */
	ck_assert_int_eq(check_name("a", ino, ""), 0);
	ck_assert_int_eq(check_name("a", ino, NULL), 0);
	ck_assert_int_eq(check_name("a", 0, nonce), 0);
}
END_TEST

START_TEST(test_check_mismatch)
{
	char nonce[IDENTITY_NONCE_LEN + 1], other[IDENTITY_NONCE_LEN + 1];
	uint64_t ino = make_marked("a", nonce);

	ck_assert_int_eq(identity_nonce_new(other), 0);
	ck_assert_int_eq(check_name("a", ino + 1, nonce), -ESTALE);
	ck_assert_int_eq(check_name("a", ino, other), -ESTALE);
	ck_assert_int_eq(check_name("a", 0, other), -ESTALE);
	/* Nothing recorded: nothing proves it. */
	ck_assert_int_eq(check_name("a", 0, ""), -ENODATA);
	ck_assert_int_eq(check_name("a", 0, NULL), -ENODATA);
}
END_TEST

START_TEST(test_check_unmarked)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	struct stat st;

	/* A directory somebody else made carries no nonce, even at the recorded inode. */
	ck_assert_int_eq(identity_nonce_new(nonce), 0);
	ck_assert_int_eq(mkdirat(rootfd, "s", 0755), 0);
	ck_assert_int_eq(fstatat(rootfd, "s", &st, 0), 0);
	ck_assert_int_eq(check_name("s", st.st_ino, nonce), -ESTALE);
	ck_assert_int_eq(check_name("s", 0, nonce), -ESTALE);
	ck_assert_int_eq(check_name("s", st.st_ino, ""), 0);
}
END_TEST

START_TEST(test_check_copied_nonce)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	uint64_t ino = make_marked("a", nonce);
	int fd;

	/*
	 * Another program copies the nonce onto a directory of its own: the inode
	 * gives it away. (Made while "a" lives, since ext4 would hand a's inode
	 * number straight back; cgroupfs numbers never recur within a boot.)
	 */
	ck_assert_int_eq(mkdirat(rootfd, "b", 0755), 0);
	fd = openat(rootfd, "b", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsetxattr(fd, identity_xattr_name(), nonce, strlen(nonce), 0), 0);
	ck_assert_int_eq(identity_check(fd, ino, nonce), -ESTALE);
	close(fd);
}
END_TEST

START_TEST(test_check_not_dir)
{
	int fd = openat(rootfd, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(identity_check(fd, 1, NULL), -ENOTDIR);
	close(fd);
}
END_TEST

START_TEST(test_check_user_fallback)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	struct stat st;
	int fd;

	/* Root marks with trusted.*, falling back to user.* where that is refused: both are read. */
	if (geteuid() != 0)
		return;
	ck_assert_str_eq(identity_xattr_name(), "trusted.cgctl.id");
	ck_assert_int_eq(identity_nonce_new(nonce), 0);
	ck_assert_int_eq(mkdirat(rootfd, "u", 0755), 0);
	fd = openat(rootfd, "u", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fsetxattr(fd, "user.cgctl.id", nonce, strlen(nonce), 0), 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(identity_check(fd, st.st_ino, nonce), 0);
	close(fd);
}
END_TEST

START_TEST(test_open)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	uint64_t ino;
	struct stat st;
	int fd;

	ck_assert_int_eq(mkdirat(rootfd, "p", 0755), 0);
	ino = make_marked("p/c", nonce);
	fd = identity_open(rootfd, "p/c", ino, nonce);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, ino);
	close(fd);
	ck_assert_int_eq(identity_open(rootfd, "p/missing", ino, nonce), -ENOENT);
	ck_assert_int_eq(identity_open(rootfd, "p/c", ino + 1, nonce), -ESTALE);
	ck_assert_int_eq(identity_open(rootfd, "p/c", 0, ""), -ENODATA);
	/* Still contained beneath the root. */
	ck_assert_int_eq(identity_open(rootfd, "../p", ino, nonce), -EINVAL);
}
END_TEST

START_TEST(test_rmdir)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	bool existed = false;
	uint64_t ino;

	ck_assert_int_eq(mkdirat(rootfd, "p", 0755), 0);
	ino = make_marked("p/c", nonce);
	ck_assert_int_eq(identity_rmdir(rootfd, "p/c", ino, nonce, &existed), 0);
	ck_assert(existed);
	ck_assert(!is_dir("p/c"));
	/* Gone already (or its parent): success, it did not exist. */
	ck_assert_int_eq(identity_rmdir(rootfd, "p/c", ino, nonce, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(identity_rmdir(rootfd, "q/c", ino, nonce, &existed), 0);
	ck_assert(!existed);
	ck_assert_int_eq(identity_rmdir(rootfd, "", ino, nonce, &existed), -EINVAL);
}
END_TEST

START_TEST(test_rmdir_replaced)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	bool existed = false;
	uint64_t ino = make_marked("v", nonce);

	/* rmdir v; mkdir v by somebody else: the stranger's directory stays. */
	ck_assert_int_eq(unlinkat(rootfd, "v", AT_REMOVEDIR), 0);
	ck_assert_int_eq(mkdirat(rootfd, "v", 0755), 0);
	ck_assert_int_eq(identity_rmdir(rootfd, "v", ino, nonce, &existed), -ESTALE);
	ck_assert(is_dir("v"));
	/* Nothing recorded: unprovable, left alone. */
	ck_assert_int_eq(identity_rmdir(rootfd, "v", 0, NULL, &existed), -ENODATA);
	ck_assert(is_dir("v"));
	/* A file where the directory was: not ours either. */
	ck_assert_int_eq(unlinkat(rootfd, "v", AT_REMOVEDIR), 0);
	close(openat(rootfd, "v", O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	ck_assert_int_eq(identity_rmdir(rootfd, "v", ino, nonce, &existed), -ENOTDIR);
	ck_assert_int_eq(faccessat(rootfd, "v", F_OK, AT_SYMLINK_NOFOLLOW), 0);
}
END_TEST

START_TEST(test_rmdir_busy)
{
	char nonce[IDENTITY_NONCE_LEN + 1];
	uint64_t ino = make_marked("b", nonce);

	ck_assert_int_eq(mkdirat(rootfd, "b/inner", 0755), 0);
	ck_assert_int_eq(identity_rmdir(rootfd, "b", ino, nonce, NULL), -EBUSY);
	ck_assert(is_dir("b/inner"));
}
END_TEST

/* The identity suite. */
static Suite *identity_suite(void)
{
	Suite *s = suite_create("identity");
	TCase *tc = tcase_create("identity");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_nonce);
	tcase_add_test(tc, test_check_match);
	tcase_add_test(tc, test_check_mismatch);
	tcase_add_test(tc, test_check_unmarked);
	tcase_add_test(tc, test_check_copied_nonce);
	tcase_add_test(tc, test_check_not_dir);
	tcase_add_test(tc, test_check_user_fallback);
	tcase_add_test(tc, test_open);
	tcase_add_test(tc, test_rmdir);
	tcase_add_test(tc, test_rmdir_replaced);
	tcase_add_test(tc, test_rmdir_busy);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(identity_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
