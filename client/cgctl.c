/* SPDX-License-Identifier: MIT */
/* cgctl.c: the cgctl command line: global options, then one command. */

#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* Full usage on f. */
static void usage(FILE *f)
{
	const struct cli_command *cmd;

	fputs("Usage: cgctl [OPTIONS] COMMAND [ARGS...]\n"
	      "Manage cgroups through cgctld, the per-user cgroup v2 manager.\n\n"
	      "Options:\n"
	      "      --socket PATH  daemon socket (default: $CGCTL_SOCKET, else\n"
	      "                     $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager)\n"
	      "      --json         print results as JSON\n"
	      "      --timeout MS   bound of each call in milliseconds (default 25000)\n"
	      "  -q, --quiet        say less on stderr\n"
	      "  -h, --help         show this help\n"
	      "      --version      show the version\n\n"
	      "Commands:\n", f);
	for (cmd = cli_commands; cmd->name; cmd++)
		fprintf(f, "  %-8s %s\n", cmd->name, cmd->summary);
	fputs("\nRun 'cgctl COMMAND --help' for a command's arguments.\n"
	      "Exit status: 0 success, 1 the operation failed, 2 usage error.\n", f);
}

enum { OPT_SOCKET = 0x300, OPT_TIMEOUT, OPT_VERSION };

/* Parse the options before the command; -1 to go on, else the exit status. */
static int parse_global(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "version", no_argument, NULL, OPT_VERSION },
		CLI_COMMON_LONGOPTS,
		{}
	};
	int c;

	opterr = 0;
	/* "+": stop at the command; its options are its own. */
	while ((c = getopt_long(argc, argv, "+:hq", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET:
			if (!optarg[0])
				return cli_usage_error(NULL, "--socket needs a path");
			cli->socket = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_int(optarg, 1, 24 * 3600 * 1000, &cli->timeout_ms) < 0)
				return cli_usage_error(NULL, "invalid --timeout '%s': want milliseconds > 0", optarg);
			break;
		case OPT_VERSION:
			puts("cgctl " CGCTL_VERSION);
			return CLI_EXIT_OK;
		case CLI_OPT_JSON:
			cli->json = true;
			break;
		case 'q':
			cli->quiet = true;
			break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		case ':':
			return cli_usage_error(NULL, "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt && optopt < 0x100)
				return cli_usage_error(NULL, "unknown option '-%c'", optopt);
			return cli_usage_error(NULL, "unknown option '%s'", argv[optind - 1]);
		}
	}
	return -1;
}

/* Entry point: exit 0 success, 1 failure, 2 usage. */
int main(int argc, char **argv)
{
	struct cli cli = {};
	const struct cli_command *cmd;
	int r;

	/* Characters only (display widths of names); numbers keep the C locale. */
	setlocale(LC_CTYPE, "");
	/* A reader gone (cgctl list | head -1) ends cgctl as it ends cat: by SIGPIPE, quietly, even where the
	 * caller ignored it. The daemon's socket is written with MSG_NOSIGNAL: only stdout raises it. */
	signal(SIGPIPE, SIG_DFL);
	r = parse_global(&cli, argc, argv);
	if (r >= 0)
		return r;
	if (optind >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cmd = cli_command_find(argv[optind]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'", argv[optind]);

	argc -= optind;
	argv += optind;
	cli_opts_begin();
	r = cmd->run(&cli, argc, argv);
	cli.conn = cgctl_disconnect(cli.conn);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "cgctl: writing output: %s\n", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	return r;
}
