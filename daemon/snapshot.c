/* SPDX-License-Identifier: MIT */
/*
 * snapshot.c: Snapshot, what `cgctl top` shows of every managed cgroup, in one reply.
 * Reading 4096 cgroups' files takes about a second: the reply is built in slices of
 * one connection's fair share of the loop (CONN_TURN_USEC), each on its own loop turn,
 * so that other clients (and the group commit) are served between them.
 */
#include "dispatch.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "cgroupfs.h"
#include "cleanup.h"
#include "events.h"
#include "pressure.h"
#include "now.h"
#include "server.h"
#include "watch.h"
#include "stats.h"
#include "tenant.h"

#define SNAPSHOT_MAX 4096 /* cgroups in one reply: about 1 KiB each, well under a reply's limit */
#define SNAPSHOT_PROCS_MAX (1024 * 1024)

/*
 * A Snapshot being built. Its cgroups are the entries the caller may see when
 * it arrived (name and creation time); each is read on its turn, and left out
 * if it is gone or another of the same name replaced it by then.
 */
struct snapshot_job {
	struct snapshot_job *next;
	struct app *app;
	struct call *call;
	json_object *reply;    /* status and time of the arrival, the cgroups read so far */
	struct event *ev;      /* the next slice, after the loop has polled */
	char **names;
	uint64_t *created;
	size_t n, done;
};

/* The files top shows; those whose controller is not enabled do not exist. */
static const char *const snapshot_files[] = {
	"cpu.stat",     "memory.current",  "memory.max",      "pids.current", "pids.max",
	"io.stat",      "cpu.pressure",    "memory.pressure", "io.pressure",  NULL,
};

/* The counts one client sees: everybody's for an administrator; for a tenant its own, and no journal activity. */
static void snapshot_counts(struct call *call, struct ledger_stats *ls, unsigned ret[3])
{
	struct manager *m = call_manager(call);
	uid_t uid = call_peer_uid(call);
	struct ledger_usage u;

	ledger_get_stats(manager_ledger(m), ls);
	if (tenant_is_admin(uid)) {
		ret[0] = server_conn_count(call_server(call));
		ret[1] = watch_count(call_app(call));
		ret[2] = pressure_count(m);
		return;
	}
	ledger_owner_usage(manager_ledger(m), uid, &u);
	*ls = (struct ledger_stats){ .entries = u.entries };
	ret[0] = server_conn_count_of(call_server(call), uid);
	ret[1] = watch_count_of(call_app(call), uid);
	ret[2] = pressure_count_of(m, uid);
}

/* The daemon's figures. */
static json_object *snapshot_status(struct call *call)
{
	struct manager *m = call_manager(call);
	json_object *st = json_object_new_object(), *ctl = json_object_new_array();
	struct ledger_stats ls;
	unsigned n[3];

	snapshot_counts(call, &ls, n);
	for (char *const *c = manager_controllers(m); c && *c; c++)
		json_object_array_add(ctl, json_object_new_string(*c));
	json_object_object_add(st, "delegated", json_object_new_boolean(manager_delegated(m)));
	json_object_object_add(st, "controllers", ctl);
	json_object_object_add(st, "entries", json_object_new_int64((int64_t)ls.entries));
	json_object_object_add(st, "connections", json_object_new_int64(n[0]));
	json_object_object_add(st, "watchers", json_object_new_int64(n[1]));
	json_object_object_add(st, "pressure_triggers", json_object_new_int64(n[2]));
	json_object_object_add(st, "journal_bytes", json_object_new_int64((int64_t)ls.journal_bytes));
	json_object_object_add(st, "journal_records", json_object_new_int64((int64_t)ls.journal_records));
	json_object_object_add(st, "compactions", json_object_new_int64((int64_t)ls.compactions));
	return st;
}

/* populated, frozen, processes and controllers of rel into o. 0, or -errno (-ENOENT: gone). */
static int snapshot_core(struct manager *m, const char *rel, json_object *o)
{
	_cleanup_free_ char *procs = NULL, *ctl = NULL;
	json_object *arr = json_object_new_array();
	bool populated, frozen;
	int64_t n = 0;
	int r;

	if ((r = cgfs_read_events(manager_rootfd(m), rel, &populated, &frozen)) < 0 ||
	    (r = cgfs_read_attr(manager_rootfd(m), rel, "cgroup.procs", SNAPSHOT_PROCS_MAX, &procs)) < 0 ||
	    (r = cgfs_read_attr(manager_rootfd(m), rel, "cgroup.controllers", SNAPSHOT_PROCS_MAX, &ctl)) < 0) {
		json_object_put(arr);
		return r;
	}
	for (const char *p = procs; *p; p++)
		n += *p == '\n';
	for (char *save = NULL, *tok = strtok_r(ctl, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save))
		json_object_array_add(arr, json_object_new_string(tok));
	json_object_object_add(o, "populated", json_object_new_boolean(populated));
	json_object_object_add(o, "frozen", json_object_new_boolean(frozen));
	json_object_object_add(o, "processes", json_object_new_int64(n));
	json_object_object_add(o, "controllers", arr);
	return 0;
}

/* One CgroupSnapshot in *ret, read now (its "time"); -ENOENT when it vanished meanwhile (left out, no glitch). */
static int snapshot_cgroup(struct manager *m, const char *name, json_object **ret)
{
	_cleanup_free_ char *rel = NULL;
	json_object *o, *values, *files;
	int r;

	if (cgname_to_path(name, &rel) < 0)
		return -ENOMEM;
	o = json_object_new_object();
	values = json_object_new_object();
	files = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "time", json_object_new_int64((int64_t)now_mono_usec()));
	json_object_object_add(o, "values", values);
	json_object_object_add(o, "files", files);
	r = snapshot_core(m, rel, o);
	if (r >= 0)
		r = stats_add_files(manager_rootfd(m), rel, snapshot_files, values, files);
	if (r < 0) {
		json_object_put(o);
		return r;
	}
	*ret = o;
	return 0;
}

/* Whether uid may see le (a tenant: its own entries only) and it is below one of names (NULL: all). */
static bool snapshot_wanted(json_object *names, uid_t uid, const struct ledger_entry *le)
{
	size_t n = names ? json_object_array_length(names) : 0;

	if (!tenant_may_access(uid, le))
		return false;
	for (size_t i = 0; i < n; i++)
		if (cgname_is_below(le->name, json_object_get_string(json_object_array_get_idx(names, i))))
			return true;
	return n == 0;
}

/* The first of names with no entry uid may see at or below it, NULL when every one has some. */
static const char *snapshot_unknown(json_object *names, uid_t uid, struct ledger_entry **all, size_t n)
{
	for (size_t i = 0; names && i < json_object_array_length(names); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));
		size_t j = 0;

		while (j < n && (!cgname_is_below(all[j]->name, name) || !tenant_may_access(uid, all[j])))
			j++;
		if (j == n)
			return name;
	}
	return NULL;
}

/* names: at most 64 valid names. */
static bool snapshot_names_ok(struct call *call, json_object *names)
{
	struct op_error e;

	if (names && json_object_array_length(names) > EVENTS_WATCH_NAMES_MAX) {
		call_errorf(call, CGERR_INVALID_VALUE, "field", "names", "at most %d names in one Snapshot",
			    EVENTS_WATCH_NAMES_MAX);
		return false;
	}
	for (size_t i = 0; names && i < json_object_array_length(names); i++) {
		json_object *n = json_object_array_get_idx(names, i);

		if (!json_object_is_type(n, json_type_string)) {
			call_errorf(call, CGERR_INVALID_NAME, "name", "", "names[%zu] is not a string", i);
			return false;
		}
		if (manager_check_name(call_manager(call), json_object_get_string(n), &e) < 0) {
			call_op_error(call, &e);
			return false;
		}
	}
	return true;
}

/* Free job (unlisted, its call answered). */
static void snapshot_job_free(struct snapshot_job *job)
{
	for (size_t i = 0; i < job->n; i++)
		free(job->names[i]);
	free(job->names);
	free(job->created);
	if (job->ev)
		event_free(job->ev);
	json_object_put(job->reply);
	free(job);
}

/* Unlist job from its application. */
static void snapshot_job_unlist(struct snapshot_job *job)
{
	for (struct snapshot_job **pp = &job->app->snapshots; *pp; pp = &(*pp)->next)
		if (*pp == job) {
			*pp = job->next;
			return;
		}
}

/* The entry job's i-th cgroup was when the call arrived, NULL when gone or replaced since. */
static struct ledger_entry *snapshot_job_entry(struct snapshot_job *job, size_t i)
{
	struct ledger_entry *le = ledger_get(manager_ledger(job->app->mgr), job->names[i]);

	if (!le || le->created_usec != job->created[i] || !tenant_may_access(call_peer_uid(job->call), le))
		return NULL;
	return le;
}

/* Read cgroups for one fair share of the loop (at least one); true when all are read. */
static bool snapshot_job_slice(struct snapshot_job *job)
{
	int64_t start = (int64_t)now_mono_usec();
	json_object *arr;

	json_object_object_get_ex(job->reply, "cgroups", &arr);
	while (job->done < job->n) {
		json_object *o;

		if (snapshot_job_entry(job, job->done) &&
		    snapshot_cgroup(job->app->mgr, job->names[job->done], &o) >= 0)
			json_object_array_add(arr, o);
		job->done++;
		if ((int64_t)now_mono_usec() - start >= CONN_TURN_USEC)
			break;
	}
	return job->done == job->n;
}

/* Answer job's call (with what it read, or, the daemon stopping, Timeout), unlist and free it. */
static void snapshot_job_finish(struct snapshot_job *job, bool stopping)
{
	struct call *call = job->call;
	json_object *reply = job->reply;

	snapshot_job_unlist(job);
	job->reply = NULL;
	snapshot_job_free(job);
	if (!stopping) {
		call_reply(call, reply);
		return;
	}
	json_object_put(reply);
	call_errorf(call, CGERR_TIMEOUT, NULL, NULL, "cgctld is stopping");
}

/* Go on with job: one slice, then the rest on later loop turns (after the others had theirs). */
static void snapshot_job_run(struct snapshot_job *job)
{
	static const struct timeval now = { 0, 0 };

	/* A closed connection's reply goes nowhere: stop reading for it. */
	if (conn_closed(call_conn(job->call)) || snapshot_job_slice(job) || evtimer_add(job->ev, &now) < 0)
		snapshot_job_finish(job, false);
}

/* The loop has polled since the last slice. */
static void snapshot_slice_cb(evutil_socket_t fd, short what, void *arg)
{
	snapshot_job_run(arg);
}

/* Note entry le in job; -ENOMEM. */
static int snapshot_job_add(struct snapshot_job *job, const struct ledger_entry *le)
{
	if (!(job->names[job->n] = strdup(le->name)))
		return -ENOMEM;
	job->created[job->n++] = le->created_usec;
	return 0;
}

/* A job for the n entries in all that call wants (at most SNAPSHOT_MAX); NULL when out of memory. */
static struct snapshot_job *snapshot_job_new(struct call *call, json_object *names, struct ledger_entry **all,
					     size_t n)
{
	struct app *a = call_app(call);
	struct snapshot_job *job = calloc(1, sizeof(*job));
	size_t want = n < SNAPSHOT_MAX ? n : SNAPSHOT_MAX;
	bool truncated = false;

	if (!job || !(job->names = calloc(want + 1, sizeof(char *))) ||
	    !(job->created = calloc(want + 1, sizeof(uint64_t))) ||
	    !(job->ev = evtimer_new(a->base, snapshot_slice_cb, job)))
		goto oom;
	event_priority_set(job->ev, SERVER_PRIO_COMMIT);
	job->app = a;
	job->call = call;
	for (size_t i = 0; i < n; i++) {
		if (!snapshot_wanted(names, call_peer_uid(call), all[i]))
			continue;
		if (job->n >= SNAPSHOT_MAX) {
			truncated = true;
			break;
		}
		if (snapshot_job_add(job, all[i]) < 0)
			goto oom;
	}
	job->reply = json_object_new_object();
	json_object_object_add(job->reply, "status", snapshot_status(call));
	json_object_object_add(job->reply, "time", json_object_new_int64((int64_t)now_mono_usec()));
	json_object_object_add(job->reply, "truncated", json_object_new_boolean(truncated));
	json_object_object_add(job->reply, "cgroups", json_object_new_array());
	return job;
oom:
	if (job)
		snapshot_job_free(job);
	return NULL;
}

/* Snapshot(names?) -> (status, time, truncated, cgroups) */
void method_snapshot(struct call *call)
{
	static const struct param_spec specs[] = { { "names", json_type_array, false }, PARAM_END };
	struct manager *m = call_manager(call);
	_cleanup_free_ struct ledger_entry **all = NULL;
	struct snapshot_job *job;
	json_object *names;
	const char *unknown;
	size_t n;

	if (!params_check(call, specs) || !snapshot_names_ok(call, names = param_obj(call, "names")))
		return;
	if (ledger_list(manager_ledger(m), &all, &n) < 0) {
		call_error_errno(call, -ENOMEM, "snapshot");
		return;
	}
	/* As List: a name with nothing at or below it is NotFound, not an empty frame. */
	if ((unknown = snapshot_unknown(names, call_peer_uid(call), all, n))) {
		call_errorf(call, CGERR_NOT_FOUND, "name", unknown, "no cgroup \"%s\"", unknown);
		return;
	}
	if (!(job = snapshot_job_new(call, names, all, n))) {
		call_error_errno(call, -ENOMEM, "snapshot");
		return;
	}
	job->next = call_app(call)->snapshots;
	call_app(call)->snapshots = job;
	snapshot_job_run(job);
}

/* End every Snapshot being built with Timeout (the daemon is stopping). */
void snapshot_stop(struct app *a)
{
	while (a->snapshots)
		snapshot_job_finish(a->snapshots, true);
}
