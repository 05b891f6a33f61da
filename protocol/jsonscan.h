/* SPDX-License-Identifier: MIT */
/* jsonscan.h: what json-c lets through silently, found in a message's raw text: duplicate keys, lone surrogates, NULs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Object members at the second level whose insides are counted one by one. */
#define JSONSCAN_PARAMS_MAX 64
/* Members of the outer object followed. */
#define JSONSCAN_TOP_MAX 8

/* One member of an object that is the value of an outer member (as "parameters"), as written. */
struct jsonscan_param {
	size_t key, key_len; /* its key's raw text: offset and length in the message */
	unsigned owner;      /* index of the outer member whose value holds it */
	unsigned keys;       /* object members written inside its value */
};

/* What one pass over a message's text found. */
struct jsonscan {
	unsigned top_keys;  /* members of the outer object as written */
	bool top_bad;       /* a lone surrogate escape outside the second level's objects */
	unsigned n_keys2[JSONSCAN_TOP_MAX]; /* members of the object that is outer member i's value */
	unsigned n_params;  /* entries of params[] */
	int bad_param;      /* index in params[] of the member holding a lone surrogate escape, -1 for none */
	int nul_param;      /* index in params[] of the member holding "\u0000", -1 for none (a caller may make it bad_param) */
	struct jsonscan_param params[JSONSCAN_PARAMS_MAX];
	unsigned values;    /* objects, arrays, object members and array elements written */
	unsigned depth_max; /* deepest nesting of objects and arrays */
};

/* Scan len bytes of JSON text once (no allocation); malformed text is json-c's to refuse. */
void jsonscan_message(const char *msg, size_t len, struct jsonscan *ret);
/*
 * Hold o, parsed from msg, to the scan: 0 when json-c kept everything as
 * written; 1 with *ret_param (borrowed from o, or "parameters") naming the
 * parameter with a duplicate key or a lone surrogate escape; -EBADMSG when
 * the outer object has one (the message cannot be trusted at all).
 */
int jsonscan_check(const struct jsonscan *s, const char *msg, json_object *o, const char **ret_param);
