/* SPDX-License-Identifier: MIT */
/* libcgctl.c: the connection: socket transport with deadlines and fd passing, error mapping, raw calls. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "errors.h"
#include "libcgctl-internal.h"
#include "names.h"
#include "paths.h"
#include "varlink.h"

/* Bytes asked of the framer for each read. */
#define RECV_CHUNK 16384u
/* Pause between connect attempts while the daemon's backlog is full. */
#define CONNECT_RETRY_MS 10

struct cgctl {
	int fd;
	int timeout_ms;
	int broken;          /* 0, or the code of the failure that broke the stream */
	unsigned n_pending;  /* calls sent whose final reply is still to be read */
	struct libcgctl_stream stream; /* the "more" call in progress, if any */
	struct vl_framer in; /* bytes received, split into messages */
	int in_fds[LIBCGCTL_FDS_MAX]; /* received, not yet handed to a reply */
	size_t n_in_fds;
	int fds_lost; /* 0, or -EMFILE/-ENFILE: the kernel dropped descriptors of the reply being read */
	char *error_name;
	char *error_message;
};

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* CLOCK_MONOTONIC now, in microseconds. */
static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Deadline of a call starting now. */
uint64_t libcgctl_deadline(const cgctl *c)
{
	return now_usec() + (uint64_t)c->timeout_ms * 1000u;
}

/* Deadline timeout_ms from now; a negative timeout never passes (LIBCGCTL_NO_DEADLINE). */
uint64_t libcgctl_deadline_in(int timeout_ms)
{
	return timeout_ms < 0 ? LIBCGCTL_NO_DEADLINE : now_usec() + (uint64_t)timeout_ms * 1000u;
}

/* Milliseconds for poll() until deadline, rounded up so a sub-millisecond remainder still waits. */
static int poll_ms(uint64_t deadline, uint64_t now)
{
	uint64_t ms;

	if (deadline == LIBCGCTL_NO_DEADLINE)
		return -1;
	ms = (deadline - now + 999u) / 1000u;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Wait until fd is ready for events or the deadline passes (-ETIMEDOUT). */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	uint64_t now;
	int r;

	for (;;) {
		now = now_usec();
		if (now >= deadline)
			return -ETIMEDOUT;
		r = poll(&p, 1, poll_ms(deadline, now));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (p.revents & POLLNVAL)
			return -EBADF;
		return 0; /* errors and hang-ups surface in the next send or recv */
	}
}

/* Close every descriptor in fds[0..n). */
static void close_fds(int *fds, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* Forget the last error. */
void libcgctl_clear_error(cgctl *c)
{
	free(c->error_name);
	free(c->error_message);
	c->error_name = c->error_message = NULL;
}

/* Keep name and message as the handle's error; returns r so callers can "return set_error(...)". */
int libcgctl_set_error(cgctl *c, int r, const char *name, const char *message)
{
	libcgctl_clear_error(c);
	if (name)
		c->error_name = strdup(name);
	if (message)
		c->error_message = strdup(message);
	return r;
}

/* Connect fd to path, retrying while the listener's backlog is full (EAGAIN). */
static int connect_unix(int fd, const char *path, uint64_t deadline)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t len = strlen(path);

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);

	for (;;) {
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 || errno == EISCONN)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS)
			break;
		if (errno != EAGAIN)
			return -errno;
		if (now_usec() + CONNECT_RETRY_MS * 1000u >= deadline)
			return -ETIMEDOUT;
		poll(NULL, 0, CONNECT_RETRY_MS);
	}

	/* In progress: writable when done, SO_ERROR says how it went. */
	int r = wait_fd(fd, POLLOUT, deadline), err = 0;
	socklen_t elen = sizeof(err);
	if (r < 0)
		return r;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
		return -errno;
	return err ? -err : 0;
}

/* Connect to cgctld; socket_path NULL: $CGCTL_SOCKET, else the per-user default. */
CGCTL_EXPORT int cgctl_connect(const char *socket_path, cgctl **ret)
{
	_cleanup_free_ char *def = NULL;
	_cleanup_close_ int fd = -1;
	const char *env;
	cgctl *c;
	int r;

	libcgctl_connect_error_clear();
	if (!ret)
		return -EINVAL;
	if (!socket_path) {
		env = secure_getenv("CGCTL_SOCKET");
		if (env && env[0]) {
			socket_path = env;
		} else {
			r = proto_default_socket_path(&def);
			if (r < 0)
				return r;
			socket_path = def;
		}
	}
	r = proto_check_socket_path(socket_path);
	if (r < 0)
		return r;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	r = connect_unix(fd, socket_path, now_usec() + CGCTL_TIMEOUT_DEFAULT_MS * 1000u);
	if (r < 0)
		return r;
	r = libcgctl_check_peer(fd, socket_path);
	if (r < 0)
		return r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fd = TAKE_FD(fd);
	c->timeout_ms = CGCTL_TIMEOUT_DEFAULT_MS;
	vl_framer_init(&c->in, LIBCGCTL_REPLY_MAX);
	*ret = c;
	return 0;
}

/* Close and free; NULL-safe. */
CGCTL_EXPORT cgctl *cgctl_disconnect(cgctl *c)
{
	if (!c)
		return NULL;
	if (c->fd >= 0)
		close(c->fd);
	close_fds(c->in_fds, c->n_in_fds);
	vl_framer_free(&c->in);
	libcgctl_clear_error(c);
	free(c);
	return NULL;
}

/* Set the bound of every later call. */
CGCTL_EXPORT int cgctl_set_timeout(cgctl *c, int timeout_ms)
{
	if (!c || timeout_ms <= 0)
		return libcgctl_bad_args(c, __func__);
	c->timeout_ms = timeout_ms;
	return 0;
}

/* The last error's Varlink name. */
CGCTL_EXPORT const char *cgctl_error_name(const cgctl *c)
{
	return c ? c->error_name : NULL;
}

/* The last error's message; without a handle, why this thread's last connect failed. */
CGCTL_EXPORT const char *cgctl_error_message(const cgctl *c)
{
	return c ? c->error_message : libcgctl_connect_error();
}

/* Write the whole buffer, the descriptors riding with its first byte. */
static int send_all(cgctl *c, const char *buf, size_t len, const int *fds, size_t n_fds,
		    uint64_t deadline)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * LIBCGCTL_FDS_MAX)];
	} ctl;
	size_t off = 0;
	ssize_t n;
	int r;

	if (n_fds > LIBCGCTL_FDS_MAX)
		return -E2BIG;
	while (off < len) {
		struct iovec iov = { .iov_base = (char *)buf + off, .iov_len = len - off };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

		if (n_fds > 0) {
			memset(&ctl, 0, sizeof(ctl));
			mh.msg_control = &ctl;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
			memcpy(CMSG_DATA(cm), fds, sizeof(int) * n_fds);
		}
		n = sendmsg(c->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE || errno == ECONNRESET)
				return -ECONNRESET;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(c->fd, POLLOUT, deadline);
			if (r < 0)
				return r;
			continue;
		}
		off += (size_t)n;
		n_fds = 0;
	}
	return 0;
}

/* Mark the stream unusable: bytes may be half-sent or a reply half-read. */
static int set_broken(cgctl *c, int r)
{
	/* Our descriptor limit costs one reply its descriptors, not the stream its step (fds_truncated()). */
	if (r < 0 && r != -ENOMEM && r != -EMFILE && r != -ENFILE && !c->broken) {
		c->broken = r;
		c->stream.active = false;
	}
	return r;
}

/* Send one call. */
int libcgctl_send(cgctl *c, const char *method, json_object *params, unsigned flags,
		  const int *fds, size_t n_fds, uint64_t deadline)
{
	_cleanup_free_ char *buf = NULL;
	size_t len;
	int r;

	if (c->broken)
		return -ENOTCONN;
	r = vl_call_format(method, params, flags & LIBCGCTL_CALL_MORE,
			   flags & LIBCGCTL_CALL_ONEWAY, &buf, &len);
	if (r < 0)
		return r;
	r = send_all(c, buf, len, fds, n_fds, deadline);
	if (r < 0)
		return set_broken(c, r);
	if (!(flags & LIBCGCTL_CALL_ONEWAY))
		c->n_pending++;
	return 0;
}

/*
 * Why the kernel cut descriptors off a message (MSG_CTRUNC): at our
 * descriptor limit it installs none and says only that; the bytes are whole,
 * so the reply they belong to fails with -EMFILE and the stream goes on.
 * Anything else (more descriptors than we take) is -EPROTO.
 */
static int fds_truncated(cgctl *c)
{
	int fd = fcntl(c->fd, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0) {
		close(fd);
		return -EPROTO;
	}
	if (errno != EMFILE && errno != ENFILE)
		return -EPROTO;
	c->fds_lost = -errno;
	return 0;
}

/* Keep the descriptors of a received control message; -EPROTO when some were lost. */
static int take_fds(cgctl *c, struct msghdr *mh)
{
	struct cmsghdr *cm;
	int r = 0;

	for (cm = CMSG_FIRSTHDR(mh); cm; cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		size_t i, n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
			if (c->n_in_fds < LIBCGCTL_FDS_MAX)
				c->in_fds[c->n_in_fds++] = fd;
			else {
				close(fd);
				r = -EPROTO;
			}
		}
	}
	if ((mh->msg_flags & MSG_CTRUNC) && r == 0)
		r = fds_truncated(c);
	return r;
}

/* Read what is available (waiting up to the deadline) into the framer. */
static int recv_some(cgctl *c, uint64_t deadline)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * LIBCGCTL_FDS_MAX)];
	} ctl;
	size_t avail;
	ssize_t n;
	char *p;
	int r;

	r = vl_framer_reserve(&c->in, RECV_CHUNK, &p, &avail);
	if (r < 0)
		return r;
	for (;;) {
		struct iovec iov = { .iov_base = p, .iov_len = avail };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &ctl, .msg_controllen = sizeof(ctl) };

		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ECONNRESET || errno == EPIPE)
				return -ECONNRESET;
			if (errno != EAGAIN)
				return -errno;
			r = wait_fd(c->fd, POLLIN, deadline);
			if (r < 0)
				return r;
			continue;
		}
		r = take_fds(c, &mh);
		if (n == 0)
			return -ECONNRESET; /* the daemon hung up before the reply was complete */
		vl_framer_commit(&c->in, (size_t)n);
		return r;
	}
}

/* Turn one framed message into a reply owning the descriptors received so far. */
static int parse_reply(cgctl *c, const char *msg, size_t len, struct libcgctl_reply *ret)
{
	struct libcgctl_reply rep = {};
	int r;

	r = vl_reply_parse(msg, len, &rep.vl);
	if (r < 0)
		return r == -ENOMEM ? r : -EPROTO;
	if (c->n_pending == 0) { /* a reply nobody asked for */
		vl_reply_done(&rep.vl);
		return -EPROTO;
	}
	if (c->fds_lost) { /* its descriptors never reached us: the call fails, the stream is in step */
		r = c->fds_lost;
		c->fds_lost = 0;
		close_fds(c->in_fds, c->n_in_fds);
		c->n_in_fds = 0;
		if (!rep.vl.continues || rep.vl.error)
			c->n_pending--;
		vl_reply_done(&rep.vl);
		return r;
	}
	if (c->n_in_fds > 0) {
		rep.fds = malloc(sizeof(int) * c->n_in_fds);
		if (!rep.fds) {
			vl_reply_done(&rep.vl);
			return -ENOMEM;
		}
		memcpy(rep.fds, c->in_fds, sizeof(int) * c->n_in_fds);
		rep.n_fds = c->n_in_fds;
		c->n_in_fds = 0;
	}
	if (!rep.vl.continues || rep.vl.error)
		c->n_pending--;
	*ret = rep;
	return 0;
}

/* A text decoder offered the next reply (libcgctl_transact_text()). */
struct text_offer {
	libcgctl_text_fn decode;
	void *userdata;
};

/* Let t decode a framed message: 1 when it took it (a final success reply), 0 when it left it. */
static int offer_text(cgctl *c, const char *msg, size_t len, const struct text_offer *t)
{
	if (c->n_pending == 0 || c->fds_lost || t->decode(msg, len, t->userdata) < 0)
		return 0; /* parse_reply() judges it */
	close_fds(c->in_fds, c->n_in_fds);
	c->n_in_fds = 0;
	c->n_pending--;
	return 1;
}

/* Read the next reply (1 when t took it); judging a failure is the caller's business. */
static int recv_next(cgctl *c, uint64_t deadline, const struct text_offer *t, struct libcgctl_reply *ret)
{
	const char *msg;
	size_t len;
	int r;

	for (;;) {
		r = vl_framer_next(&c->in, &msg, &len);
		if (r < 0)
			return r;
		if (r > 0 && t && offer_text(c, msg, len, t))
			return 1;
		if (r > 0)
			return parse_reply(c, msg, len, ret);
		r = recv_some(c, deadline);
		if (r < 0)
			return r;
	}
}

/* Read the next reply; any failure leaves the stream out of step, so it breaks it. */
int libcgctl_recv(cgctl *c, uint64_t deadline, struct libcgctl_reply *ret)
{
	if (c->broken)
		return -ENOTCONN;
	return set_broken(c, recv_next(c, deadline, NULL, ret));
}

/*
 * libcgctl_recv() for the replies of a "more" call: waiting for the next one
 * is open-ended, so a timeout keeps the bytes read so far and the stream in
 * step; only other failures break it.
 */
int libcgctl_recv_stream(cgctl *c, uint64_t deadline, struct libcgctl_reply *ret)
{
	int r;

	if (c->broken)
		return -ENOTCONN;
	r = recv_next(c, deadline, NULL, ret);
	return r == -ETIMEDOUT ? r : set_broken(c, r);
}

/* Give up on the connection (a stream that never started in time); returns r. */
int libcgctl_set_broken(cgctl *c, int r)
{
	return set_broken(c, r);
}

int libcgctl_fd(const cgctl *c)
{
	return c->fd;
}

/* No reply owed. */
bool libcgctl_idle(const cgctl *c)
{
	return c->n_pending == 0;
}

struct libcgctl_stream *libcgctl_stream_of(cgctl *c)
{
	return &c->stream;
}

/* Release a reply, closing descriptors nobody took (taken ones are set to -1). */
void libcgctl_reply_done(struct libcgctl_reply *r)
{
	if (!r)
		return;
	vl_reply_done(&r->vl);
	close_fds(r->fds, r->n_fds);
	free(r->fds);
	r->fds = NULL;
	r->n_fds = 0;
}

/* Keep a daemon error's name and message on the handle; returns its code. */
int libcgctl_reply_error(cgctl *c, struct libcgctl_reply *rep)
{
	json_object *m = NULL;
	const char *msg = NULL;

	if (json_object_object_get_ex(rep->vl.parameters, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		msg = json_object_get_string(m);
	return libcgctl_set_error(c, libcgctl_error_to_code(rep->vl.error, rep->vl.parameters),
				  rep->vl.error, msg);
}

/* Hand the reply's descriptors to x (when it wants them); the reply keeps none. */
static int take_reply_fds(struct libcgctl_reply *rep, struct libcgctl_xfer *x)
{
	if (!x || rep->n_fds == 0)
		return 0;
	x->ret_fds = TAKE_PTR(rep->fds);
	x->n_ret_fds = rep->n_fds;
	rep->n_fds = 0;
	return 0;
}

/* The outcome of a call whose reply was read: its parameters, or the daemon's error kept on the handle. */
static int reply_outcome(cgctl *c, struct libcgctl_reply *rep, struct libcgctl_xfer *x,
			 json_object **ret_params, json_object **ret_error_params)
{
	int r;

	if (rep->vl.continues)
		return set_broken(c, -EPROTO); /* "continues" without "more" */
	if (rep->vl.error) {
		r = libcgctl_reply_error(c, rep);
		if (ret_error_params)
			*ret_error_params = json_object_get(rep->vl.parameters);
		return r;
	}
	take_reply_fds(rep, x);
	if (ret_params)
		*ret_params = json_object_get(rep->vl.parameters);
	return 0;
}

/* Checks before a call starts: the handle must be usable and idle. */
static int transact_begin(cgctl *c)
{
	libcgctl_clear_error(c);
	if (c->broken)
		return -ENOTCONN;
	if (c->n_pending > 0)
		return -EBUSY; /* replies of pipelined calls must be read first */
	return 0;
}

/* One call, one reply, with descriptors both ways and a longer bound when asked. */
int libcgctl_transact_ex(cgctl *c, const char *method, json_object *params, struct libcgctl_xfer *x,
			 json_object **ret_params, json_object **ret_error_params)
{
	_cleanup_(libcgctl_reply_done) struct libcgctl_reply rep = {};
	uint64_t deadline = libcgctl_deadline(c);
	int r;

	r = transact_begin(c);
	if (r < 0)
		return r;
	if (x && x->extra_ms > 0)
		deadline += (uint64_t)x->extra_ms * 1000u;
	r = libcgctl_send(c, method, params, 0, x ? x->fds : NULL, x ? x->n_fds : 0, deadline);
	if (r < 0)
		return r;
	r = libcgctl_recv(c, deadline, &rep);
	if (r < 0)
		return r;
	return reply_outcome(c, &rep, x, ret_params, ret_error_params);
}

/* One call whose reply decode may take straight from its text. */
int libcgctl_transact_text(cgctl *c, const char *method, json_object *params, libcgctl_text_fn decode,
			   void *userdata, json_object **ret_params)
{
	_cleanup_(libcgctl_reply_done) struct libcgctl_reply rep = {};
	const struct text_offer t = { decode, userdata };
	uint64_t deadline = libcgctl_deadline(c);
	int r;

	*ret_params = NULL;
	r = transact_begin(c);
	if (r < 0)
		return r;
	r = libcgctl_send(c, method, params, 0, NULL, 0, deadline);
	if (r < 0)
		return r;
	r = set_broken(c, recv_next(c, deadline, &t, &rep));
	if (r != 0)
		return r < 0 ? r : 0;
	return reply_outcome(c, &rep, NULL, ret_params, NULL);
}

/* One call, one reply; descriptors that come with it are closed. */
int libcgctl_transact(cgctl *c, const char *method, json_object *params,
		      json_object **ret_params, json_object **ret_error_params)
{
	return libcgctl_transact_ex(c, method, params, NULL, ret_params, ret_error_params);
}

/* Refuse in params_json (an object) what the daemon would: a key twice (json-c would keep one), a lone surrogate, "\u0000", too many values. */
static int check_params(cgctl *c, const char *params_json)
{
	_cleanup_free_ char *msg = NULL;
	struct vl_call call = { 0 };
	char why[256];
	int r, len;

	/* The daemon's own reading: the call it would receive, but for the method. */
	len = asprintf(&msg, "{\"method\":\"a.B\",\"parameters\":%s}", params_json);
	if (len < 0)
		return -ENOMEM;
	r = vl_call_parse(msg, (size_t)len, &call);
	if (r == -E2BIG)
		snprintf(why, sizeof(why), "parameters hold more than %u values (objects, arrays, members, elements)",
			 VL_CALL_VALUES_MAX);
	else if (r < 0)
		snprintf(why, sizeof(why), "parameters are not JSON");
	else if (call.bad_parameter)
		snprintf(why, sizeof(why), "parameter '%.128s' holds a key written twice, a lone UTF-16 surrogate escape or a NUL (\\u0000)",
			 call.bad_parameter);
	if (r < 0 || call.bad_parameter)
		r = libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE), why);
	vl_call_done(&call);
	return r;
}

/* Parse params_json as the parameters of a call: NULL or a JSON object. */
static int parse_params(cgctl *c, const char *params_json, json_object **ret)
{
	_cleanup_json_ json_object *o = NULL;
	enum json_tokener_error jerr;
	int r;

	if (!params_json) {
		*ret = NULL;
		return 0;
	}
	o = json_tokener_parse_verbose(params_json, &jerr);
	if (!o || !json_object_is_type(o, json_type_object))
		return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE),
					  o ? "parameters are not a JSON object"
					    : json_tokener_error_desc(jerr));
	if ((r = check_params(c, params_json)) < 0)
		return r;
	*ret = TAKE_PTR(o);
	return 0;
}

/* Compact text of a JSON value, malloc'd. */
int libcgctl_json_text(json_object *o, char **ret)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
	char *d = s ? strdup(s) : NULL;

	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* Method (a bare name is io.cgctl.Manager's) and parameters of a raw call, checked. */
int libcgctl_call_prepare(cgctl *c, const char *method, const char *params_json, char **ret_method,
			  json_object **ret_params)
{
	_cleanup_json_ json_object *params = NULL;
	char *full = NULL;
	int r;

	r = parse_params(c, params_json, &params);
	if (r < 0)
		return r;
	if (strchr(method, '.'))
		full = strdup(method);
	else if (asprintf(&full, "%s.%s", CGCTL_INTERFACE, method) < 0)
		full = NULL;
	if (!full)
		return -ENOMEM;
	*ret_method = full;
	*ret_params = TAKE_PTR(params);
	return 0;
}

/* Raw call; a bare method name means one of io.cgctl.Manager. */
CGCTL_EXPORT int cgctl_call(cgctl *c, const char *method, const char *params_json,
			    char **ret_reply_json)
{
	_cleanup_json_ json_object *params = NULL, *reply = NULL, *err = NULL;
	_cleanup_free_ char *full = NULL;
	int r, k;

	if (!c || !method || !method[0] || !ret_reply_json)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	r = libcgctl_call_prepare(c, method, params_json, &full, &params);
	if (r < 0)
		return r;
	r = libcgctl_transact(c, full, params, &reply, &err);
	if (r < 0 && err) {
		k = libcgctl_json_text(err, ret_reply_json);
		return k < 0 ? k : r;
	}
	if (r < 0)
		return r;
	return libcgctl_json_text(reply, ret_reply_json);
}
