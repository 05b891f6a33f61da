/* SPDX-License-Identifier: MIT */
/* oci_parents.c: the parents a cgroupfs-style cgroupsPath needs: made labelled, removed with their last container. */

/*
 * linux.cgroupsPath "/machine/ctr1" names ctr1 below machine, which may not
 * exist: the hook creates it, labelled OCI_PARENT_LABEL, and shares it with
 * every container below it. When a container goes, its labelled parents go
 * too, deepest first, without kill and without recursion: the daemon refuses
 * (Busy) one that still holds a cgroup or a process, which is how a parent
 * another container uses stays. A parent the user made carries no label and
 * is never removed. Like oci_where.c, this module talks to the daemon.
 *
 * Labels are the caller's to choose: a tenant may label an entry of its own
 * as a container's or as a parent. So an administrator's hook takes, keeps
 * below, and removes only administrators' entries (struct oci_owner).
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "oci.h"

/* Whether e carries label "key=value". */
static bool parents_has_label(const struct cgctl_entry *e, const char *kv)
{
	for (char **l = e->labels; l && *l; l++)
		if (strcmp(*l, kv) == 0)
			return true;
	return false;
}

int oci_parents_owner(cgctl *c, struct oci_owner *ret)
{
	struct cgctl_status *st = NULL;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = cgctl_watch_fd(c), r;

	if (fd < 0)
		return fd;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	*ret = (struct oci_owner){ .admin = cred.uid == getuid() || cred.uid == geteuid(), .daemon_uid = -1 };
	if (!ret->admin)
		return 0;
	r = cgctl_get_status(c, &st);
	if (r < 0)
		return r;
	ret->daemon_uid = st->uid;
	cgctl_status_free(st);
	return 0;
}

bool oci_parents_is_parent(const struct cgctl_entry *e)
{
	return parents_has_label(e, OCI_PARENT_LABEL);
}

int oci_parents_make(cgctl *c, const char *name)
{
	static const char *const labels[] = { OCI_PARENT_LABEL, NULL };
	struct cgctl_create_opts o = { .size = sizeof(o), .labels = labels };
	_cleanup_free_ char *parent = strdup(name);

	if (!parent)
		return -ENOMEM;
	for (char *s = strchr(parent, '/'); s; s = strchr(s + 1, '/')) {
		int r;

		*s = '\0';
		r = cgctl_create(c, parent, &o, NULL);
		*s = '/';
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/* The entry called name (the first len bytes of it) among e[0..n), or NULL. */
static const struct cgctl_entry *parents_find(struct cgctl_entry **e, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(e[i]->name) == len && strncmp(e[i]->name, name, len) == 0)
			return e[i];
	return NULL;
}

int oci_parents_check(cgctl *c, const struct oci_owner *o, const char *name, char **ret_taken)
{
	_cleanup_free_ char *top = strndup(name, strcspn(name, "/"));
	struct cgctl_entry **e = NULL;
	size_t n = 0;
	int r;

	if (!top)
		return -ENOMEM;
	if (!strchr(name, '/'))
		return 0;
	r = cgctl_list(c, top, &e, &n);
	if (r < 0)
		return r;
	/* Every proper prefix of name that ends before a '/'. */
	for (const char *s = strchr(name, '/'); s && r >= 0; s = strchr(s + 1, '/')) {
		const struct cgctl_entry *p = parents_find(e, n, name, (size_t)(s - name));

		if (p && oci_identity_owner_ok(o, p))
			continue;
		/* Gone already: name's Create would have failed; say so as somebody else's. */
		*ret_taken = strndup(name, (size_t)(s - name));
		r = *ret_taken ? -EEXIST : -ENOMEM;
	}
	cgctl_entries_free(e, n);
	return r;
}

void oci_parents_drop(cgctl *c, const struct oci_owner *o, const char *name, struct cgctl_entry **e, size_t n)
{
	_cleanup_free_ char *parent = strdup(name);
	char *s;

	while (parent && (s = strrchr(parent, '/'))) {
		const struct cgctl_entry *p;

		*s = '\0';
		p = parents_find(e, n, parent, strlen(parent));
		if (!p || !oci_parents_is_parent(p) || !oci_identity_owner_ok(o, p) || cgctl_destroy(c, parent, 0, NULL) < 0)
			return;
	}
}
