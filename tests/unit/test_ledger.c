// SPDX-License-Identifier: MIT
/* test_ledger.c: Check suite for daemon/ledger.c (journal, snapshot, recovery, compaction). */

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/ledger.h"
#include "testutil.h"

static char base[] = "/tmp/ledger-test.XXXXXX";
static char dir[128];
static struct ledger *l;

/* A fresh temp dir; the state dir below it does not exist yet. */
static void setup(void)
{
	tu_scratch(base, sizeof(base), "ledger-test");
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/state", base), sizeof(dir));
	l = NULL;
}

/* Close the ledger and remove the tree. */
static void teardown(void)
{
	l = ledger_close(l);
	tu_rm_tree(base);
}

/* Path of file name in the state dir (static buffer). */
static const char *state_file(const char *name)
{
	static char p[256];

	ck_assert_int_lt(snprintf(p, sizeof(p), "%s/%s", dir, name), sizeof(p));
	return p;
}

/* Size of a state file, -1 when missing. */
static off_t file_size(const char *name)
{
	struct stat st;

	return stat(state_file(name), &st) < 0 ? -1 : st.st_size;
}

/* Whole content of a state file (malloc'd, NUL-terminated). */
static char *slurp(const char *name, size_t *ret_len)
{
	FILE *f = fopen(state_file(name), "re");
	char *buf;
	long n;

	ck_assert_ptr_nonnull(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	if (ret_len)
		*ret_len = (size_t)n;
	return buf;
}

/* Replace a state file's content. */
static void spew(const char *name, const char *data, size_t len)
{
	int fd = open(state_file(name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Append to a state file. */
static void append(const char *name, const char *data)
{
	int fd = open(state_file(name), O_WRONLY | O_APPEND | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	close(fd);
}

/* Bitwise reference CRC-32C, independent of the table-driven one under test. */
static uint32_t ref_crc32c(const void *data, size_t len)
{
	const unsigned char *p = data;
	uint32_t crc = 0xFFFFFFFFu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* A journal line for rec with a correct crc (static buffer). */
static const char *make_line(const char *rec)
{
	static char line[1024];

	ck_assert_int_lt(snprintf(line, sizeof(line), "{\"rec\":%s,\"crc\":\"%08x\"}\n", rec,
				  ref_crc32c(rec, strlen(rec))),
			 sizeof(line));
	return line;
}

/* Put an entry named name in state st with no labels. */
static void put(const char *name, enum ledger_state st)
{
	struct ledger_entry e = { .name = (char *)name, .state = st, .created_usec = 42 };

	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
}

/* Close and reopen the ledger, expecting success. */
static void reopen(void)
{
	l = ledger_close(l);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
}

/* Stats of the open ledger. */
static struct ledger_stats stats(void)
{
	struct ledger_stats s;

	ledger_get_stats(l, &s);
	return s;
}

START_TEST(test_open_empty)
{
	struct stat st;
	struct ledger_stats s;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_uint_eq(ledger_count(l), 0);
	ck_assert_str_eq(ledger_dir(l), dir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq(file_size("lock"), 0);
	ck_assert_int_eq(file_size("journal.jsonl"), 0);
	ck_assert_int_eq(file_size("ledger.json"), -1);
	ck_assert_ptr_null(ledger_get(l, "x"));
	ck_assert(!ledger_dirty(l));
	s = stats();
	ck_assert_uint_eq(s.entries, 0);
	ck_assert_uint_eq(s.seq, 0);
	ck_assert_uint_eq(s.journal_records, 0);
	ck_assert_uint_eq(s.dropped_records, 0);
	ck_assert_int_eq(ledger_sync(l), 0);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 0);
}
END_TEST

START_TEST(test_open_nested)
{
	ck_assert_int_lt(snprintf(dir, sizeof(dir), "%s/a/b/state", base), sizeof(dir));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(file_size("journal.jsonl"), 0);
	ck_assert_int_eq(ledger_open("", &l), -EINVAL);
}
END_TEST

START_TEST(test_put_get_remove)
{
	struct ledger_entry e = {
		.name = "buildkit/abc", .state = LEDGER_CREATING, .generated = true, .delegate = true,
		.auto_remove = false, .lease = true, .created_usec = 1700000000000000ull,
		.cgroup_id = 0xFFFFFFFFFFFFFFF0ull,
	}, *got = NULL, *again = NULL;
	json_object *labels = json_object_new_object();
	int marker;

	json_object_object_add(labels, "owner", json_object_new_string("ci"));
	e.labels = labels;
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_put(l, &e, &got), 0);
	ck_assert(ledger_dirty(l));
	/* Deep copy: the caller's labels stay the caller's. */
	json_object_object_add(labels, "later", json_object_new_int(1));
	json_object_put(labels);
	ck_assert_ptr_eq(ledger_get(l, "buildkit/abc"), got);
	ck_assert_ptr_ne(got->name, e.name);
	ck_assert_str_eq(got->name, "buildkit/abc");
	ck_assert_int_eq(got->state, LEDGER_CREATING);
	ck_assert(got->generated && got->delegate && !got->auto_remove && got->lease);
	ck_assert_uint_eq(got->created_usec, 1700000000000000ull);
	ck_assert_uint_eq(got->cgroup_id, 0xFFFFFFFFFFFFFFF0ull);
	ck_assert_int_eq(json_object_object_length(got->labels), 1);
	/* Replacing keeps the stored pointer and the daemon's userdata. */
	got->userdata = &marker;
	e.labels = NULL;
	e.state = LEDGER_ACTIVE;
	ck_assert_int_eq(ledger_put(l, &e, &again), 0);
	ck_assert_ptr_eq(again, got);
	ck_assert_ptr_eq(again->userdata, &marker);
	ck_assert_ptr_null(again->labels);
	ck_assert_int_eq(ledger_set_state(l, "buildkit/abc", LEDGER_DESTROYING), 0);
	ck_assert_int_eq(got->state, LEDGER_DESTROYING);
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_int_eq(ledger_remove(l, "buildkit/abc"), 0);
	ck_assert_ptr_null(ledger_get(l, "buildkit/abc"));
	ck_assert_uint_eq(ledger_count(l), 0);
	ck_assert_int_eq(ledger_remove(l, "buildkit/abc"), -ENOENT);
	ck_assert_int_eq(ledger_set_state(l, "buildkit/abc", LEDGER_ACTIVE), -ENOENT);
	ck_assert_uint_eq(stats().seq, 4);
}
END_TEST

START_TEST(test_put_invalid)
{
	struct ledger_entry e = { .name = "a", .state = LEDGER_ACTIVE };
	json_object *arr = json_object_new_array();

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	e.name = NULL;
	ck_assert_int_eq(ledger_put(l, &e, NULL), -EINVAL);
	e.name = "";
	ck_assert_int_eq(ledger_put(l, &e, NULL), -EINVAL);
	e.name = "a";
	e.state = (enum ledger_state)7;
	ck_assert_int_eq(ledger_put(l, &e, NULL), -EINVAL);
	e.state = LEDGER_ACTIVE;
	e.labels = arr;
	ck_assert_int_eq(ledger_put(l, &e, NULL), -EINVAL);
	json_object_put(arr);
	ck_assert_int_eq(ledger_set_state(l, "a", LEDGER_ACTIVE), -ENOENT);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_set_state(l, "a", (enum ledger_state)9), -EINVAL);
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_uint_eq(stats().journal_records, 1);
}
END_TEST

START_TEST(test_state_strings)
{
	enum ledger_state s;

	ck_assert_str_eq(ledger_state_to_string(LEDGER_CREATING), "creating");
	ck_assert_str_eq(ledger_state_to_string(LEDGER_ACTIVE), "active");
	ck_assert_str_eq(ledger_state_to_string(LEDGER_DESTROYING), "destroying");
	ck_assert_ptr_null(ledger_state_to_string((enum ledger_state)3));
	ck_assert_int_eq(ledger_state_from_string("destroying", &s), 0);
	ck_assert_int_eq(s, LEDGER_DESTROYING);
	ck_assert_int_eq(ledger_state_from_string("Active", &s), -EINVAL);
	ck_assert_int_eq(ledger_state_from_string(NULL, &s), -EINVAL);
}
END_TEST

START_TEST(test_reopen_keeps_entries)
{
	struct ledger_entry e = { .name = "with/labels", .state = LEDGER_ACTIVE, .cgroup_id = 77 };
	struct ledger_entry *got;
	json_object *labels = json_object_new_object();

	json_object_object_add(labels, "k", json_object_new_string("v/with slash"));
	e.labels = labels;
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
	json_object_put(labels);
	put("a", LEDGER_CREATING);
	put("b", LEDGER_CREATING);
	put("c", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_set_state(l, "a", LEDGER_ACTIVE), 0);
	ck_assert_int_eq(ledger_remove(l, "b"), 0);
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert(!ledger_dirty(l));
	reopen();
	ck_assert_uint_eq(ledger_count(l), 3);
	ck_assert_int_eq(ledger_get(l, "a")->state, LEDGER_ACTIVE);
	ck_assert_ptr_null(ledger_get(l, "b"));
	ck_assert_uint_eq(ledger_get(l, "c")->created_usec, 42);
	got = ledger_get(l, "with/labels");
	ck_assert_ptr_nonnull(got);
	ck_assert_uint_eq(got->cgroup_id, 77);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(got->labels, "k")),
			 "v/with slash");
	ck_assert_uint_eq(stats().seq, 6);
	ck_assert_uint_eq(stats().journal_records, 6);
	ck_assert_uint_eq(stats().dropped_records, 0);
	/* Sequence numbers continue across opens. */
	put("d", LEDGER_ACTIVE);
	ck_assert_uint_eq(stats().seq, 7);
}
END_TEST

START_TEST(test_busy)
{
	struct ledger *other = NULL;
	pid_t pid;
	int status;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	/* flock on a separate open file description conflicts within one process too. */
	ck_assert_int_eq(ledger_open(dir, &other), -EBUSY);
	ck_assert_ptr_null(other);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct ledger *c = NULL;

		_exit(ledger_open(dir, &c) == -EBUSY ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	reopen();
}
END_TEST

/* A lock file removed or replaced while a ledger is open lets no second one in: the directory is locked too. */
START_TEST(test_busy_lock_file_removed)
{
	struct ledger *other = NULL;
	char path[192], fresh[192];

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	snprintf(path, sizeof(path), "%s/lock", dir);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(ledger_open(dir, &other), -EBUSY);
	ck_assert_ptr_null(other);
	/* Replaced by a fresh file (renamed over it): the same. */
	snprintf(fresh, sizeof(fresh), "%s/lock.new", dir);
	ck_assert_int_eq(close(open(fresh, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600)), 0);
	ck_assert_int_eq(rename(fresh, path), 0);
	ck_assert_int_eq(ledger_open(dir, &other), -EBUSY);
	ck_assert_ptr_null(other);
	reopen();
}
END_TEST

/* When set, flock() of a directory fails with it, as NFS's does (EBADF: an exclusive lock needs a writable descriptor). */
static int dir_flock_errno;

int __real_flock(int fd, int op);
int __wrap_flock(int fd, int op);

/* flock(), but a directory's fails with dir_flock_errno when set. */
int __wrap_flock(int fd, int op)
{
	struct stat st;

	if (dir_flock_errno && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = dir_flock_errno;
		return -1;
	}
	return __real_flock(fd, op);
}

/* A state directory that cannot be flock'ed itself (on NFS) still opens: its lock file refuses a second ledger. */
START_TEST(test_dir_lock_unsupported)
{
	struct ledger *other = NULL;

	dir_flock_errno = EBADF;
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_open(dir, &other), -EBUSY);
	ck_assert_ptr_null(other);
	dir_flock_errno = 0;
	reopen();
}
END_TEST

START_TEST(test_torn_tail)
{
	off_t good;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	put("b", LEDGER_ACTIVE);
	l = ledger_close(l);
	good = file_size("journal.jsonl");
	append("journal.jsonl", "{\"rec\":{\"seq\":3,\"op\":\"put\",\"ent");
	reopen();
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_ptr_nonnull(ledger_get(l, "a"));
	ck_assert_ptr_nonnull(ledger_get(l, "b"));
	ck_assert_uint_eq(stats().dropped_records, 1);
	ck_assert_uint_eq(stats().journal_records, 2);
	ck_assert_uint_eq(stats().journal_bytes, (uint64_t)good);
	ck_assert_int_eq(file_size("journal.jsonl"), good);
	/* Appends after the repair land after the last good record. */
	put("c", LEDGER_ACTIVE);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 3);
	ck_assert_uint_eq(stats().dropped_records, 0);
}
END_TEST

START_TEST(test_bad_crc)
{
	char *text;
	size_t len;
	off_t good;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	put("b", LEDGER_ACTIVE);
	good = file_size("journal.jsonl");
	put("c", LEDGER_ACTIVE);
	l = ledger_close(l);
	text = slurp("journal.jsonl", &len);
	/* Flip one byte inside the last record's name: same shape, wrong crc. */
	ck_assert_ptr_nonnull(strstr(text, "\"name\":\"c\""));
	strstr(text, "\"name\":\"c\"")[8] = 'x';
	spew("journal.jsonl", text, len);
	free(text);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_ptr_null(ledger_get(l, "c"));
	ck_assert_ptr_null(ledger_get(l, "x"));
	ck_assert_uint_eq(stats().dropped_records, 1);
	ck_assert_int_eq(file_size("journal.jsonl"), good);
}
END_TEST

START_TEST(test_corrupt_middle)
{
	char *text, *second;
	size_t len;
	off_t good;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	good = file_size("journal.jsonl");
	put("b", LEDGER_ACTIVE);
	put("c", LEDGER_ACTIVE);
	put("d", LEDGER_ACTIVE);
	l = ledger_close(l);
	text = slurp("journal.jsonl", &len);
	second = strchr(text, '\n') + 1;
	second[1] = 'X'; /* breaks the {"rec": prefix */
	spew("journal.jsonl", text, len);
	free(text);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_ptr_nonnull(ledger_get(l, "a"));
	ck_assert_ptr_null(ledger_get(l, "d"));
	ck_assert_uint_eq(stats().dropped_records, 3);
	ck_assert_int_eq(file_size("journal.jsonl"), good);
	/* Intact records after the damage: recovery, the damaged journal kept whole, the loss named. */
	ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_RECOVERY);
	ck_assert_str_eq(ledger_get_recovery(l)->damage[0].file, "journal.jsonl");
	ck_assert_uint_eq(ledger_get_recovery(l)->damage[0].offset, (uint64_t)good);
	ck_assert_ptr_nonnull(strstr(ledger_get_recovery(l)->damage[0].lost, "(seq 3..4) of: c, d"));
	ck_assert_int_eq(file_size(ledger_get_recovery(l)->damage[0].kept), (off_t)len);
}
END_TEST

START_TEST(test_seq_not_increasing)
{
	static const char stale[] = "{\"seq\":1,\"op\":\"del\",\"name\":\"a\"}";
	static const char later[] = "{\"seq\":9,\"op\":\"del\",\"name\":\"a\"}";

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	put("b", LEDGER_ACTIVE);
	l = ledger_close(l);
	/* A well-formed record whose seq goes backwards is a corrupt tail, with all after it. */
	append("journal.jsonl", make_line(stale));
	append("journal.jsonl", make_line(later));
	reopen();
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_ptr_nonnull(ledger_get(l, "a"));
	ck_assert_uint_eq(stats().dropped_records, 2);
	ck_assert_uint_eq(stats().seq, 2);
}
END_TEST

START_TEST(test_bad_record_shape)
{
	static const char bad_op[] = "{\"seq\":2,\"op\":\"zap\",\"name\":\"a\"}";
	static const char no_state[] = "{\"seq\":2,\"op\":\"put\",\"entry\":{\"name\":\"z\"}}";

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	l = ledger_close(l);
	append("journal.jsonl", make_line(bad_op));
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_uint_eq(stats().dropped_records, 1);
	l = ledger_close(l);
	append("journal.jsonl", make_line(no_state));
	append("journal.jsonl", "not even json\n");
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_uint_eq(stats().dropped_records, 2);
}
END_TEST

START_TEST(test_line_too_long)
{
	char *big;
	size_t n = 70 * 1024;
	off_t good;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	l = ledger_close(l);
	good = file_size("journal.jsonl");
	big = malloc(n + 2);
	memset(big, 'x', n);
	big[n] = '\n';
	big[n + 1] = '\0';
	append("journal.jsonl", big);
	append("journal.jsonl", make_line("{\"seq\":2,\"op\":\"del\",\"name\":\"a\"}"));
	free(big);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_uint_eq(stats().dropped_records, 2);
	ck_assert_int_eq(file_size("journal.jsonl"), good);
}
END_TEST

START_TEST(test_put_too_big)
{
	struct ledger_entry e = { .name = "big", .state = LEDGER_ACTIVE };
	char *v = malloc(70 * 1024);
	off_t before;

	memset(v, 'v', 70 * 1024 - 1);
	v[70 * 1024 - 1] = '\0';
	e.labels = json_object_new_object();
	json_object_object_add(e.labels, "k", json_object_new_string(v));
	free(v);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	before = file_size("journal.jsonl");
	/* The ledger never writes a line its loader would refuse. */
	ck_assert_int_eq(ledger_put(l, &e, NULL), -EFBIG);
	json_object_put(e.labels);
	ck_assert_ptr_null(ledger_get(l, "big"));
	ck_assert_uint_eq(stats().seq, 1);
	ck_assert_int_eq(file_size("journal.jsonl"), before);
}
END_TEST

START_TEST(test_append_failure_rolls_back)
{
	struct ledger_entry e = { .name = "b", .state = LEDGER_ACTIVE };
	struct rlimit rl, saved;
	off_t before;
	int r_limit, r_put, r_remove, r_restore;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	before = file_size("journal.jsonl");
	/*
	 * A file size limit a few bytes on makes the next write short, then EFBIG.
	 * No ck_assert while it holds: Check's own bookkeeping writes files too.
	 */
	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl = saved;
	rl.rlim_cur = (rlim_t)before + 10;
	r_limit = setrlimit(RLIMIT_FSIZE, &rl);
	r_put = ledger_put(l, &e, NULL);
	r_remove = ledger_remove(l, "a");
	r_restore = setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, SIG_DFL);
	ck_assert_int_eq(r_limit, 0);
	ck_assert_int_eq(r_restore, 0);
	ck_assert_int_eq(r_put, -EFBIG);
	ck_assert_int_eq(r_remove, -EFBIG);
	ck_assert_ptr_null(ledger_get(l, "b"));
	ck_assert_ptr_nonnull(ledger_get(l, "a"));
	ck_assert_int_eq(file_size("journal.jsonl"), before);
	ck_assert_uint_eq(stats().seq, 1);
	put("c", LEDGER_ACTIVE);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_uint_eq(stats().dropped_records, 0);
	ck_assert_uint_eq(stats().seq, 2);
}
END_TEST

START_TEST(test_crc_is_crc32c)
{
	char *text, *end;
	const char *rec;
	size_t len;
	unsigned crc = 0;

	ck_assert_uint_eq(ref_crc32c("123456789", 9), 0xe3069283u);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a/b", LEDGER_ACTIVE);
	text = slurp("journal.jsonl", &len);
	ck_assert_int_eq(strncmp(text, "{\"rec\":{", 8), 0);
	ck_assert_int_eq(text[len - 1], '\n');
	/* {"rec":REC,"crc":"xxxxxxxx"}\n with REC the record object's plain serialisation. */
	rec = text + 7;
	end = text + len - 1 - 18;
	ck_assert_int_eq(strncmp(end, ",\"crc\":\"", 8), 0);
	ck_assert_int_eq(sscanf(end + 8, "%8x", &crc), 1);
	ck_assert_uint_eq(crc, ref_crc32c(rec, (size_t)(end - rec)));
	ck_assert_ptr_nonnull(strstr(text, "\"name\":\"a/b\""));
	ck_assert_ptr_nonnull(strstr(text, "{\"seq\":1,\"op\":\"put\",\"entry\":{"));
	free(text);
}
END_TEST

START_TEST(test_compaction)
{
	char name[32];
	struct ledger_stats s;
	json_object *snap;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "n%04d", i);
		put(name, LEDGER_ACTIVE);
	}
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "n%04d", i);
		ck_assert_int_eq(ledger_remove(l, name), 0);
	}
	ck_assert_uint_eq(stats().journal_records, 3500);
	/* 3500 records > 1024 and > 2 * 500 entries: sync compacts. */
	ck_assert_int_eq(ledger_sync(l), 0);
	s = stats();
	ck_assert_uint_eq(s.compactions, 1);
	ck_assert_uint_gt(s.last_compaction_usec, 0);
	ck_assert_uint_eq(s.journal_records, 0);
	ck_assert_uint_eq(s.journal_bytes, 0);
	ck_assert_uint_eq(s.entries, 500);
	ck_assert_uint_eq(s.seq, 3500);
	ck_assert_int_eq(file_size("journal.jsonl"), 0);
	ck_assert_int_eq(file_size("ledger.json.tmp"), -1);
	ck_assert_int_eq(file_size("journal.jsonl.tmp"), -1);
	snap = json_object_from_file(state_file("ledger.json"));
	ck_assert_ptr_nonnull(snap);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(snap, "format")),
			 "cgctl-ledger");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(snap, "version")), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(snap, "seq")), 3500);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(snap, "entries")), 500);
	json_object_put(snap);
	put("after", LEDGER_CREATING);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 501);
	ck_assert_ptr_nonnull(ledger_get(l, "n1999"));
	ck_assert_ptr_null(ledger_get(l, "n0000"));
	ck_assert_int_eq(ledger_get(l, "after")->state, LEDGER_CREATING);
	ck_assert_uint_eq(stats().seq, 3501);
	ck_assert_uint_eq(stats().journal_records, 1);
}
END_TEST

START_TEST(test_no_compaction_when_small)
{
	char name[32];

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	/* 1500 live entries: 1500 records is not more than twice the entries. */
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "n%04d", i);
		put(name, LEDGER_ACTIVE);
	}
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert_uint_eq(stats().compactions, 0);
	ck_assert_int_eq(ledger_compact(l), 0);
	ck_assert_uint_eq(stats().compactions, 1);
	ck_assert(!ledger_dirty(l));
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1500);
	ck_assert_uint_eq(stats().seq, 1500);
}
END_TEST

START_TEST(test_crash_between_rename_and_reset)
{
	char *old;
	size_t len;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_CREATING);
	put("b", LEDGER_CREATING);
	ck_assert_int_eq(ledger_set_state(l, "b", LEDGER_ACTIVE), 0);
	ck_assert_int_eq(ledger_remove(l, "a"), 0);
	old = slurp("journal.jsonl", &len);
	ck_assert_int_eq(ledger_compact(l), 0);
	l = ledger_close(l);
	/* The snapshot (seq 4) was renamed in, the journal reset never happened. */
	spew("journal.jsonl", old, len);
	free(old);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_int_eq(ledger_get(l, "b")->state, LEDGER_ACTIVE);
	ck_assert_uint_eq(stats().seq, 4);
	ck_assert_uint_eq(stats().dropped_records, 0);
	ck_assert_uint_eq(stats().journal_records, 4);
	put("c", LEDGER_ACTIVE);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_uint_eq(stats().seq, 5);
}
END_TEST

START_TEST(test_stale_records_skipped)
{
	static const char snap[] =
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":2,\"entries\":[{\"name\":\"b\","
		"\"state\":\"destroying\",\"generated\":false,\"delegate\":false,\"auto_remove\":false,"
		"\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null}]}\n";
	static const char put_b[] =
		"{\"seq\":2,\"op\":\"put\",\"entry\":{\"name\":\"b\",\"state\":\"creating\","
		"\"generated\":false,\"delegate\":false,\"auto_remove\":false,\"lease\":false,"
		"\"created\":1,\"cgroup_id\":0,\"labels\":null}}";

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	/* Records with seq <= the snapshot's are already in it and must not be replayed. */
	spew("ledger.json", snap, strlen(snap));
	spew("journal.jsonl", "", 0);
	append("journal.jsonl", make_line("{\"seq\":1,\"op\":\"del\",\"name\":\"b\"}"));
	append("journal.jsonl", make_line(put_b));
	append("journal.jsonl", make_line("{\"seq\":3,\"op\":\"del\",\"name\":\"gone\"}"));
	reopen();
	ck_assert_uint_eq(ledger_count(l), 1);
	ck_assert_int_eq(ledger_get(l, "b")->state, LEDGER_DESTROYING);
	ck_assert_uint_eq(stats().seq, 3);
	ck_assert_uint_eq(stats().dropped_records, 0);
}
END_TEST

START_TEST(test_many_entries_sorted)
{
	struct ledger_entry **v = NULL;
	size_t n = 0;
	char name[32];

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "e/%05d", (i * 7919) % 10000);
		put(name, LEDGER_ACTIVE);
	}
	ck_assert_uint_eq(ledger_count(l), 10000);
	ck_assert_int_eq(ledger_list(l, &v, &n), 0);
	ck_assert_uint_eq(n, 10000);
	for (size_t i = 1; i < n; i++)
		ck_assert_int_lt(strcmp(v[i - 1]->name, v[i]->name), 0);
	ck_assert_str_eq(v[0]->name, "e/00000");
	ck_assert_str_eq(v[9999]->name, "e/09999");
	free(v);
	for (int i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "e/%05d", i);
		ck_assert_ptr_nonnull(ledger_get(l, name));
	}
	ck_assert_int_eq(ledger_sync(l), 0);
	reopen();
	ck_assert_uint_eq(ledger_count(l), 10000);
}
END_TEST

/* The name of the file in the state dir starting with prefix (static buffer), NULL if none. */
static const char *find_file(const char *prefix)
{
	static char found[256];
	DIR *d = opendir(dir);
	struct dirent *de;
	const char *ret = NULL;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)))
		if (strncmp(de->d_name, prefix, strlen(prefix)) == 0) {
			snprintf(found, sizeof(found), "%s", de->d_name);
			ret = found;
		}
	closedir(d);
	return ret;
}

/* A state dir holding only a journal with "a" (seq 1) and a torn tail, and snapshot doc. */
static void damaged_snapshot_dir(const char *doc, size_t len)
{
	tu_rm_tree(dir);
	ck_assert_int_eq(mkdir(dir, 0700), 0);
	spew("journal.jsonl", "", 0);
	append("journal.jsonl", make_line("{\"seq\":1,\"op\":\"put\",\"entry\":{\"name\":\"a\",\"state\":\"active\","
					  "\"generated\":false,\"delegate\":false,\"auto_remove\":false,"
					  "\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null}}"));
	append("journal.jsonl", "torn");
	spew("ledger.json", doc, len);
}

/* Damage is survivable: a malformed snapshot without a previous generation is recovery mode. */
START_TEST(test_malformed_snapshot)
{
	static const char *const bad[] = {
		"{not json",
		"[]",
		"{\"format\":\"other\",\"version\":1,\"seq\":0,\"entries\":[]}",
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":-1,\"entries\":[]}",
		/* Beyond 2^64 (json-c saturates it) and near it: appends would wrap (found by fuzzing). */
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":18446746073709551615,\"entries\":[]}",
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":18446744073709551615,\"entries\":[]}",
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":0,\"entries\":{}}",
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":0,\"entries\":[{\"name\":\"a\"}]}",
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":0,\"entries\":[]} trailing",
		"",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct ledger_recovery *rec;
		const char *kept;
		char *text;
		size_t len;

		damaged_snapshot_dir(bad[i], strlen(bad[i]));
		ck_assert_int_eq(ledger_open(dir, &l), 0);
		rec = ledger_get_recovery(l);
		ck_assert_int_eq(rec->mode, LEDGER_RECOVERY);
		ck_assert_uint_ge(rec->n, 1);
		ck_assert_str_eq(rec->damage[0].file, "ledger.json");
		ck_assert_ptr_nonnull(strstr(rec->damage[0].lost, "left alone"));
		/* What the intact journal record proves is back; the damaged file is kept, unchanged. */
		ck_assert_ptr_nonnull(ledger_get(l, "a"));
		ck_assert_uint_eq(ledger_count(l), 1);
		kept = find_file("ledger.json.corrupt-");
		ck_assert_ptr_nonnull(kept);
		ck_assert_str_eq(rec->damage[0].kept, kept);
		text = slurp(kept, &len);
		ck_assert_uint_eq(len, strlen(bad[i]));
		ck_assert_mem_eq(text, bad[i], len);
		free(text);
		/* The state was written afresh: the next open is normal. */
		reopen();
		ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_NORMAL);
		ck_assert_ptr_nonnull(ledger_get(l, "a"));
		l = ledger_close(l);
	}
}
END_TEST

START_TEST(test_snapshot_duplicate_and_version)
{
	static const char dup[] =
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":0,\"entries\":["
		"{\"name\":\"a\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
		"\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0},"
		"{\"name\":\"a\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
		"\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0}]}";
	static const char v2[] = "{\"format\":\"cgctl-ledger\",\"version\":2,\"seq\":0,\"entries\":[]}";
	char *text;
	size_t len;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	spew("ledger.json", dup, strlen(dup));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_RECOVERY);
	l = ledger_close(l);
	/* Another version is not damage: refused, and nothing is modified. */
	spew("ledger.json", v2, strlen(v2));
	ck_assert_int_eq(ledger_open(dir, &l), -EPROTONOSUPPORT);
	text = slurp("ledger.json", &len);
	ck_assert_uint_eq(len, strlen(v2));
	free(text);
}
END_TEST

START_TEST(test_owner)
{
	/* Written before owners were recorded: the daemon's own uid owns it. */
	static const char old[] =
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":1,\"entries\":["
		"{\"name\":\"old\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
		"\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0}]}";
	static const char negative[] =
		"{\"format\":\"cgctl-ledger\",\"version\":1,\"seq\":1,\"entries\":["
		"{\"name\":\"old\",\"state\":\"active\",\"generated\":false,\"delegate\":false,"
		"\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0,\"owner\":-1}]}";
	struct ledger_entry e = { .name = "t", .state = LEDGER_ACTIVE, .owner = 4000001 };

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	spew("ledger.json", old, strlen(old));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_uint_eq(ledger_get(l, "old")->owner, geteuid());
	/* Kept through the journal and through compaction. */
	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
	ck_assert_int_eq(ledger_sync(l), 0);
	reopen();
	ck_assert_uint_eq(ledger_get(l, "t")->owner, 4000001);
	ck_assert_int_eq(ledger_compact(l), 0);
	reopen();
	ck_assert_uint_eq(ledger_get(l, "t")->owner, 4000001);
	ck_assert_uint_eq(ledger_get(l, "old")->owner, geteuid());
	l = ledger_close(l);
	/* A negative owner makes the snapshot malformed: damage, never an entry of uid (uid_t)-1. */
	spew("ledger.json", negative, strlen(negative));
	unlink(state_file("journal.jsonl"));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_ne(ledger_get_recovery(l)->mode, LEDGER_NORMAL);
	ck_assert(!ledger_get(l, "old") || ledger_get(l, "old")->owner == geteuid());
}
END_TEST

START_TEST(test_snapshot_too_big)
{
	int fd;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	fd = open(state_file("ledger.json"), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 257 * 1024 * 1024), 0); /* sparse */
	close(fd);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_RECOVERY);
	ck_assert_ptr_nonnull(find_file("ledger.json.corrupt-"));
}
END_TEST

/* Three generations: a..c snapshotted twice, d in the journal. */
static void two_generations(void)
{
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_compact(l), 0);
	put("b", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_remove(l, "a"), 0);
	ck_assert_int_eq(ledger_compact(l), 0);
	put("c", LEDGER_ACTIVE);
	put("d", LEDGER_CREATING);
	ck_assert_int_eq(ledger_sync(l), 0);
	l = ledger_close(l);
	/* The previous generation: the first snapshot and the journal bridging it to the second. */
	ck_assert_int_gt(file_size("ledger.prev.json"), 0);
	ck_assert_int_gt(file_size("journal.prev.jsonl"), 0);
}

/* A truncated ledger.json: the previous generation proves the state; nothing is lost. */
START_TEST(test_snapshot_fallback_prev)
{
	const struct ledger_recovery *rec;
	char *orig, *kept;
	size_t olen, klen;

	two_generations();
	orig = slurp("ledger.json", &olen);
	ck_assert_int_eq(truncate(state_file("ledger.json"), (off_t)olen - 5), 0);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	rec = ledger_get_recovery(l);
	ck_assert_int_eq(rec->mode, LEDGER_FALLBACK);
	ck_assert_str_eq(rec->damage[0].file, "ledger.json");
	ck_assert_uint_eq(rec->damage[0].offset, olen - 5);
	ck_assert_ptr_nonnull(strstr(rec->damage[0].lost, "nothing"));
	ck_assert_uint_eq(ledger_count(l), 3);
	ck_assert_ptr_null(ledger_get(l, "a"));
	ck_assert_ptr_nonnull(ledger_get(l, "b"));
	ck_assert_ptr_nonnull(ledger_get(l, "c"));
	ck_assert_int_eq(ledger_get(l, "d")->state, LEDGER_CREATING);
	ck_assert_uint_eq(stats().seq, 5);
	kept = slurp(rec->damage[0].kept, &klen);
	ck_assert_uint_eq(klen, olen - 5);
	ck_assert_mem_eq(kept, orig, klen);
	free(orig);
	free(kept);
	reopen();
	ck_assert_int_eq(ledger_get_recovery(l)->mode, LEDGER_NORMAL);
	ck_assert_uint_eq(ledger_count(l), 3);
	ck_assert_uint_eq(stats().seq, 5);
}
END_TEST

/* The previous generation does not bridge (its journal is gone): recovery, the gap named. */
START_TEST(test_snapshot_fallback_gap)
{
	const struct ledger_recovery *rec;

	two_generations();
	ck_assert_int_eq(unlink(state_file("journal.prev.jsonl")), 0);
	spew("ledger.json", "{", 1);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	rec = ledger_get_recovery(l);
	ck_assert_int_eq(rec->mode, LEDGER_RECOVERY);
	ck_assert_ptr_nonnull(strstr(rec->damage[0].lost, "records seq 2..3"));
	/* a (from the old snapshot) and c, d (intact records) come back; b was only in the lost ones. */
	ck_assert_ptr_nonnull(ledger_get(l, "a"));
	ck_assert_ptr_null(ledger_get(l, "b"));
	ck_assert_ptr_nonnull(ledger_get(l, "c"));
	ck_assert_ptr_nonnull(find_file("ledger.prev.json.unproven-"));
}
END_TEST

/* The rules of the state directory: ours, not writable by others. */
START_TEST(test_trust_dir)
{
	char why[512];

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	ck_assert_int_eq(chmod(dir, 0777), 0);
	ck_assert_int_eq(ledger_open_why(dir, &l, why, sizeof(why)), -EACCES);
	ck_assert_ptr_nonnull(strstr(why, dir));
	ck_assert_ptr_nonnull(strstr(why, "writable by others"));
	ck_assert_int_eq(chmod(dir, 0770), 0);
	ck_assert_int_eq(ledger_open_why(dir, &l, why, sizeof(why)), -EACCES);
	ck_assert_ptr_nonnull(strstr(why, "writable by its group"));
	ck_assert_int_eq(chmod(dir, 0700), 0);
	if (geteuid() == 0) {
		ck_assert_int_eq(chown(dir, 65534, 65534), 0);
		ck_assert_int_eq(ledger_open_why(dir, &l, why, sizeof(why)), -EPERM);
		ck_assert_ptr_nonnull(strstr(why, "owned by uid 65534"));
		ck_assert_int_eq(chown(dir, 0, 0), 0);
	}
	/* A symlink in place of the directory is not followed. */
	ck_assert_int_eq(symlink(dir, state_file("../link")), 0);
	ck_assert_int_eq(ledger_open_why(state_file("../link"), &l, why, sizeof(why)), -ELOOP);
	ck_assert_ptr_null(l);
	ck_assert_int_eq(ledger_open(dir, &l), 0);
}
END_TEST

START_TEST(test_trust_parents)
{
	char why[512], deep[256], shared[256];

	/* A parent anybody may write to (without the sticky bit) could swap the state directory. */
	ck_assert_int_lt(snprintf(shared, sizeof(shared), "%s/shared", base), sizeof(shared));
	ck_assert_int_lt(snprintf(deep, sizeof(deep), "%s/state", shared), sizeof(deep));
	ck_assert_int_eq(ledger_open(deep, &l), 0);
	l = ledger_close(l);
	ck_assert_int_eq(chmod(shared, 0777), 0);
	ck_assert_int_eq(ledger_open_why(deep, &l, why, sizeof(why)), -EACCES);
	ck_assert_ptr_nonnull(strstr(why, "/shared (mode 0777) is writable by others without the sticky bit"));
	ck_assert_int_eq(chmod(shared, 0775), 0);
	ck_assert_int_eq(ledger_open_why(deep, &l, why, sizeof(why)), -EACCES);
	/* Sticky, like /tmp: others may not rename or remove what is ours there. */
	ck_assert_int_eq(chmod(shared, 01777), 0);
	ck_assert_int_eq(ledger_open(deep, &l), 0);
	l = ledger_close(l);
	if (geteuid() == 0) {
		ck_assert_int_eq(chmod(shared, 0755), 0);
		ck_assert_int_eq(chown(shared, 65534, 65534), 0);
		ck_assert_int_eq(ledger_open_why(deep, &l, why, sizeof(why)), -EPERM);
		ck_assert_ptr_nonnull(strstr(why, "is owned by uid 65534"));
	}
	ck_assert_ptr_null(l);
}
END_TEST

/* Replace state file name by a FIFO, a socket, a symlink, a foreign or shared file: refused, never a hang. */
static void expect_refused(const char *name, const char *what, int want)
{
	char why[512];

	alarm(10);
	ck_assert_int_eq(ledger_open_why(dir, &l, why, sizeof(why)), want);
	alarm(0);
	ck_assert_ptr_null(l);
	ck_assert_ptr_nonnull(strstr(why, name));
	ck_assert_ptr_nonnull(strstr(why, what));
	unlink(state_file(name));
}

START_TEST(test_trust_files)
{
	static const char *const names[] = { "lock", "ledger.json", "journal.jsonl" };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_compact(l), 0);
	l = ledger_close(l);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const char *n = names[i];

		unlink(state_file(n));
		ck_assert_int_eq(mkfifo(state_file(n), 0600), 0);
		expect_refused(n, "FIFO", -EBADFD);
		ck_assert_int_eq(symlink("/etc/passwd", state_file(n)), 0);
		expect_refused(n, "symbolic link", -ELOOP);
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", state_file(n));
		ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
		expect_refused(n, "socket", -EBADFD);
		close(fd);
		spew(n, "", 0);
		ck_assert_int_eq(chmod(state_file(n), 0622), 0);
		expect_refused(n, "writable by others", -EACCES);
		if (geteuid() == 0) {
			spew(n, "", 0);
			ck_assert_int_eq(chown(state_file(n), 65534, 65534), 0);
			expect_refused(n, "owned by uid 65534", -EPERM);
		}
	}
	/* Temp files are never opened through: a FIFO there is replaced. */
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(mkfifo(state_file("ledger.json.tmp"), 0600), 0);
	ck_assert_int_eq(mkfifo(state_file("journal.jsonl.tmp"), 0600), 0);
	alarm(10);
	ck_assert_int_eq(ledger_compact(l), 0);
	alarm(0);
}
END_TEST

/* Bounded state: inserts beyond the budget are refused, state changes never, compaction works. */
START_TEST(test_budget)
{
	struct ledger_entry e = { .state = LEDGER_ACTIVE };
	json_object *labels = json_object_new_object();
	char name[32], *value = malloc(4097);
	struct ledger_stats s;
	int r = 0, n = 0;

	memset(value, 'v', 4096);
	value[4096] = '\0';
	json_object_object_add(labels, "k", json_object_new_string(value));
	e.labels = labels;
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ledger_set_budget(l, 64 * 1024);
	ck_assert_uint_eq(stats().budget, 64 * 1024);
	while (r == 0 && n < 100) {
		snprintf(name, sizeof(name), "e%02d", n);
		e.name = name;
		r = ledger_put(l, &e, NULL);
		n += r == 0;
	}
	ck_assert_int_eq(r, -EDQUOT);
	ck_assert_int_ge(n, 10);
	ck_assert_int_lt(n, 16);
	s = stats();
	ck_assert_uint_le(s.bytes, 64 * 1024);
	ck_assert_uint_eq(ledger_count(l), (unsigned)n);
	/* Changing an entry is always possible; removing one makes room. */
	ck_assert_int_eq(ledger_set_state(l, "e00", LEDGER_DESTROYING), 0);
	e.name = "e01";
	e.state = LEDGER_DESTROYING;
	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
	ck_assert_int_eq(ledger_remove(l, "e00"), 0);
	e.name = name;
	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
	ck_assert_int_eq(ledger_compact(l), 0);
	ck_assert_int_le(file_size("ledger.json"), 64 * 1024);
	reopen();
	ck_assert_uint_eq(ledger_count(l), (unsigned)n);
	ck_assert_uint_le(stats().bytes, 64 * 1024);
	/* The largest budget leaves room for the snapshot's own header under its cap. */
	ledger_set_budget(l, UINT64_MAX);
	ck_assert_uint_eq(stats().budget, LEDGER_BUDGET_MAX);
	ck_assert_uint_le(LEDGER_BUDGET_MAX + 4096, 256u * 1024 * 1024);
	json_object_put(labels);
	free(value);
}
END_TEST

START_TEST(test_stats)
{
	struct ledger_stats s;

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	put("b", LEDGER_ACTIVE);
	ck_assert_int_eq(ledger_remove(l, "a"), 0);
	s = stats();
	ck_assert_uint_eq(s.entries, 1);
	ck_assert_uint_eq(s.journal_records, 3);
	ck_assert_uint_eq(s.journal_bytes, (uint64_t)file_size("journal.jsonl"));
	ck_assert_uint_eq(s.seq, 3);
	ck_assert_uint_eq(s.compactions, 0);
	ck_assert_uint_eq(s.last_compaction_usec, 0);
	ck_assert_uint_eq(s.dropped_records, 0);
	ck_assert(ledger_dirty(l));
	ck_assert_int_eq(ledger_sync(l), 0);
	ck_assert(!ledger_dirty(l));
	ck_assert_int_eq(ledger_compact(l), 0);
	s = stats();
	ck_assert_uint_eq(s.compactions, 1);
	ck_assert_uint_gt(s.last_compaction_usec, 0);
	ck_assert_uint_eq(s.journal_records, 0);
	ck_assert_uint_eq(s.journal_bytes, 0);
	ck_assert_uint_eq(s.seq, 3);
}
END_TEST

/* Add a one-test case with the temp-dir fixture. */
/* Direct children are counted as entries come and go, across replace, reopen and compaction. */
START_TEST(test_children_count)
{
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	put("a", LEDGER_ACTIVE);
	put("a/b", LEDGER_ACTIVE);
	put("a/c", LEDGER_ACTIVE);
	put("a/c/d", LEDGER_ACTIVE);
	put("ab", LEDGER_ACTIVE);
	ck_assert_uint_eq(ledger_get(l, "a")->children, 2);
	ck_assert_uint_eq(ledger_get(l, "a/c")->children, 1);
	ck_assert_uint_eq(ledger_get(l, "ab")->children, 0);
	/* Replacing an entry keeps its count. */
	put("a", LEDGER_DESTROYING);
	ck_assert_uint_eq(ledger_get(l, "a")->children, 2);
	ck_assert_int_eq(ledger_remove(l, "a/b"), 0);
	ck_assert_uint_eq(ledger_get(l, "a")->children, 1);
	reopen();
	ck_assert_uint_eq(ledger_get(l, "a")->children, 1);
	ck_assert_uint_eq(ledger_get(l, "a/c")->children, 1);
	ck_assert_int_eq(ledger_compact(l), 0);
	reopen();
	ck_assert_uint_eq(ledger_get(l, "a")->children, 1);
	ck_assert_int_eq(ledger_remove(l, "a/c/d"), 0);
	ck_assert_uint_eq(ledger_get(l, "a/c")->children, 0);
}
END_TEST

/* A journal that lists a child before its parent still counts the child (found by fuzzing). */
START_TEST(test_children_count_any_order)
{
	static const char *const recs[] = {
		"{\"seq\":1,\"op\":\"put\",\"entry\":{\"name\":\"a/b\",\"state\":\"active\",\"generated\":false,"
		"\"delegate\":false,\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null}}",
		"{\"seq\":2,\"op\":\"put\",\"entry\":{\"name\":\"a\",\"state\":\"active\",\"generated\":false,"
		"\"delegate\":false,\"auto_remove\":false,\"lease\":false,\"created\":1,\"cgroup_id\":0,\"labels\":null}}",
	};

	ck_assert_int_eq(ledger_open(dir, &l), 0);
	l = ledger_close(l);
	for (size_t i = 0; i < 2; i++)
		append("journal.jsonl", make_line(recs[i]));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_uint_eq(ledger_count(l), 2);
	ck_assert_uint_eq(ledger_get(l, "a")->children, 1);
}
END_TEST

START_TEST(test_nonce_roundtrip)
{
	static const char nonce[] = "0123456789abcdef0123456789abcdef";
	struct ledger_entry e = { .name = "n", .state = LEDGER_CREATING };
	static const char legacy[] =
		"{\"seq\":3,\"op\":\"put\",\"entry\":{\"name\":\"old\",\"state\":\"active\","
		"\"generated\":false,\"delegate\":false,\"auto_remove\":false,\"lease\":false,"
		"\"created\":1,\"cgroup_id\":9,\"labels\":null}}";
	static const char bad[] =
		"{\"seq\":4,\"op\":\"put\",\"entry\":{\"name\":\"bad\",\"state\":\"creating\","
		"\"generated\":false,\"delegate\":false,\"auto_remove\":false,\"lease\":false,"
		"\"created\":1,\"cgroup_id\":0,\"nonce\":\"0123456789ABCDEF0123456789abcdef\",\"labels\":null}}";

	memcpy(e.nonce, nonce, sizeof(nonce));
	ck_assert_int_eq(ledger_open(dir, &l), 0);
	ck_assert_int_eq(ledger_put(l, &e, NULL), 0);
	/* No nonce recorded: the member is left out, as in older records. */
	put("plain", LEDGER_ACTIVE);
	reopen();
	ck_assert_str_eq(ledger_get(l, "n")->nonce, nonce);
	ck_assert_str_eq(ledger_get(l, "plain")->nonce, "");
	ck_assert_int_eq(ledger_compact(l), 0);
	reopen();
	ck_assert_str_eq(ledger_get(l, "n")->nonce, nonce);
	l = ledger_close(l);
	/* An older record without one loads; a malformed one is corrupt and stops the replay. */
	append("journal.jsonl", make_line(legacy));
	append("journal.jsonl", make_line(bad));
	reopen();
	ck_assert_str_eq(ledger_get(l, "old")->nonce, "");
	ck_assert_uint_eq(ledger_get(l, "old")->cgroup_id, 9);
	ck_assert_ptr_null(ledger_get(l, "bad"));
	ck_assert_uint_eq(stats().dropped_records, 1);
}
END_TEST

static void add_tcase(Suite *s, const char *name, const TTest *fn)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, fn);
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);
}

/* The ledger suite. */
static Suite *ledger_suite(void)
{
	Suite *s = suite_create("ledger");

	add_tcase(s, "open_empty", test_open_empty);
	add_tcase(s, "children_count", test_children_count);
	add_tcase(s, "children_count_any_order", test_children_count_any_order);
	add_tcase(s, "open_nested", test_open_nested);
	add_tcase(s, "put_get_remove", test_put_get_remove);
	add_tcase(s, "trust_parents", test_trust_parents);
	add_tcase(s, "nonce_roundtrip", test_nonce_roundtrip);
	add_tcase(s, "put_invalid", test_put_invalid);
	add_tcase(s, "state_strings", test_state_strings);
	add_tcase(s, "reopen_keeps_entries", test_reopen_keeps_entries);
	add_tcase(s, "busy", test_busy);
	add_tcase(s, "busy_lock_file_removed", test_busy_lock_file_removed);
	add_tcase(s, "dir_lock_unsupported", test_dir_lock_unsupported);
	add_tcase(s, "torn_tail", test_torn_tail);
	add_tcase(s, "bad_crc", test_bad_crc);
	add_tcase(s, "corrupt_middle", test_corrupt_middle);
	add_tcase(s, "seq_not_increasing", test_seq_not_increasing);
	add_tcase(s, "bad_record_shape", test_bad_record_shape);
	add_tcase(s, "line_too_long", test_line_too_long);
	add_tcase(s, "put_too_big", test_put_too_big);
	add_tcase(s, "append_failure_rolls_back", test_append_failure_rolls_back);
	add_tcase(s, "crc_is_crc32c", test_crc_is_crc32c);
	add_tcase(s, "compaction", test_compaction);
	add_tcase(s, "no_compaction_when_small", test_no_compaction_when_small);
	add_tcase(s, "crash_between_rename_and_reset", test_crash_between_rename_and_reset);
	add_tcase(s, "stale_records_skipped", test_stale_records_skipped);
	add_tcase(s, "many_entries_sorted", test_many_entries_sorted);
	add_tcase(s, "malformed_snapshot", test_malformed_snapshot);
	add_tcase(s, "snapshot_duplicate_and_version", test_snapshot_duplicate_and_version);
	add_tcase(s, "snapshot_too_big", test_snapshot_too_big);
	add_tcase(s, "owner", test_owner);
	add_tcase(s, "stats", test_stats);
	add_tcase(s, "snapshot_fallback_prev", test_snapshot_fallback_prev);
	add_tcase(s, "snapshot_fallback_gap", test_snapshot_fallback_gap);
	add_tcase(s, "trust_dir", test_trust_dir);
	add_tcase(s, "trust_files", test_trust_files);
	add_tcase(s, "budget", test_budget);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(ledger_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
