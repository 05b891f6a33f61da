/* SPDX-License-Identifier: MIT */
/* cgroupfs.h: cgroup filesystem operations relative to the managed root's dirfd. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * Every relpath below is relative to rootfd, "/"-separated, without leading
 * "/", and is resolved component by component beneath rootfd: openat2()
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS where the kernel
 * has it, else a walk with O_NOFOLLOW that refuses "..", "." and empty
 * components. Nothing ever escapes rootfd, whatever the path says (-EXDEV or
 * -ELOOP or -EINVAL). relpath "" means rootfd itself. All fds are O_CLOEXEC.
 */

/* Open relpath beneath rootfd with flags (O_CLOEXEC added); fd or -errno. */
int cgfs_open(int rootfd, const char *relpath, int flags, mode_t mode);
/* Open the directory relpath; fd or -errno. */
int cgfs_open_dir(int rootfd, const char *relpath);

/*
 * The directory holding relpath's last component (borrowed into *ret_last):
 * rootfd itself for a top-level name, else the parent opened (O_PATH) beneath
 * rootfd into *ret_opened, which the caller closes (-1 when nothing was
 * opened). The fd, or -errno (-EINVAL for "").
 */
int cgfs_parent_dirfd(int rootfd, const char *relpath, const char **ret_last, int *ret_opened);

/* Create the directory relpath (parent must exist): 0, -EEXIST, -errno. */
int cgfs_mkdir(int rootfd, const char *relpath, mode_t mode);

/*
 * 1 when relpath is an existing directory, 0 when it does not exist (any
 * component missing), -errno when that cannot be told.
 */
int cgfs_exists(int rootfd, const char *relpath);

/*
 * Remove the empty cgroup relpath, honest about errno (runc issue 4518):
 * ENOENT is success; for EROFS, EACCES, EPERM the existence is checked through
 * rootfd and a directory that is not there is success. 0 when it is gone
 * (*ret_existed, may be NULL, tells whether this call removed it), -EBUSY when
 * it has processes or children, -errno otherwise.
 */
int cgfs_rmdir(int rootfd, const char *relpath, bool *ret_existed);
/*
 * Internal, for cgfs_rmdir() and its tests: decide the outcome of an rmdir of
 * relpath that failed with rmdir_errno (positive; 0 means it succeeded).
 * Returns what cgfs_rmdir() returns (ENOTEMPTY is reported as -EBUSY).
 */
int cgfs_rmdir_resolve(int rootfd, const char *relpath, int rmdir_errno, bool *ret_existed);

/*
 * Open the interface file relpath with flags (O_NOFOLLOW added): a regular
 * file (or a FIFO, a test's stand-in), never a directory a delegatee made
 * under a file's name while its controller was off (-EISDIR), nor anything
 * else (-EINVAL). The fd or -errno.
 * cgfs_read(), cgfs_write() and the *_attr() functions open through it.
 */
int cgfs_open_file(int rootfd, const char *relpath, int flags);

/*
 * Read the whole file relpath into a NUL-terminated malloc'd buffer of at
 * most max bytes (-EFBIG beyond). 0 or -errno.
 */
int cgfs_read(int rootfd, const char *relpath, size_t max, char **ret_text);
/* Read an open fd to EOF into a NUL-terminated malloc'd buffer of at most max bytes. 0 or -errno. */
int cgfs_read_fd(int fd, size_t max, char **ret_text);
/* Write value to the file relpath in a single write(2) (no O_CREAT, O_TRUNC). 0 or -errno. */
int cgfs_write(int rootfd, const char *relpath, const char *value);
/*
 * The same for the interface file attr ("cgroup.procs") of the cgroup relpath
 * ("" for rootfd itself): the one place that joins cgroup and attribute.
 */
int cgfs_open_attr(int rootfd, const char *relpath, const char *attr, int flags);
int cgfs_read_attr(int rootfd, const char *relpath, const char *attr, size_t max, char **ret_text);
int cgfs_write_attr(int rootfd, const char *relpath, const char *attr, const char *value);

/*
 * Hand the cgroup open at dirfd over to uid, as systemd's Delegate= does: the
 * directory and the files the kernel lists in /sys/kernel/cgroup/delegate
 * (cgroup.procs, cgroup.threads, cgroup.subtree_control without that list)
 * change owner (only regular files: a directory in a file's place is left
 * alone); its limits stay the daemon's. 0 or -errno.
 */
int cgfs_hand_over(int dirfd, uid_t uid);

/*
 * Parse "<relpath>/cgroup.events": *ret_populated and *ret_frozen (either may
 * be NULL). A missing "frozen" key (older kernels) reads as false. 0 or -errno.
 */
int cgfs_read_events(int rootfd, const char *relpath, bool *ret_populated, bool *ret_frozen);

/* The same from a freshly opened cgroup.events, with one read. 0 or -errno. */
int cgfs_read_events_fd(int fd, bool *ret_populated, bool *ret_frozen);
/* Parse cgroup.events text (see cgfs_read_events). 0 or -EBADMSG. */
int cgfs_parse_events(const char *text, bool *ret_populated, bool *ret_frozen);

/*
 * Names of the subdirectories of relpath (not recursive), sorted, as a
 * NULL-terminated malloc'd array of malloc'd strings (free with
 * cgfs_strv_free). 0 or -errno.
 */
int cgfs_list_children(int rootfd, const char *relpath, char ***ret_names);
/*
 * Why a controller cannot be enabled in dirfd's cgroup.subtree_control
 * (EEXIST): a child's child named like one of its files ("d/memory.max"), a
 * cgroup a delegatee made while the controller was off, in the place the
 * kernel would put the file: a name of one of the controller's files in
 * dirfd itself (any "<controller>." name when dirfd has none, as the cgroup
 * root). 1 with "child/name" malloc'd in *ret_path, 0 when there is none,
 * -errno.
 */
int cgfs_find_shadow(int dirfd, const char *controller, char **ret_path);
/* Free a NULL-terminated string array; NULL is fine. Returns NULL. */
char **cgfs_strv_free(char **v);

/*
 * Parse a space-separated controller list ("cpu io memory") into a strv.
 * 0 or -ENOMEM.
 */
int cgfs_parse_controllers(const char *text, char ***ret_controllers);

/* Testing only: resolve by the O_NOFOLLOW component walk even where openat2 exists. */
void cgfs_force_walk(bool force);
