/* SPDX-License-Identifier: MIT */
/* identity.h: prove that a cgroup directory is the one the daemon made (inode + xattr nonce). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

/*
 * A directory's identity is its inode number (the kernel's cgroup id on
 * 64-bit) and a random nonce the daemon writes as an extended attribute
 * right after mkdir: trusted.cgctl.id when the daemon runs as root (no
 * unprivileged program can set or read it), else user.cgctl.id. The inode
 * alone can recur after a reboot; the nonce alone can be copied by another
 * program of the same user. Where both are recorded, both must match.
 */

#define IDENTITY_NONCE_LEN 32 /* lowercase hex digits of 128 random bits */

/* A fresh random nonce, NUL-terminated. 0 or -errno. */
int identity_nonce_new(char ret[IDENTITY_NONCE_LEN + 1]);
/* True when s is a well-formed nonce (IDENTITY_NONCE_LEN lowercase hex digits). */
bool identity_nonce_valid(const char *s);
/* The extended attribute holding the nonce, for this process's privileges. */
const char *identity_xattr_name(void);

/*
 * Is the mark on dirfd one only a privileged process can change (trusted.*)?
 * False for user.* (a root daemon whose trusted.* write was refused, as in a
 * user namespace): the directory's owner may rewrite that one.
 */
bool identity_mark_trusted(int dirfd);
/* Write nonce on the open directory dirfd. 0, -EOPNOTSUPP (no xattrs here), -errno. */
int identity_mark(int dirfd, const char *nonce);
/*
 * Is the open directory dirfd the one recorded as (ino, nonce)? ino 0 and
 * nonce NULL or "" mean "not recorded". 0 when every recorded part matches;
 * -ESTALE when one differs (another directory: inode, nonce, or no nonce where
 * one was recorded); -ENODATA when nothing was recorded (unprovable);
 * -ENOTDIR when dirfd is not a directory; other -errno when it cannot be told.
 */
int identity_check(int dirfd, uint64_t ino, const char *nonce);
/*
 * Open relpath beneath rootfd (as cgfs_open_dir()) and identity_check() it:
 * the verified fd, or -ENOENT when it is not there, or identity_check()'s
 * errors (nothing is left open then).
 */
int identity_open(int rootfd, const char *relpath, uint64_t ino, const char *nonce);
/*
 * Remove the empty directory relpath only when it is proven the recorded one:
 * the parent is opened, the child checked through it, and unlinkat() follows
 * at once in that parent. Honest like cgfs_rmdir(): 0 when gone
 * (*ret_existed, may be NULL, says whether this call removed it), -EBUSY,
 * -errno; identity_check()'s -ESTALE / -ENODATA when it touched nothing.
 */
int identity_rmdir(int rootfd, const char *relpath, uint64_t ino, const char *nonce, bool *ret_existed);
