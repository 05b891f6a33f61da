/* SPDX-License-Identifier: MIT */
/* manager_list.c: List and Create's Entry objects, written as text with each cgroup's populated/frozen state. */
#include "manager_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "entry_json.h"
#include "events.h"
#include "jsonbuf.h"
#include "monitor.h"
#include "tenant.h"

/*
 * One Entry object: its state from the inotify cache when tracked, else read
 * (follow: and from now on tracked, so that the next List finds it warm; one
 * whose watch failed before is tried again).
 */
static void manager_entry_write(struct manager *m, struct ledger_entry *le, bool follow, struct jsonbuf *b)
{
	_cleanup_free_ char *rel = NULL;
	bool populated = false, frozen = false, known;

	/* Left NULL for a name the ledger should never hold: its path is then "". */
	(void)cgname_to_path(le->name, &rel);
	if (follow)
		events_follow(m, le);
	known = events_state(m, le, &populated, &frozen) >= 0 ||
		(rel && cgfs_read_events(m->rootfd, rel, &populated, &frozen) >= 0);
	entry_json_write(b, le, m->root_path, rel, known ? populated : -1, known ? frozen : -1);
}

int manager_list(struct manager *m, uid_t uid, const char *name, json_object **ret, struct op_error *e)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	struct jsonbuf b = { 0 };
	size_t n, found = 0;
	json_object *arr;
	int r;

	if (name && (r = manager_check_name(m, name, e)) < 0)
		return r;
	monitor_flush(m->mon);
	r = ledger_list(m->ledger, &all, &n);
	if (r < 0)
		return op_error_oom(e);
	/* An entry without labels takes about 250 bytes: a full list seldom grows the buffer. */
	if (!name)
		jsonbuf_reserve(&b, 256 * n + 2);
	jsonbuf_put_lit(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if ((name && !cgname_is_below(all[i]->name, name)) || !tenant_may_access(uid, all[i]))
			continue;
		if (found++ > 0)
			jsonbuf_put_lit(&b, ",");
		manager_entry_write(m, all[i], true, &b);
	}
	jsonbuf_put_lit(&b, "]");
	if (name && found == 0) {
		jsonbuf_free(&b);
		return op_error_set(e, -ENOENT, CGERR_NOT_FOUND, "name", name, "no cgroup \"%s\"", name);
	}
	arr = jsonbuf_to_json(&b);
	if (!arr)
		return op_error_oom(e);
	*ret = arr;
	return 0;
}

json_object *manager_entry_to_json(struct manager *m, struct ledger_entry *le)
{
	struct jsonbuf b = { 0 };

	/* Create's reply: read once, not followed (nothing may need it). */
	manager_entry_write(m, le, false, &b);
	return jsonbuf_to_json(&b);
}
