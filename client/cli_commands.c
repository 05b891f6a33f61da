/* SPDX-License-Identifier: MIT */
/* cli_commands.c: the cgctl commands, each a thin layer over libcgctl. */

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"
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

/* Connect to the daemon (cli->conn NULL): --socket, else $CGCTL_SOCKET, else the per-user default; 0, else -errno, said on stderr unless quiet. */
static int cli_connect_to(struct cli *cli, bool quiet)
{
	_cleanup_free_ char *def = NULL;
	const char *path = cli->socket;
	int r;

	if (!path && (path = getenv("CGCTL_SOCKET")) && !path[0])
		path = NULL;
	if (!path) {
		r = proto_default_socket_path(&def);
		if (r < 0) {
			if (!quiet)
				fprintf(stderr, "cgctl: cannot tell where cgctld listens: %s\n", cgctl_strerror(r));
			return r;
		}
		path = def;
	}
	r = cgctl_connect(path, &cli->conn);
	if (r < 0 && !quiet && cgctl_error_message(NULL))
		fprintf(stderr, "cgctl: %s\n", cli_esc(cgctl_error_message(NULL)));
	else if (r < 0 && !quiet)
		fprintf(stderr, "cgctl: cannot connect to cgctld at %s: %s%s\n", path, cgctl_strerror(r),
			r == -ENOENT || r == -ECONNREFUSED ? " (is cgctld running?)" : "");
	if (r < 0)
		return r;
	if (cli->timeout_ms > 0)
		cgctl_set_timeout(cli->conn, cli->timeout_ms);
	return 0;
}

/* Connect once. */
int cli_connect(struct cli *cli)
{
	if (cli->conn)
		return 0;
	return cli_connect_to(cli, false) < 0 ? CLI_EXIT_FAILURE : 0;
}

/* Connect again, quietly. */
int cli_reconnect(struct cli *cli)
{
	cli->conn = cgctl_disconnect(cli->conn);
	return cli_connect_to(cli, true);
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
		fprintf(stderr, "cgctl: InvalidName: %s: %s\n", cli_esc(name), reason ? reason : "invalid name");
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

/* Success of a method whose reply has no parameters: with --json, its empty reply object, so that stdout is JSON. */
static int void_done(const struct cli *cli)
{
	if (cli->json)
		puts("{}");
	return CLI_EXIT_OK;
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
	struct cgctl_entry **e = NULL;
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

/* Report a limit that cannot be parsed; usage error (2) or out of memory (1). */
static int limit_error(const char *cmd, int r, const char *what, const char *value, const char *why)
{
	if (r == -ENOMEM)
		return oom();
	return cli_usage_error(cmd, "invalid %s '%s': %s", what, value, why ? why : "malformed");
}

/* Parse create's options; -1 to go on, else the exit status. */
static int create_parse(struct cli *cli, int argc, char **argv, struct create_args *a)
{
	enum { O_GENERATE = 0x400, O_PREFIX, O_DELEGATE, O_AUTO_REMOVE, O_LEASE, O_LABEL };
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, CLI_LIMIT_LONGOPTS,
		{ "generate", no_argument, NULL, O_GENERATE },
		{ "prefix", required_argument, NULL, O_PREFIX },
		{ "delegate", no_argument, NULL, O_DELEGATE },
		{ "auto-remove", no_argument, NULL, O_AUTO_REMOVE },
		{ "lease", no_argument, NULL, O_LEASE },
		{ "label", required_argument, NULL, O_LABEL },
		{}
	};
	const char *why;
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
		case CLI_OPT_ERROR:
			return CLI_EXIT_USAGE;
		default:
			r = cli_limit_add_opt(a->resources, c, optarg, &why);
			if (r < 0)
				return limit_error(argv[0], r, cli_opt_name(longopts, c), optarg, why);
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
	_cleanup_close_ int sfd = -1;
	struct cgctl_entry *e = NULL;
	int r;

	if (!labels || !res)
		return oom();
	if ((r = create_parse(cli, argc, argv, &a)) >= 0)
		return r;
	if ((r = check_operands(argv[0], argc - optind, 0, 1, "")) != 0)
		return r;
	/* The daemon would make a name up and drop NAME, or put NAME at the top, not below P: say so instead. */
	if (optind < argc && (a.opts.generate || a.opts.prefix))
		return cli_usage_error(argv[0], "NAME and %s exclude each other (--prefix P makes a name up below P)",
				       a.opts.generate ? "--generate" : "--prefix");
	a.opts.labels = a.n_labels ? labels : NULL;
	a.opts.resources_json = json_object_object_length(res) > 0 ?
				json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN) : NULL;
	if (a.opts.lease && (sfd = cli_lease_prepare()) < 0)
		return CLI_EXIT_FAILURE;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_create(cli->conn, optind < argc ? argv[optind] : NULL, &a.opts, &e);
	if (r < 0)
		return cli_fail(cli, r, "Create");
	if (cli->json) {
		o = cli_entries_to_json(&e, 1);
		if (o)
			cli_print_json(json_object_array_get_idx(o, 0));
	} else
		puts(cli_esc_raw(e->name)); /* exactly the name for scripts, hidden characters aside */
	if (cli->json && !o) {
		cgctl_entry_free(e);
		return oom(); /* a lease ends with us */
	}
	/* A lease lasts as long as this connection: hold it until told to let go. */
	if (a.opts.lease) {
		if (fflush(stdout) != 0)
			fprintf(stderr, "cgctl: writing output: %s\n", strerror(errno));
		r = cli_lease_hold(cli, sfd, e);
	} else
		r = CLI_EXIT_OK;
	cgctl_entry_free(e);
	return r;
}

/* destroy --json: Destroy's reply (name, existed, removed) on stdout, the note on stderr as without --json. */
static int destroy_json(struct cli *cli, const char *name, unsigned flags)
{
	_cleanup_json_ json_object *p = NULL, *reply = NULL;
	_cleanup_free_ char *text = NULL;
	json_object *v;
	int r;

	if ((r = check_name(name)) != 0)
		return r;
	if (!(p = name_params(name)) ||
	    ((flags & CGCTL_DESTROY_RECURSIVE) && json_object_object_add(p, "recursive", json_object_new_boolean(1)) < 0) ||
	    ((flags & CGCTL_DESTROY_KILL) && json_object_object_add(p, "kill", json_object_new_boolean(1)) < 0))
		return oom();
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_call(cli->conn, "Destroy", json_object_to_json_string_ext(p, JSON_C_TO_STRING_PLAIN), &text);
	if (r < 0)
		return cli_fail(cli, r, "Destroy");
	reply = json_tokener_parse(text);
	if (!reply || !json_object_object_get_ex(reply, "existed", &v) || !json_object_is_type(v, json_type_boolean))
		return cli_fail(cli, -EPROTO, "Destroy");
	cli_print_json(reply);
	if (!json_object_get_boolean(v) && !cli->quiet)
		fprintf(stderr, "%s: not found, nothing to remove\n", cli_esc(name));
	return CLI_EXIT_OK;
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
	if (cli->json)
		return destroy_json(cli, argv[optind], flags);
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_destroy(cli->conn, argv[optind], flags, &existed);
	if (r < 0)
		return cli_fail(cli, r, "Destroy");
	if (!existed && !cli->quiet)
		fprintf(stderr, "%s: not found, nothing to remove\n", cli_esc(argv[optind]));
	return CLI_EXIT_OK;
}

/* Open a pidfd for each pid; on failure the ones opened are closed. */
static int open_pidfds(const char *cmd, const pid_t *pids, size_t n, int *fds)
{
	for (size_t i = 0; i < n; i++) {
		fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fds[i] < 0) {
			fprintf(stderr, "cgctl %s: pidfd_open(%d): %s\n", cmd, (int)pids[i], strerror(errno));
			while (i-- > 0)
				close(fds[i]);
			return CLI_EXIT_FAILURE;
		}
	}
	return 0;
}

/* attach --json: {"attached": [PID...]}, the shape of Attach's reply, with the pids as the caller named them. */
static int attach_json(const pid_t *pids, size_t n)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	json_object *a = json_object_new_array_ext((int)n);

	if (!o || !a || json_object_object_add(o, "attached", a) < 0) {
		json_object_put(a);
		return oom();
	}
	for (size_t i = 0; i < n; i++)
		if (json_object_array_add(a, json_object_new_int(pids[i])) < 0)
			return oom();
	cli_print_json(o);
	return CLI_EXIT_OK;
}

/* attach NAME PID... [--pidfd]: move processes into a cgroup, by pid or by pidfd. */
static int cmd_attach(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "pidfd", no_argument, NULL, 'p' }, {}
	};
	_cleanup_free_ pid_t *pids = NULL;
	_cleanup_free_ int *fds = NULL;
	bool by_pidfd = false;
	size_t n, i;
	int c, r, pid;

	while ((c = cli_next_opt(cli, argc, argv, ":hqp", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c != 'p')
			return CLI_EXIT_USAGE;
		by_pidfd = true;
	}
	if ((r = check_operands(argv[0], argc - optind, 2, by_pidfd ? 65 : 1025,
				argc - optind < 1 ? "NAME" : "PID")) != 0)
		return r;
	if ((r = check_name(argv[optind])) != 0)
		return r;
	n = (size_t)(argc - optind - 1);
	if (!(pids = calloc(n, sizeof(*pids))) || !(fds = calloc(n, sizeof(*fds))))
		return oom();
	for (i = 0; i < n; i++) {
		if (cli_parse_int(argv[optind + 1 + (int)i], 1, INT32_MAX, &pid) < 0)
			return cli_usage_error(argv[0], "invalid PID '%s'", argv[optind + 1 + (int)i]);
		pids[i] = pid;
	}
	if ((r = cli_connect(cli)) != 0)
		return r;
	if (!by_pidfd)
		r = cgctl_attach(cli->conn, argv[optind], pids, n);
	else {
		if ((r = open_pidfds(argv[0], pids, n, fds)) != 0)
			return r;
		r = cgctl_attach_pidfds(cli->conn, argv[optind], fds, n);
		for (i = 0; i < n; i++)
			close(fds[i]);
	}
	if (r < 0)
		return cli_fail(cli, r, "Attach");
	return cli->json ? attach_json(pids, n) : CLI_EXIT_OK;
}

/* set NAME KEY=VALUE... [limit options]: change resource limits. */
static int cmd_set(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = { CLI_COMMON_LONGOPTS, CLI_LIMIT_LONGOPTS, {} };
	_cleanup_json_ json_object *res = json_object_new_object();
	const char *why;
	int c, i, r;

	if (!res)
		return oom();
	while ((c = cli_next_opt(cli, argc, argv, ":hq", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c == CLI_OPT_ERROR || !cli_is_limit_opt(c))
			return CLI_EXIT_USAGE;
		if ((r = cli_limit_add_opt(res, c, optarg, &why)) < 0)
			return limit_error(argv[0], r, cli_opt_name(longopts, c), optarg, why);
	}
	if ((r = check_operands(argv[0], argc - optind, 1, -1, "NAME")) != 0)
		return r;
	for (i = optind + 1; i < argc; i++)
		if ((r = cli_limit_add_kv(res, argv[i], &why)) < 0)
			return limit_error(argv[0], r, "limit", argv[i], why);
	if (json_object_object_length(res) == 0)
		return cli_usage_error(argv[0], "nothing to set");
	if ((r = check_name(argv[optind])) != 0)
		return r;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_set_resources_json(cli->conn, argv[optind],
				     json_object_to_json_string_ext(res, JSON_C_TO_STRING_PLAIN));
	return r < 0 ? cli_fail(cli, r, "SetResources") : void_done(cli);
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

/* freeze/thaw NAME [--timeout MS]: change the state and wait until cgroup.events confirms it. */
static int freeze_thaw(struct cli *cli, int argc, char **argv, bool freeze)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "timeout", required_argument, NULL, 't' }, {}
	};
	int c, r, timeout = 0;

	while ((c = cli_next_opt(cli, argc, argv, ":hqt:", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c != 't')
			return CLI_EXIT_USAGE;
		/* The interface's timeout_ms range: more would only come back InvalidValue. */
		if (cli_parse_int(optarg, 1, 300000, &timeout) < 0)
			return cli_usage_error(argv[0], "invalid --timeout '%s': want milliseconds, 1 to 300000", optarg);
	}
	if ((r = check_operands(argv[0], argc - optind, 1, 1, "NAME")) != 0)
		return r;
	if ((r = check_name(argv[optind])) != 0)
		return r;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = freeze ? cgctl_freeze(cli->conn, argv[optind], timeout) : cgctl_thaw(cli->conn, argv[optind], timeout);
	return r < 0 ? cli_fail(cli, r, freeze ? "Freeze" : "Thaw") : void_done(cli);
}

/* freeze NAME. */
static int cmd_freeze(struct cli *cli, int argc, char **argv)
{
	return freeze_thaw(cli, argc, argv, true);
}

/* thaw NAME. */
static int cmd_thaw(struct cli *cli, int argc, char **argv)
{
	return freeze_thaw(cli, argc, argv, false);
}

/* kill NAME [--signal SIG]: signal every process in the cgroup (default SIGKILL). */
static int cmd_kill(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "signal", required_argument, NULL, 's' }, {}
	};
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
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_kill(cli->conn, argv[optind], sig);
	return r < 0 ? cli_fail(cli, r, "Kill") : void_done(cli);
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

/* call [--more] METHOD [JSON]: raw Varlink call, reply parameters pretty-printed (--more: a stream, one a line). */
static int cmd_call(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "more", no_argument, NULL, 'm' }, {}
	};
	_cleanup_free_ char *params = NULL, *reply = NULL;
	_cleanup_json_ json_object *o = NULL;
	bool more = false;
	int c, r, k;

	while ((c = cli_next_opt(cli, argc, argv, ":hq", longopts)) != -1) {
		if (c == 'h')
			return cli_command_help(argv[0]);
		if (c != 'm')
			return CLI_EXIT_USAGE;
		more = true;
	}
	if ((r = check_operands(argv[0], argc - optind, 1, 2, "METHOD")) != 0)
		return r;
	if (optind + 1 < argc && (r = call_params(argv[0], argv[optind + 1], &params)) != 0)
		return r;
	if (more)
		return cli_call_more(cli, argv[optind], params);
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
	  "       [--label K=V]... " CLI_LIMIT_SYNOPSIS "\n\n"
	  "--auto-remove: the daemon removes the cgroup once it has held processes and\n"
	  "is empty again. --lease: the cgroup lives as long as this connection, so\n"
	  "cgctl stays running after printing the name; SIGINT or SIGTERM removes the\n"
	  "cgroup (killing what runs inside) and exits 0, and if cgctl dies the daemon\n"
	  "removes it. In a script: cgctl create web --lease & ... kill $!",
	  "Create a cgroup and print its name." },
	{ "destroy", cmd_destroy, "NAME [-r|--recursive] [-k|--kill]",
	  "Remove a cgroup; success also when it does not exist." },
	{ "attach", cmd_attach, "NAME PID... [-p|--pidfd]",
	  "Move processes into a cgroup (--pidfd: by pidfd, no PID reuse race)." },
	{ "set", cmd_set, "NAME [KEY=VALUE]... " CLI_LIMIT_SYNOPSIS "\n\n"
	  "KEY is an interface file: memory.max, memory.high, memory.low, memory.min,\n"
	  "memory.swap.max, hugetlb.<SIZE>.max (bytes, K/M/G/T suffixes, or max), pids.max,\n"
	  "cpu.max 'QUOTA [PERIOD]', cpu.weight, cpu.shares (OCI, converted), cpu.idle,\n"
	  "cpuset.cpus, cpuset.mems, io.weight, io.max 'MAJ:MIN rbps=B wbps=B riops=N wiops=N';\n"
	  "any other file (cgroup.max.descendants, memory.oom.group...) is written as given\n"
	  "if the daemon allows it",
	  "Change a cgroup's resource limits (all or nothing)." },
	{ "stats", cmd_stats, "NAME", "Show a cgroup's statistics (pids, flags, every statistics file)." },
	{ "freeze", cmd_freeze, "NAME [-t|--timeout MS]", "Freeze every process in a cgroup; returns once frozen." },
	{ "thaw", cmd_thaw, "NAME [-t|--timeout MS]", "Thaw a frozen cgroup; returns once thawed." },
	{ "kill", cmd_kill, "NAME [-s|--signal SIG]",
	  "Signal every process in a cgroup (default KILL; SIG as TERM, SIGTERM or 15)." },
	{ "run", cli_cmd_run,
	  "[--name NAME] [--keep | --wait-cleanup] [--timeout SEC] [--no-clone3] [-v|--verbose]\n"
	  "       " CLI_LIMIT_SYNOPSIS "\n"
	  "       -- CMD [ARG...]\n\n"
	  "Runs CMD in a new cgroup (a generated name unless --name), with clone3(CLONE_INTO_CGROUP)\n"
	  "where permitted, else a child the daemon attaches before it execs (--no-clone3 forces\n"
	  "that). Forwards INT, TERM, HUP, QUIT, USR1 and USR2 to CMD; --timeout sends TERM to\n"
	  "the cgroup after SEC seconds (then KILL 5 s later) and exits 124. Afterwards the\n"
	  "daemon kills what is left and removes the cgroup when cgctl's connection closes, just\n"
	  "after cgctl exits; --wait-cleanup waits until that is done, --keep keeps the cgroup\n"
	  "(its name goes to stderr).\n"
	  "Exit status: CMD's, 128+N when killed by signal N, 126/127 when it cannot be run,\n"
	  "125 when cgctl itself failed",
	  "Run a command in a fresh cgroup and exit with its status." },
	{ "watch", cli_cmd_watch, "[-p|--pressure RESOURCE=KIND:STALL/WINDOW]... [NAME...]\n\n"
	  "Prints one event a line as it happens, for every managed cgroup or the\n"
	  "subtrees below the NAMEs: TIME TYPE NAME [DETAILS], TIME in ISO 8601 local\n"
	  "time; --json: the Event object, compact. TYPE is created, removed, populated,\n"
	  "empty, frozen, thawed, oom, oom_kill, limits or pressure. Runs until SIGINT or\n"
	  "SIGTERM (exit 0); exits 1 when cgctld goes away or drops a watcher that fell\n"
	  "too far behind (QuotaExceeded).\n"
	  "--pressure arms a PSI trigger on each NAME (memory, cpu or io; some or full; a\n"
	  "stall within a window, e.g. cpu=some:150ms/2s; an unprivileged cgctld takes only\n"
	  "windows that are multiples of 2s): a \"pressure\" event each time it fires,\n"
	  "with the current avg10",
	  "Print events of managed cgroups as they happen." },
	{ "top", cli_cmd_top, "[-b|--batch] [-n|--iterations N] [-d|--delay SECONDS]\n"
	  "       [-s|--sort cpu|memory|pids|name|io] [NAME...]\n\n"
	  "A live view of the managed cgroups (or the subtrees below the NAMEs) as a tree:\n"
	  "processes, CPU % (from cpu.stat), memory current/max, pids, IO read/write per\n"
	  "second, PSI some avg10 of cpu, memory and io, and the daemon's figures.\n"
	  "Keys: c m p n i sort by cpu, memory, pids, name, io; q quits.\n"
	  "-b: batch mode, plain text frames without a terminal (default when stdout is\n"
	  "not one); -n N: stop after N frames; -d: seconds between frames (default 1);\n"
	  "--json: one JSON object a frame, a line each",
	  "Show the managed cgroups live, like top." },
	{ "hook-log", cli_cmd_hook_log, "[-n|--lines N]\n\n"
	  "Runtimes show a hook's output only when it fails: cgctl-oci-hook also appends its\n"
	  "warnings and errors to $XDG_STATE_HOME/cgctl/oci-hook.log (~/.local/state/...);\n"
	  "--json: a JSON array of the lines",
	  "Show the last lines (default 20) cgctl-oci-hook logged." },
	{ "call", cmd_call, "[--more] METHOD [JSON|-]\n\n"
	  "--more: a streaming call (Watch); every reply's parameters, one compact JSON\n"
	  "object a line, until the final reply, an error, or SIGINT/SIGTERM",
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
