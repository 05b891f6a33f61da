/* SPDX-License-Identifier: MIT */
/* cli_run.c: `cgctl run`: start a command inside a fresh cgroup, forward signals, exit with its status. */

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* Exit statuses of run's own failures, as env(1) and timeout(1) have them. */
enum {
	RUN_EXIT_TIMEOUT = 124,
	RUN_EXIT_FAILED = 125, /* cgctl itself could not run CMD */
	RUN_EXIT_NOEXEC = 126, /* CMD found but not executable */
	RUN_EXIT_NOENT = 127,  /* CMD not found */
};
/* Grace between the TERM and the KILL of --timeout. */
#define RUN_KILL_AFTER_S 5

/* The kernel's struct clone_args up to cgroup (CLONE_ARGS_SIZE_VER2), spelled out for old headers. */
struct run_clone_args {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

/* The options of one run. */
struct run_args {
	const char *name;      /* --name, or NULL: generated */
	bool keep;
	bool wait_cleanup;     /* Destroy and wait, rather than leave it to the lease */
	bool no_clone3;
	bool verbose;
	int timeout_s;         /* 0: none */
	json_object *res;      /* limits, a Resources object */
	char **cmd;
};

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}

/* Signals run forwards to CMD, plus SIGCHLD, all blocked while it waits. */
static void run_sigset(sigset_t *set)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD };

	sigemptyset(set);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(set, sigs[i]);
}

/* Parse run's options; -1 to go on, else the exit status. */
static int run_parse(struct cli *cli, int argc, char **argv, struct run_args *a)
{
	enum { O_NAME = 0x400, O_KEEP, O_TIMEOUT, O_NO_CLONE3, O_WAIT_CLEANUP };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, CLI_LIMIT_LONGOPTS,
		{ "name", required_argument, NULL, O_NAME },
		{ "keep", no_argument, NULL, O_KEEP },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "no-clone3", no_argument, NULL, O_NO_CLONE3 },
		{ "wait-cleanup", no_argument, NULL, O_WAIT_CLEANUP },
		{ "verbose", no_argument, NULL, 'v' },
		{}
	};
	const char *why;
	int c, r;

	/* "+": the options end at CMD, whose own options are its own. */
	while ((c = cli_next_opt(cli, argc, argv, "+:hqv", longopts)) != -1) {
		switch (c) {
		case 'h':         return cli_command_help(argv[0]);
		case 'v':         a->verbose = true; break;
		case O_NAME:      a->name = optarg; break;
		case O_KEEP:      a->keep = true; break;
		case O_NO_CLONE3: a->no_clone3 = true; break;
		case O_WAIT_CLEANUP: a->wait_cleanup = true; break;
		case O_TIMEOUT:
			if (cli_parse_int(optarg, 1, 365 * 24 * 3600, &a->timeout_s) < 0)
				return cli_usage_error(argv[0], "invalid --timeout '%s': want seconds > 0", optarg);
			break;
		case CLI_OPT_ERROR:
			return CLI_EXIT_USAGE;
		default:
			r = cli_limit_add_opt(a->res, c, optarg, &why);
			if (r == -ENOMEM)
				return CLI_EXIT_FAILURE;
			if (r < 0)
				return cli_usage_error(argv[0], "invalid %s '%s': %s", cli_opt_name(longopts, c),
						       optarg, why ? why : "malformed");
		}
	}
	if (optind >= argc)
		return cli_usage_error(argv[0], "missing CMD");
	a->cmd = argv + optind;
	return -1;
}

/* Create the cgroup; its name (malloc'd) in *ret_name, its creation time (µs) in *ret_created. */
static int run_create(struct cli *cli, const struct run_args *a, char **ret_name, uint64_t *ret_created)
{
	/* Leased: a cgctl run that is killed outright leaves nothing behind. */
	struct cgctl_create_opts opts = { .size = sizeof(opts), .generate = !a->name, .lease = !a->keep };
	struct cgctl_entry *e = NULL;
	int r;

	if (json_object_object_length(a->res) > 0)
		opts.resources_json = json_object_to_json_string_ext(a->res, JSON_C_TO_STRING_PLAIN);
	r = cgctl_create(cli->conn, a->name, &opts, &e);
	if (r < 0) {
		cli_fail(cli, r, "Create");
		return RUN_EXIT_FAILED;
	}
	*ret_name = e->name;
	*ret_created = e->created_usec;
	e->name = NULL;
	cgctl_entry_free(e);
	return 0;
}

/* In the child: restore the signal mask, exec CMD; never returns. */
static void __attribute__((noreturn)) run_exec(char **cmd, const sigset_t *oldmask)
{
	sigprocmask(SIG_SETMASK, oldmask, NULL);
	execvp(cmd[0], cmd);
	fprintf(stderr, "cgctl run: %s: %s\n", cmd[0], strerror(errno));
	_exit(errno == ENOENT ? RUN_EXIT_NOENT : RUN_EXIT_NOEXEC);
}

/* Start CMD straight inside the cgroup: clone3(CLONE_INTO_CGROUP). The pid, or -errno. */
static pid_t spawn_clone3(int cgfd, char **cmd, const sigset_t *oldmask)
{
	struct run_clone_args ca = {
		.flags = CLONE_INTO_CGROUP, .exit_signal = SIGCHLD, .cgroup = (uint64_t)cgfd,
	};
	long pid;

	fflush(NULL);
	pid = syscall(SYS_clone3, &ca, sizeof(ca));
	if (pid < 0)
		return -errno;
	if (pid == 0)
		run_exec(cmd, oldmask);
	return (pid_t)pid;
}

/* Whether a clone3 failure means "try the attach path" rather than "give up". */
static bool clone3_fallback_ok(int r)
{
	return r == -EACCES || r == -EPERM || r == -EBUSY || r == -ENOSYS || r == -E2BIG || r == -EINVAL ||
	       r == -EOPNOTSUPP;
}

/* Move child pid into name by a pidfd (the daemon may not share our pid namespace), by pid without pidfds. */
static int run_attach(struct cli *cli, const char *name, pid_t pid)
{
	_cleanup_close_ int fd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (fd < 0)
		return cgctl_attach(cli->conn, name, &pid, 1);
	return cgctl_attach_pidfds(cli->conn, name, &fd, 1);
}

/* Fork a child that waits on a pipe until the daemon has attached it, then execs CMD. */
static pid_t spawn_attached(struct cli *cli, const char *name, char **cmd, const sigset_t *oldmask)
{
	int go[2], r;
	pid_t pid;
	char c;

	if (pipe2(go, O_CLOEXEC) < 0) {
		fprintf(stderr, "cgctl run: pipe: %s\n", strerror(errno));
		return -errno;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		r = -errno;
		fprintf(stderr, "cgctl run: fork: %s\n", strerror(-r));
		close(go[0]);
		close(go[1]);
		return r;
	}
	if (pid == 0) {
		close(go[1]);
		while ((r = (int)read(go[0], &c, 1)) < 0 && errno == EINTR)
			;
		if (r != 1)
			_exit(RUN_EXIT_FAILED); /* the parent could not place us */
		close(go[0]);
		run_exec(cmd, oldmask);
	}
	close(go[0]);
	r = run_attach(cli, name, pid);
	if (r < 0) {
		cli_fail(cli, r, "Attach");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(go[1]);
		return r;
	}
	c = 1;
	if (write(go[1], &c, 1) != 1) {
		r = -errno;
		fprintf(stderr, "cgctl run: releasing the child: %s\n", strerror(-r));
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(go[1]);
		return r;
	}
	close(go[1]);
	return pid;
}

/* Start CMD in the cgroup, clone3 first; the pid, or -errno (said why). */
static pid_t run_spawn(struct cli *cli, const struct run_args *a, const char *name, const sigset_t *oldmask)
{
	const char *how = "attach";
	int fd = -1, r;
	pid_t pid = -ENOSYS;

	if (!a->no_clone3) {
		r = cgctl_open_cgroup(cli->conn, name, &fd);
		if (r < 0) {
			cli_fail(cli, r, "OpenCgroup");
			return r;
		}
		pid = spawn_clone3(fd, a->cmd, oldmask);
		close(fd);
		if (pid >= 0)
			how = "clone3";
		else if (!clone3_fallback_ok(pid)) {
			fprintf(stderr, "cgctl run: clone3: %s\n", strerror(-pid));
			return pid;
		} else if (a->verbose)
			fprintf(stderr, "cgctl run: clone3(CLONE_INTO_CGROUP) refused (%s); attaching instead\n",
				strerror(-pid));
	}
	if (pid < 0) {
		pid = spawn_attached(cli, name, a->cmd, oldmask);
		if (pid < 0)
			return pid;
	}
	if (a->verbose)
		fprintf(stderr, "cgctl run: started %s as pid %d in %s (%s)\n", a->cmd[0], (int)pid, cli_esc(name), how);
	return pid;
}

/* Time left until deadline (CLOCK_MONOTONIC); zero when past. */
static struct timespec left_until(const struct timespec *deadline)
{
	struct timespec now, d;

	clock_gettime(CLOCK_MONOTONIC, &now);
	d.tv_sec = deadline->tv_sec - now.tv_sec;
	d.tv_nsec = deadline->tv_nsec - now.tv_nsec;
	if (d.tv_nsec < 0) {
		d.tv_nsec += 1000000000L;
		d.tv_sec--;
	}
	if (d.tv_sec < 0)
		d.tv_sec = d.tv_nsec = 0;
	return d;
}

/* The --timeout expired (stage 0: TERM to the cgroup, 1: KILL); the next deadline in *deadline. */
static void run_timeout(struct cli *cli, const char *name, int stage, struct timespec *deadline)
{
	int r = cgctl_kill(cli->conn, name, stage == 0 ? SIGTERM : SIGKILL);

	if (r < 0)
		cli_fail(cli, r, "Kill");
	deadline->tv_sec += RUN_KILL_AFTER_S;
}

/* Forward signals and wait for the child; its wait status in *ret_status, 1 when --timeout fired. */
static int run_wait(struct cli *cli, const struct run_args *a, const char *name, pid_t pid,
		    const sigset_t *set, int *ret_status)
{
	struct timespec deadline = {}, left;
	siginfo_t si;
	int sig, stage = 0, st;
	pid_t w;

	if (a->timeout_s > 0) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += a->timeout_s;
	}
	for (;;) {
		w = waitpid(pid, &st, WNOHANG);
		if (w == pid) {
			*ret_status = st;
			return stage > 0;
		}
		if (w < 0 && errno != EINTR)
			return -errno;
		left = left_until(&deadline);
		sig = a->timeout_s > 0 ? sigtimedwait(set, &si, &left) : sigwaitinfo(set, &si);
		if (sig < 0 && errno == EAGAIN) {
			run_timeout(cli, name, stage++, &deadline);
			continue;
		}
		if (sig < 0 || sig == SIGCHLD)
			continue;
		/* The terminal already sent it to the whole foreground group, CMD included. */
		if (si.si_code != SI_KERNEL)
			kill(pid, sig);
	}
}

/*
 * Remove the cgroup with whatever is left in it. By default that is the
 * lease's work: the daemon kills and removes it when our connection closes,
 * as it would for a killed cgctl, and we spare the round trip and its sync.
 * --wait-cleanup lets the lease go here and waits until that very cgroup is
 * gone (cli_lease_release()): never a Destroy by name, which could reach a
 * later cgroup of the same name.
 */
static int run_cleanup(struct cli *cli, const struct run_args *a, const char *name, uint64_t created)
{
	if (a->keep) {
		fprintf(stderr, "cgctl run: kept cgroup %s\n", cli_esc(name));
		return 0;
	}
	if (!a->wait_cleanup)
		return 0;
	return cli_lease_release(cli, name, created);
}

/* The exit status run reports for CMD's wait status. */
static int run_exit_status(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return RUN_EXIT_FAILED;
}

/* Create, start, wait, clean up. */
static int run_main(struct cli *cli, const struct run_args *a)
{
	_cleanup_free_ char *name = NULL;
	sigset_t set, oldmask;
	int r, st = 0, timed_out;
	uint64_t created = 0;
	pid_t pid;

	if (cli_connect(cli) != 0)
		return RUN_EXIT_FAILED;
	if ((r = run_create(cli, a, &name, &created)) != 0)
		return r;
	/* Auto-reaping would hide CMD's status from us. */
	signal(SIGCHLD, SIG_DFL);
	run_sigset(&set);
	sigprocmask(SIG_BLOCK, &set, &oldmask);
	pid = run_spawn(cli, a, name, &oldmask);
	if (pid < 0) {
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
		if (a->keep)
			cgctl_destroy(cli->conn, name, CGCTL_DESTROY_RECURSIVE | CGCTL_DESTROY_KILL, NULL);
		else
			cli_lease_release(cli, name, created);
		return RUN_EXIT_FAILED;
	}
	timed_out = run_wait(cli, a, name, pid, &set, &st);
	sigprocmask(SIG_SETMASK, &oldmask, NULL);
	run_cleanup(cli, a, name, created); /* CMD's status wins; a failed cleanup was reported */
	if (timed_out < 0) {
		fprintf(stderr, "cgctl run: waiting for %s: %s\n", a->cmd[0], strerror(-timed_out));
		return RUN_EXIT_FAILED;
	}
	if (timed_out)
		return RUN_EXIT_TIMEOUT;
	return run_exit_status(st);
}

/* run [--name NAME] [limits] [--keep | --wait-cleanup] [--timeout SEC] -- CMD... */
int cli_cmd_run(struct cli *cli, int argc, char **argv)
{
	_cleanup_(json_putp) json_object *res = json_object_new_object();
	struct run_args a = { .res = res };
	int r;

	if (!res)
		return RUN_EXIT_FAILED;
	if ((r = run_parse(cli, argc, argv, &a)) >= 0)
		return r;
	if (a.name && !a.name[0])
		return cli_usage_error(argv[0], "--name must not be empty");
	if (a.keep && a.wait_cleanup)
		return cli_usage_error(argv[0], "--keep and --wait-cleanup exclude each other");
	return run_main(cli, &a);
}
