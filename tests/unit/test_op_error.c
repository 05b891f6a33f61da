/* SPDX-License-Identifier: MIT */
/* test_op_error.c: every failing manager_* call fills the op_error it was handed (nothing uninitialised reaches the wire). */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/cgroupfs.h"
#include "../../daemon/events.h"
#include "../../daemon/manager_internal.h"
#include "../../daemon/monitor.h"
#include "cleanup.h"
#include "testutil.h"

/*
 * Fault injection: the test binary is linked with --wrap for the allocators
 * (Makefile), so the countdown-th allocation the daemon's code makes fails.
 * json-c and libc allocate for themselves, unseen: only our code's paths are driven.
 */
static unsigned countdown;
static bool fired;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_reallocarray(void *p, size_t n, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
int __real_vasprintf(char **ret, const char *fmt, va_list ap);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void *__wrap_reallocarray(void *p, size_t n, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap);
int __wrap_asprintf(char **ret, const char *fmt, ...);

/* Is this the allocation that fails? */
static bool fault(void)
{
	if (countdown == 0 || --countdown > 0)
		return false;
	fired = true;
	errno = ENOMEM;
	return true;
}

/* malloc, failing on cue. */
void *__wrap_malloc(size_t n)
{
	return fault() ? NULL : __real_malloc(n);
}

/* calloc, failing on cue. */
void *__wrap_calloc(size_t n, size_t size)
{
	return fault() ? NULL : __real_calloc(n, size);
}

/* realloc, failing on cue. */
void *__wrap_realloc(void *p, size_t n)
{
	return fault() ? NULL : __real_realloc(p, n);
}

/* reallocarray, failing on cue. */
void *__wrap_reallocarray(void *p, size_t n, size_t size)
{
	return fault() ? NULL : __real_reallocarray(p, n, size);
}

/* strdup, failing on cue. */
char *__wrap_strdup(const char *s)
{
	return fault() ? NULL : __real_strdup(s);
}

/* strndup, failing on cue. */
char *__wrap_strndup(const char *s, size_t n)
{
	return fault() ? NULL : __real_strndup(s, n);
}

/* vasprintf, failing on cue. */
int __wrap_vasprintf(char **ret, const char *fmt, va_list ap)
{
	return fault() ? -1 : __real_vasprintf(ret, fmt, ap);
}

/* asprintf, failing on cue. */
int __wrap_asprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (fault())
		return -1;
	va_start(ap, fmt);
	r = __real_vasprintf(ret, fmt, ap);
	va_end(ap);
	return r;
}

static char base[] = "/tmp/op-error-test.XXXXXX";
static struct manager m;
static struct event_base *evb;

/* Write text to base/root/rel. */
static void put_file(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/root/%s", base, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/* A ledger in a temp dir, a directory standing in for the delegated cgroup root. */
static void setup(void)
{
	char path[256];

	tu_scratch(base, sizeof(base), "op-error-test");
	m = (struct manager){ .rootfd = -1, .delegated = true, .entries_max = 100000 };
	snprintf(path, sizeof(path), "%s/state", base);
	ck_assert_int_eq(ledger_open(path, &m.ledger), 0);
	snprintf(path, sizeof(path), "%s/root", base);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	m.rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(m.rootfd, 0);
	m.root_path = strdup(path);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	ck_assert_int_eq(manager_start(&m, evb), 0);
}

/* Close everything and remove the tree. */
static void teardown(void)
{
	events_stop(&m);
	manager_stop(&m);
	event_base_free(evb);
	m.ledger = ledger_close(m.ledger);
	close(m.rootfd);
	free(m.root_path);
	tu_rm_tree(base);
}

/* An op_error full of garbage, as the stack would hand it over. */
static void garbage(struct op_error *e)
{
	memset(e, 0xa5, sizeof(*e));
}

/* e was filled: a real code, terminated strings, a message. */
static void expect_filled(const struct op_error *e, const char *what, unsigned n)
{
	ck_assert_msg((int)e->code >= 0 && e->code < _CGERR_MAX, "%s (fault %u): code %d not set", what, n,
		      (int)e->code);
	ck_assert_msg(memchr(e->message, '\0', sizeof(e->message)) && e->message[0] &&
			      (unsigned char)e->message[0] != 0xa5,
		      "%s (fault %u): message not set", what, n);
	ck_assert_msg(memchr(e->value, '\0', sizeof(e->value)) != NULL, "%s (fault %u): value not set", what, n);
	ck_assert_msg(memchr(e->field, '\0', sizeof(e->field)) != NULL, "%s (fault %u): field not set", what, n);
	ck_assert_msg(e->key == NULL || (uintptr_t)e->key != (uintptr_t)0xa5a5a5a5a5a5a5a5ull,
		      "%s (fault %u): key not set", what, n);
	ck_assert_msg(e->errnum > 0, "%s (fault %u): errnum %d", what, n, e->errnum);
}

/* op runs with the n-th allocation from now armed to fail; it must not assert while armed (Check allocates). */
typedef int (*op_fn)(unsigned n, struct op_error *e);

/* Fail the 1st, 2nd, ... allocation of op until it runs through without one; every failure fills e. */
static void drive(op_fn op, const char *what)
{
	for (unsigned n = 1; n < 2000; n++) {
		struct op_error e;
		int r;

		garbage(&e);
		fired = false;
		countdown = n;
		r = op(n, &e);
		countdown = 0;
		if (r < 0)
			expect_filled(&e, what, n);
		if (!fired) {
			ck_assert_msg(r >= 0, "%s failed without a fault: %s", what, e.message);
			return;
		}
	}
	ck_abort_msg("%s never ran through", what);
}

/* Create name (no fault), for the operations that act on an entry. */
static void make_entry(const char *name)
{
	struct create_request req = { .name = name };
	struct ledger_entry *le;
	struct op_error e;

	ck_assert_int_eq(manager_create(&m, &req, &le, &e), 0);
}

/* Create prefix followed by n. */
static int create_numbered(const char *prefix, unsigned n, struct op_error *e)
{
	char name[32];
	struct create_request req = { .name = name };
	struct ledger_entry *le;

	snprintf(name, sizeof(name), "%s%u", prefix, n);
	return manager_create(&m, &req, &le, e);
}

/* Create a fresh top-level entry. */
static int op_create(unsigned n, struct op_error *e)
{
	return create_numbered("c", n, e);
}

/* Create below an entry. */
static int op_create_child(unsigned n, struct op_error *e)
{
	return create_numbered("p/k", n, e);
}

/* Create with a generated name below a prefix. */
static int op_create_generated(unsigned n, struct op_error *e)
{
	struct create_request req = { .prefix = "p" };
	struct ledger_entry *le;

	return manager_create(&m, &req, &le, e);
}

/* List everything, and one name. */
static int op_list(unsigned n, struct op_error *e)
{
	json_object *all = NULL, *one = NULL;
	int r = manager_list(&m, 0, NULL, &all, e);

	if (r >= 0)
		r = manager_list(&m, 0, "p", &one, e);
	json_object_put(all);
	json_object_put(one);
	return r;
}

/* Open an entry's directory, proven ours. */
static int op_open_verified(unsigned n, struct op_error *e)
{
	int fd = -1, r = manager_open_verified(&m, "p", &fd, e);

	if (fd >= 0)
		close(fd);
	return r;
}

/* Apply a limit through a directory with the interface files a cgroup would have. */
static int op_apply(unsigned n, struct op_error *e)
{
	_cleanup_close_ int fd = -1;
	json_object *res = json_tokener_parse("{\"pids_max\": \"10\"}");
	char text[32] = "";
	int r;

	/* Check allocates too (it is linked statically): no assertion while a fault is armed. */
	countdown = 0;
	put_file("p/pids.max", "max\n");
	fd = openat(m.rootfd, "p", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_ptr_nonnull(res);
	countdown = n;
	r = manager_apply_resources(&m, fd, "p", res, e);
	countdown = 0;
	json_object_put(res);
	if (r >= 0) {
		FILE *f;
		char path[512];

		snprintf(path, sizeof(path), "%s/root/p/pids.max", base);
		f = fopen(path, "r");
		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(text, sizeof(text), f));
		fclose(f);
		/* Success means applied. */
		ck_assert_msg(strncmp(text, "10", 2) == 0, "apply returned 0 at fault %u but pids.max is %s", n, text);
	}
	return r;
}

/* Record the result of a destroy. */
struct destroy_result {
	bool done;
	int r;
	struct op_error e;
};

/* Keep what the destroy reported. */
static void destroy_done_cb(void *arg, int r, bool existed, json_object *removed, const struct op_error *e)
{
	struct destroy_result *res = arg;

	res->done = true;
	res->r = r;
	if (r < 0)
		res->e = *e;
}

/* Destroy a fresh entry with a child, recursively and killing. */
static int op_destroy(unsigned n, struct op_error *e)
{
	struct destroy_result res = { 0 };
	struct destroy_request req = { .recursive = true, .kill = true, .timeout_ms = 1000 };
	char name[32], kid[40];

	countdown = 0;
	snprintf(name, sizeof(name), "d%u", n);
	snprintf(kid, sizeof(kid), "d%u/k", n);
	make_entry(name);
	make_entry(kid);
	req.name = name;
	garbage(&res.e);
	countdown = n;
	manager_destroy(&m, &req, destroy_done_cb, &res);
	while (!res.done)
		event_base_loop(evb, EVLOOP_ONCE);
	*e = res.e;
	return res.r;
}

/* Every failure of Create fills e. */
START_TEST(test_create_fills_error)
{
	make_entry("p");
	drive(op_create, "create");
	drive(op_create_child, "create below an entry");
	drive(op_create_generated, "create with a generated name");
}
END_TEST

/* Every failure of List, open-verified and apply fills e; apply never says 0 without applying. */
START_TEST(test_reads_fill_error)
{
	make_entry("p");
	put_file("p/cgroup.controllers", "pids hugetlb\n");
	drive(op_list, "list");
	drive(op_open_verified, "open verified");
	drive(op_apply, "apply resources");
}
END_TEST

/* Every failure of Destroy hands its callback a filled e. */
START_TEST(test_destroy_fills_error)
{
	drive(op_destroy, "destroy");
}
END_TEST

/* rmdir of an entry that is still busy fills e (it used to leave it as it was). */
START_TEST(test_rmdir_busy_fills_error)
{
	struct op_error e;
	char path[512];
	int r;

	make_entry("b");
	snprintf(path, sizeof(path), "%s/root/b/inner", base);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	garbage(&e);
	r = manager_rmdir_verified(&m, "b", NULL, &e);
	ck_assert_int_lt(r, 0);
	expect_filled(&e, "rmdir of a busy entry", 0);
	ck_assert_int_eq(e.code, CGERR_BUSY);
	garbage(&e);
	ck_assert_int_eq(manager_rmdir_verified(&m, "nope", NULL, &e), -ENOENT);
	expect_filled(&e, "rmdir of no entry", 0);
	ck_assert_int_eq(e.code, CGERR_NOT_FOUND);
}
END_TEST

/* A Resources object asking for a controller the cgroup lacks: ControllerUnavailable. */
START_TEST(test_apply_missing_controller)
{
	json_object *res = json_tokener_parse("{\"pids_max\": \"10\"}");
	_cleanup_close_ int fd = -1;
	struct op_error e;

	make_entry("q");
	put_file("q/cgroup.controllers", "hugetlb\n");
	fd = openat(m.rootfd, "q", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	garbage(&e);
	ck_assert_int_eq(manager_apply_resources(&m, fd, "q", res, &e), -EOPNOTSUPP);
	expect_filled(&e, "apply without the controller", 0);
	ck_assert_int_eq(e.code, CGERR_CONTROLLER_UNAVAILABLE);
	json_object_put(res);
}
END_TEST

/* The suite. */
static Suite *op_error_suite(void)
{
	Suite *s = suite_create("op_error");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_create_fills_error);
	tcase_add_test(tc, test_reads_fill_error);
	tcase_add_test(tc, test_destroy_fills_error);
	tcase_add_test(tc, test_rmdir_busy_fills_error);
	tcase_add_test(tc, test_apply_missing_controller);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(op_error_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
