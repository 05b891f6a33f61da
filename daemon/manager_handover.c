/* SPDX-License-Identifier: MIT */
/* manager_handover.c: a tenant's delegated entry: its bounds, and putting them and its owner right at start-up. */
#include "manager_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "identity.h"
#include "kill.h"
#include "log.h"
#include "tenant.h"

bool manager_handed_over(const struct ledger_entry *le)
{
	return le->delegate && !tenant_is_admin(le->owner);
}

void manager_delegate_bound(const struct manager *m, const struct ledger_entry *le, char *buf, size_t size)
{
	if (manager_handed_over(le))
		snprintf(buf, size, "%u", m->quota.entries);
	else
		snprintf(buf, size, "max");
}

int manager_bound_inside(struct manager *m, int fd)
{
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%u", m->quota.entries);
	r = cgfs_write_attr(fd, "", "cgroup.max.descendants", buf);
	if (r < 0)
		return r;
	snprintf(buf, sizeof(buf), "%d", CGKILL_MAX_DEPTH);
	return cgfs_write_attr(fd, "", "cgroup.max.depth", buf);
}

void manager_bound_again(struct manager *m, const struct ledger_entry *le, const char *rel)
{
	_cleanup_close_ int fd = identity_open(m->rootfd, rel, le->cgroup_id, le->nonce);
	_cleanup_free_ char *now = NULL;
	char bound[32];
	int r = fd;

	manager_delegate_bound(m, le, bound, sizeof(bound));
	if (r >= 0)
		r = cgfs_read_attr(fd, "", "cgroup.max.descendants", 64, &now);
	/* Anything but Destroy's 0 was not left by an interrupted removal. */
	if (r >= 0 && strcmp(now, "0\n") != 0)
		return;
	if (r >= 0)
		r = cgfs_write_attr(fd, "", "cgroup.max.descendants", bound);
	if (r < 0)
		log_warn_errno(r, "%s: cannot put its cgroup.max.descendants back to %s", le->name, bound);
	else
		log_notice("%s: its removal was interrupted; cgroup.max.descendants is %s again", le->name, bound);
}

/* Why the entry open at fd cannot be handed over now, or NULL. */
static const char *manager_hand_over_refused(int fd, const struct ledger_entry *le)
{
	if (geteuid() != 0)
		return "a delegated cgroup for another uid needs a cgctld running as root";
	if (le->nonce[0] && !identity_mark_trusted(fd))
		return "its identity mark is a user.* attribute, which the new owner could rewrite";
	return NULL;
}

void manager_hand_over_again(struct manager *m, const struct ledger_entry *le, const char *rel)
{
	_cleanup_close_ int fd = -1;
	const char *why;
	struct stat st;
	int r;

	if (!manager_handed_over(le))
		return;
	fd = identity_open(m->rootfd, rel, le->cgroup_id, le->nonce);
	/* The directory's owner changes last: owned by the tenant, it was handed over whole. */
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_uid == le->owner)
		return;
	why = manager_hand_over_refused(fd, le);
	if (why) {
		log_warnx("%s: delegated to uid %u, which does not own it (made before cgctld handed such entries "
			  "over, or taken back since), and not handed over now: %s", le->name, (unsigned)le->owner, why);
		return;
	}
	r = manager_bound_inside(m, fd);
	if (r >= 0)
		r = cgfs_hand_over(fd, le->owner);
	if (r < 0)
		log_warn_errno(r, "%s: cannot hand it over to uid %u", le->name, (unsigned)le->owner);
	else
		log_notice("%s: delegated to uid %u, which did not own it (made before cgctld handed such entries "
			   "over, or taken back since): handed over now", le->name, (unsigned)le->owner);
}
