/* SPDX-License-Identifier: MIT */
/* jsonbuf.h: JSON text written straight into a growing buffer, byte for byte as json-c would write it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * A buffer of JSON text. Writers never fail on their own: the first
 * allocation failure sticks (failed) and later writes do nothing, so a
 * caller checks once, at jsonbuf_to_json(). The text matches what
 * json_object_to_json_string_ext(JSON_C_TO_STRING_PLAIN |
 * JSON_C_TO_STRING_NOSLASHESCAPE) gives for the same values, which is how
 * every Varlink message is serialised; the unit tests hold it to that.
 */
struct jsonbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

/* Make room for want more bytes up front (a hint; failure sticks). */
void jsonbuf_reserve(struct jsonbuf *b, size_t want);
/* Append n bytes of ready JSON text. */
void jsonbuf_put(struct jsonbuf *b, const char *text, size_t n);
/* Append a literal piece of JSON text. */
#define jsonbuf_put_lit(b, lit) jsonbuf_put((b), "" lit, sizeof(lit) - 1)
/* Append s[0..n) as a quoted, escaped JSON string (NUL bytes included, as \u0000). */
void jsonbuf_put_string(struct jsonbuf *b, const char *s, size_t n);
/* Append s[0..n) escaped, without quotes: one piece of a string the caller quotes. */
void jsonbuf_put_escaped(struct jsonbuf *b, const char *s, size_t n);
/* Append true or false. */
void jsonbuf_put_bool(struct jsonbuf *b, bool v);
/* Append a decimal integer. */
void jsonbuf_put_int(struct jsonbuf *b, int64_t v);
/* Append a json-c value (NULL: null) as json-c serialises it. */
void jsonbuf_put_value(struct jsonbuf *b, json_object *v);
/* Release the buffer; b is empty (and usable) again. */
void jsonbuf_free(struct jsonbuf *b);

/*
 * Hand the text over as a json-c value whose serialisation is exactly that
 * text, so a ready-made part (List's entries) can sit in a json-c reply tree.
 * Only its serialisation means anything (it reads as an empty object). b is
 * emptied; NULL when a write failed, the text is empty or over INT_MAX
 * bytes, or out of memory.
 */
json_object *jsonbuf_to_json(struct jsonbuf *b);
