/* SPDX-License-Identifier: MIT */
/* now.c: the daemon's clocks, read in one place. */
#include "now.h"

#include <time.h>

/* Microseconds of clock id. */
static uint64_t now_clock_usec(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t now_usec(void)
{
	return now_clock_usec(CLOCK_REALTIME);
}

uint64_t now_mono_usec(void)
{
	return now_clock_usec(CLOCK_MONOTONIC);
}

int64_t now_mono_msec(void)
{
	return (int64_t)(now_mono_usec() / 1000u);
}
