/* SPDX-License-Identifier: MIT */
/* conn.h: one client connection: framing, one call at a time, ordered replies, fds. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "errors.h"
#include "varlink.h"

/* Descriptors a client may pass with one call (more are closed and the connection dropped). */
#define CONN_IN_FDS_MAX 16
/* Replies carrying a descriptor queued unsent before we serve no further calls (back-pressure). */
#define CONN_OUT_FDS_MAX 16

struct server;
struct conn;

/*
 * A call being served. The handler answers with call_reply() (or one of its
 * siblings) now or later; until then the connection reads no further call,
 * so replies always come in request order. A call whose connection went away
 * is still answered (into the void) so handlers never see freed memory.
 */
struct call {
	struct conn *conn;
	struct vl_call vl;
	int *fds;    /* descriptors that came with the call, owned */
	size_t nfds;
	void *userdata;                 /* the handler's, for deferred work */
};

struct conn {
	struct server *srv;
	uint64_t id;
	int fd;
	uid_t uid;
	pid_t pid;
	unsigned refs;
	bool dead;              /* closed: nothing more is read or sent */
	struct event *rev, *wev, *pev;
	struct event *gone_ev;  /* the loop turn after closing: tell the server, drop our reference */
	struct event *cev;      /* peer hang-up while a call is pending (we are not reading) */
	struct vl_framer in;
	int in_fds[CONN_IN_FDS_MAX];
	size_t n_in_fds;
	TAILQ_HEAD(, out_msg) out;
	size_t out_bytes;
	unsigned out_fds;   /* descriptors in queued replies (OpenCgroup), not yet sent */
	struct call *current;
	struct event *deadline; /* stall timer: no progress on a partial message or unread replies */
	int outq_mark;          /* bytes the socket held when the timer started (-1: unknown) */
	TAILQ_ENTRY(conn) entry;
	void *data;             /* the application's (conn_set_data()) */
};

/* Take over an accepted socket; NULL on failure (fd closed). The server lists it. */
struct conn *conn_new(struct server *srv, int fd, uid_t uid, pid_t pid);
/*
 * Close the connection: from now on nothing is read or sent, and calls still
 * open are answered into the void. The server (and through it the
 * application) hears of it on the next loop turn, never from inside this
 * call: a handler that makes a connection fail sees no re-entry. Memory goes
 * once no call refers to it.
 */
void conn_close(struct conn *c, const char *why);
/* The deferred part of closing, now (the server stopping runs no further loop turn). */
void conn_reap(struct conn *c);
/* The application's per-connection data (NULL until set). */
void conn_set_data(struct conn *c, void *data);
void *conn_get_data(const struct conn *c);
/* Reply bytes queued and not yet taken by the peer. */
size_t conn_out_bytes(const struct conn *c);

/* Final successful reply (params consumed, may be NULL); frees the call. */
void call_reply(struct call *call, json_object *params);
/* Final reply carrying one fd (SCM_RIGHTS; fd consumed). */
void call_reply_fd(struct call *call, json_object *params, int fd);
/* Streaming reply with "continues": true; the call stays open. 0 or -errno. */
int call_reply_more(struct call *call, json_object *params);
/* Error reply (params consumed, may be NULL); frees the call. */
void call_error(struct call *call, enum cgerr e, json_object *params);
/* Error reply with {key: value, "message": formatted}. */
void call_errorf(struct call *call, enum cgerr e, const char *key, const char *value,
		 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Error reply for a negative errno: SystemError {errno, message}. */
void call_error_errno(struct call *call, int r, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/*
 * True when the client is gone or has hung up while the call was pending
 * (its EOF not read yet: we read no further while a call runs). Consumes nothing.
 */
bool call_peer_gone(const struct call *call);
