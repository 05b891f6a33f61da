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

#include "cgroupfs.h"
#include "cleanup.h"

/* Build "relpath/child" (relpath may be ""). */
static char *kill_join(const char *relpath, const char *child)
{
	char *p;

	if (asprintf(&p, "%s%s%s", relpath, *relpath ? "/" : "", child) < 0)
		return NULL;
	return p;
}

/* Signal every pid listed in relpath's cgroup.procs, then recurse into children. */
static int cgkill_signal_tree(int rootfd, const char *relpath, int sig, unsigned depth)
{
	_cleanup_free_ char *text = NULL;
	char **kids = NULL;
	int r;

	if (depth > 64)
		return -ELOOP;
	r = cgfs_read_attr(rootfd, relpath, "cgroup.procs", 16 * 1024 * 1024, &text);
	if (r < 0)
		return r;
	for (char *p = text, *end; *p; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		if (pid > 0)
			kill((pid_t)pid, sig);
		while (*end == '\n')
			end++;
	}
	if (cgfs_list_children(rootfd, relpath, &kids) < 0)
		return 0;
	for (char **k = kids; *k; k++) {
		_cleanup_free_ char *child = kill_join(relpath, *k);
		if (child)
			(void)cgkill_signal_tree(rootfd, child, sig, depth + 1);
	}
	cgfs_strv_free(kids);
	return 0;
}

int cgkill_signal(int rootfd, const char *relpath, int sig)
{
	_cleanup_free_ char *old = NULL;
	bool was_frozen;
	int r;

	r = cgfs_read_attr(rootfd, relpath, "cgroup.freeze", 64, &old);
	was_frozen = r >= 0 && old[0] == '1';
	if (!was_frozen)
		(void)cgfs_write_attr(rootfd, relpath, "cgroup.freeze", "1");
	r = cgkill_signal_tree(rootfd, relpath, sig, 0);
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

/* Depth-first removal, bounded so a hostile tree cannot exhaust the stack. */
static int cgkill_rmdir_tree_at(int rootfd, const char *relpath, unsigned depth, bool *ret_existed)
{
	char **kids = NULL;
	int r;

	if (depth > 64)
		return -ELOOP;
	r = cgfs_list_children(rootfd, relpath, &kids);
	if (r == -ENOENT) {
		*ret_existed = false;
		return 0;
	}
	if (r < 0)
		return r;
	for (char **k = kids; *k && r >= 0; k++) {
		_cleanup_free_ char *child = kill_join(relpath, *k);
		bool ignored;

		r = child ? cgkill_rmdir_tree_at(rootfd, child, depth + 1, &ignored) : -ENOMEM;
	}
	cgfs_strv_free(kids);
	if (r < 0)
		return r;
	return cgfs_rmdir(rootfd, relpath, ret_existed);
}

int cgkill_rmdir_tree(int rootfd, const char *relpath, bool *ret_existed)
{
	bool existed = false;
	int r = cgkill_rmdir_tree_at(rootfd, relpath, 0, &existed);

	if (ret_existed)
		*ret_existed = existed;
	return r;
}

int cgkill_rmdir_inside(int dirfd)
{
	char **kids = NULL;
	int r = cgfs_list_children(dirfd, "", &kids);

	for (char **k = kids; r >= 0 && *k; k++)
		r = cgkill_rmdir_tree(dirfd, *k, NULL);
	cgfs_strv_free(kids);
	return r;
}
