/* SPDX-License-Identifier: MIT */
/* app.h: the glue binding the Varlink transport (server.h) to the domain (manager, ledger's committer). */
#pragma once

#include <stddef.h>
#include <sys/stat.h>

struct call;
struct commit;
struct manager;
struct server;
struct watcher;

/* What the transport serves: main.c fills it and hands it to server_start() with app_server_ops. */
struct app {
	struct manager *mgr;
	struct commit *commit; /* group commit of durable replies; main's */
	struct server *srv;
	struct watcher *watchers; /* the Watch streams (watch.c) */
	unsigned n_watchers;
};

/* The transport's view of the application: dispatch, disconnect (watchers, leases), busy. */
extern const struct server_ops app_server_ops;

/* The socket's private directory must be one we may trust (trust.h), for server.dir_check. */
int app_socket_dir_check(const struct stat *st, const char *path, char *why, size_t n);
/* The application serving call. */
struct app *call_app(const struct call *call);
