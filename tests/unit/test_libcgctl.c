/* SPDX-License-Identifier: MIT */
/* test_libcgctl.c: libcgctl against a fake cgctld (a forked child replying with canned Varlink messages). */

#include <check.h>

#include "fakepeer.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../client/cgctl.h"
#include "cleanup.h"
#include "../../client/libcgctl-internal.h"

/* A fake daemon: a listening socket in a temp dir, served by a forked child. */
struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

/* What the child does with the one connection it accepts; its return is its exit status. */
typedef int (*serve_fn)(int fd, const void *arg);

/* One step of a scripted server: expect a call to method, answer with reply (NUL added). */
struct step {
	const char *method; /* NULL: any method */
	const char *reply;
};

/* ---- the child's side ---- */

/* Send a canned reply and its terminating NUL. */
static int srv_send(int fd, const char *reply)
{
	return srv_write(fd, reply, strlen(reply) + 1);
}

/* Check that msg is a call of method (any when NULL); 0 when it is. */
static int srv_check_call(const char *msg, const char *method)
{
	json_object *o = json_tokener_parse(msg), *m;
	int r = 1;

	if (o && json_object_object_get_ex(o, "method", &m) &&
	    (!method || strcmp(json_object_get_string(m), method) == 0))
		r = 0;
	if (r)
		fprintf(stderr, "fake server: expected %s, got %s\n", method ? method : "a call", msg);
	json_object_put(o);
	return r;
}

/* Serve a NULL-terminated script of steps, then wait for the hang-up. */
static int serve_script(int fd, const void *arg)
{
	const struct step *s;
	char msg[8192];

	for (s = arg; s->reply; s++) {
		if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
			return 10;
		if (srv_check_call(msg, s->method))
			return 11;
		if (srv_send(fd, s->reply) < 0)
			return 12;
	}
	srv_drain(fd);
	return 0;
}

/* ---- the test's side ---- */

/* Listen in a fresh temp dir and fork the child that serves one connection. */
static void fake_start(struct fake *f, serve_fn fn, const void *arg)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfd, status;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_libcgctl.XXXXXX");
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
		status = cfd < 0 ? 20 : fn(cfd, arg);
		_exit(status);
	}
	close(lfd);
}

/* Reap the child and remove the temp dir; the child's exit status. */
static int fake_stop(struct fake *f)
{
	int status = -1;

	ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Start a scripted fake and connect to it. */
static cgctl *fake_connect(struct fake *f, serve_fn fn, const void *arg)
{
	cgctl *c = NULL;

	fake_start(f, fn, arg);
	ck_assert_int_eq(cgctl_connect(f->path, &c), 0);
	ck_assert_ptr_nonnull(c);
	return c;
}

/* Disconnect and assert that the fake exited cleanly. */
static void fake_finish(struct fake *f, cgctl *c)
{
	cgctl_disconnect(c);
	ck_assert_int_eq(fake_stop(f), 0);
}

/* CLOCK_MONOTONIC in milliseconds. */
static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define ENTRY_A \
	"{\"name\":\"a\",\"path\":\"/sys/fs/cgroup/u/a\",\"state\":\"active\",\"generated\":false," \
	"\"populated\":true,\"frozen\":false,\"created\":1700000000000000,\"delegate\":true," \
	"\"auto_remove\":false,\"lease\":false,\"labels\":{\"app\":\"web\",\"tier\":\"1\"}}"
#define ENTRY_AB \
	"{\"name\":\"a/b\",\"path\":\"/sys/fs/cgroup/u/a/b\",\"state\":\"creating\",\"generated\":true," \
	"\"populated\":null,\"created\":5,\"delegate\":false,\"auto_remove\":true,\"lease\":true," \
	"\"labels\":{}}"

START_TEST(test_list_decode)
{
	static const struct step script[] = {
		{ "io.cgctl.Manager.List", "{\"parameters\":{\"entries\":[" ENTRY_A "," ENTRY_AB "]}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, "a", &e, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_ptr_null(cgctl_error_name(c));
	ck_assert_str_eq(e[0]->name, "a");
	ck_assert_str_eq(e[0]->path, "/sys/fs/cgroup/u/a");
	ck_assert_str_eq(e[0]->state, "active");
	ck_assert_int_eq(e[0]->populated, 1);
	ck_assert_int_eq(e[0]->frozen, 0);
	ck_assert_int_eq(e[0]->delegate, 1);
	ck_assert_uint_eq(e[0]->created_usec, 1700000000000000ull);
	ck_assert_str_eq(e[0]->labels[0], "app=web");
	ck_assert_str_eq(e[0]->labels[1], "tier=1");
	ck_assert_ptr_null(e[0]->labels[2]);
	ck_assert_str_eq(e[1]->name, "a/b");
	ck_assert_int_eq(e[1]->generated, 1);
	ck_assert_int_eq(e[1]->populated, -1);
	ck_assert_int_eq(e[1]->frozen, -1);
	ck_assert_int_eq(e[1]->auto_remove, 1);
	ck_assert_int_eq(e[1]->lease, 1);
	ck_assert_ptr_nonnull(e[1]->labels);
	ck_assert_ptr_null(e[1]->labels[0]);
	/* Entries are handed out by pointer, NULL-terminated, each saying how much of it there is. */
	ck_assert_ptr_null(e[2]);
	ck_assert_uint_eq(e[0]->size, sizeof(struct cgctl_entry));
	ck_assert(CGCTL_HAS(e[1], labels));
	cgctl_entries_free(e, n);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_list_take_entry)
{
	static const struct step script[] = {
		{ "io.cgctl.Manager.List", "{\"parameters\":{\"entries\":[" ENTRY_A "," ENTRY_AB "]}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL, *kept;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), 0);
	ck_assert_uint_eq(n, 2);
	/* A caller keeps one entry by taking it out of its slot; the array frees the rest. */
	kept = e[1];
	e[1] = NULL;
	cgctl_entries_free(e, n);
	ck_assert_str_eq(kept->name, "a/b");
	cgctl_entry_free(kept);
	cgctl_entries_free(NULL, 3);
	cgctl_entry_free(NULL);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_list_bad_entry)
{
	static const struct step script[] = {
		{ NULL, "{\"parameters\":{\"entries\":[" ENTRY_A ",{\"name\":7}]}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), -EPROTO);
	ck_assert_ptr_null(e);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_list_left_to_json_c)
{
	/* Valid, but not the plain shape List's text decoder takes: json-c decodes it instead. */
	static const struct step script[] = {
		{ "io.cgctl.Manager.List",
		  "{\"parameter\\u0073\":{\"entries\":[" ENTRY_A "," ENTRY_AB "]},\"continues\":false}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(e[0]->name, "a");
	ck_assert_str_eq(e[0]->labels[1], "tier=1");
	ck_assert_int_eq(e[1]->populated, -1);
	cgctl_entries_free(e, n);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_list_garbage)
{
	static const char *const garbage[] = {
		"hello", "[1,2]", "{\"parameters\":[]}", "{\"error\":5}", "{\"parameters\":{\"entries\":[]}} x",
		"{\"parameters\":{\"entries\":[]},\"continues\":true}", "{\"parameters\":{\"entries\":3}}",
		"{\"parameters\":{}}", "{\"parameters\":{\"entries\":[{\"name\":\"a\"}]}}",
	};
	const struct step script[] = { { "io.cgctl.Manager.List", garbage[_i] }, {} };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL;
	size_t n = 7;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), -EPROTO);
	ck_assert_ptr_null(e);
	ck_assert_uint_eq(n, 7);
	ck_assert_ptr_null(cgctl_error_name(c));
	fake_finish(&f, c);
}
END_TEST

#define STATUS_REPLY \
	"{\"parameters\":{\"status\":{\"version\":\"0.1.0\",\"delegated\":false," \
	"\"reason\":\"/sys/fs/cgroup/x is read-only\",\"cgroup_mount\":\"/sys/fs/cgroup\"," \
	"\"managed_root\":\"/x\",\"leaf\":null,\"controllers\":[\"cpu\",\"memory\"],\"pid\":42," \
	"\"uid\":1000,\"socket\":\"/run/user/1000/cgctl/io.cgctl.Manager\",\"ledger\":{" \
	"\"path\":\"/s\",\"format_version\":1,\"entries\":3,\"journal_bytes\":4096," \
	"\"journal_records\":17,\"compactions\":2,\"last_compaction\":1700000000000000," \
	"\"reconcile\":{\"dropped\":[\"gone\"],\"rolled_back\":[],\"resumed\":[\"r1\",\"r2\"]," \
	"\"unknown\":[\"stray\"]},\"recovery\":{\"mode\":\"recovery\",\"damage\":[{\"file\":\"journal.jsonl\"," \
	"\"offset\":194,\"kept\":\"journal.jsonl.corrupt-1\",\"lost\":\"2 line(s)\"},{\"file\":\"ledger.json\"," \
	"\"offset\":0,\"kept\":null,\"lost\":\"nothing\"}]}}}}}"

START_TEST(test_status_decode)
{
	static const struct step script[] = { { "io.cgctl.Manager.GetStatus", STATUS_REPLY }, {} };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_status *s = NULL;

	ck_assert_int_eq(cgctl_get_status(c, &s), 0);
	ck_assert(CGCTL_HAS(s, journal_dropped_records));
	ck_assert_str_eq(s->version, "0.1.0");
	ck_assert_int_eq(s->delegated, 0);
	ck_assert_str_eq(s->reason, "/sys/fs/cgroup/x is read-only");
	ck_assert_str_eq(s->managed_root, "/x");
	ck_assert_ptr_null(s->leaf);
	ck_assert_str_eq(s->controllers[1], "memory");
	ck_assert_ptr_null(s->controllers[2]);
	ck_assert_int_eq(s->pid, 42);
	ck_assert_int_eq(s->uid, 1000);
	ck_assert_str_eq(s->ledger_path, "/s");
	ck_assert_uint_eq(s->ledger_entries, 3);
	ck_assert_uint_eq(s->journal_bytes, 4096);
	ck_assert_uint_eq(s->journal_records, 17);
	ck_assert_uint_eq(s->compactions, 2);
	ck_assert_uint_eq(s->last_compaction_usec, 1700000000000000ull);
	ck_assert_str_eq(s->reconcile_dropped[0], "gone");
	ck_assert_ptr_null(s->reconcile_rolled_back[0]);
	ck_assert_str_eq(s->reconcile_resumed[1], "r2");
	ck_assert_str_eq(s->reconcile_unknown[0], "stray");
	ck_assert_str_eq(s->ledger_mode, "recovery");
	ck_assert_str_eq(s->ledger_damage[0],
			 "journal.jsonl: damaged at byte 194, kept as journal.jsonl.corrupt-1; lost: 2 line(s)");
	ck_assert_str_eq(s->ledger_damage[1], "ledger.json: damaged at byte 0; lost: nothing");
	ck_assert_ptr_null(s->ledger_damage[2]);
	cgctl_status_free(s);
	fake_finish(&f, c);
}
END_TEST

/* Check Create's parameters as the library encodes them, then answer with an entry. */
static int serve_create(int fd, const void *arg)
{
	json_object *o = NULL, *p, *v, *u;
	char msg[8192];
	int bad;

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0 || !(o = json_tokener_parse(msg)))
		return 10;
	bad = !json_object_object_get_ex(o, "parameters", &p) ||
	      !json_object_object_get_ex(p, "name", &v) || strcmp(json_object_get_string(v), "a") ||
	      !json_object_object_get_ex(p, "delegate", &v) || !json_object_get_boolean(v) ||
	      json_object_object_get_ex(p, "lease", &v) ||
	      !json_object_object_get_ex(p, "labels", &v) ||
	      !json_object_object_get_ex(v, "app", &u) || strcmp(json_object_get_string(u), "x=y") ||
	      !json_object_object_get_ex(p, "resources", &v) ||
	      !json_object_object_get_ex(v, "unified", &u) ||
	      !json_object_object_get_ex(u, "pids.max", &u) || strcmp(json_object_get_string(u), "10");
	if (bad)
		fprintf(stderr, "fake server: unexpected Create: %s\n", msg);
	json_object_put(o);
	if (bad)
		return 11;
	if (srv_send(fd, "{\"parameters\":{\"entry\":" ENTRY_A "}}") < 0)
		return 12;
	srv_drain(fd);
	return 0;
}

START_TEST(test_create_decode)
{
	static const char *const labels[] = { "app=x=y", NULL };
	struct cgctl_create_opts o = { .size = sizeof(o), .delegate = 1, .labels = labels,
				       .resources_json = "{\"unified\":{\"pids.max\":\"10\"}}" };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_create, NULL);
	struct cgctl_entry *e = NULL;

	ck_assert_int_eq(cgctl_create(c, "a", &o, &e), 0);
	ck_assert_str_eq(e->name, "a");
	ck_assert_int_eq(e->delegate, 1);
	cgctl_entry_free(e);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_destroy_not_existing)
{
	static const struct step script[] = {
		{ "io.cgctl.Manager.Destroy",
		  "{\"parameters\":{\"name\":\"a\",\"existed\":false,\"removed\":[]}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	int existed = 7;

	ck_assert_int_eq(cgctl_destroy(c, "a", CGCTL_DESTROY_KILL, &existed), 0);
	ck_assert_int_eq(existed, 0);
	ck_assert_int_eq(cgctl_destroy(c, "a", 1u << 7, &existed), -EINVAL);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_error_reply)
{
	static const struct step script[] = {
		{ NULL, "{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":"
			"{\"name\":\"a\",\"message\":\"a: no such cgroup\"}}" },
		{ NULL, "{\"parameters\":{\"entries\":[]}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry **e = NULL;
	size_t n = 9;

	ck_assert_int_eq(cgctl_list(c, "a", &e, &n), -ENOENT);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.NotFound");
	ck_assert_str_eq(cgctl_error_message(c), "a: no such cgroup");
	ck_assert_uint_eq(n, 9); /* untouched on failure */
	/* The connection stays usable, and success clears the error. */
	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), 0);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(cgctl_error_name(c));
	ck_assert_ptr_null(cgctl_error_message(c));
	cgctl_entries_free(e, n);
	fake_finish(&f, c);
}
END_TEST

/* An argument refused before anything is sent is the last call's error: never the one before it. */
START_TEST(test_bad_args_not_stale)
{
	static const struct step script[] = {
		{ NULL, "{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":"
			"{\"name\":\"a\",\"message\":\"a: no such cgroup\"}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	const pid_t pid = 1;
	int fds[65] = { 0 }, k = 0;
	struct cgctl_event *ev = NULL;
	char *j = NULL;
	size_t n = 0;
	int r[10];

	ck_assert_int_eq(cgctl_destroy(c, "a", 1u << 7, NULL), -EINVAL); /* before any call */
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_int_eq(cgctl_open_cgroup(c, "a", &k), -ENOENT);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.NotFound");
	r[0] = cgctl_attach(c, "a", &pid, 0);
	r[1] = cgctl_attach_pidfds(c, "a", fds, 65);
	r[2] = cgctl_freeze(c, "a", -1);
	r[3] = cgctl_thaw(c, "a", -1);
	r[4] = cgctl_kill(c, "a", -1);
	r[5] = cgctl_destroy(c, "a", 1u << 7, NULL);
	r[6] = cgctl_list(c, NULL, NULL, &n);
	r[7] = cgctl_get_stats(c, "a", NULL);
	r[8] = cgctl_call(c, NULL, NULL, &j);
	r[9] = cgctl_set_timeout(c, 0);
	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
		ck_assert_int_eq(r[i], -EINVAL);
	/* Each of those left its own error, so the last one's is there. */
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_str_eq(cgctl_error_message(c), "invalid arguments to cgctl_set_timeout()");
	ck_assert_int_eq(cgctl_attach(c, "a", &pid, 0), -EINVAL);
	ck_assert_str_eq(cgctl_error_message(c), "invalid arguments to cgctl_attach()");
	/* Refusals with their own code or message say so, not the call before. */
	fds[0] = -1;
	ck_assert_int_eq(cgctl_attach_pidfds(c, "a", fds, 1), -EBADF);
	ck_assert_str_eq(cgctl_error_message(c), "a pidfd is negative");
	ck_assert_int_eq(cgctl_watch_next(c, 0, &ev), -EINVAL);
	ck_assert_str_eq(cgctl_error_message(c), "no watch or streaming call on this connection");
	ck_assert_int_eq(cgctl_attach(c, "a", &pid, 0), -EINVAL);
	ck_assert_int_eq(cgctl_call_more_next(c, 0, &j, NULL), -EINVAL);
	ck_assert_str_eq(cgctl_error_message(c), "no watch or streaming call on this connection");
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_no_delegation)
{
	static const struct step script[] = {
		{ "io.cgctl.Manager.Create",
		  "{\"error\":\"io.cgctl.Manager.NoDelegation\",\"parameters\":"
		  "{\"reason\":\"read-only\",\"message\":\"no delegated subtree: read-only\"}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_entry *e = NULL;

	ck_assert_int_eq(cgctl_create(c, NULL, NULL, &e), -CGCTL_ENODELEGATION);
	ck_assert_ptr_null(e);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.NoDelegation");
	ck_assert_str_eq(cgctl_error_message(c), "no delegated subtree: read-only");
	ck_assert_str_eq(cgctl_strerror(-CGCTL_ENODELEGATION), "No delegated cgroup subtree");
	ck_assert_str_eq(cgctl_strerror(-CGCTL_EREPLACED), "Cgroup replaced by one cgctld did not create");
	fake_finish(&f, c);
}
END_TEST

/* Every error name and the code it maps to, one call each. */
static const struct {
	const char *reply;
	int code;
} error_map[] = {
	{ "{\"error\":\"io.cgctl.Manager.AlreadyExists\"}", -EEXIST },
	{ "{\"error\":\"io.cgctl.Manager.InvalidName\"}", -EINVAL },
	{ "{\"error\":\"io.cgctl.Manager.InvalidValue\"}", -EINVAL },
	{ "{\"error\":\"io.cgctl.Manager.ControllerUnavailable\"}", -EOPNOTSUPP },
	{ "{\"error\":\"io.cgctl.Manager.Busy\"}", -EBUSY },
	{ "{\"error\":\"io.cgctl.Manager.PermissionDenied\"}", -EACCES },
	{ "{\"error\":\"io.cgctl.Manager.QuotaExceeded\"}", -EDQUOT },
	{ "{\"error\":\"io.cgctl.Manager.Timeout\"}", -ETIMEDOUT },
	{ "{\"error\":\"io.cgctl.Manager.Replaced\",\"parameters\":{\"name\":\"a\",\"message\":\"x\"}}",
	  -CGCTL_EREPLACED },
	{ "{\"error\":\"io.cgctl.Manager.SystemError\",\"parameters\":{\"errno\":28}}", -ENOSPC },
	{ "{\"error\":\"io.cgctl.Manager.SystemError\",\"parameters\":{\"message\":\"x\"}}", -EIO },
	{ "{\"error\":\"org.varlink.service.MethodNotFound\"}", -ENOSYS },
	{ "{\"error\":\"org.varlink.service.MethodNotImplemented\"}", -ENOSYS },
	{ "{\"error\":\"org.varlink.service.InvalidParameter\"}", -EINVAL },
	{ "{\"error\":\"com.example.Weird\"}", -EPROTO },
};

START_TEST(test_error_codes)
{
	const struct step script[] = { { NULL, error_map[_i].reply }, {} };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	char *reply = NULL;

	ck_assert_int_eq(cgctl_call(c, "Freeze", "{\"name\":\"a\"}", &reply), error_map[_i].code);
	ck_assert_ptr_nonnull(cgctl_error_name(c));
	ck_assert_ptr_nonnull(reply); /* the error's parameters, for the CLI */
	free(reply);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_call_raw)
{
	static const struct step script[] = {
		{ "org.varlink.service.GetInfo", "{\"parameters\":{\"vendor\":\"cgctl\"}}" },
		{ "io.cgctl.Manager.Kill",
		  "{\"error\":\"io.cgctl.Manager.Busy\",\"parameters\":{\"name\":\"a\",\"message\":\"busy\"}}" },
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	char *reply = NULL;

	ck_assert_int_eq(cgctl_call(c, "org.varlink.service.GetInfo", NULL, &reply), 0);
	ck_assert_str_eq(reply, "{\"vendor\":\"cgctl\"}");
	free(reply);
	reply = NULL;
	ck_assert_int_eq(cgctl_call(c, "Kill", "{\"name\":\"a\",\"signal\":9}", &reply), -EBUSY);
	ck_assert_str_eq(reply, "{\"name\":\"a\",\"message\":\"busy\"}");
	ck_assert_str_eq(cgctl_error_message(c), "busy");
	free(reply);
	reply = NULL;
	/* Not an object: refused before anything is sent. */
	ck_assert_int_eq(cgctl_call(c, "Kill", "[1]", &reply), -EINVAL);
	ck_assert_int_eq(cgctl_call(c, "Kill", "{", &reply), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_ptr_null(reply);
	fake_finish(&f, c);
}
END_TEST

/* Answer one call with its reply dribbled out a few bytes at a time. */
static int serve_split(int fd, const void *arg)
{
	const char *reply = "{\"parameters\":{\"entries\":[" ENTRY_A "]}}";
	char msg[8192];
	size_t i, len = strlen(reply) + 1;

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
		return 10;
	for (i = 0; i < len; i += 3) {
		if (srv_write(fd, reply + i, len - i < 3 ? len - i : 3) < 0)
			return 12;
		usleep(500);
	}
	srv_drain(fd);
	return 0;
}

START_TEST(test_split_reply)
{
	struct fake f;
	cgctl *c = fake_connect(&f, serve_split, NULL);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0]->labels[1], "tier=1");
	cgctl_entries_free(e, n);
	fake_finish(&f, c);
}
END_TEST

/* Read two calls, then answer both in one write, in order. */
static int serve_pipelined(int fd, const void *arg)
{
	static const char replies[] = "{\"parameters\":{\"n\":1}}\0{\"parameters\":{\"n\":2}}\0"
				      "{\"parameters\":{\"n\":3}}";
	char msg[8192];

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0 || srv_check_call(msg, "io.cgctl.Manager.A") ||
	    srv_read_msg(fd, msg, sizeof(msg)) <= 0 || srv_check_call(msg, "io.cgctl.Manager.B"))
		return 10;
	/* The third reply rides along, answering the call that follows. */
	if (srv_write(fd, replies, sizeof(replies)) < 0)
		return 12;
	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0 || srv_check_call(msg, "io.cgctl.Manager.C"))
		return 11;
	srv_drain(fd);
	return 0;
}

/* The "n" parameter of a reply. */
static int reply_n(const struct libcgctl_reply *r)
{
	json_object *v;

	ck_assert(json_object_object_get_ex(r->vl.parameters, "n", &v));
	return json_object_get_int(v);
}

START_TEST(test_pipelined)
{
	struct fake f;
	cgctl *c = fake_connect(&f, serve_pipelined, NULL);
	struct libcgctl_reply r1 = {}, r2 = {};
	uint64_t deadline = libcgctl_deadline(c);
	char *reply = NULL;

	ck_assert_int_eq(libcgctl_send(c, "io.cgctl.Manager.A", NULL, 0, NULL, 0, deadline), 0);
	ck_assert_int_eq(libcgctl_send(c, "io.cgctl.Manager.B", NULL, 0, NULL, 0, deadline), 0);
	/* A raw call while replies are outstanding would take theirs. */
	ck_assert_int_eq(cgctl_call(c, "C", NULL, &reply), -EBUSY);
	ck_assert_int_eq(libcgctl_recv(c, deadline, &r1), 0);
	ck_assert_int_eq(libcgctl_recv(c, deadline, &r2), 0);
	ck_assert_int_eq(reply_n(&r1), 1);
	ck_assert_int_eq(reply_n(&r2), 2);
	libcgctl_reply_done(&r1);
	libcgctl_reply_done(&r2);
	ck_assert_int_eq(cgctl_call(c, "C", NULL, &reply), 0);
	ck_assert_str_eq(reply, "{\"n\":3}");
	free(reply);
	fake_finish(&f, c);
}
END_TEST

/* Send half a reply, then hang up. */
static int serve_close_mid_reply(int fd, const void *arg)
{
	static const char half[] = "{\"parameters\":{\"entries\":[";
	char msg[8192];

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
		return 10;
	return srv_write(fd, half, sizeof(half) - 1) < 0 ? 12 : 0;
}

START_TEST(test_close_mid_reply)
{
	struct fake f;
	cgctl *c = fake_connect(&f, serve_close_mid_reply, NULL);
	struct cgctl_entry **e = NULL;
	size_t n = 0;

	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), -ECONNRESET);
	ck_assert_ptr_null(cgctl_error_name(c));
	/* The stream is out of step now: later calls fail at once. */
	ck_assert_int_eq(cgctl_list(c, NULL, &e, &n), -ENOTCONN);
	fake_finish(&f, c);
}
END_TEST

/* Accept and hang up before reading anything. */
static int serve_hang_up(int fd, const void *arg)
{
	close(fd);
	return 0;
}

START_TEST(test_closed_before_call)
{
	struct fake f;
	cgctl *c;
	char *reply = NULL;
	int r;

	/* SIGPIPE stays at its default: a send to the closed peer must not raise it. */
	signal(SIGPIPE, SIG_DFL);
	c = fake_connect(&f, serve_hang_up, NULL);
	ck_assert_int_eq(fake_stop(&f), 0);
	r = cgctl_call(c, "GetStatus", NULL, &reply);
	ck_assert_int_eq(r, -ECONNRESET);
	ck_assert_ptr_null(reply);
	cgctl_disconnect(c);
}
END_TEST

START_TEST(test_garbage)
{
	static const char *const garbage[] = {
		"hello", "[1,2]", "{\"parameters\":[]}", "{\"error\":5}", "{\"parameters\":{}} x",
		"{\"parameters\":{},\"continues\":true}", "{\"parameters\":{\"status\":3}}",
	};
	const struct step script[] = { { NULL, garbage[_i] }, {} };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_script, script);
	struct cgctl_status *s = NULL;

	ck_assert_int_eq(cgctl_get_status(c, &s), -EPROTO);
	ck_assert_ptr_null(s);
	ck_assert_ptr_null(cgctl_error_name(c));
	fake_finish(&f, c);
}
END_TEST

/* A reply that never ends: more than 16 MiB without a NUL. */
static int serve_huge(int fd, const void *arg)
{
	static char chunk[1 << 16];
	char msg[8192];
	size_t sent;

	memset(chunk, ' ', sizeof(chunk));
	chunk[0] = '{';
	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
		return 10;
	for (sent = 0; sent <= LIBCGCTL_REPLY_MAX + sizeof(chunk); sent += sizeof(chunk))
		if (srv_write(fd, chunk, sizeof(chunk)) < 0)
			return 0; /* the client gave up, as it should */
	srv_drain(fd);
	return 0;
}

START_TEST(test_reply_too_big)
{
	struct fake f;
	cgctl *c = fake_connect(&f, serve_huge, NULL);
	struct cgctl_status *s = NULL;

	ck_assert_int_eq(cgctl_get_status(c, &s), -EMSGSIZE);
	fake_finish(&f, c);
}
END_TEST

/* Read the call, then say nothing until the client hangs up. */
static int serve_silent(int fd, const void *arg)
{
	char msg[8192];

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
		return 10;
	srv_drain(fd);
	return 0;
}

START_TEST(test_timeout)
{
	struct fake f;
	cgctl *c = fake_connect(&f, serve_silent, NULL);
	struct cgctl_status *s = NULL;
	long long t0, dt;

	ck_assert_int_eq(cgctl_set_timeout(c, 0), -EINVAL);
	ck_assert_int_eq(cgctl_set_timeout(c, 200), 0);
	t0 = now_ms();
	ck_assert_int_eq(cgctl_get_status(c, &s), -ETIMEDOUT);
	dt = now_ms() - t0;
	ck_assert_int_ge(dt, 200);
	/* The timeout set, not the default one (how fast is not tested). */
	ck_assert_int_lt(dt, CGCTL_TIMEOUT_DEFAULT_MS - 5000);
	ck_assert_ptr_null(cgctl_error_name(c));
	fake_finish(&f, c);
}
END_TEST

/* Fail (exit 1) if the client sends anything at all. */
static int serve_expect_nothing(int fd, const void *arg)
{
	return srv_drain(fd);
}

START_TEST(test_invalid_name_local)
{
	static const char *const bad[] = { "../x", "", "a//b", "/a", "a/", ".", "a\nb" };
	struct cgctl_create_opts o = { .size = sizeof(o), .prefix = "x/.." };
	struct fake f;
	cgctl *c = fake_connect(&f, serve_expect_nothing, NULL);
	struct cgctl_entry *e = NULL, **l = NULL;
	size_t i, n = 0;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(cgctl_create(c, bad[i], NULL, &e), -EINVAL);
		ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidName");
		ck_assert_ptr_nonnull(cgctl_error_message(c));
		ck_assert_int_eq(cgctl_destroy(c, bad[i], 0, NULL), -EINVAL);
		ck_assert_int_eq(cgctl_list(c, bad[i], &l, &n), -EINVAL);
	}
	ck_assert_int_eq(cgctl_destroy(c, NULL, 0, NULL), -EINVAL);
	ck_assert_int_eq(cgctl_create(c, NULL, &o, &e), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidName");
	/* Malformed labels and resources are refused locally too. */
	o = (struct cgctl_create_opts){ .size = sizeof(o),
					.labels = (const char *const[]){ "novalue", NULL } };
	ck_assert_int_eq(cgctl_create(c, "a", &o, &e), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	o = (struct cgctl_create_opts){ .size = sizeof(o), .resources_json = "[]" };
	ck_assert_int_eq(cgctl_create(c, "a", &o, &e), -EINVAL);
	o.size = 0;
	ck_assert_int_eq(cgctl_create(c, "a", &o, &e), -EINVAL);
	ck_assert_ptr_null(e);
	fake_finish(&f, c);
}
END_TEST

/* Answer with a reply carrying two descriptors (SCM_RIGHTS). */
static int serve_fds(int fd, const void *arg)
{
	static const char reply[] = "{\"parameters\":{\"fd\":0}}";
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * 2)];
	} ctl = {};
	struct iovec iov = { .iov_base = (void *)reply, .iov_len = sizeof(reply) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
	int p[2], i;
	char msg[8192];

	for (i = 0; i < 2; i++) {
		if (srv_read_msg(fd, msg, sizeof(msg)) <= 0 || pipe(p) < 0)
			return 10;
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * 2);
		memcpy(CMSG_DATA(cm), p, sizeof(p));
		if (sendmsg(fd, &mh, 0) != (ssize_t)sizeof(reply))
			return 12;
		close(p[0]);
		close(p[1]);
	}
	srv_drain(fd);
	return 0;
}

START_TEST(test_fds_received)
{
	struct fake f;
	cgctl *c;
	struct libcgctl_reply r = {};
	char *reply = NULL;
	uint64_t deadline;
	int before, kept;

	before = count_fds();
	c = fake_connect(&f, serve_fds, NULL);
	deadline = libcgctl_deadline(c);
	ck_assert_int_eq(libcgctl_send(c, "io.cgctl.Manager.OpenCgroup", NULL, 0, NULL, 0, deadline), 0);
	ck_assert_int_eq(libcgctl_recv(c, deadline, &r), 0);
	ck_assert_uint_eq(r.n_fds, 2);
	ck_assert_int_eq(fcntl(r.fds[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* Take one; the other is closed with the reply. */
	kept = r.fds[0];
	r.fds[0] = -1;
	libcgctl_reply_done(&r);
	ck_assert_int_eq(count_fds(), before + 2); /* the connection and the kept one */
	close(kept);
	/* A raw call cannot use descriptors: they are closed, not leaked. */
	ck_assert_int_eq(cgctl_call(c, "OpenCgroup", "{\"name\":\"a\"}", &reply), 0);
	free(reply);
	ck_assert_int_eq(count_fds(), before + 1);
	fake_finish(&f, c);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

START_TEST(test_connect)
{
	struct fake f;
	cgctl *c = NULL;
	int lowest;

	ck_assert_int_eq(cgctl_connect("/nonexistent/cgctl.sock", &c), -ENOENT);
	ck_assert_ptr_null(c);
	ck_assert_int_eq(cgctl_connect("", &c), -EINVAL);
	ck_assert_int_eq(cgctl_connect(NULL, NULL), -EINVAL);
	ck_assert_ptr_null(cgctl_disconnect(NULL));
	/* NULL means $CGCTL_SOCKET. */
	fake_start(&f, serve_expect_nothing, NULL);
	setenv("CGCTL_SOCKET", f.path, 1);
	/* The socket takes the lowest free descriptor: it must be close-on-exec. */
	lowest = dup(0);
	ck_assert_int_ge(lowest, 0);
	close(lowest);
	ck_assert_int_eq(cgctl_connect(NULL, &c), 0);
	unsetenv("CGCTL_SOCKET");
	ck_assert_int_eq(fcntl(lowest, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	fake_finish(&f, c);
}
END_TEST

/* A socket another uid listens on is refused before a byte goes to it, and says who serves it. */
START_TEST(test_untrusted_server)
{
	char dir[] = "/tmp/test_libcgctl.XXXXXX", path[64], want[256];
	cgctl *c = NULL;
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "test_untrusted_server: needs root to listen as another uid, skipped\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/sock", dir);
	pid = srv_listen_as(path, 65534, 65534);
	ck_assert_int_eq(cgctl_connect(path, &c), -CGCTL_EUNTRUSTED);
	ck_assert_ptr_null(c);
	snprintf(want, sizeof(want), "%s is served by uid 65534, not by you (uid 0) or root; refusing to talk to it",
		 path);
	ck_assert_pstr_eq(cgctl_error_message(NULL), want);
	ck_assert_str_eq(cgctl_strerror(-CGCTL_EUNTRUSTED), "Socket served by another user");
	/* The impostor was connected to, and got nothing. */
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
	/* The next connect starts afresh. */
	ck_assert_int_eq(cgctl_connect(path, &c), -ECONNREFUSED);
	ck_assert_ptr_null(cgctl_error_message(NULL));
	unlink(path);
	rmdir(dir);
}
END_TEST

/* The suite: one case per behaviour. */
static Suite *libcgctl_suite(void)
{
	Suite *s = suite_create("libcgctl");
	TCase *tc;

	tc = tcase_create("decode");
	tcase_add_test(tc, test_list_decode);
	tcase_add_test(tc, test_list_take_entry);
	tcase_add_test(tc, test_list_bad_entry);
	tcase_add_test(tc, test_list_left_to_json_c);
	tcase_add_loop_test(tc, test_list_garbage, 0, 9);
	tcase_add_test(tc, test_status_decode);
	tcase_add_test(tc, test_create_decode);
	tcase_add_test(tc, test_destroy_not_existing);
	tcase_add_test(tc, test_call_raw);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc, test_error_reply);
	tcase_add_test(tc, test_bad_args_not_stale);
	tcase_add_test(tc, test_no_delegation);
	tcase_add_loop_test(tc, test_error_codes, 0, (int)(sizeof(error_map) / sizeof(error_map[0])));
	tcase_add_test(tc, test_invalid_name_local);
	suite_add_tcase(s, tc);

	tc = tcase_create("transport");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_connect);
	tcase_add_test(tc, test_untrusted_server);
	tcase_add_test(tc, test_split_reply);
	tcase_add_test(tc, test_pipelined);
	tcase_add_test(tc, test_close_mid_reply);
	tcase_add_test(tc, test_closed_before_call);
	tcase_add_loop_test(tc, test_garbage, 0, 7);
	tcase_add_test(tc, test_reply_too_big);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_fds_received);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status 0 when everything passed. */
int main(void)
{
	SRunner *sr = srunner_create(libcgctl_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
