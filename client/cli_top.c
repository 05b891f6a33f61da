/* SPDX-License-Identifier: MIT */
/* cli_top.c: `cgctl top`: options, the refresh loop, the terminal (raw keys, one redraw a frame). */

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"
#include "cli_top.h"
#include "names.h"

/* How long top waits for cgctld to come back after it went away (stopped, restarted, died). */
#define TOP_RECONNECT_MS 60000
/* top_fetch()'s "asked to quit meanwhile" (exit statuses are >= 0). */
#define TOP_QUIT (-1)

/* What one top run does. */
struct top {
	struct cli *cli;
	bool batch;
	int frames;        /* 0: until q or a signal */
	int delay_ms;
	enum top_sort key;
	const char *const *names;
	int sfd;           /* SIGINT/SIGTERM */
	bool raw;          /* the terminal is ours: restore it */
	struct termios saved;
	struct top_frame prev, cur;
};

/* Milliseconds on CLOCK_MONOTONIC. */
static int64_t top_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "-d SECONDS": 0.1 to 3600, fractions allowed. */
static int top_parse_delay(const char *s, int *ret)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	/* Written so that NaN fails too. */
	if (errno || end == s || *end || !(v >= 0.1 && v <= 3600))
		return -EINVAL;
	*ret = (int)(v * 1000 + 0.5);
	return 0;
}

/* Parse top's options into t; -1 to go on, else the exit status. */
static int top_options(struct top *t, int argc, char **argv)
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "sort", required_argument, NULL, 's' },
		{},
	};
	int c;

	while ((c = cli_next_opt(t->cli, argc, argv, ":hqbn:d:s:", longopts)) != -1) {
		if (c == 'b')
			t->batch = true;
		else if (c == 'n' && cli_parse_int(optarg, 1, 1000000, &t->frames) < 0)
			return cli_usage_error("top", "invalid -n '%s': want a number of frames > 0", optarg);
		else if (c == 'd' && top_parse_delay(optarg, &t->delay_ms) < 0)
			return cli_usage_error("top", "invalid -d '%s': want seconds from 0.1 to 3600", optarg);
		else if (c == 's' && top_sort_parse(optarg, &t->key) < 0)
			return cli_usage_error("top", "invalid -s '%s': want cpu, memory, pids, name or io", optarg);
		else if (c == 'h')
			return cli_command_help(argv[0]);
		else if (c != 'n' && c != 'd' && c != 's')
			return CLI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		const char *why = NULL;

		if (cgname_validate(argv[i], strlen(argv[i]), &why) < 0) {
			fprintf(stderr, "cgctl: InvalidName: %s: %s\n", cli_esc(argv[i]), why ? why : "invalid name");
			return CLI_EXIT_FAILURE;
		}
	}
	t->names = optind < argc ? (const char *const *)argv + optind : NULL;
	/* Full screen only for a person at a terminal. */
	t->batch |= t->cli->json || !isatty(STDOUT_FILENO) || !isatty(STDIN_FILENO);
	return -1;
}

/* Take the terminal: keys one at a time without echo, the alternate screen, no cursor. */
static int top_term_enter(struct top *t)
{
	struct termios raw;

	if (tcgetattr(STDIN_FILENO, &t->saved) < 0)
		return -errno;
	raw = t->saved;
	raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
		return -errno;
	t->raw = true;
	/* Killed by SIGPIPE, top would leave the terminal raw: the write fails instead, see top_loop(). */
	signal(SIGPIPE, SIG_IGN);
	fputs("\033[?1049h\033[?25l", stdout);
	fflush(stdout);
	return 0;
}

/* Give the terminal back as it was. */
static void top_term_leave(struct top *t)
{
	if (!t->raw)
		return;
	fputs("\033[?25h\033[?1049l", stdout);
	fflush(stdout);
	tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
	t->raw = false;
	signal(SIGPIPE, SIG_DFL);
}

/* The terminal's size, 80x24 when it cannot be told. */
static void top_term_size(int *ret_cols, int *ret_rows)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_col == 0 || ws.ws_row == 0)
		ws.ws_col = 80, ws.ws_row = 24;
	*ret_cols = ws.ws_col;
	*ret_rows = ws.ws_row;
}

/* Draw t->cur: over the last frame in place (no clearing flash), or appended in batch mode. */
static int top_draw(struct top *t)
{
	int cols, rows;

	if (top_frame_sort(&t->cur, t->key) < 0)
		return -ENOMEM;
	if (t->cli->json) {
		top_render_json(&t->cur, t->key, stdout);
	} else if (t->batch) {
		top_render_text(&t->cur, t->key, 0, 0, stdout);
		putchar('\n');
	} else {
		top_term_size(&cols, &rows);
		if (top_render_screen(&t->cur, t->key, cols, rows, stdout) < 0)
			return -ENOMEM;
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

static int top_wait(struct top *t, int ms);

/* Did the call fail with r because cgctld went away (a Snapshot it was building when it stopped ends with Timeout)? */
static bool top_daemon_gone(const struct top *t, int r)
{
	const char *name = t->cli->conn ? cgctl_error_name(t->cli->conn) : NULL;

	return r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE ||
	       (r == -ETIMEDOUT && name && strcmp(name, "io.cgctl.Manager.Timeout") == 0);
}

/* Say line: on standard error, or at a terminal over the first line of the screen. */
static void top_say(struct top *t, const char *line)
{
	if (t->raw) {
		printf("\033[H\033[7m%s (q quits)\033[0m\033[K", line);
		fflush(stdout);
		return;
	}
	fprintf(stderr, "cgctl top: %s\n", line);
}

/*
 * cgctld went away: say so and connect again, every 0.1 s growing to 1 s, for
 * TOP_RECONNECT_MS; keys and signals still work. 0 when it is back, TOP_QUIT,
 * or the exit status after saying why.
 */
static int top_reconnect(struct top *t)
{
	int64_t start = top_now_ms();
	int wait = 100;

	top_say(t, "cgctld closed the connection (it stopped or restarted): reconnecting");
	for (;;) {
		if (top_wait(t, wait) != 0)
			return TOP_QUIT;
		if (cli_reconnect(t->cli) == 0) {
			if (!t->raw)
				fputs("cgctl top: reconnected to cgctld\n", stderr);
			return 0;
		}
		if (top_now_ms() - start >= TOP_RECONNECT_MS) {
			top_term_leave(t);
			fprintf(stderr, "cgctl top: cgctld did not come back within %d s\n", TOP_RECONNECT_MS / 1000);
			return CLI_EXIT_FAILURE;
		}
		wait = wait * 2 < 1000 ? wait * 2 : 1000;
	}
}

/* One Snapshot into t->cur, rates against t->prev; across a restart of cgctld. 0, TOP_QUIT, or the exit status after saying why. */
static int top_fetch(struct top *t)
{
	_cleanup_free_ char *json = NULL;
	int r;

	while ((r = cgctl_snapshot(t->cli->conn, t->names, &json)) < 0 && top_daemon_gone(t, r)) {
		int q = top_reconnect(t);

		if (q != 0)
			return q;
	}
	if (r < 0) {
		top_term_leave(t);
		return cli_fail(t->cli, r, "Snapshot");
	}
	if ((r = top_frame_build(json, &t->prev, &t->cur)) < 0) {
		top_term_leave(t);
		fprintf(stderr, "cgctl top: cannot read cgctld's Snapshot: %s\n", strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* Act on keys typed: 1 when q was, 2 when the sort key changed, else 0. */
static int top_keys(struct top *t)
{
	static const char keys[] = "cmpni"; /* in enum top_sort's order */
	char buf[32];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
	int r = 0;

	for (ssize_t i = 0; i < n; i++) {
		const char *k = strchr(keys, buf[i]);

		if (buf[i] == 'q')
			return 1;
		if (k && buf[i]) {
			t->key = (enum top_sort)(k - keys);
			r = 2;
		}
	}
	return r;
}

/* Wait ms, handling keys: 0 when it is time for a frame, 1 to quit. */
static int top_wait(struct top *t, int ms)
{
	int64_t until = top_now_ms() + ms;
	struct pollfd p[2] = { { .fd = t->sfd, .events = POLLIN }, { .fd = STDIN_FILENO, .events = POLLIN } };

	for (int64_t left; (left = until - top_now_ms()) > 0;) {
		int k;

		if (poll(p, t->batch ? 1 : 2, (int)left) < 0 && errno != EINTR)
			return 1;
		if (p[0].revents)
			return 1;
		if (!t->batch && (p[1].revents & (POLLHUP | POLLERR)))
			return 1;
		if (!t->batch && p[1].revents && (k = top_keys(t)) != 0) {
			if (k == 1)
				return 1;
			if (top_draw(t) < 0)
				return 1;
		}
	}
	return 0;
}

/* The refresh loop: a frame every delay until -n frames, q, or a signal. */
static int top_loop(struct top *t)
{
	int r, shown = 0;

	/* A first sample for the rates; a person sees it at once, a script only frames with rates. */
	if ((r = top_fetch(t)) != 0)
		return r == TOP_QUIT ? CLI_EXIT_OK : r;
	if (!t->batch && top_draw(t) < 0)
		return CLI_EXIT_FAILURE;
	for (;;) {
		if (top_wait(t, t->delay_ms) != 0)
			return CLI_EXIT_OK;
		top_frame_done(&t->prev);
		t->prev = t->cur;
		memset(&t->cur, 0, sizeof(t->cur));
		if ((r = top_fetch(t)) != 0)
			return r == TOP_QUIT ? CLI_EXIT_OK : r;
		if (top_draw(t) < 0) {
			int e = errno;

			top_term_leave(t);
			/* Its reader gone, top ends quietly by SIGPIPE as in batch mode. */
			if (e == EPIPE)
				raise(SIGPIPE);
			fprintf(stderr, "cgctl top: writing output: %s\n", strerror(e));
			return CLI_EXIT_FAILURE;
		}
		if (t->frames > 0 && ++shown >= t->frames)
			return CLI_EXIT_OK;
	}
}

int cli_cmd_top(struct cli *cli, int argc, char **argv)
{
	struct top t = { .cli = cli, .delay_ms = 1000, .key = TOP_SORT_CPU, .sfd = -1 };
	int r;

	if ((r = top_options(&t, argc, argv)) >= 0)
		return r;
	if ((r = cli_connect(cli)) != 0)
		return r;
	if ((t.sfd = cli_stop_signals()) < 0)
		return CLI_EXIT_FAILURE;
	if (!t.batch && (r = top_term_enter(&t)) < 0) {
		fprintf(stderr, "cgctl top: cannot set up the terminal: %s; use -b\n", strerror(-r));
		close(t.sfd);
		return CLI_EXIT_FAILURE;
	}
	r = top_loop(&t);
	top_term_leave(&t);
	top_frame_done(&t.prev);
	top_frame_done(&t.cur);
	close(t.sfd);
	return r;
}
