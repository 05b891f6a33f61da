/* SPDX-License-Identifier: MIT */
/* manager_create.c: Create: a fresh name, a proven parent, intent, mkdir, mark, commit, limits or rollback. */
#include "manager_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "controllers.h"
#include "crashpoint.h"
#include "events.h"
#include "identity.h"
#include "log.h"
#include "now.h"
#include "tenant.h"

/* Make up a fresh name "[prefix/]cg-<12 hex>" that neither ledger nor disk has. */
static int manager_generate_name(struct manager *m, const char *prefix, char **ret, struct op_error *e)
{
	for (int attempt = 0; attempt < 16; attempt++) {
		unsigned char rnd[6];
		char *name;
		int r;

		if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
			return op_error_set(e, -errno, CGERR_SYSTEM_ERROR, NULL, NULL, "getrandom failed");
		r = asprintf(&name, "%s%scg-%02x%02x%02x%02x%02x%02x", prefix ? prefix : "",
			     prefix ? "/" : "", rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
		if (r < 0)
			return op_error_oom(e);
		if (!ledger_get(m->ledger, name)) {
			*ret = name;
			return 0;
		}
		free(name);
	}
	return op_error_set(e, -EEXIST, CGERR_ALREADY_EXISTS, "name", prefix, "could not generate a free name");
}

/*
 * Enable, in the managed parent rel, every controller it has for its children,
 * so nested cgroups get limits too. A parent with processes cannot (the
 * no-internal-process rule): its children then simply have no controllers.
 */
static void manager_enable_children_controllers(int pfd, const char *rel)
{
	static const char sfile[] = "cgroup.subtree_control";
	_cleanup_free_ char *avail = NULL, *enabled = NULL;
	char **want = NULL, **have = NULL;

	if (cgfs_read(pfd, "cgroup.controllers", 4096, &avail) < 0 || cgfs_read(pfd, sfile, 4096, &enabled) < 0 ||
	    cgfs_parse_controllers(avail, &want) < 0 || cgfs_parse_controllers(enabled, &have) < 0)
		goto out;
	for (char **c = want; *c; c++) {
		bool on = false;
		char buf[64];
		int r;

		for (char **h = have; *h && !on; h++)
			on = strcmp(*h, *c) == 0;
		if (on)
			continue;
		snprintf(buf, sizeof(buf), "+%s", *c);
		r = cgfs_write(pfd, sfile, buf);
		if (r == -EEXIST)
			controllers_enable_failed(pfd, rel, *c, r);
		else if (r < 0)
			log_notice("%s: cannot enable %s for its children (%s); they get no %s limits", rel, *c,
				   r == -EBUSY ? "it has processes" : strerror(-r), *c);
	}
out:
	cgfs_strv_free(want);
	cgfs_strv_free(have);
}

/* The parent of name must be ours (proven, and owner's), active, and not handed over whole; give it controllers. */
static int manager_check_parent(struct manager *m, const char *name, uid_t owner, struct op_error *e)
{
	_cleanup_free_ char *parent = strdup(name);
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int pfd = -1;
	struct ledger_entry *pe;
	char *slash;
	int r;

	if (!parent)
		return op_error_oom(e);
	slash = strrchr(parent, '/');
	if (!slash)
		return 0;
	*slash = '\0';
	r = cgname_to_path(parent, &rel);
	if (r < 0)
		return op_error_oom(e);
	pe = ledger_get(m->ledger, parent);
	/* Another tenant's entry: refused, in the words used for a stranger's directory. */
	if (pe && !tenant_may_access(owner, pe))
		return op_error_set(e, -EPERM, CGERR_PERMISSION_DENIED, NULL, NULL,
				    "parent \"%s\" was not created by you; cgctld creates cgroups only below "
				    "your own", parent);
	if (!pe) {
		r = cgfs_exists(m->rootfd, rel);
		if (r > 0)
			return op_error_set(e, -EPERM, CGERR_PERMISSION_DENIED, NULL, NULL,
					    "parent \"%s\" was not created by cgctld; cgctld creates cgroups only "
					    "below its own", parent);
		return op_error_set(e, -ENOENT, CGERR_NOT_FOUND, "name", parent,
				    "parent \"%s\" does not exist; create it first", parent);
	}
	/* Its inside (and so every name below) belongs to the delegatee. */
	if (pe->delegate)
		return op_error_set(e, -EPERM, CGERR_PERMISSION_DENIED, NULL, NULL,
				    "\"%s\" was delegated; its inside belongs to the delegatee", parent);
	if (pe->state != LEDGER_ACTIVE)
		return op_error_set(e, -EBUSY, CGERR_BUSY, "name", parent, "parent \"%s\" is being %s", parent,
				    pe->state == LEDGER_DESTROYING ? "destroyed" : "created");
	/* Never make a cgroup inside, or write the controllers of, a directory not ours. */
	r = manager_open_verified(m, parent, &pfd, e);
	if (r < 0)
		return r;
	manager_enable_children_controllers(pfd, rel);
	return 0;
}

/* Translate a failed mkdir into a wire error. */
static int manager_mkdir_error(const char *name, int r, struct op_error *e)
{
	switch (r) {
	case -EEXIST:
		return op_error_set(e, r, CGERR_ALREADY_EXISTS, "name", name,
				    "\"%s\" exists but was not created by cgctld; refusing to adopt it", name);
	case -ENOENT:
		return op_error_set(e, r, CGERR_NOT_FOUND, "name", name, "parent of \"%s\" vanished", name);
	case -EAGAIN:
	case -ENOSPC:
		return op_error_set(e, r, CGERR_QUOTA_EXCEEDED, "limit", "cgroup.max.descendants",
				    "the kernel refused another cgroup (cgroup.max.descendants or max.depth)");
	case -EACCES:
	case -EPERM:
	case -EROFS:
		return op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL, "mkdir \"%s\": %s", name,
				    strerror(-r));
	default:
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "mkdir \"%s\": %s", name, strerror(-r));
	}
}

/* The ledger's budget in bytes. */
static uint64_t manager_ledger_budget(const struct manager *m)
{
	struct ledger_stats st;

	ledger_get_stats(m->ledger, &st);
	return st.budget;
}

/*
 * Mark the fresh directory rel as ours: its inode and, as an xattr, the nonce
 * the intent record already holds. Where the filesystem takes no xattrs the
 * inode alone identifies it (the nonce is cleared). The directory's fd, or -errno.
 */
static int manager_mark(struct manager *m, struct ledger_entry *tmpl, const char *rel)
{
	_cleanup_close_ int fd = cgfs_open_dir(m->rootfd, rel);
	struct stat st;
	int r;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	tmpl->cgroup_id = st.st_ino;
	r = identity_mark(fd, tmpl->nonce);
	if (r < 0) {
		log_warn_errno(r, "%s: cannot mark it with %s; its inode alone identifies it", tmpl->name,
			       identity_xattr_name());
		tmpl->nonce[0] = '\0';
	}
	return TAKE_FD(fd);
}

/* The create is refused: say why the hand-over failed (why: what it needs, or NULL). */
static int manager_hand_over_error(const struct ledger_entry *tmpl, int r, const char *why, struct op_error *e)
{
	if (!why)
		why = "a delegated cgroup for another uid needs a cgctld running as root";
	log_warn_errno(r, "%s: cannot hand it over to uid %u", tmpl->name, (unsigned)tmpl->owner);
	return op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL, "cannot hand \"%s\" over to uid %u (%s): %s",
			    tmpl->name, (unsigned)tmpl->owner, strerror(-r), why);
}

/*
 * May the directory open at fd become the tenant's? Its owner may rewrite a
 * user.* mark (trusted.* was refused: a root daemon in a user namespace), and
 * an entry whose mark no longer matches is dropped as lost: the tenant would
 * keep a cgroup outside the ledger and its quota.
 */
static int manager_may_hand_over(const struct ledger_entry *tmpl, int fd, struct op_error *e)
{
	/* Not root: the chown fails and says so. */
	if (!tmpl->nonce[0] || geteuid() != 0 || identity_mark_trusted(fd))
		return 0;
	return manager_hand_over_error(tmpl, -EPERM,
				       "its identity mark could only be a user.* attribute, which the new owner could "
				       "rewrite (trusted.* needs CAP_SYS_ADMIN of the host's user namespace)", e);
}

/*
 * Set the fresh directory up while it is still ours alone: a tenant's
 * delegated entry gets its bounds (the request may lower them), then the
 * request's limits, and only then is it handed over to the tenant (a root
 * daemon's own and its administrators' stay as they are). Where a step fails
 * the directory, empty and ours (fd proved it), is removed again: once handed
 * over, the tenant's mkdir inside could make that removal fail.
 */
static int manager_set_up(struct manager *m, const struct ledger_entry *tmpl, const char *rel, int fd,
			  json_object *res, struct op_error *e)
{
	bool hand_over = tmpl->delegate && !tenant_is_admin(tmpl->owner);
	int r = 0;

	if (hand_over)
		r = manager_may_hand_over(tmpl, fd, e);
	if (r == 0 && hand_over && (r = manager_bound_inside(m, fd)) < 0)
		manager_hand_over_error(tmpl, r, NULL, e);
	if (r == 0 && res)
		r = manager_apply_resources(m, fd, tmpl->name, res, e);
	if (r == 0 && hand_over && (r = cgfs_hand_over(fd, tmpl->owner)) < 0)
		manager_hand_over_error(tmpl, r, NULL, e);
	if (r == 0)
		return 0;
	/* Never a cgroup with half its limits, nor one the ledger does not know. */
	if (identity_rmdir(m->rootfd, rel, tmpl->cgroup_id, tmpl->nonce, NULL) != -ESTALE)
		ledger_remove(m->ledger, tmpl->name);
	return r;
}

/* mkdir the cgroup between an intent record and a commit record; its verified fd in *ret_fd. */
static int manager_make(struct manager *m, struct ledger_entry *tmpl, json_object *res, struct ledger_entry **ret,
			int *ret_fd, struct op_error *e)
{
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	r = cgname_to_path(tmpl->name, &rel);
	if (r < 0)
		return op_error_set(e, r, CGERR_INVALID_NAME, "name", tmpl->name, "invalid name");
	r = identity_nonce_new(tmpl->nonce);
	if (r < 0)
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "getrandom failed: %s", strerror(-r));
	/* The intent, with the nonce, is written (not synced) before mkdir: a crash in between
	 * leaves a "creating" record that reconcile resolves, never an orphan, and a directory
	 * found then is rolled back only when it carries this nonce. */
	tmpl->state = LEDGER_CREATING;
	r = ledger_put(m->ledger, tmpl, NULL);
	if (r == -EDQUOT)
		return op_error_set(e, r, CGERR_QUOTA_EXCEEDED, "limit", "ledger-size",
				    "the ledger is full: names and labels of the managed cgroups may take at most "
				    "%llu bytes (--max-ledger-size)", (unsigned long long)manager_ledger_budget(m));
	if (r < 0)
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "ledger write failed: %s", strerror(-r));
	crashpoint("create-intent");
	r = cgfs_mkdir(m->rootfd, rel, 0755);
	if (r < 0) {
		ledger_remove(m->ledger, tmpl->name);
		/* The root itself turned read-only or foreign: that is NoDelegation, not one refusal. */
		if (manager_errno_may_be_root(r) && !manager_recheck_delegation(m))
			return manager_no_delegation(m, e);
		return manager_mkdir_error(tmpl->name, r, e);
	}
	crashpoint("create-unmarked");
	fd = manager_mark(m, tmpl, rel);
	if (fd < 0) {
		/* Gone or replaced already: not provably ours, so left alone. */
		ledger_remove(m->ledger, tmpl->name);
		return op_error_set(e, fd, CGERR_REPLACED, "name", tmpl->name,
				    "\"%s\" was removed or replaced right after cgctld made it: %s", tmpl->name,
				    strerror(-fd));
	}
	crashpoint("create-mkdir");
	r = manager_set_up(m, tmpl, rel, fd, res, e);
	if (r < 0)
		return r;
	crashpoint("create-set-up");
	tmpl->state = LEDGER_ACTIVE;
	r = ledger_put(m->ledger, tmpl, ret);
	if (r < 0) {
		log_error_errno(r, "%s: ledger write failed after mkdir", tmpl->name);
		return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "ledger write failed: %s", strerror(-r));
	}
	crashpoint("create-commit");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int manager_create(struct manager *m, const struct create_request *req, struct ledger_entry **ret,
		   struct op_error *e)
{
	_cleanup_free_ char *generated = NULL;
	_cleanup_close_ int fd = -1;
	struct ledger_entry tmpl = { 0 };
	const char *name = req->name;
	struct ledger_entry *old;
	int r;

	/* Degraded at run time: writable again lets this Create through. */
	if (!m->delegated && !manager_recheck_delegation(m))
		return manager_no_delegation(m, e);
	if (!name) {
		if (req->prefix && (r = manager_check_new_name(m, "prefix", req->prefix, e)) < 0)
			return r;
		r = manager_generate_name(m, req->prefix, &generated, e);
		if (r < 0)
			return r;
		name = generated;
	}
	r = manager_check_new_name(m, "name", name, e);
	if (r < 0)
		return r;
	old = ledger_get(m->ledger, name);
	/* Names are one namespace, visible in the cgroup file system: a tenant learns it is taken, no more. */
	if (old && !tenant_may_access(req->owner, old))
		return op_error_set(e, -EEXIST, CGERR_ALREADY_EXISTS, "name", name,
				    "\"%s\" is taken (names are shared by every client of cgctld)", name);
	if (old)
		return op_error_set(e, -EEXIST, CGERR_ALREADY_EXISTS, "name", name,
				    "\"%s\" already exists (%s)", name, ledger_state_to_string(old->state));
	if (ledger_count(m->ledger) >= m->entries_max)
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "entries",
				    "at most %u cgroups may be managed (--max-cgroups)", m->entries_max);
	r = manager_check_parent(m, name, req->owner, e);
	if (r < 0)
		return r;
	tmpl.name = (char *)name;
	tmpl.generated = generated != NULL;
	tmpl.delegate = req->delegate;
	tmpl.auto_remove = req->auto_remove;
	tmpl.lease = req->lease;
	tmpl.created_usec = now_usec();
	tmpl.labels = req->labels;
	tmpl.owner = req->owner;
	if (req->resources && (r = manager_check_resources(req->resources, e)) < 0)
		return r;
	r = manager_check_tenant_resources(m, req->owner, name, req->resources, e);
	if (r < 0)
		return r;
	r = quota_check_create(m, &tmpl, e);
	if (r < 0)
		return r;
	r = manager_make(m, &tmpl, req->resources, ret, &fd, e);
	if (r < 0)
		return r;
	events_track(m, *ret);
	events_emit(m, "created", name, NULL);
	log_op(LOG_DEBUG, "create", name, "created %s%s", name, tmpl.generated ? " (generated name)" : "");
	return 0;
}

int manager_create_undo(struct manager *m, const char *name, uint64_t cgroup_id)
{
	struct ledger_entry *le = ledger_get(m->ledger, name);
	struct op_error e;
	uid_t owner;
	int r;

	if (!le || le->cgroup_id != cgroup_id || le->children > 0)
		return -ENOENT;
	owner = le->owner;
	r = manager_rmdir_verified(m, name, NULL, &e);
	if (r < 0 && r != -ENOENT)
		return log_warn_errno(r, "%s: created, but the ledger could not be made durable, and it could not "
				      "be removed again; kept", name);
	events_untrack(m, le);
	r = ledger_remove_settled(m->ledger, name);
	if (r < 0)
		return r;
	events_emit_owned(m, "removed", name, owner, NULL);
	log_warnx("%s: created, but the ledger could not be made durable: removed again", name);
	return 0;
}
