// SPDX-License-Identifier: MIT
/* resources_apply.c: a resource plan written to cgroupfs all or nothing, each file restored on failure. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cgroupfs.h"
#include "resources.h"
#include "resources_apply.h"

/* Interface files are small; io.max with many devices is the largest read back. */
#define RES_READ_MAX (256 * 1024)

/* How writes to a file are keyed: whole file, or one line per device/resource. */
enum key_kind { KEY_WHOLE, KEY_IO_MAX, KEY_IO_LATENCY, KEY_WEIGHT, KEY_RDMA, KEY_MISC };

/* The keying of writes to file (see enum key_kind). */
static enum key_kind file_key_kind(const char *file)
{
	if (strcmp(file, "io.max") == 0)
		return KEY_IO_MAX;
	if (strcmp(file, "io.latency") == 0)
		return KEY_IO_LATENCY;
	if (strcmp(file, "io.weight") == 0 || strcmp(file, "io.bfq.weight") == 0)
		return KEY_WEIGHT;
	if (strcmp(file, "rdma.max") == 0)
		return KEY_RDMA;
	if (strcmp(file, "misc.max") == 0)
		return KEY_MISC;
	return KEY_WHOLE;
}

/* The key a write of value addresses ("8:0", "default", ...); length 0 for whole files. */
static size_t value_key(enum key_kind kind, const char *value, const char **ret_key)
{
	size_t len = strcspn(value, " \t\n");

	*ret_key = value;
	if (kind == KEY_WHOLE)
		return 0;
	/* io.weight: "N" alone sets the default weight, like "default N". */
	if (kind == KEY_WEIGHT && len > 0 && strspn(value, "0123456789") == len) {
		*ret_key = "default";
		return strlen("default");
	}
	return len;
}

bool res_same_target(const struct res_write *a, const char *file, const char *value)
{
	enum key_kind kind;
	const char *ka, *kb;
	size_t la, lb;

	if (strcmp(a->file, file) != 0)
		return false;
	kind = file_key_kind(file);
	la = value_key(kind, a->value, &ka);
	lb = value_key(kind, value, &kb);
	return kind == KEY_WHOLE || (la == lb && memcmp(ka, kb, la) == 0);
}

/* The line of text whose first word is key (len bytes), malloc'd; NULL when none. */
static char *keyed_line(const char *text, const char *key, size_t len)
{
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
		size_t n = strcspn(l, "\n");

		if (n > len && strncmp(l, key, len) == 0 && l[len] == ' ')
			return strndup(l, n);
	}
	return NULL;
}

/* What follows the key in the line resetting it (io.max, rdma.max, io.latency), or NULL. */
static const char *reset_suffix(enum key_kind kind)
{
	switch (kind) {
	case KEY_IO_MAX:
		return " rbps=max wbps=max riops=max wiops=max";
	case KEY_RDMA:
		return " hca_handle=max hca_object=max";
	case KEY_IO_LATENCY:
		return " target=0";
	default:
		return NULL;
	}
}

int res_restore_values(const char *file, const char *value, const char *old, char ***ret_values)
{
	enum key_kind kind = file_key_kind(file);
	const char *key, *reset = reset_suffix(kind);
	size_t len = value_key(kind, value, &key);
	char **v = calloc(3, sizeof(char *)), *line;
	size_t n = 0;

	if (!v)
		return -ENOMEM;
	if (kind == KEY_WHOLE) {
		/* Writing "" may be a no-op; "\n" clears (cpuset.cpus reads back empty). */
		v[n] = strdup(old[0] ? old : "\n");
		if (!v[n++])
			goto fail;
	} else if (reset) {
		if (asprintf(&line, "%.*s%s", (int)len, key, reset) < 0)
			goto fail;
		v[n++] = line;
	}
	if (kind != KEY_WHOLE) {
		v[n] = keyed_line(old, key, len);
		/* A per-device weight that was not there before goes back to the default. */
		if (!v[n] && kind == KEY_WEIGHT && strcmp(key, "default") != 0) {
			if (asprintf(&line, "%.*s default", (int)len, key) < 0)
				goto fail;
			v[n] = line;
		}
	}
	*ret_values = v;
	return 0;
fail:
	cgfs_strv_free(v);
	return -ENOMEM;
}

/* Whether a read error only means the file is write-only (nothing to restore). */
static bool read_refused(int r)
{
	return r == -EACCES || r == -EPERM || r == -EINVAL || r == -EOPNOTSUPP;
}

/* Read the old value of w's file into *ret_old (NULL when write-only), then write w. */
static int apply_one(int rootfd, const char *relpath, const struct res_write *w, char **ret_old)
{
	_cleanup_free_ char *old = NULL;
	int r;

	r = cgfs_read_attr(rootfd, relpath ? relpath : "", w->file, RES_READ_MAX, &old);
	if (r < 0 && !read_refused(r))
		return r;
	/* A write(2) of no bytes never reaches the kernel's handler: an empty value is
	 * the empty line, which clears (cpuset.cpus) or is refused (cgroup.max.depth). */
	r = cgfs_write_attr(rootfd, relpath ? relpath : "", w->file, w->value[0] ? w->value : "\n");
	if (r < 0)
		return r;
	*ret_old = TAKE_PTR(old);
	return 0;
}

/* Put w's file back the way old says it was; 0 or the first -errno. */
static int restore_one(int rootfd, const char *relpath, const struct res_write *w,
		       const char *old)
{
	char **values = NULL;
	int r, ret = 0;

	if (!old)
		return 0;
	r = res_restore_values(w->file, w->value, old, &values);
	if (r < 0)
		return r;
	for (size_t i = 0; values[i]; i++) {
		r = cgfs_write_attr(rootfd, relpath ? relpath : "", w->file, values[i]);
		if (r < 0 && ret == 0)
			ret = r;
	}
	cgfs_strv_free(values);
	return ret;
}

/* Free the first n entries of an array of old values, and the array. */
static void olds_free(char **olds, size_t n)
{
	for (size_t i = 0; olds && i < n; i++)
		free(olds[i]);
	free(olds);
}

int res_plan_apply(int rootfd, const char *relpath, const struct res_plan *p, char **ret_field,
		   int *ret_errno)
{
	char **olds = calloc(p->n ? p->n : 1, sizeof(char *));
	int r = 0, rollback = 0;
	size_t i;

	if (!olds)
		return -ENOMEM;
	for (i = 0; i < p->n; i++) {
		r = apply_one(rootfd, relpath, &p->w[i], &olds[i]);
		if (r < 0)
			break;
	}
	if (r < 0) {
		for (size_t j = i; j-- > 0;) {
			int q = restore_one(rootfd, relpath, &p->w[j], olds[j]);

			if (q < 0 && rollback == 0)
				rollback = q;
		}
		if (ret_field)
			*ret_field = strdup(p->w[i].field);
		if (ret_errno)
			*ret_errno = rollback;
	}
	olds_free(olds, i);
	return r;
}
