// SPDX-License-Identifier: MIT
/* standin.c: a plain directory tree that cgctld takes for cgroupfs, and fences around it (fuzz_requests). */
#include "standin.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

bool standin_armed;

/* Stand-in cgroups at the start of every input; "stray" is not the daemon's (no name). */
const struct standin_cgroup standin_cgroups[] = {
	{ "svc", "svc", "populated 0\nfrozen 0\n", false, false },
	{ "svc/web", "svc/web", "populated 0\nfrozen 0\n", false, false },
	{ "frz", "frz", "populated 0\nfrozen 1\n", false, false },
	{ "deleg", "deleg", "populated 0\nfrozen 0\n", true, false },
	{ "auto", "auto", "populated 0\nfrozen 0\n", false, true },
	{ "cgroup.x", "_cgroup.x", "populated 0\nfrozen 0\n", false, false },
	{ NULL, "stray", "populated 0\nfrozen 0\n", false, false },
};
const size_t standin_n_cgroups = sizeof(standin_cgroups) / sizeof(standin_cgroups[0]);

/* Interface files of every stand-in cgroup (cgroup.events comes from standin_cgroups[]). */
static const char *const cgroup_files[][2] = {
	{ "cgroup.procs", "" },
	{ "cgroup.threads", "" },
	{ "cgroup.freeze", "0\n" },
	{ "cgroup.kill", "" },
	{ "cgroup.type", "domain\n" },
	{ "cgroup.controllers", "cpuset cpu io memory hugetlb pids rdma misc\n" },
	{ "cgroup.subtree_control", "" },
	{ "cgroup.stat", "nr_descendants 0\nnr_dying_descendants 0\n" },
	{ "cgroup.max.descendants", "max\n" },
	{ "cgroup.max.depth", "max\n" },
	{ "memory.max", "max\n" },
	{ "memory.high", "max\n" },
	{ "memory.low", "0\n" },
	{ "memory.min", "0\n" },
	{ "memory.swap.max", "max\n" },
	{ "memory.swap.high", "max\n" },
	{ "memory.zswap.max", "max\n" },
	{ "memory.oom.group", "0\n" },
	{ "memory.swap.current", "0\n" },
	{ "memory.swap.events", "high 0\nmax 0\nfail 0\n" },
	{ "memory.events.local", "low 0\nhigh 0\nmax 0\noom 0\noom_kill 0\n" },
	{ "memory.current", "8192\n" },
	{ "memory.peak", "16384\n" },
	{ "memory.events", "low 0\nhigh 0\nmax 0\noom 1\noom_kill 0\n" },
	{ "memory.stat", "anon 4096\nfile 4096\nkernel 0\n" },
	{ "memory.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"
			     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" },
	{ "cpu.max", "max 100000\n" },
	{ "cpu.weight", "100\n" },
	{ "cpu.idle", "0\n" },
	{ "cpu.weight.nice", "0\n" },
	{ "cpu.uclamp.min", "0.00\n" },
	{ "cpu.uclamp.max", "max\n" },
	{ "cpu.stat", "usage_usec 10\nuser_usec 6\nsystem_usec 4\n" },
	{ "cpu.pressure", "some avg10=1.00 avg60=0.50 avg300=0.10 total=12345\n" },
	{ "cpuset.cpus", "\n" },
	{ "cpuset.mems", "\n" },
	{ "io.max", "" },
	{ "io.weight", "default 100\n" },
	{ "io.bfq.weight", "default 100\n" },
	{ "io.latency", "" },
	{ "io.stat", "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n" },
	{ "io.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" },
	{ "pids.max", "max\n" },
	{ "pids.current", "1\n" },
	{ "pids.peak", "1\n" },
	{ "pids.events", "max 0\n" },
	{ "hugetlb.2MB.max", "max\n" },
	{ "hugetlb.2MB.current", "0\n" },
	{ "rdma.max", "" },
	{ "misc.max", "" },
	{ "irq.pressure", "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n" },
	{ "cgroup.pressure", "1\n" },
};
#define N_CGROUP_FILES (sizeof(cgroup_files) / sizeof(cgroup_files[0]))

/*
 * The managed root itself: writable (cgroup.procs, cgroup.subtree_control),
 * nothing to enable (cgroup.controllers empty: the manager then reads what is
 * enabled from cgroup.subtree_control), and a symlink pointing out of it.
 */
static const char *const root_files[][2] = {
	{ "cgroup.procs", "" },
	{ "cgroup.subtree_control", "cpuset cpu io memory hugetlb pids rdma misc\n" },
	{ "cgroup.events", "populated 1\nfrozen 0\n" },
	{ "cgroup.controllers", "\n" },
};
#define N_ROOT_FILES (sizeof(root_files) / sizeof(root_files[0]))

/* What changed during one input, undone by standin_reset(). */
struct strv {
	char **v;
	size_t n, cap;
};

static struct {
	char base[PATH_MAX], root[PATH_MAX], outside[PATH_MAX];
	long pid_max;
	bool built;
	struct strv made;    /* directories the daemon made, in order */
	struct strv written; /* files the daemon wrote */
	bool removed;        /* the daemon removed a directory */
	int inotify;         /* the one inotify instance every daemon gets a copy of */
	int *wds;            /* its watches, removed at reset */
	size_t n_wds, cap_wds;
} S = { .inotify = -1 };

int __real_kill(pid_t pid, int sig);
int __wrap_kill(pid_t pid, int sig);
int __real_mkdirat(int dirfd, const char *name, mode_t mode);
int __wrap_mkdirat(int dirfd, const char *name, mode_t mode);
int __real_unlinkat(int dirfd, const char *name, int flags);
int __wrap_unlinkat(int dirfd, const char *name, int flags);
int __real_inotify_init1(int flags);
int __wrap_inotify_init1(int flags);
int __real_inotify_add_watch(int fd, const char *path, uint32_t mask);
int __wrap_inotify_add_watch(int fd, const char *path, uint32_t mask);
int __real_cgfs_write(int rootfd, const char *relpath, const char *value);
int __wrap_cgfs_write(int rootfd, const char *relpath, const char *value);

/* Report a broken invariant and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	fputs("fuzz_requests: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* Append a copy of s. */
static void strv_add(struct strv *l, const char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->v = realloc(l->v, l->cap * sizeof(char *));
		if (!l->v)
			fail("out of memory");
	}
	if (!(l->v[l->n++] = strdup(s)))
		fail("out of memory");
}

/* Empty l, keeping its array. */
static void strv_clear(struct strv *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	l->n = 0;
}

/* ---- the daemon's log ---- */

void standin_log(bool on)
{
	static FILE *devnull;

	if (!on && !devnull && !(devnull = fopen("/dev/null", "we")))
		fail("/dev/null: %s", strerror(errno));
	/* Every line formatted (a bad format still shows under ASan), shown only when asked. */
	log_set_output(on ? stderr : devnull, LOG_DEBUG);
}

/* ---- the fence around processes ---- */

/*
 * kill() signals nothing while the daemon runs. The only pids it can find are
 * those Attach wrote into stand-in cgroup.procs files, all above pid_max (see
 * standin_safe_pid()); any other means it read one where it should not have.
 */
int __wrap_kill(pid_t pid, int sig)
{
	if (!standin_armed)
		return __real_kill(pid, sig);
	if (pid <= 0 || (pid <= S.pid_max && pid != getpid()))
		fail("the daemon tried to signal pid %d (signal %d)", (int)pid, sig);
	errno = ESRCH;
	return -1;
}

/* Map a pid into (pid_max, 4194304], which no process can have; leave refused ones alone. */
int64_t standin_safe_pid(int64_t pid)
{
	const int64_t top = 4194304; /* the daemon refuses anything above */

	if (pid < 1 || pid > top)
		return pid;
	if (S.pid_max < top)
		return S.pid_max + 1 + pid % (top - S.pid_max);
	return top + 1 + pid % 1000;
}

/* ---- files ---- */

/* Write name in dirfd (created or truncated) with text; -1 on failure. */
static int write_at(int dirfd, const char *name, const char *text, int flags)
{
	size_t len = strlen(text);
	int fd = openat(dirfd, name, O_WRONLY | O_TRUNC | O_CLOEXEC | O_NOFOLLOW | flags, 0644);
	bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;

	if (fd >= 0)
		close(fd);
	return ok ? 0 : -1;
}

/* Give the directory dirfd the interface files of a cgroup, as the kernel would. */
static void populate(int dirfd, const char *events)
{
	for (size_t i = 0; i < N_CGROUP_FILES; i++)
		if (write_at(dirfd, cgroup_files[i][0], cgroup_files[i][1], O_CREAT) < 0)
			fail("cannot write stand-in %s", cgroup_files[i][0]);
	if (write_at(dirfd, "cgroup.events", events, O_CREAT) < 0)
		fail("cannot write stand-in cgroup.events");
}

/* The original text of interface file name in directory rel, NULL if none. */
static const char *original(const char *rel, const char *name)
{
	if (!rel[0]) {
		for (size_t i = 0; i < N_ROOT_FILES; i++)
			if (strcmp(name, root_files[i][0]) == 0)
				return root_files[i][1];
		return NULL;
	}
	for (size_t k = 0; k < standin_n_cgroups; k++) {
		if (strcmp(rel, standin_cgroups[k].path) != 0)
			continue;
		if (strcmp(name, "cgroup.events") == 0)
			return standin_cgroups[k].events;
		for (size_t i = 0; i < N_CGROUP_FILES; i++)
			if (strcmp(name, cgroup_files[i][0]) == 0)
				return cgroup_files[i][1];
	}
	return NULL;
}

/* Is name an interface file populate() makes? */
static bool is_interface_file(const char *name)
{
	if (strcmp(name, "cgroup.events") == 0)
		return true;
	for (size_t i = 0; i < N_CGROUP_FILES; i++)
		if (strcmp(name, cgroup_files[i][0]) == 0)
			return true;
	return false;
}

/* Path of dirfd relative to the root, into rel; abort when it is not below the root. */
static void rel_of(int dirfd, const char *name, char rel[PATH_MAX])
{
	char link[64], path[PATH_MAX];
	size_t n = strlen(S.root);
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", dirfd);
	len = dirfd >= 0 ? readlink(link, path, sizeof(path) - 1) : -1;
	if (len < 0)
		fail("the daemon made or removed \"%s\" relative to fd %d, which is no directory", name, dirfd);
	path[len] = '\0';
	if (strncmp(path, S.root, n) != 0 || (path[n] != '\0' && path[n] != '/'))
		fail("the daemon made or removed \"%s\" in %s, outside the managed root %s", name, path, S.root);
	snprintf(rel, PATH_MAX, "%s%s%s", path + n + (path[n] == '/'), path[n] ? "/" : "", name);
}

/* ---- cgroupfs rules for the daemon's mkdir and rmdir ---- */

/* mkdirat() of the daemon: below the root only; a new cgroup comes with its interface files. */
int __wrap_mkdirat(int dirfd, const char *name, mode_t mode)
{
	char rel[PATH_MAX];
	int r, fd;

	if (!standin_armed)
		return __real_mkdirat(dirfd, name, mode);
	rel_of(dirfd, name, rel);
	r = __real_mkdirat(dirfd, name, mode);
	if (r < 0)
		return r;
	strv_add(&S.made, rel);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		fail("cannot open the new stand-in cgroup %s", rel);
	populate(fd, "populated 0\nfrozen 0\n");
	close(fd);
	return 0;
}

/* Does the stand-in cgroup dirfd have processes or children (EBUSY on cgroupfs)? */
static bool cgroup_busy(int dirfd)
{
	struct dirent *de;
	bool busy = false;
	char c = 0;
	int fd = openat(dirfd, "cgroup.procs", O_RDONLY | O_CLOEXEC);
	DIR *d;

	if (fd >= 0) {
		busy = read(fd, &c, 1) == 1 && c != '\n';
		close(fd);
	}
	d = fdopendir(dup(dirfd));
	while (d && !busy && (de = readdir(d)))
		busy = de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
	if (d)
		closedir(d);
	return busy;
}

/* unlinkat(AT_REMOVEDIR) of the daemon: rmdir as cgroupfs does it, below the root only. */
int __wrap_unlinkat(int dirfd, const char *name, int flags)
{
	char rel[PATH_MAX];
	int fd;

	if (!standin_armed || !(flags & AT_REMOVEDIR))
		return __real_unlinkat(dirfd, name, flags);
	rel_of(dirfd, name, rel);
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return __real_unlinkat(dirfd, name, flags); /* let the kernel say why */
	if (cgroup_busy(fd)) {
		close(fd);
		errno = EBUSY;
		return -1;
	}
	for (size_t i = 0; i < N_CGROUP_FILES; i++)
		__real_unlinkat(fd, cgroup_files[i][0], 0);
	__real_unlinkat(fd, "cgroup.events", 0);
	close(fd);
	S.removed = true;
	return __real_unlinkat(dirfd, name, flags);
}

/* Set populated and/or frozen (-1: keep) in the cgroup.events of directory rel. */
static void set_events(const char *rel, int populated, int frozen)
{
	char path[PATH_MAX * 2], text[64], buf[64] = { 0 };
	int fd;

	snprintf(path, sizeof(path), "%s/%s/cgroup.events", S.root, rel);
	fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	if (populated < 0)
		populated = strstr(buf, "populated 1") != NULL;
	if (frozen < 0)
		frozen = strstr(buf, "frozen 1") != NULL;
	snprintf(text, sizeof(text), "populated %d\nfrozen %d\n", populated, frozen);
	/* One write at offset 0 after truncating: inotify reports IN_MODIFY, as cgroupfs does. */
	if (ftruncate(fd, 0) < 0 || pwrite(fd, text, strlen(text), 0) < 0)
		fail("cannot update %s", path);
	close(fd);
	snprintf(path, sizeof(path), "%s/cgroup.events", rel);
	strv_add(&S.written, path);
}

/* Does directory rel's cgroup.procs list a pid? */
static bool has_procs(const char *rel)
{
	char path[PATH_MAX * 2], c = 0;
	bool any = false;
	int fd;

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", S.root, rel);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		any = read(fd, &c, 1) == 1 && c != '\n';
		close(fd);
	}
	return any;
}

/* Empty directory rel's cgroup.procs (its processes died). */
static void clear_procs(const char *rel)
{
	char path[PATH_MAX * 2];

	snprintf(path, sizeof(path), "%s/%s/cgroup.procs", S.root, rel);
	if (truncate(path, 0) == 0) {
		snprintf(path, sizeof(path), "%s/cgroup.procs", rel);
		strv_add(&S.written, path);
	}
}

/* A change the kernel makes some time after the write (processes die, threads freeze). */
struct later {
	char rel[256];
	int populated, frozen; /* -1: unchanged */
	bool kill;
};
static struct later laters[32];
static size_t n_laters;

/* Do change now, or (when the cgroup has processes) on the next standin_settle(). */
static void change(const char *rel, int populated, int frozen, bool kill)
{
	if (!has_procs(rel) || strlen(rel) >= sizeof(laters[0].rel) || n_laters == 32) {
		if (kill)
			clear_procs(rel);
		set_events(rel, populated, frozen);
		return;
	}
	snprintf(laters[n_laters].rel, sizeof(laters[0].rel), "%s", rel);
	laters[n_laters].populated = populated;
	laters[n_laters].frozen = frozen;
	laters[n_laters++].kill = kill;
}

/* Apply the changes the kernel would have made by now (inotify tells the daemon). */
void standin_settle(void)
{
	for (size_t i = 0; i < n_laters; i++) {
		if (laters[i].kill)
			clear_procs(laters[i].rel);
		set_events(laters[i].rel, laters[i].populated, laters[i].frozen);
	}
	n_laters = 0;
}

/*
 * What the kernel does after a write the daemon made: a pid in cgroup.procs
 * populates the cgroup, "1" in cgroup.kill empties it, cgroup.freeze sets
 * "frozen"; the last two take a while when there are processes.
 * cgroup.events changes accordingly (and inotify sees it).
 */
static void after_write(const char *relpath, const char *value)
{
	const char *slash = strrchr(relpath, '/');
	char dir[PATH_MAX];
	const char *name;

	if (!slash)
		return; /* the root itself */
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - relpath), relpath);
	name = slash + 1;
	if (strcmp(name, "cgroup.procs") == 0)
		set_events(dir, 1, -1);
	else if (strcmp(name, "cgroup.kill") == 0 && value[0] == '1')
		change(dir, 0, -1, true);
	else if (strcmp(name, "cgroup.freeze") == 0)
		change(dir, -1, value[0] == '1', false);
}

/* cgfs_write() of the daemon: note the file (restored at reset) and do what the kernel would. */
int __wrap_cgfs_write(int rootfd, const char *relpath, const char *value)
{
	int r;

	if (!standin_armed || !relpath || !value)
		return __real_cgfs_write(rootfd, relpath, value);
	strv_add(&S.written, relpath);
	r = __real_cgfs_write(rootfd, relpath, value);
	if (r >= 0)
		after_write(relpath, value);
	return r;
}

/* ---- one inotify instance for every daemon ---- */

/*
 * Closing an inotify instance waits for an RCU grace period (tens of ms), which
 * would cap the harness at a few dozen inputs a second. Every daemon gets a
 * copy of one instance instead; its watches are removed and its pending
 * events drained at reset, so no input sees the previous one's.
 */
int __wrap_inotify_init1(int flags)
{
	if (!standin_armed)
		return __real_inotify_init1(flags);
	if (S.inotify < 0) {
		S.inotify = __real_inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
		if (S.inotify < 0)
			return -1;
	}
	return fcntl(S.inotify, (flags & IN_CLOEXEC) ? F_DUPFD_CLOEXEC : F_DUPFD, 0);
}

/* inotify_add_watch() of the daemon: note the watch, to remove it at reset. */
int __wrap_inotify_add_watch(int fd, const char *path, uint32_t mask)
{
	int wd = __real_inotify_add_watch(fd, path, mask);

	if (wd >= 0 && standin_armed) {
		if (S.n_wds == S.cap_wds) {
			S.cap_wds = S.cap_wds ? 2 * S.cap_wds : 64;
			S.wds = realloc(S.wds, S.cap_wds * sizeof(int));
			if (!S.wds)
				fail("out of memory");
		}
		S.wds[S.n_wds++] = wd;
	}
	return wd;
}

/* Remove every watch the last daemon left and drop pending events. */
static void inotify_reset(void)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	if (S.inotify < 0)
		return;
	for (size_t i = 0; i < S.n_wds; i++)
		inotify_rm_watch(S.inotify, S.wds[i]); /* EINVAL when already gone */
	S.n_wds = 0;
	while (read(S.inotify, buf, sizeof(buf)) > 0)
		;
}

/* ---- building and resetting the tree ---- */

/* Remove everything in directory dirfd; files must be interface files unless any_file. */
static void clear_dir(int dirfd, const char *where, bool any_file)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *de;

	if (!d)
		fail("fdopendir %s: %s", where, strerror(errno));
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type == DT_DIR) {
			int fd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0)
				fail("open %s/%s: %s", where, de->d_name, strerror(errno));
			clear_dir(fd, where, any_file);
			if (__real_unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
				fail("rmdir %s/%s: %s", where, de->d_name, strerror(errno));
			continue;
		}
		if (!any_file && !is_interface_file(de->d_name))
			fail("a file \"%s\" appeared in a cgroup the daemon made (%s)", de->d_name, where);
		if (__real_unlinkat(dirfd, de->d_name, 0) < 0)
			fail("unlink %s/%s: %s", where, de->d_name, strerror(errno));
	}
	closedir(d);
}

/* Make the stand-in cgroup k if it is missing. */
static void make_cgroup(size_t k)
{
	int rootfd = open(S.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd;

	if (rootfd < 0)
		fail("open %s: %s", S.root, strerror(errno));
	if (mkdirat(rootfd, standin_cgroups[k].path, 0755) == 0) {
		fd = openat(rootfd, standin_cgroups[k].path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			fail("open stand-in %s", standin_cgroups[k].path);
		populate(fd, standin_cgroups[k].events);
		close(fd);
	} else if (errno != EEXIST) {
		fail("mkdir stand-in %s: %s", standin_cgroups[k].path, strerror(errno));
	}
	close(rootfd);
}

/* Build the whole tree from nothing. */
static void build(void)
{
	int fd = open(S.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		fail("open %s: %s", S.root, strerror(errno));
	clear_dir(fd, S.root, true);
	fd = open(S.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	for (size_t i = 0; i < N_ROOT_FILES; i++)
		if (write_at(fd, root_files[i][0], root_files[i][1], O_CREAT) < 0)
			fail("cannot write the root's %s", root_files[i][0]);
	if (symlinkat("../outside", fd, "escape") < 0)
		fail("symlink: %s", strerror(errno));
	close(fd);
	for (size_t k = 0; k < standin_n_cgroups; k++)
		make_cgroup(k);
}

/* Remove a directory the daemon made (and what it made below it), if still there. */
static void remove_made(const char *rel)
{
	char path[PATH_MAX * 2];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", S.root, rel);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return; /* removed by the daemon, or with its parent */
	clear_dir(fd, path, false);
	if (rmdir(path) < 0)
		fail("rmdir %s: %s", path, strerror(errno));
}

/* Put back a file the daemon wrote, if it is one of ours and still there. */
static void restore_written(const char *rel)
{
	char dir[PATH_MAX], path[PATH_MAX * 2];
	const char *slash = strrchr(rel, '/'), *name = slash ? slash + 1 : rel, *text;
	int fd;

	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - rel) : 0, rel);
	text = original(dir, name);
	if (!text)
		return; /* in a directory the daemon made: gone already */
	snprintf(path, sizeof(path), "%s/%s", S.root, rel);
	fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		fail("cannot restore %s", path);
	close(fd);
}

/* Nothing may ever appear outside the root (the symlink "escape" points there). */
static void check_outside(void)
{
	DIR *d = opendir(S.outside);
	struct dirent *de;

	if (!d)
		fail("opendir %s: %s", S.outside, strerror(errno));
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			fail("\"%s\" appeared outside the managed root, in %s", de->d_name, S.outside);
	closedir(d);
}

/* Undo what the last input changed; the first call builds the tree. */
void standin_reset(void)
{
	check_outside();
	if (!S.built) {
		build();
		S.built = true;
	} else {
		for (size_t i = S.made.n; i-- > 0;)
			remove_made(S.made.v[i]);
		if (S.removed)
			for (size_t k = 0; k < standin_n_cgroups; k++)
				make_cgroup(k);
		for (size_t i = 0; i < S.written.n; i++)
			restore_written(S.written.v[i]);
	}
	inotify_reset();
	strv_clear(&S.made);
	strv_clear(&S.written);
	S.removed = false;
	n_laters = 0;
}

/* pid_max: every pid the kernel hands out is at most this. */
static long read_pid_max(void)
{
	char buf[32] = { 0 };
	int fd = open("/proc/sys/kernel/pid_max", O_RDONLY | O_CLOEXEC);
	long v = 4194304;

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) > 0)
			v = strtol(buf, NULL, 10);
		close(fd);
	}
	return v > 0 ? v : 4194304;
}

/* Create base/root and base/outside. */
void standin_init(const char *base)
{
	S.pid_max = read_pid_max();
	snprintf(S.base, sizeof(S.base), "%s", base);
	snprintf(S.root, sizeof(S.root), "%s/root", base);
	snprintf(S.outside, sizeof(S.outside), "%s/outside", base);
	if ((mkdir(S.root, 0755) < 0 && errno != EEXIST) || (mkdir(S.outside, 0755) < 0 && errno != EEXIST))
		fail("mkdir %s: %s", S.root, strerror(errno));
}

/* Number of directories the daemon made during this input. */
size_t standin_n_made(void)
{
	return S.made.n;
}

/* The i-th directory the daemon made, relative to the root. */
const char *standin_made(size_t i)
{
	return i < S.made.n ? S.made.v[i] : NULL;
}

/* The managed root. */
const char *standin_root(void)
{
	return S.root;
}

/* Remove root and outside. */
void standin_cleanup(void)
{
	int fd;

	if (!S.root[0])
		return;
	fd = open(S.root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		clear_dir(fd, S.root, true);
	rmdir(S.root);
	rmdir(S.outside);
	if (S.inotify >= 0)
		close(S.inotify);
	free(S.wds);
	strv_clear(&S.made);
	strv_clear(&S.written);
	free(S.made.v);
	free(S.written.v);
}
