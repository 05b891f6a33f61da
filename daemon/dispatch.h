/* SPDX-License-Identifier: MIT */
/* dispatch.h: method table, parameter checking, and the method handlers' shared helpers. */
#pragma once

#include <stdbool.h>
#include <json-c/json.h>

#include "conn.h"
#include "manager.h"

/* One accepted parameter: its name, JSON type, and whether it may be null/absent. */
struct param_spec {
	const char *name;
	json_type type;
	bool required;
};

/* Terminates a param_spec table. */
#define PARAM_END { NULL, json_type_null, false }

/*
 * Check call's parameters against specs: unknown names, wrong types, missing
 * required ones get org.varlink.service.InvalidParameter (the call is then
 * answered and false returned).
 */
bool params_check(struct call *call, const struct param_spec *specs);
/* Parameter name as a string, NULL when absent or null. */
const char *param_str(struct call *call, const char *name);
/* Parameter name as a bool, def when absent or null. */
bool param_bool(struct call *call, const char *name, bool def);
/* The parameter object itself (borrowed), NULL when absent or null. */
json_object *param_obj(struct call *call, const char *name);
/*
 * The "timeout_ms" parameter, how long Destroy, Freeze, Thaw and Kill wait:
 * 0..MANAGER_KILL_TIMEOUT_MAX_MS, 0 or absent meaning the default
 * (MANAGER_KILL_TIMEOUT_MS), as in libcgctl; else InvalidValue is answered
 * and false returned.
 */
bool param_timeout(struct call *call, int *ret);

/* Route a call to its handler (app.c's dispatch op). */
void dispatch_call(struct call *call);
/* Answer a failed operation. */
void call_op_error(struct call *call, const struct op_error *e);
/* Reply (params consumed) once the ledger records written so far are durable (group commit). */
void call_reply_durable(struct call *call, json_object *params);
/* Undo what a call did, its records not durable: a phrase for its error ("" when nothing was undone). */
typedef const char *(*call_undo_fn)(struct call *call, void *arg);
/* call_reply_durable(), but a failed sync first runs undo(call, arg); arg is then freed with free(). */
void call_reply_durable_undo(struct call *call, json_object *params, call_undo_fn undo, void *arg);
/* The daemon's manager. */
struct manager *call_manager(struct call *call);

typedef void (*method_fn)(struct call *call);

struct method {
	const char *name; /* fully qualified */
	method_fn fn;
};

/* Handlers (methods.c). */
void method_get_status(struct call *call);
void method_create(struct call *call);
void method_destroy(struct call *call);
void method_list(struct call *call);
void method_attach(struct call *call);
void method_set_resources(struct call *call);
void method_get_stats(struct call *call);
void method_freeze(struct call *call);
void method_thaw(struct call *call);
void method_kill(struct call *call);
void method_open_cgroup(struct call *call);
void method_watch(struct call *call);
/* snapshot.c */
void method_snapshot(struct call *call);
struct app;
/* End every Snapshot still being built (the daemon is stopping). */
void snapshot_stop(struct app *a);
