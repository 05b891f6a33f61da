// SPDX-License-Identifier: MIT
/* test_attach.c: Check suite for daemon/attach.c's systemd fallback against a fake user manager. */

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/attach.h"
#include "../../daemon/manager_internal.h"
#include "testutil.h"

#define TEST_PID 4242

/* What the fake user manager does with each connection. */
enum peer_mode {
	PEER_OK,   /* answers the expected call with success, anything else with an error */
	PEER_DENY, /* answers with org.freedesktop.DBus.Error.AccessDenied */
	PEER_DROP, /* reads the call, hangs up */
	PEER_HANG, /* reads the call, never answers */
};

static char base[] = "/tmp/attach-test.XXXXXX";
static char sock_path[128];
static struct event_base *evb;
static struct manager m;
static pid_t peer_pid = -1;
static int listen_fd = -1;

/* What done() saw. */
static struct {
	unsigned calls;
	int r;
} seen;

/* Microseconds on the monotonic clock. */
static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Open descriptors of this process. */
static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* An XDG_RUNTIME_DIR of our own with no user manager and no session bus yet; a loop; a manager. */
static void setup(void)
{
	char bus[160];

	tu_scratch(base, sizeof(base), "attach-test");
	ck_assert_int_lt(snprintf(sock_path, sizeof(sock_path), "%s/systemd/private", base), sizeof(sock_path));
	ck_assert_int_lt(snprintf(bus, sizeof(bus), "unix:path=%s/bus", base), sizeof(bus));
	ck_assert_int_eq(setenv("XDG_RUNTIME_DIR", base, 1), 0);
	ck_assert_int_eq(setenv("DBUS_SESSION_BUS_ADDRESS", bus, 1), 0);
	ck_assert_int_eq(setenv("CGCTLD_SYSTEMD_TIMEOUT_MS", "600", 1), 0);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	memset(&m, 0, sizeof(m));
	m.base = evb;
	m.rootfd = -1;
	m.disc.own_path = "/sys/fs/cgroup/user.slice/cgctld.service";
	m.root_path = "/sys/fs/cgroup/user.slice/cgctld.service";
	seen.calls = 0;
	seen.r = 1;
}

/* Stop the fake, free the loop, remove the tree. */
static void teardown(void)
{
	if (peer_pid > 0) {
		kill(peer_pid, SIGKILL);
		waitpid(peer_pid, NULL, 0);
		peer_pid = -1;
	}
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	event_base_free(evb);
	tu_rm_tree(base);
}

/* Listen on $XDG_RUNTIME_DIR/systemd/private (nobody accepts until a peer is forked). */
static void peer_listen(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[160];

	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/systemd", base), sizeof(dir));
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(listen_fd, 0);
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(listen_fd, 256), 0);
}

/* Read until buf holds n bytes; false at EOF. */
static bool peer_fill(int fd, char *buf, size_t *have, size_t n, size_t size)
{
	while (*have < n) {
		ssize_t k = read(fd, buf + *have, size - *have);
		if (k <= 0)
			return false;
		*have += (size_t)k;
	}
	return true;
}

/* Drop the first n bytes of buf. */
static void peer_consume(char *buf, size_t *have, size_t n)
{
	memmove(buf, buf + n, *have - n);
	*have -= n;
}

/* Server side of sd-bus's SASL exchange, up to BEGIN; false on EOF. */
static bool peer_auth(int fd, char *buf, size_t *have, size_t size)
{
	static const char ok[] = "OK 0123456789abcdef0123456789abcdef\r\n";
	char *eol;

	if (!peer_fill(fd, buf, have, 1, size) || buf[0] != '\0')
		return false;
	peer_consume(buf, have, 1);
	for (;;) {
		const char *reply = "ERROR\r\n";
		size_t len;

		while (!(eol = memmem(buf, *have, "\r\n", 2)))
			if (!peer_fill(fd, buf, have, *have + 1, size))
				return false;
		len = (size_t)(eol - buf);
		if (len == 5 && memcmp(buf, "BEGIN", 5) == 0) {
			peer_consume(buf, have, len + 2);
			return true;
		}
		if (len == 13 && memcmp(buf, "AUTH EXTERNAL", 13) == 0)
			reply = "DATA\r\n"; /* newer sd-bus sends the identity in a DATA line */
		else if (len > 13 && memcmp(buf, "AUTH EXTERNAL ", 14) == 0)
			reply = ok;
		else if (len >= 4 && memcmp(buf, "DATA", 4) == 0)
			reply = ok;
		else if (len == 17 && memcmp(buf, "NEGOTIATE_UNIX_FD", 17) == 0)
			reply = "AGREE_UNIX_FD\r\n";
		ck_assert_int_eq(write(fd, reply, strlen(reply)), (ssize_t)strlen(reply));
		peer_consume(buf, have, len + 2);
	}
}

/* The next message (little-endian, as sd-bus writes); its serial, 0 at EOF. */
static uint32_t peer_message(int fd, char *buf, size_t *have, size_t size, size_t *ret_len)
{
	uint32_t body, serial, fields;
	size_t total;

	if (!peer_fill(fd, buf, have, 16, size))
		return 0;
	memcpy(&body, buf + 4, 4);
	memcpy(&serial, buf + 8, 4);
	memcpy(&fields, buf + 12, 4);
	total = ((16 + (size_t)fields + 7) & ~(size_t)7) + body;
	ck_assert_uint_le(total, size);
	if (!peer_fill(fd, buf, have, total, size))
		return 0;
	*ret_len = total;
	return serial;
}

/* Is msg the call attach.c must make: AttachProcessesToUnit("", "/o", [TEST_PID])? */
static bool peer_call_ok(const char *msg, size_t len)
{
	uint32_t pid = TEST_PID;

	return memmem(msg, len, "/org/freedesktop/systemd1", 25) && memmem(msg, len, "AttachProcessesToUnit", 21) &&
	       memmem(msg, len, "ssau", 4) && memmem(msg, len, "\2\0\0\0/o\0", 7) &&
	       len >= 4 && memcmp(msg + len - 4, &pid, 4) == 0;
}

/* Append len bytes to msg at *n, after zero padding to a multiple of align. */
static void put(char *msg, size_t *n, size_t align, const void *data, size_t len)
{
	while (*n % align)
		msg[(*n)++] = '\0';
	memcpy(msg + *n, data, len);
	*n += len;
}

/* Send a method return, or an AccessDenied error, for serial. */
static void peer_answer(int fd, uint32_t serial, bool success)
{
	static const char name[] = "org.freedesktop.DBus.Error.AccessDenied", text[] = "fake says no";
	uint32_t one = 1, name_len = sizeof(name) - 1, text_len = sizeof(text) - 1, fields, body = 0;
	char msg[256] = { 'l', 2, 1, 1 };
	size_t n = 16, hdr;

	if (!success) {
		msg[1] = 3;
		/* ERROR_NAME (4, "s"), SIGNATURE (8, "g") = "s". */
		put(msg, &n, 8, "\4\1s\0", 4);
		put(msg, &n, 4, &name_len, 4);
		put(msg, &n, 1, name, sizeof(name));
		put(msg, &n, 8, "\10\1g\0\1s\0", 7);
	}
	/* REPLY_SERIAL (5, "u"). */
	put(msg, &n, 8, "\5\1u\0", 4);
	put(msg, &n, 4, &serial, 4);
	fields = (uint32_t)(n - 16);
	put(msg, &n, 8, "", 0);
	hdr = n;
	if (!success) {
		put(msg, &n, 4, &text_len, 4);
		put(msg, &n, 1, text, sizeof(text));
		body = (uint32_t)(n - hdr);
	}
	memcpy(msg + 4, &body, 4);
	memcpy(msg + 8, &one, 4);
	memcpy(msg + 12, &fields, 4);
	ck_assert_int_eq(write(fd, msg, n), (ssize_t)n);
}

/* The fake user manager, in a child: one connection after the other, as mode says. */
static void peer_start(enum peer_mode mode)
{
	peer_listen();
	peer_pid = fork();
	ck_assert_int_ge(peer_pid, 0);
	if (peer_pid > 0)
		return;
	for (;;) {
		static char buf[65536];
		size_t have = 0, len = 0;
		uint32_t serial;
		int fd = accept(listen_fd, NULL, NULL);

		if (fd < 0)
			_exit(1);
		if (!peer_auth(fd, buf, &have, sizeof(buf)) || !(serial = peer_message(fd, buf, &have, sizeof(buf), &len))) {
			close(fd);
			continue;
		}
		if (mode == PEER_HANG)
			continue; /* fd stays open, unanswered */
		if (mode != PEER_DROP)
			peer_answer(fd, serial, mode == PEER_OK && peer_call_ok(buf, len));
		close(fd);
	}
}

/* done() for attach_via_systemd(). */
static void done_cb(void *arg, int r)
{
	seen.calls++;
	seen.r = r;
}

/* A timer tick: proof that the loop runs. */
static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
	(*(unsigned *)arg)++;
}

/* Run the loop until done() ran want times, at most limit_ms. */
/*
 * How long run_until() waits for done(): only a hang misses it (speed is not
 * tested). It is below sd-bus's own timeouts (25 s and more), so a done()
 * within it that says -ETIMEDOUT came from CGCTLD_SYSTEMD_TIMEOUT_MS=600.
 */
#define HANG_MS 20000

static void run_until(unsigned want, unsigned limit_ms)
{
	uint64_t end = now_usec() + (uint64_t)limit_ms * 1000;

	while (seen.calls < want && now_usec() < end)
		event_base_loop(evb, EVLOOP_ONCE);
	ck_assert_uint_eq(seen.calls, want);
}

/* Ask for TEST_PID to be moved to "o"; done() must not have run yet. */
static void start(void)
{
	ck_assert_int_eq(attach_via_systemd(&m, "o", TEST_PID, done_cb, NULL), 0);
	ck_assert_uint_eq(seen.calls, 0);
	ck_assert_ptr_nonnull(m.attaches);
}

START_TEST(test_success)
{
	int fds;

	peer_start(PEER_OK);
	fds = fd_count();
	start();
	run_until(1, HANG_MS);
	ck_assert_int_eq(seen.r, 0);
	ck_assert_ptr_null(m.attaches);
	ck_assert_uint_eq(m.n_attaches, 0);
	ck_assert_int_eq(fd_count(), fds);
}
END_TEST

START_TEST(test_refused)
{
	peer_start(PEER_DENY);
	start();
	run_until(1, HANG_MS);
	ck_assert_int_eq(seen.r, -EACCES);
}
END_TEST

START_TEST(test_hang_up)
{
	peer_start(PEER_DROP);
	start();
	run_until(1, HANG_MS);
	ck_assert_int_eq(seen.r, -ECONNRESET);
}
END_TEST

START_TEST(test_timeout_loop_runs)
{
	struct timeval tv = { 0, 20000 };
	unsigned ticks = 0;
	struct event *tick = event_new(evb, -1, EV_PERSIST, tick_cb, &ticks);
	uint64_t t0;
	int fds;

	peer_start(PEER_HANG);
	fds = fd_count();
	ck_assert_int_eq(event_add(tick, &tv), 0);
	t0 = now_usec();
	start();
	run_until(1, HANG_MS);
	event_free(tick);
	ck_assert_int_eq(seen.r, -ETIMEDOUT);
	/* CGCTLD_SYSTEMD_TIMEOUT_MS=600 (and within HANG_MS: not sd-bus's timeout). */
	ck_assert_uint_ge(now_usec() - t0, 590000);
	/* The loop went on meanwhile (about 30 ticks of 20 ms; a wait that blocks it sees at most one). */
	ck_assert_uint_ge(ticks, 3);
	ck_assert_int_eq(fd_count(), fds);
}
END_TEST

START_TEST(test_timeout_covers_authentication)
{
	uint64_t t0;

	/* Nobody accepts: connect(2) succeeds, the authentication never does. */
	peer_listen();
	t0 = now_usec();
	start();
	run_until(1, HANG_MS);
	ck_assert_int_eq(seen.r, -ETIMEDOUT);
	/* CGCTLD_SYSTEMD_TIMEOUT_MS=600; within HANG_MS, so not sd-bus's own authentication timeout. */
	ck_assert_uint_ge(now_usec() - t0, 590000);
}
END_TEST

START_TEST(test_unreachable)
{
	int fds = fd_count();

	/* No private socket, no session bus: said at once, done() never runs. */
	ck_assert_int_eq(attach_via_systemd(&m, "o", TEST_PID, done_cb, NULL), -ENOENT);
	ck_assert_ptr_null(m.attaches);
	ck_assert_int_eq(fd_count(), fds);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(seen.calls, 0);
}
END_TEST

START_TEST(test_not_below_our_unit)
{
	m.root_path = "/sys/fs/cgroup/elsewhere";
	peer_start(PEER_OK);
	ck_assert_int_eq(attach_via_systemd(&m, "o", TEST_PID, done_cb, NULL), -EXDEV);
	ck_assert_uint_eq(seen.calls, 0);
}
END_TEST

START_TEST(test_limit_and_cancel)
{
	int fds;

	ck_assert_int_eq(setenv("CGCTLD_SYSTEMD_TIMEOUT_MS", "60000", 1), 0);
	peer_listen();
	fds = fd_count();
	for (unsigned i = 0; i < ATTACH_SYSTEMD_MAX; i++)
		ck_assert_int_eq(attach_via_systemd(&m, "o", TEST_PID, done_cb, NULL), 0);
	ck_assert_uint_eq(m.n_attaches, ATTACH_SYSTEMD_MAX);
	ck_assert_int_eq(attach_via_systemd(&m, "o", TEST_PID, done_cb, NULL), -EAGAIN);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(seen.calls, 0);
	/* The daemon stops: every request ends, once, and lets its socket go. */
	attach_cancel_all(&m);
	ck_assert_uint_eq(seen.calls, ATTACH_SYSTEMD_MAX);
	ck_assert_int_eq(seen.r, -ECANCELED);
	ck_assert_ptr_null(m.attaches);
	ck_assert_uint_eq(m.n_attaches, 0);
	ck_assert_int_eq(fd_count(), fds);
}
END_TEST

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

/* What the second thread of pidfd_thread publishes: its tid, then it waits to be let go. */
static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pid_t tid;
	bool go;
} th = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, false };

/* The second thread: say who it is, live until told. */
static void *thread_main(void *arg)
{
	pthread_mutex_lock(&th.lock);
	th.tid = (pid_t)syscall(SYS_gettid);
	pthread_cond_broadcast(&th.cond);
	while (!th.go)
		pthread_cond_wait(&th.cond, &th.lock);
	pthread_mutex_unlock(&th.lock);
	return arg;
}

/* A pidfd of a thread that leads no process is refused (cgroup.procs would move its whole process);
 * its process's pidfd, and a thread pidfd of the leader, give the process. */
START_TEST(test_pidfd_of_a_thread)
{
	pthread_t t;
	pid_t pid = -1;
	int fd;

	ck_assert_int_eq(pthread_create(&t, NULL, thread_main, NULL), 0);
	pthread_mutex_lock(&th.lock);
	while (!th.tid)
		pthread_cond_wait(&th.cond, &th.lock);
	pthread_mutex_unlock(&th.lock);
	fd = (int)syscall(SYS_pidfd_open, th.tid, PIDFD_THREAD);
	if (fd >= 0) {
		ck_assert_int_eq(attach_pidfd_to_pid(fd, &pid), -EINVAL);
		ck_assert_int_eq(pid, -1);
		close(fd);
	} else
		ck_assert_int_eq(errno, EINVAL); /* before Linux 6.9: no thread pidfds to refuse */
	fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(attach_pidfd_to_pid(fd, &pid), 0);
	ck_assert_int_eq(pid, getpid());
	close(fd);
	pthread_mutex_lock(&th.lock);
	th.go = true;
	pthread_cond_broadcast(&th.cond);
	pthread_mutex_unlock(&th.lock);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
}
END_TEST

/* Add a test case with the runtime-dir fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fn);
	suite_add_tcase(s, tc);
}

/* The attach suite. */
static Suite *attach_suite(void)
{
	Suite *s = suite_create("attach");

	add_tcase(s, "success", test_success);
	add_tcase(s, "refused", test_refused);
	add_tcase(s, "hang_up", test_hang_up);
	add_tcase(s, "timeout_loop_runs", test_timeout_loop_runs);
	add_tcase(s, "timeout_covers_authentication", test_timeout_covers_authentication);
	add_tcase(s, "unreachable", test_unreachable);
	add_tcase(s, "not_below_our_unit", test_not_below_our_unit);
	add_tcase(s, "limit_and_cancel", test_limit_and_cancel);
	add_tcase(s, "pidfd_of_a_thread", test_pidfd_of_a_thread);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(attach_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
