/* SPDX-License-Identifier: MIT */
/* crashpoint.c: test-only hook that kills the daemon at a named point, to prove crash safety. */
#include "crashpoint.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void crashpoint(const char *point)
{
	static long passes;
	static const char *want;
	static bool asked;
	size_t n = strlen(point);
	long nth = 1;

	/* Set before the daemon starts or never: a walk of the environment once, not at every point. */
	if (!asked) {
		want = getenv("CGCTLD_TEST_CRASH");
		asked = true;
	}
	if (!want || strncmp(want, point, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return;
	if (want[n] == ':')
		nth = strtol(want + n + 1, NULL, 10);
	if (++passes < nth)
		return;
	log_msg(LOG_WARNING, "test crash point %s reached: SIGKILL", point);
	kill(getpid(), SIGKILL);
}
