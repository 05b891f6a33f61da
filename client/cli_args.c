/* SPDX-License-Identifier: MIT */
/* cli_args.c: cgctl command-line parsing: per-command options, numbers, signals, KEY=VALUE. */

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cli.h"

/* Reset getopt for a command's argv (optind 0 makes glibc start over). */
void cli_opts_begin(void)
{
	optind = 0;
	opterr = 0;
}

/* Say what is wrong with the command line, and where help is. */
int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "cgctl%s%s: ", cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'cgctl%s%s --help'.\n", cmd ? " " : "", cmd ? cmd : "");
	return CLI_EXIT_USAGE;
}

/* Usage of one command on stdout. */
int cli_command_help(const char *name)
{
	const struct cli_command *cmd = cli_command_find(name);

	if (!cmd)
		return CLI_EXIT_USAGE;
	printf("Usage: cgctl [GLOBAL OPTIONS] %s %s\n%s\n\n"
	       "Every command also takes --json, -q/--quiet and -h/--help; options may\n"
	       "follow the arguments, and '--' ends them. See 'cgctl --help'.\n",
	       cmd->name, cmd->synopsis, cmd->summary);
	return CLI_EXIT_OK;
}

/* getopt_long() with the common options folded in and errors reported. */
int cli_next_opt(struct cli *cli, int argc, char **argv, const char *shortopts,
		 const struct option *longopts)
{
	int c;

	for (;;) {
		c = getopt_long(argc, argv, shortopts, longopts, NULL);
		switch (c) {
		case CLI_OPT_JSON:
			cli->json = true;
			continue;
		case 'q':
			cli->quiet = true;
			continue;
		case ':':
			cli_usage_error(argv[0], "option '%s' needs an argument", argv[optind - 1]);
			return CLI_OPT_ERROR;
		case '?':
			if (optopt > ' ' && optopt < 0x7f)
				cli_usage_error(argv[0], "unknown option '-%c'", optopt);
			else
				cli_usage_error(argv[0], "unknown option '%s'", argv[optind - 1]);
			return CLI_OPT_ERROR;
		default:
			return c;
		}
	}
}

const char *cli_opt_name(const struct option *longopts, int val)
{
	static __thread char buf[64];

	for (; longopts->name; longopts++)
		if (longopts->val == val && !longopts->flag) {
			snprintf(buf, sizeof(buf), "--%.60s", longopts->name);
			return buf;
		}
	return "option";
}

/* Parse a decimal int in [min, max]. */
int cli_parse_int(const char *s, int min, int max, int *ret)
{
	char *end;
	long v;

	if (!s || !s[0])
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (errno || *end)
		return -EINVAL;
	if (v < min || v > max)
		return -ERANGE;
	*ret = (int)v;
	return 0;
}

/* A signal by number or name, with or without "SIG", any case. */
int cli_parse_signal(const char *s, int *ret)
{
	const char *abbrev;
	int i;

	if (cli_parse_int(s, 1, SIGRTMAX, ret) == 0)
		return 0;
	if (strncasecmp(s, "SIG", 3) == 0)
		s += 3;
	for (i = 1; i < SIGRTMIN; i++) {
		abbrev = sigabbrev_np(i);
		if (abbrev && strcasecmp(abbrev, s) == 0) {
			*ret = i;
			return 0;
		}
	}
	return -EINVAL;
}

/* Add a string member, releasing the value if that fails. */
static int add_string(json_object *o, const char *key, const char *value)
{
	json_object *v = json_object_new_string(value);

	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Split KEY=VALUE into the map. */
int cli_map_add_kv(json_object *o, const char *kv)
{
	_cleanup_free_ char *key = NULL;
	const char *eq = strchr(kv, '=');

	if (!eq || eq == kv)
		return -EINVAL;
	key = strndup(kv, (size_t)(eq - kv));
	if (!key)
		return -ENOMEM;
	return add_string(o, key, eq + 1);
}
