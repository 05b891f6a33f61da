/* SPDX-License-Identifier: MIT */
/* cgbench.c: cgctld against the kernel's own cost, measured in one run: raw mkdir/rmdir and
 * fdatasync, Create+Destroy through libcgctl at several concurrencies, List, start-up, RSS,
 * `cgctl run` against `systemd-run --user --scope`; prints a table and writes JSON.
 *
 * bench/run.sh prepares the scratch cgroup subtree (raw/, cgctld/, client/) and a work
 * directory, boots a systemd --user for systemd-run where none is reachable, and cleans all
 * of it up; this program starts and stops the daemons itself so it can time their start-up
 * (exec to READY=1 on a NOTIFY_SOCKET it listens on). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cgctl.h"
#include "cleanup.h"

#define LEVELS_MAX 8
#define DAEMON_WAIT_MS 60000
#define CALL_TIMEOUT_MS 60000

/* Growable array of latencies in nanoseconds. */
struct lat {
	uint64_t *v;
	size_t n, cap;
	bool sorted;
};

/* The daemon under test. */
struct daemon {
	pid_t pid;
	unsigned starts;
};

/* Options and shared state of one run. */
struct bench {
	const char *cg_dir, *daemon_bin, *cli_bin, *work, *out_dir, *state_fs, *revision;
	/* --systemd-*: the user manager bench/run.sh booted for systemd-run, or why it did not. */
	const char *sd_runtime, *sd_cgroup, *sd_skip;
	uid_t sd_uid;
	gid_t sd_gid;
	char managed[PATH_MAX], raw[PATH_MAX], client_cg[PATH_MAX];
	char sock[PATH_MAX], state[PATH_MAX], notify[PATH_MAX];
	double seconds, scale_seconds;
	unsigned raw_pairs, fsyncs, small_n, large_n, watchers, run_reps, list_reps, fill_threads;
	unsigned levels[LEVELS_MAX];
	size_t n_levels;
	const char *perf_mode; /* CGBENCH_PERF: NULL, 1, fp, dwarf, stat */
	bool smoke;
	pid_t perf_pid;
	struct daemon d;
	unsigned existing; /* fill-* entries in the ledger */
	json_object *res;
};

/* One load: Create+Destroy pairs for a while, or Creates up to a count. */
struct load {
	struct bench *b;
	char tag[64];
	unsigned level;
	bool fill;
	unsigned fill_to;
	atomic_uint next;
	atomic_int stop;
	pthread_barrier_t barrier;
	uint64_t t_start;
	uint64_t daemon_cpu_ns, client_cpu_ns; /* spent during the load */
};

/* One thread with its own connection. */
struct worker {
	pthread_t thread;
	struct load *load;
	unsigned id;
	struct lat create, destroy;
	uint64_t done, t_end;
	int err;
	char errmsg[512];
};

/* ---- small helpers ---- */

/* Monotonic nanoseconds. */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process (every thread), nanoseconds. */
static uint64_t self_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of one task from its schedstat file, ns; 0 unknown. */
static uint64_t task_cpu_ns(const char *path)
{
	unsigned long long ns = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	if (fscanf(f, "%llu", &ns) != 1)
		ns = 0;
	fclose(f);
	return ns;
}

/* CPU time of every thread of pid (cgctld's loop and its sync thread), ns; 0 unknown. */
static uint64_t proc_cpu_ns(pid_t pid)
{
	char path[96];
	uint64_t ns = 0;
	struct dirent *de;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%.16s/schedstat", (int)pid, de->d_name);
		ns += task_cpu_ns(path);
	}
	closedir(d);
	return ns;
}

/* Sleep ms milliseconds. */
static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Progress line on stderr. */
static void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("cgbench: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

/* snprintf that refuses to truncate: -ENAMETOOLONG instead. */
static int fmt_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fmt_path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
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

/* Write text to a cgroup interface file. */
static int write_file(const char *path, const char *text)
{
	_cleanup_close_ int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(text);

	if (fd < 0)
		return -errno;
	return write(fd, text, len) == (ssize_t)len ? 0 : -errno;
}

/* ---- latencies ---- */

/* Append one latency. */
static int lat_add(struct lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 1024;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = ns;
	l->sorted = false;
	return 0;
}

/* Append all of src to dst. */
static int lat_merge(struct lat *dst, const struct lat *src)
{
	for (size_t i = 0; i < src->n; i++)
		if (lat_add(dst, src->v[i]) < 0)
			return -ENOMEM;
	return 0;
}

/* qsort comparator of uint64_t. */
static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Quantile q (0..1) in microseconds; NAN when empty. */
static double lat_us(struct lat *l, double q)
{
	size_t i;

	if (l->n == 0)
		return NAN;
	if (!l->sorted) {
		qsort(l->v, l->n, sizeof(*l->v), u64_cmp);
		l->sorted = true;
	}
	i = (size_t)(q * (double)(l->n - 1) + 0.5);
	return (double)l->v[i < l->n ? i : l->n - 1] / 1000.0;
}

/* Free the array. */
static void lat_free(struct lat *l)
{
	free(l->v);
	*l = (struct lat){ 0 };
}

/* ---- JSON results ---- */

/* Set a number (NAN becomes null). */
static void jnum(json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, isnan(v) ? NULL : json_object_new_double(v));
}

/* Set a string. */
static void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Number member of o; NAN when missing or null. */
static double jget(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return NAN;
	return json_object_get_double(v);
}

/* Object member (created when missing). */
static json_object *jobj(json_object *o, const char *k)
{
	json_object *v;

	if (json_object_object_get_ex(o, k, &v) && v)
		return v;
	v = json_object_new_object();
	json_object_object_add(o, k, v);
	return v;
}

/* Array member (created when missing). */
static json_object *jarr(json_object *o, const char *k)
{
	json_object *v;

	if (json_object_object_get_ex(o, k, &v) && v)
		return v;
	v = json_object_new_array();
	json_object_object_add(o, k, v);
	return v;
}

/* ---- raw kernel baseline ---- */

/* mkdir+rmdir pairs in the raw/ sibling of the managed root, from one thread. */
static int raw_cgroups(struct bench *b)
{
	_cleanup_close_ int dfd = open(b->raw, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct lat mk = { 0 }, rm = { 0 };
	json_object *o = jobj(b->res, "raw");
	uint64_t t0, t1, t2, start, cpu;
	double secs;
	char name[32];

	if (dfd < 0)
		return -errno;
	start = now_ns();
	cpu = self_cpu_ns();
	for (unsigned i = 0; i < b->raw_pairs; i++) {
		snprintf(name, sizeof(name), "r%u", i);
		t0 = now_ns();
		if (mkdirat(dfd, name, 0755) < 0)
			return -errno;
		t1 = now_ns();
		if (unlinkat(dfd, name, AT_REMOVEDIR) < 0)
			return -errno;
		t2 = now_ns();
		lat_add(&mk, t1 - t0);
		lat_add(&rm, t2 - t1);
	}
	secs = (double)(now_ns() - start) / 1e9;
	json_object_object_add(o, "pairs", json_object_new_int64(b->raw_pairs));
	jnum(o, "cpu_us_per_pair", (double)(self_cpu_ns() - cpu) / 1e3 / b->raw_pairs);
	jnum(o, "pairs_per_s", b->raw_pairs / secs);
	jnum(o, "mkdir_p50_us", lat_us(&mk, 0.5));
	jnum(o, "mkdir_p99_us", lat_us(&mk, 0.99));
	jnum(o, "rmdir_p50_us", lat_us(&rm, 0.5));
	jnum(o, "rmdir_p99_us", lat_us(&rm, 0.99));
	lat_free(&mk);
	lat_free(&rm);
	return 0;
}

/* Append 100-byte records with fdatasync after each, like the journal, in the work dir. */
static int raw_fdatasync(struct bench *b)
{
	char path[PATH_MAX], rec[100];
	struct lat l = { 0 };
	json_object *o = jobj(b->res, "raw");
	int fd, r = 0;

	if (fmt_path(path, sizeof(path), "%s/fdatasync-probe", b->work) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	memset(rec, 'x', sizeof(rec));
	rec[sizeof(rec) - 1] = '\n';
	for (unsigned i = 0; i < b->fsyncs; i++) {
		uint64_t t0 = now_ns();

		if (write(fd, rec, sizeof(rec)) != (ssize_t)sizeof(rec) || fdatasync(fd) < 0) {
			r = -errno;
			break;
		}
		lat_add(&l, now_ns() - t0);
	}
	close(fd);
	unlink(path);
	json_object_object_add(o, "fdatasyncs", json_object_new_int64(b->fsyncs));
	jnum(o, "fdatasync_p50_us", lat_us(&l, 0.5));
	jnum(o, "fdatasync_p99_us", lat_us(&l, 0.99));
	lat_free(&l);
	return r;
}

/* ---- perf (CGBENCH_PERF): profile one phase ---- */

/* perf's arguments for the mode in CGBENCH_PERF, into argv (NULL-terminated); false: none. */
static bool perf_argv(struct bench *b, const char *out, char *pid, const char **argv)
{
	static const char *const events = "syscalls:sys_enter_fdatasync,syscalls:sys_enter_fsync,"
		"syscalls:sys_enter_write,syscalls:sys_enter_mkdirat,syscalls:sys_enter_unlinkat,"
		"syscalls:sys_enter_openat,syscalls:sys_enter_openat2,syscalls:sys_enter_newfstatat,"
		"syscalls:sys_enter_read,syscalls:sys_enter_close,syscalls:sys_enter_inotify_add_watch,"
		"syscalls:sys_enter_recvmsg,syscalls:sys_enter_sendmsg,syscalls:sys_enter_epoll_wait,"
		"syscalls:sys_enter_epoll_ctl,syscalls:sys_enter_getdents64";
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
static void perf_begin(struct bench *b, const char *phase)
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
static void perf_end(struct bench *b)
{
	if (b->perf_pid <= 0)
		return;
	kill(b->perf_pid, SIGINT);
	waitpid(b->perf_pid, NULL, 0);
	b->perf_pid = 0;
}

/* ---- the daemon ---- */

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
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(b->notify) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, b->notify, strlen(b->notify) + 1);
	unlink(b->notify);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
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
static int daemon_start(struct bench *b, unsigned entries)
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
static void daemon_stop(struct bench *b)
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

/* ---- loads through libcgctl ---- */

/* Fail the worker with the library's view of r. */
static void worker_fail(struct worker *w, cgctl *c, const char *what, const char *name, int r)
{
	w->err = r;
	snprintf(w->errmsg, sizeof(w->errmsg), "%s %s: %s (%s: %s)", what, name ? name : "", cgctl_strerror(r),
		 c && cgctl_error_name(c) ? cgctl_error_name(c) : "-",
		 c && cgctl_error_message(c) ? cgctl_error_message(c) : "-");
	atomic_store(&w->load->stop, 1);
}

/* Create+Destroy until told to stop. */
static void worker_pairs(struct worker *w, cgctl *c)
{
	char name[128];

	for (uint64_t k = 0; !atomic_load(&w->load->stop); k++) {
		uint64_t t0, t1;
		int existed = 0, r;

		snprintf(name, sizeof(name), "%s-w%u-%llu", w->load->tag, w->id, (unsigned long long)k);
		t0 = now_ns();
		r = cgctl_create(c, name, NULL, NULL);
		t1 = now_ns();
		if (r < 0) {
			worker_fail(w, c, "create", name, r);
			return;
		}
		r = cgctl_destroy(c, name, 0, &existed);
		if (r < 0 || !existed) {
			worker_fail(w, c, "destroy", name, r < 0 ? r : -ENOENT);
			return;
		}
		lat_add(&w->create, t1 - t0);
		lat_add(&w->destroy, now_ns() - t1);
		w->done++;
	}
}

/* Create fill-NNNNNNN entries until the shared counter reaches fill_to. */
static void worker_fill(struct worker *w, cgctl *c)
{
	char name[64];

	for (;;) {
		unsigned i = atomic_fetch_add(&w->load->next, 1);
		uint64_t t0;
		int r;

		if (i >= w->load->fill_to || atomic_load(&w->load->stop))
			return;
		snprintf(name, sizeof(name), "fill-%07u", i);
		t0 = now_ns();
		r = cgctl_create(c, name, NULL, NULL);
		if (r < 0) {
			worker_fail(w, c, "create", name, r);
			return;
		}
		lat_add(&w->create, now_ns() - t0);
		w->done++;
	}
}

/* Thread body: connect, meet the others at the barrier, run, note the end. */
static void *worker_main(void *arg)
{
	struct worker *w = arg;
	cgctl *c = NULL;
	int r = cgctl_connect(w->load->b->sock, &c);

	if (r >= 0)
		r = cgctl_set_timeout(c, CALL_TIMEOUT_MS);
	if (r < 0)
		worker_fail(w, c, "connect", w->load->b->sock, r);
	pthread_barrier_wait(&w->load->barrier);
	if (r >= 0) {
		if (w->load->fill)
			worker_fill(w, c);
		else
			worker_pairs(w, c);
	}
	w->t_end = now_ns();
	cgctl_disconnect(c);
	return NULL;
}

/* Summarise a finished load into a JSON object. */
static json_object *load_summary(struct bench *b, struct load *ld, struct worker *ws, double *ret_rate)
{
	struct lat cr = { 0 }, de = { 0 };
	json_object *o = json_object_new_object();
	uint64_t done = 0, t_end = ld->t_start;
	double secs, rate, raw = jget(jobj(b->res, "raw"), "pairs_per_s");

	for (unsigned i = 0; i < ld->level; i++) {
		done += ws[i].done;
		if (ws[i].t_end > t_end)
			t_end = ws[i].t_end;
		lat_merge(&cr, &ws[i].create);
		lat_merge(&de, &ws[i].destroy);
	}
	secs = (double)(t_end - ld->t_start) / 1e9;
	rate = secs > 0 ? (double)done / secs : NAN;
	json_object_object_add(o, "concurrency", json_object_new_int64(ld->level));
	json_object_object_add(o, "existing", json_object_new_int64(b->existing));
	json_object_object_add(o, ld->fill ? "creates" : "pairs", json_object_new_int64((int64_t)done));
	jnum(o, "seconds", secs);
	jnum(o, ld->fill ? "creates_per_s" : "pairs_per_s", rate);
	if (!ld->fill)
		jnum(o, "ratio_vs_raw", rate / raw);
	/* Where the two cores went: one event-loop thread near 1.0 means cgctld is CPU-bound. */
	jnum(o, "daemon_cpu_us_per_op", (double)ld->daemon_cpu_ns / 1e3 / (double)done);
	jnum(o, "client_cpu_us_per_op", (double)ld->client_cpu_ns / 1e3 / (double)done);
	jnum(o, "daemon_cpu_util", (double)ld->daemon_cpu_ns / 1e9 / secs);
	jnum(o, "create_p50_us", lat_us(&cr, 0.5));
	jnum(o, "create_p99_us", lat_us(&cr, 0.99));
	if (!ld->fill) {
		jnum(o, "destroy_p50_us", lat_us(&de, 0.5));
		jnum(o, "destroy_p99_us", lat_us(&de, 0.99));
	}
	lat_free(&cr);
	lat_free(&de);
	*ret_rate = rate;
	return o;
}

/* Run one load at ld->level threads; pairs for `seconds`, or a fill to fill_to. */
static int load_run(struct bench *b, struct load *ld, double seconds, json_object **ret)
{
	_cleanup_free_ struct worker *ws = calloc(ld->level, sizeof(*ws));
	unsigned started = 0;
	double rate = NAN;
	int r = 0;

	if (!ws)
		return -ENOMEM;
	ld->b = b;
	pthread_barrier_init(&ld->barrier, NULL, ld->level + 1);
	for (; started < ld->level; started++) {
		ws[started].load = ld;
		ws[started].id = started;
		if (pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]) != 0)
			break;
	}
	if (started < ld->level) {
		/* Cannot happen short of resource exhaustion; the barrier would never open. */
		note("cannot start %u threads", ld->level);
		exit(1);
	}
	pthread_barrier_wait(&ld->barrier);
	ld->t_start = now_ns();
	ld->daemon_cpu_ns = proc_cpu_ns(b->d.pid);
	ld->client_cpu_ns = self_cpu_ns();
	if (!ld->fill) {
		while (!atomic_load(&ld->stop) && (double)(now_ns() - ld->t_start) / 1e9 < seconds)
			sleep_ms(10);
		atomic_store(&ld->stop, 1);
	}
	for (unsigned i = 0; i < ld->level; i++)
		pthread_join(ws[i].thread, NULL);
	ld->daemon_cpu_ns = proc_cpu_ns(b->d.pid) - ld->daemon_cpu_ns;
	ld->client_cpu_ns = self_cpu_ns() - ld->client_cpu_ns;
	pthread_barrier_destroy(&ld->barrier);
	for (unsigned i = 0; i < ld->level; i++)
		if (ws[i].err && !r) {
			r = ws[i].err;
			note("%s: worker %u: %s", ld->tag, i, ws[i].errmsg);
		}
	if (r >= 0)
		*ret = load_summary(b, ld, ws, &rate);
	for (unsigned i = 0; i < ld->level; i++) {
		lat_free(&ws[i].create);
		lat_free(&ws[i].destroy);
	}
	return r;
}

/* Create+Destroy at `level` connections for `seconds`; appended to create_destroy[]. */
static int bench_pairs(struct bench *b, unsigned level, double seconds)
{
	struct load ld = { .level = level };
	json_object *o = NULL;
	char phase[96];
	int r;

	snprintf(ld.tag, sizeof(ld.tag), "e%u-c%u", b->existing, level);
	snprintf(phase, sizeof(phase), "pairs-%s", ld.tag);
	perf_begin(b, phase);
	r = load_run(b, &ld, seconds, &o);
	perf_end(b);
	if (r < 0)
		return r;
	json_object_array_add(jarr(b->res, "create_destroy"), o);
	note("c%-2u with %5u existing: %8.0f pairs/s, create p50 %.0f us, destroy p50 %.0f us", level,
	     b->existing, jget(o, "pairs_per_s"), jget(o, "create_p50_us"), jget(o, "destroy_p50_us"));
	return 0;
}

/* Create fill entries until the ledger holds n of them. */
static int bench_fill(struct bench *b, unsigned n)
{
	struct load ld = { .level = b->fill_threads, .fill = true, .fill_to = n };
	json_object *o = NULL;
	char phase[32];
	int r;

	if (n <= b->existing)
		return 0;
	atomic_store(&ld.next, b->existing);
	snprintf(ld.tag, sizeof(ld.tag), "fill%u", n);
	snprintf(phase, sizeof(phase), "fill-%u", n);
	perf_begin(b, phase);
	r = load_run(b, &ld, 0, &o);
	perf_end(b);
	if (r < 0)
		return r;
	b->existing = n;
	json_object_object_add(o, "entries", json_object_new_int64(n));
	json_object_array_add(jarr(b->res, "fill"), o);
	note("filled to %u: %.0f creates/s at c%u", n, jget(o, "creates_per_s"), ld.level);
	return 0;
}

/* Varlink round trip with no cgroup or ledger work (GetInfo): the transport's floor. */
static int bench_roundtrip(struct bench *b)
{
	json_object *o = jobj(b->res, "single_create");
	unsigned n = b->smoke ? 50 : 2000;
	struct lat l = { 0 };
	cgctl *c = NULL;
	int r = cgctl_connect(b->sock, &c);

	for (unsigned i = 0; r >= 0 && i < n; i++) {
		char *reply = NULL;
		uint64_t t0 = now_ns();

		r = cgctl_call(c, "org.varlink.service.GetInfo", NULL, &reply);
		lat_add(&l, now_ns() - t0);
		free(reply);
	}
	cgctl_disconnect(c);
	if (r >= 0) {
		jnum(o, "roundtrip_p50_us", lat_us(&l, 0.5));
		jnum(o, "roundtrip_p99_us", lat_us(&l, 0.99));
		note("GetInfo round trip p50 %.0f us", lat_us(&l, 0.5));
	}
	lat_free(&l);
	return r;
}

/* ---- raw Varlink over a socket ---- */

/* Connect a stream socket to path. */
static int vl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	return fd;
}

/* Send one message, NUL included. */
static int vl_send(int fd, const char *msg)
{
	size_t len = strlen(msg) + 1;

	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, msg + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* Read one message up to its NUL into a malloc'd buffer (NUL-terminated). */
static int vl_recv(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -ECONNRESET;
		}
		if (memchr(buf + len, '\0', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* ---- List ---- */

/* qsort comparator of doubles. */
static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n doubles (sorts them). */
static double median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), dbl_cmp);
	return v[n / 2];
}

/* Time List of everything: through cgctl_list(), and raw bytes over the socket. */
static int bench_list(struct bench *b)
{
	double lib[16], raw[16];
	unsigned reps = b->list_reps > 16 ? 16 : b->list_reps;
	size_t bytes = 0, n = 0;
	json_object *o;
	cgctl *c = NULL;
	int r = cgctl_connect(b->sock, &c);

	if (r < 0 || (r = cgctl_set_timeout(c, CALL_TIMEOUT_MS)) < 0) {
		cgctl_disconnect(c);
		return r;
	}
	perf_begin(b, b->existing >= b->large_n ? "list-large" : "list-small");
	for (unsigned i = 0; i < reps && r >= 0; i++) {
		struct cgctl_entry *e = NULL;
		uint64_t t0 = now_ns();

		r = cgctl_list(c, NULL, &e, &n);
		lib[i] = (double)(now_ns() - t0) / 1e6;
		cgctl_entries_free(e, n);
	}
	for (unsigned i = 0; i < reps && r >= 0; i++) {
		_cleanup_close_ int fd = vl_connect(b->sock);
		_cleanup_free_ char *reply = NULL;
		uint64_t t0 = now_ns();

		r = fd < 0 ? fd : vl_send(fd, "{\"method\":\"io.cgctl.Manager.List\",\"parameters\":{}}");
		if (r >= 0)
			r = vl_recv(fd, &reply, &bytes);
		raw[i] = (double)(now_ns() - t0) / 1e6;
	}
	perf_end(b);
	cgctl_disconnect(c);
	if (r < 0)
		return r;
	if (n != b->existing)
		note("warning: List returned %zu entries, expected %u", n, b->existing);
	o = json_object_new_object();
	json_object_object_add(o, "entries", json_object_new_int64((int64_t)n));
	jnum(o, "libcgctl_ms", median(lib, reps));
	jnum(o, "raw_ms", median(raw, reps));
	json_object_object_add(o, "reply_bytes", json_object_new_int64((int64_t)bytes));
	json_object_array_add(jarr(b->res, "list"), o);
	note("List of %zu: %.1f ms through libcgctl, %.1f ms raw (%zu bytes)", n, jget(o, "libcgctl_ms"),
	     jget(o, "raw_ms"), bytes);
	return 0;
}

/* ---- memory ---- */

/* Record the daemon's VmRSS under rss.<key>. */
static void bench_rss(struct bench *b, const char *key)
{
	long kib = rss_kib(b->d.pid);

	jnum(jobj(b->res, "rss_kib"), key, kib < 0 ? NAN : (double)kib);
	note("daemon VmRSS (%s): %ld KiB", key, kib);
}

/* Open n idle Watch streams (first reply "watching"), measure RSS, close them. */
static int bench_watchers(struct bench *b, const char *key)
{
	_cleanup_free_ int *fds = calloc(b->watchers ? b->watchers : 1, sizeof(int));
	unsigned open_n = 0;
	int r = 0;

	if (!fds)
		return -ENOMEM;
	for (; open_n < b->watchers; open_n++) {
		_cleanup_free_ char *reply = NULL;
		size_t len;
		int fd = vl_connect(b->sock);

		if (fd < 0) {
			r = fd;
			break;
		}
		fds[open_n] = fd;
		r = vl_send(fd, "{\"method\":\"io.cgctl.Manager.Watch\",\"parameters\":{},\"more\":true}");
		if (r >= 0)
			r = vl_recv(fd, &reply, &len);
		if (r >= 0 && !strstr(reply, "\"watching\""))
			r = -EPROTO;
		if (r < 0) {
			open_n++;
			break;
		}
	}
	if (r >= 0)
		bench_rss(b, key);
	for (unsigned i = 0; i < open_n; i++)
		close(fds[i]);
	return r;
}

/* ---- cgctl run vs systemd-run ---- */

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

/* p50 wall time of reps runs of argv; -EIO when one fails. */
static int time_cmd(char *const argv[], const char *errlog, const struct runas *as, unsigned reps,
		    double *ret_p50)
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
	*ret_p50 = median(v, reps);
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
	double sd = NAN;
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
		r = time_cmd(sdrun, errlog, as, b->run_reps, &sd);
	if (r == 0) {
		jstr(o, "systemd_run", "ok");
		jnum(o, "systemd_run_p50_ms", sd);
		jnum(o, "ratio_cgctl_vs_systemd", cgctl_p50 / sd);
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

/* `cgctl run true` vs `systemd-run --user --scope true`, and plain fork+exec of true. */
static void bench_run(struct bench *b)
{
	char *help[] = { (char *)b->cli_bin, "run", "--help", NULL };
	char *run[] = { (char *)b->cli_bin, "--socket", b->sock, "run", "--", "true", NULL };
	char *plain[] = { "true", NULL };
	char errlog[PATH_MAX];
	json_object *o = jobj(b->res, "run");
	double p = NAN, t = NAN;
	int r;

	snprintf(errlog, sizeof(errlog), "%s/run.stderr", b->work);
	jnum(o, "runs", b->run_reps);
	if (time_cmd(plain, NULL, NULL, b->run_reps, &t) >= 0)
		jnum(o, "fork_exec_true_p50_ms", t);
	if (run_cmd(help, NULL, NULL, 10000, NULL) != 0) {
		jstr(o, "cgctl_run", "skipped: cgctl has no run command");
	} else if ((r = time_cmd(run, errlog, NULL, b->run_reps, &p)) < 0) {
		jstr(o, "cgctl_run", "failed (see run.stderr in the work dir)");
		note("cgctl run failed: %s", r == -EIO ? "non-zero exit" : strerror(-r));
	} else {
		jstr(o, "cgctl_run", "ok");
		jnum(o, "cgctl_run_p50_ms", p);
	}
	bench_sdrun(b, o, p);
	note("run: cgctl run %.2f ms, systemd-run %.2f ms, fork+exec true %.2f ms (p50)", p,
	     jget(o, "systemd_run_p50_ms"), t);
}

/* ---- derived figures and the table ---- */

/* The create_destroy[] result at level with existing entries, or NULL. */
static json_object *find_pairs(struct bench *b, unsigned level, unsigned existing)
{
	json_object *arr = jarr(b->res, "create_destroy");

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (jget(o, "concurrency") == level && jget(o, "existing") == existing)
			return o;
	}
	return NULL;
}

/* The element of array key whose "entries" is n, or NULL. */
static json_object *find_entries(struct bench *b, const char *key, unsigned n)
{
	json_object *arr = jarr(b->res, key);

	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (jget(o, "entries") == n)
			return o;
	}
	return NULL;
}

/* Add one target: met when value <= limit (le) or >= limit (!le). */
static void target(struct bench *b, const char *name, double value, double limit, bool le, const char *unit)
{
	json_object *o = json_object_new_object();

	jstr(o, "target", name);
	jnum(o, "value", value);
	jnum(o, "limit", limit);
	jstr(o, "unit", unit);
	json_object_object_add(o, "met", isnan(value) ? NULL :
			       json_object_new_boolean(le ? value <= limit : value >= limit));
	json_object_array_add(jarr(b->res, "targets"), o);
}

/* Add an informational line to the targets: a figure the issue asks to report, with no limit. */
static void target_info(struct bench *b, const char *name, double value, const char *unit, const char *info)
{
	json_object *o = json_object_new_object();

	jstr(o, "target", name);
	jnum(o, "value", value);
	jnum(o, "limit", NAN);
	jstr(o, "unit", unit);
	json_object_object_add(o, "met", NULL);
	jstr(o, "info", info);
	json_object_array_add(jarr(b->res, "targets"), o);
}

/* cgctl run against systemd-run: the ratio of the p50s as an informational target line. */
static void derive_run(struct bench *b)
{
	json_object *run = jobj(b->res, "run");
	double ratio = jget(run, "ratio_cgctl_vs_systemd");
	const char *sd = json_object_get_string(json_object_object_get(run, "systemd_run"));
	char info[PATH_MAX + 300];

	if (isnan(ratio))
		snprintf(info, sizeof(info), "systemd-run %s", sd ? sd : "not measured");
	else if (ratio <= 1)
		snprintf(info, sizeof(info), "cgctl run is %.1fx faster", 1 / ratio);
	else
		snprintf(info, sizeof(info), "cgctl run is %.1fx slower", ratio);
	jnum(run, "cgctl_run_speedup", 1 / ratio);
	target_info(b, "cgctl run true p50 / systemd-run --user --scope true p50", ratio, "x", info);
}

/* Ratios and targets from the measured figures. */
static void derive(struct bench *b)
{
	json_object *raw = jobj(b->res, "raw"), *c1 = find_pairs(b, 1, 0), *c16 = find_pairs(b, 16, 0);
	json_object *sc = jobj(b->res, "scaling"), *ls = find_entries(b, "list", b->small_n);
	json_object *ll = find_entries(b, "list", b->large_n), *st = find_entries(b, "startup", b->large_n);
	json_object *s1 = find_pairs(b, 1, b->small_n), *l1 = find_pairs(b, 1, b->large_n);
	json_object *s16 = find_pairs(b, 16, b->small_n), *l16 = find_pairs(b, 16, b->large_n);
	double limit = jget(raw, "mkdir_p50_us") + jget(raw, "fdatasync_p50_us");
	double single = jget(c1, "create_p50_us"), rss;
	char name[128];
	json_object *sg = jobj(b->res, "single_create");

	jnum(sg, "create_p50_us", single);
	jnum(sg, "mkdir_plus_fdatasync_p50_us", limit);
	jnum(sg, "ratio", single / limit);
	/* Per-operation cost at large over small: 1.0 means flat, large/small means linear. */
	jnum(sc, "small", b->small_n);
	jnum(sc, "large", b->large_n);
	jnum(sc, "c1_pair_cost_growth", jget(s1, "pairs_per_s") / jget(l1, "pairs_per_s"));
	jnum(sc, "c16_pair_cost_growth", jget(s16, "pairs_per_s") / jget(l16, "pairs_per_s"));
	jnum(sc, "list_per_entry_growth", (jget(ll, "libcgctl_ms") / b->large_n) / (jget(ls, "libcgctl_ms") / b->small_n));
	jnum(sc, "entries_growth", (double)b->large_n / b->small_n);
	target(b, "c16 Create+Destroy pairs/s >= 60% of raw mkdir+rmdir pairs/s", jget(c16, "ratio_vs_raw") * 100, 60,
	       false, "%");
	target(b, "single-client Create p50 <= 2x (raw mkdir p50 + fdatasync p50)", single / limit, 2, true, "x");
	snprintf(name, sizeof(name), "List of %u < 100 ms (through libcgctl)", b->large_n);
	target(b, name, jget(ll, "libcgctl_ms"), 100, true, "ms");
	snprintf(name, sizeof(name), "start-up with %u entries < 1 s (exec to READY=1)", b->large_n);
	target(b, name, jget(st, "ready_ms"), 1000, true, "ms");
	/* The worse of the daemon that created them and one restarted over them. */
	rss = jget(jobj(b->res, "rss_kib"), "large_watchers");
	if (jget(jobj(b->res, "rss_kib"), "large_restarted_watchers") > rss)
		rss = jget(jobj(b->res, "rss_kib"), "large_restarted_watchers");
	snprintf(name, sizeof(name), "RSS with %u cgroups and %u watchers < 32 MiB", b->large_n, b->watchers);
	target(b, name, rss / 1024, 32, true, "MiB");
	snprintf(name, sizeof(name), "c1 pair cost %u vs %u grows linearly or better", b->large_n, b->small_n);
	target(b, name, jget(sc, "c1_pair_cost_growth"), (double)b->large_n / b->small_n, true, "x");
	snprintf(name, sizeof(name), "c1 pair cost %u vs %u flat (<= 1.25x: O(1) per op)", b->large_n, b->small_n);
	target(b, name, jget(sc, "c1_pair_cost_growth"), 1.25, true, "x");
	derive_run(b);
}

/* Print the create_destroy rows. */
static void print_pairs(struct bench *b)
{
	json_object *arr = jarr(b->res, "create_destroy");

	printf("  %5s %9s %10s %8s %19s %19s %15s\n", "conc", "existing", "pairs/s", "vs raw", "create p50/p99 us",
	       "destroy p50/p99 us", "cpu us/pair d+c");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		printf("  %5.0f %9.0f %10.0f %7.1f%% %9.0f / %-7.0f %9.0f / %-7.0f %6.0f + %-6.0f\n",
		       jget(o, "concurrency"), jget(o, "existing"), jget(o, "pairs_per_s"),
		       100 * jget(o, "ratio_vs_raw"), jget(o, "create_p50_us"), jget(o, "create_p99_us"),
		       jget(o, "destroy_p50_us"), jget(o, "destroy_p99_us"), jget(o, "daemon_cpu_us_per_op"),
		       jget(o, "client_cpu_us_per_op"));
	}
}

/* v with decimals, or "-" when not measured. */
static const char *num(char *buf, size_t size, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f", decimals, v);
	return buf;
}

/* Print the scaling rows: 0, small, large. */
static void print_scaling(struct bench *b)
{
	unsigned ns[3] = { 0, b->small_n, b->large_n };
	json_object *sc = jobj(b->res, "scaling");

	printf("  %9s %11s %11s %16s %14s %12s\n", "existing", "c1 pairs/s", "c16 pairs/s", "List ms lib/raw",
	       "start-up ms", "fill creates/s");
	for (int i = 0; i < 3; i++) {
		json_object *l = find_entries(b, "list", ns[i]), *s = find_entries(b, "startup", ns[i]);
		json_object *f = find_entries(b, "fill", ns[i]);

		char a[32], c[32], d[32], e[32], g[32], h[32];

		printf("  %9u %11s %11s %7s / %-6s %14s %12s\n", ns[i],
		       num(a, sizeof(a), jget(find_pairs(b, 1, ns[i]), "pairs_per_s"), 0),
		       num(c, sizeof(c), jget(find_pairs(b, 16, ns[i]), "pairs_per_s"), 0),
		       num(d, sizeof(d), jget(l, "libcgctl_ms"), 1), num(e, sizeof(e), jget(l, "raw_ms"), 1),
		       num(g, sizeof(g), jget(s, "ready_ms"), 0), num(h, sizeof(h), jget(f, "creates_per_s"), 0));
	}
	printf("  %u -> %u entries (x%.0f): c1 pair cost x%.2f, c16 pair cost x%.2f, List cost per entry x%.2f\n",
	       b->small_n, b->large_n, jget(sc, "entries_growth"), jget(sc, "c1_pair_cost_growth"),
	       jget(sc, "c16_pair_cost_growth"), jget(sc, "list_per_entry_growth"));
}

/* Print the cgctl run / systemd-run block: one line a command, then their ratio. */
static void print_run(struct bench *b)
{
	json_object *run = jobj(b->res, "run");
	const char *cg = json_object_get_string(json_object_object_get(run, "cgctl_run"));
	const char *sd = json_object_get_string(json_object_object_get(run, "systemd_run"));
	const char *mgr = json_object_get_string(json_object_object_get(run, "systemd_manager"));
	double ratio = jget(run, "ratio_cgctl_vs_systemd");
	char a[32], c[32];

	printf("cgctl run true vs systemd-run --user --scope true (p50 of %.0f runs each)\n", jget(run, "runs"));
	printf("  %-34s %8s ms   %s\n", "cgctl run -- true", num(a, sizeof(a), jget(run, "cgctl_run_p50_ms"), 2),
	       cg ? cg : "not measured");
	printf("  %-34s %8s ms   %s%s%s\n", "systemd-run --user --scope true",
	       num(a, sizeof(a), jget(run, "systemd_run_p50_ms"), 2), sd ? sd : "not measured",
	       mgr && sd && strcmp(sd, "ok") == 0 ? "; " : "",
	       mgr && sd && strcmp(sd, "ok") == 0 ? mgr : "");
	printf("  %-34s %8s ms\n", "fork+exec true", num(a, sizeof(a), jget(run, "fork_exec_true_p50_ms"), 2));
	if (isnan(ratio))
		printf("  %-34s %8s\n", "cgctl run / systemd-run", "-");
	else
		printf("  %-34s %8s      cgctl run is %.1fx %s\n", "cgctl run / systemd-run", num(c, sizeof(c), ratio, 2),
		       ratio <= 1 ? 1 / ratio : ratio, ratio <= 1 ? "faster" : "slower");
}

/* Print the whole table to stdout. */
static void print_table(struct bench *b)
{
	json_object *raw = jobj(b->res, "raw"), *sg = jobj(b->res, "single_create");
	json_object *rss = jobj(b->res, "rss_kib"), *tg = jarr(b->res, "targets");
	json_object *m = jobj(b->res, "machine");

	printf("\ncgctl benchmark of %s: %s CPUs, kernel %s, cgroup2 at %s (controllers: %s), state dir on %s\n"
	       "%.0f s; the bench used %.2f CPUs on average, other work on the machine %.2f CPUs;"
	       " load average before %s, after %s\n\n",
	       b->revision ? b->revision : "(unknown revision)",
	       json_object_get_string(json_object_object_get(m, "cpus")),
	       json_object_get_string(json_object_object_get(m, "kernel")),
	       json_object_get_string(json_object_object_get(m, "cgroup_dir")),
	       json_object_get_string(json_object_object_get(m, "controllers")), b->state_fs,
	       jget(m, "run_seconds"), jget(m, "bench_cpus_used"), jget(m, "other_cpus_used"),
	       json_object_get_string(json_object_object_get(m, "loadavg_before")),
	       json_object_get_string(json_object_object_get(m, "loadavg_after")));
	printf("Raw kernel baseline (one thread)\n");
	printf("  mkdir+rmdir pairs/s %10.0f   mkdir p50 %.1f us, p99 %.1f us; rmdir p50 %.1f us, p99 %.1f us;"
	       " %.0f us CPU a pair\n",
	       jget(raw, "pairs_per_s"), jget(raw, "mkdir_p50_us"), jget(raw, "mkdir_p99_us"),
	       jget(raw, "rmdir_p50_us"), jget(raw, "rmdir_p99_us"), jget(raw, "cpu_us_per_pair"));
	printf("  fdatasync (100-byte appends)   p50 %.1f us, p99 %.1f us\n\n", jget(raw, "fdatasync_p50_us"),
	       jget(raw, "fdatasync_p99_us"));
	printf("cgctld Create+Destroy through libcgctl (durable ledger, one connection per thread)\n");
	print_pairs(b);
	printf("\nSingle-client Create p50 %.0f us vs raw mkdir p50 + fdatasync p50 %.0f us: %.2fx"
	       " (a bare Varlink round trip, GetInfo: p50 %.0f us)\n\n",
	       jget(sg, "create_p50_us"), jget(sg, "mkdir_plus_fdatasync_p50_us"), jget(sg, "ratio"),
	       jget(sg, "roundtrip_p50_us"));
	printf("Scaling with existing cgroups\n");
	print_scaling(b);
	printf("\nDaemon VmRSS: empty %.1f MiB; %u cgroups %.1f MiB, + %u watchers %.1f MiB;"
	       " restarted over them %.1f MiB, + watchers %.1f MiB\n\n",
	       jget(rss, "empty") / 1024, b->large_n, jget(rss, "large") / 1024, b->watchers,
	       jget(rss, "large_watchers") / 1024, jget(rss, "large_restarted") / 1024,
	       jget(rss, "large_restarted_watchers") / 1024);
	print_run(b);
	printf("\nTargets\n");
	for (size_t i = 0; i < json_object_array_length(tg); i++) {
		json_object *o = json_object_array_get_idx(tg, i), *met = json_object_object_get(o, "met");
		const char *info = json_object_get_string(json_object_object_get(o, "info"));
		char v[32];

		printf("  %-66s %9s %-3s ", json_object_get_string(json_object_object_get(o, "target")),
		       num(v, sizeof(v), jget(o, "value"), 2), json_object_get_string(json_object_object_get(o, "unit")));
		if (info)
			printf("(info)  %s\n", info);
		else
			printf("(limit %g)  %s\n", jget(o, "limit"),
			       !met ? "n/a" : json_object_get_boolean(met) ? "met" : "MISSED");
	}
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

/* /proc/loadavg's first three fields under machine.<key>: other work skews every figure. */
static void record_load(struct bench *b, const char *key)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/loadavg", "re");
	char line[128] = "";

	if (f && fgets(line, sizeof(line), f)) {
		char *sp = line;

		for (int i = 0; i < 3 && sp; i++)
			sp = strchr(sp + 1, ' ');
		if (sp)
			*sp = '\0';
	}
	jstr(jobj(b->res, "machine"), key, line);
}

/* Busy CPU time of the whole machine from /proc/stat, microseconds; 0 unknown. */
static uint64_t machine_busy_us(void)
{
	_cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
	unsigned long long v[8] = { 0 };
	long hz = sysconf(_SC_CLK_TCK);

	if (!f || hz <= 0 || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
				     &v[4], &v[5], &v[6], &v[7]) != 8)
		return 0;
	/* Everything but idle and iowait; steal counts as busy: the host took it from us. */
	return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) * 1000000ull / (unsigned long long)hz;
}

/* CPU time of everything in the scratch subtree (cgbench, daemons, their children), microseconds. */
static uint64_t scratch_cpu_us(struct bench *b)
{
	char path[PATH_MAX], line[128];
	_cleanup_fclose_ FILE *f = NULL;
	unsigned long long us = 0;

	if (fmt_path(path, sizeof(path), "%s/cpu.stat", b->cg_dir) < 0 || !(f = fopen(path, "re")))
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "usage_usec %llu", &us) == 1)
			break;
	return us;
}

/* How many CPUs other work on the machine took during the run: it skews every figure. */
static void record_others(struct bench *b, uint64_t wall0, uint64_t busy0, uint64_t ours0)
{
	double wall = (double)(now_ns() - wall0) / 1e3;
	double busy = (double)(machine_busy_us() - busy0), ours = (double)(scratch_cpu_us(b) - ours0);
	json_object *m = jobj(b->res, "machine");

	jnum(m, "run_seconds", wall / 1e6);
	jnum(m, "bench_cpus_used", ours / wall);
	jnum(m, "other_cpus_used", busy > ours ? (busy - ours) / wall : 0);
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

/* Write results.json into the out dir. */
static int write_results(struct bench *b)
{
	char path[PATH_MAX];

	if (fmt_path(path, sizeof(path), "%s/results.json", b->out_dir) < 0)
		return -ENAMETOOLONG;
	if (json_object_to_file_ext(path, b->res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) < 0)
		return -EIO;
	note("wrote %s", path);
	return 0;
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
