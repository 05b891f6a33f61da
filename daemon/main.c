/* SPDX-License-Identifier: MIT */
/* main.c: cgctld's command line, start-up, signals, systemd notification, the loop. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <event2/event.h>
#include <systemd/sd-daemon.h>

#include "app.h"
#include "cleanup.h"
#include "log.h"
#include "events.h"
#include "manager.h"
#include "paths.h"
#include "server.h"
#include "tenant.h"

struct daemon_opts {
	const char *socket;
	const char *state_dir;
	const char *cgroup_root;
	unsigned max_cgroups;
	unsigned max_watchers;
	unsigned long max_ledger;
	struct quota quota; /* per-uid budgets of tenants, 0: a share of the global limit */
	int verbose;
};

/* Print usage to f. */
static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cgctld [OPTION]...\n"
		"Manage the delegated cgroup v2 subtree of the calling user over Varlink.\n\n"
		"  --socket PATH          listen on PATH (default $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager)\n"
		"  --state-dir DIR        ledger directory (default $STATE_DIRECTORY, $XDG_STATE_HOME/cgctl,\n"
		"                         ~/.local/state/cgctl)\n"
		"  --cgroup-root PATH     manage this cgroup2 directory instead of our own cgroup\n"
		"  --allow-uid UID        also accept clients of UID (repeatable)\n"
		"  --max-cgroups N        refuse Create beyond N managed cgroups (default 65536)\n"
		"  --max-cgroups-per-uid N  cgroups of one tenant (an --allow-uid client that is\n"
		"                         neither root nor our uid); default: the global limit\n"
		"                         divided by (tenants + 1); likewise the other -per-uid\n"
		"                         budgets below (watchers, ledger size)\n"
		"  --max-connections N    connections in total (default 512)\n"
		"  --max-connections-per-uid N  (default 256; a tenant also at most\n"
		"                         --max-connections / (tenants + 1))\n"
		"  --max-message-size N   bytes of one Varlink message (default 1048576)\n"
		"  --max-reply-buffer N   queued reply bytes per connection before we stop reading\n"
		"                         its calls (default 16777216)\n"
		"  --max-reply-memory N   queued reply bytes of all the connections of one uid (root,\n"
		"                         ours) before none of them is served (default 268435456)\n"
		"  --max-reply-memory-per-uid N  the same for a tenant\n"
		"  --max-watchers N       Watch streams at once (default 256)\n"
		"  --max-watchers-per-uid N  Watch streams of one tenant\n"
		"  --max-pressure-triggers-per-uid N  PSI triggers of one uid's Watch streams\n"
		"                         (default 64)\n"
		"  --max-ledger-size BYTES  refuse Create once the entries (names, labels) would make\n"
		"                         the ledger snapshot bigger (default 134217728, at most 267386880)\n"
		"  --max-ledger-size-per-uid BYTES  what one tenant's entries may take of it\n"
		"  --stall-timeout MS     drop clients that make no progress this long on a partial\n"
		"                         message or unread replies (default 10000, 0: never)\n"
		"  --idle-timeout SEC     when socket-activated, exit after SEC seconds without\n"
		"                         clients and with nothing to watch (default 0: never)\n"
		"  -v, --verbose          debug logging\n"
		"  -h, --help             this text\n"
		"  --version              print the version\n");
}

/* Parse an unsigned option value or exit 2. */
static unsigned long parse_ulong(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v > max) {
		fprintf(stderr, "cgctld: invalid value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

/* The same, refusing 0. */
static unsigned long parse_positive(const char *opt, const char *s, unsigned long max)
{
	unsigned long v = parse_ulong(opt, s, max);

	if (v == 0) {
		fprintf(stderr, "cgctld: %s must be at least 1\n", opt);
		exit(2);
	}
	return v;
}

enum { OPT_SOCKET = 256, OPT_STATE, OPT_ROOT, OPT_ALLOW, OPT_MAXCG, OPT_MAXCONN, OPT_MAXCONNUID,
       OPT_MAXMSG, OPT_STALL, OPT_IDLE, OPT_MAXOUT, OPT_MAXWATCH, OPT_MAXTRIG, OPT_MAXLEDGER, OPT_VERSION,
       OPT_MAXCGUID, OPT_MAXWATCHUID, OPT_MAXLEDGERUID, OPT_MAXREPLYMEM, OPT_MAXREPLYMEMUID };

/* Parse the command line into o and the transport s (its limits, the uids it lets in). */
static void parse_args(int argc, char **argv, struct daemon_opts *o, struct server *s)
{
	struct limits *l = server_limits(s);
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, OPT_SOCKET },
		{ "state-dir", required_argument, NULL, OPT_STATE },
		{ "cgroup-root", required_argument, NULL, OPT_ROOT },
		{ "allow-uid", required_argument, NULL, OPT_ALLOW },
		{ "max-cgroups", required_argument, NULL, OPT_MAXCG },
		{ "max-connections", required_argument, NULL, OPT_MAXCONN },
		{ "max-connections-per-uid", required_argument, NULL, OPT_MAXCONNUID },
		{ "max-message-size", required_argument, NULL, OPT_MAXMSG },
		{ "stall-timeout", required_argument, NULL, OPT_STALL },
		{ "idle-timeout", required_argument, NULL, OPT_IDLE },
		{ "max-reply-buffer", required_argument, NULL, OPT_MAXOUT },
		{ "max-watchers", required_argument, NULL, OPT_MAXWATCH },
		{ "max-pressure-triggers-per-uid", required_argument, NULL, OPT_MAXTRIG },
		{ "max-ledger-size", required_argument, NULL, OPT_MAXLEDGER },
		{ "max-cgroups-per-uid", required_argument, NULL, OPT_MAXCGUID },
		{ "max-watchers-per-uid", required_argument, NULL, OPT_MAXWATCHUID },
		{ "max-ledger-size-per-uid", required_argument, NULL, OPT_MAXLEDGERUID },
		{ "max-reply-memory", required_argument, NULL, OPT_MAXREPLYMEM },
		{ "max-reply-memory-per-uid", required_argument, NULL, OPT_MAXREPLYMEMUID },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SOCKET: o->socket = optarg; break;
		case OPT_STATE: o->state_dir = optarg; break;
		case OPT_ROOT: o->cgroup_root = optarg; break;
		case OPT_ALLOW:
			if (server_allow_uid(s, (uid_t)parse_ulong("--allow-uid", optarg, UINT_MAX - 1)) < 0) {
				fprintf(stderr, "cgctld: at most %d --allow-uid\n", UID_ALLOW_MAX);
				exit(2);
			}
			break;
		case OPT_MAXCG: o->max_cgroups = (unsigned)parse_ulong("--max-cgroups", optarg, 1u << 24); break;
		case OPT_MAXCONN: l->conns_max = (unsigned)parse_ulong("--max-connections", optarg, 65536); break;
		case OPT_MAXCONNUID:
			l->conns_per_uid = (unsigned)parse_ulong("--max-connections-per-uid", optarg, 65536);
			break;
		case OPT_MAXMSG:
			l->message_max = parse_ulong("--max-message-size", optarg, 64u << 20);
			break;
		case OPT_STALL: l->partial_timeout_ms = (unsigned)parse_ulong("--stall-timeout", optarg, 3600000); break;
		case OPT_IDLE: server_set_idle_timeout(s, 1000 * (unsigned)parse_ulong("--idle-timeout", optarg, 86400)); break;
		case OPT_MAXOUT: l->out_max = parse_ulong("--max-reply-buffer", optarg, 1u << 30); break;
		case OPT_MAXREPLYMEM:
			l->reply_mem_max = parse_positive("--max-reply-memory", optarg, 1ul << 40);
			break;
		case OPT_MAXREPLYMEMUID:
			l->reply_mem_per_tenant = parse_positive("--max-reply-memory-per-uid", optarg, 1ul << 40);
			break;
		case OPT_MAXWATCH: o->max_watchers = (unsigned)parse_ulong("--max-watchers", optarg, 65536); break;
		case OPT_MAXTRIG:
			l->triggers_per_uid = (unsigned)parse_ulong("--max-pressure-triggers-per-uid", optarg, 65536);
			break;
		case OPT_MAXLEDGER:
			o->max_ledger = parse_ulong("--max-ledger-size", optarg, LEDGER_BUDGET_MAX);
			if (o->max_ledger < 4096) {
				fprintf(stderr, "cgctld: --max-ledger-size must be at least 4096\n");
				exit(2);
			}
			break;
		case OPT_MAXCGUID:
			o->quota.entries = (unsigned)parse_positive("--max-cgroups-per-uid", optarg, 1u << 24);
			break;
		case OPT_MAXWATCHUID:
			o->quota.watchers = (unsigned)parse_positive("--max-watchers-per-uid", optarg, 65536);
			break;
		case OPT_MAXLEDGERUID:
			o->quota.ledger_bytes = parse_positive("--max-ledger-size-per-uid", optarg, LEDGER_BUDGET_MAX);
			break;
		case 'v': o->verbose = 1; break;
		case 'h': usage(stdout); exit(0);
		case OPT_VERSION: printf("cgctld %s\n", CGCTL_VERSION); exit(0);
		default: usage(stderr); exit(2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "cgctld: unexpected argument: %s\n", argv[optind]);
		exit(2);
	}
	if (o->cgroup_root && o->cgroup_root[0] != '/') {
		fprintf(stderr, "cgctld: --cgroup-root must be an absolute path\n");
		exit(2);
	}
}

/* $STATE_DIRECTORY, else $XDG_STATE_HOME/cgctl, else ~/.local/state/cgctl. */
static char *default_state_dir(void)
{
	const char *e = getenv("STATE_DIRECTORY");
	char *p = NULL;

	if (e && *e) {
		/* systemd may pass several, colon-separated: the first is ours. */
		size_t n = strcspn(e, ":");
		return strndup(e, n);
	}
	e = getenv("XDG_STATE_HOME");
	if (e && e[0] == '/')
		return asprintf(&p, "%s/cgctl", e) < 0 ? NULL : p;
	e = getenv("HOME");
	if (e && e[0] == '/')
		return asprintf(&p, "%s/.local/state/cgctl", e) < 0 ? NULL : p;
	return NULL;
}

/* SIGTERM/SIGINT: leave the loop. */
static void signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	log_info("received %s, stopping", strsignal((int)sig));
	sd_notify(0, "STOPPING=1\nSTATUS=Stopping");
	event_base_loopexit(base, NULL);
}

/* Ping systemd's watchdog at half the interval it asked for. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	sd_notify(0, "WATCHDOG=1");
}

/* Tell systemd (and the log) we are ready and in what state. */
static void notify_ready(struct manager *m, struct server *s)
{
	char status[1024];

	if (manager_delegated(m))
		snprintf(status, sizeof(status), "Managing %s, %zu cgroups", manager_root_path(m),
			 ledger_count(manager_ledger(m)));
	else
		snprintf(status, sizeof(status), "Degraded: %s", manager_reason(m) ? manager_reason(m) : "no delegation");
	sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%d", status, (int)getpid());
	log_info("ready on %s: %s", server_socket_path(s) ? server_socket_path(s) : "the socket systemd passed", status);
}

/* Hold SIGTERM and SIGINT pending from here on: the one that stopped us is being acted on. */
static void block_stop_signals(void)
{
	sigset_t ss;

	sigemptyset(&ss);
	sigaddset(&ss, SIGTERM);
	sigaddset(&ss, SIGINT);
	sigprocmask(SIG_BLOCK, &ss, NULL);
}

/* Run the loop until a signal ends it. */
static int run_loop(struct event_base *base)
{
	struct event *sigterm = evsignal_new(base, SIGTERM, signal_cb, base);
	struct event *sigint = evsignal_new(base, SIGINT, signal_cb, base);
	struct event *wd = NULL;
	uint64_t wd_usec = 0;

	if (!sigterm || !sigint || event_add(sigterm, NULL) < 0 || event_add(sigint, NULL) < 0)
		return -ENOMEM;
	/* Nothing to reload: a stray SIGHUP must not end us. */
	signal(SIGHUP, SIG_IGN);
	if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) {
		struct timeval tv = { (time_t)(wd_usec / 2 / 1000000), (suseconds_t)(wd_usec / 2 % 1000000) };
		wd = event_new(base, -1, EV_PERSIST, watchdog_cb, NULL);
		if (wd)
			event_add(wd, &tv);
	}
	event_base_dispatch(base);
	/* Stopping now: another SIGTERM or SIGINT (a second Ctrl-C, a supervisor's TERM after the terminal's INT)
	 * must not kill us halfway through with the default action that event_free() puts back. */
	block_stop_signals();
	if (wd)
		event_free(wd);
	event_free(sigterm);
	event_free(sigint);
	return 0;
}

/* Serve (app_start()), then give the allocator back what loading took and say ready. 0 or -errno, logged. */
static int start_serving(struct app *a, const char *sock, bool default_sock)
{
	int r = app_start(a, sock, default_sock);

	if (r < 0)
		return r;
	/* Loading a large snapshot leaves freed pages with the allocator: give them back. */
	malloc_trim(0);
	server_idle_arm(a->srv);
	notify_ready(a->mgr, a->srv);
	return 0;
}

/* The tenants' shares: of the connections (the transport's) and of the domain's limits (o->quota). */
static void resolve_limits(struct daemon_opts *o, struct server *s)
{
	size_t n_uids;
	const uid_t *uids = server_allowed_uids(s, &n_uids);
	unsigned tenants = tenant_count(uids, n_uids);

	server_limits_resolve(s, tenants);
	quota_defaults(&o->quota, tenants, o->max_cgroups, o->max_ledger ? o->max_ledger : LEDGER_BUDGET_DEFAULT,
		       o->max_watchers ? o->max_watchers : EVENTS_WATCHERS_MAX);
}

/* Parse, set up, reconcile, serve until a signal; exit 1 with a log line on any start-up failure. */
int main(int argc, char **argv)
{
	struct daemon_opts o = { .max_cgroups = 65536 };
	struct server *s = server_new();
	struct app app = { .srv = s };
	struct manager_options mo;
	_cleanup_free_ char *state_dir = NULL, *sock = NULL;
	int r;

	if (!s) {
		fprintf(stderr, "cgctld: out of memory\n");
		return 1;
	}
	server_set_dir_check(s, app_socket_dir_check);
	parse_args(argc, argv, &o, s);
	log_init(o.verbose);
	signal(SIGPIPE, SIG_IGN);
	resolve_limits(&o, s);

	state_dir = o.state_dir ? strdup(o.state_dir) : default_state_dir();
	if (!state_dir)
		fatal("no state directory: set --state-dir, $STATE_DIRECTORY, $XDG_STATE_HOME or $HOME");
	if (o.socket && !(sock = strdup(o.socket)))
		fatal("out of memory");
	else if (!o.socket && (r = proto_default_socket_path(&sock)) < 0)
		fatal("no socket path (%s): pass --socket", strerror(-r));

	mo = (struct manager_options){ .state_dir = state_dir, .cgroup_root = o.cgroup_root,
				       .entries_max = o.max_cgroups, .watchers_max = o.max_watchers,
				       .ledger_max = o.max_ledger, .quota = o.quota };
	r = app_open(&app, &mo);
	if (r >= 0)
		r = start_serving(&app, sock, !o.socket);
	if (r >= 0) {
		r = run_loop(app.base);
		if (r < 0)
			log_error_errno(r, "cannot watch for signals; stopping");
	}
	app_stop(&app);
	server_free(s);
	if (r < 0)
		return 1;
	log_info("stopped");
	return 0;
}
