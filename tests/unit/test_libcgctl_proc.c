/* SPDX-License-Identifier: MIT */
/* test_libcgctl_proc.c: libcgctl's process and resource calls against a fake cgctld, descriptors both ways. */

#include <check.h>

#include "fakepeer.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../client/cgctl.h"
#include "../../client/libcgctl-internal.h"

/* A fake daemon: a listening socket in a temp dir, served by a forked child. */
struct fake {
	char dir[64];
	char path[128];
	pid_t pid;
};

/* What the reply carries besides its text. */
enum reply_fd { FD_NONE, FD_DIR, FD_PIPE };

/* One step: expect a call of method with exactly params (NULL: unchecked) and n_fds descriptors. */
struct step {
	const char *method;
	const char *params;
	size_t n_fds;
	const char *reply;
	enum reply_fd fd;
	const pid_t *pidfd_pids; /* when set, the received descriptors must be pidfds of these */
};

#define STEP(m, p, n, r) { .method = (m), .params = (p), .n_fds = (n), .reply = (r) }
#define STEP_FD(m, p, n, r, f) { .method = (m), .params = (p), .n_fds = (n), .reply = (r), .fd = (f) }
#define STEP_PIDFDS(m, p, n, r, f, pids) \
	{ .method = (m), .params = (p), .n_fds = (n), .reply = (r), .fd = (f), .pidfd_pids = (pids) }

/* ---- the child's side ---- */

/* Next message (NUL-terminated) and the descriptors that came with it; -1 on error or EOF. */
static ssize_t srv_recv(int fd, char *buf, size_t size, int *fds, size_t *n_fds)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int) * 64)];
	} ctl;
	size_t len = 0;

	*n_fds = 0;
	for (;;) {
		struct iovec iov = { .iov_base = buf + len, .iov_len = 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = &ctl, .msg_controllen = sizeof(ctl) };
		/* One byte at a time: a message's descriptors never mix with the next one's. */
		if (len + 1 >= size || recvmsg(fd, &mh, MSG_CMSG_CLOEXEC) != 1)
			return -1;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			memcpy(fds + *n_fds, CMSG_DATA(cm), n * sizeof(int));
			*n_fds += n;
		}
		if (buf[len] == '\0')
			return (ssize_t)len;
		len++;
	}
}

/* The pid a pidfd refers to (fdinfo "Pid:"), -1 if it is not a pidfd. */
static pid_t srv_pidfd_pid(int fd)
{
	char path[64], line[128];
	pid_t pid = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "re");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "Pid: %d", &pid) == 1)
			break;
	if (f)
		fclose(f);
	return pid;
}

/* Check one call against its step; 0 when it matches. */
static int srv_check(const struct step *s, const char *msg, const int *fds, size_t n_fds)
{
	json_object *o = json_tokener_parse(msg), *m = NULL, *p = NULL, *want = NULL;
	int r = 0;

	if (!o || !json_object_object_get_ex(o, "method", &m) ||
	    strcmp(json_object_get_string(m), s->method) != 0)
		r = 1;
	if (!r && s->params) {
		want = json_tokener_parse(s->params);
		json_object_object_get_ex(o, "parameters", &p);
		if (!json_object_equal(p, want))
			r = 2;
	}
	if (!r && n_fds != s->n_fds)
		r = 3;
	for (size_t i = 0; !r && s->pidfd_pids && i < n_fds; i++)
		if (srv_pidfd_pid(fds[i]) != s->pidfd_pids[i])
			r = 4;
	if (r)
		fprintf(stderr, "fake server: step %s (want params %s, %zu fds): got %s with %zu fds (check %d)\n",
			s->method, s->params ? s->params : "-", s->n_fds, msg, n_fds, r);
	json_object_put(o);
	json_object_put(want);
	return r;
}

/* Send a reply, with a descriptor when asked. */
static int srv_reply(int fd, const struct step *s)
{
	union {
		struct cmsghdr h;
		char b[CMSG_SPACE(sizeof(int))];
	} ctl = {};
	struct iovec iov = { .iov_base = (void *)s->reply, .iov_len = strlen(s->reply) + 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	int p[2] = { -1, -1 }, dfd = -1;
	ssize_t n;

	if (s->fd == FD_DIR)
		dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	else if (s->fd == FD_PIPE && pipe(p) == 0)
		dfd = p[0];
	if (s->fd != FD_NONE) {
		if (dfd < 0)
			return -1;
		mh.msg_control = &ctl;
		mh.msg_controllen = sizeof(ctl);
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &dfd, sizeof(int));
	}
	n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	if (dfd >= 0)
		close(dfd);
	if (p[1] >= 0)
		close(p[1]);
	return n == (ssize_t)iov.iov_len ? 0 : -1;
}

/* Serve a script (terminated by a step without method), then wait for the hang-up. */
static int serve(int fd, const struct step *script)
{
	char msg[8192], b[64];
	int fds[64];
	size_t n_fds;

	for (const struct step *s = script; s->method; s++) {
		if (srv_recv(fd, msg, sizeof(msg), fds, &n_fds) < 0)
			return 10;
		int bad = srv_check(s, msg, fds, n_fds);
		for (size_t i = 0; i < n_fds; i++)
			close(fds[i]);
		if (bad)
			return 10 + bad;
		if (srv_reply(fd, s) < 0)
			return 20;
	}
	/* Anything more is a call the test did not expect. */
	return read(fd, b, sizeof(b)) == 0 ? 0 : 30;
}

/* ---- the test's side ---- */

/* Listen in a fresh temp dir and fork the child that serves one connection. */
static void fake_start(struct fake *f, const struct step *script)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int lfd, cfd;

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_libcgctl_proc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sock", f->dir);
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
		_exit(cfd < 0 ? 40 : serve(cfd, script));
	}
	close(lfd);
}

/* Start a scripted fake and connect to it. */
static cgctl *fake_connect(struct fake *f, const struct step *script)
{
	cgctl *c = NULL;

	fake_start(f, script);
	ck_assert_int_eq(cgctl_connect(f->path, &c), 0);
	return c;
}

/* Disconnect, reap the fake and assert it saw exactly its script. */
static void fake_finish(struct fake *f, cgctl *c)
{
	int status = -1;

	cgctl_disconnect(c);
	ck_assert_int_eq(waitpid(f->pid, &status, 0), f->pid);
	unlink(f->path);
	rmdir(f->dir);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "fake server status %d", status);
}

#define OK "{\"parameters\":{}}"
#define M(x) "io.cgctl.Manager." x

START_TEST(test_attach_pids)
{
	static const struct step script[] = {
		STEP(M("Attach"), "{\"name\":\"a/b\",\"pids\":[12,34]}", 0, "{\"parameters\":{\"attached\":[12,34]}}"),
		STEP(M("Attach"), NULL, 0,
		  "{\"error\":\"io.cgctl.Manager.PermissionDenied\",\"parameters\":{\"message\":\"common ancestor\"}}"),
		{}
	};
	static const pid_t pids[] = { 12, 34 }, bad[] = { 5, 0 };
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	ck_assert_int_eq(cgctl_attach(c, "a/b", pids, 2), 0);
	ck_assert_int_eq(cgctl_attach(c, "a/b", pids, 1), -EACCES);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.PermissionDenied");
	ck_assert_str_eq(cgctl_error_message(c), "common ancestor");
	/* Refused locally, nothing sent. */
	ck_assert_int_eq(cgctl_attach(c, "a/b", pids, 0), -EINVAL);
	ck_assert_int_eq(cgctl_attach(c, "a/b", NULL, 1), -EINVAL);
	ck_assert_int_eq(cgctl_attach(c, "a/b", pids, 1025), -EINVAL);
	ck_assert_int_eq(cgctl_attach(c, "a/b", bad, 2), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_int_eq(cgctl_attach(c, "../x", pids, 1), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidName");
	fake_finish(&f, c);
}
END_TEST

/* A child that sleeps until killed. */
static pid_t sleeper(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

START_TEST(test_attach_pidfds)
{
	pid_t pids[2] = { sleeper(), sleeper() };
	struct step script[] = {
		STEP_PIDFDS(M("Attach"), "{\"name\":\"p\",\"pidfds\":2}", 2, "{\"parameters\":{\"attached\":[1,2]}}",
		  FD_NONE, pids),
		{}
	};
	struct fake f;
	cgctl *c;
	int fds[2], before, bad[1] = { -1 };

	for (int i = 0; i < 2; i++) {
		fds[i] = (int)syscall(SYS_pidfd_open, pids[i], 0);
		if (fds[i] < 0 && errno == ENOSYS) {
			/* Old kernel, or valgrind without pidfd_open: nothing to send. */
			fprintf(stderr, "test_attach_pidfds: pidfd_open unavailable, skipped\n");
			for (int k = 0; k < 2; k++) {
				kill(pids[k], SIGKILL);
				waitpid(pids[k], NULL, 0);
			}
			return;
		}
		ck_assert_int_ge(fds[i], 0);
	}
	before = count_fds();
	c = fake_connect(&f, script);
	ck_assert_int_eq(cgctl_attach_pidfds(c, "p", fds, 2), 0);
	ck_assert_int_eq(cgctl_attach_pidfds(c, "p", bad, 1), -EBADF);
	ck_assert_int_eq(cgctl_attach_pidfds(c, "p", fds, 0), -EINVAL);
	ck_assert_int_eq(cgctl_attach_pidfds(c, "p", fds, LIBCGCTL_FDS_MAX + 1), -EINVAL);
	fake_finish(&f, c);
	/* The caller's pidfds are still the caller's: open, and nothing else leaked. */
	ck_assert_int_eq(count_fds(), before);
	for (int i = 0; i < 2; i++) {
		ck_assert_int_eq(fcntl(fds[i], F_GETFD) >= 0, 1);
		close(fds[i]);
		kill(pids[i], SIGKILL);
		waitpid(pids[i], NULL, 0);
	}
}
END_TEST

#define FULL_RESOURCES \
	"{\"memory\":{\"max\":\"1073741824\",\"high\":\"max\",\"low\":\"0\"}," \
	"\"pids_max\":\"100\"," \
	"\"cpu\":{\"quota\":\"50000\",\"period\":100000,\"shares\":1024,\"idle\":false,\"cpus\":\"0-1\",\"mems\":\"0\"}," \
	"\"io\":{\"weight\":200,\"max\":[{\"major\":8,\"minor\":0,\"rbps\":\"1048576\",\"wiops\":\"max\"}]}," \
	"\"hugetlb\":[{\"pagesize\":\"2MB\",\"max\":\"4194304\"},{\"pagesize\":\"1GB\",\"max\":\"0\"}]," \
	"\"unified\":{\"cgroup.max.descendants\":\"3\",\"memory.oom.group\":\"1\"}}"

/* A struct using every field. */
static void full_resources(struct cgctl_resources *r)
{
	static const struct cgctl_io_device_limit io[] = {
		{ .major = 8, .minor = 0, .rbps = 1u << 20, .wbps = CGCTL_LIMIT_UNSET,
		  .riops = CGCTL_LIMIT_UNSET, .wiops = CGCTL_LIMIT_MAX },
	};
	static const struct cgctl_hugetlb_limit huge[] = { { "2MB", 4u << 20 }, { "1GB", 0 } };
	static const char *const unified[] = { "cgroup.max.descendants=3", "memory.oom.group=1", NULL };

	cgctl_resources_init(r);
	r->memory_max = 1u << 30;
	r->memory_high = CGCTL_LIMIT_MAX;
	r->memory_low = 0;
	r->pids_max = 100;
	r->cpu_quota = 50000;
	r->cpu_period = 100000;
	r->cpu_shares = 1024;
	r->cpu_idle = 0;
	r->cpuset_cpus = "0-1";
	r->cpuset_mems = "0";
	r->io_weight = 200;
	r->io_max = io;
	r->n_io_max = 1;
	r->hugetlb = huge;
	r->n_hugetlb = 2;
	r->unified = unified;
}

START_TEST(test_set_resources_typed)
{
	static const struct step script[] = {
		STEP(M("SetResources"), "{\"name\":\"r\",\"resources\":" FULL_RESOURCES "}", 0, OK),
		STEP(M("SetResources"), "{\"name\":\"r\",\"resources\":{}}", 0, OK),
		/* An older caller's struct ends before cpu_quota: the rest counts as unset. */
		STEP(M("SetResources"),
		  "{\"name\":\"r\",\"resources\":{\"memory\":{\"max\":\"1073741824\",\"high\":\"max\",\"low\":\"0\"},"
		  "\"pids_max\":\"100\"}}", 0, OK),
		STEP(M("SetResources"), NULL, 0,
		  "{\"error\":\"io.cgctl.Manager.ControllerUnavailable\",\"parameters\":{\"controller\":\"memory\",\"message\":\"no memory\"}}"),
		{}
	};
	struct cgctl_resources r;
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	full_resources(&r);
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), 0);
	cgctl_resources_init(&r);
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), 0);
	full_resources(&r);
	r.size = offsetof(struct cgctl_resources, cpu_quota);
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), 0);
	full_resources(&r);
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EOPNOTSUPP);
	ck_assert_str_eq(cgctl_error_message(c), "no memory");
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_set_resources_refused_locally)
{
	static const struct step script[] = { {} };
	static const struct cgctl_hugetlb_limit nosize[] = { { NULL, 1 } };
	static const char *const bad_unified[] = { "novalue", NULL };
	struct cgctl_resources r;
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	cgctl_resources_init(&r);
	r.memory_max = (uint64_t)INT64_MAX + 1;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	ck_assert_ptr_nonnull(strstr(cgctl_error_message(c), "memory_max"));
	cgctl_resources_init(&r);
	r.cpu_idle = 2;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	cgctl_resources_init(&r);
	r.n_hugetlb = 1;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	r.hugetlb = nosize;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	cgctl_resources_init(&r);
	r.unified = bad_unified;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	cgctl_resources_init(&r);
	r.size = 0;
	ck_assert_int_eq(cgctl_set_resources(c, "r", &r), -EINVAL);
	ck_assert_int_eq(cgctl_set_resources(c, "r", NULL), -EINVAL);
	ck_assert_int_eq(cgctl_set_resources_json(c, "r", "[1]"), -EINVAL);
	ck_assert_int_eq(cgctl_set_resources_json(c, "r", "{"), -EINVAL);
	ck_assert_int_eq(cgctl_set_resources_json(c, "r", NULL), -EINVAL);
	ck_assert_int_eq(cgctl_set_resources_json(c, "a//b", "{}"), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidName");
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_set_resources_json)
{
	static const struct step script[] = {
		STEP(M("SetResources"), "{\"name\":\"j\",\"resources\":{\"pids_max\":\"max\"}}", 0, OK),
		STEP(M("SetResources"), NULL, 0,
		  "{\"error\":\"io.cgctl.Manager.InvalidValue\",\"parameters\":{\"field\":\"resources.pids_max\",\"message\":\"bad\"}}"),
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	ck_assert_int_eq(cgctl_set_resources_json(c, "j", "{\"pids_max\": \"max\"}"), 0);
	ck_assert_int_eq(cgctl_set_resources_json(c, "j", "{\"pids_max\": \"-1\"}"), -EINVAL);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.InvalidValue");
	fake_finish(&f, c);
}
END_TEST

#define ENTRY_X \
	"{\"entry\":{\"name\":\"x\",\"path\":\"/sys/fs/cgroup/x\",\"state\":\"active\",\"created\":1," \
	"\"labels\":{}}}"

START_TEST(test_create_typed_resources)
{
	static const struct step script[] = {
		STEP(M("Create"), "{\"name\":\"x\",\"resources\":{\"hugetlb\":[{\"pagesize\":\"2MB\",\"max\":\"max\"}]}}",
		  0, "{\"parameters\":" ENTRY_X "}"),
		/* A caller built before the field existed: resources_json only. */
		STEP(M("Create"), "{\"name\":\"x\",\"resources\":{\"pids_max\":\"5\"}}", 0, "{\"parameters\":" ENTRY_X "}"),
		{}
	};
	static const struct cgctl_hugetlb_limit huge[] = { { "2MB", CGCTL_LIMIT_MAX } };
	struct cgctl_create_opts o = { .size = sizeof(o) };
	struct cgctl_resources r;
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	cgctl_resources_init(&r);
	r.hugetlb = huge;
	r.n_hugetlb = 1;
	o.resources = &r;
	ck_assert_int_eq(cgctl_create(c, "x", &o, NULL), 0);
	/* Both forms at once is ambiguous. */
	o.resources_json = "{}";
	ck_assert_int_eq(cgctl_create(c, "x", &o, NULL), -EINVAL);
	o.resources_json = "{\"pids_max\":\"5\"}";
	o.size = offsetof(struct cgctl_create_opts, resources);
	ck_assert_int_eq(cgctl_create(c, "x", &o, NULL), 0);
	fake_finish(&f, c);
}
END_TEST

#define STATS \
	"{\"parameters\":{\"stats\":{\"populated\":true,\"frozen\":false,\"pids\":[7,8,9]," \
	"\"files\":{\"cpu.stat\":{\"usage_usec\":5}}}}}"

START_TEST(test_get_stats)
{
	static const struct step script[] = {
		STEP(M("GetStats"), "{\"name\":\"s\"}", 0, STATS),
		STEP(M("GetStats"), "{\"name\":\"s\"}", 0, STATS),
		STEP(M("GetStats"), NULL, 0, "{\"parameters\":{\"stats\":{\"populated\":true,\"frozen\":false,\"pids\":[-1]}}}"),
		STEP(M("GetStats"), NULL, 0, "{\"parameters\":{}}"),
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, script);
	char *json = NULL;
	json_object *o, *v;
	pid_t *pids = NULL;
	size_t n = 0;
	int populated = -1, frozen = -1;

	ck_assert_int_eq(cgctl_get_stats(c, "s", &json), 0);
	o = json_tokener_parse(json);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "files", &v));
	json_object_put(o);
	free(json);
	ck_assert_int_eq(cgctl_get_pids(c, "s", &populated, &frozen, &pids, &n), 0);
	ck_assert_int_eq(populated, 1);
	ck_assert_int_eq(frozen, 0);
	ck_assert_uint_eq(n, 3);
	ck_assert_int_eq(pids[0], 7);
	ck_assert_int_eq(pids[2], 9);
	free(pids);
	pids = NULL;
	ck_assert_int_eq(cgctl_get_pids(c, "s", NULL, NULL, &pids, &n), -EPROTO);
	ck_assert_ptr_null(pids);
	ck_assert_int_eq(cgctl_get_stats(c, "s", &json), -EPROTO);
	ck_assert_int_eq(cgctl_get_pids(c, "s", NULL, NULL, &pids, NULL), -EINVAL);
	fake_finish(&f, c);
}
END_TEST

START_TEST(test_freeze_thaw_kill)
{
	static const struct step script[] = {
		STEP(M("Freeze"), "{\"name\":\"f\",\"timeout_ms\":100}", 0, OK),
		STEP(M("Freeze"), "{\"name\":\"f\"}", 0, "{\"error\":\"io.cgctl.Manager.Timeout\",\"parameters\":{\"message\":\"slow\"}}"),
		STEP(M("Thaw"), "{\"name\":\"f\"}", 0, OK),
		STEP(M("Kill"), "{\"name\":\"f\"}", 0, OK),
		STEP(M("Kill"), "{\"name\":\"f\",\"signal\":15}", 0, OK),
		{}
	};
	struct fake f;
	cgctl *c = fake_connect(&f, script);

	ck_assert_int_eq(cgctl_freeze(c, "f", 100), 0);
	ck_assert_int_eq(cgctl_freeze(c, "f", 0), -ETIMEDOUT);
	ck_assert_str_eq(cgctl_error_name(c), "io.cgctl.Manager.Timeout");
	ck_assert_int_eq(cgctl_thaw(c, "f", 0), 0);
	ck_assert_ptr_null(cgctl_error_name(c));
	ck_assert_int_eq(cgctl_kill(c, "f", 0), 0);
	ck_assert_int_eq(cgctl_kill(c, "f", SIGTERM), 0);
	ck_assert_int_eq(cgctl_kill(c, "f", -1), -EINVAL);
	ck_assert_int_eq(cgctl_kill(c, "f", SIGRTMAX + 1), -EINVAL);
	ck_assert_int_eq(cgctl_freeze(c, "f", -5), -EINVAL);
	ck_assert_int_eq(cgctl_thaw(c, "", 0), -EINVAL);
	fake_finish(&f, c);
}
END_TEST

/* A freeze timeout longer than the handle's bound still gets its answer. */
static int serve_slow_freeze(int fd, const void *arg)
{
	static const struct step s = STEP(M("Freeze"), NULL, 0, OK);
	char msg[1024];
	int fds[64];
	size_t n;

	(void)arg;
	if (srv_recv(fd, msg, sizeof(msg), fds, &n) < 0)
		return 10;
	usleep(300 * 1000);
	return srv_reply(fd, &s) < 0 ? 20 : (read(fd, msg, 1) == 0 ? 0 : 30);
}

START_TEST(test_freeze_outlasts_call_timeout)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct fake f;
	cgctl *c = NULL;
	int lfd, cfd, status;

	snprintf(f.dir, sizeof(f.dir), "/tmp/test_libcgctl_proc.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(f.dir));
	snprintf(f.path, sizeof(f.path), "%s/sock", f.dir);
	memcpy(sa.sun_path, f.path, strlen(f.path) + 1);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(lfd, 1), 0);
	f.pid = fork();
	if (f.pid == 0) {
		cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		_exit(cfd < 0 ? 40 : serve_slow_freeze(cfd, NULL));
	}
	close(lfd);
	ck_assert_int_eq(cgctl_connect(f.path, &c), 0);
	ck_assert_int_eq(cgctl_set_timeout(c, 100), 0);
	ck_assert_int_eq(cgctl_freeze(c, "f", 1000), 0);
	cgctl_disconnect(c);
	ck_assert_int_eq(waitpid(f.pid, &status, 0), f.pid);
	unlink(f.path);
	rmdir(f.dir);
	ck_assert_int_eq(status, 0);
}
END_TEST

START_TEST(test_open_cgroup)
{
	static const struct step script[] = {
		STEP_FD(M("OpenCgroup"), "{\"name\":\"o\"}", 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":0}}", FD_DIR),
		/* The index points past what came: a broken reply, nothing leaked. */
		STEP_FD(M("OpenCgroup"), NULL, 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":1}}", FD_DIR),
		/* Not a directory. */
		STEP_FD(M("OpenCgroup"), NULL, 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":0}}", FD_PIPE),
		/* No descriptor at all. */
		STEP(M("OpenCgroup"), NULL, 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":0}}"),
		STEP_FD(M("OpenCgroup"), NULL, 0, "{\"error\":\"io.cgctl.Manager.NotFound\",\"parameters\":{\"name\":\"o\",\"message\":\"no\"}}", FD_DIR),
		{}
	};
	struct stat got, root;
	struct fake f;
	cgctl *c;
	int fd = -1, before;

	before = count_fds();
	c = fake_connect(&f, script);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	ck_assert_int_eq(fstat(fd, &got), 0);
	ck_assert_int_eq(stat("/", &root), 0);
	ck_assert(got.st_ino == root.st_ino && got.st_dev == root.st_dev);
	close(fd);
	fd = -1;
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), -EPROTO);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), -EPROTO);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), -EPROTO);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), -ENOENT);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(count_fds(), before + 1); /* only the connection */
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", NULL), -EINVAL);
	fake_finish(&f, c);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* At the descriptor limit the reply's fd cannot be received: -EMFILE for that call, the connection goes on. */
START_TEST(test_open_cgroup_fd_limit)
{
	static const struct step script[] = {
		STEP_FD(M("OpenCgroup"), "{\"name\":\"o\"}", 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":0}}", FD_DIR),
		STEP_FD(M("OpenCgroup"), NULL, 0, "{\"parameters\":{\"name\":\"o\",\"path\":\"/\",\"fd\":0}}", FD_DIR),
		{}
	};
	struct rlimit old, rl;
	struct fake f;
	cgctl *c;
	int fd = -1, top, before;

	before = count_fds();
	c = fake_connect(&f, script);
	/* No descriptor free: the lowest free one is the limit. */
	top = dup(0);
	ck_assert_int_ge(top, 0);
	close(top);
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	rl = old;
	rl.rlim_cur = (rlim_t)top;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &rl), 0);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), -EMFILE);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_int_eq(fd, -1);
	ck_assert_int_eq(cgctl_open_cgroup(c, "o", &fd), 0);
	ck_assert_int_ge(fd, 0);
	close(fd);
	fake_finish(&f, c);
	ck_assert_int_eq(count_fds(), before);
}
END_TEST

/* The suite: one case per behaviour. */
static Suite *proc_suite(void)
{
	Suite *s = suite_create("libcgctl_proc");
	TCase *tc = tcase_create("proc");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_attach_pids);
	tcase_add_test(tc, test_attach_pidfds);
	tcase_add_test(tc, test_set_resources_typed);
	tcase_add_test(tc, test_set_resources_refused_locally);
	tcase_add_test(tc, test_set_resources_json);
	tcase_add_test(tc, test_create_typed_resources);
	tcase_add_test(tc, test_get_stats);
	tcase_add_test(tc, test_freeze_thaw_kill);
	tcase_add_test(tc, test_freeze_outlasts_call_timeout);
	tcase_add_test(tc, test_open_cgroup);
	tcase_add_test(tc, test_open_cgroup_fd_limit);
	suite_add_tcase(s, tc);
	return s;
}

/* Run the suite; exit status 0 when everything passed. */
int main(void)
{
	SRunner *sr = srunner_create(proc_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
