/* SPDX-License-Identifier: MIT */
/* manager_setup.c: find the managed root, take the reserved leaf, enable controllers, open the ledger. */
#include "manager_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include <systemd/sd-daemon.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "controllers.h"
#include "events.h"
#include "log.h"
#include "trust.h"

/* Record why the subtree is not ours to write, and go on in degraded mode. */
static void setup_degraded(struct manager *m, const char *what, int r)
{
	free(m->reason);
	m->reason = NULL;
	m->delegated = false;
	if (asprintf(&m->reason, "%s is not writable by uid %u (%s); run cgctld with a delegated "
		     "subtree (systemd Delegate=yes) or pass --cgroup-root",
		     what, (unsigned)geteuid(), strerror(r < 0 ? -r : r)) < 0)
		m->reason = NULL;
	log_warnx("degraded mode: %s", m->reason ? m->reason : "no delegation");
}

/* Can we create cgroups in the managed root and move processes there? */
static int setup_check_writable(struct manager *m)
{
	static const char *const files[] = { "cgroup.procs", "cgroup.subtree_control" };

	if (faccessat(m->rootfd, ".", W_OK, AT_EACCESS) < 0) {
		setup_degraded(m, m->root_path, -errno);
		return 0;
	}
	for (size_t i = 0; i < ELEMENTSOF(files); i++) {
		if (faccessat(m->rootfd, files[i], W_OK, AT_EACCESS) < 0) {
			int r = -errno;
			char what[PATH_MAX];
			snprintf(what, sizeof(what), "%s/%s", m->root_path, files[i]);
			setup_degraded(m, what, r);
			return 0;
		}
	}
	m->delegated = true;
	return 1;
}

/* Is own exactly root + "/" MANAGER_LEAF? */
static bool setup_in_leaf_of(const char *own, const char *root)
{
	size_t n = strlen(root);

	return strncmp(own, root, n) == 0 && own[n] == '/' && strcmp(own + n + 1, MANAGER_LEAF) == 0;
}

/* Move ourselves into the reserved leaf when we sit in the managed root itself. */
static int setup_leaf(struct manager *m)
{
	int r;

	/* Restarted inside the leaf already (or systemd's DelegateSubgroup= put us there). */
	if (setup_in_leaf_of(m->disc.own_path, m->root_path)) {
		m->have_leaf = true;
		return 0;
	}
	if (strcmp(m->disc.own_path, m->root_path) != 0)
		return 0;
	/* systemd may still be placing us into the unit's cgroup after the fork:
	 * wait until it has processed everything we sent, or our move is undone. */
	if (getenv("NOTIFY_SOCKET"))
		(void)sd_notify_barrier(0, 5 * 1000000ULL);
	r = cgfs_mkdir(m->rootfd, MANAGER_LEAF, 0755);
	if (r < 0 && r != -EEXIST)
		return log_warn_errno(r, "%s/%s: cannot create the daemon's leaf", m->root_path, MANAGER_LEAF);
	r = cgfs_write(m->rootfd, MANAGER_LEAF "/cgroup.procs", "0");
	if (r < 0)
		return log_warn_errno(r, "%s/%s: cannot move the daemon into its leaf", m->root_path,
				      MANAGER_LEAF);
	m->have_leaf = true;
	log_info("moved into %s/%s", m->root_path, MANAGER_LEAF);
	return 0;
}

/*
 * One daemon a subtree, whatever its state directory: else each would take
 * the other's cgroups for strangers. The managed root is flock'ed; anybody who
 * may read it may flock it too, so a lock held by another uid is ignored.
 */
static int setup_root_lock(struct manager *m)
{
	if (flock(m->rootfd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	if (errno != EWOULDBLOCK) {
		log_warn_errno(-errno, "%s: cannot lock the managed root (a second daemon would not be refused)",
			       m->root_path);
		return 0;
	}
	if (!trust_lock_ours(m->rootfd)) {
		log_warnx("%s: locked by a process of another user, not a daemon of ours; going on (a second "
			  "daemon will not be refused)", m->root_path);
		return 0;
	}
	log_msg(LOG_ERR, "%s: another cgctld manages this cgroup subtree; refusing to start a second instance",
		m->root_path);
	return -EBUSY;
}

/* Open the managed root; --cgroup-root or our own cgroup. */
static int setup_root(struct manager *m, const char *cgroup_root)
{
	struct statfs sfs;
	int r;

	m->root_path = strdup(cgroup_root ? cgroup_root : m->disc.own_path);
	if (!m->root_path)
		return -ENOMEM;
	/* Sitting in our leaf already (a restart): the managed root is its parent. */
	if (!cgroup_root) {
		char *slash = strrchr(m->root_path, '/');
		if (slash && slash != m->root_path && strcmp(slash + 1, MANAGER_LEAF) == 0)
			*slash = '\0';
	}
	/* Strip a trailing "/" so path comparisons stay exact. */
	for (size_t n = strlen(m->root_path); n > 1 && m->root_path[n - 1] == '/'; n--)
		m->root_path[n - 1] = '\0';
	m->rootfd = open(m->root_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (m->rootfd < 0)
		return log_error_errno(-errno, "%s: cannot open managed root", m->root_path);
	r = setup_root_lock(m);
	if (r < 0)
		return r;
	if (fstatfs(m->rootfd, &sfs) == 0 && sfs.f_type != CGROUP2_SUPER_MAGIC)
		log_warnx("%s is not on a cgroup2 file system", m->root_path);
	return 0;
}

/* Say what damage the ledger found, where, and what it cost. */
static void setup_report_damage(struct manager *m)
{
	const struct ledger_recovery *rec = ledger_get_recovery(m->ledger);

	for (unsigned i = 0; i < rec->n; i++) {
		const struct ledger_damage *d = &rec->damage[i];

		log_msg(rec->mode == LEDGER_RECOVERY ? LOG_ERR : LOG_WARNING,
			"%s/%s: damaged at byte %llu%s%s; lost: %s", ledger_dir(m->ledger), d->file,
			(unsigned long long)d->offset, d->kept[0] ? "; the damaged file is kept as " : "", d->kept,
			d->lost);
	}
	if (rec->mode == LEDGER_FALLBACK)
		log_warnx("%s: came up from the previous generation (ledger.prev.json + journals), which "
			  "proves the state", ledger_dir(m->ledger));
	else if (rec->mode == LEDGER_RECOVERY)
		log_msg(LOG_ERR, "%s: RECOVERY: ledger records were lost; this start removes, kills and releases "
			"nothing, and reports what it does not know as unknown (see cgctld(8))", ledger_dir(m->ledger));
}

/* Say so when the journal had a torn or corrupt tail that was dropped. */
static void setup_report_dropped(struct manager *m)
{
	struct ledger_stats st;

	setup_report_damage(m);
	ledger_get_stats(m->ledger, &st);
	if (st.dropped_records > 0)
		log_warnx("%s: dropped %llu torn or corrupt journal record(s) at its end (a crash mid-write); "
			  "every intact record before them was kept", ledger_dir(m->ledger),
			  (unsigned long long)st.dropped_records);
}

int manager_init(struct manager *m, const struct manager_options *o)
{
	char why[512] = "";
	int r;

	memset(m, 0, sizeof(*m));
	m->rootfd = -1;
	m->entries_max = o->entries_max;
	m->watchers_max = o->watchers_max ? o->watchers_max : EVENTS_WATCHERS_MAX;
	m->quota = o->quota;
	r = discover_self(&m->disc);
	if (r < 0)
		return log_error_errno(r, "cannot find the cgroup2 hierarchy or our cgroup in it");
	r = ledger_open_why(o->state_dir, &m->ledger, why, sizeof(why));
	if (r == -EBUSY) {
		log_msg(LOG_ERR, "%s: locked by another running cgctld; refusing to start a second instance",
			o->state_dir);
		return r;
	}
	if (r < 0 && why[0]) {
		log_msg(LOG_ERR, "cannot open the ledger: %s", why);
		return r;
	}
	if (r < 0)
		return log_error_errno(r, "%s: cannot open the ledger", o->state_dir);
	ledger_set_budget(m->ledger, o->ledger_max);
	setup_report_dropped(m);
	r = setup_root(m, o->cgroup_root);
	if (r < 0)
		return r;
	if (setup_check_writable(m) > 0) {
		setup_leaf(m);
		controllers_sync(m);
	}
	if (!m->controllers)
		m->controllers = calloc(1, sizeof(char *));
	return m->controllers ? 0 : -ENOMEM;
}

void manager_done(struct manager *m)
{
	if (m->ledger)
		ledger_sync(m->ledger);
	m->ledger = ledger_close(m->ledger);
	if (m->rootfd >= 0)
		close(m->rootfd);
	m->rootfd = -1;
	free(m->root_path);
	free(m->reason);
	cgfs_strv_free(m->controllers);
	cgfs_strv_free(m->available);
	json_object_put(m->report.dropped);
	json_object_put(m->report.rolled_back);
	json_object_put(m->report.resumed);
	json_object_put(m->report.unknown);
	discovery_done(&m->disc);
	memset(m, 0, sizeof(*m));
	m->rootfd = -1;
}

struct manager *manager_new(void)
{
	struct manager *m = calloc(1, sizeof(*m));

	if (m)
		m->rootfd = -1;
	return m;
}

struct manager *manager_free(struct manager *m)
{
	if (m) {
		manager_done(m);
		free(m);
	}
	return NULL;
}
