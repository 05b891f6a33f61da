/* SPDX-License-Identifier: MIT */
/* watch.h: the Watch streams (glue): the domain's events, filtered per stream, as "more" replies. */
#pragma once

#include <sys/types.h>
#include <json-c/json.h>

struct app;
struct call;
struct conn;
struct op_error;

#define WATCH_BUFFER_MAX (1024u * 1024u) /* queued bytes before a slow watcher is dropped */

/* Take the domain's events (events_set_sink()) for a's streams. */
void watch_init(struct app *a);
/*
 * Make call (a "more" call of Watch) a stream of the events about names
 * (NULL: all) its uid may hear of, with the PSI triggers of the array
 * pressure (NULL: none); its first reply ("watching") goes out now. 0 or
 * -errno with e filled (the call is then the caller's to answer).
 */
int watch_add(struct app *a, struct call *call, json_object *names, json_object *pressure, struct op_error *e);
/* Connection c is gone: its stream ends (answered into the void). */
void watch_conn_closed(struct app *a, struct conn *c);
/* End every stream with Timeout "cgctld is stopping". */
void watch_stop(struct app *a);
/* Number of streams. */
unsigned watch_count(const struct app *a);
/* Number of streams of uid (a tenant's budget and status count these). */
unsigned watch_count_of(const struct app *a, uid_t uid);
