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
/*
 * Pipelined calls, and microseconds of work, one connection gets before it
 * yields to the other connections until the loop has polled again: one
 * client's flood of calls (each cheap, or each a Snapshot) delays another's
 * call by about one share, not by the whole flood.
 */
#define CONN_TURN_CALLS_MAX 32
#define CONN_TURN_USEC 5000
/*
 * While replies wait unsent (the socket buffer is full), the peer must take
 * this many bytes (or all of them) within each stall timeout: a reader that
 * takes one small reply per timeout would otherwise hold its uid's reply
 * budget, and our memory, for ever.
 */
#define CONN_STALL_MIN_BYTES (64u * 1024)
/* At most one log line per uid per this many microseconds about going over its reply budget. */
#define CONN_BUDGET_LOG_USEC (10u * 1000 * 1000)

struct server;

/*
 * A call being served (opaque: conn_internal.h). The handler answers with
 * call_reply() (or one of its siblings) now or later; until then the
 * connection reads no further call, so replies always come in request order.
 * A call whose connection went away is still answered (into the void) so
 * handlers never see freed memory.
 */
struct call;
/* One client connection (opaque: conn_internal.h). */
struct conn;

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
/* The connection's number, for log lines. */
uint64_t conn_id(const struct conn *c);
/* The peer's pid (SO_PEERCRED when it connected; its uid: call_peer_uid()). */
pid_t conn_pid(const struct conn *c);
/*
 * How many pid namespaces below cgctld's the process that connected lives
 * (nspid_of_peer() at accept): 0 when its pid numbers are ours; > 0 below;
 * < 0 unknown (gone before accept, or in a namespace we cannot see).
 */
int conn_pidns(const struct conn *c);
/* Did the application call the peer's uid a tenant (server_ops.tenant) when it connected? */
bool conn_tenant(const struct conn *c);
/* The call being served, NULL between calls. */
struct call *conn_current(const struct conn *c);
/* Closed (conn_close()): nothing more is read or sent. */
bool conn_closed(const struct conn *c);

/* The connection the call came on. */
struct conn *call_conn(const struct call *call);
/* The server the call came through. */
struct server *call_server(const struct call *call);
/* The peer's uid (SO_PEERCRED when it connected). */
uid_t call_peer_uid(const struct call *call);
/* The call's method, its parameters (an object, borrowed), its "more", "oneway" and "upgrade" flags. */
const char *call_method(const struct call *call);
json_object *call_parameters(const struct call *call);
bool call_more(const struct call *call);
bool call_oneway(const struct call *call);
bool call_upgrade(const struct call *call);
/* A parameter written with a duplicate key, a lone surrogate escape or "\u0000" (vl_call_parse()), NULL for none. */
const char *call_bad_parameter(const struct call *call);
/* The descriptors that came with the call (still the call's: closed when it is answered); their number in *ret_n. */
const int *call_fds(const struct call *call, size_t *ret_n);
/* Close the descriptors that came with the call (they are the call's until it finishes). */
void call_drop_fds(struct call *call);

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
