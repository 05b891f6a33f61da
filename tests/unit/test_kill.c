/* SPDX-License-Identifier: MIT */
/* test_kill.c: Check suite for daemon/kill.c: ending every process of a cgroup, removing a tree. */

#include "domainfix.h"

#include <sys/resource.h>

#include "../../daemon/cgroupfs.h"
#include "../../daemon/kill.h"

static struct domfix f;

/* A scratch cgroup on the real cgroup2 tree when there is one, else a temp dir. */
static void setup(void)
{
	domfix_setup(&f, domfix_can_real());
}

/* Tear the fixture down. */
static void teardown(void)
{
	domfix_teardown(&f);
}

/* Was pid killed by sig (reaped within 3 s)? */
static bool killed_by(pid_t pid, int sig)
{
	int st = domfix_reap(pid, 3000);

	return st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == sig;
}

/* Read the file rel below the root into buf. */
static const char *slurp(const char *rel, char *buf, size_t n)
{
	FILE *in = fopen(domfix_path(&f, rel), "re");

	ck_assert_ptr_nonnull(in);
	buf[fread(buf, 1, n - 1, in)] = '\0';
	fclose(in);
	return buf;
}

/* cgroup.kill ends every process of the subtree, nested ones too. */
START_TEST(test_start_kills_subtree)
{
	pid_t a, b;

	if (!f.real)
		return;
	domfix_mkdir(&f, "k");
	domfix_mkdir(&f, "k/in");
	a = domfix_sleeper(&f, "k");
	b = domfix_sleeper(&f, "k/in");
	ck_assert_int_eq(cgkill_start(f.m.rootfd, "k"), 0);
	ck_assert(killed_by(a, SIGKILL));
	ck_assert(killed_by(b, SIGKILL));
}
END_TEST

/* cgkill_signal reaches every process below, with the signal asked, and thaws what it froze. */
START_TEST(test_signal_tree_thaws)
{
	char buf[64];
	pid_t a, b;

	if (!f.real)
		return;
	domfix_mkdir(&f, "s");
	domfix_mkdir(&f, "s/in");
	a = domfix_sleeper(&f, "s");
	b = domfix_sleeper(&f, "s/in");
	ck_assert_int_eq(cgkill_signal(f.m.rootfd, "s", SIGTERM), 0);
	ck_assert(killed_by(a, SIGTERM));
	ck_assert(killed_by(b, SIGTERM));
	ck_assert_str_eq(slurp("s/cgroup.freeze", buf, sizeof(buf)), "0\n");
}
END_TEST

/* A cgroup frozen before stays frozen after cgkill_signal. */
START_TEST(test_signal_keeps_frozen)
{
	char buf[64];
	pid_t a;

	if (!f.real)
		return;
	domfix_mkdir(&f, "z");
	a = domfix_sleeper(&f, "z");
	domfix_put(&f, "z/cgroup.freeze", "1");
	ck_assert_int_eq(cgkill_signal(f.m.rootfd, "z", SIGKILL), 0);
	ck_assert(killed_by(a, SIGKILL));
	ck_assert_str_eq(slurp("z/cgroup.freeze", buf, sizeof(buf)), "1\n");
}
END_TEST

/* In process w: give the FIFO path the text a, then (once the first reader is done) b. */
static pid_t fifo_writer(const char *path, const char *a, const char *b)
{
	pid_t w = fork();

	ck_assert_int_ge(w, 0);
	if (w == 0) {
		const char *texts[] = { a, b };

		for (int i = 0; i < 2; i++) {
			int fd = open(path, O_WRONLY | O_CLOEXEC);

			if (fd < 0 || write(fd, texts[i], strlen(texts[i])) < 0)
				_exit(1);
			close(fd);
			usleep(200 * 1000); /* the first reader sees EOF and closes */
		}
		_exit(0);
	}
	return w;
}

/*
 * cgkill_signal signals only the processes a second read of cgroup.procs
 * still lists: one gone after the first read (here: listed only by it; in
 * life, dead and reaped, its pid reused by anyone) is never signalled. The
 * file is a FIFO that tells the two reads different things.
 */
START_TEST(test_signal_only_still_listed)
{
	char dir[] = "/tmp/kill-fifo.XXXXXX", path[64], first[64], second[32];
	pid_t a = domfix_sleeper(&f, NULL), b = domfix_sleeper(&f, NULL), w;
	int dfd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	ck_assert_int_eq(close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644)), 0);
	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	ck_assert_int_eq(mkfifo(path, 0600), 0);
	snprintf(first, sizeof(first), "%d\n%d\n", (int)a, (int)b);
	snprintf(second, sizeof(second), "%d\n", (int)a);
	w = fifo_writer(path, first, second);
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	ck_assert_int_eq(cgkill_signal(dfd, "", SIGTERM), 0);
	ck_assert(killed_by(a, SIGTERM));
	ck_assert_int_eq(domfix_reap(b, 300), -1); /* b lives */
	kill(b, SIGKILL);
	kill(w, SIGKILL);
	domfix_reap(b, 3000);
	domfix_reap(w, 3000);
	close(dfd);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cgroup.freeze", dir);
	unlink(path);
	rmdir(dir);
}
END_TEST

/* Without cgroup.kill (older kernels): freeze, signal each pid of cgroup.procs, thaw. */
START_TEST(test_start_fallback)
{
	struct domfix plain;
	char buf[64];
	pid_t a;

	domfix_setup(&plain, false);
	domfix_mkdir(&plain, "old");
	domfix_put(&plain, "old/cgroup.freeze", "0");
	a = domfix_sleeper(&plain, NULL);
	snprintf(buf, sizeof(buf), "%d\n", (int)a);
	domfix_put(&plain, "old/cgroup.procs", buf);
	ck_assert_int_eq(cgkill_start(plain.m.rootfd, "old"), 0);
	ck_assert(killed_by(a, SIGKILL));
	domfix_teardown(&plain);
}
END_TEST

/* The descriptor limit that leaves exactly free numbers unused below it (the others are open). */
static rlim_t limit_leaving(int free)
{
	bool open_fd[4096] = { false };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	rlim_t lim = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d))) {
		long fd = strtol(de->d_name, NULL, 10);

		if (de->d_name[0] != '.' && fd >= 0 && fd < 4096 && fd != dirfd(d))
			open_fd[fd] = true;
	}
	closedir(d);
	for (int unused = 0; unused < free || open_fd[lim]; lim++)
		unused += !open_fd[lim];
	return lim;
}

/*
 * More processes than descriptors left to us: each still gets the signal
 * (the pidfds are taken in batches, each with its own second read). It was
 * -EMFILE with nobody signalled (no descriptor left for the second read),
 * and in a cgroup below, whose failure the tree walk ignores, a silent 0.
 */
START_TEST(test_signal_more_procs_than_fds)
{
	enum { N = 40 };
	struct domfix plain;
	struct rlimit old, low;
	char buf[N * 12] = "";
	pid_t kids[N];
	size_t len = 0;
	int r, missed = 0;

	domfix_setup(&plain, false);
	domfix_mkdir(&plain, "many");
	domfix_put(&plain, "many/cgroup.freeze", "0");
	for (int i = 0; i < N; i++) {
		kids[i] = domfix_sleeper(&plain, NULL);
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%d\n", (int)kids[i]);
	}
	domfix_put(&plain, "many/cgroup.procs", buf);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = limit_leaving(6); /* room for a few pidfds, far from N */
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	r = cgkill_signal(plain.m.rootfd, "many", SIGTERM);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < N; i++) {
		int st = domfix_reap(kids[i], missed ? 20 : 1500);

		if (st != -1 && WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM)
			continue;
		missed++;
		kill(kids[i], SIGKILL);
		domfix_reap(kids[i], 3000);
	}
	domfix_teardown(&plain);
	ck_assert_int_eq(r, 0);
	ck_assert_msg(missed == 0, "%d of %d processes not signalled", missed, N);
}
END_TEST

/* A tree is removed deepest first; a second call finds nothing and says so. */
START_TEST(test_rmdir_tree)
{
	bool existed = false;

	domfix_mkdir(&f, "t");
	domfix_mkdir(&f, "t/a");
	domfix_mkdir(&f, "t/a/b");
	domfix_mkdir(&f, "t/c");
	ck_assert_int_eq(cgkill_rmdir_tree(f.m.rootfd, "t", &existed), 0);
	ck_assert(existed);
	ck_assert(!domfix_exists(&f, "t"));
	ck_assert_int_eq(cgkill_rmdir_tree(f.m.rootfd, "t", &existed), 0);
	ck_assert(!existed);
}
END_TEST

/* A tree with a process left in it: -EBUSY, and the busy part stays. */
START_TEST(test_rmdir_tree_busy)
{
	pid_t a;

	if (!f.real)
		return;
	domfix_mkdir(&f, "t");
	domfix_mkdir(&f, "t/busy");
	domfix_mkdir(&f, "t/idle");
	a = domfix_sleeper(&f, "t/busy");
	ck_assert_int_eq(cgkill_rmdir_tree(f.m.rootfd, "t", NULL), -EBUSY);
	ck_assert(domfix_exists(&f, "t/busy"));
	kill(a, SIGKILL);
	ck_assert_int_ne(domfix_reap(a, 3000), -1);
}
END_TEST

/* The inside of an open cgroup goes, the cgroup itself stays. */
START_TEST(test_rmdir_inside)
{
	int fd;

	domfix_mkdir(&f, "d");
	domfix_mkdir(&f, "d/x");
	domfix_mkdir(&f, "d/x/y");
	domfix_mkdir(&f, "d/z");
	fd = open(domfix_path(&f, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(cgkill_rmdir_inside(fd), 0);
	close(fd);
	ck_assert(domfix_exists(&f, "d"));
	ck_assert(!domfix_exists(&f, "d/x"));
	ck_assert(!domfix_exists(&f, "d/z"));
}
END_TEST

/* Make depth nested cgroups with 199-byte names below rel; the deepest one's fd. */
static int deep_tree(const char *rel, int depth)
{
	char name[200];
	int fd = open(domfix_path(&f, rel), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < depth; i++) {
		int next;

		snprintf(name, sizeof(name), "%02d%0197d", i, 0);
		ck_assert_int_eq(mkdirat(fd, name, 0755), 0);
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		ck_assert_int_ge(next, 0);
		close(fd);
		fd = next;
	}
	return fd;
}

/* Remove everything below dirfd, by fds (the paths are too long for the fixture's teardown). */
static void rm_below(int dirfd)
{
	char **kids = NULL;

	ck_assert_int_eq(cgfs_list_children(dirfd, "", &kids), 0);
	for (char **k = kids; *k; k++) {
		int fd = openat(dirfd, *k, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		rm_below(fd);
		close(fd);
		ck_assert_int_eq(unlinkat(dirfd, *k, AT_REMOVEDIR), 0);
	}
	cgfs_strv_free(kids);
}

/*
 * 70 levels with long names (14 KB of path) below d, as a delegatee may make
 * them below an entry that is itself nested: removed and signalled whole.
 * Before, joined relpaths outgrew PATH_MAX (ENAMETOOLONG) and the walks
 * stopped 64 levels below their start.
 */
START_TEST(test_deep_long_tree)
{
	char buf[32];
	int fd, d;
	pid_t a;

	domfix_mkdir(&f, "d");
	fd = deep_tree("d", 70);
	if (f.real) {
		FILE *procs;

		a = domfix_sleeper(&f, "d");
		procs = fdopen(openat(fd, "cgroup.procs", O_WRONLY | O_CLOEXEC), "we");
		ck_assert_ptr_nonnull(procs);
		fprintf(procs, "%d\n", (int)a);
		ck_assert_int_eq(fclose(procs), 0);
		ck_assert_int_eq(cgkill_signal(f.m.rootfd, "d", SIGTERM), 0);
		ck_assert(killed_by(a, SIGTERM));
		(void)slurp("d/cgroup.events", buf, sizeof(buf));
	}
	close(fd);
	d = open(domfix_path(&f, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(d, 0);
	ck_assert_int_eq(cgkill_rmdir_inside(d), 0);
	close(d);
	ck_assert(domfix_exists(&f, "d"));
	fd = deep_tree("d", CGKILL_WALK_DEPTH + 2);
	close(fd);
	ck_assert_int_eq(cgkill_rmdir_tree(f.m.rootfd, "d", NULL), -ELOOP);
	d = open(domfix_path(&f, "d"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(d, 0);
	rm_below(d);
	close(d);
}
END_TEST

/* The suite. */
static Suite *kill_suite(void)
{
	Suite *s = suite_create("kill");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_start_kills_subtree);
	tcase_add_test(tc, test_signal_tree_thaws);
	tcase_add_test(tc, test_signal_keeps_frozen);
	tcase_add_test(tc, test_signal_only_still_listed);
	tcase_add_test(tc, test_start_fallback);
	tcase_add_test(tc, test_signal_more_procs_than_fds);
	tcase_add_test(tc, test_rmdir_tree);
	tcase_add_test(tc, test_rmdir_tree_busy);
	tcase_add_test(tc, test_rmdir_inside);
	tcase_add_test(tc, test_deep_long_tree);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite. */
int main(void)
{
	SRunner *sr = srunner_create(kill_suite());
	int failed;

	if (!domfix_can_real())
		fprintf(stderr, "test_kill: no root or no cgroup2: the real-cgroup cases are skipped\n");
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
