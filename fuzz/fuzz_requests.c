// SPDX-License-Identifier: MIT
/* fuzz_requests.c: libFuzzer harness for request decoding of every method, end to end in-process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <event2/event.h>

#include "sweep.h"
#include "app.h"
#include "ledger.h"
#include "manager.h"
#include "names.h"
#include "server.h"
#include "standin.h"
#include "varlink.h"

/*
 * Each input runs against a fresh daemon: the real manager and server, set up
 * by main.c's own start-up (app_open(), app_start()) on a plain directory
 * standing in for the cgroup root (the manager accepts it with a warning) and
 * a state directory in tmpfs. A client connects over the daemon's real
 * socket, sends the input as Varlink calls, the loop runs without blocking,
 * and every reply must be a well-formed Varlink reply. Then the daemon is
 * stopped by main.c's app_stop(), and nothing may have leaked, crashed, or
 * appeared outside the stand-in root.
 *
 * Input: byte 0 selects the mode (its low bits; seeds use the digits 0-7):
 *   bit 0  raw: the rest is the byte stream, written as is
 *          otherwise structured: lines "<method><flags><parameters JSON>"
 *            method  'a'+i picks methods[i % 16] (GetStatus ... unknown)
 *            flags   '0'+bits: 1 more, 2 oneway, 4 upgrade, 8 send the next
 *                    call without running the loop first (pipelining)
 *            parameters  the text of the "parameters" value (omitted if empty)
 *   bit 1  the client hangs up before the daemon stops (else the daemon stops
 *          with the client connected, as on SIGTERM)
 *   bit 2  every message is written in two halves with the loop run between
 *   bit 4  the client reads nothing until the end (replies back up)
 *   bits 3 and 5 both: time passes at the end, the loop runs up to 16 ms, so
 *          short timeouts, rmdir back-off and the stall timer (10 ms here)
 *          fire (slow, hence two bits: seeds use '(' and ')')
 *
 * The stand-in behaves like cgroupfs where the daemon can tell: a directory
 * it makes gets interface files (mkdirat is intercepted), and removing one
 * takes its interface files with it but fails with EBUSY while it has child
 * directories or pids in cgroup.procs (unlinkat is intercepted).
 *
 * No real process is ever touched: the stand-in cgroups' cgroup.procs files
 * start empty, pids in calls are rewritten to values above pid_max (which no
 * process can have), and the daemon's kill() is intercepted (--wrap=kill).
 */

/* Report a broken invariant and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn)) fail(const char *what)
{
	fprintf(stderr, "fuzz_requests: %s\n", what);
	abort();
}

static const char *const methods[16] = {
	"io.cgctl.Manager.GetStatus",    "io.cgctl.Manager.Create",
	"io.cgctl.Manager.Destroy",      "io.cgctl.Manager.List",
	"io.cgctl.Manager.Attach",       "io.cgctl.Manager.SetResources",
	"io.cgctl.Manager.GetStats",     "io.cgctl.Manager.Freeze",
	"io.cgctl.Manager.Thaw",         "io.cgctl.Manager.Kill",
	"io.cgctl.Manager.Watch",        "io.cgctl.Manager.OpenCgroup",
	"org.varlink.service.GetInfo",   "org.varlink.service.GetInterfaceDescription",
	"io.cgctl.Manager.NoSuchMethod", "org.example.Unknown.Method",
};

static bool fuzz_log;    /* $CGCTL_FUZZ_LOG: show the daemon's log and replies */

static struct {
	char base[128], state[160], sock[160];
	char *snapshot, *journal; /* the starting ledger's files */
	size_t snapshot_len, journal_len;
} G;

/* Write path (created or truncated) with len bytes of text. */
static void write_file(const char *path, const char *text, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		perror(path);
		fail("cannot write a state file");
	}
	close(fd);
}

/* The whole file at path, malloc'd; NULL when it does not exist. */
static char *read_file(const char *path, size_t *ret_len)
{
	struct stat st;
	char *buf;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !(buf = malloc((size_t)st.st_size + 1)) ||
	    read(fd, buf, (size_t)st.st_size) != st.st_size)
		fail("cannot read the ledger template");
	close(fd);
	*ret_len = (size_t)st.st_size;
	return buf;
}

/* The ledger every input starts with, written once through the ledger API. */
static void make_ledger_template(void)
{
	struct ledger *l = NULL;
	char p[512];

	if (ledger_open(G.state, &l) < 0)
		fail("ledger_open of the template");
	for (size_t i = 0; i < standin_n_cgroups; i++) {
		const struct standin_cgroup *c = &standin_cgroups[i];
		struct ledger_entry e = { .name = (char *)c->name, .state = LEDGER_ACTIVE, .delegate = c->delegate,
					  .auto_remove = c->auto_remove, .created_usec = 1764440000000000u + i };
		int r;

		if (!c->name)
			continue;
		if (i == 0) {
			e.labels = json_object_new_object();
			json_object_object_add(e.labels, "owner", json_object_new_string("fuzz"));
		}
		r = ledger_put(l, &e, NULL);
		json_object_put(e.labels);
		if (r < 0)
			fail("ledger_put of the template");
		/* Some in the snapshot, the rest in the journal after it. */
		if (i == 2 && ledger_compact(l) < 0)
			fail("ledger_compact of the template");
	}
	if (ledger_sync(l) < 0)
		fail("ledger_sync of the template");
	ledger_close(l);
	snprintf(p, sizeof(p), "%s/ledger.json", G.state);
	G.snapshot = read_file(p, &G.snapshot_len);
	snprintf(p, sizeof(p), "%s/journal.jsonl", G.state);
	G.journal = read_file(p, &G.journal_len);
	if (!G.snapshot || !G.journal)
		fail("the ledger template has no snapshot or journal");
}

/* Stand-in tree and ledger as they were at the start. */
static void reset_state(void)
{
	static const char *const files[] = { "ledger.json.tmp", "journal.jsonl.tmp" };
	char p[512];

	standin_reset();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", G.state, files[i]);
		unlink(p);
	}
	snprintf(p, sizeof(p), "%s/ledger.json", G.state);
	write_file(p, G.snapshot, G.snapshot_len);
	snprintf(p, sizeof(p), "%s/journal.jsonl", G.state);
	write_file(p, G.journal, G.journal_len);
}

/* Remove everything this process made (at exit). */
static void cleanup_all(void)
{
	static const char *const files[] = { "ledger.json", "journal.jsonl", "ledger.json.tmp",
					      "journal.jsonl.tmp", "lock" };
	char p[512];

	standin_cleanup();
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", G.state, files[i]);
		unlink(p);
	}
	rmdir(G.state);
	unlink(G.sock);
	rmdir(G.base);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);

/* One directory tree per process; the ledger template written once. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	fuzz_log = getenv("CGCTL_FUZZ_LOG") != NULL;
	standin_log(fuzz_log);
	signal(SIGPIPE, SIG_IGN);
	sweep_stale(tmp, "cgctl-fuzz-req");
	snprintf(G.base, sizeof(G.base), "%s/cgctl-fuzz-req.%d", tmp, (int)getpid());
	snprintf(G.state, sizeof(G.state), "%s/state", G.base);
	snprintf(G.sock, sizeof(G.sock), "%s/s", G.base);
	if (mkdir(G.base, 0700) < 0 || mkdir(G.state, 0700) < 0) {
		perror(G.base);
		fail("cannot create the harness's directories");
	}
	atexit(cleanup_all);
	standin_init(G.base);
	make_ledger_template();
	return 0;
}

/* ---- one daemon per input ---- */

struct daemon {
	struct server *s;
	struct app app;
	struct event_base *base; /* app.base */
};

/* Start as main.c does (app_open(), app_start()), on the stand-in root. */
static void daemon_start(struct daemon *d)
{
	struct manager_options mo = { .state_dir = G.state, .cgroup_root = standin_root(), .entries_max = 12,
				       .watchers_max = 2 };

	memset(d, 0, sizeof(*d));
	d->s = server_new();
	if (!d->s)
		fail("out of memory");
	d->app.srv = d->s;
	server_limits(d->s)->message_max = 64 * 1024;
	server_limits(d->s)->partial_timeout_ms = 10; /* fires only when the input lets time pass */
	if (app_open(&d->app, &mo) < 0)
		fail("app_open failed: is there a cgroup2 mount? (CGCTL_FUZZ_LOG=1 shows why)");
	if (!manager_delegated(d->app.mgr))
		fail("the stand-in root is not taken as delegated");
	if (app_start(&d->app, G.sock, false) < 0)
		fail("app_start failed (CGCTL_FUZZ_LOG=1 shows why)");
	d->base = d->app.base;
}

/* Stop as main.c does: leases of connections still open are kept (released at the next start). */
static void daemon_stop(struct daemon *d)
{
	app_stop(&d->app);
	server_free(d->s);
	d->s = NULL;
}

/* ---- the client ---- */

struct client {
	int fd;
	bool deaf;      /* reads nothing until the end */
	struct vl_framer in;
	size_t calls;   /* calls sent that want a reply */
	size_t replies; /* final replies received */
};

/* Read what the daemon sent; every message must be a valid reply. Bytes read. */
static size_t client_drain(struct client *c)
{
	size_t total = 0;

	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(int) * 8)];
		} control;
		struct iovec iov;
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control,
				     .msg_controllen = sizeof(control) };
		const char *msg;
		size_t avail, len;
		char *p;
		ssize_t n;

		if (vl_framer_reserve(&c->in, 64 * 1024, &p, &avail) < 0)
			fail("out of memory in the client");
		iov.iov_base = p;
		iov.iov_len = avail;
		n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n <= 0)
			break;
		/* OpenCgroup sends a descriptor: close it, or they pile up. */
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
			if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
				for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
					close(((int *)CMSG_DATA(cm))[i]);
		vl_framer_commit(&c->in, (size_t)n);
		total += (size_t)n;
		for (int r; (r = vl_framer_next(&c->in, &msg, &len)) != 0;) {
			struct vl_reply rp;

			if (r < 0)
				fail("the daemon sent a reply over 64 MiB");
			if (vl_reply_parse(msg, len, &rp) < 0) {
				fprintf(stderr, "reply: %.*s\n", (int)(len > 4096 ? 4096 : len), msg);
				fail("the daemon sent something that is not a Varlink reply");
			}
			if (fuzz_log)
				fprintf(stderr, "reply: %.*s\n", (int)(len > 1024 ? 1024 : len), msg);
			if (rp.error && strncmp(rp.error, "io.cgctl.Manager.", 17) != 0 &&
			    strncmp(rp.error, "org.varlink.service.", 20) != 0) {
				fprintf(stderr, "reply: %.*s\n", (int)(len > 4096 ? 4096 : len), msg);
				fail("an error name outside the two interfaces");
			}
			if (!rp.continues && ++c->replies > c->calls) {
				fprintf(stderr, "reply: %.*s\n", (int)(len > 4096 ? 4096 : len), msg);
				fail("more final replies than calls that want one");
			}
			vl_reply_done(&rp);
		}
	}
	return total;
}

/* Run the loop without blocking until nothing more happens. */
static void pump(struct daemon *d, struct client *c)
{
	int quiet = 0;

	standin_armed = true;
	for (int i = 0; i < 256 && quiet < 2; i++) {
		event_base_loop(d->base, EVLOOP_NONBLOCK);
		standin_settle();
		size_t got = c->fd >= 0 && !c->deaf ? client_drain(c) : 0;
		if (got == 0 && event_base_get_num_events(d->base, EVENT_BASE_COUNT_ACTIVE) == 0)
			quiet++;
		else
			quiet = 0;
	}
	standin_armed = false;
}

/* Let up to 16 ms pass with the loop running: timers fire. */
static void let_time_pass(struct daemon *d, struct client *c)
{
	struct timeval tv = { 0, 16 * 1000 };

	standin_armed = true;
	event_base_loopexit(d->base, &tv);
	event_base_loop(d->base, 0);
	standin_armed = false;
	pump(d, c);
}

/* Connect to the daemon's socket and let it accept. */
static void client_connect(struct daemon *d, struct client *c)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(c, 0, sizeof(*c));
	vl_framer_init(&c->in, 64u * 1024 * 1024);
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	memcpy(sa.sun_path, G.sock, strlen(G.sock) + 1);
	if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		fail("cannot connect to the daemon");
	pump(d, c);
	if (server_conn_count(d->s) != 1)
		fail("the daemon did not accept the connection");
}

/* Write all of buf, running the loop when the socket is full. False if the daemon stopped reading. */
static bool client_send(struct daemon *d, struct client *c, const char *buf, size_t len)
{
	for (int stalls = 0; len > 0;) {
		ssize_t n = send(c->fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (++stalls > 4)
				return false; /* a call holds the connection (Watch, a wait): stop */
			pump(d, c);
			continue;
		}
		if (n < 0)
			return false; /* the daemon hung up: fine, if it had cause */
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* ---- inputs to messages ---- */

/*
 * Rewrite the pids of a call, decoded exactly as the daemon decodes it: false
 * when msg needs no change, else true with a new message (NUL counted) in
 * *ret (an "upgrade" flag is lost). *ret_wants_reply: a call, not oneway.
 */
static bool sanitize(const char *msg, size_t len, char **ret, size_t *ret_len, bool *ret_wants_reply)
{
	struct vl_call call;
	json_object *pids, *safe;

	*ret_wants_reply = false;
	if (vl_call_parse(msg, len, &call) < 0)
		return false;
	*ret_wants_reply = !call.oneway;
	if (!json_object_object_get_ex(call.parameters, "pids", &pids) ||
	    !json_object_is_type(pids, json_type_array)) {
		vl_call_done(&call);
		return false;
	}
	safe = json_object_new_array();
	for (size_t i = 0; i < json_object_array_length(pids); i++) {
		json_object *v = json_object_array_get_idx(pids, i);

		if (json_object_is_type(v, json_type_int))
			json_object_array_add(safe, json_object_new_int64(standin_safe_pid(json_object_get_int64(v))));
		else
			json_object_array_add(safe, json_object_get(v));
	}
	json_object_object_add(call.parameters, "pids", safe);
	if (vl_call_format(call.method, call.parameters, call.more, call.oneway, ret, ret_len) < 0)
		fail("vl_call_format");
	vl_call_done(&call);
	return true;
}

/* Send one message (len bytes, without its NUL), maybe in halves, maybe run the loop after. */
static bool send_message(struct daemon *d, struct client *c, const char *msg, size_t len, bool split,
			 bool run)
{
	char *safe = NULL, *buf;
	size_t safe_len = 0, half;
	bool ok, wants_reply;

	if (sanitize(msg, len, &safe, &safe_len, &wants_reply)) {
		buf = safe;
		len = safe_len; /* NUL included */
	} else {
		buf = malloc(len + 1);
		if (!buf)
			fail("out of memory");
		memcpy(buf, msg, len);
		buf[len++] = '\0';
	}
	half = split ? len / 2 : len;
	ok = client_send(d, c, buf, half);
	if (ok && half < len) {
		pump(d, c);
		ok = client_send(d, c, buf + half, len - half);
	}
	free(buf);
	c->calls += ok && wants_reply;
	if (ok && run)
		pump(d, c);
	return ok;
}

/* Raw mode: the stream, split at NULs only to fence pids, trailing bytes sent as they are. */
static void run_raw(struct daemon *d, struct client *c, const uint8_t *p, size_t n, bool split)
{
	while (n > 0) {
		const uint8_t *nul = memchr(p, '\0', n);
		size_t len = nul ? (size_t)(nul - p) : n;

		if (!nul) {
			/* An unfinished message: the daemon waits for the rest. */
			if (client_send(d, c, (const char *)p, len))
				pump(d, c);
			return;
		}
		if (!send_message(d, c, (const char *)p, len, split, true))
			return;
		p += len + 1;
		n -= len + 1;
	}
}

/* Structured mode: one call a line. */
static void run_structured(struct daemon *d, struct client *c, const uint8_t *p, size_t n, bool split)
{
	while (n >= 2) {
		const uint8_t *nl = memchr(p, '\n', n);
		size_t line = nl ? (size_t)(nl - p) : n, plen = line >= 2 ? line - 2 : 0;
		const char *method = methods[(uint8_t)(p[0] - 'a') % 16];
		unsigned flags = line >= 2 ? p[1] & 15 : 0;
		char *msg = NULL;
		int len;

		len = asprintf(&msg, "{\"method\":\"%s\"%s%.*s%s%s%s}", method, plen ? ",\"parameters\":" : "",
			       (int)plen, (const char *)p + 2, flags & 1 ? ",\"more\":true" : "",
			       flags & 2 ? ",\"oneway\":true" : "", flags & 4 ? ",\"upgrade\":true" : "");
		if (len < 0)
			fail("asprintf");
		/* A NUL inside the parameters ends the message there, as on the wire. */
		len = (int)strnlen(msg, (size_t)len);
		bool ok = send_message(d, c, msg, (size_t)len, split, !(flags & 8));
		free(msg);
		if (!ok)
			return;
		if (!nl)
			break;
		p += line + 1;
		n -= line + 1;
	}
	pump(d, c);
}

/*
 * After the daemon stopped: its ledger opens without dropping a record, every
 * entry's directory exists, and every directory it made and left is recorded.
 */
static void check_ledger_matches_tree(void)
{
	struct ledger *l = NULL;
	struct ledger_stats st;
	struct ledger_entry **all = NULL;
	size_t n = 0;
	char path[PATH_MAX];
	struct stat sb;

	if (ledger_open(G.state, &l) < 0)
		fail("the ledger the daemon left does not open");
	ledger_get_stats(l, &st);
	if (st.dropped_records > 0)
		fail("the ledger the daemon left has records its loader drops");
	if (ledger_list(l, &all, &n) < 0)
		fail("ledger_list");
	for (size_t i = 0; i < n; i++) {
		char *rel = NULL;

		if (cgname_to_path(all[i]->name, &rel) < 0) {
			fprintf(stderr, "entry: %s\n", all[i]->name);
			fail("the ledger holds an invalid name");
		}
		snprintf(path, sizeof(path), "%s/%s", standin_root(), rel);
		if (stat(path, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
			fprintf(stderr, "entry: %s (%s)\n", all[i]->name, ledger_state_to_string(all[i]->state));
			fail("the ledger names a cgroup that does not exist");
		}
		free(rel);
	}
	for (size_t i = 0; i < standin_n_made(); i++) {
		char *name = NULL;

		snprintf(path, sizeof(path), "%s/%s", standin_root(), standin_made(i));
		if (stat(path, &sb) < 0)
			continue;
		if (cgname_from_path(standin_made(i), &name) < 0 || !ledger_get(l, name)) {
			fprintf(stderr, "directory: %s\n", standin_made(i));
			fail("the daemon left a cgroup it made but does not record");
		}
		free(name);
	}
	free(all);
	ledger_close(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct daemon d;
	struct client c;
	uint8_t mode;

	if (size < 1)
		return 0;
	mode = data[0];
	reset_state();
	standin_armed = true;
	daemon_start(&d);
	standin_armed = false;
	client_connect(&d, &c);
	c.deaf = mode & 16;

	if (mode & 1)
		run_raw(&d, &c, data + 1, size - 1, mode & 4);
	else
		run_structured(&d, &c, data + 1, size - 1, mode & 4);
	if ((mode & 0x28) == 0x28)
		let_time_pass(&d, &c);
	c.deaf = false;

	if (mode & 2) {
		/* The client goes first: its watches end, its leases are released. */
		close(c.fd);
		c.fd = -1;
		pump(&d, &c);
	}
	standin_armed = true;
	daemon_stop(&d);
	standin_armed = false;
	if (c.fd >= 0) {
		client_drain(&c);
		close(c.fd);
	}
	vl_framer_free(&c.in);
	check_ledger_matches_tree();
	return 0;
}
