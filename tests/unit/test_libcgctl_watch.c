/* SPDX-License-Identifier: MIT */
/* test_libcgctl_watch.c: libcgctl's streaming calls (Watch, raw "more" calls) against a fake cgctld. */

#include <check.h>

#include "fakepeer.h"
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../client/cgctl.h"
#include "../../client/libcgctl-internal.h"

/* A fake daemon: a listening socket in a temp dir, served by a forked child. */
struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

/* One step of the fake's plan. */
enum act_kind { ACT_END, ACT_CALL, ACT_SEND, ACT_SLEEP, ACT_HANGUP };
struct act {
	enum act_kind kind;
	const char *s;      /* ACT_CALL: the method; ACT_SEND: the bytes */
	size_t len;         /* ACT_SEND */
	bool more;          /* ACT_CALL: the call must (not) ask for more */
	const char *params; /* ACT_CALL: its parameters must equal these (NULL: unchecked) */
	int ms;             /* ACT_SLEEP */
};

#define CALL(m, mo, p) { .kind = ACT_CALL, .s = (m), .more = (mo), .params = (p) }
/* Raw bytes, NULs included: spell each message's terminating "\0" out. */
#define SEND(lit) { .kind = ACT_SEND, .s = (lit), .len = sizeof(lit) - 1 }
#define SLEEP(n) { .kind = ACT_SLEEP, .ms = (n) }
#define HANGUP { .kind = ACT_HANGUP }
#define END { .kind = ACT_END }

/* A Watch reply carrying one event, NUL-terminated. */
#define EV(type, name, ts, details) \
	"{\"parameters\":{\"event\":{\"type\":\"" type "\",\"name\":\"" name "\",\"timestamp\":" ts \
	",\"details\":" details "}},\"continues\":true}\0"
#define WATCHING EV("watching", "", "1700000000000000", "null")
#define WATCH "io.cgctl.Manager.Watch"
#define QUOTA_ERROR \
	"{\"error\":\"io.cgctl.Manager.QuotaExceeded\",\"parameters\":{\"limit\":\"watch-buffer\"," \
	"\"message\":\"more than 1048576 bytes of events unread\"}}\0"

/* ---- the child's side ---- */

/* Check a call against a CALL step; 0 when it matches. */
static int srv_check_call(const char *msg, const struct act *a)
{
	json_object *o = json_tokener_parse(msg), *m = NULL, *mo = NULL, *p = NULL, *want = NULL;
	bool more;
	int r = 1;

	if (o && json_object_object_get_ex(o, "method", &m) && strcmp(json_object_get_string(m), a->s) == 0) {
		more = json_object_object_get_ex(o, "more", &mo) && json_object_get_boolean(mo);
		if (!json_object_object_get_ex(o, "parameters", &p))
			p = NULL;
		want = a->params ? json_tokener_parse(a->params) : NULL;
		r = more != a->more || (a->params && (!p || !json_object_equal(p, want)));
	}
	if (r)
		fprintf(stderr, "fake server: expected %s (more %d, params %s), got %s\n", a->s, a->more,
			a->params ? a->params : "-", msg);
	json_object_put(want);
	json_object_put(o);
	return r;
}

/* Follow a plan; at its end, wait for the hang-up. */
static int serve_plan(int fd, const void *arg)
{
	const struct act *a;
	char msg[8192];

	for (a = arg; a->kind != ACT_END; a++) {
		switch (a->kind) {
		case ACT_CALL:
			if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
				return 10;
			if (srv_check_call(msg, a))
				return 11;
			break;
		case ACT_SEND:
			if (srv_write(fd, a->s, a->len) < 0)
				return 12;
			break;
		case ACT_SLEEP:
			usleep((useconds_t)a->ms * 1000u);
			break;
		case ACT_HANGUP:
			return 0;
		case ACT_END:
			break;
		}
	}
	/* Anything the client sent that the plan did not expect is a failure. */
	return srv_drain(fd) ? 13 : 0;
}

/* ---- the test's side ---- */

/* Listen in a fresh temp dir and fork the child that serves one connection. */
static cgctl *fake_connect(struct fake *f, const struct act *plan)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	cgctl *c = NULL;
	int lfd, cfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_libcgctl_watch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	ck_assert_int_lt(snprintf(f->path, sizeof(f->path), "%s/sock", f->dir), (int)sizeof(f->path));
	memcpy(sa.sun_path, f->path, strlen(f->path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	f->pid = fork();
	ck_assert_int_ge(f->pid, 0);
	if (f->pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		_exit(cfd < 0 ? 20 : serve_plan(cfd, plan));
	}
	close(lfd);
	ck_assert_int_eq(cgctl_connect(f->path, &c), 0);
	return c;
}

/* Disconnect, reap the child, remove the temp dir; assert that the fake followed its plan. */
static void fake_finish(struct fake *f, cgctl *c)
{
	int status = -1;

	cgctl_disconnect(c);
	ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fake server status %d", status);
}

/* CLOCK_MONOTONIC in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next event, which must be of type and about name. */
static struct cgctl_event *expect_event(cgctl *c, int timeout_ms, const char *type, const char *name)
{
	struct cgctl_event *e = NULL;

	ck_assert_int_eq(cgctl_watch_next(c, timeout_ms, &e), 1);
	ck_assert(CGCTL_HAS(e, details_json));
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->type, type);
	ck_assert_str_eq(e->name, name);
	return e;
}

START_TEST(test_watch_several_in_one_read)
{
	static const struct act plan[] = {
		CALL(WATCH, true, "{\"names\":[\"web\",\"db/x\"]}"),
		SEND(WATCHING
		     EV("created", "web/a", "1700000000000001", "null")
		     EV("limits", "web/a", "1700000000000002", "{\"pids_max\":\"10\"}")
		     EV("populated", "db/x", "1700000000000003", "null")),
		END
	};
	static const char *const names[] = { "web", "db/x", NULL };
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e;

	ck_assert_int_eq(cgctl_watch(c, names), 0);
	ck_assert_ptr_null(cgctl_error_name(c));
	/* The "watching" reply is cgctl_watch()'s; the first event is the first change. */
	e = expect_event(c, 1000, "created", "web/a");
	ck_assert_uint_eq(e->timestamp_usec, 1700000000000001ull);
	ck_assert_ptr_null(e->details_json);
	cgctl_event_free(e);
	e = expect_event(c, 1000, "limits", "web/a");
	ck_assert_str_eq(e->details_json, "{\"pids_max\":\"10\"}");
	cgctl_event_free(e);
	e = expect_event(c, 1000, "populated", "db/x");
	ck_assert_uint_eq(e->timestamp_usec, 1700000000000003ull);
	cgctl_event_free(e);
	cgctl_event_free(NULL);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_split_across_reads)
{
	static const struct act plan[] = {
		CALL(WATCH, true, "{}"),
		/* The confirmation in two pieces, then an event dribbled out, then one and a half. */
		SEND("{\"parameters\":{\"event\":{\"type\":\"watch"), SLEEP(30),
		SEND("ing\",\"name\":\"\",\"timestamp\":1,\"details\":null}},\"continues\":true}\0"),
		SEND("{\"parameters\":{\"eve"), SLEEP(30), SEND("nt\":{\"type\":\"empty\",\"na"), SLEEP(30),
		SEND("me\":\"a/b\",\"timestamp\":7,\"details\":null}},\"continues\":tr"), SLEEP(30),
		SEND("ue}"), SLEEP(30), SEND("\0"),
		SEND(EV("frozen", "c", "8", "null") "{\"parameters\":{\"event\":{\"type\":\"thawed\","),
		SLEEP(100),
		SEND("\"name\":\"c\",\"timestamp\":9,\"details\":null}},\"continues\":true}\0"),
		END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e;

	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	e = expect_event(c, 2000, "empty", "a/b");
	ck_assert_uint_eq(e->timestamp_usec, 7);
	cgctl_event_free(e);
	cgctl_event_free(expect_event(c, 2000, "frozen", "c"));
	/* Half an event read, the rest not yet sent: a short wait times out without losing it. */
	ck_assert_int_eq(cgctl_watch_next(c, 10, &e), 0);
	cgctl_event_free(expect_event(c, 2000, "thawed", "c"));
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_final_error)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL),
		SEND(WATCHING EV("removed", "x", "5", "null") QUOTA_ERROR),
		/* The connection is in step after the error: a plain call works. */
		CALL("io.cgctl.Manager.GetStatus", false, NULL),
		SEND("{\"parameters\":{\"n\":1}}\0"),
		END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e = NULL;
	char *reply = NULL;

	ck_assert_int_eq(cgctl_watch(c, (const char *const[]){ NULL }), 0);
	cgctl_event_free(expect_event(c, 1000, "removed", "x"));
	ck_assert_int_eq(cgctl_watch_next(c, 1000, &e), -EDQUOT);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.QuotaExceeded");
	ck_assert_str_eq(cgctl_error_message(c), "more than 1048576 bytes of events unread");
	/* Reading on says the same: the watch is over. */
	ck_assert_int_eq(cgctl_watch_next(c, 1000, &e), -EDQUOT);
	ck_assert_int_eq(cgctl_call(c, "GetStatus", NULL, &reply), 0);
	ck_assert_str_eq(reply, "{\"n\":1}");
	free(reply);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_eof)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL),
		SEND(WATCHING EV("created", "x", "5", "null") "{\"parameters\":{\"event\""),
		HANGUP
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e = NULL;
	char *reply = NULL;

	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	cgctl_event_free(expect_event(c, 1000, "created", "x"));
	/* The daemon went away halfway through an event. */
	ck_assert_int_eq(cgctl_watch_next(c, 2000, &e), -ECONNRESET);
	ck_assert_ptr_null(cgctl_error_name(c));
	ck_assert_int_eq(cgctl_watch_next(c, 2000, &e), -ENOTCONN);
	ck_assert_int_eq(cgctl_call(c, "GetStatus", NULL, &reply), -ENOTCONN);
	ck_assert_ptr_null(e);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_timeouts)
{
	static const struct act plan[] = {
		/* The event comes long after the 100 ms timeout, however slow the machine. */
		CALL(WATCH, true, NULL), SEND(WATCHING), SLEEP(1500), SEND(EV("oom", "m", "3", "{\"count\":2}")),
		SLEEP(300), SEND(EV("oom_kill", "m", "4", "{\"count\":1}")), END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e = NULL;
	long long t0, dt;

	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	t0 = now_ms();
	ck_assert_int_eq(cgctl_watch_next(c, 0, &e), 0);
	ck_assert_int_eq(cgctl_watch_next(c, 100, &e), 0);
	dt = now_ms() - t0;
	ck_assert_int_ge(dt, 100);
	/* Timed out, without the event (it comes later): not a speed check. */
	ck_assert_ptr_null(e);
	/* A timeout does not break anything: the event still comes. */
	e = expect_event(c, 5000, "oom", "m");
	ck_assert_str_eq(e->details_json, "{\"count\":2}");
	cgctl_event_free(e);
	/* A negative timeout waits as long as it takes. */
	cgctl_event_free(expect_event(c, -1, "oom_kill", "m"));
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_busy)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL), SEND(WATCHING), SLEEP(50), SEND(EV("created", "x", "5", "null")), END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_entry **l = NULL;
	char *reply = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	/* Nothing else may go on the connection while it streams. */
	ck_assert_int_eq(cgctl_list(c, NULL, &l, &n), -EBUSY);
	ck_assert_int_eq(cgctl_call(c, "GetStatus", NULL, &reply), -EBUSY);
	ck_assert_int_eq(cgctl_watch(c, NULL), -EBUSY);
	ck_assert_int_eq(cgctl_call_more(c, "Watch", "{}"), -EBUSY);
	ck_assert_int_eq(cgctl_destroy(c, "x", 0, NULL), -EBUSY);
	ck_assert_ptr_null(reply);
	/* And the stream is none the worse for it. */
	cgctl_event_free(expect_event(c, 2000, "created", "x"));
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_poll_fd)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL), SEND(WATCHING), SLEEP(100),
		SEND(EV("created", "a", "1", "null") EV("created", "b", "2", "null") EV("created", "c", "3", "null")),
		END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	static const char *const want[] = { "a", "b", "c" };
	struct cgctl_event *e = NULL;
	struct pollfd p;
	int n = 0, r;

	ck_assert_int_eq(cgctl_watch_fd(NULL), -EINVAL);
	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	p = (struct pollfd){ .fd = cgctl_watch_fd(c), .events = POLLIN };
	ck_assert_int_ge(p.fd, 0);
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	/* Let the whole write arrive, then read until 0. */
	usleep(50000);
	while ((r = cgctl_watch_next(c, 0, &e)) == 1) {
		ck_assert_int_lt(n, 3);
		ck_assert_str_eq(e->name, want[n]);
		cgctl_event_free(e);
		n++;
	}
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(n, 3);
	/* Drained: the socket is quiet and nothing is left behind in the library. */
	ck_assert_int_eq(poll(&p, 1, 100), 0);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_refused)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL),
		SEND("{\"error\":\"io.cgctl.Manager.QuotaExceeded\",\"parameters\":{\"limit\":\"watchers\","
		     "\"message\":\"at most 256 watchers at once\"}}\0"),
		CALL("io.cgctl.Manager.GetStatus", false, NULL), SEND("{\"parameters\":{}}\0"),
		END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e = NULL;
	char *reply = NULL;

	ck_assert_int_eq(cgctl_watch(c, NULL), -EDQUOT);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.QuotaExceeded");
	ck_assert_str_eq(cgctl_error_message(c), "at most 256 watchers at once");
	/* No watch: nothing to read, and the connection serves other calls. */
	ck_assert_int_eq(cgctl_watch_next(c, 0, &e), -EINVAL);
	ck_assert_int_eq(cgctl_call(c, "GetStatus", NULL, &reply), 0);
	free(reply);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_invalid_name_local)
{
	static const struct act plan[] = { END };
	struct fake f;
	cgctl *c = fake_connect(&f, plan);

	ck_assert_int_eq(cgctl_watch(c, (const char *const[]){ "ok", "../x", NULL }), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidName");
	ck_assert_int_eq(cgctl_watch(NULL, NULL), -EINVAL);
	ck_assert_int_eq(cgctl_watch_next(c, 0, NULL), -EINVAL);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_not_confirmed)
{
	static const struct act loop_plan[][3] = {
		/* Not the "watching" event first. */
		{ CALL(WATCH, true, NULL), SEND(EV("created", "x", "1", "null")), END },
		/* Not an event at all. */
		{ CALL(WATCH, true, NULL), SEND("{\"parameters\":{},\"continues\":true}\0"), END },
		/* Nothing within the handle's timeout. */
		{ CALL(WATCH, true, NULL), END },
	};
	struct fake f;
	cgctl *c = fake_connect(&f, loop_plan[_i]);
	char *reply = NULL;

	ck_assert_int_eq(cgctl_set_timeout(c, 200), 0);
	ck_assert_int_eq(cgctl_watch(c, NULL), _i == 2 ? -ETIMEDOUT : -EPROTO);
	/* The stream is in an unknown state: the connection is given up. */
	ck_assert_int_eq(cgctl_call(c, "GetStatus", NULL, &reply), -ENOTCONN);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_watch_ended_by_final_reply)
{
	static const struct act plan[] = {
		CALL(WATCH, true, NULL), SEND(WATCHING "{\"parameters\":{}}\0"), END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	struct cgctl_event *e = NULL;

	ck_assert_int_eq(cgctl_watch(c, NULL), 0);
	ck_assert_int_eq(cgctl_watch_next(c, 1000, &e), -ESHUTDOWN);
	ck_assert_int_eq(cgctl_watch_next(c, 1000, &e), -ESHUTDOWN);
	ck_assert_ptr_null(e);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_call_more)
{
	static const struct act plan[] = {
		CALL("org.example.Stream", true, "{\"n\":2}"),
		SEND("{\"parameters\":{\"i\":1},\"continues\":true}\0{\"parameters\":{\"i\":2},\"continues\":true}\0"),
		SLEEP(50), SEND("{\"parameters\":{\"i\":3}}\0"),
		CALL("io.cgctl.Manager.Watch", true, "{}"),
		SEND("{\"error\":\"io.cgctl.Manager.InvalidValue\",\"parameters\":{\"field\":\"more\",\"message\":\"no\"}}\0"),
		END
	};
	struct fake f;
	cgctl *c = fake_connect(&f, plan);
	char *reply = NULL;
	int continues = -1;

	ck_assert_int_eq(cgctl_call_more_next(c, 0, &reply, &continues), -EINVAL);
	ck_assert_int_eq(cgctl_call_more(c, "org.example.Stream", "[1]"), -EINVAL);
	ck_assert_int_eq(cgctl_call_more(c, "org.example.Stream", "{\"n\":2}"), 0);
	ck_assert_int_eq(cgctl_call_more_next(c, 1000, &reply, &continues), 1);
	ck_assert_str_eq(reply, "{\"i\":1}");
	ck_assert_int_eq(continues, 1);
	free(reply);
	ck_assert_int_eq(cgctl_call_more_next(c, 1000, &reply, NULL), 1);
	ck_assert_str_eq(reply, "{\"i\":2}");
	free(reply);
	ck_assert_int_eq(cgctl_call_more_next(c, 1000, &reply, &continues), 1);
	ck_assert_str_eq(reply, "{\"i\":3}");
	ck_assert_int_eq(continues, 0);
	free(reply);
	reply = NULL;
	ck_assert_int_eq(cgctl_call_more_next(c, 1000, &reply, &continues), -ESHUTDOWN);
	ck_assert_ptr_null(reply);
	/* A bare name is io.cgctl.Manager's; an error ends the stream and brings its parameters. */
	ck_assert_int_eq(cgctl_call_more(c, "Watch", NULL), 0);
	ck_assert_int_eq(cgctl_call_more_next(c, 1000, &reply, &continues), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_str_eq(reply, "{\"field\":\"more\",\"message\":\"no\"}");
	free(reply);
	fake_finish(&f, c);
}
END_TEST

/* The suite: one case per behaviour. */
static Suite *watch_suite(void)
{
	Suite *s = suite_create("libcgctl_watch");
	TCase *tc;

	tc = tcase_create("watch");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_watch_several_in_one_read);
	tcase_add_test(tc, test_watch_split_across_reads);
	tcase_add_test(tc, test_watch_final_error);
	tcase_add_test(tc, test_watch_eof);
	tcase_add_test(tc, test_watch_timeouts);
	tcase_add_test(tc, test_watch_busy);
	tcase_add_test(tc, test_watch_poll_fd);
	tcase_add_test(tc, test_watch_refused);
	tcase_add_test(tc, test_watch_invalid_name_local);
	tcase_add_loop_test(tc, test_watch_not_confirmed, 0, 3);
	tcase_add_test(tc, test_watch_ended_by_final_reply);
	suite_add_tcase(s, tc);

	tc = tcase_create("call_more");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_call_more);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status 0 when everything passed. */
int main(void)
{
	SRunner *sr = srunner_create(watch_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
