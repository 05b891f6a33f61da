/* SPDX-License-Identifier: MIT */
/*
 * conn_internal.h: struct conn and struct call, seen only by the transport
 * (conn.c, server.c). Everyone else uses conn.h's accessors, and
 * scripts/check-layers.sh fails when another daemon file includes this header
 * or reaches into a call or a connection.
 */
#pragma once

#include "conn.h"

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
	bool tenant;            /* the application's say when it was adopted (server_ops.tenant) */
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
