/* SPDX-License-Identifier: MIT */
/* cgctl-oci-hook.c: OCI runtime hook: a cgctld-managed cgroup for a container at createRuntime, removed at poststop. */

/*
 * The runtime runs us with the container's state on stdin (id, pid, bundle,
 * status) and only the environment of the hook's "env". At createRuntime we
 * create the cgroup with the limits of config.json, move the container's init
 * in and exit; at poststop we destroy it with kill. Everything we create
 * carries the labels oci.id and oci.bundle, and we touch only entries that
 * carry ours. stdout stays clean: runtimes may pass it through.
 *
 * This file is the flow: input, stages, daemon calls (messages: cgctl-oci-hook-log.c). What the
 * runtime's JSON means for cgctld (the name, the labels, the limits) is in
 * the oci_*.c modules (oci.h).
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cgctl.h"
#include "cleanup.h"
#include "oci.h"
#include "cgctl-oci-hook.h"
#include "paths.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define HOOK_STATE_MAX (1u << 20)     /* the state runtimes send is a few hundred bytes */
#define HOOK_CONFIG_MAX (16u << 20)   /* config.json */
#define HOOK_TIMEOUT_DEFAULT_MS 10000 /* per daemon call */
#define HOOK_RETRIES_MAX 32           /* limits dropped one at a time, at most */
#define HOOK_GC_AGE_DEFAULT 60        /* seconds: an empty entry younger than this may be a create under way */
#define HOOK_PARENT_TRIES 64          /* a shared parent removed under us by others' poststop, at most */

/* --- input --------------------------------------------------------------- */

/* Read fd to its end, at most max bytes, into *ret (malloc'd, NUL-terminated) and *ret_len. */
static int hook_read_all(int fd, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= max)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			if (cap > max)
				cap = max;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = TAKE_PTR(buf);
	*ret_len = len;
	return 0;
}

/* Parse at most max bytes of fd as one JSON object into *ret; -errno, -EINVAL when not an object. */
static int hook_read_json(int fd, size_t max, json_object **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0;
	int r = hook_read_all(fd, max, &buf, &len);

	return r < 0 ? r : oci_spec_parse(buf, len, ret);
}

/* Read the container state from stdin. */
static int hook_read_state(struct hook *h)
{
	const char *why = NULL;
	int r = hook_read_json(STDIN_FILENO, HOOK_STATE_MAX, &h->state);

	if (r < 0)
		return hook_error(h, "cannot read the container state (a JSON object) from stdin: %s",
				  strerror(-r));
	if (oci_spec_state(h->state, &h->st, &why) < 0)
		return hook_error(h, "%s", why);
	/* From here on messages go to the log file too (the bundle may say which). */
	(void)oci_where_log(h->st.bundle, &h->auto_log);
	return EXIT_OK;
}

/* Read <bundle>/config.json (createRuntime; poststop finds its entries by label). */
static int hook_read_config(struct hook *h)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&path, "%s/config.json", h->st.bundle) < 0)
		return hook_error(h, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	r = fd < 0 ? -errno : hook_read_json(fd, HOOK_CONFIG_MAX, &h->config);
	if (r >= 0)
		return EXIT_OK;
	h->config = NULL;
	return hook_error(h, "%s: %s", path, r == -EINVAL ? "not a JSON object" : strerror(-r));
}

/* --- talking to cgctld ----------------------------------------------------- */

/* Connect (h->sock: --socket, else oci_where_socket()); 0 or -errno, the connection in h->c. */
static int hook_connect_quiet(struct hook *h)
{
	int r;

	if (!h->sock)
		h->sock = h->socket ? strdup(h->socket) : NULL;
	if (!h->sock && (r = oci_where_socket(h->st.bundle, &h->sock)) < 0)
		return r;
	if (!h->sock)
		return -ENOMEM;
	r = cgctl_connect(h->sock, &h->c);
	return r < 0 ? r : cgctl_set_timeout(h->c, h->timeout_ms);
}

/* Connect; when there is no daemon, a soft failure (*ret_exit set, returns -1). */
static int hook_connect(struct hook *h, int *ret_exit)
{
	int r = hook_connect_quiet(h);

	if (r >= 0)
		return 0;
	/* Somebody else answers there: as good as no daemon, but say who. */
	if (r == -CGCTL_EUNTRUSTED && cgctl_error_message(NULL)) {
		*ret_exit = hook_soft(h, "%s; %s", cgctl_error_message(NULL), hook_without(h));
		return -1;
	}
	*ret_exit = hook_soft(h, "cgctld is not running (%s: %s); %s", h->sock ? h->sock : "socket",
			      cgctl_strerror(r), hook_without(h));
	return -1;
}

/*
 * Call method (Create or SetResources) with params, whose "resources" member
 * is res: while the daemon answers ControllerUnavailable, drop what that
 * controller needs from res (with a warning) and call again; --strict does
 * not drop. The daemon's last code.
 */
static int hook_call_resources(struct hook *h, const char *method, json_object *params, json_object *res)
{
	for (int i = 0;; i++) {
		_cleanup_free_ char *reply = NULL;
		_cleanup_json_ json_object *ep = NULL;
		const char *what;
		int r, n;

		r = cgctl_call(h->c, method, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN), &reply);
		if (r != -EOPNOTSUPP || h->strict || i >= HOOK_RETRIES_MAX || !reply)
			return r;
		ep = json_tokener_parse(reply);
		/* A missing interface file names its field: skip just that limit. */
		what = oci_spec_str(ep, "field") ? oci_spec_str(ep, "field") : oci_spec_str(ep, "controller");
		if (!what)
			return r;
		n = strncmp(what, "resources", 9) == 0 ? oci_resources_drop_field(res, what)
						       : oci_resources_drop_controller(res, what);
		if (n <= 0)
			return r;
		if (what[0] == 'r')
			hook_warn(h, "limit %s skipped: %s", what, hook_errmsg(h));
		else
			hook_warn(h, "limits of controller \"%s\" skipped: %s", what, hook_errmsg(h));
	}
}

/* Who we are to the daemon (asked once): whose entries we may take for ours. NULL (said why) on failure. */
static const struct oci_owner *hook_owner(struct hook *h)
{
	int r;

	if (h->owner_known)
		return &h->owner;
	r = oci_parents_owner(h->c, &h->owner);
	if (r < 0) {
		hook_warn(h, "cannot tell whose cgroups are ours: %s", cgctl_strerror(r));
		return NULL;
	}
	h->owner_known = true;
	return &h->owner;
}

/* Look name up: 1 when the daemon manages it and it is ours, 0 when someone else's, -ENOENT, -errno. */
static int hook_lookup(struct hook *h, const char *name)
{
	const struct oci_owner *o = hook_owner(h);
	struct cgctl_entry **e = NULL;
	size_t n = 0;
	int r = o ? cgctl_list(h->c, name, &e, &n) : -EIO;

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i]->name, name) == 0)
			r = oci_identity_is_ours(&h->st, o, e[i]) ? 1 : 0;
	cgctl_entries_free(e, n);
	return r;
}

/*
 * Create the cgroup with its limits (*ret_created), or re-apply them to our
 * own from an earlier run (*ret_existing); -EEXIST (said why) when it is not ours.
 */
static int hook_create(struct hook *h, json_object *res, bool *ret_created, bool *ret_existing)
{
	_cleanup_json_ json_object *params = json_object_new_object();
	int r;

	json_object_object_add(params, "name", json_object_new_string(h->name));
	json_object_object_add(params, "labels", oci_identity_labels(&h->st, h->derived));
	json_object_object_add(params, "resources", json_object_get(res));
	/* The daemon removes it once the container's processes are gone: poststop is not needed. */
	json_object_object_add(params, "auto_remove", json_object_new_boolean(true));
	/*
	 * Its inside is the container's, as systemd's Delegate=yes gives container
	 * scopes: the cgroups a nested runtime or systemd makes in it are killed
	 * and removed with it, not a reason to refuse the poststop.
	 */
	json_object_object_add(params, "delegate", json_object_new_boolean(true));
	r = hook_call_resources(h, "Create", params, res);
	*ret_created = r >= 0;
	if (r != -EEXIST)
		return r;
	/* From an earlier createRuntime of this container, or someone else's. */
	r = hook_lookup(h, h->name);
	if (r == 0 || r == -ENOENT) {
		hook_error(h, "cgroup \"%s\" exists and is not this container's (%s); refusing to use it", h->name,
			   r == 0 ? "its oci.id/oci.bundle labels differ, or another user made it"
				  : "cgctld did not create it");
		return -EEXIST;
	}
	if (r < 0)
		return r;
	*ret_existing = true;
	json_object_object_del(params, "labels");
	json_object_object_del(params, "auto_remove");
	json_object_object_del(params, "delegate");
	return hook_call_resources(h, "SetResources", params, res);
}

/* Every parent of the cgroup may be ours (an administrator's: administrators' only); -EEXIST said why. */
static int hook_parents_ours(struct hook *h)
{
	_cleanup_free_ char *taken = NULL;
	const struct oci_owner *o;
	int r;

	if (!strchr(h->name, '/'))
		return 0;
	o = hook_owner(h);
	if (!o)
		return -EIO;
	r = oci_parents_check(h->c, o, h->name, &taken);
	if (r == -EEXIST)
		hook_error(h, "parent \"%s\" of cgroup \"%s\" is another user's; refusing to put the container "
			   "below it", taken, h->name);
	return r;
}

/* Move the container's init in, by pidfd where the kernel has them (no pid reuse race). */
static int hook_attach(struct hook *h)
{
	int fd = (int)syscall(SYS_pidfd_open, h->st.pid, 0);
	int r;

	if (fd < 0 && errno != ENOSYS)
		return -errno;
	if (fd < 0)
		return cgctl_attach(h->c, h->name, &h->st.pid, 1);
	r = cgctl_attach_pidfds(h->c, h->name, &fd, 1);
	close(fd);
	return r;
}

/* --- the stages ------------------------------------------------------------ */

/* Undo a create of this run after a later step failed. */
static void hook_undo(struct hook *h)
{
	int r = cgctl_destroy(h->c, h->name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, NULL);

	if (r < 0)
		hook_warn(h, "could not remove %s again: %s", h->name, cgctl_strerror(r));
}

/*
 * The controllers res needs that the daemon does not give its cgroups, as a
 * JSON array (each said in a warning); NULL when the daemon cannot be asked.
 */
static json_object *hook_unavailable(struct hook *h, json_object *res)
{
	static const char *const ctls[] = { "cpu", "cpuset", "io", "memory", "pids", "hugetlb", "rdma", "misc", NULL };
	struct cgctl_status *st = NULL;
	char have_list[256] = "";
	json_object *out;
	int r = hook_connect_quiet(h);

	if (r >= 0)
		r = cgctl_get_status(h->c, &st);
	if (r < 0) {
		hook_warn(h, "cannot tell which controllers are available: cgctld is not running (%s: %s)",
			  h->sock ? h->sock : "socket", cgctl_strerror(r));
		return NULL;
	}
	for (char **c = st->controllers; *c; c++)
		snprintf(have_list + strlen(have_list), sizeof(have_list) - strlen(have_list), "%s%s",
			 c == st->controllers ? "" : " ", *c);
	out = json_object_new_array();
	for (size_t i = 0; ctls[i]; i++) {
		_cleanup_json_ json_object *copy = NULL;
		bool have = false;

		for (char **c = st->controllers; *c && !have; c++)
			have = strcmp(*c, ctls[i]) == 0;
		if (have || json_object_deep_copy(res, &copy, NULL) < 0 || oci_resources_drop_controller(copy, ctls[i]) <= 0)
			continue;
		json_object_array_add(out, json_object_new_string(ctls[i]));
		hook_warn(h, "controller \"%s\" is not available (cgctld's cgroups have: %s): %s", ctls[i],
			  have_list[0] ? have_list : "none", h->strict ? "--strict: the hook would fail"
								       : "its limits would be skipped");
	}
	cgctl_status_free(st);
	return out;
}

/* --dry-run: the name, labels, Resources and unavailable controllers on stdout, as one JSON object. */
static int hook_dry_run(struct hook *h, json_object *res)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *un = hook_unavailable(h, res);

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "labels", oci_identity_labels(&h->st, h->derived));
	json_object_object_add(o, "resources", json_object_get(res));
	if (un)
		json_object_object_add(o, "unavailable", un);
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return EXIT_OK;
}

/* Whether e is an empty, settled entry of the hook's (a container's or a parent), at least min_age seconds old. */
static bool hook_gc_candidate(const struct cgctl_entry *e, long min_age)
{
	bool labelled = false;
	struct timespec now;

	for (char **l = e->labels; *l && !labelled; l++)
		labelled = strncmp(*l, "oci.id=", 7) == 0 || strcmp(*l, OCI_PARENT_LABEL) == 0;
	if (!labelled || e->populated != 0 || strcmp(e->state, "active") != 0 ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0)
		return false;
	return (uint64_t)now.tv_sec >= e->created_usec / 1000000 + (uint64_t)min_age;
}

/*
 * Remove the hook's entries that are empty: containers whose poststop never
 * reached the daemon, and parents of the hook's nothing is below any more.
 * Without kill: the daemon refuses (Busy) a cgroup that has processes again. Returns the number removed; removed names on out.
 */
static int hook_gc(struct hook *h, FILE *out)
{
	struct cgctl_entry **e = NULL;
	size_t n = 0;
	const struct oci_owner *o = hook_owner(h);
	int r = o ? cgctl_list(h->c, NULL, &e, &n) : -EIO, removed = 0;

	if (r < 0)
		return r;
	/* Name order backwards: a parent after the cgroups below it. */
	for (size_t i = n; i-- > 0;) {
		int existed = 0;

		if (!hook_gc_candidate(e[i], h->gc_age) || !oci_identity_owner_ok(o, e[i]))
			continue;
		/* A parent of the hook's goes once nothing is below it (the daemon says Busy otherwise). */
		r = cgctl_destroy(h->c, e[i]->name, oci_parents_is_parent(e[i]) ? 0 : CGCTL_DESTROY_RECURSIVE, &existed);
		if (r >= 0 && existed) {
			removed++;
			if (out)
				fprintf(out, "removed %s\n", e[i]->name);
		}
	}
	cgctl_entries_free(e, n);
	return removed;
}

/* createRuntime: cgroup, limits, init moved in. */
static int stage_create(struct hook *h)
{
	_cleanup_json_ json_object *res = NULL;
	bool created = false, existing = false;
	int r, ex = EXIT_OK;

	if (h->st.pid <= 0 && !h->dry_run)
		return hook_error(h, "the container state has no \"pid\" (is this the createRuntime stage?)");
	/* Mistakes in config.json are errors, daemon or not. */
	if (oci_identity_name(h->config, h->state, h->st.id, &h->log, &h->name, &h->derived) < 0 ||
	    oci_resources_from_spec(h->config, h->state, &h->log, &res) < 0)
		return EXIT_FAIL;
	if (h->dry_run)
		return hook_dry_run(h, res);
	if (hook_connect(h, &ex) < 0)
		return ex;
	/* Before ours exists: an entry of this id a missed poststop left is killed, not joined. */
	if (hook_owner(h))
		(void)oci_stopped_finish(h->c, h->sock, hook_owner(h), NULL);
	/*
	 * A parent another container's poststop just removed is made again.
	 * Each NotFound means another hook removed it in between (it was empty):
	 * under a churn of others' containers that happens several times in a
	 * row, so the bound is generous (3 failed 1 start in 15).
	 */
	for (int i = 0; i < HOOK_PARENT_TRIES; i++) {
		r = oci_parents_make(h->c, h->name);
		if (r >= 0)
			r = hook_create(h, res, &created, &existing);
		if (r != -ENOENT)
			break;
	}
	if (r == -CGCTL_ENODELEGATION)
		return hook_soft(h, "cgctld has no delegated cgroup subtree (%s); %s", hook_errmsg(h), hook_without(h));
	if (r == -EEXIST)
		return EXIT_FAIL; /* said why */
	if (r == -EOPNOTSUPP && h->strict)
		return hook_call_failed(h, "create (--strict: no limit is skipped)", r);
	if (r < 0)
		return hook_call_failed(h, existing ? "set limits" : "create", r);
	/* After the Create: its parents cannot be swapped for others' any more. */
	r = hook_parents_ours(h);
	if (r >= 0)
		r = hook_attach(h);
	else if (r != -EEXIST)
		hook_call_failed(h, "list", r);
	if (r >= 0) {
		/* For poststop, which may run where neither is known (podman, rootless). */
		(void)oci_where_record(h->st.bundle, h->sock, h->log_path ? h->log_path : h->auto_log, h->name);
		/* Leftovers of containers whose poststop never reached us; only old ones. */
		(void)hook_gc(h, NULL);
		return EXIT_OK;
	}
	if (created)
		hook_undo(h);
	if (r == -EEXIST || r == -EIO)
		return EXIT_FAIL; /* said why */
	if (r == -ESRCH)
		return hook_error(h, "the container's init (pid %d) is gone", (int)h->st.pid);
	if (r == -EACCES) {
		char buf[1024];

		return hook_soft(h, "cannot move the container's init (pid %d) into %s (%s); %s", (int)h->st.pid,
				 h->name, hook_why(h, r, buf, sizeof(buf)), hook_without(h));
	}
	return hook_call_failed(h, "attach", r);
}

/*
 * poststop: kill and remove every entry labelled as this container's. By
 * label, not by name: config.json may be gone or changed, and an entry of the
 * same name that is not ours is left alone.
 */
static int stage_poststop(struct hook *h)
{
	_cleanup_free_ char *name = NULL;
	const struct oci_owner *o;
	struct cgctl_entry **e = NULL;
	size_t n = 0;
	bool found = false;
	int r, ex = EXIT_OK;

	if (hook_connect(h, &ex) < 0) {
		/* Processes left in it (no PID namespace) are killed by the next --gc or createRuntime. */
		if ((r = oci_stopped_note(&h->st, h->sock)) < 0)
			hook_warn(h, "cannot remember the container for a later --gc: %s", strerror(-r));
		return ex;
	}
	o = hook_owner(h);
	if (!o)
		return EXIT_FAIL;
	r = cgctl_list(h->c, NULL, &e, &n);
	if (r < 0)
		return hook_call_failed(h, "list", r);
	/* A nested one may go with its parent (recursive): destroying it again is a success. */
	for (size_t i = 0; i < n && ex == EXIT_OK; i++) {
		if (!oci_identity_is_ours(&h->st, o, e[i]))
			continue;
		found = true;
		r = cgctl_destroy(h->c, e[i]->name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, NULL);
		if (r >= 0)
			oci_parents_drop(h->c, o, e[i]->name, e, n);
		/* Not ours any more: nothing of this container's is left to remove, so runc delete must not fail. */
		if (r == -CGCTL_EREPLACED)
			hook_warn(h, "%s was replaced by a cgroup cgctld did not create; left alone", e[i]->name);
		else if (r < 0)
			ex = hook_call_failed(h, e[i]->name, r);
	}
	/* Ended before its poststop (the usual case): the daemon removed it, its parents are left to us. */
	if (!found && ex == EXIT_OK && (name = oci_where_name(h->st.bundle)))
		oci_parents_drop(h->c, o, name, e, n);
	cgctl_entries_free(e, n);
	if (ex == EXIT_OK)
		oci_where_forget(h->st.bundle);
	return ex;
}

/* --gc: sweep the hook's empty entries (no container state needed). */
static int stage_gc(struct hook *h)
{
	int r, ex = EXIT_OK;

	(void)oci_where_log(NULL, &h->auto_log);
	if (hook_connect(h, &ex) < 0)
		return ex;
	/* First what the poststops that missed the daemon could not kill. */
	if (hook_owner(h))
		(void)oci_stopped_finish(h->c, h->sock, hook_owner(h), stdout);
	r = hook_gc(h, stdout);
	return r < 0 ? hook_call_failed(h, "list", r) : EXIT_OK;
}

/* --- command line ------------------------------------------------------------ */

/* The options, on f. */
static void usage(FILE *f)
{
	fputs("Usage: cgctl-oci-hook [OPTIONS] [createRuntime|poststop]\n"
	      "OCI runtime hook: give the container a cgroup managed by cgctld (createRuntime)\n"
	      "and remove it (poststop). Reads the container state from stdin.\n\n"
	      "      --stage STAGE  createRuntime (or prestart) or poststop; default: from the\n"
	      "                     state's status (creating, stopped)\n"
	      "      --socket PATH  daemon socket (default: $CGCTL_SOCKET, else\n"
	      "                     $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager, else /run/user/UID/...)\n"
	      "      --strict       fail when the container cannot get its cgroup and every limit\n"
	      "      --log FILE     append warnings and errors to FILE (default:\n"
	      "                     ~/.local/state/cgctl/oci-hook.log)\n"
	      "      --timeout MS   bound of each daemon call (default 10000)\n"
	      "      --dry-run      createRuntime: print the cgroup name, labels and limits that\n"
	      "                     would be asked for, as JSON on stdout, and stop\n"
	      "      --gc           remove the hook's empty cgroups (containers gone while the\n"
	      "                     daemon could not hear of it), kill and remove those whose\n"
	      "                     poststop missed the daemon; reads no state\n"
	      "      --gc-age SECS  only those created at least SECS ago (default 60)\n"
	      "  -h, --help         show this help\n"
	      "      --version      show the version\n", f);
}

/* Stage from its OCI name; STAGE_UNKNOWN otherwise. */
static enum stage stage_from_name(const char *s)
{
	if (strcmp(s, "createRuntime") == 0 || strcmp(s, "prestart") == 0)
		return STAGE_CREATE;
	if (strcmp(s, "poststop") == 0)
		return STAGE_POSTSTOP;
	return STAGE_UNKNOWN;
}

/* A decimal in [min, max] into *ret; -EINVAL otherwise. */
static int parse_long(const char *s, long min, long max, long *ret)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Parse argv into h; -1 to go on, else the exit status. */
static int parse_args(struct hook *h, int argc, char **argv)
{
	enum { OPT_STAGE = 0x100, OPT_SOCKET, OPT_STRICT, OPT_LOG, OPT_TIMEOUT, OPT_DRY_RUN, OPT_VERSION, OPT_GC,
	       OPT_GC_AGE };
	static const struct option opts[] = {
		{ "stage", required_argument, NULL, OPT_STAGE },  { "socket", required_argument, NULL, OPT_SOCKET },
		{ "strict", no_argument, NULL, OPT_STRICT },      { "log", required_argument, NULL, OPT_LOG },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT }, { "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },    { "version", no_argument, NULL, OPT_VERSION },
		{ "gc", no_argument, NULL, OPT_GC },              { "gc-age", required_argument, NULL, OPT_GC_AGE },
		{}
	};
	const char *stage = NULL;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STAGE: stage = optarg; break;
		case OPT_SOCKET: h->socket = optarg[0] ? optarg : NULL; break;
		case OPT_STRICT: h->strict = true; break;
		case OPT_LOG: h->log_path = optarg[0] ? optarg : NULL; break;
		case OPT_DRY_RUN: h->dry_run = true; break;
		case OPT_GC: h->stage = STAGE_GC; break;
		case OPT_GC_AGE:
			if (parse_long(optarg, 0, 10L * 365 * 86400, &h->gc_age) < 0) {
				hook_error(h, "invalid --gc-age '%s': want seconds >= 0", optarg);
				return EXIT_USAGE;
			}
			break;
		case OPT_TIMEOUT:
			if (parse_long(optarg, 1, 3600 * 1000, &v) < 0) {
				hook_error(h, "invalid --timeout '%s': want milliseconds > 0", optarg);
				return EXIT_USAGE;
			}
			h->timeout_ms = (int)v;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case OPT_VERSION: puts("cgctl-oci-hook " CGCTL_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc && !stage && h->stage != STAGE_GC)
		stage = argv[optind++];
	if (optind < argc) {
		hook_error(h, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (stage && h->stage == STAGE_GC) {
		hook_error(h, "--gc takes no stage");
		return EXIT_USAGE;
	}
	if (stage && (h->stage = stage_from_name(stage)) == STAGE_UNKNOWN) {
		hook_error(h, "stage '%s' is not supported: use createRuntime (or prestart) and poststop", stage);
		return EXIT_USAGE;
	}
	return -1;
}

/* Stage from the state's status when no argument named it. */
static int hook_guess_stage(struct hook *h)
{
	const char *s = h->st.status ? h->st.status : "";

	if (h->stage != STAGE_UNKNOWN)
		return EXIT_OK;
	if (strcmp(s, "creating") == 0 || strcmp(s, "created") == 0)
		h->stage = STAGE_CREATE;
	else if (strcmp(s, "stopped") == 0)
		h->stage = STAGE_POSTSTOP;
	else
		return hook_error(h, "cannot tell the stage from status \"%s\": pass createRuntime or poststop", s);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct hook h = { .timeout_ms = HOOK_TIMEOUT_DEFAULT_MS, .gc_age = HOOK_GC_AGE_DEFAULT };
	int ex;

	h.log = (struct oci_log){ .log_cb = hook_log_cb, .userdata = &h };
	openlog("cgctl-oci-hook", LOG_PID, LOG_USER);
	ex = parse_args(&h, argc, argv);
	if (ex < 0 && h.stage == STAGE_GC)
		ex = stage_gc(&h);
	else if (ex < 0 && (ex = hook_read_state(&h)) == EXIT_OK && (ex = hook_guess_stage(&h)) == EXIT_OK &&
		 (h.stage == STAGE_POSTSTOP || (ex = hook_read_config(&h)) == EXIT_OK))
		ex = h.stage == STAGE_CREATE ? stage_create(&h) : stage_poststop(&h);
	cgctl_disconnect(h.c);
	closelog();
	free(h.auto_log);
	free(h.sock);
	free(h.name);
	json_object_put(h.config);
	json_object_put(h.state);
	return ex;
}
