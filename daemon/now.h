/* SPDX-License-Identifier: MIT */
/* now.h: the daemon's clocks, read in one place. */
#pragma once

#include <stdint.h>

/* Wall-clock microseconds since the epoch (timestamps that leave the daemon or outlive it). */
uint64_t now_usec(void);
/* Microseconds on the monotonic clock (deadlines; sd-bus's clock). */
uint64_t now_mono_usec(void);
/* Milliseconds on the monotonic clock, signed for deadline arithmetic. */
int64_t now_mono_msec(void);
