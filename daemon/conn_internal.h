/* SPDX-License-Identifier: MIT */
/*
 * conn_internal.h: struct conn and struct call, seen only by the transport
 * (conn.c, conn_reply.c, server.c), with what server.c lends them of struct server (which
 * is server.c's alone). Everyone else uses conn.h's accessors, and
 * scripts/check-layers.sh fails when another daemon file includes this header
 * or reaches into a call or a connection.
 */
#pragma once

#include <event2/util.h>

#include "conn.h"

/* What the connections of one uid hold together (server.c keeps one while the uid has a connection). */
struct peer_uid {
	struct peer_uid *next;
	uid_t uid;
	bool tenant;            /* the application's say (server_ops.tenant) */
	unsigned conns;         /* listed connections */
	size_t reply_bytes;     /* reply bytes queued unsent on all of them */
	uint64_t over;          /* times it went over its reply budget */
	uint64_t over_logged;   /* ...as of the last log line about it */
	uint64_t logged_usec;   /* when that line was written (0: never) */
};

/* The record of uid, made with its first connection; NULL when out of memory. */
struct peer_uid *server_peer_ref(struct server *s, uid_t uid);
/* A connection of p's is gone from the list: the last one frees p. */
void server_peer_unref(struct server *s, struct peer_uid *p);
/* How many unsent reply bytes p's connections may hold before none of them is served. */
size_t server_reply_budget(const struct server *s, const struct peer_uid *p);
/* p went back under its budget: its connections may be served again (on the next loop turn). */
void server_peer_resume(struct server *s, const struct peer_uid *p);
/* The loop s serves on (NULL before server_start()). */
struct event_base *server_base(const struct server *s);
/* List the new connection c: its number. */
uint64_t server_conn_add(struct server *s, struct conn *c);
/* On the loop turn after c closed: unlist it, tell the application (server_ops.disconnect). */
void server_conn_gone(struct server *s, struct conn *c);
/* Hand call to the application (server_ops.dispatch). */
void server_dispatch(struct server *s, struct call *call);
/* The record of replies (replylog.h), -1 when off. */
int server_reply_log_fd(const struct server *s);

/* A call being served (conn.h). */
struct call {
	struct conn *conn;
	struct vl_call vl;
	int *fds;    /* descriptors that came with the call, owned */
	size_t nfds;
};

/* One client connection (conn.h). */
struct conn {
	struct server *srv;
	uint64_t id;
	int fd;
	uid_t uid;
	pid_t pid;
	int pidns; /* nspid_of_peer() when it connected */
	bool tenant;            /* the application's say when it was adopted (server_ops.tenant) */
	struct peer_uid *peer;  /* its uid's shared figures (the reply budget) */
	unsigned refs;
	bool dead;              /* closed: nothing more is read or sent */
	struct event *rev, *wev, *pev;
	struct event *gone_ev;  /* the loop turn after closing: tell the server, drop our reference */
	struct event *hev;      /* peer hang-up during a stream while nothing unread waits: readable means hang-up or reset */
	/* The same while a call sent behind the stream waits unread: edge-triggered, on a duplicate of fd
	 * (conn.c: conn_watch_behind()); -1 and NULL while not watching. */
	int cev_fd;
	struct event *cev;
	struct event *yield_ev; /* zero timer: its share spent, the connection goes on after the next poll */
	bool yielded;
	struct vl_framer in;
	int in_fds[CONN_IN_FDS_MAX];
	size_t n_in_fds;
	TAILQ_HEAD(, out_msg) out;
	size_t out_bytes;       /* unsent reply bytes, also counted in peer->reply_bytes */
	unsigned out_fds;   /* descriptors in queued replies (OpenCgroup), not yet sent */
	struct call *current;
	struct event *deadline; /* stall timer: no progress on a partial message or unread replies */
	int outq_mark;          /* bytes the socket held when the timer started (-1: unknown) */
	size_t flushed;         /* reply bytes written into the socket since then */
	TAILQ_ENTRY(conn) entry;
	void *data;             /* the application's (conn_set_data()) */
};

/* Shared by conn.c (reading, calls, the stall timer) and conn_reply.c (replies). */

/* Drop a reference; the last one frees the connection. */
void conn_unref(struct conn *c);
/* The stall timer measures time without progress while we wait on the client:
 * progress (a message completed, reply bytes taken) starts it over; bytes that
 * complete nothing (a trickled partial message) do not. */
void conn_update_deadline(struct conn *c, bool progress);
/* n queued reply bytes of c's went (sent or dropped); back under the uid's budget (or twice it), its connections go on. */
void conn_discharge(struct conn *c, size_t n);
/* Unsent replies hold too many bytes (of this connection's, or of its uid's), or descriptors (each an open file of ours). */
bool conn_backed_up(const struct conn *c);
/*
 * Is c held back by its uid's reply budget? Over it, a connection that holds
 * no unsent reply is still served, until the uid holds twice its budget: the
 * client may await that connection's answer before it reads the others (a
 * deadlock that only the stall timer broke).
 */
bool conn_over_budget(const struct conn *c);
/* Free the replies still queued: nothing more is sent. */
void conn_drop_output(struct conn *c);
/* Writable: flush, then resume reading if the backlog cleared. */
void conn_write_cb(evutil_socket_t fd, short what, void *arg);
