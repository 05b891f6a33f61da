/* SPDX-License-Identifier: MIT */
/* trust.h: the rule for directories and files the daemon trusts (state and socket directories). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * A trusted directory or file is owned by the daemon's euid and not writable
 * by group or others; a trusted file is also a regular file (never a FIFO,
 * socket, device or symlink). Every function fills why (when not NULL) with
 * a sentence naming path and what is wrong, and returns -errno:
 *   -EPERM   owned by another uid
 *   -EACCES  writable by group or others
 *   -ELOOP   a symbolic link
 *   -EBADFD  not a regular file (a FIFO, socket, device or directory)
 *   -ENOTDIR not a directory (for a directory)
 */

/* Check st (of path, for messages) as a trusted directory; loose_ok skips the mode rule. */
int trust_check_dir(const struct stat *st, const char *path, int loose_ok, char *why, size_t n);
/* Check st (of dir/name, for messages) as a trusted file. */
int trust_check_file(const struct stat *st, const char *dir, const char *name, char *why, size_t n);
/*
 * openat(dirfd, name) with O_NOFOLLOW|O_NONBLOCK|O_CLOEXEC added, then
 * fstat-checked as a trusted file and O_NONBLOCK cleared: never blocks on a
 * FIFO, never follows a link. The fd, or -errno (-ENOENT as openat says;
 * the codes above for an untrusted file). dir names the directory in why.
 */
int trust_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, char *why, size_t n);
/*
 * Create (missing parents too, mode 0700) and open the directory path without
 * following a final symlink, then check it as a trusted directory. Its
 * ancestors up to /, as spelled and as resolved, must be owned by root or the
 * daemon's euid and, unless sticky (/tmp), not writable by group or others;
 * a symlink among them must be root's or the daemon's. The fd or -errno.
 */
int trust_open_dir(const char *path, char *why, size_t n);
/* The ancestor rule of trust_open_dir() alone, for path (which must exist). */
int trust_check_parents(const char *path, char *why, size_t n);
/* The pid of the FLOCK that one /proc/locks line shows on file dev:ino, else 0. */
int trust_lock_line_pid(const char *line, dev_t dev, ino_t ino);
/*
 * Does a process all four of whose uids (real, effective, saved, fs) are
 * root's or the daemon's euid hold the flock on fd's file, as /proc/locks
 * says (true when it cannot be read)? Anybody who may read a file or a
 * directory may flock it, so another user's lock is not a daemon's; a
 * setuid-root program a stranger runs keeps the stranger's real uid.
 */
bool trust_lock_ours(int fd);
