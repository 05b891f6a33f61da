/* SPDX-License-Identifier: MIT */
/* cli_top.h: `cgctl top`'s model: frames from Snapshot replies, rates, tree order, text and JSON. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

/* What top sorts siblings by. */
enum top_sort { TOP_SORT_CPU, TOP_SORT_MEMORY, TOP_SORT_PIDS, TOP_SORT_NAME, TOP_SORT_IO };

#define TOP_NONE (-1)    /* a figure the cgroup does not have */
#define TOP_MAX (-2)     /* a limit of "max" */

/* One cgroup of a frame. */
struct top_row {
	const char *name;    /* borrowed from the frame's reply */
	int depth;           /* below the nearest shown ancestor */
	int parent;          /* index of that ancestor, -1 at the top */
	int64_t procs, mem, mem_max, pids, pids_max; /* TOP_NONE when absent */
	int64_t usage_usec, rbytes, wbytes;          /* cumulative, TOP_NONE when absent */
	int64_t time_usec;                           /* when they were read (the frame's time from an older daemon) */
	double cpu, io_r, io_w;                      /* per second over the last interval; < 0: unknown */
	double psi_cpu, psi_mem, psi_io;             /* some avg10; < 0: absent */
};

/* One refresh. */
struct top_frame {
	json_object *reply;  /* the Snapshot reply, owned */
	json_object *status; /* borrowed from reply */
	int64_t time_usec;
	bool truncated;
	struct top_row *rows; /* in the daemon's (name) order */
	size_t n;
	size_t *order;        /* display order: the tree, siblings sorted */
	bool has_mem, has_pids, has_io, has_psi; /* some cgroup has the figure at all */
};

/* Parse a sort key name ("cpu", "memory", "pids", "name", "io"). 0 or -EINVAL. */
int top_sort_parse(const char *s, enum top_sort *ret);
/* Name of a sort key. */
const char *top_sort_name(enum top_sort key);
/* Build a frame from a Snapshot reply's JSON text, rates against prev (may be NULL). 0 or -errno. */
int top_frame_build(const char *json, const struct top_frame *prev, struct top_frame *ret);
/* Order f's rows as a tree, siblings sorted by key (descending, names ascending). 0 or -ENOMEM. */
int top_frame_sort(struct top_frame *f, enum top_sort key);
/* Free a frame's contents; the frame is zeroed. */
void top_frame_done(struct top_frame *f);
/* The frame as text: header, then at most max_rows rows (0: all), lines cut at width (0: not). */
void top_render_text(const struct top_frame *f, enum top_sort key, int width, int max_rows, FILE *out);
/* The frame over a terminal of cols x rows from its top left: at most rows lines, each cut at cols display
 * columns and cleared to its end, the rest of the screen cleared; it never scrolls. 0 or -ENOMEM. */
int top_render_screen(const struct top_frame *f, enum top_sort key, int cols, int rows, FILE *out);
/* The frame as one line of JSON. */
void top_render_json(const struct top_frame *f, enum top_sort key, FILE *out);
