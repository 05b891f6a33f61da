/* SPDX-License-Identifier: MIT */
/* testutil.c: set-up the daemon's unit suites share (testutil.h). */
#include "testutil.h"

#include <check.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <event2/event.h>

void tu_scratch(char *buf, size_t size, const char *name)
{
	ck_assert_int_lt(snprintf(buf, size, "/tmp/%s.XXXXXX", name), (int)size);
	ck_assert_ptr_nonnull(mkdtemp(buf));
}

/* nftw's callback: one entry, deepest first (FTW_DEPTH). */
static int tu_rm_cb(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	return remove(path);
}

void tu_rm_tree(const char *path)
{
	nftw(path, tu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

void tu_turns(struct event_base *base, int n)
{
	for (int i = 0; i < n; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
}

void tu_socketpair(int sv[2])
{
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(fcntl(sv[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(fcntl(sv[1], F_SETFL, O_NONBLOCK), 0);
}
