// SPDX-License-Identifier: MIT
/* fuzz_entries.c: differential libFuzzer harness for List's text decoder against the json-c one. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonbuf.h"
#include "libcgctl-internal.h"

/*
 * Input layout:
 *   [0]   bits 0-1, the mode: how the rest makes reply messages
 *         0  a byte stream of replies, split at NUL bytes as the framer
 *            splits what the daemon sends (the text decoder never sees a NUL)
 *         1  the same, each message the inside of "entries":
 *            {"parameters":{"entries":[MSG]}}
 *         2  the same, each message the inside of one entry's "labels",
 *            its other members given
 *         3  one message built from choices, one byte each (see recipe_reply())
 *   [1..] the messages, or the choices
 * Modes 1 and 2 let mutations go straight to entries and labels. In mode 3
 * the text is always JSON, and one byte changed swaps one value or member for
 * another (false for null, a string for a number, a \u escape for a raw
 * character, a member left out or given twice): raw mutations of text seldom
 * make such swaps, and they are where two decoders part. Each message is handed to
 * libcgctl_entries_parse() in a buffer of its exact size, with no NUL after
 * it, so a read past the end shows under ASan.
 * Checked:
 *  - the text decoder returns 0, -ENOMSG or -ENOMEM, and on failure leaves
 *    its out-parameters alone;
 *  - what it takes is well formed: name, path, state and labels set, the
 *    booleans 0 or 1 (populated and frozen may be -1);
 *  - what it takes, the json-c path cgctl_list() falls back to takes as well,
 *    with the same number of entries, every field of every entry and every
 *    label equal, in the same order;
 *  - nothing crashes, leaks or reads out of bounds (ASan, LeakSanitizer).
 */

/* Wrappers around a message, to reach entries and labels directly. */
static const struct {
	const char *pre, *post;
} wraps[] = {
	{ "", "" },
	{ "{\"parameters\":{\"entries\":[", "]}}" },
	{ "{\"parameters\":{\"entries\":[{\"name\":\"n\",\"path\":\"/p\",\"state\":\"active\",\"labels\":{",
	  "}}]}}" },
};

/* The message being checked, for the report. */
static const char *cur_msg;
static size_t cur_len;

#define NO_ENTRY SIZE_MAX /* a failure about the whole reply */

/* Report a broken invariant with the message it broke on, and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn)) fail(const char *what, size_t i)
{
	fprintf(stderr, "fuzz_entries: invariant broken: %s", what);
	if (i != NO_ENTRY)
		fprintf(stderr, " (entry %zu)", i);
	fprintf(stderr, "\n  message (%zu bytes): ", cur_len);
	for (size_t k = 0; k < cur_len && k < 4096; k++) {
		unsigned char c = (unsigned char)cur_msg[k];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			fputc(c, stderr);
		else
			fprintf(stderr, "\\x%02x", c);
	}
	fputc('\n', stderr);
	abort();
}

/* What cgctl_list() does with a reply the text decoder leaves: json-c, then the tree decoder. */
static int decode_json_c(const char *msg, size_t len, struct cgctl_entry ***ret, size_t *ret_n)
{
	struct vl_reply rep = { 0 };
	json_object *a;
	int r;

	r = vl_reply_parse(msg, len, &rep);
	if (r < 0)
		return r;
	if (rep.error || rep.continues || !json_object_object_get_ex(rep.parameters, "entries", &a))
		r = -EPROTO;
	else
		r = libcgctl_entries_decode(a, ret, ret_n);
	vl_reply_done(&rep);
	return r;
}

/* Two optional strings are equal. */
static bool str_same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The text decoder's entry t must be well formed. */
static void check_shape(const struct cgctl_entry *t, size_t i)
{
	if (!t)
		fail("a NULL entry pointer before the end of the array", i);
	if (t->size != sizeof(*t))
		fail("size is not the library's sizeof(struct cgctl_entry)", i);
	if (!t->name || !t->path || !t->state)
		fail("a required string is missing", i);
	if (!t->labels)
		fail("labels is NULL (must be an empty list)", i);
	if ((unsigned)t->generated > 1 || (unsigned)t->delegate > 1 || (unsigned)t->auto_remove > 1 ||
	    (unsigned)t->lease > 1)
		fail("a boolean is neither 0 nor 1", i);
	if (t->populated < -1 || t->populated > 1 || t->frozen < -1 || t->frozen > 1)
		fail("populated or frozen is not -1, 0 or 1", i);
}

/* Text decoder's entry t against the reference j, field by field. */
static void check_same(const struct cgctl_entry *t, const struct cgctl_entry *j, size_t i)
{
	size_t k;

	if (!str_same(t->name, j->name))
		fail("name differs", i);
	if (!str_same(t->path, j->path))
		fail("path differs", i);
	if (!str_same(t->state, j->state))
		fail("state differs", i);
	if (t->generated != j->generated)
		fail("generated differs", i);
	if (t->populated != j->populated)
		fail("populated differs", i);
	if (t->frozen != j->frozen)
		fail("frozen differs", i);
	if (t->created_usec != j->created_usec)
		fail("created differs", i);
	if (t->delegate != j->delegate)
		fail("delegate differs", i);
	if (t->auto_remove != j->auto_remove)
		fail("auto_remove differs", i);
	if (t->lease != j->lease)
		fail("lease differs", i);
	if (t->owner != j->owner)
		fail("owner differs", i);
	if (!j->labels)
		fail("the reference decoder gave no labels list", i);
	for (k = 0; t->labels[k] && j->labels[k]; k++)
		if (strcmp(t->labels[k], j->labels[k]) != 0)
			fail("a label differs", i);
	if (t->labels[k] || j->labels[k])
		fail("the number of labels differs", i);
}

/* Offer one message to the text decoder; what it takes must match the reference. */
static void check_message(const char *msg, size_t len)
{
	static struct cgctl_entry *sentinel[1]; /* never written: a declined reply leaves *ret alone */
	struct cgctl_entry **t = sentinel, **j = NULL;
	size_t tn = SIZE_MAX, jn = 0;
	int r;

	cur_msg = msg;
	cur_len = len;
	r = libcgctl_entries_parse(msg, len, &t, &tn);
	if (r == -ENOMSG || r == -ENOMEM) {
		if (t != sentinel || tn != SIZE_MAX)
			fail("a declined reply wrote the out-parameters", NO_ENTRY);
		return;
	}
	if (r != 0)
		fail("libcgctl_entries_parse returned an undocumented value", NO_ENTRY);
	if (!t)
		fail("success without an array", NO_ENTRY);
	for (size_t i = 0; i < tn; i++)
		check_shape(t[i], i);
	if (t[tn])
		fail("the array of entries is not NULL-terminated", tn);
	r = decode_json_c(msg, len, &j, &jn);
	if (r == -ENOMEM) {
		cgctl_entries_free(t, tn);
		return;
	}
	if (r < 0)
		fail("taken by the text decoder, refused by the json-c path", NO_ENTRY);
	if (tn != jn)
		fail("the number of entries differs", NO_ENTRY);
	for (size_t i = 0; i < tn; i++)
		check_same(t[i], j[i], i);
	cgctl_entries_free(j, jn);
	cgctl_entries_free(t, tn);
}

/* One message in wrapping w, in a buffer of its exact size. */
static void check_wrapped(unsigned w, const uint8_t *s, size_t n)
{
	size_t pre = strlen(wraps[w].pre), post = strlen(wraps[w].post), len = pre + n + post;
	char *buf = malloc(len ? len : 1);

	if (!buf)
		return;
	memcpy(buf, wraps[w].pre, pre);
	if (n)
		memcpy(buf + pre, s, n);
	memcpy(buf + pre + n, wraps[w].post, post);
	check_message(buf, len);
	free(buf);
}

/* ---- mode 3: a reply built from choices ---- */

/* The choices left, and the text written so far. */
struct recipe {
	const uint8_t *p, *end;
	bool spaced; /* a space after every ':' and ',' */
	struct jsonbuf out;
};

/* The next choice; 0 once they run out, which picks the plain, valid variant. */
static unsigned take(struct recipe *rc)
{
	return rc->p < rc->end ? *rc->p++ : 0;
}

/* Pieces of string contents the text decoder takes: plain, raw UTF-8, escaped. */
static const char *const good_pieces[] = {
	"a", "b", "/", "=", " ", "\x7f", "\xc3\xa9", "\xe2\x80\xa8", "\xf0\x9f\x98\x80", "\xef\xbf\xbd",
	"\\u00e9", "\\u0041", "\\ud83d\\ude00", "\\udbff\\udfff", "\\uD83D\\uDE00", "\\u0000", "\\u0001",
	"\\\"", "\\\\", "\\/", "\\b\\f\\n\\r\\t", "\\u001f",
};
/* ...and pieces it must decline (json-c decodes some of them, differently). */
static const char *const bad_pieces[] = {
	"\\ud800", "\\udc00", "\\ud800\\u0041", "\t", "\xc3", "\xed\xa0\x80", "\xc0\x80", "\\x", "\\u12",
};
/* Numbers: what "created" takes, and what it must not. */
static const char *const numbers[] = {
	"0", "1", "1764440000000000", "9223372036854775807", "9223372036854775808", "18446744073709551615",
	"-1", "-0", "1.5", "1e3", "-2.5E-3", "01",
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Append a literal piece of text. */
static void out(struct recipe *rc, const char *text)
{
	jsonbuf_put(&rc->out, text, strlen(text));
}

/* A ':' or ',' (and a space when spaced). */
static void sep(struct recipe *rc, const char *c)
{
	out(rc, c);
	if (rc->spaced)
		out(rc, " ");
}

/* A string of up to 7 pieces, each one in eight times one to decline. */
static void recipe_string(struct recipe *rc)
{
	unsigned n = take(rc) % 8;

	out(rc, "\"");
	while (n-- > 0) {
		unsigned c = take(rc);

		out(rc, c < 224 ? good_pieces[c % N_OF(good_pieces)] : bad_pieces[c % N_OF(bad_pieces)]);
	}
	out(rc, "\"");
}

static void recipe_value(struct recipe *rc, unsigned depth);

/* An object of labels: a few from choices, or 62 to 65 ("k0": "v", ...) around the limit. */
static void recipe_labels(struct recipe *rc, unsigned depth)
{
	unsigned c = take(rc);
	char key[16];

	out(rc, "{");
	if (c >= 240) {
		for (unsigned i = 0; i < 62 + (c & 3); i++) {
			snprintf(key, sizeof(key), "%s\"k%u\"", i ? "," : "", i);
			out(rc, key);
			sep(rc, ":");
			out(rc, "\"v\"");
		}
		out(rc, "}");
		return;
	}
	for (unsigned i = 0; i < c % 6; i++) {
		if (i > 0)
			sep(rc, ",");
		recipe_string(rc);
		sep(rc, ":");
		/* Mostly strings; now and then what labels must not hold. */
		if (take(rc) < 240)
			recipe_string(rc);
		else
			recipe_value(rc, depth + 1);
	}
	out(rc, "}");
}

/* Any value, for members nobody asked for and wrong types; nesting stays shallow unless 255 asks for 70. */
static void recipe_value(struct recipe *rc, unsigned depth)
{
	unsigned c = take(rc);

	if (c == 255) {
		for (int i = 0; i < 70; i++)
			out(rc, "[");
		for (int i = 0; i < 70; i++)
			out(rc, "]");
		return;
	}
	switch (c % 8) {
	case 0: out(rc, "null"); return;
	case 1: out(rc, "true"); return;
	case 2: out(rc, "false"); return;
	case 3: recipe_string(rc); return;
	case 4: out(rc, numbers[take(rc) % N_OF(numbers)]); return;
	case 5: recipe_labels(rc, depth); return;
	default: break;
	}
	out(rc, "[");
	for (unsigned i = 0, n = depth < 4 ? take(rc) % 4 : 0; i < n; i++) {
		if (i > 0)
			sep(rc, ",");
		recipe_value(rc, depth + 1);
	}
	out(rc, "]");
}

/* The members of an Entry, in the order cgctld writes them. */
static const char *const members[] = {
	"name", "path", "state", "generated", "populated", "frozen", "created", "delegate", "auto_remove",
	"lease", "owner", "labels",
};

/* Member m's natural value: a string, a boolean, a number or labels, as its type asks. */
static void recipe_natural(struct recipe *rc, unsigned m)
{
	if (m <= 2)
		recipe_string(rc);
	else if (m == 6 || m == 10)
		out(rc, numbers[take(rc) % 4]); /* the ones "created" (and "owner", mostly) takes */
	else if (m == 11)
		recipe_labels(rc, 4);
	else
		out(rc, take(rc) & 1 ? "true" : "false");
}

/* Variants of a member: choices up to 127 (and none left) give its natural value. */
enum variant { V_LEFT_OUT, V_NULL, V_TRUE, V_FALSE, V_STRING, V_NUMBER, V_ANY, V_ESCAPED_KEY, V_TWICE, _V_MAX };

/* Member m as "key": value, or left out; returns whether anything was written. */
static bool recipe_member(struct recipe *rc, unsigned m, bool first)
{
	unsigned c = take(rc);
	enum variant v = c < 128 ? _V_MAX : (enum variant)(c % _V_MAX);
	char key[32];

	if (v == V_LEFT_OUT)
		return false;
	for (unsigned twice = v == V_TWICE ? 2 : 1; twice > 0; twice--) {
		if (!first)
			sep(rc, ",");
		first = false;
		/* An escaped key is the same member to json-c; the text decoder must leave it. */
		if (v == V_ESCAPED_KEY)
			snprintf(key, sizeof(key), "\"\\u%04x%s\"", (unsigned)members[m][0], members[m] + 1);
		else
			snprintf(key, sizeof(key), "\"%s\"", members[m]);
		out(rc, key);
		sep(rc, ":");
		switch (v) {
		case V_NULL:   out(rc, "null"); break;
		case V_TRUE:   out(rc, "true"); break;
		case V_FALSE:  out(rc, "false"); break;
		case V_STRING: recipe_string(rc); break;
		case V_NUMBER: out(rc, numbers[take(rc) % N_OF(numbers)]); break;
		case V_ANY:    recipe_value(rc, 4); break;
		default:       recipe_natural(rc, m); break;
		}
	}
	return true;
}

/* One Entry: members in a rotated order, each in its variant, maybe one nobody asked for first. */
static void recipe_entry(struct recipe *rc)
{
	unsigned h = take(rc), rot = h % N_OF(members);
	bool first = true;

	out(rc, "{");
	if (h / N_OF(members) % 2) {
		out(rc, "\"x\"");
		sep(rc, ":");
		recipe_value(rc, 4);
		first = false;
	}
	for (unsigned i = 0; i < N_OF(members); i++)
		if (recipe_member(rc, (i + rot) % N_OF(members), first))
			first = false;
	out(rc, "}");
}

/*
 * A List reply from choices: a header byte (bit 0 a member before
 * "parameters", bit 1 "continues": false, bit 2 a member after "entries",
 * bit 3 spaced; 248 and up one of the replies the text decoder must leave:
 * "continues": true, an "error", "entries" twice, "parameters" twice), the
 * number of entries (0-7), then each entry (recipe_entry()).
 */
static void recipe_reply(struct recipe *rc)
{
	unsigned h = take(rc), n = take(rc) % 8, odd = h >= 248 ? h & 3 : 4;

	rc->spaced = h & 8;
	out(rc, "{");
	if (h & 1) {
		out(rc, "\"x\"");
		sep(rc, ":");
		recipe_value(rc, 1);
		sep(rc, ",");
	}
	if (odd == 1) {
		out(rc, "\"error\"");
		sep(rc, ":");
		out(rc, "\"io.cgctl.Manager.NotFound\"");
		sep(rc, ",");
	}
	out(rc, "\"parameters\"");
	sep(rc, ":");
	out(rc, odd == 2 ? "{\"entries\":[]," : "{");
	out(rc, "\"entries\"");
	sep(rc, ":");
	out(rc, "[");
	for (unsigned i = 0; i < n; i++) {
		if (i > 0)
			sep(rc, ",");
		recipe_entry(rc);
	}
	out(rc, "]");
	if (h & 4) {
		sep(rc, ",");
		out(rc, "\"y\"");
		sep(rc, ":");
		recipe_value(rc, 2);
	}
	out(rc, "}");
	if (h & 2)
		out(rc, ",\"continues\":false");
	if (odd == 0)
		out(rc, ",\"continues\":true");
	if (odd == 3)
		out(rc, ",\"parameters\":{\"entries\":[]}");
	out(rc, "}");
}

/* Build the reply the choices make and check it, in a buffer of its exact size. */
static void check_recipe(const uint8_t *s, size_t n)
{
	struct recipe rc = { .p = s, .end = s + n };
	size_t len;
	char *buf;

	recipe_reply(&rc);
	len = rc.out.len;
	buf = rc.out.failed ? NULL : malloc(len);
	if (buf)
		memcpy(buf, rc.out.buf, len);
	jsonbuf_free(&rc.out);
	if (!buf)
		return;
	check_message(buf, len);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned mode;
	size_t start = 1;

	if (size < 1)
		return 0;
	mode = data[0] & 3;
	if (mode == 3) {
		check_recipe(data + 1, size - 1);
		return 0;
	}
	for (;;) {
		const uint8_t *nul = size > start ? memchr(data + start, '\0', size - start) : NULL;
		size_t end = nul ? (size_t)(nul - data) : size;

		check_wrapped(mode, data + start, end - start);
		if (!nul)
			break;
		start = end + 1;
	}
	return 0;
}
