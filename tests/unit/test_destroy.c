/* SPDX-License-Identifier: MIT */
/* test_destroy.c: Check suite for daemon/manager_destroy.c: removal that is total, honest, and touches only what is ours. */

#include "domainfix.h"
#include "../../daemon/ledger_internal.h"

static struct domfix f;

/* How a destroy ended. */
struct result {
	bool done, existed;
	int r, calls;
	char removed[512]; /* the removed names, as JSON */
	struct op_error e;
};

/* Keep what the destroy reported (called exactly once). */
static void result_cb(void *arg, int r, bool existed, json_object *removed, const struct op_error *e)
{
	struct result *res = arg;

	res->done = true;
	res->calls++;
	res->r = r;
	res->existed = existed;
	snprintf(res->removed, sizeof(res->removed), "%s",
		 removed ? json_object_to_json_string_ext(removed, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)
			 : "null");
	if (r < 0)
		res->e = *e;
}

/* A temp root standing in for the cgroup tree. */
static void setup(void)
{
	domfix_setup(&f, false);
}

/* Tear the fixture down. */
static void teardown(void)
{
	domfix_teardown(&f);
}

/* Create name as tenant owner (no fault). */
static void create_as(const char *name, uid_t owner)
{
	struct create_request req = { .name = name, .owner = owner };
	struct ledger_entry *le;
	struct op_error e;

	ck_assert_msg(manager_create(&f.m, &req, &le, &e) == 0, "create %s: %s", name, e.message);
}

/* Destroy as caller (0: root) and run the loop until it is done. */
static struct result destroy(const char *name, bool recursive, bool kill, uid_t caller)
{
	struct destroy_request req = { .name = name, .recursive = recursive, .kill = kill, .timeout_ms = 3000,
				       .caller = caller };
	struct result res = { 0 };

	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(domfix_loop_until(&f, &res.done, 5000));
	ck_assert_int_eq(res.calls, 1);
	ck_assert(!destroy_pending(&f.m));
	return res;
}

/* A leaf: removed from disk and ledger, reported. */
START_TEST(test_leaf)
{
	struct result res;

	create_as("a", 0);
	res = destroy("a", false, false, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert(res.existed);
	ck_assert_str_eq(res.removed, "[\"a\"]");
	ck_assert(!domfix_exists(&f, "a"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "a"));
}
END_TEST

/* Never created by cgctld: success, existed false, and a directory of that name is not touched (runc 4518). */
START_TEST(test_never_created)
{
	struct result res;

	domfix_mkdir(&f, "stranger");
	res = destroy("stranger", true, true, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert(!res.existed);
	ck_assert_str_eq(res.removed, "[]");
	ck_assert(domfix_exists(&f, "stranger"));
}
END_TEST

/* Children without recursive: Busy, nothing removed; with it: deepest first, all gone. */
START_TEST(test_recursive)
{
	struct result res;

	create_as("p", 0);
	create_as("p/c", 0);
	create_as("p/c/g", 0);
	create_as("p/d", 0);
	res = destroy("p", false, false, 0);
	ck_assert_int_eq(res.r, -EBUSY);
	ck_assert_int_eq(res.e.code, CGERR_BUSY);
	ck_assert(domfix_exists(&f, "p/c/g"));
	res = destroy("p", true, false, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert_str_eq(res.removed, "[\"p/d\",\"p/c/g\",\"p/c\",\"p\"]");
	ck_assert(!domfix_exists(&f, "p"));
	ck_assert_uint_eq(ledger_count(f.m.ledger), 0);
}
END_TEST

/*
 * A lease's release or an auto_remove (events_collect()) reaches as far as
 * the entry's owner could: a tenant's entry with root's below stays whole;
 * root's own goes whole.
 */
START_TEST(test_collect_with_owners_reach)
{
	bool never = false;

	create_as("t", 4242);
	create_as("t/adm", 0);
	create_as("r", 0);
	create_as("r/c", 0);
	events_collect(&f.m, "t", true);
	events_collect(&f.m, "r", true);
	domfix_loop_until(&f, &never, 300);
	ck_assert(!destroy_pending(&f.m));
	ck_assert_ptr_nonnull(ledger_get(f.m.ledger, "t"));
	ck_assert_ptr_nonnull(ledger_get(f.m.ledger, "t/adm"));
	ck_assert(domfix_exists(&f, "t/adm"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "r"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "r/c"));
	ck_assert(!domfix_exists(&f, "r"));
}
END_TEST

/* A directory inside that cgctld did not create: Busy, and nothing at all is removed. */
START_TEST(test_foreign_child)
{
	struct result res;

	create_as("p", 0);
	create_as("p/c", 0);
	domfix_mkdir(&f, "p/c/theirs");
	res = destroy("p", true, true, 0);
	ck_assert_int_eq(res.r, -EBUSY);
	ck_assert_int_eq(res.e.code, CGERR_BUSY);
	ck_assert_ptr_nonnull(strstr(res.e.message, "theirs"));
	ck_assert(domfix_exists(&f, "p/c/theirs"));
	ck_assert_ptr_nonnull(ledger_get(f.m.ledger, "p/c"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "p")->state, LEDGER_ACTIVE);
}
END_TEST

/* A directory made in the parent while a recursive destroy waits for a child to empty: the parent is
 * checked again before its cgroup.kill (which would reach the newcomer), and nothing more is touched. */
START_TEST(test_foreign_child_while_waiting)
{
	struct destroy_request req = { .name = "p", .recursive = true, .kill = true, .timeout_ms = 3000 };
	struct result res = { 0 };
	char buf[8] = "";
	FILE *kill_file;

	create_as("p", 0);
	create_as("p/c", 0);
	domfix_put(&f, "p/cgroup.kill", "");
	domfix_put(&f, "p/c/cgroup.events", "populated 1\nfrozen 0\n");
	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(!res.done);
	/* While it waits for p/c, another program makes p/theirs; then p/c empties (and goes). */
	domfix_mkdir(&f, "p/theirs");
	ck_assert_int_eq(unlink(domfix_path(&f, "p/c/cgroup.events")), 0);
	ck_assert(domfix_loop_until(&f, &res.done, 3000));
	ck_assert_int_eq(res.r, -EBUSY);
	ck_assert_int_eq(res.e.code, CGERR_BUSY);
	ck_assert_ptr_nonnull(strstr(res.e.message, "theirs"));
	kill_file = fopen(domfix_path(&f, "p/cgroup.kill"), "re");
	ck_assert_ptr_nonnull(kill_file);
	ck_assert_ptr_null(fgets(buf, sizeof(buf), kill_file)); /* never written: nothing in p was killed */
	fclose(kill_file);
	ck_assert(domfix_exists(&f, "p/theirs"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "p")->state, LEDGER_ACTIVE);
}
END_TEST

/* Kill and Freeze reach the whole subtree: only when every directory in it is an entry (or inside a delegated one). */
START_TEST(test_subtree_proven)
{
	struct create_request req = { .name = "d", .delegate = true };
	struct ledger_entry *le;
	struct op_error e;

	create_as("p", 0);
	create_as("p/c", 0);
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "p", &e), 0);
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "nosuch", &e), 0);
	domfix_mkdir(&f, "p/c/theirs");
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "p", &e), -EBUSY);
	ck_assert_int_eq(e.code, CGERR_BUSY);
	ck_assert_ptr_nonnull(strstr(e.message, "theirs"));
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "p/c", &e), -EBUSY);
	/* A delegated entry's inside is the delegatee's, reached on purpose. */
	ck_assert_int_eq(manager_create(&f.m, &req, &le, &e), 0);
	domfix_mkdir(&f, "d/inner");
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "d", &e), 0);
}
END_TEST

/* An entry below replaced behind cgctld's back: the parent's kill or freeze would reach it; refused. */
START_TEST(test_subtree_replaced_below)
{
	struct op_error e;

	create_as("q", 0);
	create_as("q/c", 0);
	ck_assert_int_eq(rmdir(domfix_path(&f, "q/c")), 0);
	domfix_mkdir(&f, "q/c");
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "q", &e), -ESTALE);
	ck_assert_int_eq(e.code, CGERR_REPLACED);
	ck_assert_ptr_nonnull(strstr(e.message, "q/c"));
	/* The stranger's directory stays, and cgctld no longer claims it: the next check calls it foreign. */
	ck_assert(domfix_exists(&f, "q/c"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "q/c"));
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "q", &e), -EBUSY);
	/* One gone (not replaced) is no obstacle. */
	create_as("g2", 0);
	create_as("g2/c", 0);
	ck_assert_int_eq(rmdir(domfix_path(&f, "g2/c")), 0);
	ck_assert_int_eq(manager_check_subtree_proven(&f.m, "g2", &e), 0);
}
END_TEST

/* A directory replaced behind cgctld's back: Replaced, the entry dropped, the new directory left alone. */
START_TEST(test_replaced)
{
	struct result res;

	create_as("r", 0);
	ck_assert_int_eq(rmdir(domfix_path(&f, "r")), 0);
	domfix_mkdir(&f, "r");
	res = destroy("r", false, false, 0);
	ck_assert_int_eq(res.r, -ESTALE);
	ck_assert_int_eq(res.e.code, CGERR_REPLACED);
	ck_assert(domfix_exists(&f, "r"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "r"));
}
END_TEST

/* Gone already: success, and the ledger forgets it. */
START_TEST(test_already_gone)
{
	struct result res;

	create_as("g", 0);
	ck_assert_int_eq(rmdir(domfix_path(&f, "g")), 0);
	res = destroy("g", false, false, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert_ptr_null(ledger_get(f.m.ledger, "g"));
}
END_TEST

/* A tenant: another's entry is as if absent; a recursive destroy never reaches another's entries. */
START_TEST(test_tenants)
{
	struct result res;

	create_as("root-owned", 0);
	res = destroy("root-owned", false, false, 1000);
	ck_assert_int_eq(res.r, 0);
	ck_assert(!res.existed);
	ck_assert(domfix_exists(&f, "root-owned"));
	create_as("mine", 1000);
	create_as("mine/theirs", 0);
	res = destroy("mine", true, false, 1000);
	ck_assert_int_eq(res.r, -EPERM);
	ck_assert_int_eq(res.e.code, CGERR_PERMISSION_DENIED);
	ck_assert(domfix_exists(&f, "mine/theirs"));
}
END_TEST

/* The name is checked: the daemon's own leaf and bad names are refused. */
START_TEST(test_bad_names)
{
	struct result res;

	res = destroy(MANAGER_LEAF, false, false, 0);
	ck_assert_int_eq(res.r, -EINVAL);
	ck_assert_int_eq(res.e.code, CGERR_INVALID_NAME);
	res = destroy("../x", false, false, 0);
	ck_assert_int_eq(res.e.code, CGERR_INVALID_NAME);
}
END_TEST

/* Stopping ends a destroy that waits for processes with Timeout "stopping", once; the entry stays active. */
START_TEST(test_stop_cancels_wait)
{
	struct destroy_request req = { .name = "w", .kill = true, .timeout_ms = 5000 };
	struct result res = { 0 };

	create_as("w", 0);
	/* cgroup.events says populated and never changes: the destroy waits. */
	domfix_put(&f, "w/cgroup.events", "populated 1\nfrozen 0\n");
	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(!res.done);
	ck_assert(destroy_pending(&f.m));
	ck_assert(manager_busy(&f.m));
	manager_stop(&f.m);
	ck_assert(res.done);
	ck_assert_int_eq(res.calls, 1);
	ck_assert_int_eq(res.r, -ECANCELED);
	ck_assert_int_eq(res.e.code, CGERR_TIMEOUT);
	ck_assert(!destroy_pending(&f.m));
	ck_assert_int_eq(ledger_get(f.m.ledger, "w")->state, LEDGER_ACTIVE);
}
END_TEST

/* Stopping ends a destroy waiting to retry its rmdir the same way: Timeout, once, the entry active again. */
START_TEST(test_stop_cancels_retry)
{
	struct destroy_request req = { .name = "b", .kill = true, .timeout_ms = 5000 };
	struct result res = { 0 };

	create_as("b", 0);
	/* A file inside: rmdir says ENOTEMPTY (as EBUSY), and a killing destroy backs off to retry. */
	domfix_put(&f, "b/junk", "");
	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(!res.done);
	ck_assert(destroy_pending(&f.m));
	manager_stop(&f.m);
	ck_assert_int_eq(res.calls, 1);
	ck_assert_int_eq(res.r, -ECANCELED);
	ck_assert_int_eq(res.e.code, CGERR_TIMEOUT);
	ck_assert_int_eq(ledger_get(f.m.ledger, "b")->state, LEDGER_ACTIVE);
}
END_TEST

/* Processes that never leave: Timeout, and the entry is active again. */
START_TEST(test_timeout)
{
	struct destroy_request req = { .name = "t", .kill = true, .timeout_ms = 100 };
	struct result res = { 0 };

	create_as("t", 0);
	domfix_put(&f, "t/cgroup.events", "populated 1\nfrozen 0\n");
	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(domfix_loop_until(&f, &res.done, 3000));
	ck_assert_int_eq(res.r, -ETIMEDOUT);
	ck_assert_int_eq(res.e.code, CGERR_TIMEOUT);
	ck_assert_int_eq(ledger_get(f.m.ledger, "t")->state, LEDGER_ACTIVE);
	ck_assert(domfix_exists(&f, "t"));
}
END_TEST

/* Point the ledger's journal at /dev/full (on) or back at the file: appends fail with ENOSPC, as on a full state directory. */
static void journal_full(bool on)
{
	static int saved = -1;

	if (on) {
		int full = open("/dev/full", O_WRONLY | O_CLOEXEC);

		ck_assert_int_ge(full, 0);
		saved = dup(f.m.ledger->journalfd);
		ck_assert_int_ge(saved, 0);
		ck_assert_int_ge(dup2(full, f.m.ledger->journalfd), 0);
		close(full);
	} else {
		ck_assert_int_ge(dup2(saved, f.m.ledger->journalfd), 0);
		close(saved);
		saved = -1;
	}
}

/*
 * The state directory is full: the "destroying" record cannot be written, so
 * nothing is killed or removed and the entry stays active (it was removed
 * and answered success, and the ledger kept an active entry with no directory).
 */
START_TEST(test_ledger_full_touches_nothing)
{
	struct result res;

	create_as("a", 0);
	create_as("k", 0);
	journal_full(true);
	res = destroy("a", false, false, 0);
	ck_assert_int_eq(res.r, -ENOSPC);
	ck_assert_int_eq(res.e.code, CGERR_SYSTEM_ERROR);
	ck_assert_msg(strstr(res.e.message, "ledger write failed") != NULL, "%s", res.e.message);
	/* The file could not be rolled back on /dev/full: the next write says EIO (LEDGER.md). */
	res = destroy("k", false, true, 0);
	ck_assert_int_lt(res.r, 0);
	ck_assert_int_eq(res.e.code, CGERR_SYSTEM_ERROR);
	ck_assert(domfix_exists(&f, "a"));
	ck_assert(domfix_exists(&f, "k"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "a")->state, LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_get(f.m.ledger, "k")->state, LEDGER_ACTIVE);
	/* Space again: the same calls remove them. */
	journal_full(false);
	res = destroy("a", false, false, 0);
	ck_assert_int_eq(res.r, 0);
	res = destroy("k", false, true, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert(!domfix_exists(&f, "a"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "k"));
}
END_TEST

/* The last line of the journal (synced first) that names name, into buf. */
static void journal_last_line_of(const char *name, char *buf, size_t n)
{
	char path[PATH_MAX], line[8192], key[256];
	FILE *jf;

	ck_assert_int_eq(ledger_sync(f.m.ledger), 0);
	snprintf(path, sizeof(path), "%s/state/journal.jsonl", f.base);
	snprintf(key, sizeof(key), "\"name\":\"%s\"", name);
	jf = fopen(path, "re");
	ck_assert_ptr_nonnull(jf);
	buf[0] = '\0';
	while (fgets(line, sizeof(line), jf))
		if (strstr(line, key))
			snprintf(buf, n, "%s", line);
	fclose(jf);
}

/*
 * A destroy that stops short (its processes outlive the timeout) while the
 * state directory is full: its "destroying" record went in, the "active" one
 * cannot. The failure was ignored: memory said active, the journal said
 * destroying, and the next start finished a destroy its caller was told had
 * failed. Now the answer says so, memory agrees with the journal, and the
 * record is written once it can be: the journal then says active.
 */
START_TEST(test_timeout_ledger_full_reactivated_later)
{
	struct destroy_request req = { .name = "t", .kill = true, .timeout_ms = 100 };
	struct result res = { 0 };
	bool never = false;
	char last[8192];

	create_as("t", 0);
	domfix_put(&f, "t/cgroup.events", "populated 1\nfrozen 0\n");
	manager_destroy(&f.m, &req, result_cb, &res);
	ck_assert(!res.done);
	ck_assert_int_eq(ledger_get(f.m.ledger, "t")->state, LEDGER_DESTROYING);
	journal_full(true);
	ck_assert(domfix_loop_until(&f, &res.done, 3000));
	ck_assert_int_eq(res.r, -ETIMEDOUT);
	ck_assert_int_eq(res.e.code, CGERR_TIMEOUT);
	ck_assert_msg(strstr(res.e.message, "the ledger could not record so") != NULL, "%s", res.e.message);
	ck_assert(domfix_exists(&f, "t"));
	ck_assert_int_eq(ledger_get(f.m.ledger, "t")->state, LEDGER_DESTROYING);
	journal_full(false);
	domfix_loop_until(&f, &never, 1300); /* the first try again comes after 1 s */
	ck_assert_int_eq(ledger_get(f.m.ledger, "t")->state, LEDGER_ACTIVE);
	journal_last_line_of("t", last, sizeof(last));
	ck_assert_msg(strstr(last, "\"state\":\"active\"") != NULL, "%s", last);
	ck_assert(domfix_exists(&f, "t"));
}
END_TEST

/* A Busy destroy (no kill, something inside) on a full journal: the same; a retried destroy settles it instead. */
START_TEST(test_busy_ledger_full_then_destroyed)
{
	struct result res;

	create_as("b", 0);
	domfix_put(&f, "b/junk", "");
	journal_full(true);
	res = destroy("b", false, false, 0);
	/* The "destroying" record itself cannot go in: nothing touched, nothing to take back. */
	ck_assert_int_eq(res.r, -ENOSPC);
	journal_full(false);
	ck_assert_int_eq(ledger_get(f.m.ledger, "b")->state, LEDGER_ACTIVE);
	/* The destroying record goes in, the rmdir is refused, the active record cannot go in. */
	ck_assert_int_eq(ledger_set_state(f.m.ledger, "b", LEDGER_DESTROYING), 0);
	journal_full(true);
	res = destroy("b", false, false, 0);
	ck_assert_int_eq(res.r, -EBUSY);
	ck_assert_msg(strstr(res.e.message, "the ledger could not record so") != NULL, "%s", res.e.message);
	journal_full(false);
	/* Emptied and destroyed again before the retry: removed, and the retry finds nothing to do. */
	unlink(domfix_path(&f, "b/junk"));
	res = destroy("b", false, false, 0);
	ck_assert_int_eq(res.r, 0);
	ck_assert_ptr_null(ledger_get(f.m.ledger, "b"));
	ck_assert(!domfix_exists(&f, "b"));
	{
		bool never = false;

		domfix_loop_until(&f, &never, 1300);
	}
	ck_assert_ptr_null(ledger_get(f.m.ledger, "b"));
}
END_TEST

/* A lease released while the ledger cannot be written is released again once it can (it stayed until a restart). */
START_TEST(test_collect_retried_after_ledger_full)
{
	struct create_request req = { .name = "l", .lease = true };
	struct ledger_entry *le;
	struct op_error e;
	bool never = false;

	ck_assert_int_eq(manager_create(&f.m, &req, &le, &e), 0);
	journal_full(true);
	events_collect(&f.m, "l", true);
	domfix_loop_until(&f, &never, 100);
	ck_assert(domfix_exists(&f, "l"));
	ck_assert_ptr_nonnull(f.m.retries);
	journal_full(false);
	domfix_loop_until(&f, &never, 1500);
	ck_assert(!domfix_exists(&f, "l"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "l"));
	ck_assert_ptr_null(f.m.retries);
}
END_TEST

/*
 * A create whose records could not be made durable (the journal full) is
 * taken back, so that its caller's error is the truth: the directory goes,
 * the entry goes at once (its record deferred), and the journal says so once
 * it can be written. Before, the entry stayed active and its name taken.
 */
START_TEST(test_create_undo_when_ledger_full)
{
	struct create_request req = { .name = "u" };
	struct ledger_entry *le;
	struct op_error e;
	uint64_t id;
	char path[PATH_MAX], text[8192] = "";
	FILE *jf;
	size_t n;

	ck_assert_int_eq(manager_create(&f.m, &req, &le, &e), 0);
	id = le->cgroup_id;
	journal_full(true);
	ck_assert_int_lt(ledger_sync(f.m.ledger), 0);
	ck_assert_int_eq(manager_create_undo(&f.m, "u", id + 1), -ENOENT); /* not that directory: untouched */
	ck_assert(domfix_exists(&f, "u"));
	ck_assert_int_eq(manager_create_undo(&f.m, "u", id), 0);
	ck_assert(!domfix_exists(&f, "u"));
	ck_assert_ptr_null(ledger_get(f.m.ledger, "u"));
	journal_full(false);
	ck_assert_int_eq(ledger_sync(f.m.ledger), 0);
	snprintf(path, sizeof(path), "%s/state/journal.jsonl", f.base);
	jf = fopen(path, "re");
	ck_assert_ptr_nonnull(jf);
	n = fread(text, 1, sizeof(text) - 1, jf);
	fclose(jf);
	text[n] = '\0';
	ck_assert_ptr_nonnull(strstr(text, "\"op\":\"del\",\"name\":\"u\""));
}
END_TEST

/* On the real cgroup2 tree: kill ends the processes, the wait sees the cgroup empty, and it is removed. */
START_TEST(test_real_kill)
{
	struct domfix rf;
	struct destroy_request req = { .name = "job", .recursive = true, .kill = true, .timeout_ms = 5000 };
	struct result res = { 0 };
	struct create_request cr = { .name = "job" };
	struct ledger_entry *le;
	struct op_error e;
	pid_t a, b;

	if (!domfix_can_real()) {
		fprintf(stderr, "test_real_kill: skipped (needs root and cgroup2)\n");
		return;
	}
	domfix_setup(&rf, true);
	ck_assert_int_eq(manager_create(&rf.m, &cr, &le, &e), 0);
	cr.name = "job/step";
	ck_assert_int_eq(manager_create(&rf.m, &cr, &le, &e), 0);
	a = domfix_sleeper(&rf, "job/step");
	b = domfix_sleeper(&rf, "job/step");
	manager_destroy(&rf.m, &req, result_cb, &res);
	ck_assert(domfix_loop_until(&rf, &res.done, 5000));
	ck_assert_msg(res.r == 0, "destroy: %d %s", res.r, res.e.message);
	ck_assert_str_eq(res.removed, "[\"job/step\",\"job\"]");
	ck_assert_int_ne(domfix_reap(a, 2000), -1);
	ck_assert_int_ne(domfix_reap(b, 2000), -1);
	ck_assert(!domfix_exists(&rf, "job"));
	domfix_teardown(&rf);
}
END_TEST

/* The suite. */
/* What retry_count() saw: calls, and the tries and name of the last. */
static unsigned retry_calls, retry_tries;
static char retry_name[16];

/* A manager_retry_fn that counts. */
static void retry_count(struct manager *m, struct ledger_entry *le, const char *name, unsigned tries, int arg)
{
	(void)m;
	ck_assert_str_eq(le->name, name);
	ck_assert_int_eq(arg, 7);
	retry_calls++;
	retry_tries = tries;
	snprintf(retry_name, sizeof(retry_name), "%s", name);
}

/*
 * The shared retry (manager_retry.c): once per name however often asked, after
 * 1 s, for that very entry only: one made again under its name (another
 * cgroup_id) is not the retry's to act on.
 */
START_TEST(test_retry_that_very_entry)
{
	struct ledger_entry copy;
	bool never = false;

	retry_calls = 0;
	create_as("r", 0);
	create_as("s", 0);
	ck_assert_int_eq(manager_retry_later(&f.m, ledger_get(f.m.ledger, "r"), 0, retry_count, 7), 0);
	ck_assert_int_eq(manager_retry_later(&f.m, ledger_get(f.m.ledger, "r"), 0, retry_count, 7), 0);
	ck_assert_int_eq(manager_retry_later(&f.m, ledger_get(f.m.ledger, "s"), 0, retry_count, 7), 0);
	/* s's successor: the same name, another directory. */
	copy = *ledger_get(f.m.ledger, "s");
	copy.cgroup_id++;
	ck_assert_int_eq(ledger_put(f.m.ledger, &copy, NULL), 0);
	domfix_loop_until(&f, &never, 300);
	ck_assert_uint_eq(retry_calls, 0);
	domfix_loop_until(&f, &never, 1200);
	ck_assert_uint_eq(retry_calls, 1);
	ck_assert_uint_eq(retry_tries, 1);
	ck_assert_str_eq(retry_name, "r");
	ck_assert_ptr_null(f.m.retries);
}
END_TEST

static Suite *destroy_suite(void)
{
	Suite *s = suite_create("destroy");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_leaf);
	tcase_add_test(tc, test_never_created);
	tcase_add_test(tc, test_recursive);
	tcase_add_test(tc, test_collect_with_owners_reach);
	tcase_add_test(tc, test_foreign_child);
	tcase_add_test(tc, test_foreign_child_while_waiting);
	tcase_add_test(tc, test_subtree_proven);
	tcase_add_test(tc, test_subtree_replaced_below);
	tcase_add_test(tc, test_replaced);
	tcase_add_test(tc, test_already_gone);
	tcase_add_test(tc, test_tenants);
	tcase_add_test(tc, test_bad_names);
	tcase_add_test(tc, test_stop_cancels_wait);
	tcase_add_test(tc, test_stop_cancels_retry);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_ledger_full_touches_nothing);
	tcase_add_test(tc, test_collect_retried_after_ledger_full);
	tcase_add_test(tc, test_timeout_ledger_full_reactivated_later);
	tcase_add_test(tc, test_busy_ledger_full_then_destroyed);
	tcase_add_test(tc, test_retry_that_very_entry);
	tcase_add_test(tc, test_create_undo_when_ledger_full);
	tcase_add_test(tc, test_real_kill);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(destroy_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
