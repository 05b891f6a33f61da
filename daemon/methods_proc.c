/* SPDX-License-Identifier: MIT */
/* methods_proc.c: handlers for processes and resources: Attach, SetResources, GetStats, Freeze, Thaw, Kill, OpenCgroup. */
#include "dispatch.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "attach.h"
#include "cgroupfs.h"
#include "cleanup.h"
#include "events.h"
#include "evwait.h"
#include "kill.h"
#include "log.h"
#include "resources.h"
#include "stats.h"
#include "tenant.h"

#define ATTACH_PIDS_MAX 1024
/* What to do instead: not "use cgctl run", which fails the same way from such a shell. */
#define ATTACH_ADVICE                                                                              \
	"Run the command from a shell in a cgroup the user owns: a systemd user service, or "     \
	"`systemd-run --user --scope bash`."

/* The call's "name" as a valid name of an entry the caller may see, or answer. */
static bool call_entry(struct call *call, struct ledger_entry **ret_le)
{
	struct manager *m = call_manager(call);
	const char *name = param_str(call, "name");
	struct op_error e;

	if (manager_check_name(m, name, &e) < 0) {
		call_op_error(call, &e);
		return false;
	}
	*ret_le = ledger_get(manager_ledger(m), name);
	/* Another tenant's entry answers exactly as a missing one: nothing is disclosed. */
	if (!*ret_le || !tenant_may_access(call_peer_uid(call), *ret_le)) {
		call_errorf(call, CGERR_NOT_FOUND, "name", name, "no cgroup \"%s\" managed by cgctld", name);
		return false;
	}
	return true;
}

/* Resolve the call's "name" to a ledger entry and its relative path, or answer. */
static bool call_lookup(struct call *call, struct ledger_entry **ret_le, char **ret_rel)
{
	const char *name = param_str(call, "name");
	struct ledger_entry *le;

	if (!call_entry(call, &le))
		return false;
	if (cgname_to_path(name, ret_rel) < 0) {
		call_error_errno(call, -ENOMEM, "%s", name);
		return false;
	}
	if (ret_le)
		*ret_le = le;
	return true;
}

/* Resolve the call's "name" to its directory, proven ours (the fd to act through), or answer. */
static bool call_open_verified(struct call *call, int *ret_fd)
{
	struct ledger_entry *le;
	struct op_error e;

	/* The owner first: another's entry is NotFound before any probe of its directory. */
	if (!call_entry(call, &le))
		return false;
	if (manager_open_verified(call_manager(call), param_str(call, "name"), ret_fd, &e) < 0) {
		call_op_error(call, &e);
		return false;
	}
	return true;
}

/* A tenant's act on the whole subtree of the call's entry never reaches another's entry below it, or answer. */
static bool call_subtree_own(struct call *call, const char *act)
{
	const char *name = param_str(call, "name");

	if (!tenant_subtree_foreign(call_peer_uid(call), manager_ledger(call_manager(call)), name))
		return true;
	call_errorf(call, CGERR_PERMISSION_DENIED, NULL, NULL,
		    "\"%s\" holds cgroups that another user created, which %s would reach; nothing was touched",
		    name, act);
	return false;
}

/* cgroup.kill or cgroup.freeze of the call's entry would reach only cgroups cgctld created, or answer Busy. */
static bool call_subtree_proven(struct call *call)
{
	struct op_error e;

	if (manager_check_subtree_proven(call_manager(call), param_str(call, "name"), &e) >= 0)
		return true;
	call_op_error(call, &e);
	return false;
}

/* The systemd fallback failed (r) because there is no systemd to ask: no unit of ours, or no systemd at all. */
static bool attach_no_systemd(int r)
{
	if (r == -EXDEV)
		return true; /* not started in the managed root's unit (--cgroup-root elsewhere) */
	return (r == -ENOENT || r == -ECONNREFUSED || r == -ENOMEDIUM) && access("/run/systemd/system", F_OK) < 0;
}

/* Answer a failed attach of pid (why: the reason the checks refused it, for how "check"). */
static void attach_error(struct call *call, pid_t pid, int r, const char *how, const char *why)
{
	char field[32];

	snprintf(field, sizeof(field), "%d", (int)pid);
	if (strcmp(how, "check") == 0 && r != -ESRCH) {
		log_notice("attach to %s: refused process %d to uid %u: %s", param_str(call, "name"), (int)pid,
			   (unsigned)call_peer_uid(call), why ? why : strerror(-r));
		call_errorf(call, CGERR_PERMISSION_DENIED, NULL, NULL, "uid %u may not move process %d: %s",
			    (unsigned)call_peer_uid(call), (int)pid, why ? why : strerror(-r));
	} else if (r == -ESRCH)
		call_errorf(call, CGERR_INVALID_VALUE, "field", field, "no process %d", (int)pid);
	else if (r == -EBUSY || r == -EOPNOTSUPP)
		call_errorf(call, CGERR_BUSY, "name", param_str(call, "name"),
			    "the cgroup has controllers enabled for children and cannot take processes");
	else if (strcmp(how, "systemd") == 0 && r == -ECANCELED)
		call_errorf(call, CGERR_TIMEOUT, NULL, NULL,
			    "cgctld is stopping: the systemd user manager had not answered whether it moved "
			    "process %d", (int)pid);
	else if (strcmp(how, "systemd") == 0 && r == -EAGAIN)
		call_errorf(call, CGERR_BUSY, "name", param_str(call, "name"),
			    "the kernel refused to move process %d, and %d requests to the systemd user manager "
			    "are already in flight; try again", (int)pid, ATTACH_SYSTEMD_MAX);
	else if (strcmp(how, "systemd") == 0 && attach_no_systemd(r))
		call_errorf(call, CGERR_PERMISSION_DENIED, NULL, NULL,
			    "the kernel refused to move process %d: its cgroup and cgctld's meet at a cgroup "
			    "that is not the user's (cgroup v2's common ancestor rule), and without systemd "
			    "nobody can move it for us. Run the command from a shell that root placed in a "
			    "cgroup the user owns, below the directory delegated to the user (README.md, "
			    "\"No systemd\").", (int)pid);
	else if (strcmp(how, "systemd") == 0 && (r == -ENOENT || r == -ECONNREFUSED || r == -ENOMEDIUM))
		call_errorf(call, CGERR_PERMISSION_DENIED, NULL, NULL,
			    "the kernel refused to move process %d: the common ancestor of its cgroup and ours "
			    "is not ours to write (a process in a login session scope?), and no systemd user "
			    "manager was reachable to do it for us (tried $XDG_RUNTIME_DIR/systemd/private and "
			    "the session bus). " ATTACH_ADVICE, (int)pid);
	else if (strcmp(how, "systemd") == 0)
		call_errorf(call, CGERR_PERMISSION_DENIED, NULL, NULL,
			    "the kernel refused to move process %d: the common ancestor of its cgroup and ours "
			    "is not ours to write (a process in a login session scope?), and the systemd user "
			    "manager could not move it either (%s). " ATTACH_ADVICE, (int)pid, strerror(-r));
	else
		call_error_errno(call, r, "attach process %d", (int)pid);
}

/* Is the process behind pidfd still alive (so its pid was not reused)? ENOSYS: cannot tell, assume so. */
static bool attach_pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno == ENOSYS || errno == EPERM;
}

/* A tenant's process leaves only the tenant's own entries, or comes from outside the managed root. */
static int attach_source_ok(struct call *call, pid_t pid, const char **ret_why)
{
	struct manager *m = call_manager(call);
	_cleanup_free_ char *cg = NULL, *abs = NULL;
	size_t n = strlen(manager_root_path(m));
	int r;

	if (tenant_is_admin(call_peer_uid(call)))
		return 0;
	r = tenant_read_cgroup(pid, &cg);
	if (r >= 0)
		r = discover_join(manager_discovery(m)->mount, manager_discovery(m)->mount_root, cg, &abs);
	if (r == -EXDEV)
		return 0; /* outside our cgroup namespace: not below the managed root */
	if (r == -ESRCH)
		return r;
	if (r < 0) {
		*ret_why = "its cgroup cannot be read";
		return -EPERM;
	}
	if (strncmp(abs, manager_root_path(m), n) != 0 || (abs[n] != '/' && abs[n] != '\0'))
		return 0;
	return tenant_may_take_from(call_peer_uid(call), manager_ledger(m), abs[n] ? abs + n + 1 : "", ret_why);
}

/*
 * May the caller move pid, pinned by pidfd (-1: none)? 0, or -errno (-EPERM
 * with *ret_why). What /proc says is the pidfd's process's only if that still
 * lives after the read: a pid is not reused before its process is reaped.
 */
static int attach_verify(struct call *call, int pidfd, pid_t pid, const char **ret_why)
{
	struct tenant_proc p;
	int r = tenant_read_proc(pid, &p);

	*ret_why = NULL;
	if (r < 0 && r != -ESRCH)
		*ret_why = "its /proc entry cannot be read";
	if (r < 0)
		return r == -ESRCH ? r : -EPERM;
	r = tenant_may_move(call_peer_uid(call), pid, &p, ret_why);
	if (r >= 0)
		r = attach_source_ok(call, pid, ret_why);
	if (pidfd >= 0 && !attach_pidfd_alive(pidfd))
		return -ESRCH;
	return r;
}

/* Pin every pid with a pidfd (-1 where the kernel has none), then check them all. false once answered. */
static bool attach_pin_and_verify(struct call *call, const pid_t *pids, int *pidfds, size_t npids, size_t n)
{
	for (size_t i = 0; i < npids; i++) {
		pidfds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		/* Not a thread-group leader: EINVAL before Linux 6.9, ENOENT since. */
		if (pidfds[i] < 0 && (errno == EINVAL || errno == ENOENT)) {
			call_errorf(call, CGERR_INVALID_VALUE, "field", "pids",
				    "%d is a thread, not a process: give its process id", (int)pids[i]);
			return false;
		}
		if (pidfds[i] < 0 && errno != ENOSYS) {
			attach_error(call, pids[i], -errno, "kernel", NULL);
			return false;
		}
	}
	for (size_t i = 0; i < n; i++) {
		const char *why;
		int r = attach_verify(call, pidfds[i], pids[i], &why);

		if (r < 0) {
			attach_error(call, pids[i], r, "check", why);
			return false;
		}
	}
	return true;
}

/*
 * Pids are read in our pid namespace: from a client in one below ours (a
 * container's) they would name other processes than it means, and so from
 * one we cannot see at all (SO_PEERCRED's pid 0: a namespace above ours, as
 * when cgctld runs in a container, or beside it), where our numbers are not
 * its. The namespace is the connecting process's, read at accept through
 * SO_PEERPIDFD: a child that inherited the socket after it left cannot pass
 * off its numbers as ours. Such a client passes pidfds. false once answered.
 */
static bool attach_pids_ours(struct call *call)
{
	const struct conn *c = call_conn(call);
	pid_t peer = conn_pid(c);
	int ns = conn_pidns(c);

	if (ns == 0)
		return true;
	if (peer == 0)
		call_errorf(call, CGERR_INVALID_VALUE, "field", "pids",
			    "you are in a pid namespace cgctld cannot see (it runs in a pid namespace of its own), "
			    "where these numbers name other processes: pass pidfds instead (cgctl attach --pidfd)");
	else if (ns > 0)
		call_errorf(call, CGERR_INVALID_VALUE, "field", "pids",
			    "you are in another pid namespace than cgctld (pid %d here), where these numbers name "
			    "other processes: pass pidfds instead (cgctl attach --pidfd)", (int)peer);
	else
		call_errorf(call, CGERR_INVALID_VALUE, "field", "pids",
			    "the process that connected (pid %d here) was gone before cgctld could see its pid "
			    "namespace (%s), so these numbers may name other processes: pass pidfds instead "
			    "(cgctl attach --pidfd)", (int)peer, strerror(-ns));
	return false;
}

/* Check every pid and pidfd before anything moves; fill pids[] and pidfds[]. false once answered. */
static bool attach_collect(struct call *call, pid_t *pids, int *pidfds, size_t *ret_n)
{
	json_object *arr = param_obj(call, "pids");
	json_object *nf = param_obj(call, "pidfds");
	size_t npids = arr ? json_object_array_length(arr) : 0;
	int64_t nfds = nf ? json_object_get_int64(nf) : 0;
	size_t nsent;
	const int *sent = call_fds(call, &nsent);

	if (nfds < 0 || (size_t)nfds != nsent || npids + nsent == 0 || npids + nsent > ATTACH_PIDS_MAX) {
		call_errorf(call, CGERR_INVALID_VALUE, "field", "pids",
			    "give 1..%d pids and/or pidfds (pidfds must count the descriptors sent: %zu)",
			    ATTACH_PIDS_MAX, nsent);
		return false;
	}
	if (npids > 0 && !attach_pids_ours(call))
		return false;
	for (size_t i = 0; i < npids; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		int64_t p = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;

		if (p <= 0 || p > 4194304) {
			call_errorf(call, CGERR_INVALID_VALUE, "field", "pids", "not a pid: %s", json_object_to_json_string(v));
			return false;
		}
		pids[i] = (pid_t)p;
	}
	for (size_t i = 0; i < nsent; i++) {
		int r = attach_pidfd_to_pid(sent[i], &pids[npids + i]);

		if (r >= 0 && !attach_pidfd_alive(sent[i]))
			r = -ESRCH;
		if (r < 0) {
			call_errorf(call, CGERR_INVALID_VALUE, "field", "pidfds", "descriptor %zu: %s", i,
				    r == -ESRCH ? "the process has exited" :
				    r == -EINVAL ? "a thread's pidfd, not its process's: give the process's pidfd" :
						   "not a pidfd");
			return false;
		}
		pidfds[npids + i] = sent[i];
	}
	*ret_n = npids + nsent;
	return attach_pin_and_verify(call, pids, pidfds, npids, *ret_n);
}

/* An Attach under way: pids move one by one, in order; systemd's moves are waited for in the loop. */
struct attach_op {
	struct call *call;
	char *rel;
	int fd;           /* the cgroup's verified directory */
	pid_t *pids;      /* the given pids, then those behind the pidfds */
	int *pidfds;      /* pinning each: ours for the pids (-1: none), the call's after */
	size_t n, npids, i;
	json_object *attached;
};

/* Free op (the call is answered by then). */
static void attach_op_free(struct attach_op *op)
{
	json_object_put(op->attached);
	if (op->fd >= 0)
		close(op->fd);
	for (size_t i = 0; op->pidfds && i < op->npids; i++)
		closep(&op->pidfds[i]);
	free(op->pidfds);
	free(op->pids);
	free(op->rel);
	free(op);
}

/* Pid i moved (r >= 0) or not: record it, or answer. false once answered and op freed. */
static bool attach_op_moved(struct attach_op *op, int r, const char *how, const char *why)
{
	struct call *call = op->call;
	size_t i = op->i;

	/* A pidfd pins its process: still alive after the move means pid was not reused. */
	if (r >= 0 && op->pidfds[i] >= 0 && !attach_pidfd_alive(op->pidfds[i])) {
		log_warnx("attach to %s: process %d exited while it was moved; if its pid was reused at once, "
			  "the newcomer was moved", param_str(call, "name"), (int)op->pids[i]);
		r = -ESRCH;
	}
	if (r >= 0) {
		json_object_array_add(op->attached, json_object_new_int(op->pids[i]));
		return true;
	}
	if (i > 0)
		log_notice("attach to %s: %zu process(es) moved before pid %d failed", param_str(call, "name"), i,
			   (int)op->pids[i]);
	attach_error(call, op->pids[i], r, how, why);
	attach_op_free(op);
	return false;
}

static void attach_op_systemd_cb(void *arg, int r);

/* Move the remaining pids until one waits for systemd; answer when all moved. */
static void attach_op_step(struct attach_op *op)
{
	struct call *call = op->call;
	json_object *p;
	bool durable;

	for (; op->i < op->n; op->i++) {
		const char *how = "check", *why = NULL;
		/* Again just before the write: an earlier move may have waited for systemd meanwhile. */
		int r = attach_verify(call, op->pidfds[op->i], op->pids[op->i], &why);

		if (r >= 0)
			r = attach_pid(call_manager(call), op->fd, op->rel, op->pids[op->i], attach_op_systemd_cb, op,
				       &how);
		if (r > 0)
			return; /* attach_op_systemd_cb() goes on */
		if (!attach_op_moved(op, r, how, why))
			return;
	}
	log_op(LOG_INFO, "attach", param_str(call, "name"), "attached %zu process(es) to %s", op->n,
	       param_str(call, "name"));
	/* An auto_remove entry's "has had processes" must survive a crash right after this answer. */
	durable = op->n > 0 && events_attached(call_manager(call), param_str(call, "name"));
	events_refresh(call_manager(call), param_str(call, "name"));
	p = json_object_new_object();
	json_object_object_add(p, "attached", TAKE_PTR(op->attached));
	if (durable)
		call_reply_durable(call, p);
	else
		call_reply(call, p);
	attach_op_free(op);
}

/* The systemd user manager answered for pid i (or did not, in time). */
static void attach_op_systemd_cb(void *arg, int r)
{
	struct attach_op *op = arg;

	/* A client that hung up meanwhile still holds its call: the answer goes into the void. */
	if (!attach_op_moved(op, r, "systemd", NULL))
		return;
	op->i++;
	/*
	 * Nobody waits for the rest: stop rather than ask systemd for each further
	 * pid, or a client could hang up and reconnect to keep the daemon's bounded
	 * pool of systemd requests busy on its behalf.
	 */
	if (op->i < op->n && call_peer_gone(op->call)) {
		log_notice("attach to %s: client gone; stopped after %zu of %zu process(es)",
			   param_str(op->call, "name"), op->i, op->n);
		/* A half-closed client still reads this: it says what happened. */
		call_error_errno(op->call, -ECONNRESET, "attach to %s: the client hung up; stopped after %zu of %zu process(es)",
				 param_str(op->call, "name"), op->i, op->n);
		attach_op_free(op);
		return;
	}
	attach_op_step(op);
}

/* Attach(name, pids?, pidfds?) -> (attached) */
void method_attach(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, true }, { "pids", json_type_array, false },
		{ "pidfds", json_type_int, false }, PARAM_END,
	};
	struct attach_op *op;

	op = calloc(1, sizeof(*op));
	if (!op) {
		call_error_errno(call, -ENOMEM, "attach");
		return;
	}
	op->call = call;
	op->fd = -1;
	if (!params_check(call, specs) || !call_lookup(call, NULL, &op->rel) || !call_open_verified(call, &op->fd)) {
		attach_op_free(op);
		return;
	}
	op->pids = calloc(ATTACH_PIDS_MAX + 1, sizeof(pid_t));
	op->pidfds = malloc((ATTACH_PIDS_MAX + 1) * sizeof(int));
	op->attached = json_object_new_array();
	if (!op->pids || !op->pidfds || !op->attached) {
		call_error_errno(call, -ENOMEM, "attach");
		attach_op_free(op);
		return;
	}
	/* Every pid and pidfd is checked before anything moves. */
	for (size_t i = 0; i <= ATTACH_PIDS_MAX; i++)
		op->pidfds[i] = -1;
	/* Known before collecting: attach_op_free() closes the pidfds opened so far. */
	op->npids = json_object_is_type(param_obj(call, "pids"), json_type_array)
			    ? json_object_array_length(param_obj(call, "pids")) : 0;
	if (op->npids > ATTACH_PIDS_MAX)
		op->npids = ATTACH_PIDS_MAX;
	if (!attach_collect(call, op->pids, op->pidfds, &op->n)) {
		attach_op_free(op);
		return;
	}
	attach_op_step(op);
}

/* SetResources(name, resources) -> () */
void method_set_resources(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, true }, { "resources", json_type_object, true }, PARAM_END,
	};
	_cleanup_close_ int fd = -1;
	struct ledger_entry *le;
	struct op_error e;

	/* A limit binds the whole subtree: a tenant's would bind another's entry below its own. */
	if (!params_check(call, specs) || !call_entry(call, &le) || !call_subtree_own(call, "a limit on it") ||
	    !call_open_verified(call, &fd))
		return;
	if (manager_check_tenant_resources(call_manager(call), call_peer_uid(call), param_str(call, "name"),
					   param_obj(call, "resources"), &e) < 0) {
		call_op_error(call, &e);
		return;
	}
	if (manager_apply_resources(call_manager(call), fd, param_str(call, "name"), param_obj(call, "resources"),
				    &e) < 0) {
		call_op_error(call, &e);
		return;
	}
	log_op(LOG_INFO, "set-resources", param_str(call, "name"), "set resources of %s: %s",
	       param_str(call, "name"), json_object_to_json_string(param_obj(call, "resources")));
	events_emit(call_manager(call), "limits", param_str(call, "name"),
		    json_object_get(param_obj(call, "resources")));
	call_reply(call, NULL);
}

/* GetStats(name) -> (stats) */
void method_get_stats(struct call *call)
{
	static const struct param_spec specs[] = { { "name", json_type_string, true }, PARAM_END };
	_cleanup_close_ int fd = -1;
	json_object *st, *p;
	int r;

	if (!params_check(call, specs) || !call_open_verified(call, &fd))
		return;
	/* What GetStats says, List says too. */
	events_refresh(call_manager(call), param_str(call, "name"));
	r = stats_collect(fd, "", &st);
	if (r < 0) {
		call_error_errno(call, r, "read statistics of \"%s\"", param_str(call, "name"));
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "stats", st);
	call_reply(call, p);
}

/* Freeze/Thaw finished (or timed out). */
static void freeze_done_cb(void *arg, int r)
{
	struct call *call = arg;
	bool freeze = strstr(call_method(call), "Freeze") != NULL;

	if (r == -ETIMEDOUT || r == -ECANCELED)
		call_errorf(call, CGERR_TIMEOUT, NULL, NULL, "\"%s\" did not reach the %s state in time",
			    param_str(call, "name"), freeze ? "frozen" : "thawed");
	else if (r < 0)
		call_error_errno(call, r, "wait for \"%s\"", param_str(call, "name"));
	else {
		/* List and Watch know it before the client does. */
		events_confirm_frozen(call_manager(call), param_str(call, "name"), freeze);
		call_reply(call, NULL);
	}
}

/* Write cgroup.freeze and wait for cgroup.events to confirm. */
static void freeze_or_thaw(struct call *call, bool freeze)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, true }, { "timeout_ms", json_type_int, false }, PARAM_END,
	};
	_cleanup_free_ char *rel = NULL;
	_cleanup_close_ int fd = -1;
	struct manager *m = call_manager(call);
	int timeout, r;

	if (!params_check(call, specs) || !param_timeout(call, &timeout) || !call_lookup(call, NULL, &rel) ||
	    (freeze && !call_subtree_own(call, "freezing it")) || !call_open_verified(call, &fd) ||
	    (freeze && !call_subtree_proven(call)))
		return;
	r = cgfs_write(fd, "cgroup.freeze", freeze ? "1" : "0");
	if (r == -ENOENT) {
		call_errorf(call, CGERR_CONTROLLER_UNAVAILABLE, "controller", "freezer",
			    "this kernel has no cgroup.freeze (cgroup v2 freezer needs Linux 5.2)");
		return;
	}
	if (r < 0) {
		call_error_errno(call, r, "write cgroup.freeze of \"%s\"", param_str(call, "name"));
		return;
	}
	r = evwait_start(m, rel, freeze ? EVWAIT_FROZEN : EVWAIT_THAWED, timeout, freeze_done_cb, call);
	if (r < 0)
		call_error_errno(call, r, "watch \"%s\"", param_str(call, "name"));
}

/* Freeze(name, timeout_ms?) -> () */
void method_freeze(struct call *call)
{
	freeze_or_thaw(call, true);
}

/* Thaw(name, timeout_ms?) -> () */
void method_thaw(struct call *call)
{
	freeze_or_thaw(call, false);
}

/* Kill(name, signal?, timeout_ms?) -> () */
void method_kill(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, true }, { "signal", json_type_int, false },
		{ "timeout_ms", json_type_int, false }, PARAM_END,
	};
	_cleanup_close_ int fd = -1;
	struct ledger_entry *le;
	json_object *s;
	int sig = SIGKILL, timeout, r;

	/* timeout_ms is accepted (and checked) for symmetry; signalling does not wait. */
	if (!params_check(call, specs) || !param_timeout(call, &timeout))
		return;
	s = param_obj(call, "signal");
	if (s) {
		int64_t v = json_object_get_int64(s);
		if (v < 1 || v > SIGRTMAX) {
			call_errorf(call, CGERR_INVALID_VALUE, "field", "signal", "no signal %lld", (long long)v);
			return;
		}
		sig = (int)v;
	}
	if (!call_entry(call, &le) || !call_subtree_own(call, "signalling it") || !call_open_verified(call, &fd) ||
	    !call_subtree_proven(call))
		return;
	/* Through the verified directory: a replacement after the check is not reached. */
	r = sig == SIGKILL ? cgkill_start(fd, "") : cgkill_signal(fd, "", sig);
	if (r < 0) {
		call_error_errno(call, r, "signal the processes of \"%s\"", param_str(call, "name"));
		return;
	}
	log_op(LOG_INFO, "kill", param_str(call, "name"), "sent signal %d to %s", sig, param_str(call, "name"));
	call_reply(call, NULL);
}

/* OpenCgroup(name) -> (name, path, fd) with the directory fd as SCM_RIGHTS. */
void method_open_cgroup(struct call *call)
{
	static const struct param_spec specs[] = { { "name", json_type_string, true }, PARAM_END };
	_cleanup_free_ char *abs = NULL;
	struct manager *m = call_manager(call);
	json_object *p;
	int fd;

	/* The client gets exactly the directory that was verified. */
	if (!params_check(call, specs) || !call_open_verified(call, &fd))
		return;
	abs = manager_abs_path(m, param_str(call, "name"));
	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(param_str(call, "name")));
	json_object_object_add(p, "path", json_object_new_string(abs ? abs : ""));
	json_object_object_add(p, "fd", json_object_new_int(0));
	call_reply_fd(call, p, fd);
}
