// SPDX-License-Identifier: MIT
/* trust.c: directories and files the daemon trusts must be its own, private and of the right type. */
#include "trust.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "cleanup.h"

/* Fill why (if any) and return r. */
static int trust_why(int r, char *why, size_t n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int trust_why(int r, char *why, size_t n, const char *fmt, ...)
{
	va_list ap;

	if (why && n) {
		va_start(ap, fmt);
		vsnprintf(why, n, fmt, ap);
		va_end(ap);
	}
	return r;
}

/* What kind of file mode m is, in words. */
static const char *trust_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "a FIFO (named pipe)";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m) || S_ISBLK(m))
		return "a device node";
	if (S_ISLNK(m))
		return "a symbolic link";
	if (S_ISDIR(m))
		return "a directory";
	if (S_ISREG(m))
		return "a regular file";
	return "not a regular file";
}

/* Owner and mode rule shared by files and directories. */
static int trust_check_owner(const struct stat *st, const char *a, const char *b, int loose_ok, char *why,
			     size_t n)
{
	if (st->st_uid != geteuid())
		return trust_why(-EPERM, why, n, "%s%s%s: owned by uid %u, not by the daemon's uid %u; refusing to trust it",
				 a, b[0] ? "/" : "", b, (unsigned)st->st_uid, (unsigned)geteuid());
	if (!loose_ok && (st->st_mode & (S_IWGRP | S_IWOTH)))
		return trust_why(-EACCES, why, n,
				 "%s%s%s: mode %04o is writable by %s; refusing to trust it (chmod go-w after checking it)",
				 a, b[0] ? "/" : "", b, (unsigned)(st->st_mode & 07777),
				 (st->st_mode & S_IWOTH) ? "others" : "its group");
	return 0;
}

int trust_check_dir(const struct stat *st, const char *path, int loose_ok, char *why, size_t n)
{
	if (!S_ISDIR(st->st_mode))
		return trust_why(S_ISLNK(st->st_mode) ? -ELOOP : -ENOTDIR, why, n, "%s: is %s, not a directory", path,
				 trust_kind(st->st_mode));
	return trust_check_owner(st, path, "", loose_ok, why, n);
}

int trust_check_file(const struct stat *st, const char *dir, const char *name, char *why, size_t n)
{
	if (!S_ISREG(st->st_mode))
		return trust_why(S_ISLNK(st->st_mode) ? -ELOOP : -EBADFD, why, n,
				 "%s/%s: is %s, not a regular file; move it away", dir, name, trust_kind(st->st_mode));
	return trust_check_owner(st, dir, name, 0, why, n);
}

/* Explain an openat failure by looking at what is there. */
static int trust_open_failed(int dirfd, const char *dir, const char *name, int r, char *why, size_t n)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		int c = trust_check_file(&st, dir, name, why, n);
		if (c < 0)
			return c;
	}
	return trust_why(r, why, n, "%s/%s: %s", dir, name, strerror(-r));
}

int trust_openat(int dirfd, const char *dir, const char *name, int flags, mode_t mode, char *why, size_t n)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r, fl;

	fd = openat(dirfd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, mode);
	if (fd < 0) {
		r = -errno;
		if (r == -ENOENT)
			return trust_why(r, why, n, "%s/%s: %s", dir, name, strerror(ENOENT));
		return trust_open_failed(dirfd, dir, name, r, why, n);
	}
	if (fstat(fd, &st) < 0)
		return trust_why(-errno, why, n, "%s/%s: fstat: %s", dir, name, strerror(errno));
	r = trust_check_file(&st, dir, name, why, n);
	if (r < 0)
		return r;
	fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return trust_why(-errno, why, n, "%s/%s: fcntl: %s", dir, name, strerror(errno));
	return TAKE_FD(fd);
}

/* mkdir -p path, every missing component 0700. */
static int trust_mkdir_p(const char *path)
{
	_cleanup_free_ char *p = NULL;

	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -errno;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

/* One ancestor p of path, as lstat says: a directory only we or root may change, or a link of ours or root's. */
static int trust_check_ancestor(const char *p, const char *path, char *why, size_t n)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return trust_why(-errno, why, n, "%s: cannot check its parent %s: %s", path, p, strerror(errno));
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return trust_why(-EPERM, why, n,
				 "%s: its parent %s is owned by uid %u, neither root nor the daemon's uid %u, who "
				 "could replace it; refusing to trust it",
				 path, p, (unsigned)st.st_uid, (unsigned)geteuid());
	if (S_ISLNK(st.st_mode))
		return 0;
	if (!S_ISDIR(st.st_mode))
		return trust_why(-ENOTDIR, why, n, "%s: its parent %s is %s", path, p, trust_kind(st.st_mode));
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX))
		return trust_why(-EACCES, why, n,
				 "%s: its parent %s (mode %04o) is writable by %s without the sticky bit, so it "
				 "could be replaced; refusing to trust it (chmod go-w, or +t)",
				 path, p, (unsigned)(st.st_mode & 07777), (st.st_mode & S_IWOTH) ? "others" : "its group");
	return 0;
}

/* Every ancestor of path (not path itself), from the top, as spelled. */
static int trust_check_chain(const char *path, char *why, size_t n)
{
	_cleanup_free_ char *p = strdup(path);
	char *end;
	int r;

	if (!p)
		return -ENOMEM;
	/* Trailing slashes name no further ancestor. */
	for (end = p + strlen(p); end > p + 1 && end[-1] == '/'; end--)
		end[-1] = '\0';
	end = strrchr(p, '/');
	if (!end)
		return 0;
	*end = '\0';
	for (char *s = p;; s++) {
		char c = *s;

		if (c != '/' && c != '\0')
			continue;
		*s = '\0';
		r = trust_check_ancestor(s == p ? "/" : p, path, why, n);
		*s = c;
		if (r < 0 || c == '\0')
			return r;
	}
}

/*
 * The ancestors of the state directory, as spelled and as resolved, are
 * root's or ours and not writable by others (but sticky ones like /tmp):
 * else whoever may write one could swap the state directory (like sshd's
 * StrictModes and systemd's CHASE_SAFE).
 */
int trust_check_parents(const char *path, char *why, size_t n)
{
	_cleanup_free_ char *real = realpath(path, NULL);
	int r;

	if (!real)
		return trust_why(-errno, why, n, "%s: %s", path, strerror(errno));
	r = path[0] == '/' ? trust_check_chain(path, why, n) : 0;
	return r < 0 ? r : trust_check_chain(real, why, n);
}

int trust_open_dir(const char *path, char *why, size_t n)
{
	_cleanup_close_ int fd = -1;
	struct stat st;
	int r;

	r = trust_mkdir_p(path);
	if (r < 0)
		return trust_why(r, why, n, "%s: cannot create it: %s", path, strerror(-r));
	r = trust_check_parents(path, why, n);
	if (r < 0)
		return r;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		if (lstat(path, &st) == 0 && !S_ISDIR(st.st_mode))
			return trust_check_dir(&st, path, 0, why, n);
		return trust_why(r, why, n, "%s: %s", path, strerror(-r));
	}
	if (fstat(fd, &st) < 0)
		return trust_why(-errno, why, n, "%s: fstat: %s", path, strerror(errno));
	r = trust_check_dir(&st, path, 0, why, n);
	return r < 0 ? r : TAKE_FD(fd);
}

int trust_lock_line_pid(const char *line, dev_t dev, ino_t ino)
{
	unsigned long long pid, i;
	unsigned maj, min;

	/* "1: FLOCK  ADVISORY  WRITE 1234 00:1b:5678 0 EOF"; a waiter's line has "->" before FLOCK. */
	if (sscanf(line, "%*d: FLOCK %*s %*s %llu %x:%x:%llu", &pid, &maj, &min, &i) != 4)
		return 0;
	return maj == major(dev) && min == minor(dev) && i == ino && pid <= INT_MAX ? (int)pid : 0;
}

/* Are all four uids of process pid root's or our euid? false when its status cannot be read. */
static bool trust_pid_ours(int pid)
{
	char path[64], buf[4096];
	_cleanup_close_ int fd = -1;
	unsigned u[4];
	const char *p;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) < 0)
		return false;
	buf[n] = '\0';
	p = strstr(buf, "\nUid:");
	if (!p || sscanf(p + 5, "%u %u %u %u", &u[0], &u[1], &u[2], &u[3]) != 4)
		return false;
	for (size_t k = 0; k < 4; k++)
		if (u[k] != 0 && u[k] != geteuid())
			return false;
	return true;
}

bool trust_lock_ours(int fd)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/locks", "re");
	char line[256];
	struct stat st;

	if (!f || fstat(fd, &st) < 0)
		return true;
	while (fgets(line, sizeof(line), f)) {
		int pid = trust_lock_line_pid(line, st.st_dev, st.st_ino);

		if (pid > 0 && trust_pid_ours(pid))
			return true;
	}
	return false;
}
