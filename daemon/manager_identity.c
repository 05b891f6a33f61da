/* SPDX-License-Identifier: MIT */
/* manager_identity.c: prove a ledger entry's directory is ours before every act; drop it as lost when not. */
#include "manager_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "events.h"
#include "identity.h"
#include "log.h"

/* Drop one entry as lost: it stays on disk, untouched, and the ledger forgets it. */
static void manager_lose_one(struct manager *m, const char *name, const char *reason)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	uid_t owner = le ? le->owner : 0; /* le goes with the record; its owner hears of it */
	json_object *d;
	int r = manager_forget(m, name);

	if (r < 0)
		log_error_errno(r, "%s: could not drop it from the ledger", name);
	log_warnx("%s: %s; dropped from the ledger as lost, its directory left alone", name, reason);
	d = json_object_new_object();
	json_object_object_add(d, "reason", json_object_new_string(reason));
	events_emit_owned(m, "lost", name, owner, d);
}

void manager_lose(struct manager *m, const char *name, const char *reason)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	_cleanup_free_ char *copy = strdup(name);
	struct ledger_entry *le = copy ? ledger_get(m->ledger, copy) : NULL;
	size_t n = 0;

	if (!le)
		return;
	if (le->children > 0 && ledger_list(m->ledger, &all, &n) < 0)
		n = 0;
	/* Sorted by name, children follow their parent: walk backwards, deepest first. */
	for (size_t i = n; i-- > 0;) {
		_cleanup_free_ char *kid = NULL;

		if (strcmp(all[i]->name, copy) == 0 || !cgname_is_below(all[i]->name, copy))
			continue;
		kid = strdup(all[i]->name);
		if (kid)
			manager_lose_one(m, kid, "a directory above it was replaced");
	}
	manager_lose_one(m, copy, reason);
}

int manager_replaced(struct manager *m, const char *name, int why, struct op_error *e)
{
	_cleanup_free_ char *copy = strdup(name);

	op_error_set(e, -ESTALE, CGERR_REPLACED, "name", name,
		     "\"%s\" %s; nothing was done to it, and cgctld no longer manages it", name,
		     why == -ENODATA ? "has no recorded identity, so cgctld cannot prove it made this directory"
				     : "was replaced by a directory cgctld did not create");
	if (copy)
		manager_lose(m, copy, why == -ENODATA ? "its identity was never recorded" :
				      "its directory was replaced by one cgctld did not create");
	return -ESTALE;
}

/* Is r identity_check()'s verdict that the directory is not provably ours? */
static bool manager_not_ours(int r)
{
	return r == -ESTALE || r == -ENODATA || r == -ENOTDIR;
}

int manager_open_verified(struct manager *m, const char *name, int *ret_fd, struct op_error *e)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	_cleanup_free_ char *rel = NULL;
	int fd;

	if (!le)
		return op_error_set(e, -ENOENT, CGERR_NOT_FOUND, "name", name, "no cgroup \"%s\" managed by cgctld", name);
	if (cgname_to_path(name, &rel) < 0)
		return op_error_oom(e);
	fd = identity_open(m->rootfd, rel, le->cgroup_id, le->nonce);
	if (manager_not_ours(fd))
		return manager_replaced(m, name, fd, e);
	if (fd == -ENOENT)
		return op_error_set(e, fd, CGERR_NOT_FOUND, "name", name,
				    "the directory of \"%s\" is gone (removed by another program)", name);
	if (fd < 0)
		return op_error_set(e, fd, CGERR_SYSTEM_ERROR, NULL, NULL, "open \"%s\": %s", name, strerror(-fd));
	*ret_fd = fd;
	return 0;
}

int manager_rmdir_verified(struct manager *m, const char *name, bool *ret_existed, struct op_error *e)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	_cleanup_free_ char *rel = NULL;
	int r;

	if (!le)
		return op_error_set(e, -ENOENT, CGERR_NOT_FOUND, "name", name, "no cgroup \"%s\" managed by cgctld",
				    name);
	if (cgname_to_path(name, &rel) < 0)
		return op_error_oom(e);
	r = identity_rmdir(m->rootfd, rel, le->cgroup_id, le->nonce, ret_existed);
	if (manager_not_ours(r))
		return manager_replaced(m, name, r, e);
	if (r == -EBUSY || r == -ENOTEMPTY)
		return op_error_set(e, r, CGERR_BUSY, "name", name, "\"%s\" has processes or child cgroups", name);
	if (r < 0)
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "rmdir \"%s\": %s", name, strerror(-r));
	return r;
}
