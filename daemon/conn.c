/* SPDX-License-Identifier: MIT */
/* conn.c: one client connection: reading, framing, one call at a time, fds in, the stall timer (replies: conn_reply.c). */
#include "conn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>
#include <event2/event.h>

#include "cleanup.h"
#include "log.h"
#include "nspid.h"
#include "now.h"
#include "server.h"

static void conn_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_process_cb(evutil_socket_t fd, short what, void *arg);
static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg);
static void conn_hangup_cb(evutil_socket_t fd, short what, void *arg);
static void conn_hangup_read_cb(evutil_socket_t fd, short what, void *arg);
static void conn_gone_cb(evutil_socket_t fd, short what, void *arg);
static void conn_yield_cb(evutil_socket_t fd, short what, void *arg);
static void conn_unwatch_behind(struct conn *c);

/* Free the events of a connection that never started (NULL ones are fine). */
static void conn_free_events(struct conn *c)
{
	struct event **evs[] = { &c->rev, &c->wev, &c->pev, &c->deadline, &c->hev, &c->gone_ev, &c->yield_ev };

	for (size_t i = 0; i < ELEMENTSOF(evs); i++) {
		if (*evs[i])
			event_free(*evs[i]);
		*evs[i] = NULL;
	}
}


void conn_unref(struct conn *c)
{
	if (--c->refs > 0)
		return;
	conn_drop_output(c);
	for (size_t i = 0; i < c->n_in_fds; i++)
		close(c->in_fds[i]);
	vl_framer_free(&c->in);
	free(c);
}

/* Take over an accepted socket. */
struct conn *conn_new(struct server *srv, int fd, uid_t uid, pid_t pid)
{
	struct event_base *base = server_base(srv);
	struct conn *c = calloc(1, sizeof(*c));

	if (!c) {
		close(fd);
		return NULL;
	}
	c->srv = srv;
	c->fd = fd;
	c->cev_fd = -1;
	c->uid = uid;
	c->pid = pid;
	c->pidns = nspid_of_peer(fd, pid);
	c->refs = 1;
	TAILQ_INIT(&c->out);
	vl_framer_init(&c->in, server_limits(srv)->message_max);
	c->rev = event_new(base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	c->wev = event_new(base, fd, EV_WRITE | EV_PERSIST, conn_write_cb, c);
	c->pev = event_new(base, -1, 0, conn_process_cb, c);
	c->deadline = evtimer_new(base, conn_deadline_cb, c);
	c->hev = event_new(base, fd, EV_READ | EV_PERSIST, conn_hangup_read_cb, c);
	c->gone_ev = event_new(base, -1, 0, conn_gone_cb, c);
	c->yield_ev = evtimer_new(base, conn_yield_cb, c);
	/* Behind everything else ready, the ledger's group commit included (same priority, queued
	 * first): at the default priority a flood's yields kept the commit turn from ever running. */
	if (c->yield_ev && base && event_base_get_npriorities(base) > SERVER_PRIO_COMMIT)
		event_priority_set(c->yield_ev, SERVER_PRIO_COMMIT);
	if (!c->rev || !c->wev || !c->pev || !c->deadline || !c->hev || !c->gone_ev || !c->yield_ev ||
	    !(c->peer = server_peer_ref(srv, uid)) || event_add(c->rev, NULL) < 0) {
		if (c->peer)
			server_peer_unref(srv, c->peer);
		conn_free_events(c);
		close(fd);
		conn_unref(c);
		return NULL;
	}
	c->tenant = c->peer->tenant;
	c->id = server_conn_add(srv, c);
	return c;
}

/* Close the connection now; the server hears of it on the next loop turn. */
void conn_close(struct conn *c, const char *why)
{
	if (c->dead)
		return;
	log_debug("connection %llu (uid %u pid %d) closed: %s", (unsigned long long)c->id,
		  (unsigned)c->uid, (int)c->pid, why);
	c->dead = true;
	/* What it never sent goes now, and stops counting against its uid. */
	conn_drop_output(c);
	conn_discharge(c, c->out_bytes);
	event_active(c->gone_ev, 0, 0);
	event_free(c->rev);
	event_free(c->wev);
	event_free(c->pev);
	event_free(c->deadline);
	conn_unwatch_behind(c);
	event_free(c->hev);
	event_free(c->yield_ev);
	c->rev = c->wev = c->pev = c->deadline = c->hev = c->yield_ev = NULL;
	close(c->fd);
	c->fd = -1;
}

/* The deferred part of closing: unlist, tell the application, drop the list's reference. */
void conn_reap(struct conn *c)
{
	if (!c->gone_ev)
		return;
	event_free(c->gone_ev);
	c->gone_ev = NULL;
	server_conn_gone(c->srv, c);
	conn_unref(c);
}

/* The loop turn after closing. */
static void conn_gone_cb(evutil_socket_t fd, short what, void *arg)
{
	conn_reap(arg);
}

/* The application's per-connection data. */
void conn_set_data(struct conn *c, void *data)
{
	c->data = data;
}

/* The application's per-connection data (NULL until set). */
void *conn_get_data(const struct conn *c)
{
	return c->data;
}

size_t conn_out_bytes(const struct conn *c)
{
	return c->out_bytes;
}

/* The connection's number. */
uint64_t conn_id(const struct conn *c)
{
	return c->id;
}

/* The peer's pid. */
pid_t conn_pid(const struct conn *c)
{
	return c->pid;
}

/* The peer's pid namespace depth, read when it connected. */
int conn_pidns(const struct conn *c)
{
	return c->pidns;
}

/* The peer's uid is a tenant's. */
bool conn_tenant(const struct conn *c)
{
	return c->tenant;
}

/* The call being served. */
struct call *conn_current(const struct conn *c)
{
	return c->current;
}

/* Closed. */
bool conn_closed(const struct conn *c)
{
	return c->dead;
}

struct conn *call_conn(const struct call *call)
{
	return call->conn;
}

struct server *call_server(const struct call *call)
{
	return call->conn->srv;
}

/* The peer's uid. */
uid_t call_peer_uid(const struct call *call)
{
	return call->conn->uid;
}

/* The call's method. */
const char *call_method(const struct call *call)
{
	return call->vl.method;
}

/* The call's parameters (borrowed). */
json_object *call_parameters(const struct call *call)
{
	return call->vl.parameters;
}

/* Does the call ask for a stream of replies? */
bool call_more(const struct call *call)
{
	return call->vl.more;
}

/* Does the call ask for no reply? */
bool call_oneway(const struct call *call)
{
	return call->vl.oneway;
}

/* Does the call ask to leave Varlink for another protocol after its reply? */
bool call_upgrade(const struct call *call)
{
	return call->vl.upgrade;
}

/* The parameter json-c would have read other than written, NULL for none. */
const char *call_bad_parameter(const struct call *call)
{
	return call->vl.bad_parameter;
}

/* The descriptors that came with the call. */
const int *call_fds(const struct call *call, size_t *ret_n)
{
	*ret_n = call->nfds;
	return call->fds;
}

/* We wait on the client: for the rest of a message it began, or for it to read its replies.
 * Calls waiting behind one we are still serving are our delay, not the client's. */
static bool conn_waits_on_peer(const struct conn *c)
{
	/* Not served because its uid is over its reply budget, or because it yielded its share of the
	 * loop: other connections' stall (or ours), not this one's. */
	return c->out_bytes > 0 ||
	       (!c->current && !c->yielded && !conn_over_budget(c) && vl_framer_pending(&c->in) > 0);
}

/* Bytes we sent that still sit in the socket, unread by the peer; -1 if unknown. */
static int conn_outq(const struct conn *c)
{
	int n;

	return ioctl(c->fd, SIOCOUTQ, &n) < 0 ? -1 : n;
}

/* Start the stall timer over; note what the socket holds, to see the peer read from it. */
static void conn_arm_deadline(struct conn *c)
{
	unsigned ms = server_limits(c->srv)->partial_timeout_ms;
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };

	c->outq_mark = c->out_bytes > 0 ? conn_outq(c) : -1;
	c->flushed = 0;
	/* From now, not from when this loop turn began: building a big reply takes a while. */
	event_base_update_cache_time(server_base(c->srv));
	evtimer_add(c->deadline, &tv);
}

void conn_update_deadline(struct conn *c, bool progress)
{
	if (c->dead || !server_limits(c->srv)->partial_timeout_ms)
		return;
	if (!conn_waits_on_peer(c)) {
		evtimer_del(c->deadline);
		return;
	}
	if (!progress && evtimer_pending(c->deadline, NULL))
		return;
	conn_arm_deadline(c);
}

/* Reply bytes the peer took since the stall timer started: what the socket held then, plus what we wrote, minus what it holds. */
static size_t conn_taken(const struct conn *c)
{
	int q = c->outq_mark >= 0 ? conn_outq(c) : -1;

	if (q < 0)
		return c->flushed;
	return (size_t)c->outq_mark + c->flushed > (size_t)q ? (size_t)c->outq_mark + c->flushed - (size_t)q : 0;
}

/* No progress for the whole stall timeout: drop the client. Progress the loop
 * did not see counts too: the peer read some of what the socket holds (a slow
 * reader frees too little for the socket to turn writable); but taking less
 * than CONN_STALL_MIN_BYTES a timeout while replies wait is no progress. */
static void conn_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	size_t taken = 0;

	if (!conn_waits_on_peer(c))
		return;
	if (c->out_bytes > 0 && (taken = conn_taken(c)) >= CONN_STALL_MIN_BYTES) {
		conn_arm_deadline(c);
		return;
	}
	if (c->out_bytes > 0)
		log_notice("connection %llu (uid %u pid %d): stalled for %u ms, dropped (took %zu bytes of its "
			   "replies meanwhile, less than %u)", (unsigned long long)c->id, (unsigned)c->uid,
			   (int)c->pid, server_limits(c->srv)->partial_timeout_ms, taken, CONN_STALL_MIN_BYTES);
	else
		log_notice("connection %llu (uid %u pid %d): stalled for %u ms, dropped", (unsigned long long)c->id,
			   (unsigned)c->uid, (int)c->pid, server_limits(c->srv)->partial_timeout_ms);
	conn_close(c, "stalled");
}

/*
 * Something happened on the socket of a stream with a call unread behind it:
 * more data, a hang-up or a reset. The watch is edge-triggered, so the unread
 * call wakes nobody twice; poll() tells a hang-up from data.
 */
static void conn_hangup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct pollfd p = { .fd = c->fd, .events = POLLRDHUP };

	if (!c->current || !c->current->vl.more) {
		conn_unwatch_behind(c);
		return;
	}
	if (poll(&p, 1, 0) <= 0)
		return;
	if (p.revents & (POLLERR | POLLNVAL))
		conn_close(c, "peer gone during a streaming call (reset)");
	else if (p.revents & (POLLHUP | POLLRDHUP))
		conn_close(c, "peer hung up during a streaming call");
}

/*
 * Watch for the peer going while a call it sent behind a stream waits unread.
 * Level-triggered, that call would wake the loop at once for ever; and libevent
 * hands a reset (EPOLLERR) on as readable and writable, never as EV_CLOSED, so
 * a hang-up-only watch missed it and the loop spun at full CPU. On a duplicate
 * of the socket: epoll keys on the descriptor, and libevent refuses to mix
 * edge- and level-triggered events (rev, wev) on one.
 */
static void conn_watch_behind(struct conn *c)
{
	if (c->cev)
		return;
	c->cev_fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 3);
	if (c->cev_fd >= 0)
		c->cev = event_new(server_base(c->srv), c->cev_fd, EV_READ | EV_CLOSED | EV_ET | EV_PERSIST,
				   conn_hangup_cb, c);
	if (c->cev_fd < 0) {
		log_warn_errno(-errno, "connection %llu (uid %u pid %d): cannot watch for its hang-up behind a stream",
			       (unsigned long long)c->id, (unsigned)c->uid, (int)c->pid);
		conn_close(c, "cannot watch for hang-up");
	} else if (!c->cev || event_add(c->cev, NULL) < 0) {
		log_warnx("connection %llu (uid %u pid %d): cannot watch for its hang-up behind a stream: out of memory",
			  (unsigned long long)c->id, (unsigned)c->uid, (int)c->pid);
		conn_close(c, "cannot watch for hang-up");
	}
}

/* Stop that watch: its duplicate would keep the socket open. */
static void conn_unwatch_behind(struct conn *c)
{
	if (c->cev)
		event_free(c->cev);
	c->cev = NULL;
	if (c->cev_fd >= 0)
		close(c->cev_fd);
	c->cev_fd = -1;
}

/*
 * The same, while nothing unread waited: readable now means data, a hang-up
 * or a reset. A reset (the peer closed with our replies unread: a killed
 * `cgctl watch`) reaches libevent as EPOLLERR, which it hands on as readable
 * and writable, never as EV_CLOSED: with cev alone nobody took it, the loop
 * spun at full CPU and the stream's slot was held for good.
 */
static void conn_hangup_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	char b;
	ssize_t n;

	if (!c->current || !c->current->vl.more) {
		event_del(c->hev); /* the stream ended: reading resumes when the replies are out */
		return;
	}
	n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	if (n == 0)
		conn_close(c, "peer hung up during a streaming call");
	else if (n < 0 && errno != EAGAIN && errno != EINTR)
		conn_close(c, "peer gone during a streaming call (reset)");
	else if (n > 0) {
		/* A call sent behind the stream: left unread, so only a hang-up is watched from now on. */
		event_del(c->hev);
		conn_watch_behind(c);
	}
}

/* Keep descriptors that arrived with the data; too many ends the connection. */
static int conn_take_fds(struct conn *c, struct msghdr *mh)
{
	struct cmsghdr *cm;
	int r = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int *fds = (int *)CMSG_DATA(cm);
		for (size_t i = 0; i < n; i++) {
			struct stat st;

			/* Never a pidfd; kept, a socket could be this very connection's other end, which
			 * would then never close (no hang-up, no lease released). */
			if (fstat(fds[i], &st) == 0 && S_ISSOCK(st.st_mode)) {
				close(fds[i]);
				continue;
			}
			if (c->n_in_fds < ELEMENTSOF(c->in_fds)) {
				c->in_fds[c->n_in_fds++] = fds[i];
			} else {
				close(fds[i]);
				r = -EMFILE;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		r = -EMFILE;
	return r;
}

/* Read what the socket has into the framer. >0 bytes, 0 EOF, -errno. */
static int conn_recv(struct conn *c)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * CONN_IN_FDS_MAX)];
	} control;
	struct iovec iov;
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = &control, .msg_controllen = sizeof(control) };
	char *p;
	size_t avail;
	ssize_t n;
	int r;

	r = vl_framer_reserve(&c->in, 64 * 1024, &p, &avail);
	if (r < 0)
		return r;
	iov.iov_base = p;
	iov.iov_len = avail;
	n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
	if (n < 0)
		return -errno;
	r = conn_take_fds(c, &mh);
	if (r < 0)
		return r;
	vl_framer_commit(&c->in, (size_t)n);
	return (int)(n > 0);
}

/* A call is pending or replies back up: read no further calls (back-pressure). */
static bool conn_busy(const struct conn *c)
{
	return c->current || c->yielded || conn_backed_up(c);
}

/* Disarm reading until the connection is not busy; still notice a hang-up
 * during a streaming call, or a closed Watch would hold its slot forever. */
static void conn_stop_reading(struct conn *c)
{
	char b;

	event_del(c->rev);
	if (!c->current || !c->current->vl.more)
		return;
	/* Nothing unread: hev, which also takes a reset; a call already sent behind the stream: cev. */
	if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) > 0)
		conn_watch_behind(c);
	else
		event_add(c->hev, NULL);
}

/* Readable: pull bytes in, then serve whole calls. */
static void conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	int r;

	if (conn_busy(c)) {
		conn_stop_reading(c);
		return;
	}
	r = conn_recv(c);
	if (r == -EAGAIN || r == -EINTR)
		return;
	if (r == 0) {
		conn_close(c, "end of file");
		return;
	}
	if (r < 0) {
		log_debug("connection %llu: receive failed: %s", (unsigned long long)c->id,
			  strerror(-r));
		conn_close(c, "receive error");
		return;
	}
	conn_process_cb(-1, 0, c);
}

/* Its share spent: serve nothing more until the loop has polled (and so served the others' ready sockets). */
static void conn_yield(struct conn *c)
{
	static const struct timeval now = { 0, 0 };

	c->yielded = true;
	evtimer_add(c->yield_ev, &now);
}

/* Close c over a message vl_call_parse() refused with r. */
static void conn_refuse_message(struct conn *c, int r)
{
	if (r == -E2BIG) {
		log_notice("connection %llu (uid %u): message of over %u values, dropped",
			   (unsigned long long)c->id, (unsigned)c->uid, VL_CALL_VALUES_MAX);
		conn_close(c, "message with too many values");
		return;
	}
	log_notice("connection %llu (uid %u): malformed message, dropped", (unsigned long long)c->id,
		   (unsigned)c->uid);
	conn_close(c, "malformed message");
}

/* Serve complete calls in order while no call is pending and output is not backed up. */
static void conn_process(struct conn *c)
{
	uint64_t start = now_mono_usec();
	unsigned served = 0;
	bool took = false;

	/* Not even a call that completed meanwhile brings it back before its timer. */
	if (c->yielded)
		return;
	while (!c->dead && !c->current && !conn_backed_up(c)) {
		const char *msg;
		size_t len;
		struct call *call;
		int r;

		if (served >= CONN_TURN_CALLS_MAX ||
		    (served > 0 && now_mono_usec() - start >= CONN_TURN_USEC && vl_framer_pending(&c->in))) {
			conn_yield(c);
			break;
		}
		r = vl_framer_next(&c->in, &msg, &len);
		if (r == 0)
			break;
		if (r < 0) {
			log_notice("connection %llu (uid %u): message over %zu bytes, dropped",
				   (unsigned long long)c->id, (unsigned)c->uid,
				   server_limits(c->srv)->message_max);
			conn_close(c, "message too large");
			return;
		}
		call = calloc(1, sizeof(*call));
		if (!call) {
			conn_close(c, "out of memory");
			return;
		}
		r = vl_call_parse(msg, len, &call->vl);
		if (r < 0) {
			free(call);
			conn_refuse_message(c, r);
			return;
		}
		/* Descriptors received so far belong to this call. */
		if (c->n_in_fds > 0) {
			call->fds = malloc(sizeof(int) * c->n_in_fds);
			if (!call->fds) {
				vl_call_done(&call->vl);
				free(call);
				conn_close(c, "out of memory");
				return;
			}
			memcpy(call->fds, c->in_fds, sizeof(int) * c->n_in_fds);
			call->nfds = c->n_in_fds;
			c->n_in_fds = 0;
		}
		call->conn = c;
		c->refs++;
		c->current = call;
		took = true;
		served++;
		server_dispatch(c->srv, call);
	}
	if (!c->dead) {
		if (conn_busy(c)) {
			/* The read event stays armed: a client waiting for its reply sends
			 * nothing, and disarming it around every call costs two epoll_ctl.
			 * conn_read_cb() disarms it if the client sends while we are busy. */
			if (c->current && c->current->vl.more)
				conn_stop_reading(c);
		} else {
			conn_unwatch_behind(c);
			event_del(c->hev);
			event_add(c->rev, NULL);
		}
		conn_update_deadline(c, took);
	}
}

/* Run conn_process() holding a reference: a handler may close the connection. */
static void conn_process_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->refs++;
	conn_process(c);
	conn_unref(c);
}

/* The loop has polled since the connection yielded: its turn again. */
static void conn_yield_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	c->yielded = false;
	conn_process_cb(fd, what, c);
}

/* True when the client is gone or has hung up (EOF waiting unread); nothing is consumed. */
bool call_peer_gone(const struct call *call)
{
	char b;

	if (call->conn->dead)
		return true;
	return recv(call->conn->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}
