/* SPDX-License-Identifier: MIT */
/* testutil.h: set-up the daemon's unit suites share: scratch directories, loop turns, socketpairs (testutil.c). */
#pragma once

#include <stddef.h>

struct event_base;

/* A fresh directory /tmp/NAME.XXXXXX, its path into buf (size bytes); the test fails when it cannot be made. */
void tu_scratch(char *buf, size_t size, const char *name);
/* Remove path and everything below it, following no symlink; what is already gone is no error. */
void tu_rm_tree(const char *path);
/* Run base's ready events n times, never blocking. */
void tu_turns(struct event_base *base, int n);
/* A connected AF_UNIX stream pair, both ends close-on-exec and non-blocking; the test fails otherwise. */
void tu_socketpair(int sv[2]);
