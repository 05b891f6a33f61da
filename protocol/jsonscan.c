/* SPDX-License-Identifier: MIT */
/* jsonscan.c: duplicate keys, lone UTF-16 surrogate escapes and NULs, which json-c accepts (last key wins, U+FFFD, a key cut). */

#include <errno.h>
#include <string.h>

#include "jsonscan.h"

/* Four hex digits at p (before end) as a number; false when they are not. */
static bool scan_hex4(const char *p, const char *end, unsigned *ret)
{
	unsigned v = 0;

	if (end - p < 4)
		return false;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return false;
	}
	*ret = v;
	return true;
}

/* The string whose opening quote is before p: past its closing quote; *bad when a surrogate escape is unpaired, *nul for "\u0000". */
static const char *scan_string(const char *p, const char *end, bool *bad, bool *nul)
{
	const char *quote = NULL, *esc;
	bool unterminated = false;
	unsigned u, lo;

	while (p < end) {
		/* A quote is looked for again only once an escape took it ("\""): linear in the string.
		 * None left (an unterminated string): never looked for again, or every escape rescans the rest. */
		if (!unterminated && (!quote || quote < p)) {
			quote = memchr(p, '"', (size_t)(end - p));
			unterminated = !quote;
		}
		esc = memchr(p, '\\', (size_t)((quote ? quote : end) - p));
		/* Most strings have no escape: one memchr each to their end. */
		if (!esc)
			return quote ? quote + 1 : end;
		p = esc;
		if (end - p < 2)
			return end;
		if (p[1] != 'u' || !scan_hex4(p + 2, end, &u)) {
			p += 2; /* a bad escape is json-c's to refuse */
			continue;
		}
		p += 6;
		/* A NUL: json-c cuts a key there, and C (every string parameter) a value. */
		if (u == 0)
			*nul = true;
		else if (u >= 0xDC00 && u <= 0xDFFF)
			*bad = true;
		else if (u >= 0xD800 && u <= 0xDBFF) {
			if (end - p >= 6 && p[0] == '\\' && p[1] == 'u' && scan_hex4(p + 2, end, &lo) && lo >= 0xDC00 &&
			    lo <= 0xDFFF)
				p += 6;
			else
				*bad = true;
		}
	}
	return end;
}

/* Is the string that ended before p a key (a colon follows)? */
static bool scan_is_key(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
		p++;
	return p < end && *p == ':';
}

/* Account a key (raw text start..start+len) at depth; *cur: the params[] entry being written, -1 outside one. */
static void scan_key(struct jsonscan *s, const char *msg, const char *start, size_t len, unsigned depth,
		     bool in_obj2, int *cur)
{
	unsigned owner = s->top_keys - 1;

	if (depth == 1) {
		s->top_keys++;
	} else if (depth == 2 && in_obj2) {
		if (owner < JSONSCAN_TOP_MAX)
			s->n_keys2[owner]++;
		*cur = s->n_params < JSONSCAN_PARAMS_MAX ? (int)s->n_params : -1;
		if (*cur >= 0)
			s->params[s->n_params++] =
				(struct jsonscan_param){ .key = (size_t)(start - msg), .key_len = len, .owner = owner };
	} else if (in_obj2 && *cur >= 0) {
		s->params[*cur].keys++;
	}
}

void jsonscan_message(const char *msg, size_t len, struct jsonscan *s)
{
	const char *p = msg, *end = msg + len;
	bool in_obj2 = false; /* inside an object that is an outer member's value */
	bool fresh = false;   /* a container just opened: what follows first is a member or element */
	unsigned depth = 0;
	int cur = -1;

	memset(s->n_keys2, 0, sizeof(s->n_keys2));
	s->top_keys = s->n_params = s->values = s->depth_max = 0;
	s->top_bad = false;
	s->bad_param = s->nul_param = -1;
	while (p < end) {
		const char *start;
		bool bad = false, nul = false;
		char c = *p++;

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		/* Values counted as json-c will make them: a container, its first member and one a comma. */
		s->values += (fresh && c != '}' && c != ']') + (c == ',') + (c == '{' || c == '[');
		fresh = c == '{' || c == '[';
		if (fresh) {
			in_obj2 |= ++depth == 2 && c == '{';
			if (depth > s->depth_max)
				s->depth_max = depth;
			continue;
		}
		if (c == '}' || c == ']') {
			if (depth > 0 && --depth <= 1)
				in_obj2 = false, cur = -1;
			continue;
		}
		if (c != '"')
			continue;
		start = p;
		p = scan_string(p, end, &bad, &nul);
		if (scan_is_key(p, end))
			scan_key(s, msg, start, (size_t)(p - 1 - start), depth, in_obj2, &cur);
		if (nul && cur >= 0 && s->nul_param < 0)
			s->nul_param = cur;
		if (bad && cur >= 0 && s->bad_param < 0)
			s->bad_param = cur;
		else if (bad && cur < 0)
			s->top_bad = true;
	}
}

/* Object members in v and below. */
static unsigned scan_members(json_object *v)
{
	unsigned n = 0;

	if (json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, k, x) {
			(void)k;
			n += 1 + scan_members(x);
		}
	} else if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			n += scan_members(json_object_array_get_idx(v, i));
	}
	return n;
}

/* A key of params (outer member owner) written twice (json-c kept one): its name, "parameters" when spelt with escapes. */
static const char *scan_dup_param(const struct jsonscan *s, const char *msg, unsigned owner, json_object *params)
{
	for (unsigned i = 0; i < s->n_params; i++)
		for (unsigned j = i + 1; j < s->n_params; j++) {
			const struct jsonscan_param *a = &s->params[i], *b = &s->params[j];

			if (a->owner != owner || b->owner != owner || a->key_len != b->key_len ||
			    memcmp(msg + a->key, msg + b->key, a->key_len) != 0)
				continue;
			json_object_object_foreach(params, k, v) {
				(void)v;
				if (strlen(k) == a->key_len && memcmp(k, msg + a->key, a->key_len) == 0)
					return k;
			}
		}
	return "parameters";
}

/* The index of "parameters" among o's members (written order, no key twice), -1 when it is not an object. */
static int scan_params_index(json_object *o, json_object **ret)
{
	int i = 0;

	json_object_object_foreach(o, key, val) {
		if (strcmp(key, "parameters") == 0) {
			*ret = val;
			return json_object_is_type(val, json_type_object) ? i : -1;
		}
		i++;
	}
	return -1;
}

int jsonscan_check(const struct jsonscan *s, const char *msg, json_object *o, const char **ret_param)
{
	json_object *params = NULL;
	unsigned k = 0;
	int owner;

	if (s->top_bad || s->top_keys != (unsigned)json_object_object_length(o))
		return -EBADMSG;
	owner = scan_params_index(o, &params);
	/* Any other object at that level (none is declared) must not hide what json-c dropped either. */
	if (s->bad_param >= 0 && (int)s->params[s->bad_param].owner != owner)
		return -EBADMSG;
	if (owner < 0)
		return 0;
	if (owner >= JSONSCAN_TOP_MAX)
		return -EBADMSG;
	if (s->n_keys2[owner] != (unsigned)json_object_object_length(params)) {
		*ret_param = scan_dup_param(s, msg, (unsigned)owner, params);
		return 1;
	}
	/* In written order: json-c keeps its members so when no key repeats. */
	json_object_object_foreach(params, key, val) {
		while (k < s->n_params && s->params[k].owner != (unsigned)owner)
			k++;
		if (k < s->n_params && ((int)k == s->bad_param || s->params[k].keys != scan_members(val))) {
			*ret_param = key;
			return 1;
		}
		k++;
	}
	return 0;
}
