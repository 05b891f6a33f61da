/* SPDX-License-Identifier: MIT */
/* cgctl-oci-hook.c: OCI runtime hook: a cgctld-managed cgroup for a container at createRuntime, removed at poststop. */

/*
 * The runtime runs us with the container's state on stdin (id, pid, bundle,
 * status) and only the environment of the hook's "env". At createRuntime we
 * create the cgroup with the limits of config.json, move the container's init
 * in and exit; at poststop we destroy it with kill. Everything we create
 * carries the labels oci.id and oci.bundle, and we touch only entries that
 * carry ours. stdout stays clean: runtimes may pass it through.
 */

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "cgctl.h"
#include "cleanup.h"
#include "names.h"
#include "paths.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

#define HOOK_STATE_MAX (1u << 20)     /* the state runtimes send is a few hundred bytes */
#define HOOK_CONFIG_MAX (16u << 20)   /* config.json */
#define HOOK_TIMEOUT_DEFAULT_MS 10000 /* per daemon call */
#define HOOK_RETRIES_MAX 32           /* limits dropped one at a time, at most */
#define ANN_NAME "io.cgctl.name"
#define ANN_RESOURCES "io.cgctl.resources"

enum stage { STAGE_UNKNOWN, STAGE_CREATE, STAGE_POSTSTOP };
enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

/* One run of the hook. */
struct hook {
	enum stage stage;
	const char *socket;   /* --socket, else NULL: $CGCTL_SOCKET or the default */
	const char *log_path; /* --log: warnings and errors are appended there too */
	bool strict;
	bool dry_run; /* print what createRuntime would ask for, call nothing */
	int timeout_ms;
	json_object *state;  /* owned */
	json_object *config; /* owned; NULL at poststop when the bundle is gone */
	const char *id;      /* these three point into state */
	const char *bundle;
	const char *status;
	pid_t pid;
	char *name; /* the cgroup's name; owned */
	bool derived;
	cgctl *c;
};

/* _cleanup_ destructor of json-c locals. */
static inline void json_cleanup(json_object **o) { json_object_put(*o); }
#define _cleanup_json_ _cleanup_(json_cleanup)

/* --- messages ------------------------------------------------------------ */

/* One line on stderr, and in the --log file with a timestamp. */
__attribute__((format(printf, 3, 0)))
static void hook_vlog(const struct hook *h, const char *level, const char *fmt, va_list ap)
{
	_cleanup_free_ char *msg = NULL;
	char stamp[32] = "";
	time_t now = time(NULL);
	struct tm tm;
	int fd;

	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	for (char *p = msg; p && *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	fprintf(stderr, "cgctl-oci-hook: %s%s%s: %s\n", h->id ? h->id : "", h->id ? ": " : "", level,
		msg ? msg : fmt);
	if (!h->log_path)
		return;
	fd = open(h->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
	if (fd < 0)
		return;
	if (localtime_r(&now, &tm))
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm);
	dprintf(fd, "%s cgctl-oci-hook[%d]: %s%s%s: %s\n", stamp, (int)getpid(), h->id ? h->id : "",
		h->id ? ": " : "", level, msg ? msg : fmt);
	close(fd);
}

/* Log a warning. */
__attribute__((format(printf, 2, 3)))
static void hook_warn(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, "warning", fmt, ap);
	va_end(ap);
}

/* Log an error; returns EXIT_FAIL. */
__attribute__((format(printf, 2, 3)))
static int hook_error(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, "error", fmt, ap);
	va_end(ap);
	return EXIT_FAIL;
}

/*
 * The container can run without a cgroup of its own (no daemon, no
 * delegation): a warning and success, or with --strict an error.
 */
__attribute__((format(printf, 2, 3)))
static int hook_soft(const struct hook *h, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	hook_vlog(h, h->strict ? "error" : "warning", fmt, ap);
	va_end(ap);
	return h->strict ? EXIT_FAIL : EXIT_OK;
}

/* "Name: message" of the daemon's last error, or the code's description. */
static const char *hook_why(const struct hook *h, int r, char *buf, size_t size)
{
	const char *name = h->c ? cgctl_error_name(h->c) : NULL;
	const char *msg = h->c ? cgctl_error_message(h->c) : NULL;
	const char *dot = name ? strrchr(name, '.') : NULL;

	if (!name)
		return cgctl_strerror(r);
	snprintf(buf, size, "%s: %s", dot ? dot + 1 : name, msg ? msg : cgctl_strerror(r));
	return buf;
}

/* The daemon's last error message, never NULL. */
static const char *hook_errmsg(const struct hook *h)
{
	const char *m = h->c ? cgctl_error_message(h->c) : NULL;

	return m ? m : "no reason given";
}

/* Log a failed daemon call "what"; returns EXIT_FAIL. */
static int hook_call_failed(const struct hook *h, const char *what, int r)
{
	char buf[1024];

	return hook_error(h, "%s: %s", what, hook_why(h, r, buf, sizeof(buf)));
}

/* --- input --------------------------------------------------------------- */

/* Parse at most max bytes of fd as one JSON object into *ret; -errno, -EINVAL when not an object. */
static int read_json(int fd, size_t max, json_object **ret)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;
	json_object *o;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			if (cap >= max)
				return -EFBIG;
			cap = cap ? cap * 2 : 4096;
			if (cap > max)
				cap = max;
			nb = realloc(buf, cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (!buf)
		return -EINVAL;
	buf[len] = '\0';
	if (strlen(buf) != len)
		return -EINVAL;
	o = json_tokener_parse(buf);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

/* String member key of o, or NULL. */
static const char *get_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Member key of o when it is an object, else NULL. */
static json_object *get_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* Read the container state from stdin. */
static int hook_read_state(struct hook *h)
{
	json_object *v;
	int r = read_json(STDIN_FILENO, HOOK_STATE_MAX, &h->state);

	if (r < 0)
		return hook_error(h, "cannot read the container state (a JSON object) from stdin: %s",
				  strerror(-r));
	h->id = get_str(h->state, "id");
	h->bundle = get_str(h->state, "bundle");
	h->status = get_str(h->state, "status");
	if (!h->id || !h->id[0])
		return hook_error(h, "the container state has no \"id\"");
	if (!h->bundle || h->bundle[0] != '/')
		return hook_error(h, "the container state has no absolute \"bundle\" path");
	if (json_object_object_get_ex(h->state, "pid", &v) && json_object_is_type(v, json_type_int)) {
		int64_t pid = json_object_get_int64(v);

		if (pid > 0 && pid <= INT32_MAX)
			h->pid = (pid_t)pid;
	}
	return EXIT_OK;
}

/* Read <bundle>/config.json (createRuntime; poststop finds its entries by label). */
static int hook_read_config(struct hook *h)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	int r;

	if (asprintf(&path, "%s/config.json", h->bundle) < 0)
		return hook_error(h, "out of memory");
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	r = fd < 0 ? -errno : read_json(fd, HOOK_CONFIG_MAX, &h->config);
	if (r >= 0)
		return EXIT_OK;
	h->config = NULL;
	return hook_error(h, "%s: %s", path, r == -EINVAL ? "not a JSON object" : strerror(-r));
}

/* Annotation key of config.json, else of the state. */
static const char *hook_annotation(const struct hook *h, const char *key)
{
	const char *v = get_str(get_obj(h->config, "annotations"), key);

	return v ? v : get_str(get_obj(h->state, "annotations"), key);
}

/* --- the cgroup's name ---------------------------------------------------- */

/* "slice:prefix:name" (systemd driver) → "prefix-name", the name systemd gives its scope. */
static int name_from_systemd_path(const char *path, char **ret)
{
	const char *c1 = strchr(path, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
	const char *prefix = c1 ? c1 + 1 : NULL, *name = c2 ? c2 + 1 : NULL;
	int plen = c2 ? (int)(c2 - prefix) : 0;

	if (!c2 || strchr(name, ':') || !name[0] || strchr(name, '/') || memchr(prefix, '/', (size_t)plen))
		return -EINVAL;
	if (plen == 0)
		return (*ret = strdup(name)) ? 0 : -ENOMEM;
	return asprintf(ret, "%.*s-%s", plen, prefix, name) < 0 ? -ENOMEM : 0;
}

/* The cgroup name: io.cgctl.name, else linux.cgroupsPath, else "oci-<id>". */
static int hook_pick_name(struct hook *h)
{
	const char *src = ANN_NAME, *reason = NULL;
	const char *v = hook_annotation(h, ANN_NAME);
	int r = 0;

	if (!v && h->config) {
		v = get_str(get_obj(h->config, "linux"), "cgroupsPath");
		src = "linux.cgroupsPath";
		if (v && !v[0])
			v = NULL;
	}
	if (v && strchr(v, ':')) {
		r = name_from_systemd_path(v, &h->name);
		if (r == -EINVAL)
			return hook_error(h, "%s \"%s\": a systemd-style path must be \"slice:prefix:name\"", src, v);
	} else if (v) {
		while (*v == '/')
			v++;
		h->name = strdup(v);
	} else {
		src = "the container id";
		h->derived = true;
		if (asprintf(&h->name, "oci-%s", h->id) < 0)
			h->name = NULL;
	}
	if (r < 0 || !h->name)
		return hook_error(h, "out of memory");
	if (cgname_validate(h->name, strlen(h->name), &reason) < 0)
		return hook_error(h, "cgroup name \"%s\" (from %s) is invalid: %s", h->name, src,
				  reason ? reason : "rejected");
	if (h->derived && strchr(h->name, '/'))
		return hook_error(h, "container id \"%s\" contains \"/\"; set the %s annotation", h->id, ANN_NAME);
	return EXIT_OK;
}

/* --- linux.resources → Resources ----------------------------------------- */

/* Integer member key of o: 1 with *ret, 0 when absent or null, -EINVAL when of another type. */
static int oci_int(json_object *o, const char *key, int64_t *ret)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EINVAL;
	*ret = json_object_get_int64(v);
	return 1;
}

/* The same for unsigned members (hugetlb limits, rates), which may exceed INT64_MAX. */
static int oci_uint(json_object *o, const char *key, uint64_t *ret)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
		return -EINVAL;
	*ret = json_object_get_uint64(v);
	return 1;
}

/* o[key] = decimal of v, or "max" when v < 0 (OCI's -1). */
static void put_limit(json_object *o, const char *key, int64_t v)
{
	char buf[24];

	if (v < 0)
		snprintf(buf, sizeof(buf), "max");
	else
		snprintf(buf, sizeof(buf), "%" PRId64, v);
	json_object_object_add(o, key, json_object_new_string(buf));
}

/* o[key] as an object, created when missing. */
static json_object *child_obj(json_object *o, const char *key)
{
	json_object *v = get_obj(o, key);

	if (!v) {
		v = json_object_new_object();
		json_object_object_add(o, key, v);
	}
	return v;
}

/* Warn about the members of o listed in keys that are set (non-zero, non-empty): no cgroup v2 equivalent. */
static void warn_ignored(const struct hook *h, json_object *o, const char *section,
			 const char *const *keys)
{
	for (size_t i = 0; o && keys[i]; i++) {
		json_object *v;

		if (!json_object_object_get_ex(o, keys[i], &v) || !v)
			continue;
		if ((json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_boolean)) &&
		    json_object_get_int64(v) == 0)
			continue;
		if (json_object_is_type(v, json_type_array) && json_object_array_length(v) == 0)
			continue;
		if (json_object_is_type(v, json_type_object) && json_object_object_length(v) == 0)
			continue;
		hook_warn(h, "linux.resources.%s%s%s is not supported on cgroup v2 by cgctld; ignored", section,
			  section[0] ? "." : "", keys[i]);
	}
}

/* A translation error: log it, -EINVAL. */
#define XL_FAIL(h, ...) (hook_error((h), __VA_ARGS__), -EINVAL)

/* memory: limit → max, reservation → low, swap (memory+swap) → swap_max, as runc converts it. */
static int xl_memory(const struct hook *h, json_object *mem, json_object *out)
{
	static const char *const v1_only[] = { "kernel", "kernelTCP", "swappiness", "disableOOMKiller", NULL };
	int64_t limit = 0, resv = 0, swap = 0;
	int hl = oci_int(mem, "limit", &limit), hr = oci_int(mem, "reservation", &resv);
	int hs = oci_int(mem, "swap", &swap);
	json_object *m;

	if (hl < 0 || hr < 0 || hs < 0)
		return XL_FAIL(h, "linux.resources.memory: limit, reservation and swap must be integers");
	warn_ignored(h, mem, "memory", v1_only);
	m = child_obj(out, "memory");
	if (limit != 0)
		put_limit(m, "max", limit);
	if (resv != 0)
		put_limit(m, "low", resv);
	if (limit == -1 && swap == 0) {
		put_limit(m, "swap_max", -1); /* both unlimited, as on cgroup v1 */
	} else if (swap < 0) {
		put_limit(m, "swap_max", -1);
	} else if (swap > 0) {
		if (limit <= 0)
			return XL_FAIL(h, "linux.resources.memory.swap needs a memory limit");
		if (swap < limit)
			return XL_FAIL(h, "linux.resources.memory.swap (memory+swap, %" PRId64 ") is below "
				       "the memory limit (%" PRId64 ")", swap, limit);
		put_limit(m, "swap_max", swap - limit);
	}
	if (json_object_object_length(m) == 0)
		json_object_object_del(out, "memory");
	return 0;
}

/* cpu: shares, quota/period, cpus/mems, idle; burst goes through unified as cpu.max.burst. */
static int xl_cpu(const struct hook *h, json_object *cpu, json_object *out)
{
	static const char *const v1_only[] = { "realtimeRuntime", "realtimePeriod", NULL };
	int64_t shares = 0, quota = 0, period = 0, idle = 0, burst = 0;
	const char *cpus = get_str(cpu, "cpus"), *mems = get_str(cpu, "mems");
	int has_idle = oci_int(cpu, "idle", &idle);
	json_object *o;

	if (oci_int(cpu, "shares", &shares) < 0 || oci_int(cpu, "quota", &quota) < 0 ||
	    oci_int(cpu, "period", &period) < 0 || has_idle < 0 || oci_int(cpu, "burst", &burst) < 0)
		return XL_FAIL(h, "linux.resources.cpu: shares, quota, period, idle and burst must be integers");
	warn_ignored(h, cpu, "cpu", v1_only);
	o = child_obj(out, "cpu");
	/* The kernel clamps cgroup v1 shares to 2..262144; do the same. */
	if (shares > 0)
		json_object_object_add(o, "shares",
				       json_object_new_int64(shares < 2 ? 2 : shares > 262144 ? 262144 : shares));
	if (quota != 0)
		put_limit(o, "quota", quota);
	if (period > 0)
		json_object_object_add(o, "period", json_object_new_int64(period));
	if (has_idle > 0)
		json_object_object_add(o, "idle", json_object_new_boolean(idle != 0));
	if (cpus && cpus[0])
		json_object_object_add(o, "cpus", json_object_new_string(cpus));
	if (mems && mems[0])
		json_object_object_add(o, "mems", json_object_new_string(mems));
	if (json_object_object_length(o) == 0)
		json_object_object_del(out, "cpu");
	if (burst > 0 && !get_str(get_obj(out, "unified"), "cpu.max.burst"))
		put_limit(child_obj(out, "unified"), "cpu.max.burst", burst);
	return 0;
}

/* One throttle*Device array into the per-device io.max objects of devs (keyed "major:minor"). */
static int xl_throttle(const struct hook *h, json_object *arr, const char *key, json_object *devs)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i), *dev;
		int64_t major, minor;
		uint64_t rate = 0;
		char k[48];

		if (oci_int(d, "major", &major) <= 0 || oci_int(d, "minor", &minor) <= 0 ||
		    oci_uint(d, "rate", &rate) < 0 || major < 0 || minor < 0)
			return XL_FAIL(h, "linux.resources.blockIO: a throttle device needs major, minor and rate");
		snprintf(k, sizeof(k), "%" PRId64 ":%" PRId64, major, minor);
		dev = get_obj(devs, k);
		if (!dev) {
			dev = json_object_new_object();
			json_object_object_add(dev, "major", json_object_new_int64(major));
			json_object_object_add(dev, "minor", json_object_new_int64(minor));
			json_object_object_add(devs, k, dev);
		}
		/* cgroup v1: rate 0 removes the limit. */
		if (rate == 0 || rate > INT64_MAX)
			put_limit(dev, key, -1);
		else
			put_limit(dev, key, (int64_t)rate);
	}
	return 0;
}

/* blockIO: weight (converted as runc does) and the throttle devices → io. */
static int xl_blkio(const struct hook *h, json_object *blk, json_object *out)
{
	static const char *const throttles[][2] = { { "throttleReadBpsDevice", "rbps" },
						    { "throttleWriteBpsDevice", "wbps" },
						    { "throttleReadIOPSDevice", "riops" },
						    { "throttleWriteIOPSDevice", "wiops" } };
	static const char *const unsupported[] = { "leafWeight", "weightDevice", NULL };
	_cleanup_json_ json_object *devs = json_object_new_object();
	json_object *io = json_object_new_object(), *max;
	int64_t weight = 0;

	json_object_object_add(out, "io", io);
	if (oci_int(blk, "weight", &weight) < 0)
		return XL_FAIL(h, "linux.resources.blockIO.weight must be an integer");
	warn_ignored(h, blk, "blockIO", unsupported);
	if (weight > 0) {
		int64_t w = 1 + (weight - 10) * 9999 / 990;

		json_object_object_add(io, "weight", json_object_new_int64(w < 1 ? 1 : w > 10000 ? 10000 : w));
	}
	for (size_t i = 0; i < ELEMENTSOF(throttles); i++) {
		json_object *arr;

		if (json_object_object_get_ex(blk, throttles[i][0], &arr) &&
		    xl_throttle(h, arr, throttles[i][1], devs) < 0)
			return -EINVAL;
	}
	if (json_object_object_length(devs) > 0) {
		max = json_object_new_array();
		json_object_object_foreach(devs, k, dev) {
			(void)k;
			json_object_array_add(max, json_object_get(dev));
		}
		json_object_object_add(io, "max", max);
	}
	if (json_object_object_length(io) == 0)
		json_object_object_del(out, "io");
	return 0;
}

/* hugepageLimits [{pageSize, limit}] → hugetlb [{pagesize, max}]. */
static int xl_hugetlb(const struct hook *h, json_object *arr, json_object *out)
{
	json_object *hl = json_object_new_array();

	json_object_object_add(out, "hugetlb", hl);
	if (!json_object_is_type(arr, json_type_array))
		return XL_FAIL(h, "linux.resources.hugepageLimits must be an array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i), *o;
		const char *ps = get_str(e, "pageSize");
		uint64_t limit = 0;
		char buf[24];

		if (!ps || oci_uint(e, "limit", &limit) <= 0)
			return XL_FAIL(h, "linux.resources.hugepageLimits[%zu] needs pageSize and limit", i);
		snprintf(buf, sizeof(buf), "%" PRIu64, limit);
		o = json_object_new_object();
		json_object_object_add(o, "pagesize", json_object_new_string(ps));
		json_object_object_add(o, "max", json_object_new_string(buf));
		json_object_array_add(hl, o);
	}
	return 0;
}

/* pids.limit → pids_max; 0 or less is "max". */
static int xl_pids(const struct hook *h, json_object *pids, json_object *out)
{
	int64_t limit = 0;
	int r = oci_int(pids, "limit", &limit);

	if (r < 0)
		return XL_FAIL(h, "linux.resources.pids.limit must be an integer");
	if (r > 0)
		put_limit(out, "pids_max", limit > 0 ? limit : -1);
	return 0;
}

/* unified: passed on as it is (the daemon checks names and values); it wins over what was translated. */
static int xl_unified(const struct hook *h, json_object *unified, json_object *out)
{
	json_object *u;

	if (!json_object_is_type(unified, json_type_object))
		return XL_FAIL(h, "linux.resources.unified must be an object");
	u = child_obj(out, "unified");
	json_object_object_foreach(unified, key, val)
		json_object_object_add(u, key, json_object_get(val));
	return 0;
}

/* The OCI resources object (linux.resources, overridden member by member by io.cgctl.resources) → Resources. */
static int hook_resources(const struct hook *h, json_object **ret)
{
	static const char *const unsupported[] = { "rdma", "network", NULL };
	_cleanup_json_ json_object *oci = NULL, *out = json_object_new_object();
	const char *ann = hook_annotation(h, ANN_RESOURCES);
	json_object *lr = get_obj(get_obj(h->config, "linux"), "resources"), *v;
	int r = 0;

	if (lr ? json_object_deep_copy(lr, &oci, NULL) < 0 : !(oci = json_object_new_object()))
		return XL_FAIL(h, "out of memory");
	if (ann) {
		_cleanup_json_ json_object *a = json_tokener_parse(ann);

		if (!json_object_is_type(a, json_type_object))
			return XL_FAIL(h, "annotation %s is not a JSON object", ANN_RESOURCES);
		json_object_object_foreach(a, key, val)
			json_object_object_add(oci, key, json_object_get(val));
	}
	warn_ignored(h, oci, "", unsupported);
	if ((v = get_obj(oci, "memory")))
		r = xl_memory(h, v, out);
	if (r >= 0 && (v = get_obj(oci, "cpu")))
		r = xl_cpu(h, v, out);
	if (r >= 0 && (v = get_obj(oci, "pids")))
		r = xl_pids(h, v, out);
	if (r >= 0 && (v = get_obj(oci, "blockIO")))
		r = xl_blkio(h, v, out);
	if (r >= 0 && json_object_object_get_ex(oci, "hugepageLimits", &v) && v)
		r = xl_hugetlb(h, v, out);
	if (r >= 0 && json_object_object_get_ex(oci, "unified", &v) && v)
		r = xl_unified(h, v, out);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(out);
	return 0;
}

/* --- dropping what an unavailable controller needs ------------------------ */

/* Remove unified members "<ctl>.*"; their number. */
static int drop_unified(json_object *res, const char *ctl)
{
	json_object *u = get_obj(res, "unified");
	size_t len = strlen(ctl);
	int n = 0;

	for (bool again = true; u && again;) {
		again = false;
		json_object_object_foreach(u, key, val) {
			(void)val;
			if (strncmp(key, ctl, len) == 0 && key[len] == '.') {
				json_object_object_del(u, key);
				n++;
				again = true;
				break;
			}
		}
	}
	return n;
}

/* Remove member key of o if present; 1 or 0. */
static int drop_key(json_object *o, const char *key)
{
	if (!o || !json_object_object_get_ex(o, key, NULL))
		return 0;
	json_object_object_del(o, key);
	return 1;
}

/* Remove every part of Resources res that needs controller ctl; the number removed. */
static int drop_controller(json_object *res, const char *ctl)
{
	static const char *const cpu_keys[] = { "quota", "period", "weight", "shares", "idle", NULL };
	json_object *cpu = get_obj(res, "cpu");
	int n = drop_unified(res, ctl);

	if (strcmp(ctl, "memory") == 0 || strcmp(ctl, "io") == 0 || strcmp(ctl, "hugetlb") == 0)
		n += drop_key(res, ctl);
	else if (strcmp(ctl, "pids") == 0)
		n += drop_key(res, "pids_max");
	else if (strcmp(ctl, "cpu") == 0)
		for (size_t i = 0; cpu_keys[i]; i++)
			n += drop_key(cpu, cpu_keys[i]);
	else if (strcmp(ctl, "cpuset") == 0)
		n += drop_key(cpu, "cpus") + drop_key(cpu, "mems");
	return n;
}

/*
 * Remove what the daemon's field path names ("resources.memory.swap_max",
 * "resources.hugetlb[1].max", "resources.unified[\"cpu.max.burst\"]"): the
 * array element when the path crosses one, else the last member. 1 or 0.
 */
static int drop_field(json_object *res, const char *field)
{
	const char *p = field + strlen("resources");
	json_object *cur = res, *parent = NULL;
	char key[256] = "";

	while (*p && cur) {
		if (*p == '.' || (p[0] == '[' && p[1] == '"')) {
			size_t n;

			p += *p == '.' ? 1 : 2;
			n = *p && p[-1] == '"' ? strcspn(p, "\"") : strcspn(p, ".[");
			if (n >= sizeof(key))
				return 0;
			memcpy(key, p, n);
			key[n] = '\0';
			p += n + (p[n] == '"' ? 2 : 0);
			parent = cur;
			if (!json_object_object_get_ex(cur, key, &cur))
				return 0;
		} else if (*p == '[') {
			char *end;
			unsigned long i = strtoul(p + 1, &end, 10);

			if (*end != ']' || !json_object_is_type(cur, json_type_array) ||
			    i >= json_object_array_length(cur))
				return 0;
			json_object_array_del_idx(cur, i, 1);
			return 1;
		} else {
			return 0;
		}
	}
	return parent && key[0] ? drop_key(parent, key) : 0;
}

/* --- talking to cgctld ----------------------------------------------------- */

/* The socket path the connection uses, for messages; malloc'd or NULL. */
static char *hook_socket_path(const struct hook *h)
{
	const char *env = getenv("CGCTL_SOCKET");
	char *p = NULL;

	if (h->socket)
		return strdup(h->socket);
	if (env && env[0])
		return strdup(env);
	return proto_default_socket_path(&p) < 0 ? NULL : p;
}

/* Connect; when there is no daemon, a soft failure (*ret_exit set, returns -1). */
static int hook_connect(struct hook *h, int *ret_exit)
{
	_cleanup_free_ char *path = NULL;
	int r = cgctl_connect(h->socket, &h->c);

	if (r >= 0)
		return cgctl_set_timeout(h->c, h->timeout_ms);
	path = hook_socket_path(h);
	*ret_exit = hook_soft(h, "cgctld is not running (%s: %s); %s", path ? path : "socket", cgctl_strerror(r),
			      h->stage == STAGE_CREATE ? "the container runs without a cgroup of its own"
						       : "nothing to remove");
	return -1;
}

/*
 * Call method (Create or SetResources) with params, whose "resources" member
 * is res: while the daemon answers ControllerUnavailable, drop what that
 * controller needs from res (with a warning) and call again; --strict does
 * not drop. The daemon's last code.
 */
static int hook_call_resources(struct hook *h, const char *method, json_object *params, json_object *res)
{
	for (int i = 0;; i++) {
		_cleanup_free_ char *reply = NULL;
		_cleanup_json_ json_object *ep = NULL;
		const char *what;
		int r, n;

		r = cgctl_call(h->c, method, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN), &reply);
		if (r != -EOPNOTSUPP || h->strict || i >= HOOK_RETRIES_MAX || !reply)
			return r;
		ep = json_tokener_parse(reply);
		/* A missing interface file names its field: skip just that limit. */
		what = get_str(ep, "field") ? get_str(ep, "field") : get_str(ep, "controller");
		if (!what)
			return r;
		n = strncmp(what, "resources", 9) == 0 ? drop_field(res, what) : drop_controller(res, what);
		if (n <= 0)
			return r;
		if (what[0] == 'r')
			hook_warn(h, "limit %s skipped: %s", what, hook_errmsg(h));
		else
			hook_warn(h, "limits of controller \"%s\" skipped: %s", what, hook_errmsg(h));
	}
}

/* The labels that mark an entry as this container's. */
static json_object *hook_labels(const struct hook *h)
{
	json_object *l = json_object_new_object();

	json_object_object_add(l, "oci.id", json_object_new_string(h->id));
	json_object_object_add(l, "oci.bundle", json_object_new_string(h->bundle));
	if (h->derived)
		json_object_object_add(l, "oci.derived", json_object_new_string("true"));
	return l;
}

/* Whether entry e carries label "key=value". */
static bool entry_has_label(const struct cgctl_entry *e, const char *key, const char *value)
{
	size_t kl = strlen(key);

	for (char **l = e->labels; *l; l++)
		if (strncmp(*l, key, kl) == 0 && (*l)[kl] == '=' && strcmp(*l + kl + 1, value) == 0)
			return true;
	return false;
}

/* Whether entry e is this container's. */
static bool hook_is_ours(const struct hook *h, const struct cgctl_entry *e)
{
	return entry_has_label(e, "oci.id", h->id) && entry_has_label(e, "oci.bundle", h->bundle);
}

/* Look name up: 1 when the daemon manages it and it is ours, 0 when someone else's, -ENOENT, -errno. */
static int hook_lookup(struct hook *h, const char *name)
{
	struct cgctl_entry *e = NULL;
	size_t n = 0;
	int r = cgctl_list(h->c, name, &e, &n);

	if (r < 0)
		return r;
	r = -ENOENT;
	for (size_t i = 0; i < n; i++)
		if (strcmp(e[i].name, name) == 0)
			r = hook_is_ours(h, &e[i]) ? 1 : 0;
	cgctl_entries_free(e, n);
	return r;
}

/* Create the missing parents of a nested name (no limits; kept after poststop: other containers may share them). */
static int hook_make_parents(struct hook *h)
{
	_cleanup_free_ char *parent = strdup(h->name);

	if (!parent)
		return -ENOMEM;
	for (char *s = strchr(parent, '/'); s; s = strchr(s + 1, '/')) {
		int r;

		*s = '\0';
		r = cgctl_create(h->c, parent, NULL, NULL);
		*s = '/';
		if (r < 0 && r != -EEXIST)
			return r;
	}
	return 0;
}

/*
 * Create the cgroup with its limits (*ret_created), or re-apply them to our
 * own from an earlier run (*ret_existing); -EEXIST (said why) when it is not ours.
 */
static int hook_create(struct hook *h, json_object *res, bool *ret_created, bool *ret_existing)
{
	_cleanup_json_ json_object *params = json_object_new_object();
	int r;

	json_object_object_add(params, "name", json_object_new_string(h->name));
	json_object_object_add(params, "labels", hook_labels(h));
	json_object_object_add(params, "resources", json_object_get(res));
	r = hook_call_resources(h, "Create", params, res);
	*ret_created = r >= 0;
	if (r != -EEXIST)
		return r;
	/* From an earlier createRuntime of this container, or someone else's. */
	r = hook_lookup(h, h->name);
	if (r == 0 || r == -ENOENT) {
		hook_error(h, "cgroup \"%s\" exists and is not this container's (%s); refusing to use it", h->name,
			   r == 0 ? "its oci.id/oci.bundle labels differ" : "cgctld did not create it");
		return -EEXIST;
	}
	if (r < 0)
		return r;
	*ret_existing = true;
	json_object_object_del(params, "labels");
	return hook_call_resources(h, "SetResources", params, res);
}

/* Move the container's init in, by pidfd where the kernel has them (no pid reuse race). */
static int hook_attach(struct hook *h)
{
	int fd = (int)syscall(SYS_pidfd_open, h->pid, 0);
	int r;

	if (fd < 0 && errno != ENOSYS)
		return -errno;
	if (fd < 0)
		return cgctl_attach(h->c, h->name, &h->pid, 1);
	r = cgctl_attach_pidfds(h->c, h->name, &fd, 1);
	close(fd);
	return r;
}

/* --- the stages ------------------------------------------------------------ */

/* Undo a create of this run after a later step failed. */
static void hook_undo(struct hook *h)
{
	int r = cgctl_destroy(h->c, h->name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, NULL);

	if (r < 0)
		hook_warn(h, "could not remove %s again: %s", h->name, cgctl_strerror(r));
}

/* --dry-run: the name and the Resources object on stdout, as one JSON object. */
static int hook_dry_run(struct hook *h, json_object *res)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(h->name));
	json_object_object_add(o, "labels", hook_labels(h));
	json_object_object_add(o, "resources", json_object_get(res));
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	return EXIT_OK;
}

/* createRuntime: cgroup, limits, init moved in. */
static int stage_create(struct hook *h)
{
	_cleanup_json_ json_object *res = NULL;
	bool created = false, existing = false;
	int r, ex = EXIT_OK;

	if (h->pid <= 0 && !h->dry_run)
		return hook_error(h, "the container state has no \"pid\" (is this the createRuntime stage?)");
	/* Mistakes in config.json are errors, daemon or not. */
	if (hook_pick_name(h) != EXIT_OK || hook_resources(h, &res) < 0)
		return EXIT_FAIL;
	if (h->dry_run)
		return hook_dry_run(h, res);
	if (hook_connect(h, &ex) < 0)
		return ex;
	r = hook_make_parents(h);
	if (r >= 0)
		r = hook_create(h, res, &created, &existing);
	if (r == -CGCTL_ENODELEGATION)
		return hook_soft(h, "cgctld has no delegated cgroup subtree (%s); the container runs without a "
			      "cgroup of its own", hook_errmsg(h));
	if (r == -EEXIST)
		return EXIT_FAIL; /* said why */
	if (r == -EOPNOTSUPP && h->strict)
		return hook_call_failed(h, "create (--strict: no limit is skipped)", r);
	if (r < 0)
		return hook_call_failed(h, existing ? "set limits" : "create", r);
	r = hook_attach(h);
	if (r >= 0)
		return EXIT_OK;
	if (created)
		hook_undo(h);
	if (r == -ESRCH)
		return hook_error(h, "the container's init (pid %d) is gone", (int)h->pid);
	if (r == -EACCES) {
		char buf[1024];

		return hook_soft(h, "cannot move the container's init (pid %d) into %s (%s); the container runs "
			      "without a cgroup of its own", (int)h->pid, h->name, hook_why(h, r, buf, sizeof(buf)));
	}
	return hook_call_failed(h, "attach", r);
}

/*
 * poststop: kill and remove every entry labelled as this container's. By
 * label, not by name: config.json may be gone or changed, and an entry of the
 * same name that is not ours is left alone.
 */
static int stage_poststop(struct hook *h)
{
	struct cgctl_entry *e = NULL;
	size_t n = 0;
	int r, ex = EXIT_OK;

	if (hook_connect(h, &ex) < 0)
		return ex;
	r = cgctl_list(h->c, NULL, &e, &n);
	if (r < 0)
		return hook_call_failed(h, "list", r);
	/* A nested one may go with its parent (recursive): destroying it again is a success. */
	for (size_t i = 0; i < n && ex == EXIT_OK; i++) {
		if (!hook_is_ours(h, &e[i]))
			continue;
		r = cgctl_destroy(h->c, e[i].name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, NULL);
		if (r < 0)
			ex = hook_call_failed(h, e[i].name, r);
	}
	cgctl_entries_free(e, n);
	return ex;
}

/* --- command line ------------------------------------------------------------ */

/* The options, on f. */
static void usage(FILE *f)
{
	fputs("Usage: cgctl-oci-hook [OPTIONS] [createRuntime|poststop]\n"
	      "OCI runtime hook: give the container a cgroup managed by cgctld (createRuntime)\n"
	      "and remove it (poststop). Reads the container state from stdin.\n\n"
	      "      --stage STAGE  createRuntime (or prestart) or poststop; default: from the\n"
	      "                     state's status (creating, stopped)\n"
	      "      --socket PATH  daemon socket (default: $CGCTL_SOCKET, else\n"
	      "                     $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager, else /run/user/UID/...)\n"
	      "      --strict       fail when the container cannot get its cgroup and every limit\n"
	      "      --log FILE     append warnings and errors to FILE too\n"
	      "      --timeout MS   bound of each daemon call (default 10000)\n"
	      "      --dry-run      createRuntime: print the cgroup name, labels and limits that\n"
	      "                     would be asked for, as JSON on stdout, and stop\n"
	      "  -h, --help         show this help\n"
	      "      --version      show the version\n", f);
}

/* Stage from its OCI name; STAGE_UNKNOWN otherwise. */
static enum stage stage_from_name(const char *s)
{
	if (strcmp(s, "createRuntime") == 0 || strcmp(s, "prestart") == 0)
		return STAGE_CREATE;
	if (strcmp(s, "poststop") == 0)
		return STAGE_POSTSTOP;
	return STAGE_UNKNOWN;
}

/* Parse argv into h; -1 to go on, else the exit status. */
static int parse_args(struct hook *h, int argc, char **argv)
{
	enum { OPT_STAGE = 0x100, OPT_SOCKET, OPT_STRICT, OPT_LOG, OPT_TIMEOUT, OPT_DRY_RUN, OPT_VERSION };
	static const struct option opts[] = {
		{ "stage", required_argument, NULL, OPT_STAGE },  { "socket", required_argument, NULL, OPT_SOCKET },
		{ "strict", no_argument, NULL, OPT_STRICT },      { "log", required_argument, NULL, OPT_LOG },
		{ "timeout", required_argument, NULL, OPT_TIMEOUT }, { "help", no_argument, NULL, 'h' },
		{ "dry-run", no_argument, NULL, OPT_DRY_RUN },    { "version", no_argument, NULL, OPT_VERSION },
		{}
	};
	const char *stage = NULL;
	char *end;
	long v;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_STAGE: stage = optarg; break;
		case OPT_SOCKET: h->socket = optarg[0] ? optarg : NULL; break;
		case OPT_STRICT: h->strict = true; break;
		case OPT_LOG: h->log_path = optarg[0] ? optarg : NULL; break;
		case OPT_DRY_RUN: h->dry_run = true; break;
		case OPT_TIMEOUT:
			errno = 0;
			v = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || v <= 0 || v > 3600 * 1000) {
				hook_error(h, "invalid --timeout '%s': want milliseconds > 0", optarg);
				return EXIT_USAGE;
			}
			h->timeout_ms = (int)v;
			break;
		case 'h': usage(stdout); return EXIT_OK;
		case OPT_VERSION: puts("cgctl-oci-hook " CGCTL_VERSION); return EXIT_OK;
		default: usage(stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc && !stage)
		stage = argv[optind++];
	if (optind < argc) {
		hook_error(h, "unexpected argument '%s'", argv[optind]);
		return EXIT_USAGE;
	}
	if (stage && (h->stage = stage_from_name(stage)) == STAGE_UNKNOWN) {
		hook_error(h, "stage '%s' is not supported: use createRuntime (or prestart) and poststop", stage);
		return EXIT_USAGE;
	}
	return -1;
}

/* Stage from the state's status when no argument named it. */
static int hook_guess_stage(struct hook *h)
{
	const char *s = h->status ? h->status : "";

	if (h->stage != STAGE_UNKNOWN)
		return EXIT_OK;
	if (strcmp(s, "creating") == 0 || strcmp(s, "created") == 0)
		h->stage = STAGE_CREATE;
	else if (strcmp(s, "stopped") == 0)
		h->stage = STAGE_POSTSTOP;
	else
		return hook_error(h, "cannot tell the stage from status \"%s\": pass createRuntime or poststop", s);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	struct hook h = { .timeout_ms = HOOK_TIMEOUT_DEFAULT_MS };
	int ex;

	ex = parse_args(&h, argc, argv);
	if (ex < 0 && (ex = hook_read_state(&h)) == EXIT_OK && (ex = hook_guess_stage(&h)) == EXIT_OK &&
	    (h.stage == STAGE_POSTSTOP || (ex = hook_read_config(&h)) == EXIT_OK))
		ex = h.stage == STAGE_CREATE ? stage_create(&h) : stage_poststop(&h);
	cgctl_disconnect(h.c);
	free(h.name);
	json_object_put(h.config);
	json_object_put(h.state);
	return ex;
}
