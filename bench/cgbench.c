/* SPDX-License-Identifier: MIT */
/* cgbench.c: cgctld against the kernel's own cost, measured in one run: raw mkdir/rmdir and
 * fdatasync, Create+Destroy through libcgctl at several concurrencies, List, start-up, RSS,
 * `cgctl run` against `systemd-run --user --scope`; prints a table and writes JSON.
 *
 * bench/run.sh prepares the scratch cgroup subtree (raw/, cgctld/, client/) and a work
 * directory, boots a systemd --user for systemd-run where none is reachable, and cleans all
 * of it up; this program starts and stops the daemons itself so it can time their start-up
 * (exec to READY=1 on a NOTIFY_SOCKET it listens on).
 *
 * Here: main(), the command line and knobs, and the order of the phases; cgbench.h lists the
 * modules that measure (measure.c, perf.c), drive (daemon.c, load.c, vl.c, run.c) and report
 * (report.c). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "cgbench.h"
#include "cleanup.h"

/* ---- small helpers ---- */

/* Progress line on stderr. */
void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("cgbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* snprintf that refuses to truncate: -ENAMETOOLONG instead. */
int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* A Unix socket of type at path: bound (a stale file removed first) or connected; fd or -errno. */
int unix_socket(const char *path, int type, bool do_bind)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, r;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (do_bind)
		unlink(path);
	fd = socket(AF_UNIX, type | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	r = do_bind ? bind(fd, (struct sockaddr *)&sa, sizeof(sa)) : connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (r < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Unsigned knob from the environment, def when unset; exits on garbage. */
static unsigned env_uint(const char *name, unsigned def)
{
	const char *s = getenv(name);
	unsigned long v;
	char *end;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > UINT_MAX) {
		fprintf(stderr, "cgbench: %s: not an unsigned number: %s\n", name, s);
		exit(2);
	}
	return (unsigned)v;
}

/* Positive number knob from the environment. */
static double env_double(const char *name, double def)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return def;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0)) {
		fprintf(stderr, "cgbench: %s: not a positive number: %s\n", name, s);
		exit(2);
	}
	return v;
}

/* ---- set-up ---- */

/* Parse "1,4,16,64". */
static void parse_levels(struct bench *b, const char *s)
{
	b->n_levels = 0;
	while (*s && b->n_levels < LEVELS_MAX) {
		char *end;
		unsigned long v = strtoul(s, &end, 10);

		if (end == s || v == 0 || v > 1024 || (*end && *end != ',')) {
			fprintf(stderr, "cgbench: CGBENCH_LEVELS: want numbers 1..1024, comma-separated\n");
			exit(2);
		}
		b->levels[b->n_levels++] = (unsigned)v;
		s = *end ? end + 1 : end;
	}
}

/* Knobs: defaults (or smoke mode) overridden by CGBENCH_* variables. */
static void read_knobs(struct bench *b)
{
	b->smoke = env_uint("CGBENCH_SMOKE", 0) != 0;
	b->seconds = env_double("CGBENCH_SECONDS", b->smoke ? 0.2 : 3);
	b->scale_seconds = env_double("CGBENCH_SCALE_SECONDS", b->smoke ? 0.2 : 2);
	b->raw_pairs = env_uint("CGBENCH_RAW_PAIRS", b->smoke ? 50 : 5000);
	b->fsyncs = env_uint("CGBENCH_FSYNCS", b->smoke ? 20 : 1000);
	b->small_n = env_uint("CGBENCH_SMALL", b->smoke ? 20 : 1000);
	b->large_n = env_uint("CGBENCH_LARGE", b->smoke ? 100 : 10000);
	b->watchers = env_uint("CGBENCH_WATCHERS", b->smoke ? 5 : 100);
	b->run_reps = env_uint("CGBENCH_RUNS", b->smoke ? 2 : 20);
	b->list_reps = env_uint("CGBENCH_LIST_REPS", b->smoke ? 1 : 5);
	b->fill_threads = env_uint("CGBENCH_FILL_THREADS", 8);
	b->perf_mode = getenv("CGBENCH_PERF");
	if (b->perf_mode && (!*b->perf_mode || strcmp(b->perf_mode, "0") == 0))
		b->perf_mode = NULL;
	if (b->perf_mode && strcmp(b->perf_mode, "1") && strcmp(b->perf_mode, "fp") &&
	    strcmp(b->perf_mode, "dwarf") && strcmp(b->perf_mode, "stat")) {
		fprintf(stderr, "cgbench: CGBENCH_PERF: want 1 (system-wide), fp, dwarf (the daemon) or stat\n");
		exit(2);
	}
	parse_levels(b, getenv("CGBENCH_LEVELS") ? getenv("CGBENCH_LEVELS") : b->smoke ? "1,4,16" : "1,4,16,64");
	if (!b->raw_pairs || !b->fsyncs || !b->small_n || b->large_n <= b->small_n || !b->run_reps ||
	    !b->list_reps || !b->fill_threads) {
		fprintf(stderr, "cgbench: counts must be positive and CGBENCH_LARGE > CGBENCH_SMALL\n");
		exit(2);
	}
}

/* Usage on f. */
static void usage(FILE *f)
{
	fprintf(f, "Usage: cgbench --cgroup-dir SCRATCH --work-dir DIR --cgctld PATH --cgctl PATH --out-dir DIR\n"
		   "                [--state-fs DESCRIPTION] [--revision GIT-DESCRIBE]\n"
		   "                [--systemd-runtime-dir DIR --systemd-cgroup CGROUP --systemd-user UID:GID |\n"
		   "                 --systemd-skip REASON]\n"
		   "SCRATCH holds raw/ and cgctld/ (bench/run.sh makes them). systemd-run --user --scope runs\n"
		   "as UID:GID from CGROUP against the manager whose XDG_RUNTIME_DIR is DIR, or, without\n"
		   "--systemd-*, with this process's environment. Knobs: CGBENCH_SECONDS,\n"
		   "CGBENCH_SCALE_SECONDS, CGBENCH_LEVELS, CGBENCH_RAW_PAIRS, CGBENCH_FSYNCS, CGBENCH_SMALL,\n"
		   "CGBENCH_LARGE, CGBENCH_WATCHERS, CGBENCH_RUNS, CGBENCH_LIST_REPS, CGBENCH_FILL_THREADS,\n"
		   "CGBENCH_PERF=1|fp|dwarf|stat (perf per phase into the out dir: record -a, record the\n"
		   "daemon with fp or dwarf call graphs, or stat of its syscalls), CGBENCH_SMOKE=1 (tiny counts).\n");
}

/* "UID:GID" into its two numbers; -EINVAL on anything else. */
static int parse_ids(const char *s, uid_t *ret_uid, gid_t *ret_gid)
{
	unsigned long u, g;
	char *end;

	errno = 0;
	u = strtoul(s, &end, 10);
	if (errno || end == s || *end != ':' || s[0] == '-' || u >= UINT_MAX)
		return -EINVAL;
	s = end + 1;
	g = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || g >= UINT_MAX)
		return -EINVAL;
	*ret_uid = (uid_t)u;
	*ret_gid = (gid_t)g;
	return 0;
}

/* Parse the command line; exits 2 on misuse. */
static void parse_args(struct bench *b, int argc, char **argv)
{
	const char *sd_user = NULL;

	/* Every option takes a value: step over both. */
	for (int i = 1; i < argc; i += 2) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			usage(stdout);
			exit(0);
		}
		if (!v) {
			usage(stderr);
			exit(2);
		}
		if (strcmp(a, "--cgroup-dir") == 0) b->cg_dir = v;
		else if (strcmp(a, "--work-dir") == 0) b->work = v;
		else if (strcmp(a, "--cgctld") == 0) b->daemon_bin = v;
		else if (strcmp(a, "--cgctl") == 0) b->cli_bin = v;
		else if (strcmp(a, "--out-dir") == 0) b->out_dir = v;
		else if (strcmp(a, "--state-fs") == 0) b->state_fs = v;
		else if (strcmp(a, "--revision") == 0) b->revision = v;
		else if (strcmp(a, "--systemd-runtime-dir") == 0) b->sd_runtime = v;
		else if (strcmp(a, "--systemd-cgroup") == 0) b->sd_cgroup = v;
		else if (strcmp(a, "--systemd-user") == 0) sd_user = v;
		else if (strcmp(a, "--systemd-skip") == 0) b->sd_skip = v;
		else {
			usage(stderr);
			exit(2);
		}
	}
	if (!b->cg_dir || !b->work || !b->daemon_bin || !b->cli_bin || !b->out_dir) {
		usage(stderr);
		exit(2);
	}
	if (!b->state_fs)
		b->state_fs = "(unknown filesystem)";
	if (!b->sd_runtime != !b->sd_cgroup || !b->sd_runtime != !sd_user ||
	    (sd_user && parse_ids(sd_user, &b->sd_uid, &b->sd_gid) < 0)) {
		fprintf(stderr, "cgbench: --systemd-runtime-dir, --systemd-cgroup and --systemd-user UID:GID go together\n");
		exit(2);
	}
	if (fmt_path(b->managed, sizeof(b->managed), "%s/cgctld", b->cg_dir) < 0 ||
	    fmt_path(b->raw, sizeof(b->raw), "%s/raw", b->cg_dir) < 0 ||
	    fmt_path(b->sock, sizeof(b->sock), "%s/cgctld.sock", b->work) < 0 ||
	    fmt_path(b->state, sizeof(b->state), "%s/state", b->work) < 0 ||
	    fmt_path(b->notify, sizeof(b->notify), "%s/notify.sock", b->work) < 0) {
		fprintf(stderr, "cgbench: paths too long\n");
		exit(2);
	}
}

/* Machine and configuration, for the JSON. */
static void describe(struct bench *b)
{
	json_object *m = jobj(b->res, "machine"), *c = jobj(b->res, "config"), *lv = json_object_new_array();
	_cleanup_fclose_ FILE *f = NULL;
	char cpus[16], path[PATH_MAX], ctl[256] = "";
	struct utsname u;

	uname(&u);
	snprintf(cpus, sizeof(cpus), "%ld", sysconf(_SC_NPROCESSORS_ONLN));
	if (fmt_path(path, sizeof(path), "%s/cgroup.subtree_control", b->cg_dir) >= 0 &&
	    (f = fopen(path, "re")) && fgets(ctl, sizeof(ctl), f))
		ctl[strcspn(ctl, "\n")] = '\0';
	jstr(m, "controllers", ctl);
	jstr(m, "cpus", cpus);
	jstr(m, "kernel", u.release);
	jstr(m, "cgroup_dir", b->cg_dir);
	jstr(m, "state_dir", b->state);
	jstr(m, "state_fs", b->state_fs);
	jstr(m, "revision", b->revision);
	jnum(c, "seconds_per_level", b->seconds);
	jnum(c, "seconds_per_scaling_run", b->scale_seconds);
	jnum(c, "raw_pairs", b->raw_pairs);
	jnum(c, "fdatasyncs", b->fsyncs);
	jnum(c, "small", b->small_n);
	jnum(c, "large", b->large_n);
	jnum(c, "watchers", b->watchers);
	jnum(c, "destroy_flags", 0);
	for (size_t i = 0; i < b->n_levels; i++)
		json_object_array_add(lv, json_object_new_int64(b->levels[i]));
	json_object_object_add(c, "levels", lv);
}

/* ---- the run ---- */

/* Pair rates at c1 and c16 (the scaling probes) with the current population. */
static int bench_scaling_probe(struct bench *b)
{
	int r = bench_pairs(b, 1, b->scale_seconds);

	if (r >= 0)
		r = bench_pairs(b, 16, b->scale_seconds);
	return r;
}

/* Every phase, in an order that reuses the population: empty, small, large. */
static int bench_phases(struct bench *b)
{
	int r;

	note("raw baseline: %u mkdir+rmdir pairs, %u fdatasyncs", b->raw_pairs, b->fsyncs);
	if ((r = raw_cgroups(b)) < 0 || (r = raw_fdatasync(b)) < 0)
		return r;
	if ((r = daemon_start(b, 0)) < 0)
		return r;
	bench_rss(b, "empty");
	if ((r = bench_roundtrip(b)) < 0)
		return r;
	for (size_t i = 0; i < b->n_levels; i++)
		if ((r = bench_pairs(b, b->levels[i], b->seconds)) < 0)
			return r;
	bench_run(b);
	if ((r = bench_fill(b, b->small_n)) < 0 || (r = bench_list(b)) < 0 || (r = bench_scaling_probe(b)) < 0)
		return r;
	daemon_stop(b);
	perf_begin(b, "startup-small");
	r = daemon_start(b, b->existing);
	perf_end(b);
	if (r < 0 || (r = bench_fill(b, b->large_n)) < 0 || (r = bench_list(b)) < 0 ||
	    (r = bench_scaling_probe(b)) < 0)
		return r;
	bench_rss(b, "large");
	if ((r = bench_watchers(b, "large_watchers")) < 0)
		return r;
	daemon_stop(b);
	perf_begin(b, "startup-large");
	r = daemon_start(b, b->existing);
	perf_end(b);
	if (r < 0)
		return r;
	bench_rss(b, "large_restarted");
	if ((r = bench_watchers(b, "large_restarted_watchers")) < 0)
		return r;
	daemon_stop(b);
	return 0;
}

/* Remove the fill-* cgroups left behind (the daemon is stopped; run.sh removes the rest). */
static void bench_cleanup(struct bench *b)
{
	_cleanup_close_ int dfd = open(b->managed, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char name[64];

	for (unsigned i = 0; dfd >= 0 && i < b->existing; i++) {
		snprintf(name, sizeof(name), "fill-%07u", i);
		unlinkat(dfd, name, AT_REMOVEDIR);
	}
}

int main(int argc, char **argv)
{
	struct bench b = { 0 };
	uint64_t wall0, busy0, ours0;
	int r;

	signal(SIGPIPE, SIG_IGN);
	parse_args(&b, argc, argv);
	read_knobs(&b);
	b.res = json_object_new_object();
	describe(&b);
	record_load(&b, "loadavg_before");
	wall0 = now_ns();
	busy0 = machine_busy_us();
	ours0 = scratch_cpu_us(&b);
	r = bench_phases(&b);
	record_others(&b, wall0, busy0, ours0);
	record_load(&b, "loadavg_after");
	perf_end(&b);
	daemon_stop(&b);
	bench_cleanup(&b);
	if (r < 0) {
		note("failed: %s (daemon logs in %s)", strerror(-r), b.work);
		json_object_put(b.res);
		return 1;
	}
	derive(&b);
	print_table(&b);
	r = write_results(&b);
	json_object_put(b.res);
	return r < 0 ? 1 : 0;
}
