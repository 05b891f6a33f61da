/* SPDX-License-Identifier: MIT */
/* cgbench.h: what the benchmark's modules share: the run's state and each module's entry points. */
#pragma once

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#define LEVELS_MAX 8
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

/* The entry points by module. bench_<phase>() and raw_*() each run one measured phase and record it
 * in b->res; those returning int give 0 or -errno. */

/* ---- cgbench.c: main, the command line, the order of the phases. ---- */
/* Progress line on stderr. */
void note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* snprintf that refuses to truncate: -ENAMETOOLONG instead. */
int fmt_path(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A Unix socket of type at path: bound (a stale file removed first) or connected; fd or -errno. */
int unix_socket(const char *path, int type, bool do_bind);

/* ---- measure.c: clocks, CPU accounting, latency percentiles. ---- */
/* Monotonic nanoseconds. */
uint64_t now_ns(void);
/* CPU time of this process (every thread), nanoseconds. */
uint64_t self_cpu_ns(void);
/* CPU time of every thread of pid (cgctld's loop and its sync thread), ns; 0 unknown. */
uint64_t proc_cpu_ns(pid_t pid);
/* CPU time of pid's main thread alone (cgctld's loop thread), ns; 0 unknown. */
uint64_t proc_main_cpu_ns(pid_t pid);
/* Sleep ms milliseconds. */
void sleep_ms(unsigned ms);
/* Append one latency. */
int lat_add(struct lat *l, uint64_t ns);
/* Append all of src to dst. */
int lat_merge(struct lat *dst, const struct lat *src);
/* Quantile q (0..1) in microseconds; NAN when empty. */
double lat_us(struct lat *l, double q);
/* Free the array. */
void lat_free(struct lat *l);
/* Median of n doubles (sorts them). */
double median(double *v, size_t n);
/* /proc/loadavg's first three fields under machine.<key>: other work skews every figure. */
void record_load(struct bench *b, const char *key);
/* Busy CPU time of the whole machine from /proc/stat, microseconds; 0 unknown. */
uint64_t machine_busy_us(void);
/* CPU time of everything in the scratch subtree (cgbench, daemons, their children), microseconds. */
uint64_t scratch_cpu_us(struct bench *b);
/* How many CPUs other work on the machine took during the run: it skews every figure. */
void record_others(struct bench *b, uint64_t wall0, uint64_t busy0, uint64_t ours0);

/* ---- perf.c: CGBENCH_PERF profiles of one phase. ---- */
/* Start perf for phase, output in OUT/perf-<phase>.{data,txt}. */
void perf_begin(struct bench *b, const char *phase);
/* Stop the profile started by perf_begin(). */
void perf_end(struct bench *b);

/* ---- daemon.c: the cgctld under test. ---- */
/* Start the daemon; record exec→READY=1 and exec→GetStatus under startup[] with entries. */
int daemon_start(struct bench *b, unsigned entries);
/* SIGTERM the daemon and reap it (SIGKILL after 10 s). */
void daemon_stop(struct bench *b);
/* Record the daemon's VmRSS under rss.<key>. */
void bench_rss(struct bench *b, const char *key);

/* ---- load.c: load generators: raw baseline, Create+Destroy pairs, fills, round trips. ---- */
/* mkdir+rmdir pairs in the raw/ sibling of the managed root, from one thread. */
int raw_cgroups(struct bench *b);
/* Append 100-byte records with fdatasync after each, like the journal, in the work dir. */
int raw_fdatasync(struct bench *b);
/* Create+Destroy at `level` connections for `seconds`; appended to create_destroy[]. */
int bench_pairs(struct bench *b, unsigned level, double seconds);
/* Create fill entries until the ledger holds n of them. */
int bench_fill(struct bench *b, unsigned n);
/* Varlink round trip with no cgroup or ledger work (GetInfo): the transport's floor. */
int bench_roundtrip(struct bench *b);

/* ---- vl.c: List and idle watchers, over raw Varlink. ---- */
/* Time List of everything: through cgctl_list(), and raw bytes over the socket. */
int bench_list(struct bench *b);
/* Open n idle Watch streams (first reply "watching"), measure RSS, close them. */
int bench_watchers(struct bench *b, const char *key);

/* ---- run.c: cgctl run against systemd-run. ---- */
/* `cgctl run true` vs `systemd-run --user --scope true`, and plain fork+exec of true. */
void bench_run(struct bench *b);

/* ---- report.c: JSON, derived figures and Targets, the table. ---- */
/* Set a number (NAN becomes null). */
void jnum(json_object *o, const char *k, double v);
/* Set a string. */
void jstr(json_object *o, const char *k, const char *v);
/* Number member of o; NAN when missing or null. */
double jget(json_object *o, const char *k);
/* Object member (created when missing). */
json_object *jobj(json_object *o, const char *k);
/* Array member (created when missing). */
json_object *jarr(json_object *o, const char *k);
/* Ratios and targets from the measured figures. */
void derive(struct bench *b);
/* Print the whole table to stdout. */
void print_table(struct bench *b);
/* Write results.json into the out dir. */
int write_results(struct bench *b);
