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

/* Build "relpath/file" (relpath may be ""). */
static char *kill_join(const char *relpath, const char *file)
{
	char *p;

	if (asprintf(&p, "%s%s%s", relpath, *relpath ? "/" : "", file) < 0)
		return NULL;
	return p;
}

/* Fallback for kernels without cgroup.kill: freeze, signal every pid, thaw. */
static int cgkill_by_pids(int rootfd, const char *relpath)
{
	_cleanup_free_ char *freeze = kill_join(relpath, "cgroup.freeze");
	_cleanup_free_ char *procs = kill_join(relpath, "cgroup.procs");
	_cleanup_free_ char *text = NULL;
	int r;

	if (!freeze || !procs)
		return -ENOMEM;
	(void)cgfs_write(rootfd, freeze, "1");
	r = cgfs_read(rootfd, procs, 16 * 1024 * 1024, &text);
	if (r >= 0) {
		for (char *p = text, *end; *p; p = end) {
			long pid = strtol(p, &end, 10);
			if (end == p)
				break;
			if (pid > 0)
				kill((pid_t)pid, SIGKILL);
			while (*end == '\n')
				end++;
		}
	}
	(void)cgfs_write(rootfd, freeze, "0");
	return r;
}

/* Send every process in relpath SIGKILL; does not wait. */
int cgkill_start(int rootfd, const char *relpath)
{
	_cleanup_free_ char *killf = kill_join(relpath, "cgroup.kill");
	int r;

	if (!killf)
		return -ENOMEM;
	r = cgfs_write(rootfd, killf, "1");
	if (r == -ENOENT)
		r = cgkill_by_pids(rootfd, relpath);
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

/* Remove relpath and every cgroup below it, deepest first. */
int cgkill_rmdir_tree(int rootfd, const char *relpath, bool *ret_existed)
{
	bool existed = false;
	int r = cgkill_rmdir_tree_at(rootfd, relpath, 0, &existed);

	if (ret_existed)
		*ret_existed = existed;
	return r;
}
