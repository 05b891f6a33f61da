/* SPDX-License-Identifier: MIT */
/* controllers.c: the controllers the managed root gives its children, kept current. */
#include "controllers.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"
#include "manager_internal.h"
#include "monitor.h"

/* Is c in the NULL-terminated v? */
static bool controllers_has(char **v, const char *c)
{
	for (; v && *v; v++)
		if (strcmp(*v, c) == 0)
			return true;
	return false;
}

/* The managed root's file as a controller list. */
static int controllers_read(struct manager *m, const char *file, char ***ret)
{
	_cleanup_free_ char *text = NULL;
	int r = cgfs_read(m->rootfd, file, 4096, &text);

	if (r < 0)
		return log_warn_errno(r, "%s/%s: cannot read", m->root_path, file);
	return cgfs_parse_controllers(text, ret);
}

void controllers_enable_failed(int dirfd, const char *what, const char *controller, int r)
{
	_cleanup_free_ char *shadow = NULL;

	if (r == -EEXIST && cgfs_find_shadow(dirfd, controller, &shadow) > 0)
		log_warnx("%s: cannot enable controller %s for children: %s/%s is a cgroup named like one of its "
			  "files (a delegatee made it while %s was off); %s stays off for every child until it is removed",
			  what, controller, what, shadow, controller, controller);
	else
		log_warn_errno(r, "%s: cannot enable controller %s for children", what, controller);
}

/* Enable for children each controller of avail that m->available did not have. */
static void controllers_enable_new(struct manager *m, char **avail)
{
	for (char **c = avail; *c; c++) {
		char buf[64];
		int r;

		if (controllers_has(m->available, *c))
			continue;
		snprintf(buf, sizeof(buf), "+%s", *c);
		r = cgfs_write(m->rootfd, "cgroup.subtree_control", buf);
		if (r < 0)
			controllers_enable_failed(m->rootfd, m->root_path, *c, r);
	}
}

/* Log what changed between the old and the new list of enabled controllers. */
static void controllers_log_change(struct manager *m, char **old, char **now)
{
	for (char **c = now; *c; c++)
		if (!controllers_has(old, *c))
			log_info("%s: controller %s enabled for children", m->root_path, *c);
	for (char **c = old; c && *c; c++)
		if (!controllers_has(now, *c))
			log_notice("%s: controller %s no longer enabled for children", m->root_path, *c);
}

int controllers_sync(struct manager *m)
{
	char **avail = NULL, **enabled = NULL;
	int r;

	r = controllers_read(m, "cgroup.controllers", &avail);
	if (r < 0)
		return r;
	controllers_enable_new(m, avail);
	r = controllers_read(m, "cgroup.subtree_control", &enabled);
	if (r < 0) {
		cgfs_strv_free(avail);
		return r;
	}
	/* The first sync (start-up) enabled everything: nothing to report as a change. */
	if (m->available)
		controllers_log_change(m, m->controllers, enabled);
	cgfs_strv_free(m->available);
	m->available = avail;
	cgfs_strv_free(m->controllers);
	m->controllers = enabled;
	m->have_memory = controllers_has(enabled, "memory");
	return 0;
}

/* A cgroup.subtree_control we follow changed. */
static void controllers_changed_cb(void *arg, int gone)
{
	struct manager *m = arg;

	if (!gone)
		controllers_sync(m);
}

/* The directory above the managed root, or -errno (-ENOENT at the top of the mount). */
static int controllers_open_parent(struct manager *m)
{
	_cleanup_free_ char *parent = strdup(m->root_path);
	char *slash;
	int fd;

	if (!parent)
		return -ENOMEM;
	slash = strrchr(parent, '/');
	if (strcmp(m->root_path, m->disc.mount) == 0 || !slash || slash == parent)
		return -ENOENT;
	*slash = '\0';
	fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int controllers_watch(struct manager *m)
{
	_cleanup_close_ int parentfd = -1;
	int r;

	if (!m->delegated || !m->mon)
		return 0;
	r = monitor_add(m->mon, m->rootfd, "", "cgroup.subtree_control", controllers_changed_cb, m,
			&m->controllers_w[0]);
	if (r < 0)
		return log_warn_errno(r, "%s/cgroup.subtree_control: cannot watch; controllers withdrawn "
				      "there are noticed at the next restart", m->root_path);
	parentfd = controllers_open_parent(m);
	if (parentfd == -ENOENT)
		return 0;
	r = parentfd < 0 ? parentfd
			 : monitor_add(m->mon, parentfd, "", "cgroup.subtree_control", controllers_changed_cb,
				       m, &m->controllers_w[1]);
	if (r < 0)
		return log_warn_errno(r, "cannot watch the cgroup.subtree_control above %s; controllers "
				      "enabled there are noticed at the next restart", m->root_path);
	return 0;
}

void controllers_unwatch(struct manager *m)
{
	for (size_t i = 0; i < ELEMENTSOF(m->controllers_w); i++) {
		monitor_remove(m->mon, m->controllers_w[i]);
		m->controllers_w[i] = NULL;
	}
}
