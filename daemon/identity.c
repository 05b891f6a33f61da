// SPDX-License-Identifier: MIT
/* identity.c: prove that a cgroup directory is the one the daemon made (inode + xattr nonce). */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "identity.h"

#define IDENTITY_XATTR_TRUSTED "trusted.cgctl.id"
#define IDENTITY_XATTR_USER "user.cgctl.id"

int identity_nonce_new(char ret[IDENTITY_NONCE_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char rnd[IDENTITY_NONCE_LEN / 2];

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return errno ? -errno : -EIO;
	for (size_t i = 0; i < sizeof(rnd); i++) {
		ret[2 * i] = hex[rnd[i] >> 4];
		ret[2 * i + 1] = hex[rnd[i] & 0xf];
	}
	ret[IDENTITY_NONCE_LEN] = '\0';
	return 0;
}

bool identity_nonce_valid(const char *s)
{
	return s && strlen(s) == IDENTITY_NONCE_LEN && strspn(s, "0123456789abcdef") == IDENTITY_NONCE_LEN;
}

const char *identity_xattr_name(void)
{
	/* geteuid() is a system call: asked once (the daemon never changes its uid). */
	static int root = -1;

	if (root < 0)
		root = geteuid() == 0;
	return root ? IDENTITY_XATTR_TRUSTED : IDENTITY_XATTR_USER;
}

int identity_mark(int dirfd, const char *nonce)
{
	const char *name = identity_xattr_name();

	if (fsetxattr(dirfd, name, nonce, strlen(nonce), 0) == 0)
		return 0;
	if (strcmp(name, IDENTITY_XATTR_USER) == 0 || (errno != EPERM && errno != EOPNOTSUPP))
		return -errno;
	return fsetxattr(dirfd, IDENTITY_XATTR_USER, nonce, strlen(nonce), 0) == 0 ? 0 : -errno;
}

bool identity_mark_trusted(int dirfd)
{
	return fgetxattr(dirfd, IDENTITY_XATTR_TRUSTED, NULL, 0) > 0;
}

/* Read the nonce on dirfd into buf (NUL-terminated): length, or -errno (-ENODATA: none). */
static ssize_t identity_read(int dirfd, char *buf, size_t size)
{
	const char *name = identity_xattr_name();
	ssize_t n = fgetxattr(dirfd, name, buf, size - 1);

	/* As root, a directory marked where trusted.* was refused carries user.*. */
	if (n < 0 && strcmp(name, IDENTITY_XATTR_TRUSTED) == 0 &&
	    (errno == ENODATA || errno == EPERM || errno == EOPNOTSUPP))
		n = fgetxattr(dirfd, IDENTITY_XATTR_USER, buf, size - 1);
	if (n < 0)
		return errno == ERANGE ? -ESTALE : -errno;
	buf[n] = '\0';
	return n;
}

int identity_check(int dirfd, uint64_t ino, const char *nonce)
{
	bool has_nonce = nonce && nonce[0];
	char buf[IDENTITY_NONCE_LEN * 2];
	struct stat st;
	ssize_t n;

	if (fstat(dirfd, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!ino && !has_nonce)
		return -ENODATA;
	if (ino && (uint64_t)st.st_ino != ino)
		return -ESTALE;
	if (!has_nonce)
		return 0;
	n = identity_read(dirfd, buf, sizeof(buf));
	if (n == -ENODATA)
		return -ESTALE; /* we mark every directory we make: this one we did not */
	if (n < 0)
		return (int)n;
	return (size_t)n == strlen(nonce) && memcmp(buf, nonce, (size_t)n) == 0 ? 0 : -ESTALE;
}

int identity_open(int rootfd, const char *relpath, uint64_t ino, const char *nonce)
{
	_cleanup_close_ int fd = cgfs_open_dir(rootfd, relpath);
	int r;

	if (fd < 0)
		return fd;
	r = identity_check(fd, ino, nonce);
	if (r < 0)
		return r;
	return TAKE_FD(fd);
}

int identity_rmdir(int rootfd, const char *relpath, uint64_t ino, const char *nonce, bool *ret_existed)
{
	_cleanup_close_ int opened = -1, fd = -1;
	const char *last = NULL;
	int pfd = cgfs_parent_dirfd(rootfd, relpath, &last, &opened);
	int r, e = 0;

	if (pfd < 0) {
		if (pfd == -EINVAL || pfd == -ENOMEM)
			return pfd;
		return cgfs_rmdir_resolve(rootfd, relpath, -pfd, ret_existed);
	}
	fd = cgfs_open_dir(pfd, last);
	if (fd < 0)
		return fd == -ENOENT ? cgfs_rmdir_resolve(rootfd, relpath, ENOENT, ret_existed) : fd;
	r = identity_check(fd, ino, nonce);
	if (r < 0)
		return r;
	/* The window left: a replacement between this check and the rmdir (no fd form exists). */
	if (unlinkat(pfd, last, AT_REMOVEDIR) < 0)
		e = errno;
	return cgfs_rmdir_resolve(rootfd, relpath, e, ret_existed);
}
