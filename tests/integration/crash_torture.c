/* SPDX-License-Identifier: MIT */
/* crash_torture.c: concurrent libcgctl clients that log every acknowledged create and destroy while cgctld is killed under them. */

/*
 * Usage:
 *   crash_torture run GATE LOGDIR WORKERS SEED
 *       Fork WORKERS clients, each with its own connection. A client reads the
 *       daemon's socket path from the file GATE (rewritten by the harness after
 *       each restart), connects, and creates (named, nested, generated,
 *       delegated) and destroys cgroups until LOGDIR/stop exists. When the
 *       connection fails it reconnects (re-reading GATE) and carries on.
 *       Client i appends to LOGDIR/w<i>.log one line per event, each written
 *       with one write(2) and ended by " ." (a reader racing a write can tell
 *       a complete line), NAMES space-separated:
 *         C NAME      about to create NAME (outcome unknown until "c")
 *         G PREFIX    about to create a generated name below PREFIX ("-": top)
 *         c NAME      the create of NAME was acknowledged
 *         D NAMES     about to destroy NAMES (the first and its known descendants)
 *         d NAMES     the destroy was acknowledged: all of NAMES are gone
 *         U WHAT      a reply was lost (transport error): outcome unknown
 *         E WHAT      the daemon answered with an error: a test failure
 *         S ...       statistics at exit
 *       The last C/c/D/d line naming a name is its state: c = must exist,
 *       d = must not, C/D = unknown (may be either, but listed iff present).
 *       A create whose reply was lost is destroyed (retried until acknowledged)
 *       once the client is connected again, so unknown names do not pile up.
 *   crash_torture churn SOCKET N
 *       N create+destroy pairs on one connection (drives journal compaction).
 *   crash_torture destroy SOCKET NAME...
 *       Destroy each NAME recursively, one after the other on one connection
 *       (the harness's clean-up: a cgctl exec each was two processes a name).
 *       Prints "destroy NAME: error CODE ERROR MESSAGE" for each that fails.
 *   crash_torture runtime SOCKET NAME
 *       What a container runtime does around a container's life: create NAME,
 *       and on NoDelegation (-CGCTL_ENODELEGATION) go on without cgroups, as
 *       runc does on ErrRootless; then destroy NAME. Prints "create: ok",
 *       "create: nodelegation" or "create: error CODE NAME", then
 *       "destroy: ok existed=0|1" or "destroy: error CODE NAME".
 *
 * Exit status: 0 when every call got a reply it expected (transport errors
 * excepted in run mode), 1 otherwise, 2 on usage errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cgctl.h"

#define MAX_LIVE 24
#define MAX_DEPTH 3
#define NAME_MAX_LEN 256
#define LINE_MAX_LEN 8192
#define CALL_TIMEOUT_MS 5000

struct worker {
	int id;
	int logfd;
	const char *gate;
	char stop[4096];
	cgctl *c;
	unsigned counter;
	/* acknowledged, not destroyed */
	char *live[MAX_LIVE * 2];
	bool live_delegate[MAX_LIVE * 2];
	size_t n_live;
	/* destroys to retry: each a space-separated list, the target first */
	char *pending[64];
	size_t n_pending;
	unsigned long ops, unknown, errors, reconnects;
};

/* Append one line (newline added) with a single write(2). */
static void wlog(struct worker *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void wlog(struct worker *w, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(line) - 4)
		n = (int)sizeof(line) - 4;
	line[n++] = ' ';
	line[n++] = '.';
	line[n++] = '\n';
	if (write(w->logfd, line, (size_t)n) != n) {
		perror("crash_torture: log write");
		_exit(1);
	}
}

/* Sleep ms milliseconds. */
static void msleep(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* True once the harness asked us to stop. */
static bool stopping(const struct worker *w)
{
	return access(w->stop, F_OK) == 0;
}

/* The socket path the gate file names, in buf; false when there is none yet. */
static bool read_gate(const char *gate, char *buf, size_t size)
{
	FILE *f = fopen(gate, "re");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return n > 0;
}

/* Connect to whatever daemon the gate names, retrying; false when told to stop. */
static bool ensure_connected(struct worker *w)
{
	char path[4096];

	while (!w->c) {
		if (stopping(w))
			return false;
		if (read_gate(w->gate, path, sizeof(path)) && cgctl_connect(path, &w->c) >= 0) {
			cgctl_set_timeout(w->c, CALL_TIMEOUT_MS);
			w->reconnects++;
			return true;
		}
		msleep(2);
	}
	return true;
}

/* A reply that never came (or a dead connection): drop the connection. */
static bool transport_error(struct worker *w, int r)
{
	if (r >= 0 || cgctl_error_name(w->c))
		return false;
	w->c = cgctl_disconnect(w->c);
	return true;
}

/* Record a daemon error as a test failure. */
static void daemon_error(struct worker *w, const char *what, const char *name, int r)
{
	const char *en = cgctl_error_name(w->c), *em = cgctl_error_message(w->c);

	w->errors++;
	wlog(w, "E %s %s r=%d %s: %s", what, name ? name : "-", r, en ? en : "-", em ? em : "-");
}

/* Add name to the live set. */
static void live_add(struct worker *w, const char *name, bool delegate)
{
	char *s = strdup(name);

	if (!s || w->n_live >= sizeof(w->live) / sizeof(w->live[0])) {
		fprintf(stderr, "crash_torture: live set overflow\n");
		_exit(1);
	}
	w->live_delegate[w->n_live] = delegate;
	w->live[w->n_live++] = s;
}

/* Is name equal to or below top? */
static bool at_or_below(const char *name, const char *top)
{
	size_t n = strlen(top);

	return strncmp(name, top, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* Depth of a name (1 for "a"). */
static int depth_of(const char *name)
{
	int d = 1;

	for (; *name; name++)
		d += *name == '/';
	return d;
}

/* Remove top and everything below it from the live set; their names, space-separated, top first. */
static char *live_take_subtree(struct worker *w, const char *top)
{
	size_t cap = strlen(top) + 2, len;
	char *list;
	size_t i, k;

	for (i = 0; i < w->n_live; i++)
		if (at_or_below(w->live[i], top))
			cap += strlen(w->live[i]) + 1;
	list = malloc(cap);
	if (!list)
		_exit(1);
	strcpy(list, top);
	len = strlen(top);
	for (i = k = 0; i < w->n_live; i++) {
		if (at_or_below(w->live[i], top)) {
			if (strcmp(w->live[i], top) != 0) {
				list[len++] = ' ';
				strcpy(list + len, w->live[i]);
				len += strlen(w->live[i]);
			}
			free(w->live[i]);
			continue;
		}
		w->live_delegate[k] = w->live_delegate[i];
		w->live[k++] = w->live[i];
	}
	w->n_live = k;
	return list;
}

/* Queue a destroy to retry once connected again (list consumed). */
static void pending_add(struct worker *w, char *list)
{
	if (w->n_pending >= sizeof(w->pending) / sizeof(w->pending[0])) {
		fprintf(stderr, "crash_torture: too many pending destroys\n");
		_exit(1);
	}
	w->pending[w->n_pending++] = list;
}

/* Destroy the first name of list (recursively); log D/d. true when acknowledged. */
static bool do_destroy(struct worker *w, const char *list)
{
	char target[NAME_MAX_LEN];
	size_t n = strcspn(list, " ");
	int existed = -1, r;

	if (n >= sizeof(target))
		n = sizeof(target) - 1;
	memcpy(target, list, n);
	target[n] = '\0';
	wlog(w, "D %s", list);
	w->ops++;
	r = cgctl_destroy(w->c, target, CGCTL_DESTROY_RECURSIVE, &existed);
	if (r >= 0) {
		wlog(w, "d %s", list);
		return true;
	}
	if (transport_error(w, r)) {
		w->unknown++;
		wlog(w, "U destroy %s r=%d", target, r);
		return false;
	}
	daemon_error(w, "destroy", target, r);
	/* Unexpected: keep retrying would hide it; leave its state unknown. */
	return true;
}

/* Create name (NULL: generated below prefix); log it. */
static void do_create(struct worker *w, const char *name, const char *prefix, bool delegate)
{
	struct cgctl_create_opts o = { .size = sizeof(o) };
	struct cgctl_entry *e = NULL;
	int r;

	o.generate = name == NULL;
	o.prefix = name ? NULL : prefix;
	o.delegate = delegate;
	if (name)
		wlog(w, "C %s", name);
	else
		wlog(w, "G %s", prefix ? prefix : "-");
	w->ops++;
	r = cgctl_create(w->c, name, &o, &e);
	if (r >= 0 && e && e->name) {
		wlog(w, "c %s", e->name);
		live_add(w, e->name, delegate);
		if (delegate && e->path) {
			/* The delegatee's own cgroups inside: the daemon must remove them with it. */
			char inner[4096];
			snprintf(inner, sizeof(inner), "%s/inner", e->path);
			if (mkdir(inner, 0755) == 0) {
				snprintf(inner, sizeof(inner), "%s/inner/deeper", e->path);
				(void)mkdir(inner, 0755);
			}
		}
		cgctl_entry_free(e);
		return;
	}
	cgctl_entry_free(e);
	if (r >= 0) {
		w->errors++;
		wlog(w, "E create %s: success without an entry", name ? name : "(generated)");
		return;
	}
	if (transport_error(w, r)) {
		w->unknown++;
		wlog(w, "U create %s r=%d", name ? name : "(generated)", r);
		/* A lost reply: it may exist. Destroy it once connected again. */
		if (name) {
			char *s = strdup(name);
			if (!s)
				_exit(1);
			pending_add(w, s);
		}
		return;
	}
	daemon_error(w, "create", name ? name : "(generated)", r);
}

/* A random live name that can take children, or NULL. */
static const char *pick_parent(struct worker *w)
{
	for (int tries = 0; tries < 8 && w->n_live > 0; tries++) {
		size_t i = (size_t)rand() % w->n_live;

		if (!w->live_delegate[i] && depth_of(w->live[i]) < MAX_DEPTH)
			return w->live[i];
	}
	return NULL;
}

/* One client: operate until told to stop. */
static int worker_main(struct worker *w)
{
	char name[NAME_MAX_LEN];

	while (!stopping(w) && ensure_connected(w)) {
		int roll;

		/* First resolve what a crash left unknown. */
		if (w->n_pending > 0) {
			if (do_destroy(w, w->pending[0])) {
				free(w->pending[0]);
				memmove(w->pending, w->pending + 1, --w->n_pending * sizeof(w->pending[0]));
			}
			continue;
		}
		roll = rand() % 100;
		if (w->n_live < 3 || (roll < 30 && w->n_live < MAX_LIVE)) {
			snprintf(name, sizeof(name), "w%d-%u", w->id, w->counter++);
			do_create(w, name, NULL, false);
		} else if (roll < 50 && w->n_live < MAX_LIVE) {
			const char *p = pick_parent(w);

			if (!p)
				continue;
			snprintf(name, sizeof(name), "%s/k%u", p, w->counter++);
			do_create(w, name, NULL, false);
		} else if (roll < 60 && w->n_live < MAX_LIVE) {
			const char *p = roll % 2 ? pick_parent(w) : NULL;
			char prefix[NAME_MAX_LEN];

			if (p)
				snprintf(prefix, sizeof(prefix), "%s", p);
			do_create(w, NULL, p ? prefix : NULL, false);
		} else if (roll < 66 && w->n_live < MAX_LIVE) {
			snprintf(name, sizeof(name), "w%d-d%u", w->id, w->counter++);
			do_create(w, name, NULL, true);
		} else {
			size_t i = (size_t)rand() % w->n_live;
			char *top = strdup(w->live[i]);
			char *list;

			if (!top)
				return 1;
			list = live_take_subtree(w, top);
			free(top);
			if (do_destroy(w, list))
				free(list);
			else
				pending_add(w, list);
		}
	}
	wlog(w, "S worker=%d ops=%lu unknown=%lu errors=%lu connects=%lu live=%zu pending=%zu", w->id,
	     w->ops, w->unknown, w->errors, w->reconnects, w->n_live, w->n_pending);
	w->c = cgctl_disconnect(w->c);
	return w->errors ? 1 : 0;
}

/* run GATE LOGDIR WORKERS SEED */
static int cmd_run(char **argv)
{
	const char *gate = argv[0], *dir = argv[1];
	int workers = atoi(argv[2]), failed = 0;
	unsigned seed = (unsigned)strtoul(argv[3], NULL, 10);
	pid_t pids[64];

	if (workers < 1 || workers > 64) {
		fprintf(stderr, "crash_torture: 1..64 workers\n");
		return 2;
	}
	for (int i = 0; i < workers; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("crash_torture: fork");
			return 1;
		}
		if (pids[i] == 0) {
			static struct worker w;
			char path[4096];

			prctl(PR_SET_PDEATHSIG, SIGKILL);
			w.id = i;
			w.gate = gate;
			snprintf(w.stop, sizeof(w.stop), "%s/stop", dir);
			snprintf(path, sizeof(path), "%s/w%d.log", dir, i);
			w.logfd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
			if (w.logfd < 0) {
				perror(path);
				_exit(1);
			}
			srand(seed * 7919u + (unsigned)i);
			_exit(worker_main(&w));
		}
	}
	for (int i = 0; i < workers; i++) {
		int st;

		while (waitpid(pids[i], &st, 0) < 0 && errno == EINTR)
			;
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			failed = 1;
	}
	return failed;
}

/* churn SOCKET N */
static int cmd_churn(char **argv)
{
	const char *sock = argv[0];
	long n = atol(argv[1]);
	cgctl *c = NULL;
	char name[64];
	int r, existed = 0;

	r = cgctl_connect(sock, &c);
	if (r < 0) {
		fprintf(stderr, "crash_torture: connect %s: %s\n", sock, cgctl_strerror(r));
		return 1;
	}
	for (long i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "churn-%ld", i);
		r = cgctl_create(c, name, NULL, NULL);
		if (r >= 0)
			r = cgctl_destroy(c, name, 0, &existed);
		if (r < 0 || !existed) {
			fprintf(stderr, "crash_torture: churn %s: r=%d %s %s\n", name, r,
				cgctl_error_name(c) ? cgctl_error_name(c) : "-",
				cgctl_error_message(c) ? cgctl_error_message(c) : "");
			cgctl_disconnect(c);
			return 1;
		}
	}
	cgctl_disconnect(c);
	return 0;
}

/* runtime SOCKET NAME */
static int cmd_runtime(char **argv)
{
	const char *sock = argv[0], *name = argv[1];
	cgctl *c = NULL;
	int r, existed = -1, ok = 1;

	r = cgctl_connect(sock, &c);
	if (r < 0) {
		printf("connect: error %d\n", r);
		return 1;
	}
	r = cgctl_create(c, name, NULL, NULL);
	if (r == -CGCTL_ENODELEGATION)
		printf("create: nodelegation\n");
	else if (r >= 0)
		printf("create: ok\n");
	else
		printf("create: error %d %s\n", r, cgctl_error_name(c) ? cgctl_error_name(c) : "-");
	ok &= r == -CGCTL_ENODELEGATION || r >= 0;
	r = cgctl_destroy(c, name, 0, &existed);
	if (r >= 0)
		printf("destroy: ok existed=%d\n", existed);
	else
		printf("destroy: error %d %s\n", r, cgctl_error_name(c) ? cgctl_error_name(c) : "-");
	ok &= r >= 0;
	cgctl_disconnect(c);
	return ok ? 0 : 1;
}

/* destroy SOCKET NAME... */
static int cmd_destroy(int n, char **argv)
{
	const char *sock = argv[0];
	cgctl *c = NULL;
	int r, existed, failed = 0;

	r = cgctl_connect(sock, &c);
	if (r < 0) {
		fprintf(stderr, "crash_torture: connect %s: %s\n", sock, cgctl_strerror(r));
		return 1;
	}
	for (int i = 1; i < n; i++) {
		r = cgctl_destroy(c, argv[i], CGCTL_DESTROY_RECURSIVE, &existed);
		if (r < 0) {
			printf("destroy %s: error %d %s %s\n", argv[i], r, cgctl_error_name(c) ? cgctl_error_name(c) : "-",
			       cgctl_error_message(c) ? cgctl_error_message(c) : "");
			failed = 1;
		}
	}
	cgctl_disconnect(c);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv + 2);
	if (argc == 4 && strcmp(argv[1], "churn") == 0)
		return cmd_churn(argv + 2);
	if (argc == 4 && strcmp(argv[1], "runtime") == 0)
		return cmd_runtime(argv + 2);
	if (argc >= 3 && strcmp(argv[1], "destroy") == 0)
		return cmd_destroy(argc - 2, argv + 2);
	fprintf(stderr, "usage: crash_torture run GATE LOGDIR WORKERS SEED | churn SOCKET N | "
		"destroy SOCKET NAME... | runtime SOCKET NAME\n");
	return 2;
}
