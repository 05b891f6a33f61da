/* SPDX-License-Identifier: MIT */
/* jsonbuf.c: JSON text written straight into a growing buffer, byte for byte as json-c would write it. */

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <json-c/printbuf.h>

#include "jsonbuf.h"

/* json-c's flags for every Varlink message; what this writer reproduces. */
#define JSONBUF_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSONBUF_MIN_CAP 256u

/* Two-character escapes; every other byte below 0x20 becomes \u00xx (json-c's json_escape_str). */
static const char short_escape[256] = {
	['\b'] = 'b', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\f'] = 'f', ['"'] = '"', ['\\'] = '\\',
};
static const char hex_digits[] = "0123456789abcdef";

/* Room for want more bytes; false (and failed set) when there is none. */
static bool jsonbuf_room(struct jsonbuf *b, size_t want)
{
	size_t need, ncap;
	char *nbuf;

	if (b->failed)
		return false;
	if (b->cap - b->len >= want)
		return true;
	if (want > SIZE_MAX / 2 - b->len) {
		b->failed = true;
		return false;
	}
	need = b->len + want;
	ncap = b->cap ? b->cap : JSONBUF_MIN_CAP;
	while (ncap < need)
		ncap *= 2;
	nbuf = realloc(b->buf, ncap);
	if (!nbuf) {
		b->failed = true;
		return false;
	}
	b->buf = nbuf;
	b->cap = ncap;
	return true;
}

/* Grow once for what is coming. */
void jsonbuf_reserve(struct jsonbuf *b, size_t want)
{
	jsonbuf_room(b, want);
}

/* Append ready text. */
void jsonbuf_put(struct jsonbuf *b, const char *text, size_t n)
{
	if (n == 0 || !jsonbuf_room(b, n))
		return;
	memcpy(b->buf + b->len, text, n);
	b->len += n;
}

/* Escape '"', '\\' and control characters; '/' and bytes from 0x7f up stay as they are. */
void jsonbuf_put_escaped(struct jsonbuf *b, const char *s, size_t n)
{
	char *o;

	if (n == 0)
		return;
	/* At most 6 bytes ("\u00xx") for each byte. */
	if (n > SIZE_MAX / 6) {
		b->failed = true;
		return;
	}
	if (!jsonbuf_room(b, 6 * n))
		return;
	o = b->buf + b->len;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			*o++ = (char)c;
			continue;
		}
		*o++ = '\\';
		if (short_escape[c]) {
			*o++ = short_escape[c];
			continue;
		}
		*o++ = 'u';
		*o++ = '0';
		*o++ = '0';
		*o++ = hex_digits[c >> 4];
		*o++ = hex_digits[c & 0xf];
	}
	b->len = (size_t)(o - b->buf);
}

/* Quote and escape. */
void jsonbuf_put_string(struct jsonbuf *b, const char *s, size_t n)
{
	jsonbuf_put_lit(b, "\"");
	jsonbuf_put_escaped(b, s, n);
	jsonbuf_put_lit(b, "\"");
}

/* true or false. */
void jsonbuf_put_bool(struct jsonbuf *b, bool v)
{
	if (v)
		jsonbuf_put_lit(b, "true");
	else
		jsonbuf_put_lit(b, "false");
}

/* Decimal, as "%" PRId64 writes it. */
void jsonbuf_put_int(struct jsonbuf *b, int64_t v)
{
	char digits[24], *p = digits + sizeof(digits);
	uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;

	do {
		*--p = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		*--p = '-';
	jsonbuf_put(b, p, (size_t)(digits + sizeof(digits) - p));
}

/* An object's members in json-c's order (insertion order). */
static void jsonbuf_put_object(struct jsonbuf *b, json_object *o)
{
	bool first = true;

	jsonbuf_put_lit(b, "{");
	json_object_object_foreach(o, key, val) {
		if (!first)
			jsonbuf_put_lit(b, ",");
		first = false;
		/* json-c keys are C strings: it writes strlen(key) bytes. */
		jsonbuf_put_string(b, key, strlen(key));
		jsonbuf_put_lit(b, ":");
		jsonbuf_put_value(b, val);
	}
	jsonbuf_put_lit(b, "}");
}

/* An array's elements. */
static void jsonbuf_put_array(struct jsonbuf *b, json_object *a)
{
	size_t n = json_object_array_length(a);

	jsonbuf_put_lit(b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jsonbuf_put_lit(b, ",");
		jsonbuf_put_value(b, json_object_array_get_idx(a, i));
	}
	jsonbuf_put_lit(b, "]");
}

/* Strings, objects and arrays written here; numbers and custom serialisers left to json-c itself. */
void jsonbuf_put_value(struct jsonbuf *b, json_object *v)
{
	const char *s;
	size_t n;

	/* Userdata may come with a serialiser of its own (json_object_new_double_s(), jsonbuf_to_json()). */
	if (v && json_object_get_userdata(v))
		goto json_c;
	switch (json_object_get_type(v)) {
	case json_type_null:
		jsonbuf_put_lit(b, "null");
		return;
	case json_type_boolean:
		jsonbuf_put_bool(b, json_object_get_boolean(v));
		return;
	case json_type_string:
		jsonbuf_put_string(b, json_object_get_string(v), (size_t)json_object_get_string_len(v));
		return;
	case json_type_object:
		jsonbuf_put_object(b, v);
		return;
	case json_type_array:
		jsonbuf_put_array(b, v);
		return;
	default:
		break;
	}
json_c:
	s = json_object_to_json_string_length(v, JSONBUF_FLAGS, &n);
	if (!s) {
		b->failed = true;
		return;
	}
	jsonbuf_put(b, s, n);
}

/* Free the text. */
void jsonbuf_free(struct jsonbuf *b)
{
	free(b->buf);
	*b = (struct jsonbuf){ 0 };
}

/* The text held by a value made by jsonbuf_to_json(). */
struct jsonbuf_text {
	char *buf;
	size_t len;
};

/* json-c serialiser of such a value: the text as it is, whatever the flags. */
static int jsonbuf_text_cb(json_object *jso, struct printbuf *pb, int level, int flags)
{
	const struct jsonbuf_text *t = json_object_get_userdata(jso);

	return printbuf_memappend(pb, t->buf, (int)t->len);
}

/* json-c's destructor of the userdata. */
static void jsonbuf_text_free_cb(json_object *jso, void *userdata)
{
	struct jsonbuf_text *t = userdata;

	free(t->buf);
	free(t);
}

/* Wrap the text in a json-c value that serialises as it. */
json_object *jsonbuf_to_json(struct jsonbuf *b)
{
	struct jsonbuf_text *t = NULL;
	json_object *o = NULL;

	if (b->failed || b->len == 0 || b->len >= INT_MAX || !(t = malloc(sizeof(*t))) ||
	    !(o = json_object_new_object())) {
		free(t);
		jsonbuf_free(b);
		return NULL;
	}
	t->buf = b->buf;
	t->len = b->len;
	json_object_set_serializer(o, jsonbuf_text_cb, t, jsonbuf_text_free_cb);
	*b = (struct jsonbuf){ 0 };
	return o;
}
