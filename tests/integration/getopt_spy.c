/* SPDX-License-Identifier: MIT */
/* getopt_spy.c: an LD_PRELOAD library that writes down every option table a program hands getopt_long(). */

/*
 * cli_options.py runs cgctl and cgctld with it preloaded and $CGCTL_GETOPT_SPY
 * naming a file: each distinct table (short option string and long options)
 * is appended there as it first reaches getopt_long(), which then parses as
 * ever. One exec shows what a command's parser takes, where trying each
 * candidate option was an exec of its own (1624 of them a run):
 *   table SHORTOPTS
 *   long NAME HAS_ARG FLAG VAL     (FLAG 1 when the option sets a variable)
 */
#include <dlfcn.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

typedef int getopt_long_fn(int argc, char *const *argv, const char *shortopts,
			   const struct option *longopts, int *longindex);

/* Append the table to file path. */
static void spy_write(const char *path, const char *shortopts, const struct option *longopts)
{
	FILE *f = fopen(path, "ae");

	if (!f)
		return;
	fprintf(f, "table %s\n", shortopts);
	for (; longopts && longopts->name; longopts++)
		fprintf(f, "long %s %d %d %d\n", longopts->name, longopts->has_arg, longopts->flag != NULL,
			longopts->val);
	fclose(f);
}

/* getopt_long(), having written down its table when it is a new one. */
int getopt_long(int argc, char *const *argv, const char *shortopts, const struct option *longopts,
		int *longindex)
{
	static const struct option *seen_long;
	static const char *seen_short;
	static getopt_long_fn *real;
	const char *path = getenv("CGCTL_GETOPT_SPY");

	if (!real) {
		*(void **)&real = dlsym(RTLD_NEXT, "getopt_long");
		if (!real)
			abort();
	}
	if (path && (longopts != seen_long || shortopts != seen_short)) {
		seen_long = longopts;
		seen_short = shortopts;
		spy_write(path, shortopts, longopts);
	}
	return real(argc, argv, shortopts, longopts, longindex);
}
