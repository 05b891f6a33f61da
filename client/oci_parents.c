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
 */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"

/* Whether e carries label "key=value". */
static bool parents_has_label(const struct cgctl_entry *e, const char *kv)
{
	for (char **l = e->labels; l && *l; l++)
		if (strcmp(*l, kv) == 0)
			return true;
	return false;
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

void oci_parents_drop(cgctl *c, const char *name, struct cgctl_entry **e, size_t n)
{
	_cleanup_free_ char *parent = strdup(name);
	char *s;

	while (parent && (s = strrchr(parent, '/'))) {
		const struct cgctl_entry *p;

		*s = '\0';
		p = parents_find(e, n, parent, strlen(parent));
		if (!p || !oci_parents_is_parent(p) || cgctl_destroy(c, parent, 0, NULL) < 0)
			return;
	}
}
