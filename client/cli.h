/* SPDX-License-Identifier: MIT */
/* cli.h: what the cgctl CLI's files share: state, exit codes, option, output and command helpers. */
#pragma once

#include <getopt.h>
#include <stdbool.h>
#include <json-c/json.h>

#include "cgctl.h"

enum {
	CLI_EXIT_OK = 0,
	CLI_EXIT_FAILURE = 1, /* the operation failed */
	CLI_EXIT_USAGE = 2,   /* the command line was wrong */
};

/* Option values of the options every command accepts. */
enum {
	CLI_OPT_JSON = 0x100,
	CLI_OPT_ERROR = 0x101, /* cli_next_opt(): bad option, message printed */
};
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "json", no_argument, NULL, CLI_OPT_JSON }, \
	{ "quiet", no_argument, NULL, 'q' }

/* Process-wide state of one invocation. */
struct cli {
	const char *socket; /* --socket, or NULL */
	int timeout_ms;     /* --timeout, 0: library default */
	bool json;
	bool quiet;
	cgctl *conn;        /* opened by cli_connect() */
};

/* A command: its entry point gets argv[0] = the command name. */
struct cli_command {
	const char *name;
	int (*run)(struct cli *cli, int argc, char **argv);
	const char *synopsis; /* arguments and options, after the name */
	const char *summary;  /* one line */
};

/* cli_commands.c */
extern const struct cli_command cli_commands[];
/* Command called name, NULL when there is none. */
const struct cli_command *cli_command_find(const char *name);
/* Connect to the daemon once (--socket, $CGCTL_SOCKET, default); 0 or the exit status after saying why. */
int cli_connect(struct cli *cli);
/* Drop the connection and connect again, saying nothing; 0 or -errno (then cli->conn is NULL). */
int cli_reconnect(struct cli *cli);

/* cli_run.c */
/* run [options] -- CMD...: CMD in a fresh cgroup; exits with its status. */
int cli_cmd_run(struct cli *cli, int argc, char **argv);

/* cli_hooklog.c */
/* hook-log [-n N]: the last lines of cgctl-oci-hook's default log file. */
int cli_cmd_hook_log(struct cli *cli, int argc, char **argv);

/* cli_watch.c */
/* watch [NAME...]: events one a line until SIGINT/SIGTERM (exit 0) or the stream ends (exit 1). */
int cli_cmd_watch(struct cli *cli, int argc, char **argv);
/* call --more: every reply of a streaming call, one compact JSON object a line. */
int cli_call_more(struct cli *cli, const char *method, const char *params);
/* Block SIGINT/SIGTERM into a signalfd (returned) that ends a wait with exit 0; -1 after saying why. */
int cli_stop_signals(void);
/* Before a lease is taken: block SIGINT/SIGTERM into a signalfd (returned), -1 after saying why. */
int cli_lease_prepare(void);
/* Hold e's lease until SIGINT/SIGTERM on sfd (then release it, exit 0) or the daemon goes (exit 1). */
int cli_lease_hold(struct cli *cli, int sfd, const struct cgctl_entry *e);
/* How long a released lease's entry may take to go (the daemon's kill timeout, and some). */
#define CLI_LEASE_RELEASE_MS 20000u
/*
 * Hang up the connection holding the lease on name, the entry made at created
 * (µs), and wait on a new one until that very entry is gone: never a Destroy
 * by name, which could reach a later entry of the same name. 0 or -errno (said).
 */
int cli_lease_release(struct cli *cli, const char *name, uint64_t created);

/* cli_pressure.c */
#define CLI_PRESSURE_MAX 16 /* triggers one watch arms (the daemon's limit per Watch) */
/*
 * Parse RESOURCE=KIND:STALL/WINDOW (memory=some:150ms/2s; durations in us,
 * ms or s, bare numbers microseconds) into *ret, name unset. -EINVAL with *ret_why.
 */
int cli_pressure_parse(const char *spec, struct cgctl_pressure_trigger *ret, const char **ret_why);

/* cli_top.c */
/* top [-b] [-n N] [-d SECONDS] [-s KEY] [NAME...]: the managed cgroups, live. */
int cli_cmd_top(struct cli *cli, int argc, char **argv);

/* cli_args.c */
/* Start parsing a command's options (resets getopt). */
void cli_opts_begin(void);
/* Next option: its value, -1 at the operands, CLI_OPT_ERROR after printing why; handles --json and --quiet. */
int cli_next_opt(struct cli *cli, int argc, char **argv, const char *shortopts,
		 const struct option *longopts);
/* "--name" of the long option with value val, for messages. */
const char *cli_opt_name(const struct option *longopts, int val);
/* Print "cgctl CMD: <what>" and the help hint on stderr; returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print a command's usage line and summary on stdout; returns CLI_EXIT_OK. */
int cli_command_help(const char *cmd);
/* Parse a positive int; -EINVAL or -ERANGE. */
int cli_parse_int(const char *s, int min, int max, int *ret);
/* Parse a signal number or name ("9", "KILL", "SIGKILL"). */
int cli_parse_signal(const char *s, int *ret);
/* Add KEY=VALUE to the string map o; -EINVAL when malformed. */
int cli_map_add_kv(json_object *o, const char *kv);

/* cli_limits.c */
/* Long options of the limits create, set and run accept; each stands for one KEY of cli_limit_add(). */
enum {
	CLI_LIMIT_MEMORY_MAX = 0x200,
	CLI_LIMIT_MEMORY_HIGH,
	CLI_LIMIT_MEMORY_LOW,
	CLI_LIMIT_MEMORY_MIN,
	CLI_LIMIT_MEMORY_SWAP_MAX,
	CLI_LIMIT_PIDS_MAX,
	CLI_LIMIT_CPU_MAX,
	CLI_LIMIT_CPU_WEIGHT,
	CLI_LIMIT_CPU_IDLE,
	CLI_LIMIT_CPUSET_CPUS,
	CLI_LIMIT_CPUSET_MEMS,
	CLI_LIMIT_IO_WEIGHT,
	CLI_LIMIT_HUGETLB,   /* PAGESIZE=VALUE */
	CLI_LIMIT_SET,       /* KEY=VALUE */
	CLI_LIMIT_LAST_,
};
#define CLI_LIMIT_LONGOPTS \
	{ "memory-max", required_argument, NULL, CLI_LIMIT_MEMORY_MAX }, \
	{ "memory-high", required_argument, NULL, CLI_LIMIT_MEMORY_HIGH }, \
	{ "memory-low", required_argument, NULL, CLI_LIMIT_MEMORY_LOW }, \
	{ "memory-min", required_argument, NULL, CLI_LIMIT_MEMORY_MIN }, \
	{ "memory-swap-max", required_argument, NULL, CLI_LIMIT_MEMORY_SWAP_MAX }, \
	{ "pids-max", required_argument, NULL, CLI_LIMIT_PIDS_MAX }, \
	{ "cpu-max", required_argument, NULL, CLI_LIMIT_CPU_MAX }, \
	{ "cpu-weight", required_argument, NULL, CLI_LIMIT_CPU_WEIGHT }, \
	{ "cpu-idle", required_argument, NULL, CLI_LIMIT_CPU_IDLE }, \
	{ "cpuset-cpus", required_argument, NULL, CLI_LIMIT_CPUSET_CPUS }, \
	{ "cpuset-mems", required_argument, NULL, CLI_LIMIT_CPUSET_MEMS }, \
	{ "io-weight", required_argument, NULL, CLI_LIMIT_IO_WEIGHT }, \
	{ "hugetlb", required_argument, NULL, CLI_LIMIT_HUGETLB }, \
	{ "set", required_argument, NULL, CLI_LIMIT_SET }
/* Synopsis text of those options. */
#define CLI_LIMIT_SYNOPSIS \
	"[--memory-max B] [--memory-high B] [--memory-low B] [--memory-min B]\n" \
	"       [--memory-swap-max B] [--pids-max N] [--cpu-max 'QUOTA [PERIOD]'] [--cpu-weight W]\n" \
	"       [--cpu-idle 0|1] [--cpuset-cpus L] [--cpuset-mems L] [--io-weight W]\n" \
	"       [--hugetlb PAGESIZE=B]... [--set KEY=VALUE]..."
/* Whether opt is one of the CLI_LIMIT_* options. */
bool cli_is_limit_opt(int opt);
/*
 * Add KEY=VALUE to a Resources object: friendly names (memory.max, pids.max,
 * cpu.max "QUOTA [PERIOD]", cpu.weight, cpu.shares, cpu.idle, cpuset.cpus,
 * cpuset.mems, io.weight, io.max "MAJ:MIN rbps=..", hugetlb.<SIZE>.max) go to
 * their typed fields, byte sizes with K/M/G/T suffixes; anything else goes
 * raw into "unified". -EINVAL with *ret_why, or -ENOMEM.
 */
int cli_limit_add_kv(json_object *res, const char *kv, const char **ret_why);
/* Add the value of limit option opt (CLI_LIMIT_*) to a Resources object, as cli_limit_add_kv(). */
int cli_limit_add_opt(json_object *res, int opt, const char *value, const char **ret_why);

/* cli_output.c */
/* Report a failed library call ("cgctl: NotFound: message"); returns CLI_EXIT_FAILURE. */
int cli_fail(const struct cli *cli, int r, const char *what);
/* Print a JSON value, pretty, on stdout. */
void cli_print_json(json_object *o);
/* Entries as an array of Entry objects (as on the wire); NULL on ENOMEM. */
json_object *cli_entries_to_json(struct cgctl_entry *const *e, size_t n);
/* Entries as a tree, one line each. */
int cli_print_tree(struct cgctl_entry *const *e, size_t n);
/* Status as "key: value" lines. */
void cli_print_status(const struct cgctl_status *s);
/* A Stats object as "key: value" lines. */
void cli_print_stats(json_object *stats);
