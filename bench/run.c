/* SPDX-License-Identifier: MIT */
/* run.c: `cgctl run true` against `systemd-run --user --scope true` and plain fork+exec, timed. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgbench.h"
#include "cleanup.h"

/* How a command is run when not simply as this process: as the user of the systemd --user
 * bench/run.sh booted, from a cgroup inside that manager's delegated subtree. Its client
 * library refuses a manager of another uid, and the manager can only move a process into a
 * scope when it may write the common ancestor's cgroup.procs. */
struct runas {
	int procs_fd; /* that cgroup's cgroup.procs, open for writing */
	uid_t uid;
	gid_t gid;
	char env_rt[PATH_MAX + 32], env_path[PATH_MAX + 8]; /* XDG_RUNTIME_DIR=, PATH= */
	char *envp[3];
};

/* In a forked child: move into as's cgroup, become its user (primary group only); 0 or -errno. */
static int runas_enter(const struct runas *as)
{
	/* "0" is the writer itself: no formatting between fork and exec. */
	if (write(as->procs_fd, "0", 1) != 1 || setgroups(1, &as->gid) < 0 ||
	    setresgid(as->gid, as->gid, as->gid) < 0 || setresuid(as->uid, as->uid, as->uid) < 0 || chdir("/") < 0)
		return -errno;
	return 0;
}

/* fork+exec argv (as as, when not NULL) with stdio on /dev/null (stderr to errlog);
 * exit status, -ETIMEDOUT, -errno. */
static int run_cmd(char *const argv[], const char *errlog, const struct runas *as, unsigned timeout_ms,
		   double *ret_ms)
{
	uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)timeout_ms * 1000000u;
	int status = 0;
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0) {
		int nul = open("/dev/null", O_RDWR), e = errlog ? open(errlog, O_WRONLY | O_CREAT | O_APPEND, 0600) : -1;

		dup2(nul, 0);
		dup2(nul, 1);
		dup2(e >= 0 ? e : nul, 2);
		if (as && runas_enter(as) < 0) {
			static const char m[] = "cgbench: cannot move into the manager's cgroup or become its user\n";

			(void)!write(2, m, sizeof(m) - 1);
			_exit(126);
		}
		if (as)
			execvpe(argv[0], argv, as->envp);
		else
			execvp(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);

		if (w == pid)
			break;
		if (now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			return -ETIMEDOUT;
		}
		/* Spin-free but fine-grained: these commands take milliseconds. */
		usleep(100);
	}
	if (ret_ms)
		*ret_ms = (double)(now_ns() - t0) / 1e6;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/*
 * p50 wall time of reps posix_spawn()s of argv (glibc: clone with CLONE_VM |
 * CLONE_VFORK, no copy of our page tables), stdio on /dev/null: what an exec
 * costs when the process starting it is not this big one. ret: p50 and fastest
 * in ms; -EIO when one fails.
 */
static int time_spawn(char *const argv[], unsigned reps, double ret[2])
{
	_cleanup_free_ double *v = calloc(reps ? reps : 1, sizeof(double));
	posix_spawn_file_actions_t fa;
	int r = 0;

	if (!v || posix_spawn_file_actions_init(&fa) != 0)
		return -ENOMEM;
	for (int fd = 0; fd < 3; fd++)
		posix_spawn_file_actions_addopen(&fa, fd, "/dev/null", O_RDWR, 0);
	for (unsigned i = 0; i < reps && r == 0; i++) {
		uint64_t t0 = now_ns();
		int status;
		pid_t pid;

		if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ) != 0 || waitpid(pid, &status, 0) != pid ||
		    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
			r = -EIO;
		v[i] = (double)(now_ns() - t0) / 1e6;
	}
	posix_spawn_file_actions_destroy(&fa);
	if (r == 0) {
		ret[0] = median(v, reps);
		ret[1] = v[0]; /* sorted by median() */
	}
	return r;
}

/* p50 and fastest wall time (ret[0], ret[1]) of reps runs of argv; -EIO when one fails. */
static int time_cmd(char *const argv[], const char *errlog, const struct runas *as, unsigned reps,
		    double ret[2])
{
	_cleanup_free_ double *v = calloc(reps ? reps : 1, sizeof(double));
	int r;

	if (!v)
		return -ENOMEM;
	for (unsigned i = 0; i < reps; i++) {
		r = run_cmd(argv, errlog, as, 20000, &v[i]);
		if (r != 0)
			return r < 0 ? r : -EIO;
	}
	ret[0] = median(v, reps);
	ret[1] = v[0]; /* sorted by median() */
	return 0;
}

/* The last non-empty line of file path into buf ("" when none): why a command failed. */
static const char *last_line(const char *path, char *buf, size_t size)
{
	_cleanup_fclose_ FILE *f = fopen(path, "re");
	char line[512];

	buf[0] = '\0';
	while (f && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (line[0])
			snprintf(buf, size, "%s", line);
	}
	return buf;
}

/* Fill as for the manager bench/run.sh booted, its cgroup.procs open in as->procs_fd (the
 * caller closes it); 0, or -1 with the reason in why. */
static int sdrun_as(struct bench *b, struct runas *as, char *why, size_t size)
{
	const char *path = getenv("PATH");
	char procs[PATH_MAX];

	*as = (struct runas){ .procs_fd = -1, .uid = b->sd_uid, .gid = b->sd_gid };
	as->envp[0] = as->env_rt;
	as->envp[1] = as->env_path;
	if (fmt_path(procs, sizeof(procs), "%s/cgroup.procs", b->sd_cgroup) < 0 ||
	    fmt_path(as->env_rt, sizeof(as->env_rt), "XDG_RUNTIME_DIR=%s", b->sd_runtime) < 0 ||
	    fmt_path(as->env_path, sizeof(as->env_path), "PATH=%s", path ? path : "/usr/bin:/bin") < 0) {
		snprintf(why, size, "--systemd-* paths too long");
		return -1;
	}
	as->procs_fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (as->procs_fd < 0) {
		snprintf(why, size, "cannot open %s: %s", procs, strerror(errno));
		return -1;
	}
	return 0;
}

/* `systemd-run --user --scope true` into o: against the manager bench/run.sh booted
 * (--systemd-runtime-dir), else against whatever this process's environment reaches. */
static void bench_sdrun(struct bench *b, json_object *o, double cgctl_p50)
{
	char *sdrun[] = { "systemd-run", "--user", "--scope", "--quiet", "true", NULL };
	char errlog[PATH_MAX], why[PATH_MAX + 128] = "", msg[PATH_MAX + 256];
	_cleanup_close_ int procs_fd = -1;
	const struct runas *as = NULL;
	struct runas as_buf;
	double sd[2] = { NAN, NAN };
	int r;

	if (b->sd_skip) {
		snprintf(msg, sizeof(msg), "skipped: %s", b->sd_skip);
		jstr(o, "systemd_run", msg);
		return;
	}
	snprintf(errlog, sizeof(errlog), "%s/systemd-run.stderr", b->work);
	if (b->sd_runtime) {
		if (sdrun_as(b, &as_buf, why, sizeof(why)) < 0) {
			snprintf(msg, sizeof(msg), "skipped: %s", why);
			jstr(o, "systemd_run", msg);
			return;
		}
		procs_fd = as_buf.procs_fd;
		as = &as_buf;
		snprintf(msg, sizeof(msg), "systemd --user booted by bench/run.sh, uid %u", (unsigned)b->sd_uid);
		jstr(o, "systemd_manager", msg);
		jstr(o, "systemd_runtime_dir", b->sd_runtime);
	} else {
		jstr(o, "systemd_manager", "the one this process's environment reaches");
	}
	/* The first run is the probe and the warm-up (the manager loads app.slice). */
	r = run_cmd(sdrun, errlog, as, 20000, NULL);
	if (r == 0)
		r = time_cmd(sdrun, errlog, as, b->run_reps, sd);
	if (r == 0) {
		jstr(o, "systemd_run", "ok");
		jnum(o, "systemd_run_p50_ms", sd[0]);
		jnum(o, "systemd_run_min_ms", sd[1]);
		jnum(o, "ratio_cgctl_vs_systemd", cgctl_p50 / sd[0]);
		jnum(o, "ratio_cgctl_vs_systemd_min", jget(o, "cgctl_run_min_ms") / sd[1]);
		return;
	}
	/* With --quiet a failed job prints nothing: then the exit status is all there is. */
	last_line(errlog, why, sizeof(why));
	if (r < 0 && r != -EIO)
		snprintf(why, sizeof(why), "%s", strerror(-r));
	else if (!why[0] && r > 0)
		snprintf(why, sizeof(why), "exit status %d", r);
	else if (!why[0])
		snprintf(why, sizeof(why), "non-zero exit in one of the timed runs");
	/* Without a manager of our own, "cannot connect" is the usual case, not a failure. */
	snprintf(msg, sizeof(msg), "%s: %s", as ? "failed" : "skipped: no user manager", why);
	jstr(o, "systemd_run", msg);
	note("systemd-run --user --scope true %s", msg);
}

/* `cgctl run true` vs `systemd-run --user --scope true`, and plain fork+exec of true and of cgctl. */
void bench_run(struct bench *b)
{
	char *help[] = { (char *)b->cli_bin, "run", "--help", NULL };
	char *run[] = { (char *)b->cli_bin, "--socket", b->sock, "run", "--", "true", NULL };
	char *plain[] = { "true", NULL };
	char *version[] = { (char *)b->cli_bin, "--version", NULL };
	char errlog[PATH_MAX];
	json_object *o = jobj(b->res, "run");
	double p[2] = { NAN, NAN }, t[2] = { NAN, NAN }, v[2] = { NAN, NAN }, s[2] = { NAN, NAN };
	int r;

	snprintf(errlog, sizeof(errlog), "%s/run.stderr", b->work);
	jnum(o, "runs", b->run_reps);
	if (time_cmd(plain, NULL, NULL, b->run_reps, t) >= 0)
		jnum(o, "fork_exec_true_p50_ms", t[0]);
	/* The floor: cgctl's own start-up (exec, ld.so, libc) without a call, started as cgctl
	 * run is; then an exec of true from a small process (cgctl's child), not from this one. */
	if (time_cmd(version, NULL, NULL, b->run_reps, v) >= 0) {
		jnum(o, "fork_exec_cgctl_p50_ms", v[0]);
		jnum(o, "fork_exec_cgctl_min_ms", v[1]);
	}
	if (time_spawn(plain, b->run_reps, s) >= 0) {
		jnum(o, "spawn_true_p50_ms", s[0]);
		jnum(o, "spawn_true_min_ms", s[1]);
	}
	if (run_cmd(help, NULL, NULL, 10000, NULL) != 0) {
		jstr(o, "cgctl_run", "skipped: cgctl has no run command");
	} else if ((r = time_cmd(run, errlog, NULL, b->run_reps, p)) < 0) {
		jstr(o, "cgctl_run", "failed (see run.stderr in the work dir)");
		note("cgctl run failed: %s", r == -EIO ? "non-zero exit" : strerror(-r));
	} else {
		jstr(o, "cgctl_run", "ok");
		jnum(o, "cgctl_run_p50_ms", p[0]);
		jnum(o, "cgctl_run_min_ms", p[1]);
	}
	bench_sdrun(b, o, p[0]);
	note("run: cgctl run %.2f ms, systemd-run %.2f ms, fork+exec true %.2f ms (p50)", p[0],
	     jget(o, "systemd_run_p50_ms"), t[0]);
}
