/* SPDX-License-Identifier: MIT */
/* cli_watch.c: commands that stay connected: `watch`, `call --more`, and the wait of `create --lease`. */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"
#include "names.h"

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* SIGINT and SIGTERM, blocked and read from a signalfd: they end the wait with exit 0. */
int cli_stop_signals(void)
{
	sigset_t set;
	int fd;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0 ||
	    (fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
		fprintf(stderr, "cgctl: cannot handle signals: %s\n", strerror(errno));
		return -1;
	}
	return fd;
}

/* Wait until fd is readable (1) or a stop signal arrived (0); -errno on failure. */
static int wait_readable(int fd, int sfd)
{
	struct pollfd p[2] = { { .fd = fd, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };

	for (;;) {
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* Events already sent are printed before a signal ends us. */
		if (p[0].revents)
			return 1;
		if (p[1].revents)
			return 0;
	}
}

/* stdout after a line: flushed, or the reason it is gone (exit 1). */
static int flush_line(void)
{
	if (fflush(stdout) == 0 && !ferror(stdout))
		return 0;
	fprintf(stderr, "cgctl: writing output: %s\n", strerror(errno));
	return CLI_EXIT_FAILURE;
}

/* Microseconds since the epoch as ISO 8601 local time with milliseconds: 2025-01-31T14:05:09.123+01:00. */
static void format_time(uint64_t usec, char *buf, size_t size)
{
	time_t t = (time_t)(usec / 1000000u);
	char date[32], off[8];
	struct tm tm;

	if (!localtime_r(&t, &tm) || strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm) == 0 ||
	    strftime(off, sizeof(off), "%z", &tm) != 5) {
		snprintf(buf, size, "@%llu", (unsigned long long)usec);
		return;
	}
	snprintf(buf, size, "%s.%03u%.3s:%.2s", date, (unsigned)(usec / 1000u % 1000u), off, off + 3);
}

/* An event as the wire's Event object. */
static json_object *event_to_json(const struct cgctl_event *e)
{
	json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	if (json_object_object_add(o, "type", json_object_new_string(e->type)) < 0 ||
	    json_object_object_add(o, "name", json_object_new_string(e->name)) < 0 ||
	    json_object_object_add(o, "timestamp", json_object_new_int64((int64_t)e->timestamp_usec)) < 0 ||
	    json_object_object_add(o, "details", e->details_json ? json_tokener_parse(e->details_json) : NULL) < 0) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* One event, one line: "TIME TYPE NAME [DETAILS]", or the Event object with --json. */
static int print_event(const struct cli *cli, const struct cgctl_event *e)
{
	_cleanup_json_ json_object *o = NULL;
	char ts[64];

	if (cli->json) {
		o = event_to_json(e);
		if (!o) {
			fputs("cgctl: out of memory\n", stderr);
			return CLI_EXIT_FAILURE;
		}
		/* JSON as it came, what would act on a terminal in its JSON escape (cli_esc.h). */
		puts(cli_esc_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
								    JSON_C_TO_STRING_NOSLASHESCAPE)));
	} else {
		format_time(e->timestamp_usec, ts, sizeof(ts));
		/* Every field from the daemon escaped; the details stay JSON (cli_esc.h). */
		printf("%s %s %s%s%s\n", ts, cli_esc(e->type), e->name[0] ? cli_esc(e->name) : "-",
		       e->details_json ? " " : "", e->details_json ? cli_esc_raw(e->details_json) : "");
	}
	return flush_line();
}

/* The stream ended: the daemon's error, or the daemon itself gone. Always exit 1. */
static int stream_ended(const struct cli *cli, int r, const char *what)
{
	if (r == -ECONNRESET || r == -ENOTCONN) {
		fprintf(stderr, "cgctl %s: cgctld closed the connection\n", what);
		return CLI_EXIT_FAILURE;
	}
	if (r == -ESHUTDOWN) {
		fprintf(stderr, "cgctl %s: cgctld ended the stream\n", what);
		return CLI_EXIT_FAILURE;
	}
	return cli_fail(cli, r, what);
}

/* Print every event read so far; -1 to go on waiting, else the exit status. */
static int drain_events(struct cli *cli)
{
	struct cgctl_event *e = NULL;
	int r, k;

	for (;;) {
		r = cgctl_watch_next(cli->conn, 0, &e);
		if (r == 0)
			return -1;
		if (r < 0)
			return stream_ended(cli, r, "watch");
		k = print_event(cli, e);
		/* The daemon's last word before it stops: the stream is over, say why. */
		if (k == 0 && strcmp(e->type, "stopping") == 0 && !e->name[0]) {
			fputs("cgctl watch: cgctld stopped\n", stderr);
			k = CLI_EXIT_FAILURE;
		}
		cgctl_event_free(e);
		if (k != 0)
			return k;
	}
}

/* Every --pressure SPEC for every NAME operand, as triggers in t (room for PRESSURE_ARGS_MAX). */
static int watch_triggers(char **specs, size_t n_specs, char **names, size_t n_names,
			  struct cgctl_pressure_trigger *t, size_t *ret_n)
{
	size_t k = 0;

	if (n_specs > 0 && n_names == 0)
		return cli_usage_error("watch", "--pressure needs the NAME of the cgroup to watch");
	if (n_specs * n_names > CLI_PRESSURE_MAX)
		return cli_usage_error("watch", "at most %d pressure triggers (--pressure times NAMEs)",
				       CLI_PRESSURE_MAX);
	for (size_t i = 0; i < n_specs; i++)
		for (size_t j = 0; j < n_names; j++, k++) {
			const char *why = NULL;

			if (cli_pressure_parse(specs[i], &t[k], &why) < 0)
				return cli_usage_error("watch", "invalid --pressure '%s': %s", specs[i], why);
			t[k].name = names[j];
		}
	*ret_n = k;
	return -1;
}

/* watch [--pressure SPEC]... [NAME...]: print events as they happen, until SIGINT/SIGTERM (0) or the stream ends (1). */
int cli_cmd_watch(struct cli *cli, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS, { "pressure", required_argument, NULL, 'p' }, {}
	};
	struct cgctl_pressure_trigger triggers[CLI_PRESSURE_MAX];
	char *specs[CLI_PRESSURE_MAX];
	size_t n_specs = 0, n_triggers = 0;
	_cleanup_close_ int sfd = -1;
	const char *reason;
	int c, r;

	while ((c = cli_next_opt(cli, argc, argv, ":hqp:", longopts)) != -1) {
		if (c != 'p')
			return c == 'h' ? cli_command_help(argv[0]) : CLI_EXIT_USAGE;
		if (n_specs == CLI_PRESSURE_MAX)
			return cli_usage_error("watch", "at most %d --pressure", CLI_PRESSURE_MAX);
		specs[n_specs++] = optarg;
	}
	r = watch_triggers(specs, n_specs, argv + optind, (size_t)(argc - optind), triggers, &n_triggers);
	if (r >= 0)
		return r;
	for (int i = optind; i < argc; i++)
		if (cgname_validate(argv[i], strlen(argv[i]), &reason) < 0) {
			fprintf(stderr, "cgctl: InvalidName: %s: %s\n", cli_esc(argv[i]), reason ? reason : "invalid name");
			return CLI_EXIT_FAILURE;
		}
	/* Before the watch starts: a signal from then on ends us cleanly. */
	if ((sfd = cli_stop_signals()) < 0)
		return CLI_EXIT_FAILURE;
	if ((r = cli_connect(cli)) != 0)
		return r;
	/* argv[optind..argc) is NULL-terminated, as argv always is. */
	r = cgctl_watch_pressure(cli->conn, optind < argc ? (const char *const *)argv + optind : NULL, triggers,
				 n_triggers);
	if (r < 0)
		return cli_fail(cli, r, "Watch");
	for (;;) {
		r = wait_readable(cgctl_watch_fd(cli->conn), sfd);
		if (r == 0)
			return CLI_EXIT_OK;
		if (r < 0) {
			fprintf(stderr, "cgctl watch: poll: %s\n", strerror(-r));
			return CLI_EXIT_FAILURE;
		}
		if ((r = drain_events(cli)) >= 0)
			return r;
	}
}

/* Print every reply read so far; -1 to go on waiting, else the exit status. */
static int drain_replies(struct cli *cli, const char *method)
{
	int r, k, continues = 1;
	char *text = NULL;

	for (;;) {
		r = cgctl_call_more_next(cli->conn, 0, &text, &continues);
		if (r == 0)
			return -1;
		/* Like a plain call: an error's parameters are printed too. */
		if (text) {
			puts(cli_esc_json(text)); /* the same JSON, terminal-safe (cli_esc.h) */
			free(text);
			text = NULL;
			if ((k = flush_line()) != 0)
				return k;
		}
		if (r < 0)
			return stream_ended(cli, r, method);
		if (!continues)
			return CLI_EXIT_OK;
	}
}

/* call --more METHOD [JSON]: every reply of a streaming call, one compact JSON object a line. */
int cli_call_more(struct cli *cli, const char *method, const char *params)
{
	_cleanup_close_ int sfd = -1;
	int r;

	if ((sfd = cli_stop_signals()) < 0)
		return CLI_EXIT_FAILURE;
	if ((r = cli_connect(cli)) != 0)
		return r;
	r = cgctl_call_more(cli->conn, method, params);
	if (r < 0)
		return cli_fail(cli, r, method);
	for (;;) {
		r = wait_readable(cgctl_watch_fd(cli->conn), sfd);
		if (r == 0)
			return CLI_EXIT_OK;
		if (r < 0) {
			fprintf(stderr, "cgctl call: poll: %s\n", strerror(-r));
			return CLI_EXIT_FAILURE;
		}
		if ((r = drain_replies(cli, method)) >= 0)
			return r;
	}
}

/* Block stop signals before a lease is taken, so none is lost in between; the signalfd, or -1. */
int cli_lease_prepare(void)
{
	return cli_stop_signals();
}

/* Is the entry made at created (µs) still listed as name? 1, 0, or -errno. */
static int lease_entry_listed(struct cli *cli, const char *name, uint64_t created)
{
	struct cgctl_entry **v = NULL;
	size_t n = 0;
	int r = cgctl_list(cli->conn, name, &v, &n), found = 0;

	if (r == -ENOENT || r == -ESRCH)
		return 0;
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++)
		found |= strcmp(v[i]->name, name) == 0 && v[i]->created_usec == created;
	cgctl_entries_free(v, n);
	return found;
}

/*
 * Let go of the lease on the entry made at created (µs), not on whatever
 * carries its name by now: hanging up makes the daemon kill and remove that
 * very entry (and what is below it); then wait, on a new connection, until it
 * is gone, so that it is gone once we exit. 0, or -errno after saying why.
 */
int cli_lease_release(struct cli *cli, const char *name, uint64_t created)
{
	struct timespec nap = { 0, 10 * 1000 * 1000 };
	int r = 0;

	cli->conn = cgctl_disconnect(cli->conn);
	for (unsigned ms = 0; ms < CLI_LEASE_RELEASE_MS; ms += 10) {
		if (!cli->conn && cli_connect(cli) != 0)
			return -ENOTCONN;
		r = lease_entry_listed(cli, name, created);
		if (r <= 0)
			break;
		nanosleep(&nap, NULL);
	}
	if (r > 0)
		fprintf(stderr, "cgctl: cgctld has not removed %s within %u ms of the end of its lease\n", cli_esc(name),
			CLI_LEASE_RELEASE_MS);
	else if (r < 0)
		cli_fail(cli, r, "List");
	return r > 0 ? -ETIMEDOUT : r;
}

/*
 * Keep the connection that holds e's lease open until SIGINT/SIGTERM, then
 * let it go (cli_lease_release()) and exit 0; when the daemon goes away
 * first, the lease is over: exit 1.
 */
int cli_lease_hold(struct cli *cli, int sfd, const struct cgctl_entry *e)
{
	char byte;
	int r;

	r = wait_readable(cgctl_watch_fd(cli->conn), sfd);
	if (r < 0) {
		fprintf(stderr, "cgctl create: poll: %s\n", strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	if (r > 0) {
		/* The daemon never speaks unasked: readable means it hung up. */
		if (recv(cgctl_watch_fd(cli->conn), &byte, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
			fprintf(stderr, "cgctl create: cgctld closed the connection; the lease on %s is over\n",
				cli_esc(e->name));
		else
			fprintf(stderr, "cgctl create: unexpected data from cgctld; giving up the lease on %s\n",
				cli_esc(e->name));
		return CLI_EXIT_FAILURE;
	}
	/* Never a Destroy by name: the name may be somebody else's entry by now. */
	return cli_lease_release(cli, e->name, e->created_usec) < 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}
