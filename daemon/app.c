/* SPDX-License-Identifier: MIT */
/* app.c: the glue binding the Varlink transport to the domain: the server's ops. */
#include "app.h"

#include <errno.h>
#include <event2/event.h>

#include "commit.h"
#include "dispatch.h"
#include "events.h"
#include "lease.h"
#include "log.h"
#include "manager.h"
#include "server.h"
#include "tenant.h"
#include "trust.h"
#include "watch.h"

/* A call arrived: route it to its handler. */
static void app_dispatch(void *userdata, struct call *call)
{
	dispatch_call(call);
}

/* A connection is gone: its watchers end, its leased cgroups go. */
static void app_disconnect(void *userdata, struct conn *c)
{
	struct app *a = userdata;

	watch_conn_closed(a, c);
	lease_conn_closed(a, c);
}

/* Something needs the daemon awake: pending work, watchers, entries, or a commit. */
static bool app_busy(void *userdata)
{
	struct app *a = userdata;

	return manager_busy(a->mgr) || watch_count(a) > 0 || (a->commit && commit_busy(a->commit));
}

/* A tenant (tenant.h) holds only its share of the connections. */
static bool app_tenant(void *userdata, uid_t uid)
{
	return !tenant_is_admin(uid);
}

/* The transport's view of the application. */
const struct server_ops app_server_ops = {
	.dispatch = app_dispatch,
	.disconnect = app_disconnect,
	.busy = app_busy,
	.tenant = app_tenant,
};

/* The socket's directory: ours (a loose group or world bit is chmod'ed away), its parents as the state directory's. */
int app_socket_dir_check(const struct stat *st, const char *path, char *why, size_t n)
{
	int r = trust_check_dir(st, path, 1, why, n);

	return r < 0 ? r : trust_check_parents(path, why, n);
}

struct app *call_app(const struct call *call)
{
	return server_app(call_server(call));
}

/* Set up the domain and reconcile it with the tree. */
int app_open(struct app *a, const struct manager_options *mo)
{
	int r;

	a->mgr = manager_new();
	if (!a->mgr)
		return log_error_errno(-ENOMEM, "not started");
	r = manager_init(a->mgr, mo);
	if (r < 0)
		return log_error_errno(r, "not started: cannot set up the managed subtree and the ledger");
	/* Serving before ledger and tree agree (or with a ledger that cannot be synced) breaks its promises. */
	r = manager_reconcile(a->mgr);
	if (r < 0)
		return log_error_errno(r, "not started: reconciling the ledger with the cgroup tree failed");
	return 0;
}

/* Loop, socket, group commit, transport, watches, events: in that order. */
int app_start(struct app *a, const char *sock, bool private_dir)
{
	int r;

	a->base = event_base_new();
	if (!a->base || event_base_priority_init(a->base, SERVER_N_PRIOS) < 0)
		return log_error_errno(-ENOMEM, "not started: cannot create the event loop");
	r = server_listen(a->srv, sock, private_dir);
	if (r < 0)
		return log_error_errno(r, "not started: cannot listen on %s", sock);
	r = commit_new(a->base, SERVER_PRIO_COMMIT, manager_ledger(a->mgr), &a->commit);
	if (r < 0)
		return log_error_errno(r, "not started: cannot start the ledger's group commit");
	r = server_start(a->srv, a->base, &app_server_ops, a);
	if (r < 0)
		return log_error_errno(r, "not started: cannot serve the socket");
	r = manager_start(a->mgr, a->base);
	if (r < 0)
		return log_error_errno(r, "not started: cannot watch the cgroup tree (inotify)");
	watch_init(a);
	events_startup(a->mgr);
	return 0;
}

/* Everything app_open() and app_start() began, in reverse. */
void app_stop(struct app *a)
{
	if (a->base) {
		snapshot_stop(a);
		watch_stop(a);
		events_stop(a->mgr);
		manager_stop(a->mgr);
		/* Answer every call waiting for durability before the connections go. */
		a->commit = commit_free(a->commit);
		server_stop(a->srv);
	}
	a->mgr = manager_free(a->mgr);
	if (a->base)
		event_base_free(a->base);
	a->base = NULL;
}
