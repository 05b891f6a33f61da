/* SPDX-License-Identifier: MIT */
/* cli_commands.c: the cgctl commands, each a thin layer over libcgctl. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "names.h"
#include "paths.h"

/* Largest JSON text "call" reads from stdin, like the library's reply limit. */
#define CLI_STDIN_MAX (16u * 1024u * 1024u)

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Connect once: --socket, else $CGCTL_SOCKET, else the per-user default. */
static int cli_connect(struct cli *cli)
{
	_cleanup_free_ char *def = NULL;
	const char *path = cli->socket;
	int r;

	if (cli->conn)
		return 0;
	if (!path && (path = getenv("CGCTL_SOCKET")) && !path[0])
		path = NULL;
	if (!path) {
		r = proto_default_socket_path(&def);
		if (r < 0) {
			fprintf(stderr, "cgctl: cannot tell where cgctld listens: %s\n", cgctl_strerror(r));
			return CLI_EXIT_FAILURE;
		}
		path = def;
	}
	r = cgctl_connect(path, &cli->conn);
	if (r < 0) {
		fprintf(stderr, "cgctl: cannot connect to cgctld at %s: %s%s\n", path, cgctl_strerror(r),
			r == -ENOENT || r == -ECONNREFUSED ? " (is cgctld running?)" : "");
		return CLI_EXIT_FAILURE;
	}
	if (cli->timeout_ms > 0)
		cgctl_set_timeout(cli->conn, cli->timeout_ms);
	return 0;
}

/* Usage error unless the command got between min and max operands. */
static int check_operands(const char *cmd, int n, int min, int max, const char *what)
{
	if (n < min)
		return cli_usage_error(cmd, "missing %s", what);
	if (max >= 0 && n > max)
		return cli_usage_error(cmd, "too many arguments");
	return 0;
}

/* Validate a name before any call, as the library does for its typed methods. */
static int check_name(const char *name)
{
	const char *reason = NULL;

	if (cgname_validate(name, strlen(name), &reason) < 0) {
		fprintf(stderr, "cgctl: InvalidName: %s: %s\n", name, reason ? reason : "invalid name");
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* Parse the options of a command that has only the common ones; -1 to go on, else the exit status. */
static int common_opts(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, {} };
	int c;

	while ((c = cli_next_opt(cli, argc, argv, ":hq", longopts)) != -1)
		return c == 'h' ? cli_command_help(argv[0]) : CLI_EXIT_USAGE;
	return -1;
}

/* Call method with params; --json prints the reply's member key (or all), else human() does. */
static int run_call(struct cli *cli, const char *method, json_object *params, const char *key,
		    void (*human)(json_object *))
{
	_cleanup_json_ json_object *reply = NULL;
	_cleanup_free_ char *text = NULL;
	json_object *v;
	int r;

	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_call(cli->conn, method,
		       params ? json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN) : NULL, &text);
	if (r < 0)
		return cli_fail(cli, r, method);
	if (!cli->json && !human)
		return CLI_EXIT_OK;
	reply = json_tokener_parse(text);
	if (!reply)
		return cli_fail(cli, -EPROTO, method);
	if (!key || !json_object_object_get_ex(reply, key, &v))
		v = reply;
	if (cli->json)
		cli_print_json(v);
	else
		human(v);
	return CLI_EXIT_OK;
}

/* A new {"name": name} parameters object. */
static json_object *name_params(const char *name)
{
	json_object *p = json_object_new_object(), *v = json_object_new_string(name);

	if (!p || !v || json_object_object_add(p, "name", v) < 0) {
		json_object_put(p);
		json_object_put(v);
		return NULL;
	}
	return p;
}

/* Out of memory, said once. */
static int oom(void)
{
	fputs("cgctl: out of memory\n", stderr);
	return CLI_EXIT_FAILURE;
}

/* status: daemon state, delegation and ledger figures. */
static int cmd_status(struct cli *cli, int argc, char **argv)
{
	struct cgctl_status *s = NULL;
	int r;

	if ((r = common_opts(cli, argc, argv)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 0, 0, "")) != 0)
		return r;
	if (cli->json)
		return run_call(cli, "GetStatus", NULL, "status", NULL);
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_get_status(cli->conn, &s);
	if (r < 0)
		return cli_fail(cli, r, "GetStatus");
	cli_print_status(s);
	cgctl_status_free(s);
	return CLI_EXIT_OK;
}

/* list [NAME]: the managed cgroups as a tree, or an array of Entry objects. */
static int cmd_list(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_object *a = NULL;
	struct cgctl_entry *e = NULL;
	const char *name;
	size_t n = 0;
	int r;

	if ((r = common_opts(cli, argc, argv)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 0, 1, "")) != 0)
		return r;
	name = optind < argc ? argv[optind] : NULL;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_list(cli->conn, name, &e, &n);
	if (r < 0)
		return cli_fail(cli, r, "List");
	if (cli->json) {
		a = cli_entries_to_json(e, n);
		if (a)
			cli_print_json(a);
	} else if (n == 0 && !cli->quiet)
		fputs("No managed cgroups.\n", stderr);
	else
		r = cli_print_tree(e, n);
	cgctl_entries_free(e, n);
	return (cli->json && !a) || r < 0 ? oom() : CLI_EXIT_OK;
}

/* Options of create. */
struct create_args {
	struct cgctl_create_opts opts;
	const char **labels;
	size_t n_labels;
	json_object *resources;
};

/* Parse create's options; -1 to go on, else the exit status. */
static int create_parse(struct cli *cli, int argc, char **argv, struct create_args *a)
{
	enum { O_GENERATE = 0x400, O_PREFIX, O_DELEGATE, O_AUTO_REMOVE, O_LEASE, O_LABEL, O_SET };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, CLI_LIMIT_LONGOPTS,
		{ "generate", no_argument, NULL, O_GENERATE },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "delegate", no_argument, NULL, O_DELEGATE },
		{ "auto-remove", no_argument, NULL, O_AUTO_REMOVE },
		{ "lease", no_argument, NULL, O_LEASE },
		{ "label", required_argument, NULL, O_LABEL },
		{ "set", required_argument, NULL, O_SET },
		{}
	};
	int c, r;

	while ((c = cli_next_opt(cli, argc, argv, ":hq", longopts)) != -1) {
		switch (c) {
		case 'h':           return cli_command_help(argv[0]);
		case O_GENERATE:    a->opts.generate = 1; break;
		case O_PREFIX:      a->opts.prefix = optarg; break;
		case O_DELEGATE:    a->opts.delegate = 1; break;
		case O_AUTO_REMOVE: a->opts.auto_remove = 1; break;
		case O_LEASE:       a->opts.lease = 1; break;
		case O_LABEL:
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return cli_usage_error(argv[0], "--label wants KEY=VALUE, not '%s'", optarg);
			a->labels[a->n_labels++] = optarg;
			break;
		case O_SET:
			r = cli_resources_add_unified(a->resources, optarg);
			if (r < 0)
				return r == -ENOMEM ? oom() :
				       cli_usage_error(argv[0], "--set wants KEY=VALUE, not '%s'", optarg);
			break;
		case CLI_OPT_ERROR:
			return CLI_EXIT_USAGE;
		default:
			r = cli_resources_add_limit(a->resources, c, optarg);
			if (r < 0)
				return r == -ENOMEM ? oom() :
				       cli_usage_error(argv[0], "invalid value '%s' for %s", optarg,
						       cli_opt_name(longopts, c));
		}
	}
	return -1;
}

/* create [NAME] [options]: make a cgroup and print its name. */
static int cmd_create(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ const char **labels = calloc((size_t)argc + 1, sizeof(char *));
	_cleanup_json_ json_object *res = json_object_new_object(), *o = NULL;
	struct create_args a = { .opts.size = sizeof(a.opts), .labels = labels, .resources = res };
	struct cgctl_entry *e = NULL;
	int r;

	if (!labels || !res)
		return oom();
	if ((r = create_parse(cli, argc, argv, &a)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 0, 1, "")) != 0)
		return r;
	a.opts.labels = a.n_labels ? labels : NULL;
	a.opts.resources_json = json_object_object_length(res) > 0 ?
				json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN) : NULL;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_create(cli->conn, optind < argc ? argv[optind] : NULL, &a.opts, &e);
	if (r < 0)
		return cli_fail(cli, r, "Create");
	if (cli->json) {
		o = cli_entries_to_json(e, 1);
		if (o)
			cli_print_json(json_object_array_get_idx(o, 0));
	} else
		puts(e->name);
	cgctl_entries_free(e, 1);
	return cli->json && !o ? oom() : CLI_EXIT_OK;
}

/* destroy NAME [--recursive] [--kill]: remove a cgroup; success also when it did not exist. */
static int cmd_destroy(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "recursive", no_argument, NULL, 'r' },
		{ "kill", no_argument, NULL, 'k' },
		{}
	};
	unsigned flags = 0;
	int c, r, existed = 1;

	while ((c = cli_next_opt(cli, argc, argv, ":hqrk", longopts)) != -1) {
		switch (c) {
		case 'h': return cli_command_help(argv[0]);
		case 'r': flags |= CGCTL_DESTROY_RECURSIVE; break;
		case 'k': flags |= CGCTL_DESTROY_KILL; break;
		default:  return CLI_EXIT_USAGE;
		}
	}
	if ((r = check_operands(argv[0], argc - optind, 1, 1, "NAME")) != 0)
		return r;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_destroy(cli->conn, argv[optind], flags, &existed);
	if (r < 0)
		return cli_fail(cli, r, "Destroy");
	if (!existed && !cli->quiet)
		fprintf(stderr, "%s: not found, nothing to remove\n", argv[optind]);
	return CLI_EXIT_OK;
}

/* attach NAME PID...: move processes into a cgroup. */
static int cmd_attach(struct cli *cli, int argc, char **argv)
{
	_cleanup_json_ json_object *p = NULL;
	json_object *pids;
	int i, pid, r;

	if ((r = common_opts(cli, argc, argv)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 2, -1, argc - optind < 1 ? "NAME" : "PID")) != 0)
		return r;
	if ((r = check_name(argv[optind])) != 0)
		return r;
	if (!(p = name_params(argv[optind])) || !(pids = json_object_new_array()))
		return oom();
	json_object_object_add(p, "pids", pids);
	for (i = optind + 1; i < argc; i++) {
		if (cli_parse_int(argv[i], 1, INT32_MAX, &pid) < 0)
			return cli_usage_error(argv[0], "invalid PID '%s'", argv[i]);
		if (json_object_array_add(pids, json_object_new_int(pid)) < 0)
			return oom();
	}
	return run_call(cli, "Attach", p, NULL, NULL);
}

/* set NAME KEY=VALUE... [limits]: change resource limits. */
static int cmd_set(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, CLI_LIMIT_LONGOPTS, {} };
	_cleanup_json_ json_object *p = NULL;
	json_object *res = json_object_new_object();
	int c, i, r;

	if (!res)
		return oom();
	p = json_object_new_object();
	if (!p || json_object_object_add(p, "resources", res) < 0) {
		json_object_put(res);
		return oom();
	}
	while ((c = cli_next_opt(cli, argc, argv, ":hq", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c == CLI_OPT_ERROR)
			return CLI_EXIT_USAGE;
		if (cli_resources_add_limit(res, c, optarg) < 0)
			return cli_usage_error(argv[0], "invalid value '%s' for %s", optarg,
					       cli_opt_name(longopts, c));
	}
	if ((r = check_operands(argv[0], argc - optind, 1, -1, "NAME")) != 0)
		return r;
	for (i = optind + 1; i < argc; i++)
		if (cli_resources_add_unified(res, argv[i]) < 0)
			return cli_usage_error(argv[0], "want KEY=VALUE, not '%s'", argv[i]);
	if (json_object_object_length(res) == 0)
		return cli_usage_error(argv[0], "nothing to set");
	if ((r = check_name(argv[optind])) != 0)
		return r;
	json_object_object_add(p, "name", json_object_new_string(argv[optind]));
	return run_call(cli, "SetResources", p, NULL, NULL);
}

/* Shared shape of stats, freeze and thaw: one NAME operand. */
static int name_command(struct cli *cli, int argc, char **argv, const char *method,
			const char *key, void (*human)(json_object *))
{
	_cleanup_json_ json_object *p = NULL;
	int r;

	if ((r = common_opts(cli, argc, argv)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 1, 1, "NAME")) != 0)
		return r;
	if ((r = check_name(argv[optind])) != 0)
		return r;
	if (!(p = name_params(argv[optind])))
		return oom();
	return run_call(cli, method, p, key, human);
}

/* stats NAME: what the cgroup's statistics files say. */
static int cmd_stats(struct cli *cli, int argc, char **argv)
{
	return name_command(cli, argc, argv, "GetStats", "stats", cli_print_stats);
}

/* freeze NAME. */
static int cmd_freeze(struct cli *cli, int argc, char **argv)
{
	return name_command(cli, argc, argv, "Freeze", NULL, NULL);
}

/* thaw NAME. */
static int cmd_thaw(struct cli *cli, int argc, char **argv)
{
	return name_command(cli, argc, argv, "Thaw", NULL, NULL);
}

/* kill NAME [--signal SIG]: signal every process in the cgroup. */
static int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "signal", required_argument, NULL, 's' }, {}
	};
	_cleanup_json_ json_object *p = NULL;
	int c, r, sig = 0;

	while ((c = cli_next_opt(cli, argc, argv, ":hqs:", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c != 's')
			return CLI_EXIT_USAGE;
		if (cli_parse_signal(optarg, &sig) < 0)
			return cli_usage_error(argv[0], "unknown signal '%s'", optarg);
	}
	if ((r = check_operands(argv[0], argc - optind, 1, 1, "NAME")) != 0)
		return r;
	if ((r = check_name(argv[optind])) != 0)
		return r;
	if (!(p = name_params(argv[optind])))
		return oom();
	if (sig > 0 && json_object_object_add(p, "signal", json_object_new_int(sig)) < 0)
		return oom();
	return run_call(cli, "Kill", p, NULL, NULL);
}

/* All of stdin, bounded; NULL (errno set) on failure. */
static char *read_stdin(void)
{
	_cleanup_free_ char *buf = malloc(CLI_STDIN_MAX + 1);
	size_t len = 0, n;

	if (!buf)
		return NULL;
	while ((n = fread(buf + len, 1, CLI_STDIN_MAX + 1 - len, stdin)) > 0)
		if ((len += n) > CLI_STDIN_MAX) {
			errno = EFBIG;
			return NULL;
		}
	if (ferror(stdin)) {
		errno = EIO;
		return NULL;
	}
	buf[len] = '\0';
	return TAKE_PTR(buf);
}

/* The parameters text of call: the operand, or stdin for "-"; checked to be a JSON object. */
static int call_params(const char *cmd, const char *arg, char **ret)
{
	_cleanup_json_ json_object *o = NULL;
	_cleanup_free_ char *text = NULL;

	text = strcmp(arg, "-") == 0 ? read_stdin() : strdup(arg);
	if (!text) {
		fprintf(stderr, "cgctl %s: reading parameters: %s\n", cmd, strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	o = json_tokener_parse(text);
	if (!o || !json_object_is_type(o, json_type_object))
		return cli_usage_error(cmd, "parameters must be a JSON object");
	*ret = TAKE_PTR(text);
	return 0;
}

/* call METHOD [JSON]: raw Varlink call, reply parameters pretty-printed. */
static int cmd_call(struct cli *cli, int argc, char **argv)
{
	_cleanup_free_ char *params = NULL, *reply = NULL;
	_cleanup_json_ json_object *o = NULL;
	int r, k;

	if ((r = common_opts(cli, argc, argv)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 1, 2, "METHOD")) != 0)
		return r;
	if (optind + 1 < argc && (r = call_params(argv[0], argv[optind + 1], &params)) != 0)
		return r;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_call(cli->conn, argv[optind], params, &reply);
	/* Like varlinkctl: the reply's parameters on stdout, an error's too. */
	if (reply && (o = json_tokener_parse(reply)))
		cli_print_json(o);
	if (r < 0)
		return cli_fail(cli, r, argv[optind]);
	k = o ? CLI_EXIT_OK : cli_fail(cli, -EPROTO, argv[optind]);
	return k;
}

const struct cli_command cli_commands[] = {
	{ "status", cmd_status, "", "Show the daemon's state, delegation and ledger figures." },
	{ "list", cmd_list, "[NAME]", "List managed cgroups (all, or below NAME) as a tree." },
	{ "create", cmd_create,
	  "[NAME] [--generate] [--prefix P] [--delegate] [--auto-remove] [--lease]\n"
	  "       [--label K=V]... [--set FILE=VALUE]... [--memory-max B] [--memory-high B]\n"
	  "       [--pids-max N] [--cpu-weight W]",
	  "Create a cgroup and print its name." },
	{ "destroy", cmd_destroy, "NAME [--recursive] [--kill]",
	  "Remove a cgroup; success also when it does not exist." },
	{ "attach", cmd_attach, "NAME PID...", "Move processes into a cgroup." },
	{ "set", cmd_set, "NAME [FILE=VALUE]... [--memory-max B] [--memory-high B] [--pids-max N] [--cpu-weight W]",
	  "Change a cgroup's resource limits." },
	{ "stats", cmd_stats, "NAME", "Show a cgroup's statistics." },
	{ "freeze", cmd_freeze, "NAME", "Freeze every process in a cgroup." },
	{ "thaw", cmd_thaw, "NAME", "Thaw a frozen cgroup." },
	{ "kill", cmd_kill, "NAME [--signal SIG]", "Signal every process in a cgroup (the daemon picks the default signal)." },
	{ "call", cmd_call, "METHOD [JSON|-]",
	  "Raw Varlink call; METHOD is \"GetStatus\" or fully qualified." },
	{}
};

/* Look a command up by name. */
const struct cli_command *cli_command_find(const char *name)
{
	const struct cli_command *cmd;

	for (cmd = cli_commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}
