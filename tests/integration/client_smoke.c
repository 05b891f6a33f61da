/* SPDX-License-Identifier: MIT */
/* client_smoke.c: drive libcgctl through create/list/destroy against a live cgctld, using only <cgctl.h>. */

/*
 * Usage: client_smoke [--keep] [SOCKET]   (SOCKET defaults to $CGCTL_SOCKET,
 * then the library's default). Prints "named NAME PATH" and "generated NAME
 * PATH" as soon as each cgroup exists, so the harness can check the kernel
 * tree; with --keep it stops before destroying them. Exits 0 only when every
 * check held, 1 otherwise, naming each failed check on stderr.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../client/cgctl.h"

static int failures;

/* Count and report a failed check. */
static void check_failed(const char *what, int r, const cgctl *c)
{
	const char *name = c ? cgctl_error_name(c) : NULL;
	const char *msg = cgctl_error_message(c); /* without a handle: why connect failed */

	fprintf(stderr, "client_smoke: FAILED %s: r=%d (%s)%s%s%s%s\n", what, r,
		r < 0 ? cgctl_strerror(r) : "-", name ? " " : "", name ? name : "",
		msg ? ": " : "", msg ? msg : "");
	failures++;
}

/* The entry called name in list, NULL if absent. */
static const struct cgctl_entry *find_entry(struct cgctl_entry *const *list, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (list[i]->name && strcmp(list[i]->name, name) == 0)
			return list[i];
	return NULL;
}

/* Check that name is listed, active, with the expected generated flag and path. */
static void check_listed(struct cgctl_entry *const *list, size_t n, const char *name,
			 int generated, const char *path)
{
	const struct cgctl_entry *e = find_entry(list, n, name);

	if (!e) {
		fprintf(stderr, "client_smoke: FAILED list: %s missing\n", name);
		failures++;
		return;
	}
	if (!e->state || strcmp(e->state, "active") != 0) {
		fprintf(stderr, "client_smoke: FAILED list: %s state %s, want active\n", name,
			e->state ? e->state : "(null)");
		failures++;
	}
	if (e->generated != generated) {
		fprintf(stderr, "client_smoke: FAILED list: %s generated=%d, want %d\n", name,
			e->generated, generated);
		failures++;
	}
	if (!e->path || strcmp(e->path, path) != 0) {
		fprintf(stderr, "client_smoke: FAILED list: %s path %s, want %s\n", name,
			e->path ? e->path : "(null)", path);
		failures++;
	}
	if (!e->labels) {
		fprintf(stderr, "client_smoke: FAILED list: %s labels NULL\n", name);
		failures++;
	}
}

/* Destroy name and check it existed, and that it is then gone from the list. */
static void destroy_checked(cgctl *c, const char *name)
{
	struct cgctl_entry **list = NULL;
	size_t n = 0;
	int existed = -1;
	int r;

	r = cgctl_destroy(c, name, 0, &existed);
	if (r < 0) {
		check_failed("destroy", r, c);
		return;
	}
	if (existed != 1) {
		fprintf(stderr, "client_smoke: FAILED destroy %s: existed=%d, want 1\n", name, existed);
		failures++;
	}
	r = cgctl_list(c, NULL, &list, &n);
	if (r < 0) {
		check_failed("list after destroy", r, c);
		return;
	}
	if (find_entry(list, n, name)) {
		fprintf(stderr, "client_smoke: FAILED list: %s still listed after destroy\n", name);
		failures++;
	}
	cgctl_entries_free(list, n);
}

int main(int argc, char **argv)
{
	struct cgctl_create_opts opts = { .size = sizeof(opts) };
	const char *labels[] = { "smoke=1", NULL };
	struct cgctl_entry *named = NULL, *gen = NULL, **list = NULL;
	const char *socket_path = NULL;
	size_t n = 0;
	int keep = 0, existed = -1;
	cgctl *c = NULL;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0)
			keep = 1;
		else
			socket_path = argv[i];
	}
	if (!socket_path)
		socket_path = getenv("CGCTL_SOCKET");

	r = cgctl_connect(socket_path, &c);
	if (r < 0) {
		check_failed("connect", r, NULL);
		return 1;
	}
	cgctl_set_timeout(c, 10000);

	opts.labels = labels;
	r = cgctl_create(c, "smoke-named", &opts, &named);
	if (r < 0 || !named || !named->name || !named->path) {
		check_failed("create smoke-named", r, c);
		goto out;
	}
	printf("named %s %s\n", named->name, named->path);

	opts.labels = NULL;
	opts.generate = 1;
	r = cgctl_create(c, NULL, &opts, &gen);
	if (r < 0 || !gen || !gen->name || !gen->path) {
		check_failed("create generated", r, c);
		goto out;
	}
	printf("generated %s %s\n", gen->name, gen->path);
	fflush(stdout);
	if (gen->generated != 1) {
		fprintf(stderr, "client_smoke: FAILED create: generated flag %d\n", gen->generated);
		failures++;
	}

	/* Creating the same name again fails with -EEXIST. */
	r = cgctl_create(c, "smoke-named", NULL, NULL);
	if (r != -EEXIST)
		check_failed("second create smoke-named (want -EEXIST)", r, c);

	r = cgctl_list(c, NULL, &list, &n);
	if (r < 0) {
		check_failed("list", r, c);
		goto out;
	}
	check_listed(list, n, "smoke-named", 0, named->path);
	check_listed(list, n, gen->name, 1, gen->path);
	if (keep)
		goto out;

	destroy_checked(c, "smoke-named");
	destroy_checked(c, gen->name);

	r = cgctl_destroy(c, "smoke-never-created", 0, &existed);
	if (r != 0)
		check_failed("destroy of a missing name (want 0)", r, c);
	else if (existed != 0) {
		fprintf(stderr, "client_smoke: FAILED destroy missing: existed=%d, want 0\n", existed);
		failures++;
	}

out:
	cgctl_entries_free(list, n);
	cgctl_entry_free(named);
	cgctl_entry_free(gen);
	cgctl_disconnect(c);
	if (failures)
		fprintf(stderr, "client_smoke: %d check(s) failed\n", failures);
	return failures ? 1 : 0;
}
