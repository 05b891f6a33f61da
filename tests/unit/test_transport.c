// SPDX-License-Identifier: MIT
/* test_transport.c: Check suite for the Varlink transport (daemon/conn.c, server.c) over a socketpair, with no manager. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/server.h"
#include "testutil.h"

/*
 * The application is this file: its dispatch op records each call and answers
 * it as the test says; its disconnect op counts. Only the transport (and the
 * protocol library) is linked.
 */
#define CALLS_MAX 64
static struct {
	struct call *calls[CALLS_MAX]; /* calls dispatched, in order (answered ones are freed) */
	char methods[CALLS_MAX][64];   /* their methods */
	size_t n_calls;
	size_t n_disconnects;
	struct conn *gone;             /* the last connection the disconnect op saw (freed after) */
	void *gone_data;               /* its data then */
	bool in_handler;               /* inside dispatch: a disconnect now is a re-entry */
	bool reentered;
	bool answer_now;               /* dispatch answers at once with {"n": index} */
	size_t reply_bytes;            /* ...padded to about this size */
	bool close_in_handler;         /* dispatch closes the connection before answering */
} app;

static struct event_base *evb;
static struct server *srv;
/* The ops srv serves through: test_ops, which a test may swap (budget_ops...). */
static struct server_ops srv_ops;
static int peer = -1;                  /* the client's end of the socketpair */
static struct conn *conn;

/* The dispatch op. */
static void test_dispatch(void *userdata, struct call *call)
{
	json_object *p;

	ck_assert_ptr_eq(userdata, &app);
	ck_assert_uint_lt(app.n_calls, CALLS_MAX);
	snprintf(app.methods[app.n_calls], sizeof(app.methods[0]), "%s", call_method(call));
	app.calls[app.n_calls++] = call;
	if (!app.answer_now)
		return;
	app.in_handler = true;
	if (app.close_in_handler)
		conn_close(call_conn(call), "test");
	p = json_object_new_object();
	json_object_object_add(p, "n", json_object_new_int((int)app.n_calls - 1));
	if (app.reply_bytes) {
		char *pad = malloc(app.reply_bytes + 1);

		ck_assert_ptr_nonnull(pad);
		memset(pad, 'x', app.reply_bytes);
		pad[app.reply_bytes] = '\0';
		json_object_object_add(p, "pad", json_object_new_string(pad));
		free(pad);
	}
	call_reply(call, p);
	app.in_handler = false;
}

/* The disconnect op. */
static void test_disconnect(void *userdata, struct conn *c)
{
	if (app.in_handler)
		app.reentered = true;
	app.n_disconnects++;
	app.gone = c;
	app.gone_data = conn_get_data(c);
}

static const struct server_ops test_ops = { .dispatch = test_dispatch, .disconnect = test_disconnect };

/* A loop and a server with one connection over a socketpair (our uid and pid). */
static void setup(void)
{
	int sv[2];

	memset(&app, 0, sizeof(app));
	srv_ops = test_ops;
	srv = server_new();
	ck_assert_ptr_nonnull(srv);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	ck_assert_int_eq(event_base_priority_init(evb, SERVER_N_PRIOS), 0);
	ck_assert_int_eq(server_start(srv, evb, &srv_ops, &app), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	conn = server_adopt(srv, sv[0], getuid(), getpid());
	ck_assert_ptr_nonnull(conn);
	ck_assert_uint_eq(server_conn_count(srv), 1);
	peer = sv[1];
}

/* Close everything. */
static void teardown(void)
{
	server_free(srv);
	srv = NULL;
	if (peer >= 0)
		close(peer);
	peer = -1;
	event_base_free(evb);
}

/* Run the loop's ready events n times without blocking. */
static void turns(int n)
{
	tu_turns(evb, n);
}

static long long mono_ms(void);

/* Send raw bytes from the peer, all of them. */
static void peer_send(const char *buf, size_t len)
{
	ck_assert_int_eq(send(peer, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Send one call (NUL-terminated JSON) from the client end fd. */
static void fd_call(int fd, const char *method)
{
	char msg[256];
	int n = snprintf(msg, sizeof(msg), "{\"method\":\"%s\",\"parameters\":{}}", method);

	ck_assert_int_lt(n, (int)sizeof(msg));
	ck_assert_int_eq(send(fd, msg, (size_t)n + 1, MSG_NOSIGNAL), n + 1);
}

/* Send one call from the peer. */
static void peer_call(const char *method)
{
	fd_call(peer, method);
}

/* Read replies on the peer until n complete ones arrived (the loop runs meanwhile); their "n" in order. */
static void peer_replies(size_t n, int *ret_ns)
{
	struct vl_framer f;
	size_t got = 0;

	vl_framer_init(&f, 64 * 1024 * 1024);
	for (int i = 0; i < 100000 && got < n; i++) {
		char *p;
		size_t avail;
		const char *msg;
		size_t len;
		ssize_t r;

		ck_assert_int_eq(vl_framer_reserve(&f, 256 * 1024, &p, &avail), 0);
		r = recv(peer, p, avail, MSG_DONTWAIT);
		if (r > 0)
			vl_framer_commit(&f, (size_t)r);
		while (got < n && vl_framer_next(&f, &msg, &len) > 0) {
			struct vl_reply rp;
			json_object *v;

			ck_assert_int_eq(vl_reply_parse(msg, len, &rp), 0);
			ck_assert_ptr_null(rp.error);
			ck_assert(json_object_object_get_ex(rp.parameters, "n", &v));
			ret_ns[got++] = json_object_get_int(v);
			vl_reply_done(&rp);
		}
		turns(1);
	}
	vl_framer_free(&f);
	ck_assert_uint_eq(got, n);
}

/* Pipelined calls in one write are served one at a time, and answered in order. */
START_TEST(test_pipelined_in_order)
{
	char buf[512];
	size_t len = 0;
	int ns[3];

	for (int i = 0; i < 3; i++) {
		int n = snprintf(buf + len, sizeof(buf) - len, "{\"method\":\"t.T.M%d\",\"parameters\":{}}", i);

		len += (size_t)n + 1;
	}
	peer_send(buf, len);
	turns(5);
	/* The first call is pending: the next is not read off the framer. */
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_str_eq(call_method(app.calls[0]), "t.T.M0");
	app.answer_now = true;
	{
		json_object *p0 = json_object_new_object();

		json_object_object_add(p0, "n", json_object_new_int(0));
		call_reply(app.calls[0], p0);
	}
	ck_assert_uint_eq(app.n_calls, 1); /* the next call waits for a loop turn, never runs inside a reply */
	turns(5);
	ck_assert_uint_eq(app.n_calls, 3);
	ck_assert_str_eq(app.methods[1], "t.T.M1");
	ck_assert_str_eq(app.methods[2], "t.T.M2");
	peer_replies(3, ns);
	ck_assert_int_eq(ns[0], 0);
	ck_assert_int_eq(ns[1], 1);
	ck_assert_int_eq(ns[2], 2);
}
END_TEST

/* A message split anywhere is reassembled; nothing is dispatched before its NUL. */
START_TEST(test_split_message)
{
	static const char msg[] = "{\"method\":\"t.T.Split\",\"parameters\":{}}";

	peer_send(msg, 10);
	turns(3);
	ck_assert_uint_eq(app.n_calls, 0);
	peer_send(msg + 10, sizeof(msg) - 10);
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_str_eq(call_method(app.calls[0]), "t.T.Split");
	call_reply(app.calls[0], NULL);
}
END_TEST

/* A descriptor sent with a call comes with the call; one sent with a reply reaches the peer. */
START_TEST(test_fd_passing)
{
	static const char msg[] = "{\"method\":\"t.T.Fd\",\"parameters\":{}}";
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int))];
	} control;
	struct iovec iov = { (void *)msg, sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	char rbuf[4096];
	int p[2], q[2], got = -1;
	size_t nfds;
	char c;

	ck_assert_int_eq(pipe(p), 0);
	memset(&control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &p[1], sizeof(int));
	ck_assert_int_eq(sendmsg(peer, &mh, 0), (ssize_t)sizeof(msg));
	close(p[1]);
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_ptr_nonnull(call_fds(app.calls[0], &nfds));
	ck_assert_uint_eq(nfds, 1);
	ck_assert_int_eq(write(call_fds(app.calls[0], &nfds)[0], "A", 1), 1);
	ck_assert_int_eq(read(p[0], &c, 1), 1);
	ck_assert_int_eq(c, 'A');
	close(p[0]);
	/* The reply carries the read end of a new pipe. */
	ck_assert_int_eq(pipe(q), 0);
	call_reply_fd(app.calls[0], NULL, q[0]);
	turns(3);
	iov = (struct iovec){ rbuf, sizeof(rbuf) };
	mh = (struct msghdr){ .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
			      .msg_controllen = sizeof(control) };
	ck_assert_int_gt(recvmsg(peer, &mh, MSG_DONTWAIT), 0);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			memcpy(&got, CMSG_DATA(cm), sizeof(int));
	ck_assert_int_ge(got, 0);
	ck_assert_int_eq(write(q[1], "B", 1), 1);
	ck_assert_int_eq(read(got, &c, 1), 1);
	ck_assert_int_eq(c, 'B');
	close(got);
	close(q[1]);
}
END_TEST

/*
 * A socket sent with a call is closed on arrival (never a pidfd): the peer's
 * own end, kept, would keep the connection from ever hanging up. A pipe stays.
 */
START_TEST(test_socket_fd_not_kept)
{
	static const char msg[] = "{\"method\":\"t.T.Fd\",\"parameters\":{}}";
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(2 * sizeof(int))];
	} control;
	struct iovec iov = { (void *)msg, sizeof(msg) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
			     .msg_controllen = sizeof(control) };
	struct cmsghdr *cm;
	int p[2], fds[2];
	size_t nfds;

	ck_assert_int_eq(pipe(p), 0);
	fds[0] = peer;
	fds[1] = p[1];
	memset(&control, 0, sizeof(control));
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(cm), fds, sizeof(fds));
	ck_assert_int_eq(sendmsg(peer, &mh, 0), (ssize_t)sizeof(msg));
	close(p[1]);
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	call_fds(app.calls[0], &nfds);
	ck_assert_uint_eq(nfds, 1);
	ck_assert_int_eq(write(call_fds(app.calls[0], &nfds)[0], "A", 1), 1);
	close(p[0]);
	call_reply(app.calls[0], NULL);
	/* The peer goes: the connection ends. */
	close(peer);
	peer = -1;
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(server_conn_count(srv), 0);
}
END_TEST

/* Replies the peer does not read past out_max stop the reading of further calls until it reads. */
START_TEST(test_back_pressure)
{
	int ns[2];

	server_limits(srv)->out_max = 64 * 1024;
	app.answer_now = true;
	app.reply_bytes = 2 * 1024 * 1024; /* more than the socket buffers hold */
	peer_call("t.T.Big");
	turns(5);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_uint_gt(conn_out_bytes(conn), server_limits(srv)->out_max);
	peer_call("t.T.Next");
	turns(5);
	/* Backed up: the second call waits, read or not. */
	ck_assert_uint_eq(app.n_calls, 1);
	app.reply_bytes = 0;
	peer_replies(2, ns);
	ck_assert_uint_eq(app.n_calls, 2);
	ck_assert_int_eq(ns[0], 0);
	ck_assert_int_eq(ns[1], 1);
	ck_assert_uint_eq(conn_out_bytes(conn), 0);
}
END_TEST

/*
 * Closing inside a handler does not call back into the application from
 * there: the disconnect op runs once, on a later loop turn, and the reply
 * after the close goes nowhere.
 */
START_TEST(test_close_is_deferred)
{
	char b;

	app.answer_now = true;
	app.close_in_handler = true;
	peer_call("t.T.Close");
	turns(1);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert(!app.reentered);
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_ptr_eq(app.gone, conn);
	ck_assert_uint_eq(server_conn_count(srv), 0);
	/* The peer sees the end, and no reply. */
	ck_assert_int_eq(recv(peer, &b, 1, 0), 0);
}
END_TEST

/* The peer hanging up ends the connection: disconnect once, its data the application's to free. */
START_TEST(test_peer_hangup)
{
	static int data;

	conn_set_data(conn, &data);
	ck_assert_ptr_eq(conn_get_data(conn), &data);
	close(peer);
	peer = -1;
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_ptr_eq(app.gone_data, &data);
	ck_assert_uint_eq(server_conn_count(srv), 0);
}
END_TEST

/* A streaming call is open and has sent one reply; the peer reads it (read) or not, then goes: the connection ends. */
static void stream_then_peer_gone(bool read)
{
	static const char stream[] = "{\"method\":\"t.Stream\",\"more\":true,\"parameters\":{}}";
	char buf[256];

	peer_send(stream, sizeof(stream));
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_int_eq(call_reply_more(app.calls[0], json_object_new_object()), 0);
	turns(3);
	if (read)
		ck_assert_int_gt(recv(peer, buf, sizeof(buf), MSG_DONTWAIT), 0);
	close(peer);
	peer = -1;
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(server_conn_count(srv), 0);
	call_reply(app.calls[0], NULL); /* the application ends its stream (sent nowhere) */
}

/*
 * The peer of a streaming call closes with a reply unread (a killed `cgctl
 * watch`): the kernel resets the connection, which libevent hands on as
 * readable and writable, not as a hang-up. It was kept for good, the loop
 * woken at once each turn (100% CPU).
 */
START_TEST(test_stream_peer_reset)
{
	stream_then_peer_gone(false);
}
END_TEST

/* The same after an orderly end (the reply read): the hang-up ends it. */
START_TEST(test_stream_peer_hangup)
{
	stream_then_peer_gone(true);
}
END_TEST

/* A timer that does nothing. */
static void nothing_cb(evutil_socket_t fd, short what, void *arg)
{
}

/* CPU milliseconds this process burns while the loop waits ms for nothing (a timer): a loop woken over and over by a socket nobody takes burns them all. */
static long long loop_cpu_ms(long long ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	struct event *t = evtimer_new(evb, nothing_cb, NULL);
	struct timespec a, b;

	ck_assert_ptr_nonnull(t);
	ck_assert_int_eq(evtimer_add(t, &tv), 0);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	event_base_loop(evb, EVLOOP_ONCE);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	event_free(t);
	return (b.tv_sec - a.tv_sec) * 1000 + (b.tv_nsec - a.tv_nsec) / 1000000;
}

/* Over 400 ms of waiting the loop burns well under a quarter of it (a spin burns it all, or its share of a loaded machine). */
static void assert_loop_idle(void)
{
	ck_assert_int_lt(loop_cpu_ms(400), 100);
}

/* How the peer goes in the tests below. */
enum peer_end {
	PEER_RESET,      /* closes with a reply unread: the kernel resets (EPOLLERR) */
	PEER_HANGUP,     /* reads everything, then closes (EPOLLHUP) */
	PEER_HALF_CLOSE, /* reads everything, then shuts its writing side (EPOLLRDHUP) */
};

/* The peer goes as end says (reading what it was sent first, unless it resets). */
static void peer_go(enum peer_end end)
{
	char buf[64 * 1024];

	if (end != PEER_RESET)
		while (recv(peer, buf, sizeof(buf), MSG_DONTWAIT) > 0)
			;
	if (end == PEER_HALF_CLOSE) {
		ck_assert_int_eq(shutdown(peer, SHUT_WR), 0);
		return;
	}
	close(peer);
	peer = -1;
}

/*
 * A streaming call is open with one reply sent, and the client pipelined a
 * call behind it (left unread while the stream runs); then it goes: the
 * connection ends at once, and the loop does not spin meanwhile. A hang-up or
 * reset with a call unread reaches libevent as EPOLLHUP/EPOLLERR, which it hands
 * on as readable+writable, never as EV_CLOSED: the hang-up-only watch missed it.
 */
static void stream_pipelined_then_peer_gone(enum peer_end end)
{
	static const char stream[] = "{\"method\":\"t.Stream\",\"more\":true,\"parameters\":{}}";

	peer_send(stream, sizeof(stream));
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_int_eq(call_reply_more(app.calls[0], json_object_new_object()), 0);
	turns(3);
	peer_call("t.T.Behind");
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_uint_eq(server_conn_count(srv), 1);
	peer_go(end);
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(server_conn_count(srv), 0);
	ck_assert_uint_eq(server_conn_count_of(srv, getuid()), 0);
	assert_loop_idle();
	call_reply(app.calls[0], NULL);
	ck_assert_uint_eq(app.n_calls, 1); /* the call behind is never served */
}

START_TEST(test_stream_pipelined_peer_reset)
{
	stream_pipelined_then_peer_gone(PEER_RESET);
}
END_TEST

START_TEST(test_stream_pipelined_peer_hangup)
{
	stream_pipelined_then_peer_gone(PEER_HANGUP);
}
END_TEST

START_TEST(test_stream_pipelined_peer_half_close)
{
	stream_pipelined_then_peer_gone(PEER_HALF_CLOSE);
}
END_TEST

/* A streaming call is open (no reply yet) and the peer sent a call behind it. */
static void stream_with_call_behind(void)
{
	static const char stream[] = "{\"method\":\"t.Stream\",\"more\":true,\"parameters\":{}}";

	peer_send(stream, sizeof(stream));
	turns(3);
	peer_call("t.T.Behind");
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
}

/* The stream goes on while the client sends calls behind it: the loop does not spin on them, nor is the connection dropped. */
START_TEST(test_stream_pipelined_idle)
{
	stream_with_call_behind();
	assert_loop_idle();
	peer_call("t.T.Behind2");
	assert_loop_idle();
	ck_assert_int_eq(call_reply_more(app.calls[0], json_object_new_object()), 0);
	turns(3);
	ck_assert_uint_eq(server_conn_count(srv), 1);
	app.answer_now = true;
	call_reply(app.calls[0], NULL);
	turns(5);
	ck_assert_uint_eq(app.n_calls, 3);
	ck_assert_uint_eq(server_conn_count(srv), 1);
}
END_TEST

/* Read the peer's end until EOF (true) or until it has waited ms for it in vain. */
static bool peer_sees_eof(long long ms)
{
	long long end = mono_ms() + ms;
	char buf[4096];
	ssize_t r;

	while ((r = recv(peer, buf, sizeof(buf), MSG_DONTWAIT)) != 0 && mono_ms() < end)
		if (r < 0)
			usleep(5000);
	return r == 0;
}

/* Closing a stream's connection while it watches the call behind: the peer sees the end (no copy of the socket stays open). */
START_TEST(test_stream_pipelined_close)
{
	stream_with_call_behind();
	conn_close(conn, "test");
	turns(3);
	ck_assert(peer_sees_eof(2000));
	call_reply(app.calls[0], NULL);
}
END_TEST

/* The stream ends and the call behind it is served: the watch goes, so closing later still reaches the peer. */
START_TEST(test_stream_pipelined_then_served_close)
{
	stream_with_call_behind();
	app.answer_now = true;
	call_reply(app.calls[0], NULL);
	turns(5);
	ck_assert_uint_eq(app.n_calls, 2);
	ck_assert(!peer_sees_eof(50));
	conn_close(conn, "test");
	turns(3);
	ck_assert(peer_sees_eof(2000));
}
END_TEST

/*
 * Replies back up (more than out_max unsent), a call waits behind them, and the
 * peer resets: the connection ends, its bytes leave the uid's budget.
 */
START_TEST(test_back_pressure_peer_reset)
{
	struct server_reply_use use;

	server_limits(srv)->out_max = 64 * 1024;
	app.answer_now = true;
	app.reply_bytes = 2 * 1024 * 1024;
	peer_call("t.T.Big");
	turns(3);
	peer_call("t.T.Next");
	turns(3);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert_uint_gt(conn_out_bytes(conn), server_limits(srv)->out_max);
	peer_go(PEER_RESET);
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(server_conn_count_of(srv, getuid()), 0);
	server_reply_use(srv, getuid(), &use);
	ck_assert_uint_eq(use.unread, 0);
	assert_loop_idle();
}
END_TEST

/*
 * A call the application has not answered yet (one waiting for the ledger to be
 * durable) with a call pipelined behind it, and an answered one unread: the
 * peer resets. Nothing spins while the call waits; its answer (into the void)
 * ends the connection and frees its uid's slot.
 */
START_TEST(test_pending_call_peer_reset)
{
	app.answer_now = true;
	peer_call("t.T.Answered");
	turns(3);
	app.answer_now = false;
	peer_call("t.T.Pending");
	turns(3);
	ck_assert_uint_eq(app.n_calls, 2);
	peer_call("t.T.Behind");
	turns(3);
	peer_go(PEER_RESET);
	turns(3);
	assert_loop_idle();
	ck_assert_uint_eq(app.n_calls, 2);
	call_reply(app.calls[1], json_object_new_object());
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(server_conn_count_of(srv, getuid()), 0);
	assert_loop_idle();
}
END_TEST

/* A message over message_max or malformed JSON closes the connection. */
START_TEST(test_bad_messages_close)
{
	char big[300];

	server_limits(srv)->message_max = 256;
	/* The framer kept its limit from server_adopt(): a fresh connection takes the new one. */
	conn_close(conn, "test");
	turns(2);
	ck_assert_uint_eq(app.n_disconnects, 1);
	close(peer);
	{
		int sv[2];

		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv), 0);
		conn = server_adopt(srv, sv[0], getuid(), getpid());
		ck_assert_ptr_nonnull(conn);
		peer = sv[1];
	}
	memset(big, 'x', sizeof(big));
	peer_send(big, sizeof(big));
	turns(3);
	ck_assert_uint_eq(app.n_disconnects, 2);
	ck_assert_uint_eq(app.n_calls, 0);
}
END_TEST

/* Connect to path; the fd. */
static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Accepting: a uid over its connection cap is refused (the socket just closes); others go on. */
START_TEST(test_per_uid_cap)
{
	char dir[] = "/tmp/transport-test.XXXXXX", path[128];
	struct server *s = server_new();
	int a, b;
	char c;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	ck_assert_ptr_nonnull(s);
	server_limits(s)->conns_per_uid = 1;
	ck_assert_int_eq(server_listen(s, path, false), 0);
	ck_assert_int_eq(server_start(s, evb, &test_ops, &app), 0);
	a = connect_to(path);
	turns(3);
	ck_assert_uint_eq(server_conn_count(s), 1);
	b = connect_to(path);
	turns(3);
	ck_assert_uint_eq(server_conn_count(s), 1);
	ck_assert_int_eq(recv(b, &c, 1, 0), 0);
	close(b);
	close(a);
	turns(3);
	ck_assert_uint_eq(server_conn_count(s), 0);
	server_free(s);
	rmdir(dir);
}
END_TEST

/* Every uid is a tenant (the application's say). */
static bool test_tenant(void *userdata, uid_t uid)
{
	return true;
}

/* Connections a server serving through ops keeps of n made by our uid, with conns_max 8 resolved for tenants. */
static unsigned kept_of(const struct server_ops *ops, unsigned tenants, int n)
{
	char dir[] = "/tmp/transport-test.XXXXXX", path[128];
	struct server *s = server_new();
	int fds[8];
	unsigned kept;

	ck_assert_int_le(n, 8);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	ck_assert_ptr_nonnull(s);
	server_limits(s)->conns_max = 8;
	server_limits_resolve(s, tenants);
	ck_assert_int_eq(server_listen(s, path, false), 0);
	ck_assert_int_eq(server_start(s, evb, ops, &app), 0);
	for (int i = 0; i < n; i++) {
		fds[i] = connect_to(path);
		turns(3);
	}
	kept = server_conn_count(s);
	for (int i = 0; i < n; i++)
		close(fds[i]);
	turns(3);
	server_free(s);
	rmdir(dir);
	return kept;
}

/* A tenant holds at most conns_max / (tenants + 1), whatever conns_per_uid says; others conns_per_uid. */
START_TEST(test_tenant_cap)
{
	static const struct server_ops tenant_ops = { .dispatch = test_dispatch, .disconnect = test_disconnect,
						      .tenant = test_tenant };

	ck_assert_uint_eq(kept_of(&tenant_ops, 3, 4), 2);
	ck_assert_uint_eq(kept_of(&tenant_ops, 0, 8), 8);
	ck_assert_uint_eq(kept_of(&test_ops, 3, 4), 4);
}
END_TEST

#define STALL_MS 200 /* the stall timeout of these tests: tiny */

/* Milliseconds on the monotonic clock. */
static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Read what the peer has, at most max bytes; true once a reply's NUL came. */
static bool peer_take(size_t max)
{
	char buf[64 * 1024];
	ssize_t r = recv(peer, buf, max < sizeof(buf) ? max : sizeof(buf), MSG_DONTWAIT);

	return r > 0 && memchr(buf, '\0', (size_t)r) != NULL;
}

/* Loop turns and short sleeps until the connection is gone or ms passed; true if gone. */
static bool dropped_within(long long ms)
{
	long long end = mono_ms() + ms;

	while (app.n_disconnects == 0 && mono_ms() < end) {
		turns(2);
		usleep(5000);
	}
	return app.n_disconnects == 1 && server_conn_count(srv) == 0;
}

/*
 * A client that reads its replies slowly but steadily keeps them in flight
 * for many stall timeouts and is not dropped: the timer measures time without
 * progress, not time with data in flight.
 */
START_TEST(test_stall_steady_reader_survives)
{
	long long end;
	bool done = false;

	server_limits(srv)->partial_timeout_ms = STALL_MS;
	app.answer_now = true;
	app.reply_bytes = 8 * 1024 * 1024; /* far more than it reads in the slow phase */
	peer_call("t.T.Big");
	turns(2);
	ck_assert_uint_gt(conn_out_bytes(conn), 0);
	/*
	 * Slow phase: 64 KiB every 20 ms (at most 3.2 MB/s) for five stall timeouts.
	 * Each read takes at least one whole skb (the kernel frees, and the daemon
	 * sees, no less) off the socket, so the daemon sees progress between any two
	 * loop turns, however long this process waits to run.
	 */
	end = mono_ms() + 5 * STALL_MS;
	while (mono_ms() < end && !done) {
		done = peer_take(64 * 1024);
		turns(2);
		usleep(20000);
	}
	ck_assert_msg(!done, "the reply was read whole in the slow phase: the test proves nothing");
	ck_assert_uint_eq(app.n_disconnects, 0);
	/* The rest, fast: it all comes. */
	for (int i = 0; i < 100000 && !done; i++) {
		done = peer_take(64 * 1024);
		turns(1);
	}
	ck_assert(done);
	ck_assert_uint_eq(app.n_disconnects, 0);
	ck_assert_uint_eq(conn_out_bytes(conn), 0);
}
END_TEST

/* Many pipelined calls whose replies the client reads as they come: it lives past the timeout. */
START_TEST(test_stall_pipelined_reader_survives)
{
	long long end;
	size_t sent = 0, replies = 0;

	server_limits(srv)->partial_timeout_ms = STALL_MS;
	server_limits(srv)->out_max = 64 * 1024;
	app.answer_now = true;
	app.reply_bytes = 1024 * 1024;
	/* Three calls ahead of the replies read, 64 KiB read every 20 ms (see above), for five stall timeouts. */
	end = mono_ms() + 5 * STALL_MS;
	while (mono_ms() < end && sent < CALLS_MAX) {
		if (sent < replies + 3) {
			peer_call("t.T.Pipe");
			sent++;
		}
		if (peer_take(64 * 1024))
			replies++;
		turns(2);
		usleep(20000);
	}
	ck_assert_uint_eq(app.n_disconnects, 0);
	ck_assert_uint_lt(replies, sent); /* data was still in flight at the end */
}
END_TEST

/* A big reply answered to a peer that reads n chunks of it, then nothing more: dropped. */
static void stop_reading_after(int n)
{
	server_limits(srv)->partial_timeout_ms = STALL_MS;
	app.answer_now = true;
	app.reply_bytes = 4 * 1024 * 1024;
	peer_call("t.T.Big");
	turns(2);
	ck_assert_uint_gt(conn_out_bytes(conn), 0);
	for (int i = 0; i < n; i++) {
		ck_assert(!peer_take(4096));
		turns(2);
	}
	ck_assert(dropped_within(30 * 1000));
}

/* A client that never reads its replies is dropped. */
START_TEST(test_stall_non_reader_dropped)
{
	stop_reading_after(0);
}
END_TEST

/* A client that reads some of its replies, then stops, is dropped. */
START_TEST(test_stall_reader_that_stops_dropped)
{
	stop_reading_after(20);
}
END_TEST

/*
 * A client that trickles one message a byte at a time, never finishing it,
 * is dropped although bytes keep coming (slowloris), and not before the
 * timeout.
 */
START_TEST(test_stall_trickler_dropped)
{
	static const char head[] = "{\"method\":\"t.T.Slow\",\"parameters\":{\"pad\":\"";
	long long start, end;
	size_t i = 0;

	server_limits(srv)->partial_timeout_ms = STALL_MS;
	start = mono_ms();
	end = start + 30 * 1000;
	while (app.n_disconnects == 0 && mono_ms() < end) {
		char b = i < sizeof(head) - 1 ? head[i] : 'x';

		if (send(peer, &b, 1, MSG_NOSIGNAL | MSG_DONTWAIT) != 1)
			break;
		i++;
		turns(2);
		usleep(5000);
	}
	turns(2);
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_uint_eq(app.n_calls, 0);
	ck_assert_int_ge(mono_ms() - start, STALL_MS);
}
END_TEST

/* Calls queued behind one the application is still serving are not the client's stall. */
START_TEST(test_stall_not_while_we_serve)
{
	static const char two[] = "{\"method\":\"t.T.Slow\",\"parameters\":{}}\0{\"method\":\"t.T.Next\",\"parameters\":{}}";

	server_limits(srv)->partial_timeout_ms = STALL_MS;
	peer_send(two, sizeof(two));
	turns(2);
	ck_assert_uint_eq(app.n_calls, 1);
	ck_assert(!dropped_within(3 * STALL_MS));
	app.answer_now = true;
	call_reply(app.calls[0], json_object_new_object());
	turns(2);
	ck_assert_uint_eq(app.n_calls, 2);
}
END_TEST

/* A uid the budget tests call a tenant (the application's say). */
#define HOG_UID 4242
/* Another uid, an administrator. */
#define OTHER_UID 4343

/* HOG_UID is a tenant. */
static bool test_hog_is_tenant(void *userdata, uid_t uid)
{
	return uid == HOG_UID;
}

static const struct server_ops budget_ops = { .dispatch = test_dispatch, .disconnect = test_disconnect,
					      .tenant = test_hog_is_tenant };

/* A connection of uid over a socketpair; the client's end (non-blocking), its connection in *ret. */
static int adopt_peer(uid_t uid, struct conn **ret)
{
	int sv[2];

	tu_socketpair(sv);
	*ret = server_adopt(srv, sv[0], uid, getpid());
	ck_assert_ptr_nonnull(*ret);
	return sv[1];
}

/* Read what fd has, without waiting; the number of replies that ended (NULs) in it. */
static size_t fd_replies(int fd)
{
	static char buf[256 * 1024];
	size_t n = 0;
	ssize_t r;

	while ((r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0)
		for (ssize_t i = 0; i < r; i++)
			n += buf[i] == '\0';
	return n;
}

#define BUDGET (256u * 1024)     /* the tenant's reply budget in these tests */
#define HOG_REPLY (64u * 1024)   /* the size of each reply */

/*
 * Replies one uid does not read count against its budget across all its
 * connections (each allowed 16 MiB): past it none of them is served, while
 * another uid is; as they read, the rest is served, every call answered.
 */
START_TEST(test_uid_reply_budget)
{
	struct conn *h1, *h2, *o;
	int f1, f2, fo;
	size_t n, got1 = 0, got2 = 0;

	srv_ops = budget_ops;
	server_limits(srv)->reply_mem_per_tenant = BUDGET;
	f1 = adopt_peer(HOG_UID, &h1);
	f2 = adopt_peer(HOG_UID, &h2);
	fo = adopt_peer(OTHER_UID, &o);
	ck_assert(conn_tenant(h1) && !conn_tenant(o));
	app.answer_now = true;
	app.reply_bytes = HOG_REPLY;
	for (int i = 0; i < 16; i++) {
		fd_call(f1, "t.T.Hog");
		fd_call(f2, "t.T.Hog");
	}
	turns(20);
	/* The budget, and the one reply of each that crossed it, at most. */
	ck_assert_uint_le(conn_out_bytes(h1) + conn_out_bytes(h2), BUDGET + 2 * HOG_REPLY + 128);
	ck_assert_uint_lt(app.n_calls, 32);
	n = app.n_calls;
	fd_call(fo, "t.T.Other");
	turns(3);
	ck_assert_uint_eq(app.n_calls, n + 1);
	ck_assert_uint_eq(fd_replies(fo), 1);
	for (int i = 0; i < 100000 && (got1 < 16 || got2 < 16); i++) {
		got1 += fd_replies(f1);
		got2 += fd_replies(f2);
		turns(1);
	}
	ck_assert_uint_eq(got1, 16);
	ck_assert_uint_eq(got2, 16);
	ck_assert_uint_eq(app.n_disconnects, 0);
	close(f1);
	close(f2);
	close(fo);
}
END_TEST

/*
 * A connection that holds its uid's budget and never reads does not block the
 * uid's other connection, which reads: the client may await that one's answer
 * before it reads the first (before, a deadlock until the stall timer dropped
 * the holder). The holder is still dropped by the stall rule.
 */
START_TEST(test_uid_reply_budget_other_conn_served)
{
	struct conn *h1, *h2;
	int f1, f2;
	size_t got2 = 0;
	long long end;

	srv_ops = budget_ops;
	server_limits(srv)->reply_mem_per_tenant = BUDGET;
	server_limits(srv)->partial_timeout_ms = STALL_MS;
	f1 = adopt_peer(HOG_UID, &h1);
	f2 = adopt_peer(HOG_UID, &h2);
	app.answer_now = true;
	app.reply_bytes = HOG_REPLY;
	for (int i = 0; i < 16; i++)
		fd_call(f1, "t.T.Hog");
	turns(20);
	ck_assert_uint_ge(conn_out_bytes(h1), BUDGET);
	end = mono_ms() + 30 * 1000;
	/* One call after the other, each reply read before the next call: what a client does. */
	for (int i = 0; i < 4 && mono_ms() < end; i++) {
		size_t got = 0;

		fd_call(f2, "t.T.Wait");
		while (!got && mono_ms() < end) {
			turns(2);
			got = fd_replies(f2);
		}
		ck_assert_uint_eq(app.n_disconnects, 0);
		got2 += got;
	}
	ck_assert_uint_eq(got2, 4);
	ck_assert(!conn_closed(h1));
	/* The holder reads nothing: dropped by the stall rule; the other stays. */
	while (app.n_disconnects == 0 && mono_ms() < end) {
		turns(2);
		usleep(5000);
	}
	ck_assert_uint_eq(app.n_disconnects, 1);
	ck_assert_ptr_eq(app.gone, h1);
	ck_assert(!conn_closed(h2));
	close(f1);
	close(f2);
}
END_TEST

/* Many connections of one uid, none reading: together they hold at most twice the budget (and a reply). */
START_TEST(test_uid_reply_budget_many_conns)
{
	struct conn *h[8];
	int f[8];
	size_t held = 0;

	srv_ops = budget_ops;
	server_limits(srv)->reply_mem_per_tenant = BUDGET;
	app.answer_now = true;
	app.reply_bytes = HOG_REPLY;
	for (int k = 0; k < 8; k++) {
		f[k] = adopt_peer(HOG_UID, &h[k]);
		for (int i = 0; i < 7; i++)
			fd_call(f[k], "t.T.Hog");
	}
	turns(40);
	for (int k = 0; k < 8; k++)
		held += conn_out_bytes(h[k]);
	ck_assert_uint_ge(held, BUDGET);
	ck_assert_uint_le(held, 2 * BUDGET + HOG_REPLY + 64);
	for (int k = 0; k < 8; k++)
		close(f[k]);
}
END_TEST

/*
 * A client that takes one small reply per stall timeout while many wait
 * unsent (pipelined) makes too little progress: dropped (before, each reply
 * taken started the timer over, and it held its replies for ever).
 */
START_TEST(test_stall_small_reader_dropped)
{
	char buf[16 * 1024 + 64];
	long long end;

	server_limits(srv)->partial_timeout_ms = STALL_MS;
	app.answer_now = true;
	app.reply_bytes = 16 * 1024;
	for (int i = 0; i < 48; i++)
		peer_call("t.T.Small");
	turns(10);
	ck_assert_uint_eq(app.n_calls, 48);
	ck_assert_uint_gt(conn_out_bytes(conn), 0);
	end = mono_ms() + 8 * STALL_MS;
	while (app.n_disconnects == 0 && mono_ms() < end) {
		(void)!recv(peer, buf, sizeof(buf), MSG_DONTWAIT);
		for (int i = 0; i < 10; i++) {
			turns(2);
			usleep(STALL_MS * 1000 / 20);
		}
	}
	ck_assert_uint_eq(app.n_disconnects, 1);
}
END_TEST

/* Read what the daemon logged to the file fd (stderr while the test ran). */
static char *logged(int fd)
{
	static char text[8192];
	ssize_t n = pread(fd, text, sizeof(text) - 1, 0);

	text[n > 0 ? n : 0] = '\0';
	return text;
}

/* Every time a uid goes over its budget is counted (server_reply_use(), GetStatus) and logged, at most a line per interval. */
START_TEST(test_uid_reply_budget_each_time)
{
	char path[] = "/tmp/transport-log.XXXXXX", want[128];
	int logfd = mkstemp(path), saved = dup(2), f;
	struct server_reply_use u;
	uint64_t before = 0;
	struct conn *h;
	const char *text;

	ck_assert_int_ge(logfd, 0);
	unlink(path);
	srv_ops = budget_ops;
	server_limits(srv)->reply_mem_per_tenant = BUDGET;
	server_limits(srv)->budget_log_usec = 0;
	f = adopt_peer(HOG_UID, &h);
	app.answer_now = true;
	app.reply_bytes = HOG_REPLY;
	fflush(stderr);
	dup2(logfd, 2);
	for (int round = 0; round < 3; round++) {
		for (int i = 0; i < 16; i++)
			fd_call(f, "t.T.Hog");
		turns(20);
		server_reply_use(srv, HOG_UID, &u);
		ck_assert_uint_ge(u.unread, BUDGET);
		ck_assert_uint_eq(u.budget, BUDGET);
		ck_assert_uint_gt(u.over, before);
		/* It reads everything: back under, served again (over and under once more on the way). */
		for (int i = 0; i < 100000 && (conn_out_bytes(h) > 0 || app.n_calls < 16u * (round + 1)); i++) {
			fd_replies(f);
			turns(1);
		}
		ck_assert_uint_eq(app.n_calls, 16u * (round + 1));
		server_reply_use(srv, HOG_UID, &u);
		before = u.over;
	}
	/* At a longer interval the next time is counted, not logged. */
	server_limits(srv)->budget_log_usec = 60ull * 1000 * 1000;
	for (int i = 0; i < 16; i++)
		fd_call(f, "t.T.Hog");
	turns(20);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	server_reply_use(srv, HOG_UID, &u);
	ck_assert_uint_eq(u.over, before + 1);
	text = logged(logfd);
	ck_assert_msg(strstr(text, "over its budget 1 times, 1 since"), "%s", text);
	snprintf(want, sizeof(want), "over its budget %llu times, 1 since", (unsigned long long)before);
	ck_assert_msg(strstr(text, want), "%s", text);
	snprintf(want, sizeof(want), "over its budget %llu times", (unsigned long long)u.over);
	ck_assert_msg(!strstr(text, want), "%s", text);
	close(logfd);
	close(f);
}
END_TEST

/* A tenant's reply budget: a share of the global one unless set (then at most the global one). */
START_TEST(test_reply_budget_resolve)
{
	struct server *s = server_new();

	ck_assert_ptr_nonnull(s);
	server_limits(s)->reply_mem_max = 400 * 1024;
	server_limits_resolve(s, 3);
	ck_assert_uint_eq(server_limits(s)->reply_mem_per_tenant, 100 * 1024);
	server_limits(s)->reply_mem_per_tenant = 300 * 1024;
	server_limits_resolve(s, 3);
	ck_assert_uint_eq(server_limits(s)->reply_mem_per_tenant, 300 * 1024);
	server_limits(s)->reply_mem_per_tenant = 800 * 1024;
	server_limits_resolve(s, 3);
	ck_assert_uint_eq(server_limits(s)->reply_mem_per_tenant, 400 * 1024);
	server_free(s);
}
END_TEST

/* What the dispatch op of test_flood_yields saw. */
static struct {
	struct conn *flood;  /* the connection of the first call */
	int other_peer;      /* the other client's end: it calls once the flood has begun */
	int other_at;        /* how many calls were served before the other client's (-1: not yet) */
	int n;
} fair;

/* Answer every call at once; the first one makes the other client send its call. */
static void fair_dispatch(void *userdata, struct call *call)
{
	static const char other[] = "{\"method\":\"test.Other\"}";

	if (fair.n == 0) {
		fair.flood = call_conn(call);
		ck_assert_int_eq(send(fair.other_peer, other, sizeof(other), MSG_NOSIGNAL), (ssize_t)sizeof(other));
	}
	if (call_conn(call) != fair.flood && fair.other_at < 0)
		fair.other_at = fair.n;
	fair.n++;
	call_reply(call, NULL);
}

static const struct server_ops fair_ops = { .dispatch = fair_dispatch, .disconnect = test_disconnect };

/* A connection's pipelined calls yield after their share: a call another client sent meanwhile comes next. */
START_TEST(test_flood_yields)
{
	char msg[64];
	int sv[2], n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_ptr_nonnull(server_adopt(srv, sv[0], getuid(), getpid()));
	fair = (typeof(fair)){ .other_peer = sv[1], .other_at = -1 };
	srv_ops = fair_ops;
	n = snprintf(msg, sizeof(msg), "{\"method\":\"test.Flood\"}");
	for (int i = 0; i < 4 * CONN_TURN_CALLS_MAX; i++)
		peer_send(msg, (size_t)n + 1);
	for (int i = 0; i < 1000 && fair.n < 4 * CONN_TURN_CALLS_MAX + 1; i++)
		turns(1);
	ck_assert_int_eq(fair.n, 4 * CONN_TURN_CALLS_MAX + 1);
	ck_assert_int_ge(fair.other_at, 1);
	ck_assert_int_le(fair.other_at, CONN_TURN_CALLS_MAX);
	close(sv[1]);
}
END_TEST

/* A file at the socket path that is not a socket is somebody's: refused, never removed. */
START_TEST(test_socket_path_not_a_socket)
{
	char dir[] = "/tmp/transport-test.XXXXXX", path[128], buf[16] = "";
	struct server *s = server_new();
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "precious", 8), 8);
	close(fd);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(server_listen(s, path, false), -EEXIST);
	server_free(s);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 8);
	ck_assert_str_eq(buf, "precious");
	close(fd);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* At exit the socket file goes only if it is still the one we bound: another daemon's stays. */
START_TEST(test_exit_leaves_a_replaced_socket)
{
	char dir[] = "/tmp/transport-test.XXXXXX", path[128];
	struct server *s = server_new();
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	int other;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(server_listen(s, path, false), 0);
	/* Somebody removed ours and another daemon listens there now. */
	ck_assert_int_eq(unlink(path), 0);
	other = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(other, 0);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(bind(other, (struct sockaddr *)&sa, sizeof(sa)), 0);
	server_stop(s);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	close(other);
	unlink(path);
	/* Still ours at exit: removed. */
	ck_assert_int_eq(server_listen(s, path, false), 0);
	server_free(s);
	ck_assert_int_eq(lstat(path, &st), -1);
	rmdir(dir);
}
END_TEST

/* The dir_check of these tests: a directory will do, anything else is refused as the daemon's rule does. */
static int dir_check_plain(const struct stat *st, const char *path, char *why, size_t n)
{
	snprintf(why, n, "%s: not a directory", path);
	return S_ISDIR(st->st_mode) ? 0 : (S_ISLNK(st->st_mode) ? -ELOOP : -ENOTDIR);
}

/* A link planted in place of the private socket directory is not followed: its target is not chmod'ed nor used. */
START_TEST(test_private_dir_link_not_followed)
{
	char dir[] = "/tmp/transport-test.XXXXXX", victim[160], link[160], path[192];
	struct server *s = server_new();
	struct stat st;

	ck_assert_ptr_nonnull(s);
	server_set_dir_check(s, dir_check_plain);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(victim, sizeof(victim), "%s/victim", dir);
	snprintf(link, sizeof(link), "%s/cgctl", dir);
	snprintf(path, sizeof(path), "%s/sock", link);
	ck_assert_int_eq(mkdir(victim, 0700), 0);
	ck_assert_int_eq(chmod(victim, 0755), 0);
	ck_assert_int_eq(symlink(victim, link), 0);
	ck_assert_int_eq(server_listen(s, path, true), -ELOOP);
	server_stop(s);
	ck_assert_int_eq(stat(victim, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	snprintf(path, sizeof(path), "%s/sock", victim);
	ck_assert_int_eq(lstat(path, &st), -1);
	/* A real directory of ours that is too open is made 0700 and used. */
	ck_assert_int_eq(unlink(link), 0);
	ck_assert_int_eq(mkdir(link, 0700), 0);
	ck_assert_int_eq(chmod(link, 0755), 0);
	snprintf(path, sizeof(path), "%s/sock", link);
	ck_assert_int_eq(server_listen(s, path, true), 0);
	ck_assert_int_eq(stat(link, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	server_free(s);
	rmdir(link);
	rmdir(victim);
	rmdir(dir);
}
END_TEST

/* Add one test case with the fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* The suite. */
static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");

	add_tcase(s, "pipelined_in_order", test_pipelined_in_order);
	add_tcase(s, "split_message", test_split_message);
	add_tcase(s, "fd_passing", test_fd_passing);
	add_tcase(s, "socket_fd_not_kept", test_socket_fd_not_kept);
	add_tcase(s, "back_pressure", test_back_pressure);
	add_tcase(s, "close_is_deferred", test_close_is_deferred);
	add_tcase(s, "peer_hangup", test_peer_hangup);
	add_tcase(s, "stream_peer_reset", test_stream_peer_reset);
	add_tcase(s, "stream_peer_hangup", test_stream_peer_hangup);
	add_tcase(s, "stream_pipelined_peer_reset", test_stream_pipelined_peer_reset);
	add_tcase(s, "stream_pipelined_peer_hangup", test_stream_pipelined_peer_hangup);
	add_tcase(s, "stream_pipelined_peer_half_close", test_stream_pipelined_peer_half_close);
	add_tcase(s, "stream_pipelined_idle", test_stream_pipelined_idle);
	add_tcase(s, "stream_pipelined_close", test_stream_pipelined_close);
	add_tcase(s, "stream_pipelined_then_served_close", test_stream_pipelined_then_served_close);
	add_tcase(s, "back_pressure_peer_reset", test_back_pressure_peer_reset);
	add_tcase(s, "pending_call_peer_reset", test_pending_call_peer_reset);
	add_tcase(s, "bad_messages_close", test_bad_messages_close);
	add_tcase(s, "per_uid_cap", test_per_uid_cap);
	add_tcase(s, "tenant_cap", test_tenant_cap);
	add_tcase(s, "flood_yields", test_flood_yields);
	add_tcase(s, "socket_path_not_a_socket", test_socket_path_not_a_socket);
	add_tcase(s, "exit_leaves_a_replaced_socket", test_exit_leaves_a_replaced_socket);
	add_tcase(s, "stall_steady_reader_survives", test_stall_steady_reader_survives);
	add_tcase(s, "stall_pipelined_reader_survives", test_stall_pipelined_reader_survives);
	add_tcase(s, "stall_non_reader_dropped", test_stall_non_reader_dropped);
	add_tcase(s, "stall_reader_that_stops_dropped", test_stall_reader_that_stops_dropped);
	add_tcase(s, "stall_trickler_dropped", test_stall_trickler_dropped);
	add_tcase(s, "stall_not_while_we_serve", test_stall_not_while_we_serve);
	add_tcase(s, "uid_reply_budget", test_uid_reply_budget);
	add_tcase(s, "uid_reply_budget_other_conn_served", test_uid_reply_budget_other_conn_served);
	add_tcase(s, "uid_reply_budget_many_conns", test_uid_reply_budget_many_conns);
	add_tcase(s, "uid_reply_budget_each_time", test_uid_reply_budget_each_time);
	add_tcase(s, "stall_small_reader_dropped", test_stall_small_reader_dropped);
	add_tcase(s, "reply_budget_resolve", test_reply_budget_resolve);
	add_tcase(s, "private_dir_link_not_followed", test_private_dir_link_not_followed);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(transport_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
