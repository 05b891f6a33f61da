/* SPDX-License-Identifier: MIT */
/* attach.c: move processes into a cgroup: cgroup.procs, pidfds, systemd fallback. */
#include "attach.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <event2/event.h>
#include <systemd/sd-bus.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "log.h"
#include "manager_internal.h"
#include "now.h"

/* sd_bus_process() rounds per wake-up before other clients get the loop back. */
#define ATTACH_PROCESS_BATCH 64

/*
 * One AttachProcessesToUnit call on a bus connection of its own, driven by
 * the daemon's loop: an fd event for what sd_bus_get_events() asks, and one
 * timer for both sd_bus_get_timeout() and our deadline.
 */
struct attach_req {
	struct attach_req *next; /* on the manager's list, for cancellation */
	struct manager *m;
	sd_bus *bus;
	sd_bus_slot *slot;       /* the pending call */
	struct event *io, *timer;
	int fd;
	uint64_t deadline;       /* CLOCK_MONOTONIC usec: connection and call together */
	char *sub;               /* the subcgroup, for the log */
	pid_t pid;
	attach_done_fn done;
	void *arg;
	int result;
	bool answered;           /* the reply, or sd-bus's stand-in for one, came */
};

/* 1 when pid leads its thread group (is a process, not another thread of one), 0 if not, -ESRCH once gone. */
static int attach_pid_is_leader(pid_t pid)
{
	_cleanup_close_ int fd = -1;
	char path[64], buf[4096];
	char *line, *end;
	ssize_t n;
	long tgid;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	buf[n] = '\0';
	line = strstr(buf, "\nTgid:");
	if (!line)
		return -EBADMSG;
	errno = 0;
	tgid = strtol(line + 6, &end, 10);
	if (errno || end == line + 6)
		return -EBADMSG;
	return tgid == (long)pid;
}

int attach_pidfd_to_pid(int pidfd, pid_t *ret)
{
	_cleanup_close_ int fd = -1;
	char path[64], buf[4096];
	char *line;
	ssize_t n;
	long pid;
	int r;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", pidfd);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	line = strstr(buf, "\nPid:");
	if (!line)
		return -EBADF; /* not a pidfd */
	pid = strtol(line + 5, NULL, 10);
	if (pid == -1)
		return -ESRCH;
	if (pid <= 0)
		return -EBADF;
	/* A thread's pidfd (PIDFD_THREAD): cgroup.procs would move its whole process, checked as the thread. */
	r = attach_pid_is_leader((pid_t)pid);
	if (r < 0)
		return r;
	if (r == 0)
		return -EINVAL;
	*ret = (pid_t)pid;
	return 0;
}

/* Our unit's cgroup is where we started (systemd's Delegate=yes unit). */
static int attach_subcgroup(struct manager *m, const char *relpath, char **ret)
{
	size_t n = strlen(m->disc.own_path);

	if (strncmp(m->root_path, m->disc.own_path, n) != 0 || (m->root_path[n] && m->root_path[n] != '/'))
		return -EXDEV;
	return asprintf(ret, "%s/%s", m->root_path[n] ? m->root_path + n : "", relpath) < 0 ? -ENOMEM : 0;
}

/* $CGCTLD_SYSTEMD_TIMEOUT_MS when set and sane (tests shorten it), else the default. */
static uint64_t attach_timeout_usec(void)
{
	const char *e = getenv("CGCTLD_SYSTEMD_TIMEOUT_MS");
	unsigned long long v;
	char *end;

	if (!e || !*e)
		return ATTACH_SYSTEMD_TIMEOUT_MS * 1000ULL;
	errno = 0;
	v = strtoull(e, &end, 10);
	if (e[0] < '0' || e[0] > '9' || errno || *end || v == 0 || v > MANAGER_KILL_TIMEOUT_MAX_MS) {
		log_warnx("ignoring CGCTLD_SYSTEMD_TIMEOUT_MS=%s (want 1..%d)", e, MANAGER_KILL_TIMEOUT_MAX_MS);
		return ATTACH_SYSTEMD_TIMEOUT_MS * 1000ULL;
	}
	return v * 1000;
}

/*
 * Our user manager's private socket, as systemctl --user uses it (no D-Bus
 * session bus needed); the session bus when that is missing. Only connect(2)
 * happens here, and it does not wait on a Unix socket; authentication and
 * the call run in the loop.
 */
static int attach_open_manager(sd_bus **ret)
{
	const char *rt = getenv("XDG_RUNTIME_DIR");
	_cleanup_free_ char *addr = NULL;
	sd_bus *bus = NULL;
	int r;

	if (rt && rt[0] == '/' && asprintf(&addr, "unix:path=%s/systemd/private", rt) >= 0 &&
	    sd_bus_new(&bus) >= 0) {
		if (sd_bus_set_address(bus, addr) >= 0 && sd_bus_start(bus) >= 0) {
			*ret = bus;
			return 0;
		}
		sd_bus_unref(bus);
		bus = NULL;
	}
	r = sd_bus_open_user(&bus);
	if (r < 0)
		return r;
	*ret = bus;
	return 0;
}

/* Take req off the manager's list and release it, without reporting. */
static void attach_req_free(struct attach_req *req)
{
	struct manager *m = req->m;

	for (struct attach_req **pp = &m->attaches; *pp; pp = &(*pp)->next)
		if (*pp == req) {
			*pp = req->next;
			m->n_attaches--;
			break;
		}
	/* Off the loop before sd-bus closes the fd. */
	if (req->io)
		event_free(req->io);
	if (req->timer)
		event_free(req->timer);
	sd_bus_slot_unref(req->slot);
	/* Not flushed: an unanswered call is abandoned, never waited for. */
	sd_bus_close_unref(req->bus);
	free(req->sub);
	free(req);
}

/* Release req, then report: done() may start the next request. */
static void attach_req_finish(struct attach_req *req, int r)
{
	attach_done_fn done = req->done;
	void *arg = req->arg;

	attach_req_free(req);
	done(arg, r);
}

/* Log why systemd did not do it, and report. */
static void attach_req_fail(struct attach_req *req, int r)
{
	log_notice("systemd could not attach pid %d to %s: %s", (int)req->pid, req->sub, strerror(-r));
	attach_req_finish(req, r);
}

/* The answer, or sd-bus's stand-in for one (its timeout, the connection gone). */
static int attach_reply_cb(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct attach_req *req = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int r;

	req->answered = true;
	if (!e) {
		req->result = 0;
		return 0;
	}
	r = sd_bus_message_get_errno(reply);
	req->result = r > 0 ? -r : -EIO;
	/* What sd_bus_call() says when the peer hangs up, rather than "no reply". */
	if (sd_bus_error_has_name(e, SD_BUS_ERROR_NO_REPLY) && sd_bus_is_open(req->bus) <= 0) {
		req->result = -ECONNRESET;
		e = NULL;
	}
	log_notice("systemd could not attach pid %d to %s: %s", (int)req->pid, req->sub,
		   e && e->message ? e->message : strerror(-req->result));
	return 0;
}

static void attach_io_cb(evutil_socket_t fd, short what, void *arg);
static void attach_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Wait for what sd-bus wants next (fd readable or writable, its timeout), or our deadline. */
static int attach_req_arm(struct attach_req *req, bool at_once)
{
	uint64_t until = UINT64_MAX, now;
	int events = sd_bus_get_events(req->bus);
	struct timeval tv;
	short what = 0;
	int r;

	if (events < 0)
		return events;
	r = sd_bus_get_timeout(req->bus, &until);
	if (r < 0)
		return r;
	if (events & POLLIN)
		what |= EV_READ;
	if (events & POLLOUT)
		what |= EV_WRITE;
	event_del(req->io);
	if (what && (event_assign(req->io, req->m->base, req->fd, what, attach_io_cb, req) < 0 ||
		     event_add(req->io, NULL) < 0))
		return -ENOMEM;
	if (at_once)
		until = 0;
	if (until > req->deadline)
		until = req->deadline;
	now = now_mono_usec();
	now = until > now ? until - now : 0;
	tv.tv_sec = (time_t)(now / 1000000);
	tv.tv_usec = (suseconds_t)(now % 1000000);
	return evtimer_add(req->timer, &tv) < 0 ? -ENOMEM : 0;
}

/* Let sd-bus work; finish once answered or broken, else wait again. */
static void attach_req_run(struct attach_req *req)
{
	int r = 0;

	for (unsigned i = 0; i < ATTACH_PROCESS_BATCH && !req->answered; i++) {
		r = sd_bus_process(req->bus, NULL);
		if (r <= 0)
			break;
	}
	if (req->answered) {
		attach_req_finish(req, req->result);
		return;
	}
	/* A chatty peer gets a batch per loop turn, then the others' turn. */
	if (r >= 0)
		r = attach_req_arm(req, r > 0);
	if (r < 0)
		attach_req_fail(req, r);
}

/* The connection is readable or writable. */
static void attach_io_cb(evutil_socket_t fd, short what, void *arg)
{
	attach_req_run(arg);
}

/* sd-bus's timeout, our deadline, or another batch. */
static void attach_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct attach_req *req = arg;

	if (now_mono_usec() >= req->deadline) {
		attach_req_fail(req, -ETIMEDOUT);
		return;
	}
	attach_req_run(req);
}

/* Hook the connection to the loop and queue the call (sent once authenticated). */
static int attach_req_start(struct attach_req *req, uint64_t timeout)
{
	struct event_base *base = req->m->base;
	sd_bus *bus = req->bus;
	int r;

	r = sd_bus_get_fd(bus);
	if (r < 0)
		return r;
	req->fd = r;
	req->io = event_new(base, req->fd, EV_READ, attach_io_cb, req);
	req->timer = evtimer_new(base, attach_timer_cb, req);
	if (!req->io || !req->timer)
		return -ENOMEM;
	r = sd_bus_set_method_call_timeout(bus, timeout);
	if (r < 0)
		return r;
	/* The private socket is peer-to-peer: no destination name there. */
	r = sd_bus_call_method_async(bus, &req->slot,
				     sd_bus_is_bus_client(bus) > 0 ? "org.freedesktop.systemd1" : NULL,
				     "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
				     "AttachProcessesToUnit", attach_reply_cb, req, "ssau", "", req->sub, 1,
				     (uint32_t)req->pid);
	if (r < 0)
		return r;
	return attach_req_arm(req, false);
}

int attach_via_systemd(struct manager *m, const char *relpath, pid_t pid, attach_done_fn done, void *arg)
{
	uint64_t timeout = attach_timeout_usec();
	_cleanup_free_ char *sub = NULL;
	struct attach_req *req;
	sd_bus *bus = NULL;
	int r;

	/* One socket each: bounded, whatever clients that hang up and retry do. */
	if (m->n_attaches >= ATTACH_SYSTEMD_MAX)
		return -EAGAIN;
	r = attach_subcgroup(m, relpath, &sub);
	if (r < 0)
		return r;
	r = attach_open_manager(&bus);
	if (r < 0)
		return r;
	req = calloc(1, sizeof(*req));
	if (!req) {
		sd_bus_close_unref(bus);
		return -ENOMEM;
	}
	*req = (struct attach_req){ .next = m->attaches, .m = m, .bus = bus, .fd = -1,
				    .deadline = now_mono_usec() + timeout, .sub = TAKE_PTR(sub),
				    .pid = pid, .done = done, .arg = arg };
	m->attaches = req;
	m->n_attaches++;
	r = attach_req_start(req, timeout);
	if (r < 0) {
		log_notice("systemd could not attach pid %d to %s: %s", (int)pid, req->sub, strerror(-r));
		attach_req_free(req);
		return r;
	}
	return 0;
}

int attach_pid(struct manager *m, int cgfd, const char *relpath, pid_t pid, attach_done_fn done, void *arg,
	       const char **ret_how)
{
	char buf[32];
	int r;

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	r = cgfs_write(cgfd, "cgroup.procs", buf);
	*ret_how = "kernel";
	if (r != -EACCES && r != -EPERM)
		return r;
	/* Common-ancestor rule: only systemd (or root) can move it from there. */
	*ret_how = "systemd";
	r = attach_via_systemd(m, relpath, pid, done, arg);
	return r < 0 ? r : 1;
}

void attach_cancel_all(struct manager *m)
{
	while (m->attaches)
		attach_req_finish(m->attaches, -ECANCELED);
}

bool attach_pending(const struct manager *m)
{
	return m->attaches != NULL;
}
