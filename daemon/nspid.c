/* SPDX-License-Identifier: MIT */
/*
 * nspid.c: the pid namespace of a process, from the NSpid line the kernel
 * prints in /proc/PID/status and in a pidfd's fdinfo: one number a namespace,
 * from the one procfs was mounted in down to the process's own.
 */
#include "nspid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77 /* Linux 6.5 */
#endif

int nspid_parse(const char *text)
{
	const char *p;
	int n = 0;

	if (strncmp(text, "NSpid:", 6) == 0)
		p = text + 6;
	else if ((p = strstr(text, "\nNSpid:")))
		p += 7;
	else
		return -EBADMSG;
	p += strspn(p, " \t");
	if (strncmp(p, "-1", 2) == 0 && (p[2] == '\n' || p[2] == '\0'))
		return -ESRCH;
	for (;;) {
		p += strspn(p, " \t");
		if (*p < '0' || *p > '9')
			break;
		n++;
		p += strspn(p, "0123456789");
	}
	if (n == 0 || (*p != '\n' && *p != '\0'))
		return -EBADMSG;
	return n - 1;
}

/* Read a small /proc file whole into buf (NUL-terminated). */
static int nspid_read(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The NSpid depth of the process pidfd names, through its fdinfo. */
static int nspid_of_pidfd(int pidfd)
{
	char path[64], buf[1024];
	int r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	r = nspid_read(path, buf, sizeof(buf));
	return r < 0 ? r : nspid_parse(buf);
}

/*
 * SO_PEERPIDFD names the very process that connected, even once it is gone
 * and its pid reused; without it (before Linux 6.5), /proc/PID/status now.
 * Linux 6.5 to 6.15 answer EINVAL for a peer already reaped: gone, and its
 * pid, maybe another process's by now, is not read.
 */
int nspid_of_peer(int fd, pid_t pid)
{
	_cleanup_close_ int pidfd = -1;
	socklen_t len = sizeof(pidfd);
	char path[64], buf[4096];
	int r;

	if (pid <= 0)
		return -ESRCH;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
		return nspid_of_pidfd(pidfd);
	if (errno == EINVAL)
		return -ESRCH;
	if (errno != ENOPROTOOPT)
		return -errno;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = nspid_read(path, buf, sizeof(buf));
	if (r == -ENOENT)
		return -ESRCH;
	return r < 0 ? r : nspid_parse(buf);
}
