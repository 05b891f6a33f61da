/* SPDX-License-Identifier: MIT */
/* lease.c: Create's lease (glue): an entry lives as long as the connection that created it. */
#include "lease.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/json.h>

#include "app.h"
#include "cleanup.h"
#include "conn.h"
#include "events.h"
#include "log.h"
#include "manager.h"

/* Tie le to c: its name, cgroup id and creation time go on c's list (the connection's data). */
int lease_take(struct app *a, struct ledger_entry *le, struct conn *c)
{
	json_object *list = conn_get_data(c), *o;

	if (!list) {
		list = json_object_new_array();
		if (!list)
			return -ENOMEM;
		conn_set_data(c, list);
	}
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(le->name));
	json_object_object_add(o, "id", json_object_new_uint64(le->cgroup_id));
	json_object_object_add(o, "created", json_object_new_uint64(le->created_usec));
	if (json_object_array_add(list, o) < 0) {
		json_object_put(o);
		return -ENOMEM;
	}
	return 0;
}

/* The entry lease o (see lease_take()) was taken on, if the ledger still holds that very one. */
static struct ledger_entry *lease_entry(struct manager *m, json_object *o)
{
	json_object *name, *id, *created;
	struct ledger_entry *le;

	if (!json_object_object_get_ex(o, "name", &name) || !json_object_object_get_ex(o, "id", &id) ||
	    !json_object_object_get_ex(o, "created", &created))
		return NULL;
	le = ledger_get(manager_ledger(m), json_object_get_string(name));
	if (!le || !le->lease || le->cgroup_id != json_object_get_uint64(id) ||
	    le->created_usec != json_object_get_uint64(created))
		return NULL;
	return le;
}

/* Connection c is gone: release its leases. */
void lease_conn_closed(struct app *a, struct conn *c)
{
	struct manager *m = a->mgr;
	json_object *list = conn_get_data(c);

	/* Closed because we are stopping: the next start releases these leases. */
	for (size_t i = 0; list && !manager_stopping(m) && i < json_object_array_length(list); i++) {
		struct ledger_entry *le = lease_entry(m, json_object_array_get_idx(list, i));

		if (le) {
			_cleanup_free_ char *name = strdup(le->name);

			if (!name)
				continue;
			log_info("%s: its lease holder went away; killing and removing it", name);
			events_collect(m, name, true);
		}
	}
	json_object_put(list);
	conn_set_data(c, NULL);
}
