/* SPDX-License-Identifier: MIT */
/* crashpoint.h: test-only hook that kills the daemon at a named point, to prove crash safety. */
#pragma once

/*
 * $CGCTLD_TEST_CRASH="POINT[:N]" makes the N-th (default first) passage
 * through crashpoint("POINT") raise SIGKILL. Points: create-intent (intent
 * record written, before mkdir), create-unmarked (after mkdir, before the
 * identity nonce is written on the directory), create-mkdir (after mkdir and
 * its mark, before its limits and a tenant's hand-over), create-set-up (after
 * those, before the commit record), create-commit (commit record written, before it is synced),
 * destroy-intent (destroying record written, before rmdir), destroy-rmdir
 * (after rmdir, before the removal record). Unset: no effect.
 */
void crashpoint(const char *point);
