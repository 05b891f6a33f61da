/* SPDX-License-Identifier: MIT */
/* libcgctl-entries.c: List's reply decoded straight from its text into cgctl_entry structs. */

/*
 * A json-c tree of 10,000 entries costs more to build and free than
 * everything else in a List, so the reply is read here in one pass instead.
 * This reader takes only what it fully understands: the reply shape cgctld
 * sends, in strict JSON with valid UTF-8. Anything else (an error reply,
 * "continues", a duplicate or escaped member name, a member it does not know
 * (whose insides it cannot hold to the reference's rules on duplicate keys),
 * a wrong type, a lone surrogate, deep nesting, odd numbers, over 64 labels,
 * malformed text) is
 * declined with -ENOMSG and left to the json-c decoder, which stays the
 * reference: whatever this reader accepts, it must decode exactly as that
 * one would (tests/unit/test_libcgctl_entries.c holds it to that).
 */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "libcgctl-internal.h"

/*
 * Labels of one entry this reader takes (cgctld accepts 64): finding a
 * repeated key compares it with every one before, which must stay cheap.
 */
#define READ_LABELS_MAX 64

struct reader {
	const char *p, *end;
};

/* A string's raw text between its quotes. */
struct span {
	const char *s;
	size_t n;
	bool escaped; /* holds a backslash: must be decoded */
};

/* The entries read so far. */
struct entries {
	struct cgctl_entry **v; /* each entry its own allocation: sizeof is not ABI */
	size_t n, cap;
};

/* Skip JSON whitespace. */
static void skip_ws(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t'))
		r->p++;
}

/* Consume c, after whitespace; false (nothing consumed) when something else comes. */
static bool eat(struct reader *r, char c)
{
	skip_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return true;
	}
	return false;
}

/* Consume the word (true, false, null) after whitespace. */
static bool eat_word(struct reader *r, const char *word, size_t n)
{
	skip_ws(r);
	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n) != 0)
		return false;
	r->p += n;
	return true;
}

/* Length of a well-formed UTF-8 sequence at p (no overlongs, surrogates, or beyond U+10FFFF); 0 if not. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
	uint32_t cp;
	size_t n;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		n = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		n = 4, cp = p[0] & 0x07;
	else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || (cp >= 0xd800 && cp <= 0xdfff) ||
	    cp > 0x10ffff)
		return 0;
	return n;
}

/* Four hex digits at p as a number; -1 when they are not. */
static int32_t hex4(const char *p)
{
	int32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = p[i];
		int d;

		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			d = c - 'A' + 10;
		else
			return -1;
		v = v * 16 + d;
	}
	return v;
}

/*
 * Length of the escape at p (a backslash), with its code point in *ret_cp for
 * \u (a surrogate pair taken whole); 0 for a malformed escape or a lone
 * surrogate (json-c makes that U+FFFD).
 */
static size_t escape_len(const char *p, const char *end, uint32_t *ret_cp)
{
	int32_t hi, lo;

	if (end - p < 2)
		return 0;
	if (strchr("\"\\/bfnrt", p[1]) && p[1] != '\0')
		return 2;
	if (p[1] != 'u' || end - p < 6 || (hi = hex4(p + 2)) < 0)
		return 0;
	if (hi >= 0xdc00 && hi <= 0xdfff)
		return 0;
	if (hi < 0xd800 || hi > 0xdbff) {
		*ret_cp = (uint32_t)hi;
		return 6;
	}
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u' || (lo = hex4(p + 8)) < 0xdc00 || lo > 0xdfff)
		return 0;
	*ret_cp = 0x10000 + (((uint32_t)hi - 0xd800) << 10) + ((uint32_t)lo - 0xdc00);
	return 12;
}

/* Read a string (after whitespace): its raw span, checked but not decoded. */
static int read_span(struct reader *r, struct span *ret)
{
	const char *p;
	uint32_t cp;
	size_t n;

	if (!eat(r, '"'))
		return -ENOMSG;
	*ret = (struct span){ .s = r->p };
	for (p = r->p;;) {
		unsigned char c;

		/* Plain ASCII, most of every reply, in a tight loop. */
		while (p < r->end && (c = (unsigned char)*p) >= 0x20 && c < 0x80 && c != '"' && c != '\\')
			p++;
		if (p >= r->end || c < 0x20)
			return -ENOMSG;
		if (c == '"')
			break;
		if (c == '\\') {
			n = escape_len(p, r->end, &cp);
			ret->escaped = true;
		} else {
			n = utf8_len((const unsigned char *)p, (const unsigned char *)r->end);
		}
		if (n == 0)
			return -ENOMSG;
		p += n;
	}
	ret->n = (size_t)(p - r->p);
	r->p = p + 1;
	return 0;
}

/* Write cp as UTF-8 at o; returns the end. */
static char *put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) {
		*o++ = (char)cp;
	} else if (cp < 0x800) {
		*o++ = (char)(0xc0 | cp >> 6);
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else if (cp < 0x10000) {
		*o++ = (char)(0xe0 | cp >> 12);
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	} else {
		*o++ = (char)(0xf0 | cp >> 18);
		*o++ = (char)(0x80 | ((cp >> 12) & 0x3f));
		*o++ = (char)(0x80 | ((cp >> 6) & 0x3f));
		*o++ = (char)(0x80 | (cp & 0x3f));
	}
	return o;
}

/* Decode a checked span at o (never longer than the span); returns the end. */
static char *decode_span(const struct span *sp, char *o)
{
	const char *p = sp->s, *end = sp->s + sp->n;

	if (!sp->escaped) {
		memcpy(o, p, sp->n);
		return o + sp->n;
	}
	while (p < end) {
		const char *bs = memchr(p, '\\', (size_t)(end - p));
		uint32_t cp = 0;
		size_t n;

		if (!bs)
			bs = end;
		memcpy(o, p, (size_t)(bs - p));
		o += bs - p;
		if (bs == end)
			break;
		n = escape_len(bs, end, &cp);
		switch (bs[1]) {
		case 'b': *o++ = '\b'; break;
		case 'f': *o++ = '\f'; break;
		case 'n': *o++ = '\n'; break;
		case 'r': *o++ = '\r'; break;
		case 't': *o++ = '\t'; break;
		case 'u': o = put_utf8(o, cp); break;
		default:  *o++ = bs[1]; break; /* " \ / */
		}
		p = bs + n;
	}
	return o;
}

/* A span as a new C string; like strdup() of json-c's string, it ends at a \u0000. */
static int span_dup(const struct span *sp, char **ret)
{
	char *s = malloc(sp->n + 1);

	if (!s)
		return -ENOMEM;
	*decode_span(sp, s) = '\0';
	*ret = s;
	return 0;
}

/* True when an unescaped span (a member name) is exactly word. */
static bool span_is(const struct span *sp, const char *word)
{
	/* Equal for n bytes (none of them NUL), so word[n] exists: it must end there. */
	return strncmp(sp->s, word, sp->n) == 0 && word[sp->n] == '\0';
}

/* A required string member: a new C string. */
static int read_str(struct reader *r, char **ret)
{
	struct span sp;
	int k;

	if ((k = read_span(r, &sp)) < 0)
		return k;
	return span_dup(&sp, ret);
}

/* A boolean member: 1, 0, or dflt for null. */
static int read_bool(struct reader *r, int dflt, int *ret)
{
	if (eat_word(r, "true", 4))
		*ret = 1;
	else if (eat_word(r, "false", 5))
		*ret = 0;
	else if (eat_word(r, "null", 4))
		*ret = dflt;
	else
		return -ENOMSG;
	return 0;
}

/* "created": a plain non-negative integer up to INT64_MAX, 0 for null. */
static int read_created(struct reader *r, uint64_t *ret)
{
	uint64_t v = 0;

	if (eat_word(r, "null", 4)) {
		*ret = 0;
		return 0;
	}
	skip_ws(r);
	if (r->p >= r->end || *r->p < '0' || *r->p > '9' || (*r->p == '0' && r->end - r->p > 1 &&
							   r->p[1] >= '0' && r->p[1] <= '9'))
		return -ENOMSG;
	for (; r->p < r->end && *r->p >= '0' && *r->p <= '9'; r->p++) {
		unsigned d = (unsigned)(*r->p - '0');

		if (v > ((uint64_t)INT64_MAX - d) / 10)
			return -ENOMSG;
		v = v * 10 + d;
	}
	/* A fraction or exponent makes it a double, which json-c's decoder refuses. */
	if (r->p < r->end && (*r->p == '.' || *r->p == 'e' || *r->p == 'E'))
		return -ENOMSG;
	*ret = v;
	return 0;
}

/* Free a NULL-terminated string array. */
static void labels_free(char **l)
{
	if (!l)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

/* True when key (decoded, klen bytes) is already the key of one of l[0..n). */
static bool labels_have(char **l, const size_t *klens, size_t n, const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++)
		if (klens[i] == klen && memcmp(l[i], key, klen) == 0)
			return true;
	return false;
}

/* One "key=value" label at l[n], its key's length at klens[n]. */
static int read_label(struct reader *r, char **l, size_t *klens, size_t n)
{
	struct span k, v;
	char *s, *o;

	if (read_span(r, &k) < 0 || !eat(r, ':') || read_span(r, &v) < 0)
		return -ENOMSG;
	s = malloc(k.n + v.n + 2);
	if (!s)
		return -ENOMEM;
	/* json-c cuts a key at \u0000; the value is cut there when printed "%s=%s". */
	o = decode_span(&k, s);
	klens[n] = strnlen(s, (size_t)(o - s));
	/* json-c keeps one value for a repeated key; leave that case to it. */
	if (labels_have(l, klens, n, s, klens[n])) {
		free(s);
		return -ENOMSG;
	}
	o = s + klens[n];
	*o++ = '=';
	*decode_span(&v, o) = '\0';
	l[n] = s;
	return 0;
}

/* Room in *l (and *klens) for one more label and the terminating NULL. */
static int labels_grow(char ***l, size_t **klens, size_t n, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 4, *nk;
	char **nl;

	if (n < *cap)
		return 0;
	nl = reallocarray(*l, ncap + 1, sizeof(char *));
	if (!nl)
		return -ENOMEM;
	*l = nl;
	nk = reallocarray(*klens, ncap, sizeof(size_t));
	if (!nk)
		return -ENOMEM;
	*klens = nk;
	*cap = ncap;
	return 0;
}

/* "labels": an object of strings (null: none) as NULL-terminated "key=value" strings. */
static int read_labels(struct reader *r, char ***ret)
{
	size_t n = 0, cap = 0, *klens = NULL;
	char **l = NULL;
	int k = 0;

	if (!eat_word(r, "null", 4)) {
		if (!eat(r, '{'))
			return -ENOMSG;
		if (!eat(r, '}')) {
			do {
				k = n < READ_LABELS_MAX ? labels_grow(&l, &klens, n, &cap) : -ENOMSG;
				if (k >= 0)
					k = read_label(r, l, klens, n);
				if (k >= 0)
					n++;
			} while (k >= 0 && eat(r, ','));
			if (k >= 0 && !eat(r, '}'))
				k = -ENOMSG;
		}
	}
	free(klens);
	if (k >= 0 && !l && !(l = calloc(1, sizeof(char *))))
		k = -ENOMEM;
	if (l)
		l[n] = NULL;
	if (k < 0) {
		labels_free(l);
		return k;
	}
	*ret = l;
	return 0;
}

/* The members of an Entry, in the order cgctld writes them. */
enum field {
	F_NAME, F_PATH, F_STATE, F_GENERATED, F_POPULATED, F_FROZEN, F_CREATED,
	F_DELEGATE, F_AUTO_REMOVE, F_LEASE, F_OWNER, F_LABELS, _F_MAX,
};

static const char *const field_names[_F_MAX] = {
	[F_NAME] = "name", [F_PATH] = "path", [F_STATE] = "state", [F_GENERATED] = "generated",
	[F_POPULATED] = "populated", [F_FROZEN] = "frozen", [F_CREATED] = "created",
	[F_DELEGATE] = "delegate", [F_AUTO_REMOVE] = "auto_remove", [F_LEASE] = "lease",
	[F_OWNER] = "owner", [F_LABELS] = "labels",
};

/* "owner": a uid (0..2^32-2), -1 for null. */
static int read_owner(struct reader *r, int64_t *ret)
{
	uint64_t v;
	int k;

	if (eat_word(r, "null", 4)) {
		*ret = -1;
		return 0;
	}
	k = read_created(r, &v);
	if (k < 0)
		return k;
	if (v >= UINT32_MAX)
		return -ENOMSG;
	*ret = (int64_t)v;
	return 0;
}

/* Which member a key names; _F_MAX for one this decoder does not know. */
static enum field field_of(const struct span *key, enum field guess)
{
	/* Members come in order from cgctld: try the next one first. */
	if (guess < _F_MAX && span_is(key, field_names[guess]))
		return guess;
	for (int f = 0; f < _F_MAX; f++)
		if (span_is(key, field_names[f]))
			return (enum field)f;
	return _F_MAX;
}

/* One member's value into e. */
static int read_field(struct reader *r, enum field f, struct cgctl_entry *e)
{
	switch (f) {
	case F_NAME:        return read_str(r, &e->name);
	case F_PATH:        return read_str(r, &e->path);
	case F_STATE:       return read_str(r, &e->state);
	case F_GENERATED:   return read_bool(r, 0, &e->generated);
	case F_POPULATED:   return read_bool(r, -1, &e->populated);
	case F_FROZEN:      return read_bool(r, -1, &e->frozen);
	case F_CREATED:     return read_created(r, &e->created_usec);
	case F_DELEGATE:    return read_bool(r, 0, &e->delegate);
	case F_AUTO_REMOVE: return read_bool(r, 0, &e->auto_remove);
	case F_LEASE:       return read_bool(r, 0, &e->lease);
	case F_OWNER:       return read_owner(r, &e->owner);
	case F_LABELS:      return read_labels(r, &e->labels);
	default:            return -ENOMSG;
	}
}

/* Free what an entry holds. */
static void entry_free(struct cgctl_entry *e)
{
	free(e->name);
	free(e->path);
	free(e->state);
	labels_free(e->labels);
}

/* One member of an Entry (name, colon, value) into e; *seen and *next track the members read. */
static int read_member(struct reader *r, unsigned depth, struct cgctl_entry *e, unsigned *seen,
		       enum field *next)
{
	struct span key;
	enum field f;

	if (read_span(r, &key) < 0 || key.escaped || !eat(r, ':'))
		return -ENOMSG;
	f = field_of(&key, *next);
	if (f == _F_MAX)
		return -ENOMSG;
	if (*seen & (1u << f))
		return -ENOMSG;
	*seen |= 1u << f;
	*next = f + 1;
	return read_field(r, f, e);
}

/* One Entry object into e (zeroed first); on failure e holds nothing. */
static int read_entry(struct reader *r, unsigned depth, struct cgctl_entry *e)
{
	const unsigned required = 1u << F_NAME | 1u << F_PATH | 1u << F_STATE;
	enum field next = F_NAME;
	unsigned seen = 0;
	int k = 0;

	*e = (struct cgctl_entry){ .size = sizeof(*e), .populated = -1, .frozen = -1, .owner = -1 };
	if (!eat(r, '{'))
		return -ENOMSG;
	if (!eat(r, '}')) {
		do
			k = read_member(r, depth, e, &seen, &next);
		while (k >= 0 && eat(r, ','));
		if (k >= 0 && !eat(r, '}'))
			k = -ENOMSG;
	}
	if (k >= 0 && (seen & required) != required)
		k = -ENOMSG;
	if (k >= 0 && !e->labels && !(e->labels = calloc(1, sizeof(char *))))
		k = -ENOMEM;
	if (k < 0)
		entry_free(e);
	return k;
}

/* Room for one more entry pointer and the NULL after the last. */
static int entries_grow(struct entries *es)
{
	struct cgctl_entry **v;
	size_t cap;

	if (es->n + 1 < es->cap)
		return 0;
	cap = es->cap ? es->cap * 2 : 64;
	v = reallocarray(es->v, cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	es->v = v;
	es->cap = cap;
	return 0;
}

/* The "entries" array. */
static int read_entries(struct reader *r, struct entries *es)
{
	int k;

	if (!eat(r, '['))
		return -ENOMSG;
	if (eat(r, ']'))
		return 0;
	do {
		if ((k = entries_grow(es)) < 0)
			return k;
		es->v[es->n] = malloc(sizeof(struct cgctl_entry));
		if (!es->v[es->n])
			return -ENOMEM;
		if ((k = read_entry(r, 3, es->v[es->n])) < 0) {
			free(es->v[es->n]);
			return k;
		}
		es->v[++es->n] = NULL;
	} while (eat(r, ','));
	return eat(r, ']') ? 0 : -ENOMSG;
}

/* The reply's "parameters": {"entries": [...]} and nothing else. */
static int read_parameters(struct reader *r, struct entries *es)
{
	bool have = false;
	struct span key;
	int k;

	if (!eat(r, '{'))
		return -ENOMSG;
	if (eat(r, '}'))
		return -ENOMSG;
	do {
		if (read_span(r, &key) < 0 || key.escaped || !eat(r, ':'))
			return -ENOMSG;
		if (!span_is(&key, "entries") || have) {
			k = -ENOMSG;
		} else {
			have = true;
			k = read_entries(r, es);
		}
		if (k < 0)
			return k;
	} while (eat(r, ','));
	return eat(r, '}') && have ? 0 : -ENOMSG;
}

/* The reply object: "parameters" read, a false "continues" allowed once, nothing else. */
static int read_reply(struct reader *r, struct entries *es)
{
	bool have = false, continues = false;
	struct span key;
	int k;

	if (!eat(r, '{') || eat(r, '}'))
		return -ENOMSG;
	do {
		if (read_span(r, &key) < 0 || key.escaped || !eat(r, ':'))
			return -ENOMSG;
		if (span_is(&key, "parameters")) {
			if (have)
				return -ENOMSG;
			have = true;
			k = read_parameters(r, es);
		} else if (span_is(&key, "continues") && !continues) {
			continues = true;
			k = eat_word(r, "false", 5) ? 0 : -ENOMSG;
		} else {
			k = -ENOMSG;
		}
		if (k < 0)
			return k;
	} while (eat(r, ','));
	if (!eat(r, '}') || !have)
		return -ENOMSG;
	skip_ws(r);
	return r->p == r->end ? 0 : -ENOMSG;
}

/* Decode a whole List reply. */
int libcgctl_entries_parse(const char *msg, size_t len, struct cgctl_entry ***ret, size_t *ret_n)
{
	struct reader r = { .p = msg, .end = msg + len };
	struct entries es = { 0 };
	int k;

	k = read_reply(&r, &es);
	/* Like the json-c decoder, hand out an array (its NULL) even for no entries. */
	if (k >= 0 && !es.v && !(es.v = calloc(1, sizeof(*es.v))))
		k = -ENOMEM;
	if (k < 0) {
		for (size_t i = 0; i < es.n; i++) {
			entry_free(es.v[i]);
			free(es.v[i]);
		}
		free(es.v);
		return k;
	}
	*ret = es.v;
	*ret_n = es.n;
	return 0;
}
