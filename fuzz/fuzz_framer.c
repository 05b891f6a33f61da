// SPDX-License-Identifier: MIT
/* fuzz_framer.c: libFuzzer harness for vl_framer and the Varlink call/reply codecs. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "varlink.h"

/*
 * Input layout:
 *   [0]     message limit: one of limits[] below
 *   [1]     bit 0: append with vl_framer_reserve()+commit() instead of feed()
 *   [2..5]  chunk sizes, used in turn (see chunk_size())
 *   [6..]   the byte stream, delivered in those chunks
 * The stream is checked against a reference split at NUL bytes: every message
 * the framer returns must be exactly the next segment, -EMSGSIZE must come
 * exactly when a segment (or the unfinished tail) exceeds the limit, and the
 * buffer must stay bounded by the limit. Every message then goes through
 * vl_call_parse() and vl_reply_parse(); what they accept must survive a
 * format/parse round trip unchanged.
 */
#define HDR_LEN 6

static const size_t limits[8] = { 0, 1, 2, 16, 64, 100, 4096, 65536 };

/* Report a broken invariant and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn)) fail(const char *what)
{
	fprintf(stderr, "fuzz_framer: invariant broken: %s\n", what);
	abort();
}

/* Size of one delivery: 1..128 bytes or multiples of 64 up to 8 KiB. */
static size_t chunk_size(uint8_t b)
{
	return b < 128 ? (size_t)b + 1 : (size_t)(b - 127) * 64;
}

/*
 * Same JSON value. json_object_equal() says NaN != NaN, and json-c lets the
 * literals NaN and Infinity through even in strict mode (reported): compare
 * the text then.
 */
static bool same_json(json_object *a, json_object *b)
{
	const int flags = JSON_C_TO_STRING_PLAIN;
	char *sa;
	bool same;

	if (json_object_equal(a, b))
		return true;
	sa = strdup(json_object_to_json_string_ext(a, flags));
	same = sa && strcmp(sa, json_object_to_json_string_ext(b, flags)) == 0;
	free(sa);
	return same;
}

/* A decoded call must format and decode back to itself. */
static void check_call_roundtrip(const struct vl_call *c)
{
	struct vl_call back = { 0 };
	char *buf = NULL;
	size_t len;
	int r;

	if (!c->method || !c->parameters || !json_object_is_type(c->parameters, json_type_object))
		fail("vl_call_parse succeeded without a method or a parameters object");
	r = vl_call_format(c->method, c->parameters, c->more, c->oneway, &buf, &len);
	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("vl_call_format refused a call vl_call_parse accepted");
	if (len == 0 || buf[len - 1] != '\0' || strlen(buf) != len - 1)
		fail("vl_call_format: length does not count exactly one trailing NUL");
	r = vl_call_parse(buf, len - 1, &back);
	if (r == -ENOMEM) {
		free(buf);
		return;
	}
	if (r < 0) {
		fprintf(stderr, "formatted call: %s\n", buf);
		fail("vl_call_parse refused what vl_call_format produced");
	}
	if (strcmp(back.method, c->method) != 0 || back.more != c->more || back.oneway != c->oneway ||
	    back.upgrade)
		fail("call round trip changed method or flags");
	if (!same_json(back.parameters, c->parameters)) {
		fprintf(stderr, "formatted call: %s\n", buf);
		fail("call round trip changed the parameters");
	}
	vl_call_done(&back);
	free(buf);
}

/* A decoded reply must format and decode back to itself. */
static void check_reply_roundtrip(const struct vl_reply *rp)
{
	struct vl_reply back = { 0 };
	char *buf = NULL;
	size_t len;
	int r;

	if (!rp->parameters || !json_object_is_type(rp->parameters, json_type_object))
		fail("vl_reply_parse succeeded without a parameters object");
	r = vl_reply_format(rp->error, rp->parameters, rp->continues, &buf, &len);
	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("vl_reply_format refused a reply vl_reply_parse accepted");
	if (len == 0 || buf[len - 1] != '\0' || strlen(buf) != len - 1)
		fail("vl_reply_format: length does not count exactly one trailing NUL");
	r = vl_reply_parse(buf, len - 1, &back);
	if (r == -ENOMEM) {
		free(buf);
		return;
	}
	if (r < 0) {
		fprintf(stderr, "formatted reply: %s\n", buf);
		fail("vl_reply_parse refused what vl_reply_format produced");
	}
	if ((!back.error) != (!rp->error) || (back.error && strcmp(back.error, rp->error) != 0) ||
	    back.continues != rp->continues)
		fail("reply round trip changed error or continues");
	if (!same_json(back.parameters, rp->parameters)) {
		fprintf(stderr, "formatted reply: %s\n", buf);
		fail("reply round trip changed the parameters");
	}
	vl_reply_done(&back);
	free(buf);
}

/* Decode one message both ways, from an exact-size copy so over-reads show. */
static void check_message(const char *msg, size_t len)
{
	struct vl_call c = { 0 };
	struct vl_reply rp = { 0 };
	char *copy = malloc(len ? len : 1);
	int r;

	if (!copy)
		return;
	memcpy(copy, msg, len);
	r = vl_call_parse(copy, len, &c);
	if (r != 0 && r != -EBADMSG && r != -EPROTO && r != -ENOMEM && r != -E2BIG)
		fail("vl_call_parse returned an undocumented error");
	if (r == 0) {
		check_call_roundtrip(&c);
		vl_call_done(&c);
	}
	r = vl_reply_parse(copy, len, &rp);
	if (r != 0 && r != -EBADMSG && r != -EPROTO && r != -ENOMEM)
		fail("vl_reply_parse returned an undocumented error");
	if (r == 0) {
		check_reply_roundtrip(&rp);
		vl_reply_done(&rp);
	}
	free(copy);
}

/* Append n bytes with reserve+commit, in as many steps as the space given allows. */
static int append_reserve(struct vl_framer *f, const uint8_t *p, size_t n)
{
	while (n > 0) {
		char *dst;
		size_t avail;
		int r = vl_framer_reserve(f, n, &dst, &avail);

		if (r < 0)
			return r;
		if (avail < n)
			fail("vl_framer_reserve gave less space than asked for");
		/* Write less than reserved now and then, as a short read would. */
		size_t k = n > 1 && (p[0] & 1) ? n / 2 : n;
		memcpy(dst, p, k);
		vl_framer_commit(f, k);
		p += k;
		n -= k;
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vl_framer f;
	const uint8_t *s;
	size_t n, max, fed = 0, msg_start = 0, chunk_max = 0;
	bool use_reserve;

	if (size < HDR_LEN)
		return 0;
	vl_framer_init(&f, limits[data[0] & 7]);
	max = f.max;
	if (max == 0)
		fail("vl_framer_init left a zero limit");
	use_reserve = data[1] & 1;
	for (int i = 2; i < HDR_LEN; i++)
		if (chunk_size(data[i]) > chunk_max)
			chunk_max = chunk_size(data[i]);
	s = data + HDR_LEN;
	n = size - HDR_LEN;

	for (unsigned k = 0; fed < n; k++) {
		size_t c = chunk_size(data[2 + k % 4]);
		bool oversize = false;
		int r;

		if (c > n - fed)
			c = n - fed;
		r = use_reserve ? append_reserve(&f, s + fed, c) : vl_framer_feed(&f, s + fed, c);
		if (r == -ENOMEM)
			break;
		if (r < 0)
			fail("appending failed with something other than -ENOMEM");
		fed += c;

		for (;;) {
			const uint8_t *nul = memchr(s + msg_start, '\0', fed - msg_start);
			size_t want_len = nul ? (size_t)(nul - (s + msg_start)) : fed - msg_start;
			const char *msg = NULL;
			size_t len = 0;

			r = vl_framer_next(&f, &msg, &len);
			if (r == -EMSGSIZE) {
				if (want_len <= max)
					fail("-EMSGSIZE for a message within the limit");
				oversize = true;
				break;
			}
			if (want_len > max)
				fail("a message over the limit was not refused");
			if (r == 0) {
				if (nul)
					fail("a complete message was not returned");
				if (vl_framer_pending(&f) != fed - msg_start)
					fail("pending does not count the bytes of the unfinished message");
				if (vl_framer_pending(&f) > max)
					fail("pending exceeds the limit");
				break;
			}
			if (r != 1)
				fail("vl_framer_next returned an undocumented value");
			if (!nul)
				fail("a message was returned before its NUL arrived");
			if (len != want_len || memcmp(msg, s + msg_start, len) != 0)
				fail("the message returned is not the next NUL-delimited segment");
			if (msg[len] != '\0')
				fail("the message returned is not NUL-terminated");
			if (len > max)
				fail("the message returned is longer than the limit");
			check_message(msg, len);
			msg_start += len + 1;
		}
		/* Memory stays proportional to the limit, not to the stream. */
		if (f.cap > 4 * (max + chunk_max) + 128 * 1024)
			fail("the buffer grew far beyond the message limit");
		if (oversize)
			break; /* the stream cannot be resynchronised: the daemon drops it */
	}
	vl_framer_free(&f);
	if (f.buf || f.len || f.max != max)
		fail("vl_framer_free did not leave an empty framer with its limit");
	return 0;
}
