// SPDX-License-Identifier: MIT
/* gen_entries_seeds.c: write fuzz_entries seeds: List replies as cgctld writes them (make fuzz-seeds). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "entry_json.h"
#include "jsonbuf.h"
#include "varlink.h"

/*
 * gen-*: each Entry is written by the daemon's own writer,
 * entry_json_write() (daemon/entry_json.c), and the reply around the array by
 * vl_reply_format(), as the daemon's List does; the seed is mode '0' (see
 * fuzz_entries.c) and the message without its NUL.
 * rec-*: mode '3', choices that build replies (fuzz_entries.c, recipe_reply()).
 */

static const char *out_dir;

/* One entry's values; labels are key/value pairs (values may hold NULs). */
struct seed_entry {
	const char *name, *root, *rel; /* path: root/rel, "" when rel is NULL */
	enum ledger_state state;
	int generated, populated, frozen; /* populated, frozen: -1 writes null */
	int64_t created;
	int delegate, auto_remove, lease;
	json_object *labels; /* NULL: {} as the daemon writes it */
};

/* Abort with a message: the seeds must be exactly what this program intends. */
static void __attribute__((noreturn)) die(const char *what, int r)
{
	fprintf(stderr, "gen_entries_seeds: %s: %s\n", what, strerror(r < 0 ? -r : r));
	exit(1);
}

/* Write seed name: the mode byte, then n bytes of s. */
static void write_seed(const char *name, char mode, const char *s, size_t n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", out_dir, name);
	f = fopen(path, "wb");
	if (!f)
		die(path, -errno);
	fputc(mode, f);
	fwrite(s, 1, n, f);
	if (fclose(f) != 0)
		die(path, -errno);
}

/* One Entry object, by the daemon's writer. */
static void entry_write(const struct seed_entry *e, struct jsonbuf *b)
{
	struct ledger_entry le = { .name = (char *)e->name, .state = e->state, .generated = e->generated,
				   .created_usec = (uint64_t)e->created, .delegate = e->delegate,
				   .auto_remove = e->auto_remove, .lease = e->lease, .labels = e->labels };

	entry_json_write(b, &le, e->root, e->rel, e->populated, e->frozen);
}

/* Write seed name: the List reply holding entries e[0..n). */
static void seed(const char *name, const struct seed_entry *e, size_t n)
{
	struct jsonbuf b = { 0 };
	json_object *arr, *p;
	size_t len;
	char *msg;
	int r;

	jsonbuf_put_lit(&b, "[");
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			jsonbuf_put_lit(&b, ",");
		entry_write(&e[i], &b);
	}
	jsonbuf_put_lit(&b, "]");
	arr = jsonbuf_to_json(&b);
	p = json_object_new_object();
	if (!arr || !p || json_object_object_add(p, "entries", arr) < 0)
		die(name, -ENOMEM);
	r = vl_reply_format(NULL, p, false, &msg, &len);
	json_object_put(p);
	if (r < 0)
		die(name, r);
	write_seed(name, '0', msg, len - 1); /* len counts the NUL the framer splits at */
	free(msg);
}

/* Add key: value (n bytes) to labels o. */
static void label(json_object *o, const char *key, const char *value, size_t n)
{
	if (json_object_object_add(o, key, json_object_new_string_len(value, (int)n)) < 0)
		die("label", -ENOMEM);
}

/* A typical entry below root (default /sys/fs/cgroup/user.slice/cgctld.service), its path its name. */
static struct seed_entry typical(const char *name, const char *root)
{
	return (struct seed_entry){ .name = name, .root = root ? root : "/sys/fs/cgroup/user.slice/cgctld.service",
				    .rel = name, .state = LEDGER_ACTIVE, .populated = 1, .frozen = 0,
				    .created = 1764440000000000 };
}

/* No entries; one; a few of every state and flag. */
static void plain(void)
{
	struct seed_entry e[4];

	seed("gen-empty", NULL, 0);
	e[0] = typical("buildkit", NULL);
	e[0].delegate = 1;
	e[0].labels = json_object_new_object();
	label(e[0].labels, "owner", "ci", 2);
	label(e[0].labels, "app", "web", 3);
	seed("gen-one", e, 1);
	e[1] = typical("runc/ctr1", NULL);
	e[1].state = LEDGER_CREATING, e[1].generated = 1, e[1].lease = 1, e[1].populated = -1, e[1].frozen = -1;
	e[2] = typical("jobs", NULL);
	e[2].state = LEDGER_DESTROYING, e[2].auto_remove = 1, e[2].populated = 0, e[2].frozen = 1;
	/* An entry whose name has no path (cgname_to_path() failed): "" and the largest time. */
	e[3] = typical("x", NULL);
	e[3].rel = NULL;
	e[3].created = INT64_MAX;
	seed("gen-states", e, 4);
	json_object_put(e[0].labels);
}

/* Names, paths and labels with everything that must be escaped, NULs and non-ASCII. */
static void hostile(void)
{
	static const char *const names[] = { "q\"uote", "back\\slash", "sl/a\"sh/_cgroup.procs",
					     "uni\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80", "tab\tnl\nctl\x01\x1f\x7f" };
	struct seed_entry e[5];

	for (size_t i = 0; i < 5; i++) {
		e[i] = typical(names[i], "/sys/fs/cgroup/\"r\\\"");
		e[i].labels = json_object_new_object();
		label(e[i].labels, "k\"\\/\b\f\n\r\t\x01\x1f\x7f", "v\0nul\"\\", 7);
		label(e[i].labels, "", "", 0);
		label(e[i].labels, "k=eq", "v=eq\xe2\x80\xa8\xef\xbf\xbd", 10);
		label(e[i].labels, "\xf4\x8f\xbf\xbf", "\0", 1);
	}
	seed("gen-hostile", e, 5);
	for (size_t i = 0; i < 5; i++)
		json_object_put(e[i].labels);
}

/* An entry with n labels k0..k(n-1). */
static void many_labels(const char *name, int n)
{
	struct seed_entry e = typical("labelled", "/sys/fs/cgroup");
	char k[16], v[32];

	e.labels = json_object_new_object();
	for (int i = 0; i < n; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "value-%d\\%c", i, i % 2 ? '"' : '/');
		label(e.labels, k, v, strlen(v));
	}
	seed(name, &e, 1);
	json_object_put(e.labels);
}

/* A small tree of nested cgroups. */
static void tree(void)
{
	struct seed_entry e[12];
	char names[12][32];

	for (size_t i = 0; i < 12; i++) {
		snprintf(names[i], sizeof(names[i]), i < 3 ? "t%zu" : "t%zu/c%zu", i < 3 ? i : i % 3, i);
		e[i] = typical(names[i], "/sys/fs/cgroup/m");
		e[i].created += (int64_t)i;
		e[i].populated = i % 3 == 0 ? -1 : (int)(i % 2);
		e[i].frozen = i % 3 == 0 ? -1 : (int)(i % 5 == 1);
	}
	seed("gen-tree", e, 12);
}

/*
 * Mode-3 seeds: choices for fuzz_entries' recipe_reply(), as bytes. A member
 * byte below 128 takes the member's natural value (strings then take a
 * count of pieces and the pieces, booleans one byte, labels a count);
 * 128 + 9k + V picks variant V (V_NULL 1, V_TRUE 2, V_FALSE 3, V_ESCAPED_KEY 7,
 * V_TWICE 8). Running out of choices makes the rest plain.
 */
#define V(v) (char)(135 + (v))
/* One entry, not rotated, every member natural and empty or false, up to the count of its labels. */
#define PLAIN_ENTRY_TO_LABELS 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0
/* ...and with no labels. */
#define PLAIN_ENTRY PLAIN_ENTRY_TO_LABELS, 0

static void recipes(void)
{
	static const char plain[] = { 0, 1 };
	static const char varied[] = {
		15, 2, /* a member before "parameters", spaced, "continues": false, a member after; 2 entries */
		4, 3,  /* "x": numbers[3] */
		14,    /* entry 1: members from "generated" on (rotated by 3), an unknown one first: */
		3, 2, 6, 15,                                   /* "x": "é\u0000" */
		V(1), V(2), 0, 1, 0, 3, V(3), 0, 0, V(1),      /* generated null, populated true, frozen true,
								  created INT64_MAX, delegate false, auto_remove
								  false, lease null */
		0, 3, 1, 7, 0, 2, 12, 13,                      /* labels: "<U+2028>": "\ud83d\ude00\udbff\udfff", */
		1, 15, 0, 1, 17,                               /* "\u0000": "\"", */
		2, 0, 15, 0, 0,                                /* "a\u0000": "" */
		0, 3, 0, 19, 10,                               /* name "a\/\u00e9" */
		0, 2, 2, 8,                                    /* path "/😀" */
		0, 1, 20,                                      /* state "\b\f\n\r\t" */
		0,                                             /* entry 2, in order: */
		0, 1, 1, 0, 0, 0, 0, 0, 1,                     /* name "b", path "", state "", generated true */
		V(0), V(0), V(1),                              /* populated and frozen left out, created null */
		0, 1, 0, 0, 0, 1, V(1),                        /* delegate true, auto_remove false, lease true,
								  labels null */
		5, 0,                                          /* "y": {} */
	};
	/* A labels count of 240 + n gives 62 + n labels. */
	static const char labels_64[] = { 0, 1, PLAIN_ENTRY_TO_LABELS, (char)242 };
	static const char labels_65[] = { 0, 1, PLAIN_ENTRY_TO_LABELS, (char)243 };
	static const char twice[] = { 0, 2, PLAIN_ENTRY, 0, V(8) };
	static const char escaped_key[] = { 0, 2, PLAIN_ENTRY, 0, V(7) };
	static const char lone_surrogate[] = { 0, 2, PLAIN_ENTRY, 0, 0, 1, (char)225 };

	write_seed("rec-plain", '3', plain, sizeof(plain));
	write_seed("rec-varied", '3', varied, sizeof(varied));
	write_seed("rec-labels-64", '3', labels_64, sizeof(labels_64));
	write_seed("rec-labels-65", '3', labels_65, sizeof(labels_65));
	write_seed("rec-twice", '3', twice, sizeof(twice));
	write_seed("rec-escaped-key", '3', escaped_key, sizeof(escaped_key));
	write_seed("rec-lone-surrogate", '3', lone_surrogate, sizeof(lone_surrogate));
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: gen_entries_seeds OUTDIR\n");
		return 2;
	}
	out_dir = argv[1];
	plain();
	hostile();
	many_labels("gen-labels-64", 64);
	many_labels("gen-labels-65", 65);
	tree();
	recipes();
	return 0;
}
