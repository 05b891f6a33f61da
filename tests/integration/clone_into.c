/* SPDX-License-Identifier: MIT */
/* clone_into.c: create a cgroup with typed limits, get its fd with cgctl_open_cgroup(), clone3 a child into it. */

/*
 * Usage: clone_into SOCKET NAME [--attach]
 * Creates NAME with hugetlb 2MB = 4 MiB and cgroup.max.descendants = 3 (typed
 * struct cgctl_resources), opens it with cgctl_open_cgroup() and starts a child
 * with clone3(CLONE_INTO_CGROUP) that prints its /proc/self/cgroup. When the
 * kernel refuses clone3 (or with --attach) it forks a child that waits on a
 * pipe, attaches it by pidfd with cgctl_attach_pidfds(), then lets it print.
 * Prints "created NAME PATH", "cloexec 0|1", "method clone3|attach (...)",
 * "child 0::/..." and exits 0 when every step worked.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../client/cgctl.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args up to cgroup. */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Report a failed library call and exit 1. */
static void die(const char *what, int r, cgctl *c)
{
	const char *name = c ? cgctl_error_name(c) : NULL, *msg = c ? cgctl_error_message(c) : NULL;

	fprintf(stderr, "clone_into: %s: %s%s%s%s%s\n", what, cgctl_strerror(r), name ? " " : "",
		name ? name : "", msg ? ": " : "", msg ? msg : "");
	exit(1);
}

/* In the child: print the "0::" line of /proc/self/cgroup and exit. */
static void __attribute__((noreturn)) child_report(void)
{
	char line[4096];
	FILE *f = fopen("/proc/self/cgroup", "re");

	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0) {
			printf("child %s", line);
			fflush(stdout);
			_exit(0);
		}
	_exit(3);
}

/* Fork a child that waits for a byte, attach it by pidfd, release it. */
static pid_t start_attached(cgctl *c, const char *name)
{
	int go[2], pidfd, r;
	pid_t pid;
	char b = 1;

	if (pipe2(go, O_CLOEXEC) < 0)
		die("pipe", -errno, NULL);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork", -errno, NULL);
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(4);
		child_report();
	}
	close(go[0]);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0)
		die("pidfd_open", -errno, NULL);
	r = cgctl_attach_pidfds(c, name, &pidfd, 1);
	close(pidfd);
	if (r < 0) {
		kill(pid, SIGKILL);
		die("cgctl_attach_pidfds", r, c);
	}
	if (write(go[1], &b, 1) != 1)
		die("write", -errno, NULL);
	close(go[1]);
	return pid;
}

int main(int argc, char **argv)
{
	static const struct cgctl_hugetlb_limit huge[] = { { "2MB", 4u << 20 } };
	static const char *const unified[] = { "cgroup.max.descendants=3", NULL };
	struct cgctl_create_opts opts = { .size = sizeof(opts) };
	struct cgctl_resources res;
	struct cgctl_entry *e = NULL;
	struct clone_args_v2 ca = { .exit_signal = SIGCHLD, .flags = CLONE_INTO_CGROUP };
	cgctl *c = NULL;
	int fd, r, st;
	long pid;

	if (argc < 3) {
		fprintf(stderr, "usage: clone_into SOCKET NAME [--attach]\n");
		return 2;
	}
	cgctl_resources_init(&res);
	res.hugetlb = huge;
	res.n_hugetlb = 1;
	res.unified = unified;
	opts.resources = &res;
	if ((r = cgctl_connect(argv[1], &c)) < 0)
		die("cgctl_connect", r, NULL);
	if ((r = cgctl_create(c, argv[2], &opts, &e)) < 0)
		die("cgctl_create", r, c);
	printf("created %s %s\n", e->name, e->path);
	cgctl_entry_free(e);
	if ((r = cgctl_open_cgroup(c, argv[2], &fd)) < 0)
		die("cgctl_open_cgroup", r, c);
	printf("cloexec %d\n", (fcntl(fd, F_GETFD) & FD_CLOEXEC) ? 1 : 0);
	fflush(stdout);

	pid = -1;
	errno = ENOSYS;
	if (argc < 4 || strcmp(argv[3], "--attach") != 0) {
		ca.cgroup = (uint64_t)fd;
		pid = syscall(SYS_clone3, &ca, sizeof(ca));
		if (pid == 0)
			child_report();
	}
	if (pid > 0)
		printf("method clone3\n");
	else {
		printf("method attach (clone3: %s)\n", argc >= 4 ? "not tried" : strerror(errno));
		pid = start_attached(c, argv[2]);
	}
	fflush(stdout);
	close(fd);
	if (waitpid((pid_t)pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "clone_into: child failed (status %d)\n", st);
		return 1;
	}
	cgctl_disconnect(c);
	return 0;
}
