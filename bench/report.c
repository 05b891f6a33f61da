/* SPDX-License-Identifier: MIT */
/* report.c: the results: JSON helpers, derived ratios and Targets, the table, results.json. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cgbench.h"

/* ---- JSON results ---- */

/* Set a number (NAN becomes null). */
void jnum(json_object *o, const char *k, double v)
{
	json_object_object_add(o, k, isnan(v) ? NULL : json_object_new_double(v));
}

/* Set a string. */
void jstr(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

/* Number member of o; NAN when missing or null. */
double jget(json_object *o, const char *k)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) || !v)
		return NAN;
	return json_object_get_double(v);
}

/* Member k of o, added as make() when missing or null. */
static json_object *jmember(json_object *o, const char *k, json_object *(*make)(void))
{
	json_object *v;

	if (json_object_object_get_ex(o, k, &v) && v)
		return v;
	v = make();
	json_object_object_add(o, k, v);
	return v;
}

/* Object member (created when missing). */
json_object *jobj(json_object *o, const char *k)
{
	return jmember(o, k, json_object_new_object);
}

/* Array member (created when missing). */
json_object *jarr(json_object *o, const char *k)
{
	return jmember(o, k, json_object_new_array);
}

/* ---- derived figures and targets ---- */

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

/*
 * The floor under the last target's ratio that this machine's own costs set,
 * measured in this run (results.json: "floor"), and what it is made of.
 */
static void target_floor(struct bench *b, double floor, const char *what)
{
	json_object *tg = jarr(b->res, "targets"), *o = json_object_array_get_idx(tg, json_object_array_length(tg) - 1);
	const char *note = json_object_get_string(json_object_object_get(o, "note"));
	char buf[512];

	jnum(o, "floor", floor);
	jstr(o, "floor_is", what);
	snprintf(buf, sizeof(buf), "%s%sfloor %.2f = %s", note ? note : "", note ? "; " : "", floor, what);
	jstr(o, "note", buf);
}

/* cgctl run's floor: what two execs cost against systemd-run, both p50s of this run. */
static double run_floor(json_object *run)
{
	double floor = (jget(run, "fork_exec_cgctl_p50_ms") + jget(run, "spawn_true_p50_ms")) /
		       jget(run, "systemd_run_p50_ms");

	jnum(run, "ratio_floor", floor);
	/* The same from the fastest run of each: what the commands cost with the least interference. */
	jnum(run, "ratio_floor_min", (jget(run, "fork_exec_cgctl_min_ms") + jget(run, "spawn_true_min_ms")) /
				     jget(run, "systemd_run_min_ms"));
	return floor;
}

/* cgctl run against systemd-run: the ratio of the p50s, at most 0.25 (issue 18). */
static void derive_run(struct bench *b)
{
	json_object *run = jobj(b->res, "run"), *tg = jarr(b->res, "targets");
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
	target(b, "cgctl run true p50 <= 0.25x systemd-run --user --scope true p50", ratio, 0.25, true, "x");
	jstr(json_object_array_get_idx(tg, json_object_array_length(tg) - 1), "note", info);
	target_floor(b, run_floor(run), "two execs (fork+exec cgctl --version + spawn true) / systemd-run");
}

/* Issue 18: the daemon's CPU per pair against the kernel's, the pair rate at c1, c16 and c64 against raw. */
static void derive_pairs(struct bench *b)
{
	json_object *raw = jobj(b->res, "raw"), *c16 = find_pairs(b, 16, 0);
	double kernel = jget(raw, "cpu_us_per_pair");
	unsigned levels[] = { 1, 64 };
	char name[128], info[64], floor_is[128];

	jnum(c16, "daemon_cpu_vs_raw_cpu", jget(c16, "daemon_cpu_us_per_op") / kernel);
	target(b, "c16 daemon CPU per pair <= 2.5x raw kernel CPU per pair", jget(c16, "daemon_cpu_us_per_op") / kernel,
	       2.5, true, "x");
	/* The daemon does the kernel's mkdir+rmdir too, and its sync thread the fdatasyncs. */
	jnum(c16, "daemon_cpu_vs_raw_floor", 1 + jget(c16, "daemon_sync_thread_cpu_us_per_op") / kernel);
	snprintf(floor_is, sizeof(floor_is), "(raw mkdir+rmdir %.0f us + sync thread %.0f us) / %.0f us",
		 kernel, jget(c16, "daemon_sync_thread_cpu_us_per_op"), kernel);
	target_floor(b, jget(c16, "daemon_cpu_vs_raw_floor"), floor_is);
	target(b, "c16 Create+Destroy pairs/s >= 30% of raw mkdir+rmdir pairs/s", jget(c16, "ratio_vs_raw") * 100, 30,
	       false, "%");
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		json_object *o = find_pairs(b, levels[i], 0);

		if (!o)
			continue;
		snprintf(name, sizeof(name), "c%u Create+Destroy pairs/s vs raw mkdir+rmdir pairs/s", levels[i]);
		snprintf(info, sizeof(info), "daemon CPU %.1fx raw per pair",
			 jget(o, "daemon_cpu_us_per_op") / kernel);
		target_info(b, name, jget(o, "ratio_vs_raw") * 100, "%", info);
	}
}

/* Ratios and targets from the measured figures. */
void derive(struct bench *b)
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
	derive_pairs(b);
	derive_run(b);
}

/* ---- the table ---- */

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
	char a[32], c[32], d[32], e[32], f[32];

	printf("cgctl run true vs systemd-run --user --scope true (p50 of %.0f runs each)\n", jget(run, "runs"));
	printf("  %-34s %8s ms   %s\n", "cgctl run -- true", num(a, sizeof(a), jget(run, "cgctl_run_p50_ms"), 2),
	       cg ? cg : "not measured");
	printf("  %-34s %8s ms   %s%s%s\n", "systemd-run --user --scope true",
	       num(a, sizeof(a), jget(run, "systemd_run_p50_ms"), 2), sd ? sd : "not measured",
	       mgr && sd && strcmp(sd, "ok") == 0 ? "; " : "",
	       mgr && sd && strcmp(sd, "ok") == 0 ? mgr : "");
	printf("  %-34s %8s ms\n", "fork+exec true", num(a, sizeof(a), jget(run, "fork_exec_true_p50_ms"), 2));
	printf("  %-34s %8s ms   exec and start-up of cgctl, no call\n", "fork+exec cgctl --version",
	       num(a, sizeof(a), jget(run, "fork_exec_cgctl_p50_ms"), 2));
	printf("  %-34s %8s ms   posix_spawn (vfork) + exec of true: an exec from a small process\n",
	       "spawn true", num(a, sizeof(a), jget(run, "spawn_true_p50_ms"), 2));
	printf("  %-34s %8s      (fork+exec cgctl + spawn true) / systemd-run: no cgctl run goes below\n",
	       "floor of cgctl run / systemd-run", num(c, sizeof(c), jget(run, "ratio_floor"), 2));
	if (isnan(ratio))
		printf("  %-34s %8s\n", "cgctl run / systemd-run", "-");
	else
		printf("  %-34s %8s      cgctl run is %.1fx %s\n", "cgctl run / systemd-run", num(c, sizeof(c), ratio, 2),
		       ratio <= 1 ? 1 / ratio : ratio, ratio <= 1 ? "faster" : "slower");
	printf("  %-34s %8s      fastest runs: cgctl run %s ms, systemd-run %s ms; floor %s\n",
	       "cgctl run / systemd-run, fastest", num(c, sizeof(c), jget(run, "ratio_cgctl_vs_systemd_min"), 2),
	       num(d, sizeof(d), jget(run, "cgctl_run_min_ms"), 2), num(e, sizeof(e), jget(run, "systemd_run_min_ms"), 2),
	       num(f, sizeof(f), jget(run, "ratio_floor_min"), 2));
}

/* Print the whole table to stdout. */
void print_table(struct bench *b)
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
		const char *note = json_object_get_string(json_object_object_get(o, "note"));
		char v[32];

		printf("  %-66s %9s %-3s ", json_object_get_string(json_object_object_get(o, "target")),
		       num(v, sizeof(v), jget(o, "value"), 2), json_object_get_string(json_object_object_get(o, "unit")));
		if (info)
			printf("(info)  %s\n", info);
		else
			printf("(limit %g)  %s%s%s\n", jget(o, "limit"),
			       !met ? "n/a" : json_object_get_boolean(met) ? "met" : "MISSED", note ? "; " : "",
			       note ? note : "");
	}
}

/* ---- results.json ---- */

/* Write results.json into the out dir. */
int write_results(struct bench *b)
{
	char path[PATH_MAX];

	if (fmt_path(path, sizeof(path), "%s/results.json", b->out_dir) < 0)
		return -ENAMETOOLONG;
	if (json_object_to_file_ext(path, b->res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE) < 0)
		return -EIO;
	note("wrote %s", path);
	return 0;
}
