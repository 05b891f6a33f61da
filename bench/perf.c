/* SPDX-License-Identifier: MIT */
/* perf.c: CGBENCH_PERF: profile one phase with perf (record or stat), system-wide or the daemon. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgbench.h"

/* perf's arguments for the mode in CGBENCH_PERF, into argv (NULL-terminated); false: none. */
static bool perf_argv(struct bench *b, const char *out, char *pid, const char **argv)
{
	static const char *const events = "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,"
		"syscalls:sys_enter_write,syscalls:sys_enter_mkdirat,syscalls:sys_enter_unlinkat,"
		"syscalls:sys_enter_openat,syscalls:sys_enter_openat2,syscalls:sys_enter_newfstatat,"
		"syscalls:sys_enter_read,syscalls:sys_enter_close,syscalls:sys_enter_inotify_add_watch,"
		"syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_epoll_wait,"
		"syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_getdents64,syscalls:sys_enter_inotify_rm_watch,"
		"syscalls:sys_enter_fsetxattr,syscalls:sys_enter_fgetxattr,syscalls:sys_enter_geteuid,"
		"syscalls:sys_enter_getrandom,raw_syscalls:sys_enter";
	size_t n = 0;

	if (!b->perf_mode)
		return false;
	argv[n++] = "perf";
	if (strcmp(b->perf_mode, "stat") == 0) {
		if (b->d.pid <= 0)
			return false; /* start-up: no pid to follow yet */
		argv[n++] = "stat";
		argv[n++] = "-e";
		argv[n++] = events;
	} else {
		argv[n++] = "record";
		argv[n++] = "-F";
		argv[n++] = "1999";
		argv[n++] = "--call-graph";
		argv[n++] = strcmp(b->perf_mode, "dwarf") == 0 ? "dwarf,16384" : "fp";
	}
	if (b->d.pid > 0 && strcmp(b->perf_mode, "1") != 0) {
		argv[n++] = "-p";
		argv[n++] = pid;
	} else {
		argv[n++] = "-a";
	}
	argv[n++] = "-o";
	argv[n++] = out;
	argv[n] = NULL;
	return true;
}

/* Start perf for phase, output in OUT/perf-<phase>.{data,txt}. */
void perf_begin(struct bench *b, const char *phase)
{
	const char *argv[24];
	char out[PATH_MAX], pid[16];
	pid_t p;

	snprintf(pid, sizeof(pid), "%d", (int)b->d.pid);
	if (!b->perf_mode || fmt_path(out, sizeof(out), "%s/perf-%s.%s", b->out_dir, phase,
				      strcmp(b->perf_mode, "stat") == 0 ? "txt" : "data") < 0 ||
	    !perf_argv(b, out, pid, argv))
		return;
	p = fork();
	if (p == 0) {
		int nul = open("/dev/null", O_RDWR);
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		execvp("perf", (char *const *)argv);
		_exit(127);
	}
	b->perf_pid = p > 0 ? p : 0;
	sleep_ms(300); /* let it attach before the load starts */
}

/* Stop the profile started by perf_begin(). */
void perf_end(struct bench *b)
{
	if (b->perf_pid <= 0)
		return;
	kill(b->perf_pid, SIGINT);
	waitpid(b->perf_pid, NULL, 0);
	b->perf_pid = 0;
}
