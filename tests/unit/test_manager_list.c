/* SPDX-License-Identifier: MIT */
/* test_manager_list.c: Check suite for List in daemon/manager_list.c: its text against json-c's serialisation. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../daemon/cgroupfs.h"
#include "../../daemon/manager_internal.h"
#include "cleanup.h"
#include "varlink.h"
#include "testutil.h"

static char base[] = "/tmp/manager-list-test.XXXXXX";
static struct manager m;

/* Names a client may choose, with what JSON must escape in them. */
static const char *const hostile_names[] = {
	"q\"uote", "back\\slash", "sl", "sl/a\"sh", "uni\xc3\xa9\xe4\xb8\xad\xf0\x9f\x98\x80",
	"cgroup.procs", "_under", "sp ace", "tilde~\x7e", "u2028\xe2\x80\xa8",
};

/* Labels with every kind of hostile key and value a client can send. */
static json_object *hostile_labels(void)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "k\"\\/\b\f\n\r\t\x01\x1f\x7f", json_object_new_string_len("v\0nul\"\\/\x01", 10));
	json_object_object_add(o, "", json_object_new_string(""));
	json_object_object_add(o, "esc\xe2\x80\xa8", json_object_new_string("\xe2\x80\xa9</script>"));
	return o;
}

/* A ledger in a temp dir, a root directory standing in for the cgroup tree. */
static void setup(void)
{
	char path[256];
	int i = 0;

	tu_scratch(base, sizeof(base), "manager-list-test");
	m = (struct manager){ .rootfd = -1 };
	snprintf(path, sizeof(path), "%s/state", base);
	ck_assert_int_eq(ledger_open(path, &m.ledger), 0);
	snprintf(path, sizeof(path), "%s/root", base);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	m.rootfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(m.rootfd, 0);
	/* The root path itself holds characters to escape. */
	m.root_path = strdup("/sys/fs/cgroup/\"odd\\root\"");
	for (const char *const *n = hostile_names; n < hostile_names + ELEMENTSOF(hostile_names); n++, i++) {
		struct ledger_entry e = {
			.name = (char *)*n, .state = (enum ledger_state)(i % 3), .generated = i % 2,
			.delegate = i % 3 == 1, .auto_remove = i % 4 == 1, .lease = i % 5 == 1,
			.created_usec = i == 0 ? UINT64_MAX : 1700000000000000ull + (uint64_t)i,
			.labels = i % 2 == 0 ? hostile_labels() : NULL,
		};

		ck_assert_int_eq(ledger_put(m.ledger, &e, NULL), 0);
		json_object_put(e.labels);
	}
}

/* Close the ledger and remove the tree. */
static void teardown(void)
{
	m.ledger = ledger_close(m.ledger);
	close(m.rootfd);
	free(m.root_path);
	tu_rm_tree(base);
}

/* Give the cgroup rel a cgroup.events file, as the kernel would. */
static void fake_events(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/root/%s", base, rel);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/root/%s/cgroup.events", base, rel);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

/*
 * The reference: an Entry built as a json-c tree, the way cgctld built it
 * before List wrote text (state read from cgroup.events, null when unknown).
 */
static json_object *reference_entry(const struct ledger_entry *le)
{
	json_object *o = json_object_new_object();
	_cleanup_free_ char *rel = NULL, *abs = NULL;
	bool populated = false, frozen = false;
	int r = -ENOENT;

	if (cgname_to_path(le->name, &rel) >= 0) {
		ck_assert_int_ge(asprintf(&abs, "%s/%s", m.root_path, rel), 0);
		r = cgfs_read_events(m.rootfd, rel, &populated, &frozen);
	}
	json_object_object_add(o, "name", json_object_new_string(le->name));
	json_object_object_add(o, "path", json_object_new_string(abs ? abs : ""));
	json_object_object_add(o, "state", json_object_new_string(ledger_state_to_string(le->state)));
	json_object_object_add(o, "generated", json_object_new_boolean(le->generated));
	json_object_object_add(o, "populated", r < 0 ? NULL : json_object_new_boolean(populated));
	json_object_object_add(o, "frozen", r < 0 ? NULL : json_object_new_boolean(frozen));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)le->created_usec));
	json_object_object_add(o, "delegate", json_object_new_boolean(le->delegate));
	json_object_object_add(o, "auto_remove", json_object_new_boolean(le->auto_remove));
	json_object_object_add(o, "lease", json_object_new_boolean(le->lease));
	json_object_object_add(o, "owner", json_object_new_int64((int64_t)le->owner));
	json_object_object_add(o, "labels", le->labels ? json_object_get(le->labels) : json_object_new_object());
	return o;
}

/* Expect the reply {"entries": got} to be, byte for byte, the reply with json-c's tree want. */
static void expect_same_reply(json_object *got, json_object *want)
{
	json_object *pg = json_object_new_object(), *pw = json_object_new_object();
	_cleanup_free_ char *g = NULL, *w = NULL;
	size_t gn, wn;

	json_object_object_add(pg, "entries", got);
	json_object_object_add(pw, "entries", want);
	ck_assert_int_eq(vl_reply_format(NULL, pg, false, &g, &gn), 0);
	ck_assert_int_eq(vl_reply_format(NULL, pw, false, &w, &wn), 0);
	/* One check, not one a byte: each of Check's passing asserts writes a record (3000 entries: 1M). */
	if (gn != wn || memcmp(g, w, gn) != 0) {
		size_t i = 0;

		while (i < gn && i < wn && g[i] == w[i])
			i++;
		ck_abort_msg("differs at byte %zu of %zu (want %zu): got \"%.60s\", want \"%.60s\"",
			     i, gn, wn, g + i, w + i);
	}
	json_object_put(pg);
	json_object_put(pw);
}

/* The reference array of the entries at or below name. */
static json_object *reference_list(const char *name)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	json_object *a = json_object_new_array();
	size_t n;

	ck_assert_int_eq(ledger_list(m.ledger, &all, &n), 0);
	for (size_t i = 0; i < n; i++)
		if (!name || cgname_is_below(all[i]->name, name))
			json_object_array_add(a, reference_entry(all[i]));
	return a;
}

START_TEST(test_list_hostile)
{
	struct op_error e;
	json_object *got;

	fake_events("q\"uote", "populated 1\nfrozen 0\n");
	fake_events("_cgroup.procs", "populated 0\nfrozen 1\n");
	fake_events("sl", "populated 1\nfrozen 1\n");
	ck_assert_int_eq(manager_list(&m, geteuid(), NULL, &got, &e), 0);
	expect_same_reply(got, reference_list(NULL));
}
END_TEST

START_TEST(test_list_below)
{
	struct op_error e;
	json_object *got;

	ck_assert_int_eq(manager_list(&m, geteuid(), "sl", &got, &e), 0);
	expect_same_reply(got, reference_list("sl"));
	ck_assert_int_eq(manager_list(&m, geteuid(), "sl/a\"sh", &got, &e), 0);
	expect_same_reply(got, reference_list("sl/a\"sh"));
}
END_TEST

START_TEST(test_list_not_found)
{
	struct op_error e;
	json_object *got = NULL;

	ck_assert_int_eq(manager_list(&m, geteuid(), "nosuch", &got, &e), -ENOENT);
	ck_assert_int_eq(e.code, CGERR_NOT_FOUND);
	ck_assert_ptr_null(got);
	ck_assert_int_eq(manager_list(&m, geteuid(), "a//b", &got, &e), -EINVAL);
	ck_assert_int_eq(e.code, CGERR_INVALID_NAME);
}
END_TEST

START_TEST(test_list_empty)
{
	struct op_error e;
	json_object *got;

	for (const char *const *n = hostile_names; n < hostile_names + ELEMENTSOF(hostile_names); n++)
		ck_assert_int_eq(ledger_remove(m.ledger, *n), 0);
	ck_assert_int_eq(manager_list(&m, geteuid(), NULL, &got, &e), 0);
	expect_same_reply(got, json_object_new_array());
}
END_TEST

START_TEST(test_entry_to_json)
{
	struct ledger_entry *le = ledger_get(m.ledger, "q\"uote");

	/* Create's reply carries the same Entry text. */
	ck_assert_ptr_nonnull(le);
	fake_events("q\"uote", "populated 0\nfrozen 0\n");
	expect_same_reply(manager_entry_to_json(&m, le), reference_entry(le));
}
END_TEST

START_TEST(test_list_many)
{
	struct op_error e;
	json_object *got;

	/* Enough entries to outgrow the first guess at the buffer's size. */
	for (int i = 0; i < 3000; i++) {
		char name[64];
		json_object *labels = json_object_new_object();
		struct ledger_entry le = { .name = name, .state = LEDGER_ACTIVE, .created_usec = (uint64_t)i,
					   .labels = labels };

		snprintf(name, sizeof(name), "many-%04d", i);
		json_object_object_add(labels, "big", json_object_new_string_len(
			"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"\"", 40));
		ck_assert_int_eq(ledger_put(m.ledger, &le, NULL), 0);
		json_object_put(labels);
	}
	ck_assert_int_eq(manager_list(&m, geteuid(), NULL, &got, &e), 0);
	expect_same_reply(got, reference_list(NULL));
}
END_TEST

/* Put an active entry of owner; uids far from any real user's. */
static void put_owned(const char *name, uid_t owner)
{
	struct ledger_entry le = { .name = (char *)name, .state = LEDGER_ACTIVE, .owner = owner };

	ck_assert_int_eq(ledger_put(m.ledger, &le, NULL), 0);
}

/* The names in a List reply (ready-made text, parsed here), in order, joined by spaces. */
static void expect_names(json_object *text, const char *want)
{
	json_object *got = json_tokener_parse(json_object_to_json_string(text));
	char buf[512] = "";

	ck_assert_ptr_nonnull(got);
	json_object_put(text);

	for (size_t i = 0; i < json_object_array_length(got); i++) {
		json_object *name = json_object_object_get(json_object_array_get_idx(got, i), "name");

		strncat(buf, i ? " " : "", sizeof(buf) - strlen(buf) - 1);
		strncat(buf, json_object_get_string(name), sizeof(buf) - strlen(buf) - 1);
	}
	ck_assert_str_eq(buf, want);
	json_object_put(got);
}

START_TEST(test_list_tenants)
{
	const uid_t t1 = 4000001, t2 = 4000002;
	struct op_error e;
	json_object *got;

	for (const char *const *n = hostile_names; n < hostile_names + ELEMENTSOF(hostile_names); n++)
		ck_assert_int_eq(ledger_remove(m.ledger, *n), 0);
	put_owned("adm", geteuid());
	put_owned("one", t1);
	put_owned("one/adm", geteuid());
	put_owned("one/x", t1);
	put_owned("two", t2);
	/* A tenant sees its own entries only, an administrator (our euid, root) all, with owners. */
	ck_assert_int_eq(manager_list(&m, t1, NULL, &got, &e), 0);
	expect_names(got, "one one/x");
	ck_assert_int_eq(manager_list(&m, t2, NULL, &got, &e), 0);
	expect_names(got, "two");
	ck_assert_int_eq(manager_list(&m, t1, "one", &got, &e), 0);
	expect_names(got, "one one/x");
	ck_assert_int_eq(manager_list(&m, geteuid(), NULL, &got, &e), 0);
	expect_same_reply(got, reference_list(NULL));
	ck_assert_int_eq(manager_list(&m, 0, "one", &got, &e), 0);
	expect_names(got, "one one/adm one/x");
	/* Another's entry is not found, exactly like a missing one. */
	ck_assert_int_eq(manager_list(&m, t1, "two", &got, &e), -ENOENT);
	ck_assert_int_eq(e.code, CGERR_NOT_FOUND);
	ck_assert_int_eq(manager_list(&m, t1, "one/adm", &got, &e), -ENOENT);
	ck_assert_int_eq(manager_list(&m, t2, "adm", &got, &e), -ENOENT);
}
END_TEST

/* Add a test case named after its only test, with a fresh ledger. */
static void add_case(Suite *s, const char *name, const TTest *t)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, t);
	suite_add_tcase(s, tc);
}

static Suite *manager_list_suite(void)
{
	Suite *s = suite_create("manager_list");

	add_case(s, "list_hostile", test_list_hostile);
	add_case(s, "list_below", test_list_below);
	add_case(s, "list_not_found", test_list_not_found);
	add_case(s, "list_empty", test_list_empty);
	add_case(s, "entry_to_json", test_entry_to_json);
	add_case(s, "list_many", test_list_many);
	add_case(s, "list_tenants", test_list_tenants);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(manager_list_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
