/* SPDX-License-Identifier: MIT */
/* daemon.c: the cgctld under test: start it and time exec to READY=1, stop it, read its RSS. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgctl.h"
#include "cgbench.h"
#include "cleanup.h"

#define DAEMON_WAIT_MS 60000

/* Write text to a cgroup interface file. */
static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	return write(fd, text, len) == (ssize_t)len ? 0 : -errno;
}

/* Resident set of pid in KiB; -1 when unreadable. */
static long rss_kib(pid_t pid)
{
	char path[64], line[256];
	_cleanup_fclose_ FILE *f = NULL;
	long kib = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	return kib;
}

/* A datagram socket bound at b->notify for the daemon's sd_notify. */
static int notify_open(struct bench *b)
{
	return unix_socket(b->notify, SOCK_DGRAM, true);
}

/* In the child: place ourselves (the leaf on restarts), log to a file, exec cgctld. */
static void daemon_exec(struct bench *b)
{
	char procs[PATH_MAX + 32], logp[PATH_MAX], maxcg[32];
	struct stat st;
	int fd;

	if (fmt_path(procs, sizeof(procs), "%s/cgctld.leaf", b->managed) < 0 ||
	    fmt_path(logp, sizeof(logp), "%s/cgctld.%u.log", b->work, b->d.starts) < 0)
		_exit(126);
	/* The leaf has processes' rights; the managed root, once it has controllers on, does not. */
	if (stat(procs, &st) < 0)
		snprintf(procs, sizeof(procs), "%s/cgroup.procs", b->managed);
	else
		snprintf(procs, sizeof(procs), "%s/cgctld.leaf/cgroup.procs", b->managed);
	if (write_file(procs, "0") < 0)
		_exit(125);
	fd = open(logp, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	fd = open("/dev/null", O_RDONLY);
	if (fd >= 0)
		dup2(fd, 0);
	setenv("NOTIFY_SOCKET", b->notify, 1);
	snprintf(maxcg, sizeof(maxcg), "%u", b->large_n * 2 + 100000);
	execl(b->daemon_bin, "cgctld", "--socket", b->sock, "--state-dir", b->state, "--cgroup-root",
	      b->managed, "--max-cgroups", maxcg, NULL);
	_exit(127);
}

/* Wait for READY=1 from the daemon; -ECHILD when it died, -ETIMEDOUT. */
static int daemon_wait_ready(struct bench *b, int nfd)
{
	uint64_t deadline = now_ns() + (uint64_t)DAEMON_WAIT_MS * 1000000u;
	char buf[4096];

	while (now_ns() < deadline) {
		struct pollfd p = { .fd = nfd, .events = POLLIN };
		ssize_t n;

		if (waitpid(b->d.pid, NULL, WNOHANG) == b->d.pid) {
			b->d.pid = 0;
			return -ECHILD;
		}
		if (poll(&p, 1, 50) <= 0)
			continue;
		n = recv(nfd, buf, sizeof(buf) - 1, 0);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		if (strncmp(buf, "READY=1", 7) == 0 || strstr(buf, "\nREADY=1"))
			return 0;
	}
	return -ETIMEDOUT;
}

/* Connect and GetStatus until it answers. */
static int daemon_wait_status(struct bench *b)
{
	uint64_t deadline = now_ns() + (uint64_t)DAEMON_WAIT_MS * 1000000u;

	while (now_ns() < deadline) {
		struct cgctl_status *st = NULL;
		cgctl *c = NULL;
		int r = cgctl_connect(b->sock, &c);

		if (r >= 0)
			r = cgctl_get_status(c, &st);
		cgctl_status_free(st);
		cgctl_disconnect(c);
		if (r >= 0)
			return 0;
		sleep_ms(2);
	}
	return -ETIMEDOUT;
}

/* Start the daemon; record exec→READY=1 and exec→GetStatus under startup[] with entries. */
int daemon_start(struct bench *b, unsigned entries)
{
	_cleanup_close_ int nfd = notify_open(b);
	json_object *o;
	uint64_t t0, t_ready;
	int r;

	if (nfd < 0)
		return nfd;
	b->d.starts++;
	t0 = now_ns();
	b->d.pid = fork();
	if (b->d.pid < 0)
		return -errno;
	if (b->d.pid == 0)
		daemon_exec(b);
	r = daemon_wait_ready(b, nfd);
	if (r < 0)
		return r;
	t_ready = now_ns();
	r = daemon_wait_status(b);
	if (r < 0)
		return r;
	o = json_object_new_object();
	json_object_object_add(o, "entries", json_object_new_int64(entries));
	jnum(o, "ready_ms", (double)(t_ready - t0) / 1e6);
	jnum(o, "status_ms", (double)(now_ns() - t0) / 1e6);
	json_object_array_add(jarr(b->res, "startup"), o);
	note("daemon pid %d up with %u entries: READY after %.1f ms", (int)b->d.pid, entries,
	     (double)(t_ready - t0) / 1e6);
	return 0;
}

/* SIGTERM the daemon and reap it (SIGKILL after 10 s). */
void daemon_stop(struct bench *b)
{
	uint64_t deadline = now_ns() + 10000000000u;

	if (b->d.pid <= 0)
		return;
	kill(b->d.pid, SIGTERM);
	while (waitpid(b->d.pid, NULL, WNOHANG) == 0) {
		if (now_ns() > deadline) {
			kill(b->d.pid, SIGKILL);
			waitpid(b->d.pid, NULL, 0);
			break;
		}
		sleep_ms(5);
	}
	b->d.pid = 0;
}

/* Record the daemon's VmRSS under rss.<key>. */
void bench_rss(struct bench *b, const char *key)
{
	long kib = rss_kib(b->d.pid);

	jnum(jobj(b->res, "rss_kib"), key, kib < 0 ? NAN : (double)kib);
	note("daemon VmRSS (%s): %ld KiB", key, kib);
}
