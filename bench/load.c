/* SPDX-License-Identifier: MIT */
/* load.c: the load generators: the raw kernel baseline, Create+Destroy pairs, fills, round trips. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgctl.h"
#include "cgbench.h"
#include "cleanup.h"

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
	uint64_t daemon_loop_ns;               /* of daemon_cpu_ns, the loop thread's; the rest is the sync thread's */
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

/* ---- raw kernel baseline ---- */

/* mkdir+rmdir pairs in the raw/ sibling of the managed root, from one thread. */
int raw_cgroups(struct bench *b)
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
int raw_fdatasync(struct bench *b)
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
	/* The sync thread does little but fdatasync: its CPU is the durability's share. */
	jnum(o, "daemon_sync_thread_cpu_us_per_op", ld->daemon_loop_ns ?
	     (double)(ld->daemon_cpu_ns - ld->daemon_loop_ns) / 1e3 / (double)done : NAN);
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
	ld->daemon_loop_ns = proc_main_cpu_ns(b->d.pid);
	ld->client_cpu_ns = self_cpu_ns();
	if (!ld->fill) {
		while (!atomic_load(&ld->stop) && (double)(now_ns() - ld->t_start) / 1e9 < seconds)
			sleep_ms(10);
		atomic_store(&ld->stop, 1);
	}
	for (unsigned i = 0; i < ld->level; i++)
		pthread_join(ws[i].thread, NULL);
	ld->daemon_cpu_ns = proc_cpu_ns(b->d.pid) - ld->daemon_cpu_ns;
	ld->daemon_loop_ns = proc_main_cpu_ns(b->d.pid) - ld->daemon_loop_ns;
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
int bench_pairs(struct bench *b, unsigned level, double seconds)
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
int bench_fill(struct bench *b, unsigned n)
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
int bench_roundtrip(struct bench *b)
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
