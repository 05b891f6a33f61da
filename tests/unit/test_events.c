// SPDX-License-Identifier: MIT
/* test_events.c: Check suite for the domain's entry tracking (daemon/events.c): inotify, state cache, auto_remove bookkeeping. */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <event2/event.h>

#include "../../daemon/events.h"
#include "../../daemon/manager.h"
#include "../../daemon/manager_internal.h"
#include "../../daemon/monitor.h"
#include "testutil.h"

/*
 * A plain directory stands in for the managed root: each entry a directory
 * with a cgroup.events file the test rewrites as the kernel would, which
 * inotify reports the same way. No transport, no glue: events go to this
 * file's sink.
 */
#define EVENTS_MAX 32
static struct {
	char type[16], name[32];
	uid_t owner;
	const void *to;
} seen[EVENTS_MAX];
static size_t n_seen;

static char base[] = "/tmp/events-test.XXXXXX";
static struct event_base *evb;
static struct manager m;

/* The sink: record the event. */
static void sink(void *userdata, const void *to, const char *type, const char *name, uid_t owner,
		 json_object *details)
{
	ck_assert_ptr_eq(userdata, &m);
	ck_assert_uint_lt(n_seen, EVENTS_MAX);
	snprintf(seen[n_seen].type, sizeof(seen[0].type), "%s", type);
	snprintf(seen[n_seen].name, sizeof(seen[0].name), "%s", name);
	seen[n_seen].owner = owner;
	seen[n_seen].to = to;
	n_seen++;
}

/* Write text into name's interface file file, as the kernel shows it. */
static void write_attr(const char *name, const char *file, const char *text)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/root/%s/%s", base, name, file);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Write name's cgroup.events as the kernel shows it. */
static void set_events(const char *name, int populated, int frozen)
{
	char text[64];

	snprintf(text, sizeof(text), "populated %d\nfrozen %d\n", populated, frozen);
	write_attr(name, "cgroup.events", text);
}

/* An entry name (auto_remove or not) in the ledger and on "disk", its cgroup.events as given. */
static struct ledger_entry *entry(const char *name, bool auto_remove, int populated)
{
	struct ledger_entry e = { .name = (char *)name, .state = LEDGER_ACTIVE, .auto_remove = auto_remove,
				  .owner = 4242 };
	struct ledger_entry *le;
	char path[256];

	snprintf(path, sizeof(path), "%s/root/%s", base, name);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	set_events(name, populated, 0);
	ck_assert_int_eq(ledger_put(m.ledger, &e, &le), 0);
	return le;
}

/* A ledger, a root directory, a loop with an inotify monitor, our sink. */
static void setup(void)
{
	char dir[128];

	tu_scratch(base, sizeof(base), "events-test");
	memset(&m, 0, sizeof(m));
	n_seen = 0;
	snprintf(dir, sizeof(dir), "%s/state", base);
	ck_assert_int_eq(ledger_open(dir, &m.ledger), 0);
	snprintf(dir, sizeof(dir), "%s/root", base);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	m.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(m.rootfd, 0);
	evb = event_base_new();
	ck_assert_ptr_nonnull(evb);
	m.base = evb;
	ck_assert_int_eq(monitor_new(evb, &m.mon), 0);
	events_set_sink(&m, sink, &m);
}

/* Stop following everything, free, remove the tree. */
static void teardown(void)
{
	events_stop(&m);
	m.mon = monitor_free(m.mon);
	m.ledger = ledger_close(m.ledger);
	close(m.rootfd);
	event_base_free(evb);
	tu_rm_tree(base);
}

/* Run the loop until n events were seen (bounded). */
static void run_until(size_t n)
{
	for (int i = 0; i < 2000 && n_seen < n; i++) {
		event_base_loop(evb, EVLOOP_NONBLOCK);
		if (n_seen < n)
			usleep(1000);
	}
	ck_assert_uint_eq(n_seen, n);
}

/* Following reads the state at once; a change reported by inotify is cached and told once, with the owner. */
START_TEST(test_track_and_change)
{
	struct ledger_entry *le = entry("a", false, 0);
	bool populated = true, frozen = true;

	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), -ENOENT);
	ck_assert_int_eq(events_follow(&m, le), 0);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), 0);
	ck_assert(!populated && !frozen);
	set_events("a", 1, 0);
	run_until(1);
	ck_assert_str_eq(seen[0].type, "populated");
	ck_assert_str_eq(seen[0].name, "a");
	ck_assert_uint_eq(seen[0].owner, 4242);
	ck_assert_ptr_null(seen[0].to);
	/* Just changed: the kernel may hold back a second notification (10 ms), so the cache is not trusted yet. */
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), -EAGAIN);
	/* The same state again is no transition. */
	set_events("a", 1, 0);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	usleep(20000);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_seen, 1);
	/* Empty again, and settled: the cache is the answer. */
	set_events("a", 0, 0);
	run_until(2);
	ck_assert_str_eq(seen[1].type, "empty");
	usleep(60 * 1000);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), 0);
	ck_assert(!populated && !frozen);
}
END_TEST

/* A confirmed freeze is told at once and once: the kernel's later notification adds nothing. */
START_TEST(test_confirm_frozen_once)
{
	struct ledger_entry *le = entry("f", false, 0);

	ck_assert_int_eq(events_follow(&m, le), 0);
	events_confirm_frozen(&m, "f", true);
	ck_assert_uint_eq(n_seen, 1);
	ck_assert_str_eq(seen[0].type, "frozen");
	set_events("f", 0, 1);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	usleep(20000);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_seen, 1);
	set_events("f", 0, 0);
	run_until(2);
	ck_assert_str_eq(seen[1].type, "thawed");
}
END_TEST

/* Untracked, an entry is told no more. */
START_TEST(test_untrack_silences)
{
	struct ledger_entry *le = entry("u", false, 0);
	bool populated, frozen;

	ck_assert_int_eq(events_follow(&m, le), 0);
	events_untrack(&m, le);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), -ENOENT);
	set_events("u", 1, 0);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	usleep(20000);
	event_base_loop(evb, EVLOOP_NONBLOCK);
	ck_assert_uint_eq(n_seen, 0);
}
END_TEST

/* An auto_remove entry that gets processes records it ("has had processes" survives a restart). */
START_TEST(test_auto_remove_records_populated)
{
	struct ledger_entry *le = entry("ar", true, 0);

	ck_assert_int_eq(events_track(&m, le), 0);
	ck_assert(!le->was_populated);
	set_events("ar", 1, 0);
	run_until(1);
	ck_assert(ledger_get(m.ledger, "ar")->was_populated);
	ck_assert(ledger_dirty(m.ledger));
}
END_TEST

/* Processes moved in before anyone read populated 1: events_attached() records it all the same. */
START_TEST(test_attached_records)
{
	struct ledger_entry *le = entry("at", true, 0);

	ck_assert_int_eq(events_track(&m, le), 0);
	set_events("at", 1, 0);
	ck_assert(events_attached(&m, "at"));
	ck_assert(ledger_get(m.ledger, "at")->was_populated);
	/* Not auto_remove, or already recorded: nothing to write. */
	ck_assert(!events_attached(&m, "at"));
}
END_TEST

/* Let the loop take what inotify has queued (a change would have arrived). */
static void settle(void)
{
	event_base_loop(evb, EVLOOP_NONBLOCK);
	usleep(20000);
	event_base_loop(evb, EVLOOP_NONBLOCK);
}

/* Only what needs it is followed: an auto_remove entry, not a plain one (no watch, no events, no cache). */
START_TEST(test_track_only_where_needed)
{
	struct ledger_entry *plain = entry("plain", false, 0), *ar = entry("ar", true, 0);
	bool populated, frozen;

	ck_assert_int_eq(events_track(&m, plain), 0);
	ck_assert_int_eq(events_state(&m, plain, &populated, &frozen), -ENOENT);
	ck_assert_ptr_null(plain->userdata);
	set_events("plain", 1, 0);
	settle();
	ck_assert_uint_eq(n_seen, 0);
	ck_assert_int_eq(events_track(&m, ar), 0);
	ck_assert_int_eq(events_state(&m, ar, &populated, &frozen), 0);
}
END_TEST

/* Write name's memory.events with these counters. */
static void set_memory_events(const char *name, int oom, int oom_kill)
{
	char text[96];

	snprintf(text, sizeof(text), "low 0\nhigh 0\nmax 0\noom %d\noom_kill %d\n", oom, oom_kill);
	write_attr(name, "memory.events", text);
}

/* Counts already in memory.events when following starts are where events start, not events. */
START_TEST(test_memory_counts_at_start_are_no_events)
{
	struct ledger_entry *le = entry("mem", true, 0);

	m.have_memory = true;
	set_memory_events("mem", 3, 1);
	ck_assert_int_eq(events_track(&m, le), 0);
	settle();
	ck_assert_uint_eq(n_seen, 0);
	set_memory_events("mem", 4, 1);
	run_until(1);
	ck_assert_str_eq(seen[0].type, "oom");
	ck_assert_str_eq(seen[0].name, "mem");
}
END_TEST

/* The first Watch stream follows every existing entry; entries made while one is open are followed too. */
START_TEST(test_watching_follows_every_entry)
{
	struct ledger_entry *old = entry("old", false, 0), *later, *after;
	bool populated, frozen;

	ck_assert_int_eq(events_track(&m, old), 0);
	ck_assert_int_eq(events_state(&m, old, &populated, &frozen), -ENOENT);
	ck_assert_int_eq(events_set_watching(&m, true), 0);
	ck_assert_int_eq(events_state(&m, old, &populated, &frozen), 0);
	set_events("old", 1, 0);
	run_until(1);
	ck_assert_str_eq(seen[0].type, "populated");
	ck_assert_str_eq(seen[0].name, "old");
	later = entry("later", false, 0);
	ck_assert_int_eq(events_track(&m, later), 0);
	ck_assert_int_eq(events_state(&m, later, &populated, &frozen), 0);
	/* The last stream gone: new entries are not followed; those followed stay so. */
	ck_assert_int_eq(events_set_watching(&m, false), 0);
	after = entry("after", false, 0);
	ck_assert_int_eq(events_track(&m, after), 0);
	ck_assert_int_eq(events_state(&m, after, &populated, &frozen), -ENOENT);
	set_events("old", 0, 0);
	run_until(2);
	usleep(60 * 1000); /* past the window after its change */
	ck_assert_int_eq(events_state(&m, old, &populated, &frozen), 0);
}
END_TEST

/* name's "frozen" in List's answer (-1: absent). */
static int listed_frozen(const char *name, const char *field)
{
	json_object *text = NULL, *arr, *v;
	struct op_error e;
	int r = -1;

	ck_assert_int_eq(manager_list(&m, 0, name, &text, &e), 0);
	/* List's answer is ready-made text: parse it as the client does. */
	arr = json_tokener_parse(json_object_to_json_string(text));
	json_object_put(text);
	ck_assert_uint_eq(json_object_array_length(arr), 1);
	if (json_object_object_get_ex(json_object_array_get_idx(arr, 0), field, &v))
		r = json_object_get_boolean(v);
	json_object_put(arr);
	return r;
}

/*
 * A cold entry (nothing needed it followed): Create's reply reads its state
 * (a child of a frozen cgroup starts frozen) and leaves it cold; List reads it
 * too and follows it from then on, so the next List is current without a read.
 */
START_TEST(test_list_follows_cold_entry)
{
	struct ledger_entry *le = entry("cold", false, 0);
	bool populated, frozen;
	json_object *text, *o, *v;

	m.root_path = strdup("/sys/fs/cgroup/x");
	set_events("cold", 0, 1);
	ck_assert_int_eq(events_track(&m, le), 0);
	text = manager_entry_to_json(&m, le);
	o = json_tokener_parse(json_object_to_json_string(text));
	json_object_put(text);
	ck_assert(json_object_object_get_ex(o, "frozen", &v) && json_object_get_boolean(v));
	json_object_put(o);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), -ENOENT);
	ck_assert_int_eq(listed_frozen("cold", "frozen"), 1);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), 0);
	ck_assert(frozen && !populated);
	set_events("cold", 1, 0);
	ck_assert_int_eq(listed_frozen("cold", "frozen"), 0);
	ck_assert_int_eq(listed_frozen("cold", "populated"), 1);
	free(m.root_path);
	m.root_path = NULL;
}
END_TEST

/*
 * A cached "populated" is never the answer, however old: the kernel tells of
 * the last process's exit through a work queue, late and with no bound, so
 * List reads the file. A cached "empty" is, once settled (no read for it).
 */
START_TEST(test_populated_never_trusted)
{
	struct ledger_entry *le = entry("p", false, 0);
	bool populated, frozen;

	ck_assert_int_eq(events_follow(&m, le), 0);
	set_events("p", 1, 0);
	run_until(1);
	usleep(60 * 1000); /* past the 50 ms after its change */
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), -EAGAIN);
	set_events("p", 0, 0);
	run_until(2);
	usleep(60 * 1000);
	ck_assert_int_eq(events_state(&m, le, &populated, &frozen), 0);
	ck_assert(!populated);
}
END_TEST

/*
 * The last process exits long after it came, and the kernel's notification
 * of it reaches inotify late (here 200 ms, $CGCTLD_TEST_INOTIFY_LATE_MS; on a
 * loaded machine the kernel's work queue does that): List, which drains
 * inotify first, still says empty; the event comes later, once.
 */
START_TEST(test_list_exit_told_late)
{
	struct ledger_entry *le;

	m.mon = monitor_free(m.mon);
	setenv("CGCTLD_TEST_INOTIFY_LATE_MS", "200", 1);
	ck_assert_int_eq(monitor_new(evb, &m.mon), 0);
	unsetenv("CGCTLD_TEST_INOTIFY_LATE_MS");
	m.root_path = strdup("/sys/fs/cgroup/x");
	le = entry("late", false, 0);
	ck_assert_int_eq(listed_frozen("late", "populated"), 0); /* followed from now on */
	ck_assert_ptr_nonnull(le->userdata);
	set_events("late", 1, 0);
	run_until(1);
	ck_assert_str_eq(seen[0].type, "populated");
	usleep(60 * 1000); /* past the 50 ms after its change */
	set_events("late", 0, 0); /* the exit: inotify hears of it 200 ms from now */
	ck_assert_int_eq(listed_frozen("late", "populated"), 0);
	ck_assert_uint_eq(n_seen, 1);
	run_until(2);
	ck_assert_str_eq(seen[1].type, "empty");
	free(m.root_path);
	m.root_path = NULL;
}
END_TEST

/* Without a sink events go nowhere (and details are still freed). */
START_TEST(test_no_sink)
{
	events_set_sink(&m, NULL, NULL);
	events_emit_owned(&m, "x", "", 0, json_object_new_object());
	ck_assert_uint_eq(n_seen, 0);
	events_set_sink(&m, sink, &m);
	events_send(&m, &m, "pressure", "", NULL);
	ck_assert_uint_eq(n_seen, 1);
	ck_assert_ptr_eq(seen[0].to, &m);
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
static Suite *events_suite(void)
{
	Suite *s = suite_create("events");

	add_tcase(s, "track_and_change", test_track_and_change);
	add_tcase(s, "confirm_frozen_once", test_confirm_frozen_once);
	add_tcase(s, "untrack_silences", test_untrack_silences);
	add_tcase(s, "auto_remove_records_populated", test_auto_remove_records_populated);
	add_tcase(s, "attached_records", test_attached_records);
	add_tcase(s, "no_sink", test_no_sink);
	add_tcase(s, "track_only_where_needed", test_track_only_where_needed);
	add_tcase(s, "memory_counts_at_start_are_no_events", test_memory_counts_at_start_are_no_events);
	add_tcase(s, "watching_follows_every_entry", test_watching_follows_every_entry);
	add_tcase(s, "list_follows_cold_entry", test_list_follows_cold_entry);
	add_tcase(s, "populated_never_trusted", test_populated_never_trusted);
	add_tcase(s, "list_exit_told_late", test_list_exit_told_late);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(events_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
