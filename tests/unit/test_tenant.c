// SPDX-License-Identifier: MIT
/* test_tenant.c: Check suite for daemon/tenant.c: owners, /proc parsing, who may move which process. */

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../daemon/ledger.h"
#include "../../daemon/log.h"
#include "../../daemon/nspid.h"
#include "../../daemon/resources.h"
#include "../../daemon/tenant.h"

/* Far from any real user's uid. */
#define T1 4000001u
#define T2 4000002u

static const char status_text[] =
	"Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t77\nPid:\t77\nPPid:\t1\n"
	"TracerPid:\t0\nUid:\t1003\t1004\t1005\t1006\nGid:\t1003\t1003\t1003\t1003\n";

START_TEST(test_admin)
{
	struct ledger_entry mine = { .owner = T1 }, theirs = { .owner = T2 };

	ck_assert(tenant_is_admin(0));
	ck_assert(tenant_is_admin(geteuid()));
	ck_assert(!tenant_is_admin(T1));
	ck_assert(tenant_may_access(T1, &mine));
	ck_assert(!tenant_may_access(T1, &theirs));
	ck_assert(tenant_may_access(0, &theirs));
	ck_assert(tenant_may_access(geteuid(), &theirs));
}
END_TEST

START_TEST(test_count)
{
	uid_t uids[] = { T1, 0, geteuid(), T2 };

	ck_assert_uint_eq(tenant_count(uids, 4), 2);
	ck_assert_uint_eq(tenant_count(uids, 1), 1);
	ck_assert_uint_eq(tenant_count(uids + 1, 2), 0);
	ck_assert_uint_eq(tenant_count(NULL, 0), 0);
}
END_TEST

START_TEST(test_parse_status)
{
	uid_t u[4] = { 9, 9, 9, 9 };

	ck_assert_int_eq(tenant_parse_status(status_text, u), 0);
	ck_assert_uint_eq(u[0], 1003);
	ck_assert_uint_eq(u[1], 1004);
	ck_assert_uint_eq(u[2], 1005);
	ck_assert_uint_eq(u[3], 1006);
	ck_assert_int_eq(tenant_parse_status("Uid:\t0\t0\t0\t0\n", u), 0);
	ck_assert_uint_eq(u[3], 0);
	/* A name holding "Uid:" is not the Uid line; short, signed, huge or missing lines are refused. */
	ck_assert_int_eq(tenant_parse_status("Name:\tx Uid:\t5\t5\t5\t5\n", u), -EBADMSG);
	ck_assert_int_eq(tenant_parse_status("Name:\tx\nUid:\t5\t5\t5\n", u), -EBADMSG);
	ck_assert_int_eq(tenant_parse_status("Name:\tx\nUid:\t5\t5\t5\t-5\n", u), -EBADMSG);
	ck_assert_int_eq(tenant_parse_status("Uid:\t5\t5\t5\t4294967295\n", u), -EBADMSG);
	ck_assert_int_eq(tenant_parse_status("Uid:\t5\t5\t5\t5x\n", u), -EBADMSG);
	ck_assert_int_eq(tenant_parse_status("Gid:\t5\t5\t5\t5\n", u), -EBADMSG);
	ck_assert_uint_eq(u[0], 0); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_stat)
{
	unsigned long f = 7;

	ck_assert_int_eq(tenant_parse_stat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 1 2\n", &f), 0);
	ck_assert(f & TENANT_PF_KTHREAD);
	/* A comm with spaces and parens cannot shift the fields. */
	ck_assert_int_eq(tenant_parse_stat("77 (a) S 1 2 3 4 5 2129984 (b) S 9) R 1 77 77 0 -1 4194560 5 0\n", &f), 0);
	ck_assert_uint_eq(f, 4194560);
	ck_assert(!(f & TENANT_PF_KTHREAD));
	ck_assert_int_eq(tenant_parse_stat("77 (sleep) S 1 77 77\n", &f), -EBADMSG);
	ck_assert_int_eq(tenant_parse_stat("77 sleep S 1 77 77 0 -1 5 0\n", &f), -EBADMSG);
	ck_assert_int_eq(tenant_parse_stat("77 (sleep) S 1 77 77 0 -1 x 0\n", &f), -EBADMSG);
	ck_assert_uint_eq(f, 4194560);
}
END_TEST

START_TEST(test_may_move)
{
	struct tenant_proc own = { .uids = { T1, T1, T1, T1 } };
	struct tenant_proc kthread = { .flags = TENANT_PF_KTHREAD };
	struct tenant_proc self = { .uids = { geteuid(), geteuid(), geteuid(), geteuid() } };
	const char *why = NULL;

	ck_assert_int_eq(tenant_may_move(T1, 500, &own, &why), 0);
	/* Any one uid of another's is enough to refuse (a setuid program, a changed fsuid). */
	for (int i = 0; i < 4; i++) {
		struct tenant_proc p = own;

		p.uids[i] = T2;
		why = NULL;
		ck_assert_int_eq(tenant_may_move(T1, 500, &p, &why), -EPERM);
		ck_assert_ptr_nonnull(why);
		ck_assert_int_eq(tenant_may_move(0, 500, &p, &why), 0);
	}
	/* Nobody, root included, moves PID 1 or a kernel thread. */
	ck_assert_int_eq(tenant_may_move(0, 1, &own, &why), -EPERM);
	ck_assert_int_eq(tenant_may_move(T1, 1, &own, &why), -EPERM);
	ck_assert_int_eq(tenant_may_move(0, 2, &kthread, &why), -EPERM);
	ck_assert_int_eq(tenant_may_move(geteuid(), 900, &kthread, &why), -EPERM);
	/* Nor the daemon itself: in an entry, its Freeze would wedge it, its Kill end it. */
	why = NULL;
	ck_assert_int_eq(tenant_may_move(0, getpid(), &self, &why), -EPERM);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(tenant_may_move(geteuid(), getpid(), &self, &why), -EPERM);
}
END_TEST

START_TEST(test_read_proc)
{
	struct tenant_proc p;
	pid_t child;
	int st;

	ck_assert_int_eq(tenant_read_proc(getpid(), &p), 0);
	ck_assert_uint_eq(p.uids[0], getuid());
	ck_assert_uint_eq(p.uids[1], geteuid());
	ck_assert(!(p.flags & TENANT_PF_KTHREAD));
	/* A zombie is gone: the kernel would move nothing of it. So is a reaped process. */
	child = fork();
	ck_assert_int_ge(child, 0);
	if (child == 0)
		_exit(0);
	ck_assert_int_eq(waitid(P_PID, (id_t)child, NULL, WEXITED | WNOWAIT), 0);
	ck_assert_int_eq(tenant_read_proc(child, &p), -ESRCH);
	ck_assert_int_eq(waitpid(child, &st, 0), child);
	ck_assert_int_eq(tenant_read_proc(child, &p), -ESRCH);
	/* kthreadd, where this runs in the initial pid namespace. */
	if (tenant_read_proc(2, &p) == 0 && access("/proc/2/exe", F_OK) < 0 && p.uids[0] == 0) {
		const char *why;
		ck_assert(p.flags & TENANT_PF_KTHREAD);
		ck_assert_int_eq(tenant_may_move(0, 2, &p, &why), -EPERM);
	}
}
END_TEST

START_TEST(test_may_take_from)
{
	char dir[] = "/tmp/tenant-test.XXXXXX", path[64];
	struct ledger_entry one = { .name = "one", .state = LEDGER_ACTIVE, .owner = T1 };
	struct ledger_entry sub = { .name = "one/sub", .state = LEDGER_ACTIVE, .owner = 0 };
	struct ledger_entry two = { .name = "two", .state = LEDGER_ACTIVE, .owner = T2 };
	struct ledger *l;
	const char *why = NULL;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/state", dir);
	ck_assert_int_eq(ledger_open(path, &l), 0);
	ck_assert_int_eq(ledger_put(l, &one, NULL), 0);
	ck_assert_int_eq(ledger_put(l, &sub, NULL), 0);
	ck_assert_int_eq(ledger_put(l, &two, NULL), 0);
	/* Its own entry, and a directory inside it that is no entry. */
	ck_assert_int_eq(tenant_may_take_from(T1, l, "one", &why), 0);
	ck_assert_int_eq(tenant_may_take_from(T1, l, "one/x/y", &why), 0);
	/* The deepest entry decides: root's below its own, another tenant's, none at all. */
	ck_assert_int_eq(tenant_may_take_from(T1, l, "one/sub", &why), -EPERM);
	ck_assert_int_eq(tenant_may_take_from(T1, l, "one/sub/x", &why), -EPERM);
	ck_assert_int_eq(tenant_may_take_from(T1, l, "two", &why), -EPERM);
	ck_assert_int_eq(tenant_may_take_from(T1, l, "cgctld.leaf", &why), -EPERM);
	ck_assert_int_eq(tenant_may_take_from(T1, l, "", &why), -EPERM);
	ck_assert_ptr_nonnull(why);
	/* Administrators take from anywhere. */
	ck_assert_int_eq(tenant_may_take_from(0, l, "two", &why), 0);
	ck_assert_int_eq(tenant_may_take_from(geteuid(), l, "", &why), 0);
	/* A whole-subtree act on one would reach root's one/sub; on two (no children) nothing else. */
	ck_assert(tenant_subtree_foreign(T1, l, "one"));
	ck_assert(!tenant_subtree_foreign(T1, l, "one/sub"));
	ck_assert(!tenant_subtree_foreign(T2, l, "two"));
	ck_assert(!tenant_subtree_foreign(0, l, "one"));
	ck_assert_int_eq(ledger_remove(l, "one/sub"), 0);
	ck_assert(!tenant_subtree_foreign(T1, l, "one"));
	ledger_close(l);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	ck_assert_int_eq(system(path), 0);
}
END_TEST

/* Verdict of tenant_check_sibling_plan() on the one write file=value; *why set when refused. */
static int sibling_verdict(const char *file, const char *value)
{
	struct res_write w = { .file = (char *)file, .value = (char *)value };
	struct res_plan p = { .w = &w, .n = 1 };
	const char *f = NULL, *why = NULL;
	int r = tenant_check_sibling_plan(&p, &f, &why);

	if (r < 0) {
		ck_assert_str_eq(f, file);
		ck_assert_ptr_nonnull(why);
	}
	return r;
}

/* Beside others' cgroups a tenant may lower, never raise, what the siblings share. */
/* NSpid: one number per pid namespace from ours down; more than one is a namespace below ours. */
START_TEST(test_nspid)
{
	ck_assert_int_eq(nspid_parse("Name:\tsleep\nNSpid:\t26524\nNSpgid:\t1\n"), 0);
	ck_assert_int_eq(nspid_parse("NSpid:\t26524\t3\n"), 1);
	ck_assert_int_eq(nspid_parse("Pid:\t9\nNSpid:\t9\t5\t1"), 2);
	ck_assert_int_eq(nspid_parse("Pid:\t9\n"), -EBADMSG);
	ck_assert_int_eq(nspid_parse("NSpid:\t\n"), -EBADMSG);
	ck_assert_int_eq(nspid_parse("NSpid:\t12x\n"), -EBADMSG);
	/* A pidfd's fdinfo once its process is gone. */
	ck_assert_int_eq(nspid_parse("pos:\t0\nPid:\t-1\nNSpid:\t-1\n"), -ESRCH);
	ck_assert_int_eq(nspid_parse("NSpid:\t-12\n"), -EBADMSG);
	/* "NSpid" only at a line's start: not inside another line. */
	ck_assert_int_eq(nspid_parse("Name:\tNSpid:\t1\t2\n"), -EBADMSG);
}
END_TEST

/* When set, SO_PEERPIDFD fails with it: Linux before 6.5 (ENOPROTOOPT), 6.5 to 6.15 for a reaped peer (EINVAL). */
static int peerpidfd_errno;

int __real_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);
int __wrap_getsockopt(int fd, int level, int opt, void *val, socklen_t *len);

/* getsockopt(), but SO_PEERPIDFD (77) fails with peerpidfd_errno when set. */
int __wrap_getsockopt(int fd, int level, int opt, void *val, socklen_t *len)
{
	if (peerpidfd_errno && level == SOL_SOCKET && opt == 77) {
		errno = peerpidfd_errno;
		return -1;
	}
	return __real_getsockopt(fd, level, opt, val, len);
}

/*
 * Linux 6.5 to 6.15 refuse SO_PEERPIDFD with EINVAL once the peer is reaped:
 * that is not "no SO_PEERPIDFD", and its pid, another process's by now, must
 * not be read (getpid() stands for it here, reused in our namespace).
 */
START_TEST(test_nspid_of_peer_reaped_einval)
{
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	peerpidfd_errno = EINVAL;
	ck_assert_int_eq(nspid_of_peer(sv[0], getpid()), -ESRCH);
	/* Before 6.5, /proc/PID/status is all there is. */
	peerpidfd_errno = ENOPROTOOPT;
	ck_assert_int_eq(nspid_of_peer(sv[0], getpid()), 0);
	peerpidfd_errno = 0;
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/*
 * A peer's namespace is that of the very process that connected: ours while
 * it lives, unknown once it is gone, even if its child holds the socket on.
 */
START_TEST(test_nspid_of_peer)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int sv[2], lfd, fd, st;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pid_t kid;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(nspid_of_peer(sv[0], getpid()), 0);
	ck_assert_int_eq(nspid_of_peer(sv[0], 0), -ESRCH);
	close(sv[0]);
	close(sv[1]);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/test_nspid.%d", (int)getpid());
	unlink(sa.sun_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(lfd, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	kid = fork();
	ck_assert_int_ge(kid, 0);
	if (kid == 0) {
		int c = socket(AF_UNIX, SOCK_STREAM, 0);

		_exit(connect(c, (struct sockaddr *)&sa, sizeof(sa)) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(kid, &st, 0), kid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len), 0);
	ck_assert_int_eq(cred.pid, kid);
	/* Gone and reaped before accept: not taken for ours. */
	ck_assert_int_eq(nspid_of_peer(fd, cred.pid), -ESRCH);
	close(fd);
	close(lfd);
	unlink(sa.sun_path);
}
END_TEST

/* Real-time I/O (io.prio.class) is refused to a tenant anywhere; the policies that never raise a class are not. */
START_TEST(test_any_plan)
{
	static const char *const ok[] = { "no-change", "restrict-to-be", "idle" };
	static const char *const refused[] = { "promote-to-rt", "none-to-rt", "rt", "", "no-change x", "idle " };
	struct res_write w[2] = { { .file = "memory.max", .value = "1G" }, { .file = "io.prio.class" } };
	struct res_plan p = { .w = w, .n = 2 };
	const char *f = NULL, *why = NULL;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		w[1].value = (char *)ok[i];
		ck_assert_msg(tenant_check_plan(&p, &f, &why) == 0, "%s refused", ok[i]);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		w[1].value = (char *)refused[i];
		why = NULL;
		ck_assert_msg(tenant_check_plan(&p, &f, &why) == -EPERM, "\"%s\" allowed", refused[i]);
		ck_assert_str_eq(f, "io.prio.class");
		ck_assert_ptr_nonnull(why);
	}
	/* Weights are for the sibling rule only: below its own entry a tenant shares them out. */
	w[1] = (struct res_write){ .file = "cpu.weight", .value = "10000" };
	ck_assert_int_eq(tenant_check_plan(&p, &f, &why), 0);
}
END_TEST

/* A tenant's cgroups stay at most its share of cgroups and 64 levels deep: "max", more, or no number is refused. */
START_TEST(test_bounds)
{
	static const char *const ok[][2] = { { "cgroup.max.descendants", "0" },	  { "cgroup.max.descendants", "100" },
					     { "cgroup.max.depth", "64" },	  { "cgroup.max.depth", "1" },
					     { "memory.max", "max" },		  { "pids.max", "100000" } };
	static const char *const refused[][2] = { { "cgroup.max.descendants", "max" }, { "cgroup.max.descendants", "101" },
						  { "cgroup.max.depth", "65" },	       { "cgroup.max.depth", "max" },
						  { "cgroup.max.depth", "-1" },	       { "cgroup.max.depth", " 5" },
						  { "cgroup.max.depth", "5x" },	       { "cgroup.max.descendants", "" },
						  { "cgroup.max.descendants", "99999999999999999999" } };
	struct res_write w = { 0 };
	struct res_plan p = { .w = &w, .n = 1 };
	const char *f = NULL, *why = NULL;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		w = (struct res_write){ .file = (char *)ok[i][0], .value = (char *)ok[i][1] };
		ck_assert_msg(tenant_check_bounds(&p, 100, 64, &f, &why) == 0, "%s=%s refused", ok[i][0], ok[i][1]);
	}
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		w = (struct res_write){ .file = (char *)refused[i][0], .value = (char *)refused[i][1] };
		why = NULL;
		ck_assert_msg(tenant_check_bounds(&p, 100, 64, &f, &why) == -EPERM, "%s=\"%s\" allowed", refused[i][0],
			      refused[i][1]);
		ck_assert_str_eq(f, refused[i][0]);
		ck_assert_ptr_nonnull(why);
	}
}
END_TEST

START_TEST(test_sibling_plan)
{
	static const char *const allowed[][2] = {
		{ "cpu.weight", "100" },	 { "cpu.weight", "39" },	 { "cpu.weight", "1\n" },
		{ "io.weight", "default 50" },	 { "io.weight", "8:0 100" },	 { "io.weight", "8:0 default" },
		{ "io.bfq.weight", "10" },	 { "cpu.weight.nice", "5" },	 { "cpu.weight.nice", "0" },
		{ "cpuset.cpus.partition", "member" }, { "cpuset.cpus.exclusive", "" },
		{ "cpu.max", "max 100000" },	 { "memory.max", "max" },	 { "cpu.idle", "1" },
		/* No memory protection (the default) beside others; limits bind the tenant only. */
		{ "memory.min", "0" },		 { "memory.low", "0\n" },	 { "memory.high", "1073741824" },
	};
	static const char *const refused[][2] = {
		{ "cpu.weight", "101" },	   { "cpu.weight", "10000" },	   { "cpu.weight", "500 " },
		{ "cpu.weight", "0x1f4" },	   { "cpu.weight", "+500" },	   { "cpu.weight", "5e3" },
		{ "io.weight", "default 500" },	   { "io.weight", "default\t500" }, { "io.weight", "8:0 1000" },
		{ "io.weight", "500" },		   { "io.bfq.weight", "1000" },	   { "cpu.weight.nice", "-20" },
		{ "cpu.weight.nice", " -1" },	   { "io.latency", "8:0 target=10" },
		{ "cpuset.cpus.partition", "root" }, { "cpuset.cpus.partition", "isolated" },
		{ "cpuset.cpus.exclusive", "0-1" },
		/* The kernel reads the first number and ignores the rest: 1000 each time. */
		{ "io.weight", "default 1000 100" }, { "io.weight", "1000 100" },
		{ "io.weight", "8:0 1000 100" },     { "io.weight", "8:0 1000 default" },
		{ "io.bfq.weight", "default 1000 100" },
		/* Any protection beside root's cgroups takes from theirs. */
		{ "memory.min", "1" },		     { "memory.low", "1073741824" }, { "memory.low", "max" },
		{ "memory.min", "1G" },		     { "memory.low", "0 5" },	     { "memory.low", "" },
		{ "memory.low", "-0" },		     { "memory.min", "0x10" },
	};
	struct res_write two[2] = { { .file = "memory.max", .value = "1G" }, { .file = "cpu.weight", .value = "200" } };
	struct res_plan p = { .w = two, .n = 2 };
	const char *f = NULL, *why = NULL;

	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		ck_assert_msg(sibling_verdict(allowed[i][0], allowed[i][1]) == 0, "%s=%s refused", allowed[i][0],
			      allowed[i][1]);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		ck_assert_msg(sibling_verdict(refused[i][0], refused[i][1]) == -EPERM, "%s=%s allowed", refused[i][0],
			      refused[i][1]);
	/* Any one write refuses the plan, and is named. */
	ck_assert_int_eq(tenant_check_sibling_plan(&p, &f, &why), -EPERM);
	ck_assert_str_eq(f, "cpu.weight");
}
END_TEST

/* What the daemon logged while fn ran, as one string (log_set_output to memory). */
static char *logged(void (*fn)(void))
{
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);

	ck_assert_ptr_nonnull(f);
	log_set_output(f, LOG_DEBUG);
	fn();
	log_set_output(NULL, LOG_INFO);
	ck_assert_int_eq(fclose(f), 0);
	return text;
}

/* A name a tenant made inside its entry, with \r, an escape sequence and \n. */
static void log_tenant_name(void)
{
	log_warnx("%s: cannot remove %s", "p/d", "x\r\033[31mforged\ny\x7f");
}

/* An over-long message full of bytes to escape. */
static void log_long(void)
{
	char big[3000];

	memset(big, '\033', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_warn_errno(-EBUSY, "%s", big);
}

START_TEST(test_log_escapes_names)
{
	char *a = logged(log_tenant_name), *b = logged(log_long);
	size_t n = strlen(b);

	/* One line, every control byte spelled out: nothing a tenant names forges a line or drives a terminal. */
	ck_assert_str_eq(a, "cgctld: p/d: cannot remove x\\x0d\\x1b[31mforged\\x0ay\\x7f\n");
	/* Cut visibly, still one line, the errno's text kept. */
	ck_assert_ptr_null(strchr(b, '\033'));
	ck_assert_ptr_eq(strchr(b, '\n'), b + n - 1);
	ck_assert_uint_lt(n, 2048 + 64);
	ck_assert_ptr_nonnull(strstr(b, "\\x1b...: Device or resource busy\n"));
	free(a);
	free(b);
}
END_TEST

static Suite *tenant_suite(void)
{
	Suite *s = suite_create("tenant");
	TCase *tc = tcase_create("tenant");

	tcase_add_test(tc, test_admin);
	tcase_add_test(tc, test_count);
	tcase_add_test(tc, test_parse_status);
	tcase_add_test(tc, test_parse_stat);
	tcase_add_test(tc, test_may_move);
	tcase_add_test(tc, test_any_plan);
	tcase_add_test(tc, test_bounds);
	tcase_add_test(tc, test_nspid);
	tcase_add_test(tc, test_nspid_of_peer);
	tcase_add_test(tc, test_nspid_of_peer_reaped_einval);
	tcase_add_test(tc, test_read_proc);
	tcase_add_test(tc, test_may_take_from);
	tcase_add_test(tc, test_sibling_plan);
	tcase_add_test(tc, test_log_escapes_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(tenant_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
