/* SPDX-License-Identifier: MIT */
/* measure.c: clocks, CPU accounting (ours, the daemon's, the machine's), latency percentiles. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgbench.h"
#include "cleanup.h"

/* ---- clocks and CPU time ---- */

/* Monotonic nanoseconds. */
uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* CPU time of this process (every thread), nanoseconds. */
uint64_t self_cpu_ns(void)
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
uint64_t proc_cpu_ns(pid_t pid)
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

/* CPU time of pid's main thread alone (cgctld's loop thread), ns; 0 unknown. */
uint64_t proc_main_cpu_ns(pid_t pid)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/%d/task/%d/schedstat", (int)pid, (int)pid);
	return task_cpu_ns(path);
}

/* Sleep ms milliseconds. */
void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ---- latencies ---- */

/* Append one latency. */
int lat_add(struct lat *l, uint64_t ns)
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
int lat_merge(struct lat *dst, const struct lat *src)
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
double lat_us(struct lat *l, double q)
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
void lat_free(struct lat *l)
{
	free(l->v);
	*l = (struct lat){ 0 };
}

/* qsort comparator of doubles. */
static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Median of n doubles (sorts them). */
double median(double *v, size_t n)
{
	if (n == 0)
		return NAN;
	qsort(v, n, sizeof(*v), dbl_cmp);
	return v[n / 2];
}

/* ---- the machine around the run ---- */

/* /proc/loadavg's first three fields under machine.<key>: other work skews every figure. */
void record_load(struct bench *b, const char *key)
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
uint64_t machine_busy_us(void)
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
uint64_t scratch_cpu_us(struct bench *b)
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
void record_others(struct bench *b, uint64_t wall0, uint64_t busy0, uint64_t ours0)
{
	double wall = (double)(now_ns() - wall0) / 1e3;
	double busy = (double)(machine_busy_us() - busy0), ours = (double)(scratch_cpu_us(b) - ours0);
	json_object *m = jobj(b->res, "machine");

	jnum(m, "run_seconds", wall / 1e6);
	jnum(m, "bench_cpus_used", ours / wall);
	jnum(m, "other_cpus_used", busy > ours ? (busy - ours) / wall : 0);
}
