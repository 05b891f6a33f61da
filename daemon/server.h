/* SPDX-License-Identifier: MIT */
/* server.h: the Varlink transport's listening socket, accepted connections and limits. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "conn.h"

struct event_base;
struct peer_uid;

/*
 * How the transport reaches the application it serves (app is the pointer
 * given to server_start()); it knows nothing else of it.
 */
struct server_ops {
	/* A call arrived: answer it with call_reply() or a sibling, now or later. */
	void (*dispatch)(void *app, struct call *call);
	/*
	 * Connection c is gone: called once, on a loop turn after it was closed,
	 * never from inside a call_*() or conn_close(); its data (conn_get_data()) is
	 * the application's to release. Calls still open on it are answered into the void.
	 */
	void (*disconnect)(void *app, struct conn *c);
	/* Idle exit: true while the application needs the daemon awake. NULL: never. */
	bool (*busy)(void *app);
	/* Is uid a tenant, held to limits.conns_per_tenant rather than conns_per_uid? NULL: nobody is. */
	bool (*tenant)(void *app, uid_t uid);
};

/*
 * Judge the directory the socket goes in (path; st of it as opened without
 * following a link, else as lstat'ed) when it must be private: 0, or -errno
 * with why filled.
 */
typedef int (*server_dir_check_fn)(const struct stat *st, const char *path, char *why, size_t n);

/* Limits on what a client controls; each has a command-line flag. */
/* Default of limits.triggers_per_uid (--max-pressure-triggers-per-uid): a per-uid cap like the others. */
#define SERVER_TRIGGERS_PER_UID_DEFAULT 64
/* Default of limits.reply_mem_max (--max-reply-memory). */
#define SERVER_REPLY_MEM_DEFAULT (256u * 1024 * 1024)

struct limits {
	size_t message_max;     /* bytes of one message */
	size_t out_max;         /* queued reply bytes of one connection before we stop reading it */
	size_t reply_mem_max;   /* ...of all the connections of one administrator uid (root, ours) */
	size_t reply_mem_per_tenant; /* ...of one tenant's; 0: reply_mem_max / (tenants + 1) (server_limits_resolve()) */
	unsigned conns_max;     /* connections in total */
	unsigned conns_per_uid; /* connections of one uid */
	unsigned conns_per_tenant; /* of one tenant: also at most conns_max / (tenants + 1) (server_limits_resolve()) */
	unsigned triggers_per_uid; /* PSI triggers of one uid's Watch streams */
	unsigned partial_timeout_ms; /* time without progress on an incomplete message or unread replies */
	uint64_t budget_log_usec; /* at most one log line per uid this often about its reply budget */
};

#define UID_ALLOW_MAX 16
/* event_base priorities: commits run only when nothing else is ready. */
#define SERVER_N_PRIOS 3
#define SERVER_PRIO_COMMIT 2

/*
 * A transport with the default limits, listening nowhere yet: configure it
 * (server_limits(), server_allow_uid()...), then server_listen() and
 * server_start(). NULL when out of memory.
 */
struct server *server_new(void);
/* server_stop() it and free it (NULL: nothing). */
void server_free(struct server *s);
/* Its limits, to be set before server_start() (the options, server_limits_resolve(), a test). */
struct limits *server_limits(struct server *s);
/* Let uid in besides root and our own uid (--allow-uid): 0, or -E2BIG past UID_ALLOW_MAX. */
int server_allow_uid(struct server *s, uid_t uid);
/* The uids let in by server_allow_uid(), *ret_n of them. */
const uid_t *server_allowed_uids(const struct server *s, size_t *ret_n);
/* Exit after ms without a connection (socket activation only; 0, the default: never). */
void server_set_idle_timeout(struct server *s, unsigned ms);
/* How server_listen() judges an existing private directory (NULL, the default: any will do). */
void server_set_dir_check(struct server *s, server_dir_check_fn check);
/* The socket path it bound, NULL when systemd passed the socket (or before server_listen()). */
const char *server_socket_path(const struct server *s);
/* Default limits. */
void server_limits_default(struct limits *l);
/*
 * Listen: the socket systemd passed (sd_listen_fds), else bind path
 * (directory created 0700, socket 0600; a stale socket replaced, a live one
 * refused with -EADDRINUSE). With private_dir (our default location) an
 * existing directory must be ours and is made 0700. 0 or -errno.
 */
int server_listen(struct server *s, const char *path, bool private_dir);
/*
 * Start accepting on base, serving the application app through ops; without
 * server_listen() it serves only what server_adopt() hands it. 0 or -errno.
 */
int server_start(struct server *s, struct event_base *base, const struct server_ops *ops, void *app);
/* The application given to server_start(). */
void *server_app(const struct server *s);
/* Close every connection and the listener; unlink the socket we bound. */
void server_stop(struct server *s);
/*
 * Serve the connected socket fd of (uid, pid) as a connection: what
 * accepting does after its checks (a test hands it one end of a socketpair).
 * NULL on failure (fd closed).
 */
struct conn *server_adopt(struct server *s, int fd, uid_t uid, pid_t pid);
/* (Re)start the idle-exit timer if it applies. */
void server_idle_arm(struct server *s);
/* Number of open connections. */
unsigned server_conn_count(const struct server *s);
/* Number of open connections of uid. */
unsigned server_conn_count_of(const struct server *s, uid_t uid);
/* What uid's connections hold of their reply budget (none open: zeros). */
struct server_reply_use {
	size_t unread;    /* reply bytes queued unsent on all of them */
	size_t budget;    /* server_reply_budget() */
	uint64_t over;    /* times it went over the budget since its first connection */
};
void server_reply_use(const struct server *s, uid_t uid, struct server_reply_use *ret);
/*
 * After the options, given how many of the allowed uids are tenants: raise
 * the soft RLIMIT_NOFILE to the hard one (epoll has no FD_SETSIZE), lower
 * --max-connections when even that cannot hold what the clients may make us
 * keep open (SERVER_FDS_PER_CONN each, and their pressure triggers), and set
 * a tenant's connection cap, so that all tenants together leave
 * administrators a share. Logs what it lowered.
 */
void server_limits_resolve(struct server *s, unsigned tenants);
/* Descriptors one connection may make us hold: its socket (twice while a call waits behind a stream: conn.c's
 * hang-up watch), those its pending call passed, those of unsent replies. */
#define SERVER_FDS_PER_CONN (2u + CONN_IN_FDS_MAX + CONN_OUT_FDS_MAX)
/* Descriptors kept free for the daemon's own work (ledger, cgroup directories, pidfds, accept's reserve). */
#define SERVER_FDS_RESERVE 256u
