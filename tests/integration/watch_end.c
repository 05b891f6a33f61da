/* SPDX-License-Identifier: MIT */
/* watch_end.c: follow a libcgctl watch to its end and say how it ended, using only <cgctl.h>. */

/*
 * Usage: watch_end SOCKET. Prints "watching" once the watch is confirmed,
 * "event TYPE NAME" for each event (NAME "-" when empty), then "end CODE
 * ERRNO-NAME ERROR-NAME" with what cgctl_watch_next() returned when the
 * stream was over, and what a call after that returns: "after CODE". Exits 0
 * when it saw the end, 1 when the watch could not start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../../client/cgctl.h"

/* The symbolic name of a few codes the end may carry. */
static const char *code_name(int r)
{
	switch (-r) {
	case ESHUTDOWN: return "ESHUTDOWN";
	case ECONNRESET: return "ECONNRESET";
	case ENOTCONN: return "ENOTCONN";
	case ETIMEDOUT: return "ETIMEDOUT";
	case EDQUOT: return "EDQUOT";
	default: return "other";
	}
}

int main(int argc, char **argv)
{
	struct cgctl_event *ev = NULL;
	cgctl *c = NULL;
	int r;

	if (argc != 2 || cgctl_connect(argv[1], &c) < 0)
		return 1;
	if ((r = cgctl_watch(c, NULL)) < 0) {
		fprintf(stderr, "watch_end: Watch: %s\n", cgctl_strerror(r));
		return 1;
	}
	printf("watching\n");
	fflush(stdout);
	while ((r = cgctl_watch_next(c, -1, &ev)) > 0) {
		printf("event %s %s\n", ev->type, ev->name[0] ? ev->name : "-");
		fflush(stdout);
		cgctl_event_free(ev);
	}
	printf("end %d %s %s\n", r, code_name(r), cgctl_error_name(c) ? cgctl_error_name(c) : "-");
	r = cgctl_watch_next(c, 0, &ev);
	printf("after %d %s\n", r, code_name(r));
	cgctl_disconnect(c);
	return 0;
}
