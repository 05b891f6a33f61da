/* SPDX-License-Identifier: MIT */
/* crashpoint.c: test-only hook that kills the daemon at a named point, to prove crash safety. */
#include "crashpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void crashpoint(const char *point)
{
	static long passes;
	const char *want = getenv("CGCTLD_TEST_CRASH");
	size_t n = strlen(point);
	long nth = 1;

	if (!want || strncmp(want, point, n) != 0 || (want[n] != '\0' && want[n] != ':'))
		return;
	if (want[n] == ':')
		nth = strtol(want + n + 1, NULL, 10);
	if (++passes < nth)
		return;
	log_msg(LOG_WARNING, "test crash point %s reached: SIGKILL", point);
	kill(getpid(), SIGKILL);
}
