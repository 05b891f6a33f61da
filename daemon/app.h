/* SPDX-License-Identifier: MIT */
/* app.h: the glue binding the Varlink transport (server.h) to the domain (manager, ledger's committer). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

struct call;
struct commit;
struct event_base;
struct manager;
struct manager_options;
struct server;
struct snapshot_job;
struct watcher;

/* What the transport serves: the caller gives srv (configured), app_open() and app_start() the rest. */
struct app {
	struct manager *mgr;
	struct commit *commit; /* group commit of durable replies */
	struct server *srv;
	struct event_base *base;
	struct watcher *watchers; /* the Watch streams (watch.c) */
	unsigned n_watchers;
	struct snapshot_job *snapshots; /* Snapshots being built (snapshot.c) */
};

/* The transport's view of the application: dispatch, disconnect (watchers, leases), busy. */
extern const struct server_ops app_server_ops;

/*
 * The daemon's start-up, for main.c and the request fuzzer alike: a manager
 * on mo's subtree and ledger (a->mgr), reconciled with the tree before
 * anything is served. 0, or -errno with a log line saying what failed.
 */
int app_open(struct app *a, const struct manager_options *mo);
/*
 * Then serve it: an event loop (a->base), the socket (sock; private_dir: our
 * default location, whose directory must be ours), the ledger's group commit,
 * the transport bound to app_server_ops, the manager's watches, the domain's
 * events streamed to Watch calls, the entries tracked. 0, or -errno with a log line.
 */
int app_start(struct app *a, const char *sock, bool private_dir);
/*
 * Undo app_open() and app_start() (either may have failed half-way): end the
 * streams, answer every call waiting for durability, then close the
 * connections (leases of those still open are kept: the next start releases
 * them), the manager and the loop.
 */
void app_stop(struct app *a);

/* The socket's private directory must be one we may trust (trust.h), for server.dir_check. */
int app_socket_dir_check(const struct stat *st, const char *path, char *why, size_t n);
/* The application serving call. */
struct app *call_app(const struct call *call);
