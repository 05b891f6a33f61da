/* SPDX-License-Identifier: MIT */
/* manager_status.c: the Status object GetStatus returns. */
#include "manager_internal.h"

#include <unistd.h>

#include "cgroupfs.h"
#include "monitor.h"

/* Strings as a JSON array. */
static json_object *status_strv(char **v)
{
	json_object *a = json_object_new_array();

	for (; v && *v; v++)
		json_object_array_add(a, json_object_new_string(*v));
	return a;
}

/* A report list, or an empty array before reconcile ran. */
static json_object *status_list(json_object *l)
{
	return l ? json_object_get(l) : json_object_new_array();
}

/* How the ledger came up: the mode and every damaged file, where, and what was lost. */
static json_object *status_recovery(struct manager *m)
{
	static const char *const modes[] = { "normal", "fallback", "recovery" };
	const struct ledger_recovery *rec = ledger_get_recovery(m->ledger);
	json_object *o = json_object_new_object(), *a = json_object_new_array();

	for (unsigned i = 0; i < rec->n; i++) {
		const struct ledger_damage *d = &rec->damage[i];
		json_object *x = json_object_new_object();

		json_object_object_add(x, "file", json_object_new_string(d->file));
		json_object_object_add(x, "offset", json_object_new_int64((int64_t)d->offset));
		json_object_object_add(x, "kept", d->kept[0] ? json_object_new_string(d->kept) : NULL);
		json_object_object_add(x, "lost", json_object_new_string(d->lost));
		json_object_array_add(a, x);
	}
	json_object_object_add(o, "mode", json_object_new_string(modes[rec->mode]));
	json_object_object_add(o, "damage", a);
	return o;
}

/* Ledger figures. */
static json_object *status_ledger(struct manager *m)
{
	json_object *o = json_object_new_object(), *rec = json_object_new_object();
	struct ledger_stats st;

	ledger_get_stats(m->ledger, &st);
	json_object_object_add(rec, "dropped", status_list(m->report.dropped));
	json_object_object_add(rec, "rolled_back", status_list(m->report.rolled_back));
	json_object_object_add(rec, "resumed", status_list(m->report.resumed));
	json_object_object_add(rec, "unknown", status_list(m->report.unknown));
	json_object_object_add(o, "path", json_object_new_string(ledger_dir(m->ledger)));
	json_object_object_add(o, "format_version", json_object_new_int(1));
	json_object_object_add(o, "entries", json_object_new_int64((int64_t)st.entries));
	json_object_object_add(o, "journal_bytes", json_object_new_int64((int64_t)st.journal_bytes));
	json_object_object_add(o, "journal_records", json_object_new_int64((int64_t)st.journal_records));
	json_object_object_add(o, "compactions", json_object_new_int64((int64_t)st.compactions));
	json_object_object_add(o, "last_compaction",
			       st.last_compaction_usec ? json_object_new_int64((int64_t)st.last_compaction_usec) : NULL);
	json_object_object_add(o, "dropped_records", json_object_new_int64((int64_t)st.dropped_records));
	json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
	json_object_object_add(o, "max_bytes", json_object_new_int64((int64_t)st.budget));
	json_object_object_add(o, "reconcile", rec);
	json_object_object_add(o, "recovery", status_recovery(m));
	return o;
}

json_object *manager_status(struct manager *m)
{
	json_object *o = json_object_new_object();

	/* Cheap (one faccessat): status shows a root turned read-only before a Create trips on it. */
	manager_recheck_delegation(m);
	/* Controllers the parent changed a moment ago are in the inotify queue. */
	monitor_flush(m->mon);
	json_object_object_add(o, "version", json_object_new_string(CGCTL_VERSION));
	json_object_object_add(o, "delegated", json_object_new_boolean(m->delegated));
	json_object_object_add(o, "reason", m->reason ? json_object_new_string(m->reason) : NULL);
	json_object_object_add(o, "cgroup_mount", json_object_new_string(m->disc.mount));
	json_object_object_add(o, "managed_root", json_object_new_string(m->root_path));
	json_object_object_add(o, "leaf", m->have_leaf ? json_object_new_string(MANAGER_LEAF) : NULL);
	json_object_object_add(o, "controllers", status_strv(m->controllers));
	json_object_object_add(o, "pid", json_object_new_int((int)getpid()));
	json_object_object_add(o, "uid", json_object_new_int((int)geteuid()));
	json_object_object_add(o, "ledger", status_ledger(m));
	json_object_object_add(o, "unfollowed", json_object_new_int64((int64_t)m->unfollowed));
	return o;
}
