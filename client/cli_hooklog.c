/* SPDX-License-Identifier: MIT */
/* cli_hooklog.c: `hook-log`: the last lines cgctl-oci-hook logged (runtimes hide a successful hook's output). */

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"

#define HOOKLOG_LINES_DEFAULT 20
#define HOOKLOG_LINES_MAX 100000
#define HOOKLOG_LINE_MAX 4096

/* The hook's default log file: $XDG_STATE_HOME/cgctl/oci-hook.log, else ~/.local/state/...; malloc'd or NULL. */
static char *hooklog_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	char *p = NULL;

	if (xdg && xdg[0] == '/')
		return asprintf(&p, "%s/cgctl/oci-hook.log", xdg) < 0 ? NULL : p;
	if (home && home[0] == '/')
		return asprintf(&p, "%s/.local/state/cgctl/oci-hook.log", home) < 0 ? NULL : p;
	return NULL;
}

/* lines (n of them, from first on, in a ring) as a JSON array of strings, their newlines dropped. */
static void hooklog_print_json(char **ring, long first, long count, long n)
{
	json_object *a = json_object_new_array();

	for (long i = first; i < count; i++) {
		const char *l = ring[i % n];

		if (l)
			json_object_array_add(a, json_object_new_string_len(l, (int)strcspn(l, "\n")));
	}
	cli_print_json(a);
	json_object_put(a);
}

/* One logged line for a terminal: what the hook logged may quote a container's config (cli_esc.h). */
static void hooklog_print_line(const char *line)
{
	size_t len = strcspn(line, "\n");
	_cleanup_free_ char *shown = cli_esc_dup(line, len, CLI_ESC_KEEP_BACKSLASH);

	printf("%s\n", shown ? shown : "?");
}

/* Print the last n lines of f (a ring of n line buffers), as text or (json) a JSON array. */
static int hooklog_tail(FILE *f, long n, bool json)
{
	char **ring = calloc((size_t)n, sizeof(char *));
	char line[HOOKLOG_LINE_MAX];
	long count = 0;

	if (!ring)
		return -ENOMEM;
	while (fgets(line, sizeof(line), f)) {
		char **slot = &ring[count++ % n];

		free(*slot);
		*slot = strdup(line);
	}
	if (json)
		hooklog_print_json(ring, count > n ? count - n : 0, count, n);
	else
		for (long i = count > n ? count - n : 0; i < count; i++)
			if (ring[i % n])
				hooklog_print_line(ring[i % n]);
	for (long i = 0; i < n; i++)
		free(ring[i]);
	free(ring);
	return 0;
}

/* hook-log [-n N]: the last N lines of cgctl-oci-hook's default log file (--json: an array of them). */
int cli_cmd_hook_log(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, { "lines", required_argument, NULL, 'n' }, {} };
	_cleanup_free_ char *path = hooklog_path();
	long n = HOOKLOG_LINES_DEFAULT;
	char *end;
	FILE *f;
	int c, r;

	while ((c = cli_next_opt(cli, argc, argv, ":hqn:", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c != 'n')
			return CLI_EXIT_USAGE;
		errno = 0;
		n = strtol(optarg, &end, 10);
		if (errno || *end || end == optarg || n <= 0 || n > HOOKLOG_LINES_MAX)
			return cli_usage_error(argv[0], "invalid --lines '%s': want 1 to %d", optarg, HOOKLOG_LINES_MAX);
	}
	if (optind < argc)
		return cli_usage_error(argv[0], "too many arguments");
	if (!path) {
		fputs("cgctl: hook-log: neither XDG_STATE_HOME nor HOME is set\n", stderr);
		return CLI_EXIT_FAILURE;
	}
	f = fopen(path, "re");
	if (!f && errno == ENOENT) {
		if (!cli->quiet)
			fprintf(stderr, "cgctl: %s does not exist: cgctl-oci-hook has logged nothing\n", path);
		if (cli->json)
			puts("[]");
		return CLI_EXIT_OK;
	}
	if (!f) {
		fprintf(stderr, "cgctl: %s: %s\n", path, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	r = hooklog_tail(f, n, cli->json);
	fclose(f);
	if (r < 0)
		fprintf(stderr, "cgctl: hook-log: %s\n", strerror(-r));
	return r < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
