/* SPDX-License-Identifier: MIT */
/* as_user.c: the harness's one-exec "put me in a cgroup, become a user, clean environment, time out, run". */

/*
 * Usage: as_user CGROUP_DIR TIMEOUT UID GID init|clear [VAR=VALUE...] CMD [ARG...]
 *
 * What the harness did with four programs (sh, timeout, setpriv, env), each an
 * exec of about 6 ms on the test machine, for every CLI call of every test:
 *   - writes its pid to CGROUP_DIR/cgroup.procs (none when CGROUP_DIR is "");
 *   - becomes UID:GID, with UID's supplementary groups ("init", as setpriv
 *     --init-groups) or none ("clear");
 *   - runs CMD (searched in the new PATH) with only the VAR=VALUE environment
 *     and SIGHUP at its default (an ignored signal stays ignored across exec:
 *     a harness run under nohup must not change what the tests see);
 *   - TIMEOUT 0: execs CMD in place (its pid is this one's). Otherwise, as
 *     timeout -k 2 TIMEOUT: CMD runs in a child, in this process's new process
 *     group; SIGTERM to the group after TIMEOUT seconds, SIGKILL 2 s later
 *     (exit 124, or 137 when it took the SIGKILL); TERM, INT, HUP and QUIT
 *     received are passed on; a CMD killed by a signal kills this process with it.
 * Exit status: CMD's; 125 when the cgroup move or the set-up fails, 126 when
 * CMD cannot run, 127 when it is not found.
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define KILL_AFTER 2

static volatile sig_atomic_t timed_out;
static pid_t child;

/* Print "as_user: WHAT: strerror" and exit with status st. */
static void die(int st, const char *what)
{
	fprintf(stderr, "as_user: %s: %s\n", what, strerror(errno));
	exit(st);
}

/* Move this process into cgroup directory dir (nothing when dir is empty). */
static void join_cgroup(const char *dir)
{
	char path[4096], pid[32];
	FILE *f;
	int n;

	if (!*dir)
		return;
	n = snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	if (n < 0 || (size_t)n >= sizeof(path)) {
		errno = ENAMETOOLONG;
		die(125, dir);
	}
	snprintf(pid, sizeof(pid), "%d\n", (int)getpid());
	f = fopen(path, "we");
	if (!f)
		die(125, path);
	if (fputs(pid, f) == EOF || fclose(f) == EOF)
		die(125, path);
}

/* Become uid:gid, with uid's supplementary groups (init) or none. */
static void become(uid_t uid, gid_t gid, int init_groups)
{
	struct passwd *pw;

	if (init_groups) {
		pw = getpwuid(uid);
		if (!pw) {
			errno = ENOENT;
			die(125, "no passwd entry for the uid");
		}
		if (initgroups(pw->pw_name, gid) < 0)
			die(125, "initgroups");
	} else if (setgroups(0, NULL) < 0) {
		die(125, "setgroups");
	}
	if (setresgid(gid, gid, gid) < 0)
		die(125, "setresgid");
	if (setresuid(uid, uid, uid) < 0)
		die(125, "setresuid");
}

/* The clean environment from the VAR=VALUE words at argv[0...]; returns the first other word's index. */
static int set_environment(char **argv)
{
	int i;

	if (clearenv() != 0)
		die(125, "clearenv");
	for (i = 0; argv[i] && strchr(argv[i], '='); i++)
		if (putenv(argv[i]) != 0)
			die(125, "putenv");
	return i;
}

/* Run cmd (searched in the new PATH) with SIGHUP at its default; never returns. */
static void run(char **cmd)
{
	signal(SIGHUP, SIG_DFL);
	execvp(cmd[0], cmd);
	fprintf(stderr, "as_user: %s: %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Signal handler, as timeout's: SIGALRM is the time being up (SIGTERM, then
 * SIGKILL after KILL_AFTER s); others are passed on. Every signal but SIGKILL
 * also goes to the process group (what CMD started), followed by SIGCONT. */
static void on_signal(int sig)
{
	if (sig == SIGALRM) {
		if (timed_out++) {
			if (child > 0)
				kill(child, SIGKILL);
			return;
		}
		sig = SIGTERM;
		alarm(KILL_AFTER);
	}
	if (child <= 0)
		_exit(128 + sig);
	kill(child, sig);
	signal(sig, SIG_IGN); /* the group's copy is not for us */
	kill(0, sig);
	kill(child, SIGCONT);
	kill(0, SIGCONT);
}

/* Handle the signals timeout handles; ignore terminal stops, as it does. */
static void install_handlers(void)
{
	static const int sigs[] = { SIGALRM, SIGTERM, SIGINT, SIGHUP, SIGQUIT };
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	signal(SIGTTIN, SIG_IGN);
	signal(SIGTTOU, SIG_IGN);
}

/* Die of signal sig as CMD did (no core file), so that the caller sees the same status. */
static void die_of(int sig)
{
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0);
	signal(sig, SIG_DFL);
	raise(sig);
	exit(128 + sig);
}

/* Run cmd in a child under the timeout; return its exit status as timeout would. */
static int supervise(unsigned timeout, uid_t uid, gid_t gid, int init_groups, char **argv)
{
	int status, first;

	setpgid(0, 0);
	install_handlers();
	child = fork();
	if (child < 0)
		die(125, "fork");
	if (child == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGTTIN, SIG_DFL);
		signal(SIGTTOU, SIG_DFL);
		become(uid, gid, init_groups);
		first = set_environment(argv);
		if (!argv[first]) {
			errno = EINVAL;
			die(125, "no command");
		}
		run(argv + first);
	}
	alarm(timeout);
	while (waitpid(child, &status, 0) < 0)
		if (errno != EINTR)
			die(125, "waitpid");
	if (timed_out)
		return WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL ? 128 + SIGKILL : 124;
	if (WIFSIGNALED(status))
		die_of(WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* Parse a non-negative decimal number; exit 125 on anything else. */
static unsigned long number(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "as_user: bad %s '%s'\n", what, s);
		exit(125);
	}
	return v;
}

int main(int argc, char **argv)
{
	unsigned long timeout;
	uid_t uid;
	gid_t gid;
	int init_groups, first;

	if (argc < 7) {
		fprintf(stderr, "usage: as_user CGROUP_DIR TIMEOUT UID GID init|clear [VAR=VALUE...] CMD [ARG...]\n");
		return 125;
	}
	timeout = number(argv[2], "timeout");
	uid = (uid_t)number(argv[3], "uid");
	gid = (gid_t)number(argv[4], "gid");
	if (strcmp(argv[5], "init") != 0 && strcmp(argv[5], "clear") != 0) {
		fprintf(stderr, "as_user: groups must be init or clear, not '%s'\n", argv[5]);
		return 125;
	}
	init_groups = strcmp(argv[5], "init") == 0;
	join_cgroup(argv[1]);
	if (timeout > 0)
		return supervise((unsigned)timeout, uid, gid, init_groups, argv + 6);
	become(uid, gid, init_groups);
	first = set_environment(argv + 6);
	if (!argv[6 + first]) {
		fprintf(stderr, "as_user: no command\n");
		return 125;
	}
	run(argv + 6 + first);
	return 126;
}
