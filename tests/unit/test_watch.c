// SPDX-License-Identifier: MIT
/* test_watch.c: Check suite for the Watch and lease glue (daemon/watch.c, lease.c, app.c) over a socketpair. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/app.h"
#include "../../daemon/events.h"
#include "../../daemon/lease.h"
#include "../../daemon/manager_internal.h"
#include "../../daemon/server.h"
#include "../../daemon/watch.h"
#include "testutil.h"

#define TENANT 4242u   /* a uid that is neither root nor ours */
#define OTHER 4343u

/*
 * The real glue and transport, bound as main.c binds them, to a manager that
 * holds only a ledger: the domain's events are sent through its sink as
 * events.c sends them, and each client is one end of a socketpair adopted with
 * the uid the test says.
 */
static char base[] = "/tmp/watch-test.XXXXXX";
static struct event_base *evb;
static struct server *srv;
static struct manager m;
static struct app app;

/* A loop, a server serving the glue, a manager with a ledger and no cgroups. */
static void setup(void)
{
	char dir[128];

	tu_scratch(base, sizeof(base), "watch-test");
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/state", base), sizeof(dir));
	memset(&m, 0, sizeof(m));
	m.rootfd = -1;
	m.watchers_max = 3;
	ck_assert_int_eq(ledger_open(dir, &m.ledger), 0);
	srv = server_new();
	ck_assert_ptr_nonnull(srv);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	ck_assert_int_eq(event_base_priority_init(evb, SERVER_N_PRIOS), 0);
	app = (struct app){ .mgr = &m, .srv = srv };
	ck_assert_int_eq(server_start(srv, evb, &app_server_ops, &app), 0);
	watch_init(&app);
}

/* End the streams and connections, remove the tree. */
static void teardown(void)
{
	watch_stop(&app);
	m.stopping = true;
	server_free(srv);
	srv = NULL;
	event_base_free(evb);
	m.ledger = ledger_close(m.ledger);
	tu_rm_tree(base);
}

/* Run the loop's ready events n times without blocking. */
static void turns(int n)
{
	tu_turns(evb, n);
}

/* A client of uid; its end of the socketpair. */
static int client(uid_t uid, struct conn **ret)
{
	int sv[2];

	tu_socketpair(sv);
	*ret = server_adopt(srv, sv[0], uid, getpid());
	ck_assert_ptr_nonnull(*ret);
	return sv[1];
}

/* Send one NUL-terminated message. */
static void say(int fd, const char *msg)
{
	ck_assert_int_eq(send(fd, msg, strlen(msg) + 1, MSG_NOSIGNAL), (ssize_t)strlen(msg) + 1);
}

/* Everything fd has to read now, NUL separators made newlines ("" when nothing). */
static char *drain(int fd)
{
	static char buf[4 * 1024 * 1024];
	size_t len = 0;
	ssize_t n;

	turns(3);
	while (len < sizeof(buf) - 1 && (n = recv(fd, buf + len, sizeof(buf) - 1 - len, 0)) > 0)
		len += (size_t)n;
	for (size_t i = 0; i < len; i++)
		if (buf[i] == '\0')
			buf[i] = '\n';
	buf[len] = '\0';
	return buf;
}

/* A Watch call (more) with parameters params, made by a client of uid: the client's fd, its connection in *ret. */
static int watcher_c(uid_t uid, const char *params, struct conn **ret)
{
	char msg[512];
	struct conn *c;
	int fd = client(uid, &c);

	snprintf(msg, sizeof(msg), "{\"method\":\"io.cgctl.Manager.Watch\",\"more\":true,\"parameters\":%s}", params);
	say(fd, msg);
	ck_assert_ptr_nonnull(strstr(drain(fd), "\"type\":\"watching\""));
	/* The stream holds its connection: its Watch call is the current one. */
	ck_assert_ptr_nonnull(conn_current(c));
	*ret = c;
	return fd;
}

/* The same, when the connection does not matter. */
static int watcher(uid_t uid, const char *params)
{
	struct conn *c;

	return watcher_c(uid, params, &c);
}

/* A tenant hears of its own entries and of the daemon's, not of another's; an administrator of all. */
START_TEST(test_tenant_filter)
{
	int t = watcher(TENANT, "{}"), root = watcher(0, "{}");
	char *got;

	ck_assert_uint_eq(watch_count(&app), 2);
	events_emit_owned(&m, "populated", "mine", TENANT, NULL);
	events_emit_owned(&m, "populated", "theirs", OTHER, NULL);
	events_emit_owned(&m, "degraded", "", 0, NULL);
	got = drain(t);
	ck_assert_ptr_nonnull(strstr(got, "\"name\":\"mine\""));
	ck_assert_ptr_null(strstr(got, "theirs"));
	ck_assert_ptr_nonnull(strstr(got, "\"type\":\"degraded\""));
	got = drain(root);
	ck_assert_ptr_nonnull(strstr(got, "\"name\":\"mine\""));
	ck_assert_ptr_nonnull(strstr(got, "\"name\":\"theirs\""));
	close(t);
	close(root);
}
END_TEST

/* A Watch of names hears of those subtrees only. */
START_TEST(test_names_filter)
{
	int fd = watcher(0, "{\"names\":[\"a\"]}");
	char *got;

	events_emit_owned(&m, "populated", "a/b", 0, NULL);
	events_emit_owned(&m, "populated", "ab", 0, NULL);
	events_emit_owned(&m, "populated", "c", 0, NULL);
	got = drain(fd);
	ck_assert(strstr(got, "\"name\":\"a\\/b\"") || strstr(got, "\"name\":\"a/b\""));
	ck_assert_ptr_null(strstr(got, "\"name\":\"ab\""));
	ck_assert_ptr_null(strstr(got, "\"name\":\"c\""));
	close(fd);
}
END_TEST

/* A targeted event (a PSI trigger's) goes to its stream only. */
START_TEST(test_send_to_one)
{
	struct conn *ac;
	int a = watcher_c(0, "{}", &ac), b = watcher(0, "{}");
	char *got;

	/* The stream's handle (pressure_add()'s) is its Watch call; a's is the older one. */
	events_send(&m, conn_current(ac), "pressure", "", NULL);
	ck_assert_ptr_null(strstr(drain(b), "pressure"));
	got = drain(a);
	ck_assert_ptr_nonnull(strstr(got, "\"type\":\"pressure\""));
	close(a);
	close(b);
}
END_TEST

/* At most watchers_max streams: the next Watch gets QuotaExceeded and the connection goes on. */
START_TEST(test_watchers_max)
{
	int fds[3], fd;
	struct conn *c;

	for (int i = 0; i < 3; i++)
		fds[i] = watcher(0, "{}");
	fd = client(0, &c);
	say(fd, "{\"method\":\"io.cgctl.Manager.Watch\",\"more\":true,\"parameters\":{}}");
	ck_assert_ptr_nonnull(strstr(drain(fd), "QuotaExceeded"));
	ck_assert_uint_eq(watch_count(&app), 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	close(fd);
	turns(5);
	ck_assert_uint_eq(watch_count(&app), 0);
}
END_TEST

/* A tenant holds at most quota.watchers streams (watchers-per-uid); another tenant and root go on. */
START_TEST(test_watchers_per_uid)
{
	int t1, t2, o, r;
	struct conn *c;

	m.quota.watchers = 1;
	t1 = watcher(TENANT, "{}");
	t2 = client(TENANT, &c);
	say(t2, "{\"method\":\"io.cgctl.Manager.Watch\",\"more\":true,\"parameters\":{}}");
	ck_assert_ptr_nonnull(strstr(drain(t2), "watchers-per-uid"));
	ck_assert_uint_eq(watch_count_of(&app, TENANT), 1);
	o = watcher(OTHER, "{}");
	r = watcher(0, "{}");
	ck_assert_uint_eq(watch_count(&app), 3);
	ck_assert_uint_eq(watch_count_of(&app, OTHER), 1);
	close(t1);
	close(t2);
	close(o);
	close(r);
}
END_TEST

/*
 * A watcher that does not read is dropped with QuotaExceeded once its backlog
 * passes WATCH_BUFFER_MAX, in the middle of an emit, while the others keep
 * theirs; its connection's end reaches the glue only on a later loop turn.
 */
START_TEST(test_slow_watcher_dropped)
{
	struct conn *sc, *fc;
	int slow = watcher_c(TENANT, "{}", &sc), fast = watcher_c(0, "{}", &fc);
	json_object *d = json_object_new_object();
	char pad[64 * 1024];
	char *got;

	memset(pad, 'x', sizeof(pad) - 1);
	pad[sizeof(pad) - 1] = '\0';
	json_object_object_add(d, "pad", json_object_new_string(pad));
	for (int i = 0; i < 64 && watch_count(&app) == 2; i++) {
		events_emit_owned(&m, "oom", "mine", TENANT, json_object_get(d));
		drain(fast);
	}
	json_object_put(d);
	ck_assert_uint_eq(watch_count(&app), 1);
	ck_assert_ptr_null(conn_current(sc));
	ck_assert_ptr_nonnull(conn_current(fc));
	/* Dropping the stream closed no connection from inside the emit. */
	ck_assert(!conn_closed(sc));
	got = drain(slow);
	for (int i = 0; i < 400 && !strstr(got, "QuotaExceeded"); i++)
		got = drain(slow);
	ck_assert_ptr_nonnull(strstr(got, "QuotaExceeded"));
	close(slow);
	close(fast);
}
END_TEST

/*
 * A client that hung up makes the event's send fail inside events_emit():
 * the connection closes there, but its stream and its leases are let go
 * only on a later loop turn, not in the middle of the emit (an operation
 * such as Create emits while its own state is half made).
 */
START_TEST(test_send_failure_defers_disconnect)
{
	struct ledger_entry e = { .name = "held", .state = LEDGER_ACTIVE, .lease = true, .cgroup_id = 9 };
	struct ledger_entry *le;
	struct conn *c;
	int fd = watcher_c(0, "{}", &c);

	ck_assert_int_eq(ledger_put(m.ledger, &e, &le), 0);
	ck_assert_int_eq(lease_take(&app, le, c), 0);
	close(fd);
	events_emit_owned(&m, "populated", "held", 0, NULL);
	ck_assert(conn_closed(c));
	/* Still listed, lease still held: nothing of the glue ran from inside the emit. */
	ck_assert_uint_eq(watch_count(&app), 1);
	ck_assert_ptr_nonnull(conn_get_data(c));
	m.stopping = true; /* the release itself needs a real manager: here only its timing is tested */
	turns(3);
	ck_assert_uint_eq(watch_count(&app), 0);
	ck_assert_uint_eq(server_conn_count(srv), 0);
}
END_TEST

/* A lease names this very entry; the daemon stopping releases nothing; the list goes with the connection. */
START_TEST(test_lease_kept_while_stopping)
{
	struct ledger_entry e = { .name = "leased", .state = LEDGER_ACTIVE, .lease = true, .cgroup_id = 7 };
	struct ledger_entry *le;
	struct conn *c;
	int fd = client(TENANT, &c);

	ck_assert_int_eq(ledger_put(m.ledger, &e, &le), 0);
	ck_assert_int_eq(lease_take(&app, le, c), 0);
	ck_assert_ptr_nonnull(conn_get_data(c));
	m.stopping = true;
	close(fd);
	turns(5);
	ck_assert_uint_eq(server_conn_count(srv), 0);
	ck_assert_ptr_nonnull(ledger_get(m.ledger, "leased"));
}
END_TEST

/* Add one test case with the fixture. */
static void add_tcase(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

/* The suite. */
static Suite *watch_suite(void)
{
	Suite *s = suite_create("watch");

	add_tcase(s, "tenant_filter", test_tenant_filter);
	add_tcase(s, "watchers_per_uid", test_watchers_per_uid);
	add_tcase(s, "names_filter", test_names_filter);
	add_tcase(s, "send_to_one", test_send_to_one);
	add_tcase(s, "watchers_max", test_watchers_max);
	add_tcase(s, "slow_watcher_dropped", test_slow_watcher_dropped);
	add_tcase(s, "send_failure_defers_disconnect", test_send_failure_defers_disconnect);
	add_tcase(s, "lease_kept_while_stopping", test_lease_kept_while_stopping);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(watch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
