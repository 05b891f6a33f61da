/* SPDX-License-Identifier: MIT */
/* controllers.h: the controllers the managed root gives its children, kept current. */
#pragma once

struct manager;

/*
 * Enable for the managed root's children every controller that became
 * available since the last call (all of them the first time), then record
 * what its cgroup.subtree_control says in m->controllers. A controller
 * somebody withdrew from it while still available is left withdrawn (its
 * parent may be on its way to withdrawing it too). 0 or -errno.
 */
int controllers_sync(struct manager *m);
/*
 * Follow, by inotify, the cgroup.subtree_control of the managed root and of
 * its parent: a controller the parent enables or withdraws after start-up,
 * or one withdrawn from the root, is noticed without a restart. Nothing is
 * watched in degraded mode or at the top of the hierarchy. 0 or -errno.
 */
int controllers_watch(struct manager *m);
/*
 * Log why enabling controller in the cgroup.subtree_control of dirfd (what:
 * its path or name) failed with r: for EEXIST, the cgroup below it that
 * takes the name of one of the controller's files (cgfs_find_shadow()).
 */
void controllers_enable_failed(int dirfd, const char *what, const char *controller, int r);
/* Stop following (before the monitor goes). */
void controllers_unwatch(struct manager *m);
