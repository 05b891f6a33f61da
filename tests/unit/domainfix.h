/* SPDX-License-Identifier: MIT */
/*
 * domainfix.h: fixtures for the domain's suites: a manager whose root is a
 * temp directory standing in for a cgroup, or a scratch cgroup on the real
 * cgroup2 hierarchy (root only), and processes placed in it.
 */
#pragma once

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/events.h"
#include "../../daemon/manager_internal.h"
#include "testutil.h"

struct domfix {
	char base[64];        /* temp dir: state/ and, for a fake root, root/ */
	char root[PATH_MAX];  /* the managed root */
	char mount[256];      /* the cgroup2 mount point (real) */
	bool real;            /* root is a scratch cgroup */
	struct manager m;
	struct event_base *evb;
};

/* The cgroup2 mount point (from /proc/self/mountinfo) into buf; false when there is none. */
static inline bool domfix_cgroup2(char *buf, size_t n)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[4096];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char mnt[PATH_MAX];
		const char *dash = strstr(line, " - cgroup2 ");

		if (dash && sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1)
			found = snprintf(buf, n, "%s", mnt) < (int)n;
	}
	fclose(f);
	return found;
}

/* True when a scratch cgroup can be made here (root, cgroup2 mounted). */
static inline bool domfix_can_real(void)
{
	char mnt[PATH_MAX];

	return geteuid() == 0 && domfix_cgroup2(mnt, sizeof(mnt));
}

/*
 * Remove the cgroup name of pfd and everything below it, deepest first, after
 * killing what runs there; by fds: a tree a test nested deep has paths longer
 * than PATH_MAX.
 */
static inline void domfix_rm_cgroup_at(int pfd, const char *name)
{
	int fd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0) {
		int k = openat(fd, "cgroup.kill", O_WRONLY | O_CLOEXEC);
		int dfd = dup(fd);
		DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
		struct dirent *de;

		if (k >= 0) {
			(void)!write(k, "1", 1);
			close(k);
		}
		/* Children first; then wait for the processes to be gone (rmdir says EBUSY until then). */
		while (d && (de = readdir(d)))
			if (de->d_name[0] != '.' && de->d_type == DT_DIR)
				domfix_rm_cgroup_at(fd, de->d_name);
		if (d)
			closedir(d);
		close(fd);
	}
	for (int i = 0; i < 500 && unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

/* Remove the cgroup path (absolute) and everything below it (domfix_rm_cgroup_at()). */
static inline void domfix_rm_cgroup(const char *path)
{
	char parent[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int pfd;

	if (!slash || (size_t)(slash - path) >= sizeof(parent))
		return;
	snprintf(parent, sizeof(parent), "%.*s", (int)(slash - path), path);
	pfd = open(parent[0] ? parent : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pfd < 0)
		return;
	domfix_rm_cgroup_at(pfd, slash + 1);
	close(pfd);
}

/* Remove the scratch cgroups that suites which died (a failed case skips its teardown) left below mnt. */
static inline void domfix_reap_stale(const char *mnt)
{
	struct dirent **names = NULL;
	int n = scandir(mnt, &names, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		int pid = 0;
		char path[PATH_MAX + 256];

		if (sscanf(names[i]->d_name, "cgctl-unit.%d.", &pid) == 1 && pid > 0 && kill(pid, 0) < 0 &&
		    errno == ESRCH && snprintf(path, sizeof(path), "%s/%s", mnt, names[i]->d_name) < (int)sizeof(path))
			domfix_rm_cgroup(path);
		free(names[i]);
	}
	free(names);
}

/*
 * A ledger in a temp dir and a managed root: a temp directory, or (real) a
 * fresh scratch cgroup below the cgroup2 mount. The manager is started on a
 * new event base, delegated, with room for many entries.
 */
static inline void domfix_setup(struct domfix *f, bool real)
{
	char path[PATH_MAX + 16];

	memset(f, 0, sizeof(*f));
	tu_scratch(f->base, sizeof(f->base), "domain-test");
	f->real = real;
	if (real) {
		const char *mnt = f->mount;

		ck_assert(domfix_cgroup2(f->mount, sizeof(f->mount)));
		domfix_reap_stale(f->mount);
		ck_assert_int_lt(snprintf(f->root, sizeof(f->root), "%s/cgctl-unit.%d.%ld", mnt, (int)getpid(),
					  (long)time(NULL)), (int)sizeof(f->root));
	} else {
		snprintf(f->root, sizeof(f->root), "%s/root", f->base);
	}
	ck_assert_int_eq(mkdir(f->root, 0755), 0);
	f->m = (struct manager){ .rootfd = -1, .delegated = true, .entries_max = 100000 };
	snprintf(path, sizeof(path), "%s/state", f->base);
	ck_assert_int_eq(ledger_open(path, &f->m.ledger), 0);
	f->m.rootfd = open(f->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(f->m.rootfd, 0);
	f->m.root_path = strdup(f->root);
	f->m.disc.mount = f->mount; /* borrowed: manager_done() is never called here */
	f->evb = event_base_new();
	ck_assert_ptr_nonnull(f->evb);
	ck_assert_int_eq(manager_start(&f->m, f->evb), 0);
}

/* Stop the manager, close the ledger, remove the root and the temp dir. */
static inline void domfix_teardown(struct domfix *f)
{
	events_stop(&f->m);
	manager_stop(&f->m);
	event_base_free(f->evb);
	f->m.ledger = ledger_close(f->m.ledger);
	json_object_put(f->m.report.dropped);
	json_object_put(f->m.report.rolled_back);
	json_object_put(f->m.report.resumed);
	json_object_put(f->m.report.unknown);
	close(f->m.rootfd);
	free(f->m.root_path);
	if (f->real)
		domfix_rm_cgroup(f->root);
	tu_rm_tree(f->base);
}

/* The absolute path of rel below the root. */
static inline const char *domfix_path(struct domfix *f, const char *rel)
{
	static char buf[2][PATH_MAX + 256];
	static int next;
	char *p = buf[next++ % 2];

	ck_assert_int_lt(snprintf(p, sizeof(buf[0]), "%s/%s", f->root, rel), (int)sizeof(buf[0]));
	return p;
}

/* Write text to the file rel below the root (created when missing). */
static inline void domfix_put(struct domfix *f, const char *rel, const char *text)
{
	FILE *o = fopen(domfix_path(f, rel), "we");

	ck_assert_msg(o != NULL, "open %s: %s", rel, strerror(errno));
	fputs(text, o);
	ck_assert_int_eq(fclose(o), 0);
}

/* Does rel exist below the root? */
static inline bool domfix_exists(struct domfix *f, const char *rel)
{
	return access(domfix_path(f, rel), F_OK) == 0;
}

/* Make the directory rel below the root. */
static inline void domfix_mkdir(struct domfix *f, const char *rel)
{
	ck_assert_msg(mkdir(domfix_path(f, rel), 0755) == 0, "mkdir %s: %s", rel, strerror(errno));
}

/* Fork a process that sleeps until killed; placed in the cgroup rel when rel is not NULL. */
static inline pid_t domfix_sleeper(struct domfix *f, const char *rel)
{
	char buf[32];
	int ready[2];
	pid_t pid;

	ck_assert_int_eq(pipe2(ready, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* Check's handlers (its SIGTERM kills the whole test) are not the sleeper's. */
		for (int sig = 1; sig < NSIG; sig++)
			signal(sig, SIG_DFL);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], buf, 1), 1);
	close(ready[0]);
	if (rel) {
		char file[PATH_MAX];

		snprintf(file, sizeof(file), "%s/cgroup.procs", rel);
		snprintf(buf, sizeof(buf), "%d", (int)pid);
		domfix_put(f, file, buf);
	}
	return pid;
}

/* Reap pid; its wait status, or -1 when it did not end within ms milliseconds. */
static inline int domfix_reap(pid_t pid, int ms)
{
	for (int i = 0; i < ms; i++) {
		int st;
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return st;
		usleep(1000);
	}
	return -1;
}

/* Run the loop until *flag is set or ms pass; true when it was set. */
static inline bool domfix_loop_until(struct domfix *f, const bool *flag, int ms)
{
	struct timeval tv = { 0, 5000 };

	for (int i = 0; i < ms / 5 && !*flag; i++) {
		event_base_loopexit(f->evb, &tv);
		event_base_loop(f->evb, 0);
	}
	return *flag;
}
