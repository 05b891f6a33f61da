/* SPDX-License-Identifier: MIT */
/* evwait.h: wait, without blocking the loop, until cgroup.events says what we want. */
#pragma once

#include <stdbool.h>

struct manager;
struct evwait;

enum evwait_cond {
	EVWAIT_EMPTY,  /* populated 0 (or the cgroup is gone) */
	EVWAIT_FROZEN, /* frozen 1 */
	EVWAIT_THAWED, /* frozen 0 */
};

/* r: 0 when the condition holds, -ETIMEDOUT, or -errno. */
typedef void (*evwait_fn)(void *arg, int r);

/*
 * Call cb once the cgroup relpath meets cond, or after timeout_ms. cb may run
 * before evwait_start() returns (condition already true). 0 or -errno (then cb
 * is not called).
 */
int evwait_start(struct manager *m, const char *relpath, enum evwait_cond cond, int timeout_ms,
		 evwait_fn cb, void *arg);
/* End every pending wait with -ECANCELED (daemon stopping). */
void evwait_cancel_all(struct manager *m);
/* True while a wait is pending. */
bool evwait_pending(const struct manager *m);
