/* SPDX-License-Identifier: MIT */
/* cli_args.c: cgctl command-line parsing: per-command options, numbers, signals, KEY=VALUE and limits. */

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

/* "--name" of the long option with value val, for messages. */
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

/* "max", or a byte count with an optional binary suffix (K, M, G, T), as decimal text. */
static int parse_bytes(const char *s, char *buf, size_t size)
{
	static const char suffixes[] = "KMGT";
	unsigned long long v;
	const char *p;
	char *end;
	int n;

	if (strcmp(s, "max") == 0)
		return snprintf(buf, size, "max") < (int)size ? 0 : -ENOBUFS;
	if (!s[0] || s[0] == '-' || s[0] == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		p = strchr(suffixes, *end & ~0x20);
		if (!p || (end[1] && strcasecmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0))
			return -EINVAL;
		for (n = 0; n <= p - suffixes; n++) {
			if (v > UINT64_MAX / 1024)
				return -ERANGE;
			v *= 1024;
		}
	}
	n = snprintf(buf, size, "%llu", v);
	return n > 0 && (size_t)n < size ? 0 : -ENOBUFS;
}

/* res[key], created as an empty object when absent. */
static json_object *sub_object(json_object *res, const char *key)
{
	json_object *o;

	if (json_object_object_get_ex(res, key, &o))
		return o;
	o = json_object_new_object();
	if (!o || json_object_object_add(res, key, o) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Add KEY=VALUE to the Resources object's "unified" map (raw interface files). */
int cli_resources_add_unified(json_object *res, const char *kv)
{
	json_object *u = sub_object(res, "unified");

	return u ? cli_map_add_kv(u, kv) : -ENOMEM;
}

/* Translate one limit flag into its place in the Resources object. */
int cli_resources_add_limit(json_object *res, int opt, const char *value)
{
	char buf[32];
	json_object *o;
	int r, w;

	switch (opt) {
	case CLI_LIMIT_MEMORY_MAX:
	case CLI_LIMIT_MEMORY_HIGH:
		if ((r = parse_bytes(value, buf, sizeof(buf))) < 0)
			return r;
		if (!(o = sub_object(res, "memory")))
			return -ENOMEM;
		return add_string(o, opt == CLI_LIMIT_MEMORY_MAX ? "max" : "high", buf);
	case CLI_LIMIT_PIDS_MAX:
		if (strcmp(value, "max") != 0 && (r = cli_parse_int(value, 0, INT32_MAX, &w)) < 0)
			return r;
		return add_string(res, "pids_max", value);
	case CLI_LIMIT_CPU_WEIGHT:
		if ((r = cli_parse_int(value, 1, 10000, &w)) < 0)
			return r;
		if (!(o = sub_object(res, "cpu")))
			return -ENOMEM;
		return json_object_object_add(o, "weight", json_object_new_int(w)) < 0 ? -ENOMEM : 0;
	default:
		return -EINVAL;
	}
}
