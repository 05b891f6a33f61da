/* SPDX-License-Identifier: MIT */
/* varlink.h: Varlink message framing and call/reply codecs; no I/O. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Default upper bound of one message, terminating NUL excluded. */
#define VL_MESSAGE_MAX_DEFAULT (1024u * 1024u)
/*
 * Values (objects, arrays, members, elements) one call may hold, counted
 * before json-c builds any: a call of 64k small objects took json-c over a
 * second. The largest legitimate call (Attach, 1024 pids) holds about 1030.
 */
#define VL_CALL_VALUES_MAX 4096u

/*
 * Splits a byte stream into NUL-terminated messages. Bytes are appended with
 * vl_framer_reserve()+vl_framer_commit() (read straight into the buffer) or
 * vl_framer_feed(); complete messages are taken with vl_framer_next().
 */
struct vl_framer {
	char *buf;
	size_t len;   /* bytes held */
	size_t start; /* offset of the first byte not yet returned */
	size_t scan;  /* offset up to which no NUL was found */
	size_t cap;
	size_t max;   /* message size limit */
};

/* Initialise an empty framer accepting messages up to max bytes (0: default). */
void vl_framer_init(struct vl_framer *f, size_t max);
/* Release the buffer; the framer may be initialised again. */
void vl_framer_free(struct vl_framer *f);
/* Space for at least want bytes at the end; -ENOMEM on failure. */
int vl_framer_reserve(struct vl_framer *f, size_t want, char **ret_ptr, size_t *ret_avail);
/* Account n bytes written into the space given by vl_framer_reserve(). */
void vl_framer_commit(struct vl_framer *f, size_t n);
/* Append n bytes; -ENOMEM on failure. */
int vl_framer_feed(struct vl_framer *f, const void *data, size_t n);
/*
 * Next complete message: 1 with *ret_msg (NUL-terminated, valid until the next
 * call on f) and *ret_len; 0 when more bytes are needed; -EMSGSIZE when a
 * message exceeds the limit (the stream cannot be resynchronised: drop it).
 */
int vl_framer_next(struct vl_framer *f, const char **ret_msg, size_t *ret_len);
/* Bytes of an incomplete message still held (0 at a message boundary). */
size_t vl_framer_pending(const struct vl_framer *f);

/* A decoded call. */
struct vl_call {
	char *method;
	json_object *parameters; /* always an object, owned */
	bool more;
	bool oneway;
	bool upgrade;
	/* A parameter written with a duplicate key, a lone UTF-16 surrogate escape or
	 * "\u0000" (json-c would keep the last key, make it U+FFFD, cut a key at the
	 * NUL; C would cut any string there): answer InvalidParameter. */
	char *bad_parameter;
};

/*
 * Decode one message as a call: -EBADMSG when it is not JSON or not an
 * object (or the outer object has a duplicate key or a lone surrogate
 * escape; in a parameter, bad_parameter names it), -EPROTO when the shape is wrong (method missing or not a string,
 * parameters not an object, flags not booleans), -E2BIG when it holds
 * more than VL_CALL_VALUES_MAX values (refused before it is parsed), 0 on success.
 */
int vl_call_parse(const char *msg, size_t len, struct vl_call *ret);
/* Release what vl_call_parse() allocated. */
void vl_call_done(struct vl_call *c);

/* A decoded reply. */
struct vl_reply {
	char *error;             /* error name, NULL for success */
	json_object *parameters; /* always an object, owned */
	bool continues;
};

/* Decode one message as a reply; same errors as vl_call_parse(). */
int vl_reply_parse(const char *msg, size_t len, struct vl_reply *ret);
/* Release what vl_reply_parse() allocated. */
void vl_reply_done(struct vl_reply *r);

/*
 * Serialise a call (params may be NULL, not consumed); the result is a
 * malloc'd buffer holding the JSON text and its terminating NUL, *ret_len
 * counting the NUL. -ENOMEM on failure.
 */
int vl_call_format(const char *method, json_object *params, bool more, bool oneway,
		   char **ret_buf, size_t *ret_len);
/* Serialise a reply: error NULL for success; params may be NULL. */
int vl_reply_format(const char *error, json_object *params, bool continues,
		    char **ret_buf, size_t *ret_len);
