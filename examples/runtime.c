/* SPDX-License-Identifier: MIT */
/* runtime.c: what a container runtime does with libcgctl: create with limits, clone3 into the cgroup, stats, freeze, destroy. */

/*
 * Usage: runtime [--socket PATH] [NAME [CMD ARGS...]]
 *
 * 1. cgctl_create() NAME (default "example-<pid>") with a pids and a memory
 *    limit; without the controllers (ControllerUnavailable) it goes on
 *    without limits, without delegation (NoDelegation) without a cgroup,
 *    as runc does on ErrRootless.
 * 2. cgctl_open_cgroup() and clone3(CLONE_INTO_CGROUP): the "init" starts
 *    inside the cgroup (no window outside it, no common-ancestor problem);
 *    where clone3 is missing, fork() and cgctl_attach_pidfds() before the
 *    child goes on.
 * 3. The init prints its cgroup and waits (or execs CMD); the parent waits
 *    until it is ready, like runc's exec fifo.
 * 4. cgctl_get_pids(), cgctl_get_stats(), cgctl_freeze(), cgctl_thaw().
 * 5. cgctl_destroy() with kill: every process goes, then the cgroup.
 *
 * Build: cc -o runtime runtime.c $(pkg-config --cflags --libs libcgctl)
 */
/* pipe2() and clone3's headers are GNU extensions: without this, GCC 14 refuses the build. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
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

#include <cgctl.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

/* struct clone_args as far as the cgroup field (clone3 takes its size). */
struct clone_args_cg {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* Print a failed call with the daemon's error name and message. */
static int report(cgctl *c, const char *what, int r)
{
	const char *name = cgctl_error_name(c), *msg = cgctl_error_message(c);

	fprintf(stderr, "runtime: %s: %s%s%s\n", what, name ? name : cgctl_strerror(r), msg ? ": " : "",
		msg ? msg : "");
	return r;
}

/* In the child: run CMD, or print where we are, say "ready" and wait to be killed. */
static void __attribute__((noreturn)) child_main(int ready_fd, char **cmd)
{
	char line[4096];
	FILE *f;

	if (cmd && cmd[0]) {
		execvp(cmd[0], cmd); /* ready_fd is O_CLOEXEC: exec tells the parent */
		_exit(127);
	}
	f = fopen("/proc/self/cgroup", "re");
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "0::", 3) == 0)
			printf("init cgroup %s", line + 3);
	fflush(stdout);
	if (write(ready_fd, "r", 1) != 1)
		_exit(1);
	for (;;)
		pause();
}

/* Start the init inside cgroup dirfd cgfd (-1: wherever we are); its pid, or -errno. */
static pid_t start_init(cgctl *c, const char *name, int cgfd, char **cmd)
{
	struct clone_args_cg args = { .exit_signal = SIGCHLD };
	int ready[2], go[2];
	pid_t pid = -1;
	char b;

	if (pipe2(ready, O_CLOEXEC) < 0 || pipe2(go, O_CLOEXEC) < 0)
		return -errno;
	fflush(stdout);
	if (cgfd >= 0) {
		args.flags = CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)cgfd;
		pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
		if (pid == 0)
			child_main(ready[1], cmd);
		if (pid > 0)
			printf("method clone3\n");
	}
	if (pid < 0) {
		/* No clone3 (before 5.7), or no cgroup: fork, then move the child in while it waits. */
		pid = fork();
		if (pid == 0) {
			close(go[1]);
			if (read(go[0], &b, 1) < 0)
				_exit(1);
			child_main(ready[1], cmd);
		}
		if (pid > 0 && cgfd >= 0) {
			int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), r;

			r = pidfd >= 0 ? cgctl_attach_pidfds(c, name, &pidfd, 1) : cgctl_attach(c, name, &pid, 1);
			if (pidfd >= 0)
				close(pidfd);
			if (r < 0)
				report(c, "attach", r);
			printf("method fork+attach\n");
		}
	}
	close(go[0]);
	close(go[1]); /* releases a forked child */
	close(ready[1]);
	if (pid < 0)
		pid = -errno;
	else if (read(ready[0], &b, 1) < 0)
		pid = -errno; /* 1 byte: ready; 0 (EOF): CMD exec'd */
	close(ready[0]);
	return pid;
}

/* Create name with limits; without the controllers, without them. 1 with a cgroup, 0 without, -errno. */
static int create_cgroup(cgctl *c, const char *name)
{
	static const char *const labels[] = { "example=runtime", NULL };
	struct cgctl_create_opts o = { .size = sizeof(o), .labels = labels };
	struct cgctl_resources res;
	int r;

	cgctl_resources_init(&res);
	res.pids_max = 64;
	res.memory_max = 256u << 20;
	o.resources = &res;
	r = cgctl_create(c, name, &o, NULL);
	if (r == -EOPNOTSUPP) {
		printf("limits skipped: %s\n", cgctl_error_message(c));
		o.resources = NULL;
		r = cgctl_create(c, name, &o, NULL);
	}
	if (r == -CGCTL_ENODELEGATION) {
		printf("no delegation: running without a cgroup (%s)\n", cgctl_error_message(c));
		return 0;
	}
	if (r < 0)
		return report(c, "create", r);
	printf("created %s\n", name);
	return 1;
}

/* Stats, freeze and thaw of the running init's cgroup. */
static int inspect(cgctl *c, const char *name)
{
	pid_t *pids = NULL;
	size_t n = 0;
	int populated = -1, frozen = -1, r;
	char *stats = NULL;

	r = cgctl_get_pids(c, name, &populated, &frozen, &pids, &n);
	if (r < 0)
		return report(c, "get_pids", r);
	printf("populated %d, %zu process(es), first %d\n", populated, n, n ? (int)pids[0] : 0);
	free(pids);
	r = cgctl_get_stats(c, name, &stats);
	if (r < 0)
		return report(c, "get_stats", r);
	printf("stats %zu bytes of JSON\n", strlen(stats));
	free(stats);
	r = cgctl_freeze(c, name, 0);
	if (r < 0)
		return report(c, "freeze", r);
	r = cgctl_get_pids(c, name, NULL, &frozen, NULL, NULL);
	printf("frozen %d\n", r < 0 ? -1 : frozen);
	r = cgctl_thaw(c, name, 0);
	if (r < 0)
		return report(c, "thaw", r);
	r = cgctl_get_pids(c, name, NULL, &frozen, NULL, NULL);
	printf("thawed, frozen %d\n", r < 0 ? -1 : frozen);
	return 0;
}

int main(int argc, char **argv)
{
	const char *socket = NULL, *name;
	char defname[64];
	int r, have_cg, cgfd = -1, status, existed = 0, failed = 0;
	cgctl *c = NULL;
	pid_t pid;

	if (argc > 2 && strcmp(argv[1], "--socket") == 0) {
		socket = argv[2];
		argv += 2;
		argc -= 2;
	}
	snprintf(defname, sizeof(defname), "example-%d", (int)getpid());
	name = argc > 1 ? argv[1] : defname;
	r = cgctl_connect(socket, &c);
	if (r < 0) {
		fprintf(stderr, "runtime: cannot reach cgctld: %s\n", cgctl_strerror(r));
		return 1;
	}
	have_cg = create_cgroup(c, name);
	if (have_cg < 0)
		return 1;
	if (have_cg && (r = cgctl_open_cgroup(c, name, &cgfd)) < 0)
		failed = report(c, "open_cgroup", r);
	pid = failed ? -1 : start_init(c, name, cgfd, argc > 2 ? argv + 2 : NULL);
	if (cgfd >= 0)
		close(cgfd);
	if (pid < 0 && !failed)
		failed = report(c, "start", (int)pid);
	if (pid > 0 && have_cg)
		failed = inspect(c, name) < 0;
	if (have_cg) {
		r = cgctl_destroy(c, name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, &existed);
		if (r < 0)
			failed = report(c, "destroy", r);
		else
			printf("destroyed %s (existed %d)\n", name, existed);
	} else if (pid > 0) {
		kill(pid, SIGKILL); /* no cgroup to kill it with */
	}
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		printf("init %s %d\n", WIFSIGNALED(status) ? "killed by signal" : "exited",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	cgctl_disconnect(c);
	return failed ? 1 : 0;
}
