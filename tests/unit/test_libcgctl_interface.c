/* SPDX-License-Identifier: MIT */
/* test_libcgctl_interface.c: libcgctl held to protocol/io.cgctl.Manager.varlink, so neither drifts from the other. */

/*
 * Every method the interface declares must have a typed libcgctl call that
 * puts exactly that method on the wire, and every error it declares must map
 * to a code of its own (not the -EPROTO of an unknown name). A method or
 * error added to the interface without a binding here fails this suite.
 */

#include <check.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fakepeer.h"
#include "../../client/cgctl.h"
#include "../../client/libcgctl-internal.h"

extern const char vl_interface_description[];

/* Names declared by lines starting with kind ("method ", "error ") in the interface: NULL-terminated, malloc'd. */
static char **declared(const char *kind)
{
	size_t n = 0, klen = strlen(kind);
	char **v = calloc(64, sizeof(char *));

	ck_assert_ptr_nonnull(v);
	for (const char *p = vl_interface_description; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		size_t len;

		if (strncmp(p, kind, klen) != 0)
			continue;
		len = strcspn(p + klen, " (\n");
		ck_assert_uint_lt(n, 63);
		v[n++] = strndup(p + klen, len);
	}
	ck_assert_uint_gt(n, 0);
	return v;
}

/* Free what declared() returned. */
static void declared_free(char **v)
{
	for (size_t i = 0; v[i]; i++)
		free(v[i]);
	free(v);
}

/* The typed call for one method; returns what libcgctl returned. */
typedef int (*call_fn)(cgctl *c);

/* The libcgctl call for the method get_status names. */
static int call_get_status(cgctl *c)
{
	struct cgctl_status *s = NULL;
	return cgctl_get_status(c, &s);
}
/* The libcgctl call for the method create names. */
static int call_create(cgctl *c)
{
	return cgctl_create(c, "x", NULL, NULL);
}
/* The libcgctl call for the method destroy names. */
static int call_destroy(cgctl *c)
{
	return cgctl_destroy(c, "x", 0, NULL);
}
/* The libcgctl call for the method list names. */
static int call_list(cgctl *c)
{
	struct cgctl_entry **e = NULL;
	size_t n;
	return cgctl_list(c, NULL, &e, &n);
}
/* The libcgctl call for the method attach names. */
static int call_attach(cgctl *c)
{
	pid_t pid = getpid();
	return cgctl_attach(c, "x", &pid, 1);
}
/* The libcgctl call for the method set_resources names. */
static int call_set_resources(cgctl *c)
{
	return cgctl_set_resources_json(c, "x", "{\"pids_max\":\"5\"}");
}
/* The libcgctl call for the method get_stats names. */
static int call_get_stats(cgctl *c)
{
	char *json = NULL;
	return cgctl_get_stats(c, "x", &json);
}
/* The libcgctl call for the method freeze names. */
static int call_freeze(cgctl *c)
{
	return cgctl_freeze(c, "x", 0);
}
/* The libcgctl call for the method thaw names. */
static int call_thaw(cgctl *c)
{
	return cgctl_thaw(c, "x", 0);
}
/* The libcgctl call for the method kill names. */
static int call_kill(cgctl *c)
{
	return cgctl_kill(c, "x", 0);
}
/* The libcgctl call for the method watch names. */
static int call_watch(cgctl *c)
{
	return cgctl_watch(c, NULL);
}
/* The libcgctl call for the method open_cgroup names. */
static int call_open_cgroup(cgctl *c)
{
	int fd = -1;
	return cgctl_open_cgroup(c, "x", &fd);
}

/* The libcgctl call for the method snapshot names. */
static int call_snapshot(cgctl *c)
{
	char *json = NULL;
	return cgctl_snapshot(c, NULL, &json);
}

/* Each io.cgctl.Manager method and the libcgctl call that makes it. */
static const struct binding {
	const char *method;
	call_fn call;
} bindings[] = {
	{ "GetStatus", call_get_status },   { "Create", call_create },
	{ "Destroy", call_destroy },        { "List", call_list },
	{ "Attach", call_attach },          { "SetResources", call_set_resources },
	{ "GetStats", call_get_stats },     { "Freeze", call_freeze },
	{ "Thaw", call_thaw },              { "Kill", call_kill },
	{ "Watch", call_watch },            { "OpenCgroup", call_open_cgroup },
	{ "Snapshot", call_snapshot },
};

/* The fake daemon's side: 0 when the one call was of method; answers NotFound either way. */
static int serve_one(int fd, const char *method)
{
	static const char reply[] = "{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":"
				    "{\"name\":\"x\",\"message\":\"no such cgroup\"}}";
	char msg[8192], want[128];
	int r;

	if (srv_read_msg(fd, msg, sizeof(msg)) <= 0)
		return 10;
	snprintf(want, sizeof(want), "\"method\":\"io.cgctl.Manager.%s\"", method);
	r = strstr(msg, want) ? 0 : 11;
	if (r)
		fprintf(stderr, "fake server: expected %s, got %s\n", method, msg);
	if (srv_write(fd, reply, sizeof(reply)) < 0)
		return 12;
	srv_drain(fd);
	return r;
}

/* Run b's call against a fake that expects b->method; the fake's exit status. */
static int run_binding(const struct binding *b)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test_libcgctl_interface.XXXXXX";
	int lfd, cfd, status = -1;
	cgctl *c = NULL;
	pid_t pid;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", dir);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		_exit(cfd < 0 ? 20 : serve_one(cfd, b->method));
	}
	close(lfd);
	ck_assert_int_eq(cgctl_connect(sa.sun_path, &c), 0);
	ck_assert_int_eq(b->call(c), -ENOENT);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.NotFound");
	cgctl_disconnect(c);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(sa.sun_path);
	rmdir(dir);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

START_TEST(test_every_method_bound)
{
	char **methods = declared("method ");

	for (size_t i = 0; methods[i]; i++) {
		const struct binding *b = NULL;

		for (size_t j = 0; j < sizeof(bindings) / sizeof(bindings[0]); j++)
			if (strcmp(bindings[j].method, methods[i]) == 0)
				b = &bindings[j];
		ck_assert_msg(b, "method %s of the interface has no libcgctl call", methods[i]);
		ck_assert_msg(run_binding(b) == 0, "libcgctl's call for %s sent another method", methods[i]);
	}
	declared_free(methods);
}
END_TEST

START_TEST(test_every_error_mapped)
{
	char **errors = declared("error ");
	char name[128];

	for (size_t i = 0; errors[i]; i++) {
		snprintf(name, sizeof(name), "io.cgctl.Manager.%s", errors[i]);
		ck_assert_msg(libcgctl_error_to_code(name, NULL) != -EPROTO,
			      "error %s of the interface has no libcgctl code", name);
	}
	/* The check can tell: a name the interface does not declare is -EPROTO. */
	ck_assert_int_eq(libcgctl_error_to_code("io.cgctl.Manager.NoSuchError", NULL), -EPROTO);
	declared_free(errors);
}
END_TEST

/* The suite. */
static Suite *interface_suite(void)
{
	Suite *s = suite_create("libcgctl_interface");
	TCase *tc = tcase_create("drift");

	tcase_add_test(tc, test_every_method_bound);
	tcase_add_test(tc, test_every_error_mapped);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(interface_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
