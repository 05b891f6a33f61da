/* SPDX-License-Identifier: MIT */
/* fakepeer.c: the byte-level side of the fake Varlink servers the libcgctl suites script. */
#include "fakepeer.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <string.h>
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
