/* SPDX-License-Identifier: MIT */
/* replylog.h: test-only record of every reply sent, for the interface checker. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* The environment variable naming the file; unset (the default) records nothing. */
#define REPLYLOG_ENV "CGCTLD_TEST_REPLY_LOG"

/* Open the file $CGCTLD_TEST_REPLY_LOG names for appending: its fd, or -1 (unset or failed, logged). */
int replylog_open(void);
/*
 * Append one line {"method": M, "more": B, "reply": REPLY} with one write(2),
 * so daemons sharing the file never interleave. reply is a formatted
 * message of len bytes (a trailing NUL is not copied). A reply identical to
 * one already recorded (same method, more and bytes) is recorded once.
 * Failures are ignored.
 */
void replylog_write(int fd, const char *method, bool more, const char *reply, size_t len);
