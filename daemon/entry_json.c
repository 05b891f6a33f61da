/* SPDX-License-Identifier: MIT */
/* entry_json.c: the Entry object of List and Create, written as JSON text. */
#include "entry_json.h"

#include <string.h>

/* A boolean, or null when unknown (< 0). */
static void entry_json_put_known_bool(struct jsonbuf *b, int v)
{
	if (v >= 0)
		jsonbuf_put_bool(b, v);
	else
		jsonbuf_put_lit(b, "null");
}

/*
 * Written as text: json-c trees cost List a malloc per member and most of its
 * time building, serialising and freeing them. Create's reply comes from here
 * too, so both carry the same members in the same order.
 */
void entry_json_write(struct jsonbuf *b, const struct ledger_entry *le, const char *root_path, const char *rel,
		      int populated, int frozen)
{
	const char *state = ledger_state_to_string(le->state);

	jsonbuf_put_lit(b, "{\"name\":");
	jsonbuf_put_string(b, le->name, strlen(le->name));
	jsonbuf_put_lit(b, ",\"path\":\"");
	if (rel) {
		jsonbuf_put_escaped(b, root_path, strlen(root_path));
		jsonbuf_put_lit(b, "/");
		jsonbuf_put_escaped(b, rel, strlen(rel));
	}
	jsonbuf_put_lit(b, "\",\"state\":");
	jsonbuf_put_string(b, state, strlen(state));
	jsonbuf_put_lit(b, ",\"generated\":");
	jsonbuf_put_bool(b, le->generated);
	jsonbuf_put_lit(b, ",\"populated\":");
	entry_json_put_known_bool(b, populated);
	jsonbuf_put_lit(b, ",\"frozen\":");
	entry_json_put_known_bool(b, frozen);
	jsonbuf_put_lit(b, ",\"created\":");
	jsonbuf_put_int(b, (int64_t)le->created_usec);
	jsonbuf_put_lit(b, ",\"delegate\":");
	jsonbuf_put_bool(b, le->delegate);
	jsonbuf_put_lit(b, ",\"auto_remove\":");
	jsonbuf_put_bool(b, le->auto_remove);
	jsonbuf_put_lit(b, ",\"lease\":");
	jsonbuf_put_bool(b, le->lease);
	jsonbuf_put_lit(b, ",\"owner\":");
	jsonbuf_put_int(b, (int64_t)le->owner);
	jsonbuf_put_lit(b, ",\"labels\":");
	if (le->labels)
		jsonbuf_put_value(b, le->labels);
	else
		jsonbuf_put_lit(b, "{}");
	jsonbuf_put_lit(b, "}");
}
