/* SPDX-License-Identifier: MIT */
/* pressure.c: PSI triggers of Watch streams: validated, armed on pressure files, polled for POLLPRI. */
#include "pressure.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <event2/event.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "events.h"
#include "log.h"
#include "manager.h"
#include "tenant.h"

/*
 * One armed trigger: the pressure file it was written to, and the stream it
 * reports to. The kernel's poll of a trigger clears the "fired" state it
 * reports, so an epoll set of its own (interest: EPOLLPRI only) stands between
 * it and libevent: that set turns readable exactly when the trigger fired, even
 * though the check that made it so already consumed the EPOLLPRI.
 */
struct trigger {
	struct trigger *next;
	struct manager *m;
	const void *stream; /* the holder's (pressure_add()), where events go */
	uid_t uid;
	int fd;     /* -1 once the cgroup went away */
	int epfd;
	struct event *ev;
	char *name;
	char resource[8], kind[8];
	int64_t stall_us, window_us;
};

/* Every trigger. */
struct pressure {
	struct trigger *triggers;
	unsigned n;
};

/* Whether the kernel will take any window from us: CAP_SYS_RESOURCE in the effective set. */
static bool pressure_privileged(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d) < 0)
		return false;
	return d[CAP_TO_INDEX(CAP_SYS_RESOURCE)].effective & CAP_TO_MASK(CAP_SYS_RESOURCE);
}

/* Member key of o as a string in one of the NULL-terminated choices; NULL otherwise. */
static const char *spec_choice(json_object *o, const char *key, const char *const *choices)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	for (size_t i = 0; choices[i]; i++)
		if (strcmp(json_object_get_string(v), choices[i]) == 0)
			return choices[i];
	return NULL;
}

/* Member key of o as an int (a decimal string too, as 64-bit values may travel); false otherwise. */
static bool spec_int(json_object *o, const char *key, int64_t *ret)
{
	json_object *v;
	char *end;

	if (!json_object_object_get_ex(o, key, &v))
		return false;
	if (json_object_is_type(v, json_type_int)) {
		*ret = json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_string) || !json_object_get_string(v)[0])
		return false;
	errno = 0;
	*ret = strtoll(json_object_get_string(v), &end, 10);
	return errno == 0 && *end == '\0';
}

/* Unknown members are refused: a typo must not arm a different trigger. */
static int spec_members(json_object *o, size_t i, struct op_error *e)
{
	static const char *const known[] = { "name", "resource", "kind", "stall_us", "window_us", NULL };

	json_object_object_foreach(o, k, v) {
		size_t j = 0;

		(void)v;
		while (known[j] && strcmp(known[j], k) != 0)
			j++;
		if (!known[j]) {
			op_error_set(e, -EINVAL, CGERR_INVALID_VALUE, "field", "pressure",
				     "pressure[%zu]: unknown member \"%s\"", i, k);
			snprintf(e->value, sizeof(e->value), "pressure[%zu].%s", i, k);
			return -EINVAL;
		}
	}
	return 0;
}

/* Refuse with InvalidValue naming pressure[i].member. */
static int spec_invalid(struct op_error *e, size_t i, const char *member, const char *why)
{
	op_error_set(e, -EINVAL, CGERR_INVALID_VALUE, "field", "pressure", "pressure[%zu]%s%s: %s", i,
		     member[0] ? "." : "", member, why);
	snprintf(e->value, sizeof(e->value), "pressure[%zu]%s%s", i, member[0] ? "." : "", member);
	return -EINVAL;
}

int pressure_spec_parse(json_object *o, size_t i, bool privileged, struct pressure_spec *ret,
			struct op_error *e)
{
	static const char *const resources[] = { "memory", "cpu", "io", NULL };
	static const char *const kinds[] = { "some", "full", NULL };
	struct pressure_spec s = { 0 };
	json_object *v;

	if (!json_object_is_type(o, json_type_object))
		return spec_invalid(e, i, "", "not a PressureTrigger object");
	if (spec_members(o, i, e) < 0)
		return -EINVAL;
	if (!json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string))
		return spec_invalid(e, i, "name", "the cgroup's name is required");
	s.name = json_object_get_string(v);
	if (!(s.resource = spec_choice(o, "resource", resources)))
		return spec_invalid(e, i, "resource", "must be \"memory\", \"cpu\" or \"io\"");
	if (!(s.kind = spec_choice(o, "kind", kinds)))
		return spec_invalid(e, i, "kind", "must be \"some\" or \"full\"");
	if (!spec_int(o, "window_us", &s.window_us) || s.window_us < PRESSURE_WINDOW_MIN_US ||
	    s.window_us > PRESSURE_WINDOW_MAX_US)
		return spec_invalid(e, i, "window_us", "the kernel takes windows of 500000 to 10000000 us");
	if (!spec_int(o, "stall_us", &s.stall_us) || s.stall_us <= 0 || s.stall_us > s.window_us)
		return spec_invalid(e, i, "stall_us", "must be more than 0 and at most window_us");
	if (!privileged && s.window_us % PRESSURE_UNPRIV_STEP_US != 0)
		return op_error_set(e, -EPERM, CGERR_PERMISSION_DENIED, NULL, NULL,
				    "pressure[%zu]: a window of %lld us needs CAP_SYS_RESOURCE; without it the kernel "
				    "takes only windows that are a multiple of 2 s (2000000, 4000000, ... us)",
				    i, (long long)s.window_us);
	*ret = s;
	return 0;
}

/* Stop polling t's pressure file and close it. */
static void trigger_disarm(struct trigger *t)
{
	if (t->ev)
		event_free(t->ev);
	t->ev = NULL;
	if (t->epfd >= 0)
		close(t->epfd);
	t->epfd = -1;
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
}

/* Free t (already unlinked). */
static void trigger_free(struct trigger *t)
{
	trigger_disarm(t);
	free(t->name);
	free(t);
}

/* A percentage as the kernel prints it (9.60, not 9.5999999999999996). */
static json_object *pressure_avg(double v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%.2f", v);
	return json_object_new_double_s(v, buf);
}

/* "some avg10=1.00 avg60=... total=N" of the kind's line of a pressure file, as details. */
static json_object *trigger_details(const struct trigger *t, const char *text)
{
	json_object *d = json_object_new_object();
	size_t klen = strlen(t->kind);

	json_object_object_add(d, "resource", json_object_new_string(t->resource));
	json_object_object_add(d, "kind", json_object_new_string(t->kind));
	json_object_object_add(d, "stall_us", json_object_new_int64(t->stall_us));
	json_object_object_add(d, "window_us", json_object_new_int64(t->window_us));
	for (const char *l = text; l && *l; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
		double a10, a60, a300;
		long long total;

		if (strncmp(l, t->kind, klen) != 0 || l[klen] != ' ' ||
		    sscanf(l + klen, " avg10=%lf avg60=%lf avg300=%lf total=%lld", &a10, &a60, &a300, &total) != 4)
			continue;
		json_object_object_add(d, "avg10", pressure_avg(a10));
		json_object_object_add(d, "avg60", pressure_avg(a60));
		json_object_object_add(d, "avg300", pressure_avg(a300));
		json_object_object_add(d, "total", json_object_new_int64(total));
		break;
	}
	return d;
}

/* The kernel fired t: tell its stream, with the figures now. */
static void trigger_fired(struct manager *m, struct trigger *t)
{
	char buf[512];
	ssize_t n = pread(t->fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	/* May end the stream (a watcher that does not read), and free t with it. */
	events_send(m, t->stream, "pressure", t->name, trigger_details(t, buf));
}

/* t's epoll set turned readable: the trigger fired, or its cgroup is gone (EPOLLERR, for good). */
static void trigger_cb(evutil_socket_t fd, short what, void *arg)
{
	struct trigger *t = arg;
	struct epoll_event ev = { 0 };

	(void)what;
	if (epoll_wait(fd, &ev, 1, 0) == 1 && (ev.events & (EPOLLERR | EPOLLHUP))) {
		/* Removed: its stream has had "removed"; the slot stays counted until the stream ends. */
		trigger_disarm(t);
		return;
	}
	trigger_fired(t->m, t);
}

/* The pressure state, made on first use. */
static struct pressure *pressure_get(struct manager *m)
{
	struct pressure **slot = manager_pressure_slot(m);

	if (!*slot)
		*slot = calloc(1, sizeof(struct pressure));
	return *slot;
}

/* Triggers of uid armed now. */
static unsigned pressure_of_uid(const struct pressure *p, uid_t uid)
{
	unsigned n = 0;

	for (const struct trigger *t = p ? p->triggers : NULL; t; t = t->next)
		n += t->uid == uid;
	return n;
}

/* Whether rel's cgroup.controllers has controller. */
static bool pressure_has_controller(struct manager *m, const char *rel, const char *controller)
{
	_cleanup_free_ char *text = NULL;
	char **avail = NULL;
	bool found = false;

	if (cgfs_read_attr(manager_rootfd(m), rel, "cgroup.controllers", 4096, &text) < 0)
		return false;
	text[strcspn(text, "\n")] = '\0';
	if (cgfs_parse_controllers(text, &avail) < 0)
		return false;
	for (size_t i = 0; avail[i]; i++)
		found |= strcmp(avail[i], controller) == 0;
	cgfs_strv_free(avail);
	return found;
}

/* The managed cgroup s->name that uid may see, its controller there, its relative path in *ret_rel. */
static int trigger_lookup(struct manager *m, uid_t uid, const struct pressure_spec *s, char **ret_rel,
			  struct op_error *e)
{
	_cleanup_free_ char *rel = NULL;
	struct ledger_entry *le;
	int r;

	if ((r = manager_check_name(m, s->name, e)) < 0)
		return r;
	le = ledger_get(manager_ledger(m), s->name);
	/* Another tenant's entry answers exactly as a missing one, before its directory is looked at. */
	if (!le || !tenant_may_access(uid, le) || cgname_to_path(s->name, &rel) < 0 || cgfs_exists(manager_rootfd(m), rel) <= 0)
		return op_error_set(e, -ENOENT, CGERR_NOT_FOUND, "name", s->name, "no cgroup \"%s\" managed by cgctld",
				    s->name);
	/* A cgroup without the memory (io) controller stalls on memory (io) only for others' reasons. */
	if (strcmp(s->resource, "cpu") != 0 && !pressure_has_controller(m, rel, s->resource))
		return op_error_set(e, -EOPNOTSUPP, CGERR_CONTROLLER_UNAVAILABLE, "controller", s->resource,
				    "%s pressure of \"%s\" needs the %s controller, which is not enabled for it",
				    s->resource, s->name, s->resource);
	*ret_rel = TAKE_PTR(rel);
	return 0;
}

/* Translate a failed open or write of the pressure file. */
static int trigger_error(const struct pressure_spec *s, const char *file, int r, struct op_error *e)
{
	if (r == -ENOENT || r == -EOPNOTSUPP)
		return op_error_set(e, r, CGERR_CONTROLLER_UNAVAILABLE, "controller", "psi",
				    "%s: %s: the kernel has no pressure stall information (CONFIG_PSI, psi=1)",
				    s->name, file);
	if (r == -EISDIR)
		return op_error_set(e, r, CGERR_CONTROLLER_UNAVAILABLE, "controller", "psi",
				    "%s: %s is a cgroup (its delegatee made it), not the kernel's pressure file, "
				    "which this kernel does not have there", s->name, file);
	if (r == -EPERM || r == -EACCES)
		return op_error_set(e, r, CGERR_PERMISSION_DENIED, NULL, NULL, "%s: %s: the kernel refused the trigger: %s",
				    s->name, file, strerror(-r));
	if (r == -EINVAL || r == -ERANGE)
		return op_error_set(e, r, CGERR_INVALID_VALUE, "field", "pressure",
				    "%s: %s: the kernel refused the trigger \"%s %lld %lld\"", s->name, file, s->kind,
				    (long long)s->stall_us, (long long)s->window_us);
	return op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "%s: %s: %s", s->name, file, strerror(-r));
}

/* Open rel's pressure file and write the trigger into it: the fd, or -errno with e filled. */
static int trigger_arm(struct manager *m, const struct pressure_spec *s, const char *rel, struct op_error *e)
{
	_cleanup_free_ char *file = NULL, *line = NULL;
	_cleanup_close_ int fd = -1;
	int n;

	if (asprintf(&file, "%s/%s.pressure", rel, s->resource) < 0 ||
	    (n = asprintf(&line, "%s %lld %lld", s->kind, (long long)s->stall_us, (long long)s->window_us)) < 0)
		return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
	fd = cgfs_open_file(manager_rootfd(m), file, O_RDWR | O_NONBLOCK);
	if (fd < 0)
		return trigger_error(s, file, fd, e);
	/* The kernel's documented form: the string with its NUL, in one write. */
	if (write(fd, line, (size_t)n + 1) < 0)
		return trigger_error(s, file, -errno, e);
	return TAKE_FD(fd);
}

/* Poll t's armed pressure file for EPOLLPRI through its own epoll set on m's loop. 0 or -errno. */
static int trigger_poll(struct manager *m, struct trigger *t)
{
	struct epoll_event ev = { .events = EPOLLPRI, .data.ptr = t };

	t->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (t->epfd < 0 || epoll_ctl(t->epfd, EPOLL_CTL_ADD, t->fd, &ev) < 0)
		return -errno;
	t->ev = event_new(manager_base(m), t->epfd, EV_READ | EV_PERSIST, trigger_cb, t);
	if (!t->ev || event_add(t->ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

/* Arm one checked trigger for stream (of uid) and link it. 0 or -errno with e filled. */
static int trigger_add(struct manager *m, struct pressure *p, const void *stream, uid_t uid,
		       const struct pressure_spec *s, struct op_error *e)
{
	_cleanup_free_ char *rel = NULL;
	struct trigger *t;
	int r;

	if ((r = trigger_lookup(m, uid, s, &rel, e)) < 0)
		return r;
	t = calloc(1, sizeof(*t));
	if (!t || !(t->name = strdup(s->name))) {
		free(t);
		return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
	}
	t->m = m;
	t->epfd = -1;
	t->fd = trigger_arm(m, s, rel, e);
	if (t->fd >= 0 && (r = trigger_poll(m, t)) < 0)
		op_error_set(e, r, CGERR_SYSTEM_ERROR, NULL, NULL, "cannot poll %s's pressure file: %s", s->name,
			     strerror(-r));
	else if (t->fd >= 0) {
		t->stream = stream;
		t->uid = uid;
		snprintf(t->resource, sizeof(t->resource), "%s", s->resource);
		snprintf(t->kind, sizeof(t->kind), "%s", s->kind);
		t->stall_us = s->stall_us;
		t->window_us = s->window_us;
		t->next = p->triggers;
		p->triggers = t;
		p->n++;
		return 0;
	}
	r = -e->errnum;
	trigger_free(t);
	return r;
}

/* Refuse more triggers than one Watch or uid (per_uid at most) may hold. */
static int pressure_quota(struct manager *m, uid_t uid, unsigned per_uid, size_t want, struct op_error *e)
{
	unsigned held = pressure_of_uid(manager_pressure(m), uid);

	if (want > PRESSURE_WATCH_MAX)
		return op_error_set(e, -E2BIG, CGERR_INVALID_VALUE, "field", "pressure",
				    "at most %d pressure triggers in one Watch", PRESSURE_WATCH_MAX);
	if (held + want > per_uid)
		return op_error_set(e, -EDQUOT, CGERR_QUOTA_EXCEEDED, "limit", "pressure-triggers",
				    "uid %u holds %u pressure triggers and asks for %zu more: at most %u "
				    "(--max-pressure-triggers-per-uid); they are released when their Watch ends",
				    (unsigned)uid, held, want, per_uid);
	return 0;
}

int pressure_add(struct manager *m, const void *stream, uid_t uid, unsigned per_uid, json_object *triggers,
		 struct op_error *e)
{
	size_t n = triggers ? json_object_array_length(triggers) : 0;
	bool privileged = pressure_privileged();
	struct pressure_spec s;
	struct pressure *p;
	int r;

	if (n == 0)
		return 0;
	if ((r = pressure_quota(m, uid, per_uid, n, e)) < 0)
		return r;
	/* Every trigger is checked before any is armed. */
	for (size_t i = 0; i < n; i++)
		if ((r = pressure_spec_parse(json_object_array_get_idx(triggers, i), i, privileged, &s, e)) < 0)
			return r;
	if (!(p = pressure_get(m)))
		return op_error_set(e, -ENOMEM, CGERR_SYSTEM_ERROR, NULL, NULL, "out of memory");
	for (size_t i = 0; i < n; i++) {
		pressure_spec_parse(json_object_array_get_idx(triggers, i), i, privileged, &s, e);
		if ((r = trigger_add(m, p, stream, uid, &s, e)) < 0) {
			pressure_release(m, stream);
			return r;
		}
	}
	return 0;
}

void pressure_release(struct manager *m, const void *stream)
{
	struct pressure *p = manager_pressure(m);

	for (struct trigger **pp = p ? &p->triggers : NULL; pp && *pp;) {
		struct trigger *t = *pp;

		if (t->stream != stream) {
			pp = &t->next;
			continue;
		}
		*pp = t->next;
		p->n--;
		trigger_free(t);
	}
}

unsigned pressure_count(const struct manager *m)
{
	const struct pressure *p = manager_pressure(m);

	return p ? p->n : 0;
}

unsigned pressure_count_of(const struct manager *m, uid_t uid)
{
	return pressure_of_uid(manager_pressure(m), uid);
}

void pressure_done(struct manager *m)
{
	struct pressure *p = manager_pressure(m);

	if (!p)
		return;
	while (p->triggers) {
		struct trigger *t = p->triggers;

		p->triggers = t->next;
		trigger_free(t);
	}
	free(p);
	*manager_pressure_slot(m) = NULL;
}
