/* SPDX-License-Identifier: MIT */
/* fakepeer.c: the byte-level side of the fake Varlink servers the libcgctl suites script. */
#include "fakepeer.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static char srv_buf[1 << 16];
static size_t srv_len;

/* Next NUL-terminated message from the client into out: its length, 0 at EOF, -1 on error. */
ssize_t srv_read_msg(int fd, char *out, size_t size)
{
	char *nul;
	ssize_t n;
	size_t len;

	for (;;) {
		nul = memchr(srv_buf, '\0', srv_len);
		if (nul) {
			len = (size_t)(nul - srv_buf);
			if (len >= size)
				return -1;
			memcpy(out, srv_buf, len + 1);
			memmove(srv_buf, nul + 1, srv_len - len - 1);
			srv_len -= len + 1;
			return (ssize_t)len;
		}
		if (srv_len == sizeof(srv_buf))
			return -1;
		n = read(fd, srv_buf + srv_len, sizeof(srv_buf) - srv_len);
		if (n <= 0)
			return n == 0 ? 0 : -1;
		srv_len += (size_t)n;
	}
}

/* Write all of buf. */
int srv_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read until the client hangs up; 1 when it sent anything meanwhile. */
int srv_drain(int fd)
{
	char b[256];
	ssize_t n;
	int got = srv_len > 0;

	while ((n = read(fd, b, sizeof(b))) > 0)
		got = 1;
	return got;
}

/* Open descriptors of this process. */
int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* The child of srv_listen_as(): its exit status. */
static int srv_listen_as_child(const char *path, uid_t uid, gid_t gid, int ready)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return 2;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return 3;
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		return 4;
	if (listen(lfd, 4) < 0 || write(ready, "r", 1) != 1)
		return 5;
	alarm(10);
	cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (cfd < 0)
		return 6;
	return srv_drain(cfd);
}

/* Fork a server listening at path as uid/gid; returns once it listens. */
pid_t srv_listen_as(const char *path, uid_t uid, gid_t gid)
{
	int p[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(p), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(p[0]);
		_exit(srv_listen_as_child(path, uid, gid, p[1]));
	}
	close(p[1]);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	close(p[0]);
	return pid;
}
