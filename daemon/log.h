/* SPDX-License-Identifier: MIT */
/* log.h: the daemon's logging to stderr, with journald priority prefixes. */
#pragma once

#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>

/* Set up logging; verbose enables LOG_DEBUG. Detects journald on stderr. */
void log_init(int verbose);
/*
 * Write lines of prio or more urgent to out rather than stderr (NULL: back to
 * stderr): the request fuzzer formats every line, so that a bad format still
 * shows under ASan, and shows them only when asked.
 */
void log_set_output(FILE *out, int max_prio);
/* Log a message at priority prio. */
void log_msg(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Log with ": strerror(-r)" appended; returns r (negative errno) for tail calls. */
int log_errno(int prio, int r, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/*
 * Log an operation on a cgroup: under journald with the structured fields
 * CGCTL_CGROUP=name and CGCTL_OPERATION=op (journalctl CGCTL_CGROUP=...),
 * otherwise as a plain line.
 */
void log_op(int prio, const char *op, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Log and exit(1): only for broken invariants at start-up. */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_warnx(...) log_msg(LOG_WARNING, __VA_ARGS__)
#define log_warn_errno(r, ...) log_errno(LOG_WARNING, (r), __VA_ARGS__)
#define log_error_errno(r, ...) log_errno(LOG_ERR, (r), __VA_ARGS__)
