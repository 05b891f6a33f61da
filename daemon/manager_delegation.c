/* SPDX-License-Identifier: MIT */
/* manager_delegation.c: the managed root turning unwritable, or writable again, while the daemon runs. */
#include "manager_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "events.h"
#include "log.h"
#include "now.h"

/* Tell watchers (name "": the daemon itself) that delegation changed. */
static void delegation_emit(struct manager *m, const char *type)
{
	json_object *d = json_object_new_object();

	json_object_object_add(d, "reason", m->reason ? json_object_new_string(m->reason) : NULL);
	events_emit(m, type, "", d);
}

/* The root stopped being writable: degraded mode until it is again (logged once). */
static void delegation_lost(struct manager *m, int r)
{
	char since[64] = "";
	struct tm tm;
	time_t t;

	m->degraded_usec = now_usec();
	t = (time_t)(m->degraded_usec / 1000000u);
	if (gmtime_r(&t, &tm))
		strftime(since, sizeof(since), "%Y-%m-%dT%H:%M:%SZ", &tm);
	free(m->reason);
	if (asprintf(&m->reason, "%s stopped being writable by uid %u at %s (%s); Create answers "
		     "NoDelegation until it is writable again", m->root_path, (unsigned)geteuid(), since,
		     strerror(-r)) < 0)
		m->reason = NULL;
	m->delegated = false;
	log_warnx("degraded mode: %s", m->reason ? m->reason : "the managed root is not writable");
	sd_notifyf(0, "STATUS=Degraded: %s", m->reason ? m->reason : "the managed root is not writable");
	delegation_emit(m, "degraded");
}

/* Writable again: back to normal (logged once). */
static void delegation_regained(struct manager *m)
{
	m->delegated = true;
	m->degraded_usec = 0;
	free(m->reason);
	m->reason = NULL;
	log_info("%s is writable again: delegated, Create works again", m->root_path);
	sd_notifyf(0, "STATUS=Managing %s, %zu cgroups", m->root_path, ledger_count(m->ledger));
	delegation_emit(m, "delegated");
}

/* Can we still make cgroups in the managed root? 0, or the -errno that says why not. */
static int delegation_probe(const struct manager *m)
{
	/* A read-only mount says EROFS here, lost permission EACCES or EPERM. */
	if (faccessat(m->rootfd, ".", W_OK, AT_EACCESS) < 0)
		return -errno;
	return 0;
}

bool manager_recheck_delegation(struct manager *m)
{
	int r;

	/* Never delegated since start: no leaf, no controllers; a restart is what fixes that. */
	if (!m->delegated && m->degraded_usec == 0)
		return false;
	r = delegation_probe(m);
	if (r < 0 && m->delegated)
		delegation_lost(m, r);
	else if (r == 0 && !m->delegated)
		delegation_regained(m);
	return m->delegated;
}

bool manager_errno_may_be_root(int r)
{
	return r == -EROFS || r == -EACCES || r == -EPERM;
}
