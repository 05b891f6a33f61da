/* SPDX-License-Identifier: MIT */
/* manager_limits.c: apply a Resources object to a managed cgroup: validate all, check controllers, write, roll back. */
#include "manager_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "kill.h"
#include "log.h"
#include "resources.h"
#include "tenant.h"

/* A plan res_plan_build() refused: InvalidValue naming the field, or what else went wrong. Returns r. */
static int limits_plan_error(int r, const char *field, const char *msg, struct op_error *e)
{
	if (r == -EINVAL)
		return op_error_set(e, r, CGERR_INVALID_VALUE, "field", field ? field : "resources", "%s",
				    msg ? msg : "invalid resources");
	return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "%s",
			    r == -ENOMEM ? "out of memory" : strerror(-r));
}

int manager_check_resources(json_object *res, struct op_error *e)
{
	_cleanup_free_ char *field = NULL, *msg = NULL;
	struct res_plan plan = { 0 };
	int r = res_plan_build(res, &plan, &field, &msg);

	res_plan_done(&plan);
	return r < 0 ? limits_plan_error(r, field, msg, e) : 0;
}

int manager_check_tenant_resources(struct manager *m, uid_t uid, const char *name, json_object *res,
				   struct op_error *e)
{
	_cleanup_free_ char *parent = NULL, *field = NULL, *msg = NULL;
	struct ledger_entry *pe = NULL;
	struct res_plan plan = { 0 };
	const char *file = NULL, *why = NULL;
	char *slash;
	int r;

	if (!res || tenant_is_admin(uid))
		return 0;
	parent = strdup(name);
	if (!parent)
		return op_error_oom(e);
	slash = strrchr(parent, '/');
	if (slash) {
		*slash = '\0';
		pe = ledger_get(m->ledger, parent);
	}
	/* A plan that does not build is refused by its apply, with the reason. */
	if (res_plan_build(res, &plan, &field, &msg) < 0) {
		res_plan_done(&plan);
		return 0;
	}
	r = tenant_check_plan(&plan, &file, &why);
	if (r == 0)
		r = tenant_check_bounds(&plan, m->quota.entries, CGKILL_MAX_DEPTH, &file, &why);
	if (r < 0)
		op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL, "%s is refused to a tenant (%s)", file, why);
	/* Below its own entry a tenant shares out its own part as it likes. */
	else if (!pe || !tenant_may_access(uid, pe)) {
		r = tenant_check_sibling_plan(&plan, &file, &why);
		if (r < 0)
			op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL,
				     "\"%s\" shares its parent with cgroups of other users: %s is refused to a "
				     "tenant there (%s); set it on cgroups below \"%s\"", name, file, why, name);
	}
	res_plan_done(&plan);
	return r;
}

/*
 * May whoever acts on name hear of shadow ("child/file" in name's parent)?
 * Its owner or an administrator acts on name: told when name is an
 * administrator's, or child is an entry of name's owner; never another
 * tenant's entry or what is inside it (a tenant sees its own entries only).
 */
static bool limits_shadow_told(struct manager *m, const char *name, const char *shadow)
{
	_cleanup_free_ char *sibling = NULL;
	const struct ledger_entry *le = ledger_get(m->ledger, name), *se;
	const char *slash = strrchr(name, '/');
	int len = slash ? (int)(slash - name) : 0;

	if (!le || tenant_is_admin(le->owner))
		return le != NULL;
	if (asprintf(&sibling, "%.*s%s%.*s", len, name, slash ? "/" : "", (int)strcspn(shadow, "/"), shadow) < 0)
		return false;
	se = ledger_get(m->ledger, sibling);
	return se && se->owner == le->owner;
}

/*
 * The controller the cgroup open at cgfd misses is kept off by a cgroup
 * beside it named like one of its files (cgfs_find_shadow() in its parent):
 * say so in e (naming it only as limits_shadow_told() allows) and return true.
 */
static bool limits_shadowed(struct manager *m, int cgfd, const char *name, const char *controller,
			    struct op_error *e)
{
	_cleanup_close_ int pfd = openat(cgfd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	_cleanup_free_ char *shadow = NULL;
	const char *slash = strrchr(name, '/');
	int len = slash ? (int)(slash - name) : 0;

	if (pfd < 0 || cgfs_find_shadow(pfd, controller, &shadow) <= 0)
		return false;
	if (!limits_shadow_told(m, name, shadow))
		op_error_set(e, -EOPNOTSUPP, CGERR_CONTROLLER_UNAVAILABLE, "controller", controller,
			     "controller \"%s\" is not available to \"%s\": cgctld cannot enable it for the children of "
			     "%s%.*s%s while a cgroup of another user there is named like one of its files (cgctld's log "
			     "names it); an administrator must remove it first", controller, name,
			     slash ? "\"" : "the managed root", len, name, slash ? "\"" : "");
	else
		op_error_set(e, -EOPNOTSUPP, CGERR_CONTROLLER_UNAVAILABLE, "controller", controller,
			     "controller \"%s\" is not available to \"%s\": cgctld cannot enable it for the children of "
			     "%s%.*s%s while \"%.*s%s%s\" exists, a cgroup named like one of its files (a delegatee made "
			     "it while %s was off); it must be removed first", controller, name,
			     slash ? "\"" : "the managed root", len, name, slash ? "\"" : "", len, name, slash ? "/" : "",
			     shadow, controller);
	return true;
}

/* Every controller the plan needs must be available in the cgroup's (cgfd's) cgroup.controllers. */
static int limits_check_controllers(struct manager *m, int cgfd, const char *name, const struct res_plan *plan,
				    struct op_error *e)
{
	_cleanup_free_ char *text = NULL;
	const char *missing = NULL;
	char **avail = NULL;
	int r;

	r = cgfs_read(cgfd, "cgroup.controllers", 4096, &text);
	if (r < 0)
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "read cgroup.controllers of \"%s\": %s",
				    name, strerror(-r));
	text[strcspn(text, "\n")] = '\0';
	r = cgfs_parse_controllers(text, &avail);
	if (r < 0)
		return op_error_oom(e);
	r = res_plan_check_controllers(plan, avail, &missing);
	if (r == -EOPNOTSUPP && limits_shadowed(m, cgfd, name, missing, e))
		;
	else if (r == -EOPNOTSUPP)
		op_error_set(e, r, CGERR_CONTROLLER_UNAVAILABLE, "controller", missing,
			     "controller \"%s\" is not available to this cgroup (available: %s); the parent must "
			     "enable it in cgroup.subtree_control, and systemd must delegate it (user@.service "
			     "delegates only some controllers by default)", missing, text[0] ? text : "none");
	cgfs_strv_free(avail);
	return r;
}

/* The controller of the write a field belongs to ("hugetlb" for resources.hugetlb[0].max). */
static const char *limits_controller_of(const struct res_plan *plan, const char *field)
{
	for (size_t i = 0; i < plan->n; i++)
		if (plan->w[i].field && strcmp(plan->w[i].field, field) == 0)
			return plan->w[i].controller ? plan->w[i].controller : plan->w[i].file;
	return field;
}

/* Translate a failed write. */
static int limits_apply_error(const struct res_plan *plan, const char *field, int r, struct op_error *e)
{
	if (r == -EACCES || r == -EPERM)
		return op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL, "%s: the kernel refused: %s",
				    field, strerror(-r));
	if (r == -EINVAL || r == -ERANGE || r == -EOVERFLOW)
		return op_error_set(e, r, CGERR_INVALID_VALUE, "field", field, "%s: the kernel refused the value: %s",
				    field, strerror(-r));
	if (r == -EISDIR)
		return op_error_set(e, r, CGERR_CONTROLLER_UNAVAILABLE, "controller", limits_controller_of(plan, field),
				    "%s: the entry holds a cgroup of that name (its delegatee made it where this "
				    "kernel has no such interface file); nothing was written", field);
	if (r == -ENOENT || r == -EOPNOTSUPP) {
		op_error_set(e, r, CGERR_CONTROLLER_UNAVAILABLE, "controller", limits_controller_of(plan, field),
			     "%s: no such interface file on this kernel", field);
		snprintf(e->field, sizeof(e->field), "%s", field);
		return r;
	}
	return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "%s: %s", field, strerror(-r));
}

int manager_apply_resources(struct manager *m, int cgfd, const char *name, json_object *res, struct op_error *e)
{
	_cleanup_free_ char *field = NULL, *msg = NULL;
	struct res_plan plan = { 0 };
	int restore_err = 0;
	int r = res_plan_build(res, &plan, &field, &msg);

	/* Refused here, never built again: a second build could succeed and nothing be applied. */
	if (r < 0) {
		res_plan_done(&plan);
		return limits_plan_error(r, field, msg, e);
	}
	r = limits_check_controllers(m, cgfd, name, &plan, e);
	if (r >= 0) {
		r = res_plan_apply(cgfd, "", &plan, &field, &restore_err);
		if (restore_err)
			log_error_errno(restore_err, "%s: could not restore every limit after %s failed", name,
					field ? field : "a write");
		if (r < 0)
			limits_apply_error(&plan, field ? field : "resources", r, e);
	}
	res_plan_done(&plan);
	return r;
}
