/* SPDX-License-Identifier: MIT */
/* pressure.h: PSI triggers of Watch streams: validated, armed on pressure files, polled for POLLPRI. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

struct manager;
struct op_error;

#define PRESSURE_WATCH_MAX 16          /* triggers one Watch may arm */
#define PRESSURE_WINDOW_MIN_US 500000  /* the kernel's bounds on a window */
#define PRESSURE_WINDOW_MAX_US 10000000
#define PRESSURE_UNPRIV_STEP_US 2000000 /* without CAP_SYS_RESOURCE, windows are multiples of this */

/* One trigger as a Watch asked for it. */
struct pressure_spec {
	const char *name;     /* borrowed from the request */
	const char *resource; /* "memory", "cpu", "io" */
	const char *kind;     /* "some", "full" */
	int64_t stall_us, window_us;
};

/*
 * Check the PressureTrigger object o (index i of the request, for messages)
 * into *ret, strings borrowed from o; privileged says whether the kernel will
 * take any window (CAP_SYS_RESOURCE). 0 or -errno with e filled.
 */
int pressure_spec_parse(json_object *o, size_t i, bool privileged, struct pressure_spec *ret,
			struct op_error *e);
/*
 * Arm every trigger of the array triggers for stream (the glue's handle of a
 * Watch about to start; a trigger firing goes to it through events_send()),
 * counting them against uid, which may hold per_uid: all or none. 0 or
 * -errno with e filled.
 */
int pressure_add(struct manager *m, const void *stream, uid_t uid, unsigned per_uid, json_object *triggers,
		 struct op_error *e);
/* Disarm and free stream's triggers (it ended). */
void pressure_release(struct manager *m, const void *stream);
/* Triggers armed now. */
unsigned pressure_count(const struct manager *m);
/* Armed triggers of uid's Watch streams. */
unsigned pressure_count_of(const struct manager *m, uid_t uid);
/* Free what is left (daemon stopping, after every stream ended). */
void pressure_done(struct manager *m);
