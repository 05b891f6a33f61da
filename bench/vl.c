/* SPDX-License-Identifier: MIT */
/* vl.c: raw Varlink over the socket, and the phases that need it: List's reply and idle Watch streams. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cgctl.h"
#include "cgbench.h"
#include "cleanup.h"

/* ---- raw Varlink over a socket ---- */

/* Connect a stream socket to path. */
static int vl_connect(const char *path)
{
	return unix_socket(path, SOCK_STREAM, false);
}

/* Send one message, NUL included. */
static int vl_send(int fd, const char *msg)
{
	size_t len = strlen(msg) + 1;

	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, msg + off, len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -errno;
		off += (size_t)n;
	}
	return 0;
}

/* Read one message up to its NUL into a malloc'd buffer (NUL-terminated). */
static int vl_recv(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 65536;
	char *buf = malloc(cap);

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n < 0 ? -errno : -ECONNRESET;
		}
		if (memchr(buf + len, '\0', (size_t)n)) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* ---- List ---- */

/* Time List of everything: through cgctl_list(), and raw bytes over the socket. */
int bench_list(struct bench *b)
{
	double lib[16], raw[16];
	unsigned reps = b->list_reps > 16 ? 16 : b->list_reps;
	size_t bytes = 0, n = 0;
	json_object *o;
	cgctl *c = NULL;
	int r = cgctl_connect(b->sock, &c);

	if (r < 0 || (r = cgctl_set_timeout(c, CALL_TIMEOUT_MS)) < 0) {
		cgctl_disconnect(c);
		return r;
	}
	perf_begin(b, b->existing >= b->large_n ? "list-large" : "list-small");
	for (unsigned i = 0; i < reps && r >= 0; i++) {
		struct cgctl_entry **e = NULL;
		uint64_t t0 = now_ns();

		r = cgctl_list(c, NULL, &e, &n);
		lib[i] = (double)(now_ns() - t0) / 1e6;
		cgctl_entries_free(e, n);
	}
	for (unsigned i = 0; i < reps && r >= 0; i++) {
		_cleanup_close_ int fd = vl_connect(b->sock);
		_cleanup_free_ char *reply = NULL;
		uint64_t t0 = now_ns();

		r = fd < 0 ? fd : vl_send(fd, "{\"method\":\"io.cgctl.Manager.List\",\"parameters\":{}}");
		if (r >= 0)
			r = vl_recv(fd, &reply, &bytes);
		raw[i] = (double)(now_ns() - t0) / 1e6;
	}
	perf_end(b);
	cgctl_disconnect(c);
	if (r < 0)
		return r;
	if (n != b->existing)
		note("warning: List returned %zu entries, expected %u", n, b->existing);
	o = json_object_new_object();
	json_object_object_add(o, "entries", json_object_new_int64((int64_t)n));
	/* The first List may find entries nothing followed yet (it follows them): apart. */
	jnum(o, "first_libcgctl_ms", lib[0]);
	jnum(o, "libcgctl_ms", median(lib, reps));
	jnum(o, "raw_ms", median(raw, reps));
	json_object_object_add(o, "reply_bytes", json_object_new_int64((int64_t)bytes));
	json_object_array_add(jarr(b->res, "list"), o);
	note("List of %zu: %.1f ms through libcgctl (the first %.1f ms), %.1f ms raw (%zu bytes)", n,
	     jget(o, "libcgctl_ms"), jget(o, "first_libcgctl_ms"), jget(o, "raw_ms"), bytes);
	return 0;
}

/* ---- idle watchers ---- */

/* Open n idle Watch streams (first reply "watching"), measure RSS, close them. */
int bench_watchers(struct bench *b, const char *key)
{
	_cleanup_free_ int *fds = calloc(b->watchers ? b->watchers : 1, sizeof(int));
	unsigned open_n = 0;
	int r = 0;

	if (!fds)
		return -ENOMEM;
	for (; open_n < b->watchers; open_n++) {
		_cleanup_free_ char *reply = NULL;
		size_t len;
		int fd = vl_connect(b->sock);

		if (fd < 0) {
			r = fd;
			break;
		}
		fds[open_n] = fd;
		r = vl_send(fd, "{\"method\":\"io.cgctl.Manager.Watch\",\"parameters\":{},\"more\":true}");
		if (r >= 0)
			r = vl_recv(fd, &reply, &len);
		if (r >= 0 && !strstr(reply, "\"watching\""))
			r = -EPROTO;
		if (r < 0) {
			open_n++;
			break;
		}
	}
	if (r >= 0)
		bench_rss(b, key);
	for (unsigned i = 0; i < open_n; i++)
		close(fds[i]);
	return r;
}
