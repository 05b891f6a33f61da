/* SPDX-License-Identifier: MIT */
/* kill.c: end every process of a cgroup, wait for it to empty, remove a tree. */
#include "kill.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>

#include "cgroupfs.h"
#include "cleanup.h"

/* qsort()/bsearch() order of pids. */
static int kill_pid_cmp(const void *a, const void *b)
{
	pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;

	return (x > y) - (x < y);
}

/* The pids of cgroup.procs text, sorted, in *ret (malloc'd); their number, or -ENOMEM. */
static ssize_t kill_parse_pids(const char *text, pid_t **ret)
{
	size_t n = 0, cap = 0;
	pid_t *v = NULL;

	for (const char *p = text; *p;) {
		char *end;
		long pid = strtol(p, &end, 10);

		if (end == p)
			break;
		if (pid > 0 && n == cap) {
			pid_t *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof(*v));

			if (!nv) {
				free(v);
				return -ENOMEM;
			}
			v = nv;
		}
		if (pid > 0)
			v[n++] = (pid_t)pid;
		p = end + strspn(end, "\n");
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), kill_pid_cmp);
	*ret = v;
	return (ssize_t)n;
}

/*
 * Pin pids[0..n) with pidfds into fds[] (-1: gone; without pidfds (ENOSYS)
 * signalled by pid now, as the kernel allows), as many as our descriptor
 * limit leaves room for, one descriptor kept free for the second read: the
 * number taken (> 0), or -EMFILE/-ENFILE when that leaves none.
 */
static ssize_t kill_pin_pids(const pid_t *pids, size_t n, int sig, int *fds)
{
	for (size_t i = 0; i < n; i++) {
		int e;

		fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fds[i] >= 0)
			continue;
		e = errno;
		if (e == ENOSYS)
			kill(pids[i], sig);
		if (e != EMFILE && e != ENFILE)
			continue;
		/* Give back the last one opened; those after it wait for the next batch. */
		while (i > 0 && fds[i - 1] < 0)
			i--;
		if (i > 0)
			close(fds[--i]);
		return i > 0 ? (ssize_t)i : -e;
	}
	return (ssize_t)n;
}

/* Send sig through fds[0..n) (pinning pids[0..n)) to those a read of cgroup.procs taken now still lists; close them. */
static int kill_signal_pinned(int rootfd, const char *relpath, int sig, const pid_t *pids, int *fds, size_t n)
{
	_cleanup_free_ char *again = NULL;
	_cleanup_free_ pid_t *still = NULL;
	int r = cgfs_read_attr(rootfd, relpath, "cgroup.procs", 16 * 1024 * 1024, &again);
	ssize_t m = r < 0 ? r : kill_parse_pids(again, &still);

	for (size_t i = 0; i < n; i++) {
		if (fds[i] < 0)
			continue;
		if (m > 0 && bsearch(&pids[i], still, (size_t)m, sizeof(*still), kill_pid_cmp))
			(void)syscall(SYS_pidfd_send_signal, fds[i], sig, NULL, 0);
		close(fds[i]);
	}
	return m < 0 ? (int)m : 0;
}

/*
 * Send sig to the processes of relpath's cgroup.procs, each through a pidfd
 * taken after a first read and only if a second read still lists its pid: a
 * process that died after the read, reaped by its parent outside, leaves its
 * number to whoever comes next, and that one is never signalled. Without
 * pidfds (ENOSYS), by pid as the kernel allows. As many pidfds at a time as
 * our descriptor limit allows (each batch has its second read): a cgroup
 * with more processes than we have descriptors free still gets them all.
 */
static int kill_signal_procs(int rootfd, const char *relpath, int sig)
{
	_cleanup_free_ char *text = NULL;
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ int *fds = NULL;
	ssize_t n, k;
	int r = cgfs_read_attr(rootfd, relpath, "cgroup.procs", 16 * 1024 * 1024, &text);

	if (r < 0)
		return r;
	n = kill_parse_pids(text, &pids);
	if (n <= 0)
		return (int)n;
	fds = malloc((size_t)n * sizeof(*fds));
	if (!fds)
		return -ENOMEM;
	for (ssize_t i = 0; i < n; i += k) {
		k = kill_pin_pids(pids + i, (size_t)(n - i), sig, fds + i);
		if (k < 0)
			return (int)k;
		r = kill_signal_pinned(rootfd, relpath, sig, pids + i, fds + i, (size_t)k);
		if (r < 0)
			return r;
	}
	return 0;
}

/*
 * Signal every process of the cgroup open at dirfd (kill_signal_procs()),
 * then of each cgroup below it, each opened beneath its parent's fd: a
 * relpath joined from a delegatee's names would outgrow PATH_MAX long before
 * the depth it may reach.
 */
static int cgkill_signal_tree(int dirfd, int sig, unsigned depth)
{
	char **kids = NULL;
	int r;

	if (depth > CGKILL_WALK_DEPTH)
		return -ELOOP;
	r = kill_signal_procs(dirfd, "", sig);
	if (r < 0)
		return r;
	if (cgfs_list_children(dirfd, "", &kids) < 0)
		return 0;
	for (char **k = kids; *k; k++) {
		_cleanup_close_ int fd = cgfs_open_dir(dirfd, *k);

		if (fd >= 0)
			(void)cgkill_signal_tree(fd, sig, depth + 1);
	}
	cgfs_strv_free(kids);
	return 0;
}

int cgkill_signal(int rootfd, const char *relpath, int sig)
{
	_cleanup_free_ char *old = NULL;
	_cleanup_close_ int fd = -1;
	bool was_frozen;
	int r;

	r = cgfs_read_attr(rootfd, relpath, "cgroup.freeze", 64, &old);
	was_frozen = r >= 0 && old[0] == '1';
	if (!was_frozen)
		(void)cgfs_write_attr(rootfd, relpath, "cgroup.freeze", "1");
	fd = cgfs_open_dir(rootfd, relpath);
	r = fd < 0 ? fd : cgkill_signal_tree(fd, sig, 0);
	if (!was_frozen)
		(void)cgfs_write_attr(rootfd, relpath, "cgroup.freeze", "0");
	return r;
}

int cgkill_start(int rootfd, const char *relpath)
{
	int r = cgfs_write_attr(rootfd, relpath, "cgroup.kill", "1");

	if (r == -ENOENT)
		r = cgkill_signal(rootfd, relpath, SIGKILL);
	return r;
}

static int cgkill_rmdir_child(int dirfd, const char *name, unsigned depth, bool *ret_existed);

/* Remove every cgroup below the one open at dirfd (depth levels below the walk's start), deepest first. */
static int cgkill_rmdir_below(int dirfd, unsigned depth)
{
	char **kids = NULL;
	int r = cgfs_list_children(dirfd, "", &kids);

	if (r < 0)
		return r == -ENOENT ? 0 : r;
	for (char **k = kids; *k && r >= 0; k++)
		r = cgkill_rmdir_child(dirfd, *k, depth + 1, NULL);
	cgfs_strv_free(kids);
	return r;
}

/*
 * Remove dirfd's child name and everything below it, depth-first, each level
 * opened beneath its parent's fd (never a joined path: PATH_MAX), bounded so a
 * hostile tree cannot exhaust the stack.
 */
static int cgkill_rmdir_child(int dirfd, const char *name, unsigned depth, bool *ret_existed)
{
	_cleanup_close_ int fd = -1;
	int r;

	if (depth > CGKILL_WALK_DEPTH)
		return -ELOOP;
	fd = cgfs_open_dir(dirfd, name);
	if (fd == -ENOENT) {
		if (ret_existed)
			*ret_existed = false;
		return 0;
	}
	if (fd < 0)
		return fd;
	r = cgkill_rmdir_below(fd, depth);
	if (r < 0)
		return r;
	return cgfs_rmdir(dirfd, name, ret_existed);
}

int cgkill_rmdir_tree(int rootfd, const char *relpath, bool *ret_existed)
{
	_cleanup_close_ int opened = -1;
	const char *last = NULL;
	bool existed = false;
	int r, pfd = cgfs_parent_dirfd(rootfd, relpath, &last, &opened);

	if (pfd == -ENOENT)
		r = 0;
	else
		r = pfd < 0 ? pfd : cgkill_rmdir_child(pfd, last, 0, &existed);
	if (ret_existed)
		*ret_existed = existed;
	return r;
}

int cgkill_rmdir_inside(int dirfd)
{
	return cgkill_rmdir_below(dirfd, 0);
}
