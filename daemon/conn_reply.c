/* SPDX-License-Identifier: MIT */
/* conn_reply.c: a call's replies: formatted, queued in order, written with their fds, charged to the uid's reply budget. */
#include "conn_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "log.h"
#include "now.h"
#include "replylog.h"
#include "server.h"

/* One queued reply; fd (or -1) travels with its first byte. */
struct out_msg {
	TAILQ_ENTRY(out_msg) entry;
	char *buf;
	size_t len, off;
	int fd;
};

/* c's uid went over its reply budget again: count it; log it, at most one line per uid per limits.budget_log_usec. */
static void conn_budget_note(struct conn *c, size_t budget)
{
	struct peer_uid *p = c->peer;
	uint64_t now = now_mono_usec();

	p->over++;
	if (p->logged_usec && now - p->logged_usec < server_limits(c->srv)->budget_log_usec)
		return;
	log_notice("uid %u: %zu bytes of replies unread, its budget %zu: its connections that hold replies are not "
		   "served until they read (over its budget %llu times, %llu since the last such line)",
		   (unsigned)p->uid, p->reply_bytes, budget, (unsigned long long)p->over,
		   (unsigned long long)(p->over - p->over_logged));
	p->over_logged = p->over;
	p->logged_usec = now ? now : 1;
}

/* Count n more queued reply bytes against c and its uid. */
static void conn_charge(struct conn *c, size_t n)
{
	struct peer_uid *p = c->peer;
	size_t budget = server_reply_budget(c->srv, p);
	bool was_over = p->reply_bytes >= budget;

	c->out_bytes += n;
	p->reply_bytes += n;
	if (!was_over && p->reply_bytes >= budget)
		conn_budget_note(c, budget);
}

void conn_discharge(struct conn *c, size_t n)
{
	struct peer_uid *p = c->peer;
	size_t budget = server_reply_budget(c->srv, p);
	bool was_over = p->reply_bytes >= budget, was_full = p->reply_bytes / 2 >= budget;

	c->out_bytes -= n;
	p->reply_bytes -= n;
	if ((was_over && p->reply_bytes < budget) || (was_full && p->reply_bytes / 2 < budget))
		server_peer_resume(c->srv, p);
}

bool conn_over_budget(const struct conn *c)
{
	size_t budget;

	if (!c->peer || c->peer->reply_bytes < (budget = server_reply_budget(c->srv, c->peer)))
		return false;
	return c->out_bytes > 0 || c->peer->reply_bytes / 2 >= budget;
}

bool conn_backed_up(const struct conn *c)
{
	return c->out_bytes >= server_limits(c->srv)->out_max || c->out_fds >= CONN_OUT_FDS_MAX || conn_over_budget(c);
}

void conn_drop_output(struct conn *c)
{
	struct out_msg *m;

	while ((m = TAILQ_FIRST(&c->out))) {
		TAILQ_REMOVE(&c->out, m, entry);
		if (m->fd >= 0)
			close(m->fd);
		free(m->buf);
		free(m);
	}
	c->out_fds = 0;
}

/* Write queued replies; a reply's fd goes with its first byte. Bytes the peer took (>= 0) or -errno. */
static ssize_t conn_flush(struct conn *c)
{
	struct out_msg *m;
	ssize_t total = 0;

	while ((m = TAILQ_FIRST(&c->out))) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int))];
		} control;
		struct iovec iov = { m->buf + m->off, m->len - m->off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;

		if (m->off == 0 && m->fd >= 0) {
			memset(&control, 0, sizeof(control));
			mh.msg_control = &control;
			mh.msg_controllen = sizeof(control);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &m->fd, sizeof(int));
		}
		n = sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? total : -errno;
		if (m->fd >= 0) {
			close(m->fd);
			m->fd = -1;
			c->out_fds--;
		}
		m->off += (size_t)n;
		c->flushed += (size_t)n;
		conn_discharge(c, (size_t)n);
		total += n;
		if (m->off < m->len)
			continue;
		TAILQ_REMOVE(&c->out, m, entry);
		free(m->buf);
		free(m);
	}
	return total;
}

void conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t r = conn_flush(c);

	if (r < 0) {
		conn_close(c, "send error");
		return;
	}
	if (TAILQ_EMPTY(&c->out))
		event_del(c->wev);
	if (!conn_backed_up(c) && !c->current)
		event_active(c->pev, 0, 0);
	conn_update_deadline(c, c->flushed >= CONN_STALL_MIN_BYTES);
}

/* Queue a formatted message (buf and fd consumed) and try to send it now. */
static int conn_queue(struct conn *c, char *buf, size_t len, int fd)
{
	struct out_msg *m;
	ssize_t r;

	if (c->dead) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -ECONNRESET;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		free(buf);
		if (fd >= 0)
			close(fd);
		return -ENOMEM;
	}
	m->buf = buf;
	m->len = len;
	m->fd = fd;
	TAILQ_INSERT_TAIL(&c->out, m, entry);
	conn_charge(c, len);
	c->out_fds += fd >= 0;
	r = conn_flush(c);
	if (r < 0) {
		conn_close(c, "send error");
		return (int)r;
	}
	if (!TAILQ_EMPTY(&c->out))
		event_add(c->wev, NULL);
	conn_update_deadline(c, c->flushed >= CONN_STALL_MIN_BYTES);
	return 0;
}

/* Format and queue one reply unless the call was oneway. */
static int call_send(struct call *call, const char *error, json_object *params, bool continues, int fd)
{
	char *buf;
	size_t len;
	int r;

	if (call->vl.oneway || call->conn->dead) {
		json_object_put(params);
		if (fd >= 0)
			close(fd);
		return 0;
	}
	r = vl_reply_format(error, params, continues, &buf, &len);
	json_object_put(params);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		conn_close(call->conn, "out of memory");
		return r;
	}
	replylog_write(server_reply_log_fd(call->conn->srv), call->vl.method, call->vl.more, buf, len);
	return conn_queue(call->conn, buf, len, fd);
}

void call_drop_fds(struct call *call)
{
	for (size_t i = 0; i < call->nfds; i++)
		close(call->fds[i]);
	free(call->fds);
	call->fds = NULL;
	call->nfds = 0;
}

/* Free a finished call and let its connection go on to the next one. */
static void call_finish(struct call *call)
{
	struct conn *c = call->conn;

	call_drop_fds(call);
	vl_call_done(&call->vl);
	if (c->current == call)
		c->current = NULL;
	free(call);
	/* Resume on the next loop turn, never from inside a handler. */
	if (!c->dead)
		event_active(c->pev, 0, 0);
	conn_unref(c);
}

/* Final successful reply. */
void call_reply(struct call *call, json_object *params)
{
	call_send(call, NULL, params, false, -1);
	call_finish(call);
}

/* Final reply carrying one fd. */
void call_reply_fd(struct call *call, json_object *params, int fd)
{
	call_send(call, NULL, params, false, fd);
	call_finish(call);
}

/* Streaming reply; the call stays open. */
int call_reply_more(struct call *call, json_object *params)
{
	if (!call->vl.more) {
		json_object_put(params);
		return -EINVAL;
	}
	return call_send(call, NULL, params, true, -1);
}

/* Error reply. */
void call_error(struct call *call, enum cgerr e, json_object *params)
{
	if (!params)
		params = json_object_new_object();
	call_send(call, cgerr_name(e), params, false, -1);
	call_finish(call);
}

/* Error reply with {key: value, "message": ...}. */
void call_errorf(struct call *call, enum cgerr e, const char *key, const char *value,
		 const char *fmt, ...)
{
	json_object *p = json_object_new_object();
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (key)
		json_object_object_add(p, key, json_object_new_string(value ? value : ""));
	json_object_object_add(p, "message", json_object_new_string(msg));
	call_error(call, e, p);
}

/* SystemError {errno, message}. */
void call_error_errno(struct call *call, int r, const char *fmt, ...)
{
	json_object *p = json_object_new_object();
	char msg[1024];
	size_t n;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(r < 0 ? -r : r));
	json_object_object_add(p, "errno", json_object_new_int(r < 0 ? -r : r));
	json_object_object_add(p, "message", json_object_new_string(msg));
	call_error(call, CGERR_SYSTEM_ERROR, p);
}

