/* SPDX-License-Identifier: MIT */
/* cli_pressure.c: `watch --pressure RESOURCE=KIND:STALL/WINDOW`, parsed into a libcgctl trigger. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "150ms", "2s", "500000us", "500000" (microseconds) → microseconds; false when malformed. */
static bool pressure_duration(const char *s, size_t len, uint64_t *ret)
{
	static const struct { const char *suffix; uint64_t mult; } units[] = {
		{ "us", 1 }, { "ms", 1000 }, { "s", 1000000 }, { "", 1 },
	};
	char buf[32], *end;
	unsigned long long v;

	if (len == 0 || len >= sizeof(buf) || !strchr("0123456789", s[0]))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	v = strtoull(buf, &end, 10);
	if (errno != 0)
		return false;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].suffix) == 0) {
			if (v > UINT64_MAX / units[i].mult / 2)
				return false;
			*ret = v * units[i].mult;
			return true;
		}
	return false;
}

int cli_pressure_parse(const char *spec, struct cgctl_pressure_trigger *ret, const char **ret_why)
{
	static const char *const resources[] = { "memory", "cpu", "io", NULL };
	const char *eq = strchr(spec, '='), *colon, *slash;
	struct cgctl_pressure_trigger t = { .size = sizeof(t) };

	*ret_why = "want RESOURCE=KIND:STALL/WINDOW, e.g. memory=some:150ms/2s";
	if (!eq || !(colon = strchr(eq, ':')) || !(slash = strchr(colon, '/')))
		return -EINVAL;
	for (size_t i = 0; resources[i]; i++)
		if (strlen(resources[i]) == (size_t)(eq - spec) && strncmp(spec, resources[i], (size_t)(eq - spec)) == 0)
			t.resource = resources[i];
	if (!t.resource) {
		*ret_why = "RESOURCE is memory, cpu or io";
		return -EINVAL;
	}
	if (colon - eq - 1 == 4 && strncmp(eq + 1, "some", 4) == 0)
		t.kind = "some";
	else if (colon - eq - 1 == 4 && strncmp(eq + 1, "full", 4) == 0)
		t.kind = "full";
	else {
		*ret_why = "KIND is some or full";
		return -EINVAL;
	}
	if (!pressure_duration(colon + 1, (size_t)(slash - colon - 1), &t.stall_usec) ||
	    !pressure_duration(slash + 1, strlen(slash + 1), &t.window_usec)) {
		*ret_why = "STALL and WINDOW are durations: 150ms, 2s, 500000us";
		return -EINVAL;
	}
	*ret = t;
	return 0;
}
