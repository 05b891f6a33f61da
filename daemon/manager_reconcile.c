/* SPDX-License-Identifier: MIT */
/* manager_reconcile.c: bring ledger and filesystem into agreement after a start or a crash. */
#include "manager_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "identity.h"
#include "kill.h"
#include "log.h"

/* Add name to one of the report's lists. */
static void report_add(json_object *list, const char *name)
{
	json_object_array_add(list, json_object_new_string(name));
}

/* Is name among the first n names of list? */
static bool report_has(json_object *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n && i < json_object_array_length(list); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(list, i)), name) == 0)
			return true;
	return false;
}

/*
 * Is rel still the directory we made (daemon/identity.h)? 1 proven ours, 0
 * gone, 2 not provably ours (replaced, no identity recorded, or, for an
 * unacknowledged create, a mark that cannot be read), -errno.
 */
static int reconcile_probe(struct manager *m, const struct ledger_entry *le, const char *rel)
{
	_cleanup_close_ int fd = cgfs_open_dir(m->rootfd, rel);
	int r;

	if (fd == -ENOENT)
		return 0;
	if (fd == -ENOTDIR)
		return 2;
	if (fd < 0)
		return fd;
	r = identity_check(fd, le->cgroup_id, le->nonce);
	if (r == 0)
		return 1;
	if (r == -ESTALE || r == -ENODATA || r == -ENOTDIR || le->state == LEDGER_CREATING)
		return 2;
	return r;
}

/*
 * Remove a proven entry (a delegated one whole, its inside included, as
 * destroy does: its cgroup.max.descendants at 0 first, so that its delegatee
 * can make no cgroup there meanwhile; the caller puts the bound back when the
 * entry stays).
 */
static int reconcile_remove(struct manager *m, const struct ledger_entry *le, const char *rel, bool *ret_existed)
{
	if (le->delegate && le->state == LEDGER_DESTROYING) {
		_cleanup_close_ int fd = identity_open(m->rootfd, rel, le->cgroup_id, le->nonce);
		int r = fd;

		if (fd >= 0) {
			(void)cgfs_write_attr(fd, "", "cgroup.max.descendants", "0");
			r = cgkill_rmdir_inside(fd);
		}
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return identity_rmdir(m->rootfd, rel, le->cgroup_id, le->nonce, ret_existed);
}

/* The interrupted destroy of le (rel) stops short: a delegated entry gets its bound back. */
static void reconcile_kept(struct manager *m, const struct ledger_entry *le, const char *rel)
{
	if (le->delegate && le->state == LEDGER_DESTROYING)
		manager_bound_again(m, le, rel);
}

/*
 * Ledger records were lost (recovery mode): a later record may have settled
 * this entry, so nothing is removed. A create whose directory identity was
 * recorded is ours and kept; one without is not adopted, only reported.
 */
static int reconcile_unproven(struct manager *m, struct ledger_entry *le, const char *name, const char *rel)
{
	bool creating = le->state == LEDGER_CREATING;

	if (creating && !le->cgroup_id) {
		ledger_remove(m->ledger, name);
		report_add(m->report.unknown, name);
		log_warnx("reconcile (recovery): %s: its creation is not proven; forgotten and left alone", name);
		return 0;
	}
	reconcile_kept(m, le, rel);
	ledger_set_state(m->ledger, name, LEDGER_ACTIVE);
	report_add(m->report.resumed, name);
	log_warnx("reconcile (recovery): %s was being %s; kept as active, nothing removed", name,
		  creating ? "created" : "destroyed");
	return 0;
}

/* Finish or undo what a crash interrupted, for one entry. */
static int reconcile_entry(struct manager *m, struct ledger_entry *le)
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_free_ char *name = strdup(le->name);
	enum ledger_state st = le->state;
	bool existed;
	int r;

	if (!name || cgname_to_path(name, &rel) < 0)
		return -ENOMEM;
	r = reconcile_probe(m, le, rel);
	if (r < 0)
		return log_warn_errno(r, "reconcile: cannot look at %s", name);
	if (r == 0) {
		/* Gone while we were away, or never made: forget it. */
		ledger_remove(m->ledger, name);
		report_add(st == LEDGER_ACTIVE ? m->report.dropped :
			   st == LEDGER_CREATING ? m->report.rolled_back : m->report.resumed, name);
		return 0;
	}
	if (r == 2) {
		/* Replaced, or never proven ours (a create that crashed before its mark): not ours. */
		ledger_remove(m->ledger, name);
		report_add(m->report.unknown, name);
		log_warnx("reconcile: %s (%s) is not provably the directory cgctld made; left alone, dropped from "
			  "the ledger", name, ledger_state_to_string(st));
		return 0;
	}
	if (st == LEDGER_ACTIVE)
		return 0;
	if (ledger_get_recovery(m->ledger)->mode == LEDGER_RECOVERY)
		return reconcile_unproven(m, le, name, rel);
	/* An unacknowledged create is undone; an interrupted destroy is finished. */
	if (m->delegated) {
		/* A delegated entry is removed whole, its inside included, as destroy does. */
		r = reconcile_remove(m, le, rel, &existed);
		if (r == -ESTALE || r == -ENODATA || r == -ENOTDIR) {
			ledger_remove(m->ledger, name);
			report_add(m->report.unknown, name);
			log_warnx("reconcile: %s was replaced while being looked at; left alone", name);
			return 0;
		}
		if (r == 0) {
			ledger_remove(m->ledger, name);
			report_add(st == LEDGER_CREATING ? m->report.rolled_back : m->report.resumed, name);
			return 0;
		}
	}
	reconcile_kept(m, le, rel);
	ledger_set_state(m->ledger, name, LEDGER_ACTIVE);
	/* Kept: an unacknowledged create somebody already uses, or a destroy that cannot finish. */
	report_add(m->report.resumed, name);
	log_notice("reconcile: %s could not be removed (in use); kept as active", name);
	return 0;
}

/*
 * Report directories below rel that the ledger does not know; never touch
 * them. The first n_lost unknowns are records dropped as not ours: their
 * directories are already reported.
 */
static void reconcile_unknown_below(struct manager *m, size_t n_lost, const char *rel)
{
	char **kids = NULL;

	if (cgfs_list_children(m->rootfd, rel, &kids) < 0)
		return;
	for (char **k = kids; *k; k++) {
		_cleanup_free_ char *path = NULL, *name = NULL;

		if (!*rel && strcmp(*k, MANAGER_LEAF) == 0)
			continue;
		if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "", *k) < 0)
			break;
		if (cgname_from_path(path, &name) < 0 || !ledger_get(m->ledger, name)) {
			if (name && report_has(m->report.unknown, n_lost, name))
				continue;
			report_add(m->report.unknown, name ? name : path);
			log_notice("reconcile: %s/%s was not created by cgctld; left alone", m->root_path, path);
		}
	}
	cgfs_strv_free(kids);
}

int manager_reconcile(struct manager *m)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	size_t n, n_lost;
	int r;

	m->report.dropped = json_object_new_array();
	m->report.rolled_back = json_object_new_array();
	m->report.resumed = json_object_new_array();
	m->report.unknown = json_object_new_array();
	r = ledger_list(m->ledger, &all, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		reconcile_entry(m, all[i]);
	free(all);
	all = NULL;
	n_lost = json_object_array_length(m->report.unknown);
	reconcile_unknown_below(m, n_lost, "");
	r = ledger_list(m->ledger, &all, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *rel = NULL;

		if (cgname_to_path(all[i]->name, &rel) < 0)
			continue;
		/* A delegated entry's inside is the delegatee's business; the entry itself is its own. */
		if (all[i]->delegate && m->delegated)
			manager_hand_over_again(m, all[i], rel);
		if (!all[i]->delegate)
			reconcile_unknown_below(m, n_lost, rel);
	}
	log_info("reconcile: %zu entries; %zu dropped, %zu rolled back, %zu resumed, %zu unknown", n,
		 json_object_array_length(m->report.dropped), json_object_array_length(m->report.rolled_back),
		 json_object_array_length(m->report.resumed), json_object_array_length(m->report.unknown));
	return manager_sync(m);
}
