/* SPDX-License-Identifier: MIT */
/* sweep.h: remove the scratch directories that crashed fuzzing runs left behind. */
#pragma once

/* Remove tmp/PREFIX.PID trees whose process is gone (best effort). */
void sweep_stale(const char *tmp, const char *prefix);
