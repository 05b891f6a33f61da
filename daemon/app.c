/* SPDX-License-Identifier: MIT */
/* app.c: the glue binding the Varlink transport to the domain: the server's ops. */
#include "app.h"

#include "commit.h"
#include "dispatch.h"
#include "events.h"
#include "lease.h"
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

/* The socket's directory: ours, not writable by others (a loose group or world bit is chmod'ed away). */
int app_socket_dir_check(const struct stat *st, const char *path, char *why, size_t n)
{
	return trust_check_dir(st, path, 1, why, n);
}

/* The application serving call. */
struct app *call_app(const struct call *call)
{
	return server_app(call_server(call));
}
