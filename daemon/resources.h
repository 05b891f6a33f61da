/* SPDX-License-Identifier: MIT */
/* resources.h: Varlink Resources objects translated into validated cgroup v2 file writes. */
#pragma once

#include <json-c/json.h>
#include <stddef.h>

/* One interface-file write of a plan. */
struct res_write {
	char *file;       /* interface file name, e.g. "memory.max" */
	char *value;      /* what to write, without trailing newline */
	char *controller; /* "memory", "cpu", ...; NULL for cgroup.* core files */
	char *field;      /* JSON path for errors, e.g. "resources.memory.max" */
};

/* Every write a Resources object asks for, in the order they are applied. */
struct res_plan {
	struct res_write *w;
	size_t n;
};

/*
 * Validate the whole Resources object and build the plan; nothing is touched.
 * 0, -ENOMEM, or -EINVAL with *ret_field (the offending JSON path, e.g.
 * "resources.cpu.period") and *ret_message (malloc'd; either may be NULL).
 * Unknown keys anywhere are -EINVAL naming the key. An empty object gives an
 * empty plan.
 */
int res_plan_build(json_object *resources, struct res_plan *ret, char **ret_field,
		   char **ret_message);

/* Free what a plan owns and zero it; NULL and zeroed plans are fine. */
void res_plan_done(struct res_plan *p);

/*
 * Check that every controller the plan writes to is in enabled (NULL-terminated:
 * the controllers enabled for the cgroup, i.e. its parent's
 * cgroup.subtree_control). 0, or -EOPNOTSUPP with *ret_controller (may be
 * NULL; points into the plan) naming the first missing one.
 */
int res_plan_check_controllers(const struct res_plan *p, char **enabled,
			       const char **ret_controller);

/*
 * Apply the plan to the cgroup relpath beneath rootfd, all or nothing: the
 * current value of each file is read before it is written, and when a write
 * fails every file already written is restored, in reverse order. 0, or the
 * failed write's -errno with *ret_field (malloc'd copy of its field) and
 * *ret_errno (0 when the rollback restored everything, else the -errno of the
 * first restore that failed). Either out-parameter may be NULL.
 * Write-only files (nothing to read back) are written without a restore record.
 */
int res_plan_apply(int rootfd, const char *relpath, const struct res_plan *p, char **ret_field,
		   int *ret_errno);

/*
 * The plan as a {"file": "value"} object for events and logs; a file written
 * more than once (io.max per device) has its values joined by newlines. NULL
 * on allocation failure.
 */
json_object *res_plan_to_json(const struct res_plan *p);

/*
 * Internal, for res_plan_apply() and its tests: the values to write, in
 * order, to put file back as old (its content read before a write of value)
 * says it was, as a NULL-terminated strv (free with cgfs_strv_free). Keyed
 * files (io.max, io.weight, rdma.max, misc.max, ...) are restored for the
 * written key only. 0 or -ENOMEM.
 */
int res_restore_values(const char *file, const char *value, const char *old, char ***ret_values);
