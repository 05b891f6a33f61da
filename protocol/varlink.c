/* SPDX-License-Identifier: MIT */
/* varlink.c: NUL-delimited message framing and Varlink call/reply JSON codecs. */

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include "jsonscan.h"
#include "varlink.h"

/* Smallest buffer allocated; typical calls fit in one read of this size. */
#define VL_FRAMER_MIN_CAP 4096u
/* An idle framer holding more than this gives it back (one big message must not pin memory). */
#define VL_FRAMER_KEEP_CAP (64u * 1024u)
/* Maximum JSON nesting accepted from a peer. */
#define VL_JSON_DEPTH 64

static void json_object_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_object_putp)

/* Set up an empty framer; no memory is allocated until bytes arrive. */
void vl_framer_init(struct vl_framer *f, size_t max)
{
	*f = (struct vl_framer){ .max = max ? max : VL_MESSAGE_MAX_DEFAULT };
}

/* Release the buffer and leave f empty (with its limit) so it may be reused. */
void vl_framer_free(struct vl_framer *f)
{
	size_t max = f->max;

	free(f->buf);
	vl_framer_init(f, max);
}

/* Drop consumed bytes; at a boundary this is free, otherwise it moves the tail. */
static void framer_compact(struct vl_framer *f)
{
	size_t pending = f->len - f->start;

	if (f->start == 0)
		return;
	if (pending > 0)
		memmove(f->buf, f->buf + f->start, pending);
	f->scan -= f->start;
	f->len = pending;
	f->start = 0;
}

/* Ensure room for want more bytes at the end of the buffer. */
int vl_framer_reserve(struct vl_framer *f, size_t want, char **ret_ptr, size_t *ret_avail)
{
	size_t need, ncap;
	char *nbuf;

	if (want == 0)
		want = 1;

	/*
	 * Move the unread tail to the front only when it is no longer than what
	 * was consumed before it: every byte moved is paid for by a byte already
	 * returned, which keeps copying amortised O(1) per byte received.
	 */
	if (f->start > 0 && f->start >= f->len - f->start)
		framer_compact(f);

	if (f->cap - f->len < want) {
		if (want > SIZE_MAX - f->len)
			return -ENOMEM;
		need = f->len + want;
		ncap = f->cap ? f->cap : VL_FRAMER_MIN_CAP;
		while (ncap < need) {
			if (ncap > SIZE_MAX / 2)
				return -ENOMEM;
			ncap *= 2;
		}
		nbuf = realloc(f->buf, ncap);
		if (!nbuf)
			return -ENOMEM;
		f->buf = nbuf;
		f->cap = ncap;
	}

	*ret_ptr = f->buf + f->len;
	*ret_avail = f->cap - f->len;
	return 0;
}

/* Account n bytes the caller wrote at the pointer vl_framer_reserve() gave. */
void vl_framer_commit(struct vl_framer *f, size_t n)
{
	if (n > f->cap - f->len)
		abort(); /* the caller wrote past the space it was given */
	f->len += n;
}

/* Copy n bytes into the framer. */
int vl_framer_feed(struct vl_framer *f, const void *data, size_t n)
{
	size_t avail;
	char *p;
	int r;

	if (n == 0)
		return 0;
	r = vl_framer_reserve(f, n, &p, &avail);
	if (r < 0)
		return r;
	memcpy(p, data, n);
	vl_framer_commit(f, n);
	return 0;
}

/* Return the next complete message, scanning each received byte only once. */
int vl_framer_next(struct vl_framer *f, const char **ret_msg, size_t *ret_len)
{
	const char *nul;
	size_t from, mlen;

	/* At a boundary: start over at the front, and give back a big buffer. */
	if (f->start == f->len && f->start > 0) {
		f->start = f->len = f->scan = 0;
		if (f->cap > VL_FRAMER_KEEP_CAP) {
			free(f->buf);
			f->buf = NULL;
			f->cap = 0;
		}
	}

	from = f->scan > f->start ? f->scan : f->start;
	nul = from < f->len ? memchr(f->buf + from, '\0', f->len - from) : NULL;
	if (!nul) {
		f->scan = f->len;
		if (f->len - f->start > f->max)
			return -EMSGSIZE;
		return 0;
	}

	mlen = (size_t)(nul - (f->buf + f->start));
	if (mlen > f->max) {
		f->scan = (size_t)(nul - f->buf);
		return -EMSGSIZE;
	}

	*ret_msg = f->buf + f->start;
	*ret_len = mlen;
	f->start += mlen + 1;
	f->scan = f->start;
	return 1;
}

/* Bytes held after the last returned message. */
size_t vl_framer_pending(const struct vl_framer *f)
{
	return f->len - f->start;
}

/*
 * Parse exactly len bytes as one JSON object; -EBADMSG for anything else,
 * and for a duplicate key or a lone surrogate escape ("\udcff", which json-c
 * turns into U+FFFD) outside "parameters". Inside, *ret_bad_param names the
 * parameter that holds one (borrowed from *ret), else NULL. Text with more
 * than max_values values (0: any number) or nested deeper than VL_JSON_DEPTH
 * is refused (-E2BIG, -EBADMSG) before json-c spends anything on it. With
 * refuse_nul, a parameter holding "\u0000" is named too (calls: json-c cuts a
 * key there, C every string).
 */
static int json_parse_object(const char *msg, size_t len, unsigned max_values, bool refuse_nul, json_object **ret,
			     const char **ret_bad_param)
{
	_cleanup_json_ json_object *o = NULL;
	struct jsonscan scan;
	json_tokener *tok;
	size_t end;
	int r;

	if (!msg || len == 0 || len > INT_MAX)
		return -EBADMSG;
	jsonscan_message(msg, len, &scan);
	if (refuse_nul && scan.nul_param >= 0 && (scan.bad_param < 0 || scan.nul_param < scan.bad_param))
		scan.bad_param = scan.nul_param;
	if (max_values > 0 && scan.values > max_values)
		return -E2BIG;
	if (scan.depth_max > VL_JSON_DEPTH)
		return -EBADMSG;

	tok = json_tokener_new_ex(VL_JSON_DEPTH);
	if (!tok)
		return -ENOMEM;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	o = json_tokener_parse_ex(tok, msg, (int)len);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);

	if (!o || !json_object_is_type(o, json_type_object))
		return -EBADMSG;
	/* Whitespace may follow the object; anything else is a second value or junk. */
	for (; end < len; end++)
		if (!strchr(" \t\r\n", msg[end]) || msg[end] == '\0')
			return -EBADMSG;
	/* What json-c let through as something else than was written. */
	*ret_bad_param = NULL;
	r = jsonscan_check(&scan, msg, o, ret_bad_param);
	if (r < 0)
		return r;

	*ret = TAKE_PTR(o);
	return 0;
}

/* Copy a JSON string member; -EPROTO when it hides a NUL ("\u0000") that C would cut at. */
static int json_dup_string(json_object *v, char **ret)
{
	size_t len = (size_t)json_object_get_string_len(v);
	const char *s = json_object_get_string(v);
	char *d;

	if (strnlen(s, len) != len)
		return -EPROTO;
	d = strndup(s, len);
	if (!d)
		return -ENOMEM;
	*ret = d;
	return 0;
}

/* Optional boolean member: absent is false; -EPROTO for another type. */
static int json_get_flag(json_object *o, const char *key, bool *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v)) {
		*ret = false;
		return 0;
	}
	if (!json_object_is_type(v, json_type_boolean))
		return -EPROTO;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* New reference to "parameters": absent or null gives an empty object. */
static int json_get_parameters(json_object *o, json_object **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, "parameters", &v) || !v) {
		v = json_object_new_object();
		if (!v)
			return -ENOMEM;
		*ret = v;
		return 0;
	}
	if (!json_object_is_type(v, json_type_object))
		return -EPROTO;
	*ret = json_object_get(v);
	return 0;
}

/* Decode {"method":..., "parameters":{...}, "more":..., "oneway":..., "upgrade":...}. */
int vl_call_parse(const char *msg, size_t len, struct vl_call *ret)
{
	_cleanup_json_ json_object *o = NULL, *params = NULL;
	_cleanup_free_ char *method = NULL, *bad_dup = NULL;
	bool more, oneway, upgrade;
	const char *bad = NULL;
	json_object *v;
	int r;

	r = json_parse_object(msg, len, VL_CALL_VALUES_MAX, true, &o, &bad);
	if (r < 0)
		return r;
	if (bad && !(bad_dup = strdup(bad)))
		return -ENOMEM;

	if (!json_object_object_get_ex(o, "method", &v) ||
	    !json_object_is_type(v, json_type_string))
		return -EPROTO;
	if ((r = json_get_flag(o, "more", &more)) < 0 ||
	    (r = json_get_flag(o, "oneway", &oneway)) < 0 ||
	    (r = json_get_flag(o, "upgrade", &upgrade)) < 0)
		return r;
	r = json_get_parameters(o, &params);
	if (r < 0)
		return r;
	r = json_dup_string(v, &method);
	if (r < 0)
		return r;

	*ret = (struct vl_call){
		.method = TAKE_PTR(method),
		.parameters = TAKE_PTR(params),
		.more = more,
		.oneway = oneway,
		.upgrade = upgrade,
		.bad_parameter = TAKE_PTR(bad_dup),
	};
	return 0;
}

/* Free a decoded call; safe on a zeroed or already released one. */
void vl_call_done(struct vl_call *c)
{
	if (!c)
		return;
	free(c->method);
	free(c->bad_parameter);
	if (c->parameters)
		json_object_put(c->parameters);
	*c = (struct vl_call){ 0 };
}

/* Decode {"parameters":{...}, "continues":..., "error":...}. */
int vl_reply_parse(const char *msg, size_t len, struct vl_reply *ret)
{
	_cleanup_json_ json_object *o = NULL, *params = NULL;
	_cleanup_free_ char *error = NULL;
	const char *bad = NULL;
	bool continues;
	json_object *v;
	int r;

	r = json_parse_object(msg, len, 0, false, &o, &bad);
	if (r < 0)
		return r;
	/* A reply is the daemon's own JSON: anything json-c would change in it is not a reply. */
	if (bad)
		return -EBADMSG;

	if (json_object_object_get_ex(o, "error", &v)) {
		if (!json_object_is_type(v, json_type_string))
			return -EPROTO;
		r = json_dup_string(v, &error);
		if (r < 0)
			return r;
	}
	r = json_get_flag(o, "continues", &continues);
	if (r < 0)
		return r;
	r = json_get_parameters(o, &params);
	if (r < 0)
		return r;

	*ret = (struct vl_reply){
		.error = TAKE_PTR(error),
		.parameters = TAKE_PTR(params),
		.continues = continues,
	};
	return 0;
}

/* Free a decoded reply; safe on a zeroed or already released one. */
void vl_reply_done(struct vl_reply *r)
{
	if (!r)
		return;
	free(r->error);
	if (r->parameters)
		json_object_put(r->parameters);
	*r = (struct vl_reply){ 0 };
}

/* Add key: value to o, taking the reference to value even on failure. */
static int json_add(json_object *o, const char *key, json_object *value)
{
	if (!value)
		return -ENOMEM;
	if (json_object_object_add(o, key, value) < 0) {
		json_object_put(value);
		return -ENOMEM;
	}
	return 0;
}

/* Add "parameters": a new reference to params, or {} when params is NULL. */
static int json_add_parameters(json_object *o, json_object *params)
{
	if (params && !json_object_is_type(params, json_type_object))
		return -EINVAL;
	return json_add(o, "parameters", params ? json_object_get(params) : json_object_new_object());
}

/* Serialise o compactly into a malloc'd buffer that includes the message's NUL. */
static int json_serialise(json_object *o, char **ret_buf, size_t *ret_len)
{
	const char *s;
	size_t n;
	char *buf;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
	if (!s)
		return -ENOMEM;
	buf = malloc(n + 1);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, s, n);
	buf[n] = '\0';
	*ret_buf = buf;
	*ret_len = n + 1;
	return 0;
}

/* Serialise a call; flags that are false are left out. */
int vl_call_format(const char *method, json_object *params, bool more, bool oneway,
		   char **ret_buf, size_t *ret_len)
{
	_cleanup_json_ json_object *o = NULL;
	int r;

	if (!method)
		return -EINVAL;
	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	if ((r = json_add(o, "method", json_object_new_string(method))) < 0 ||
	    (r = json_add_parameters(o, params)) < 0)
		return r;
	if (more && (r = json_add(o, "more", json_object_new_boolean(true))) < 0)
		return r;
	if (oneway && (r = json_add(o, "oneway", json_object_new_boolean(true))) < 0)
		return r;
	return json_serialise(o, ret_buf, ret_len);
}

/* Serialise a reply or, with error set, an error reply. */
int vl_reply_format(const char *error, json_object *params, bool continues,
		    char **ret_buf, size_t *ret_len)
{
	_cleanup_json_ json_object *o = NULL;
	int r;

	o = json_object_new_object();
	if (!o)
		return -ENOMEM;
	if (error && (r = json_add(o, "error", json_object_new_string(error))) < 0)
		return r;
	r = json_add_parameters(o, params);
	if (r < 0)
		return r;
	if (continues && (r = json_add(o, "continues", json_object_new_boolean(true))) < 0)
		return r;
	return json_serialise(o, ret_buf, ret_len);
}
