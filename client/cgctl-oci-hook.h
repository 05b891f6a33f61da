/* SPDX-License-Identifier: MIT */
/* cgctl-oci-hook.h: one run of the OCI hook (cgctl-oci-hook.c) and its messages (cgctl-oci-hook-log.c). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "cgctl.h"
#include "oci.h"

enum stage { STAGE_UNKNOWN, STAGE_CREATE, STAGE_POSTSTOP, STAGE_GC };
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* One run of the hook. */
struct hook {
	enum stage stage;
	const char *socket;   /* --socket, else NULL: $CGCTL_SOCKET or the default */
	const char *log_path; /* --log: warnings and errors are appended there too */
	char *auto_log;       /* else the default log file; owned, NULL when there is none */
	char *sock;           /* the socket path in use; owned */
	bool strict;
	long gc_age;          /* --gc-age, seconds */
	bool dry_run; /* print what createRuntime would ask for, call nothing */
	int timeout_ms;
	json_object *state;  /* owned */
	json_object *config; /* owned; NULL at poststop when the bundle is gone */
	struct oci_state st; /* from state */
	struct oci_log log;  /* the oci_* modules report through hook_log_cb */
	char *name;          /* the cgroup's name; owned */
	bool derived;
	cgctl *c;
	struct oci_owner owner; /* who we are to the daemon, once owner_known */
	bool owner_known;
};

/* Log a warning. */
__attribute__((format(printf, 2, 3)))
void hook_warn(const struct hook *h, const char *fmt, ...);
/* Log an error; returns EXIT_FAIL. */
__attribute__((format(printf, 2, 3)))
int hook_error(const struct hook *h, const char *fmt, ...);
/*
 * The container can run without a cgroup of its own (no daemon, no
 * delegation): a warning and success, or with --strict an error.
 */
__attribute__((format(printf, 2, 3)))
int hook_soft(const struct hook *h, const char *fmt, ...);
/* What becomes of the container when it cannot have its cgroup, for the end of a message. */
const char *hook_without(const struct hook *h);
/* struct oci_log callback: a message of the oci_* modules, logged as the hook's own. */
__attribute__((format(printf, 3, 0)))
void hook_log_cb(void *userdata, const char *level, const char *fmt, va_list ap);
/* "Name: message" of the daemon's last error, or the code's description. */
const char *hook_why(const struct hook *h, int r, char *buf, size_t size);
/* The daemon's last error message, never NULL. */
const char *hook_errmsg(const struct hook *h);
/* Log a failed daemon call "what"; returns EXIT_FAIL. */
int hook_call_failed(const struct hook *h, const char *what, int r);
