/* SPDX-License-Identifier: MIT */
/*
 * markpoint.c: linked into every unit suite with -Wl,--wrap=_mark_point (Makefile).
 *
 * Check calls _mark_point() at every assertion that passes, and it writes a
 * record to the runner's message file each time (a syscall, and under ASan a
 * malloc too), only so that a test that crashes or hangs can be reported
 * "after" the last assertion it passed. The suites' loops pass a million of
 * them (test_jsonbuf alone 120000): most of the suites' CPU time. A failed
 * assertion still reports its own file and line (_ck_assert_failed() does not
 * go through here); a crash or a timeout is reported at its test's first line,
 * and under ASan with the crash's stack.
 */

void __wrap__mark_point(const char *file, int line);

/* Check's passing-assertion hook, made free. */
void __wrap__mark_point(const char *file, int line)
{
	(void)file;
	(void)line;
}
