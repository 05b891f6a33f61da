// SPDX-License-Identifier: MIT
/* resources.c: Varlink Resources validated into a plan of cgroup v2 file writes (resources_apply.c writes it). */

#include <errno.h>
#include <math.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "resources.h"
#include "resources_apply.h"

/* Bounds on what a client may ask for in one call. */
#define RES_MAX_IO_DEVICES 64
#define RES_MAX_HUGETLB 16
#define RES_MAX_UNIFIED 128
#define RES_MAX_NAME 255
#define RES_MAX_VALUE 4096
#define RES_MAX_CPULIST 1024
#define RES_MAX_CPU_ID 65535

/* cpu.max bounds as the kernel enforces them (kernel/sched/core.c, MAX_BW). */
#define CPU_PERIOD_MIN 1000
#define CPU_PERIOD_MAX 1000000
#define CPU_PERIOD_DEFAULT 100000
#define CPU_QUOTA_MIN 1000
#define CPU_QUOTA_MAX ((UINT64_C(1) << 44) - 1)
/* PID_MAX_LIMIT on 64-bit: pids.max takes at most this. */
#define PIDS_LIMIT_MAX 4194304
#define IO_MAJOR_MAX 4095
#define IO_MINOR_MAX 1048575

/* State of one res_plan_build() run: the plan so far and the first error. */
struct builder {
	struct res_plan plan;
	size_t cap;
	char *field;
	char *message;
};

/* Record the first validation error of a build; -EINVAL, or -ENOMEM when it cannot be recorded. */
__attribute__((format(printf, 3, 4)))
static int fail(struct builder *b, const char *field, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->field || b->message)
		return -EINVAL;
	b->field = strdup(field ? field : "resources");
	va_start(ap, fmt);
	n = vasprintf(&b->message, fmt, ap);
	va_end(ap);
	if (n < 0)
		b->message = NULL;
	if (!b->field || !b->message)
		return -ENOMEM;
	return -EINVAL;
}

/* "parent.key", malloc'd, or NULL. */
static char *field_of(const char *parent, const char *key)
{
	char *s;

	return asprintf(&s, "%s.%s", parent, key) < 0 ? NULL : s;
}

/* "parent[i]", malloc'd, or NULL. */
static char *field_at(const char *parent, size_t i)
{
	char *s;

	return asprintf(&s, "%s[%zu]", parent, i) < 0 ? NULL : s;
}

/* Parse a plain unsigned decimal (digits only): 0, -EINVAL when not one, -ERANGE above max. */
static int parse_uint(const char *s, uint64_t max, uint64_t *ret)
{
	uint64_t v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (const char *p = s; *p; p++) {
		unsigned d;

		if (*p < '0' || *p > '9')
			return -EINVAL;
		d = (unsigned)(*p - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}

/*
 * Validate s as "max" (when allow_max) or an integer in min..max and store
 * its canonical form in *ret_value (malloc'd).
 */
static int check_number(struct builder *b, const char *field, const char *s, uint64_t min,
			uint64_t max, bool allow_max, char **ret_value)
{
	const char *either = allow_max ? "\"max\" or " : "";
	uint64_t v;
	int r;

	if (allow_max && strcmp(s, "max") == 0) {
		*ret_value = strdup("max");
		return *ret_value ? 0 : -ENOMEM;
	}
	if (!*s)
		return fail(b, field, "must be %san integer, not empty", either);
	if (s[0] == '-')
		return fail(b, field, "must not be negative");
	r = parse_uint(s, max, &v);
	if (r == -EINVAL)
		return fail(b, field, "must be %sa decimal integer", either);
	if (r < 0 || v < min)
		return fail(b, field, "must be %san integer in %" PRIu64 "..%" PRIu64, either, min,
			    max);
	return asprintf(ret_value, "%" PRIu64, v) < 0 ? -ENOMEM : 0;
}

/* Append a write to the plan, refusing a second write of the same target. */
static int plan_add(struct builder *b, const char *file, const char *value,
		    const char *controller, const char *field)
{
	struct res_write *w;

	for (size_t i = 0; i < b->plan.n; i++)
		if (res_same_target(&b->plan.w[i], file, value))
			return fail(b, field, "%s is also set by %s", file, b->plan.w[i].field);
	if (b->plan.n == b->cap) {
		size_t ncap = b->cap ? b->cap * 2 : 16;

		w = realloc(b->plan.w, ncap * sizeof(*w));
		if (!w)
			return -ENOMEM;
		b->plan.w = w;
		b->cap = ncap;
	}
	w = &b->plan.w[b->plan.n];
	*w = (struct res_write){
		.file = strdup(file),
		.value = strdup(value),
		.controller = controller ? strdup(controller) : NULL,
		.field = strdup(field),
	};
	b->plan.n++;
	if (!w->file || !w->value || (controller && !w->controller) || !w->field)
		return -ENOMEM;
	return 0;
}

/* Refuse keys of obj (which must be an object) that are not in allowed. */
static int check_keys(struct builder *b, json_object *obj, const char *field,
		      const char *const *allowed)
{
	if (!json_object_is_type(obj, json_type_object))
		return fail(b, field, "must be an object");
	json_object_object_foreach(obj, key, val) {
		const char *const *a = allowed;
		_cleanup_free_ char *f = NULL;

		(void)val;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (*a)
			continue;
		f = field_of(field, key);
		if (!f)
			return -ENOMEM;
		return fail(b, f, "unknown key \"%.64s\"", key);
	}
	return 0;
}

/* Member key of obj: 0 when absent or null, 1 with *ret when of type t, else -EINVAL. */
static int get_member(struct builder *b, json_object *obj, const char *parent, const char *key,
		      json_type t, json_object **ret)
{
	_cleanup_free_ char *f = NULL;
	json_object *v;

	*ret = NULL;
	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return 0;
	if (json_object_is_type(v, t)) {
		*ret = v;
		return 1;
	}
	f = field_of(parent, key);
	if (!f)
		return -ENOMEM;
	return fail(b, f, "must be of type %s", json_type_to_name(t));
}

/* Add a write for a string member that is "max" or an integer in min..max. */
static int add_number(struct builder *b, json_object *obj, const char *parent, const char *key,
		      const char *file, const char *controller, uint64_t min, uint64_t max)
{
	_cleanup_free_ char *f = NULL, *value = NULL;
	json_object *v;
	int r;

	r = get_member(b, obj, parent, key, json_type_string, &v);
	if (r <= 0)
		return r;
	f = field_of(parent, key);
	if (!f)
		return -ENOMEM;
	r = check_number(b, f, json_object_get_string(v), min, max, true, &value);
	if (r < 0)
		return r;
	return plan_add(b, file, value, controller, f);
}

/* resources.memory → memory.{max,high,low,min,swap.max}. */
static int build_memory(struct builder *b, json_object *mem)
{
	static const char *const keys[] = { "max", "high", "low", "min", "swap_max", NULL };
	static const char *const files[] = { "memory.max", "memory.high", "memory.low",
					     "memory.min", "memory.swap.max" };
	const char *parent = "resources.memory";
	int r;

	r = check_keys(b, mem, parent, keys);
	if (r < 0)
		return r;
	for (size_t i = 0; keys[i]; i++) {
		r = add_number(b, mem, parent, keys[i], files[i], "memory", 0, INT64_MAX);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Integer member key of obj within min..max: 0 absent, 1 with *ret, -errno. */
static int get_int_in(struct builder *b, json_object *obj, const char *parent, const char *key,
		      int64_t min, int64_t max, int64_t *ret)
{
	_cleanup_free_ char *f = NULL;
	json_object *v;
	int64_t n;
	int r;

	r = get_member(b, obj, parent, key, json_type_int, &v);
	if (r <= 0)
		return r;
	n = json_object_get_int64(v);
	if (n >= min && n <= max) {
		*ret = n;
		return 1;
	}
	f = field_of(parent, key);
	if (!f)
		return -ENOMEM;
	if (n < 0)
		return fail(b, f, "must not be negative");
	return fail(b, f, "must be in %" PRId64 "..%" PRId64, min, max);
}

/* cpu.quota and cpu.period → cpu.max "QUOTA PERIOD". */
static int build_cpu_max(struct builder *b, json_object *cpu, const char *parent)
{
	_cleanup_free_ char *f = NULL, *quota = NULL, *value = NULL;
	int64_t period = CPU_PERIOD_DEFAULT;
	json_object *q;
	int r, has_period;

	has_period = get_int_in(b, cpu, parent, "period", CPU_PERIOD_MIN, CPU_PERIOD_MAX, &period);
	if (has_period < 0)
		return has_period;
	r = get_member(b, cpu, parent, "quota", json_type_string, &q);
	if (r < 0)
		return r;
	if (!q && !has_period)
		return 0;
	f = field_of(parent, q ? "quota" : "period");
	if (!f)
		return -ENOMEM;
	if (q) {
		r = check_number(b, f, json_object_get_string(q), CPU_QUOTA_MIN, CPU_QUOTA_MAX, true,
				 &quota);
		if (r < 0)
			return r;
	}
	if (asprintf(&value, "%s %" PRId64, quota ? quota : "max", period) < 0)
		return -ENOMEM;
	return plan_add(b, "cpu.max", value, "cpu", f);
}

/*
 * OCI shares 2..262144 → cpu.weight 1..10000 by the quadratic curve runc
 * (opencontainers/cgroups) and crun use since 2025: it maps the defaults onto
 * each other (1024 → 100), where the older linear formula gave 39.
 */
static uint64_t shares_to_weight(uint64_t shares)
{
	double l, exponent;

	if (shares <= 2)
		return 1;
	if (shares >= 262144)
		return 10000;
	l = log2((double)shares);
	exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
	return (uint64_t)ceil(pow(10.0, exponent));
}

/* cpu.weight or cpu.shares (converted) → cpu.weight; both is an error. */
static int build_cpu_weight(struct builder *b, json_object *cpu, const char *parent)
{
	_cleanup_free_ char *f = NULL, *value = NULL;
	int64_t weight = 0, shares = 0;
	int hw, hs;

	hw = get_int_in(b, cpu, parent, "weight", 1, 10000, &weight);
	if (hw < 0)
		return hw;
	/* OCI: shares 0 means "not set". */
	hs = get_int_in(b, cpu, parent, "shares", 0, 262144, &shares);
	if (hs < 0)
		return hs;
	hs = hs && shares != 0;
	if (!hw && !hs)
		return 0;
	f = field_of(parent, hs ? "shares" : "weight");
	if (!f)
		return -ENOMEM;
	if (hw && hs)
		return fail(b, f, "weight and shares are mutually exclusive");
	if (hs && shares < 2)
		return fail(b, f, "must be 0 (unset) or in 2..262144");
	if (hs)
		weight = (int64_t)shares_to_weight((uint64_t)shares);
	if (asprintf(&value, "%" PRId64, weight) < 0)
		return -ENOMEM;
	return plan_add(b, "cpu.weight", value, "cpu", f);
}

/* Whether s is a cpuset list: "", or "N" / "N-M" items joined by ",", M >= N. */
static bool cpulist_valid(const char *s)
{
	const char *p = s;

	if (strlen(s) > RES_MAX_CPULIST)
		return false;
	while (*p) {
		char num[8];
		uint64_t lo, hi;
		size_t n = strspn(p, "0123456789");

		if (n == 0 || n >= sizeof(num))
			return false;
		memcpy(num, p, n);
		num[n] = '\0';
		if (parse_uint(num, RES_MAX_CPU_ID, &lo) < 0)
			return false;
		p += n;
		hi = lo;
		if (*p == '-') {
			n = strspn(++p, "0123456789");
			if (n == 0 || n >= sizeof(num))
				return false;
			memcpy(num, p, n);
			num[n] = '\0';
			if (parse_uint(num, RES_MAX_CPU_ID, &hi) < 0 || hi < lo)
				return false;
			p += n;
		}
		if (*p == ',' && p[1])
			p++;
		else if (*p)
			return false;
	}
	return true;
}

/* cpu.cpus / cpu.mems → cpuset.cpus / cpuset.mems. */
static int build_cpuset(struct builder *b, json_object *cpu, const char *parent, const char *key,
			const char *file)
{
	_cleanup_free_ char *f = NULL;
	json_object *v;
	int r;

	r = get_member(b, cpu, parent, key, json_type_string, &v);
	if (r <= 0)
		return r;
	f = field_of(parent, key);
	if (!f)
		return -ENOMEM;
	if (!cpulist_valid(json_object_get_string(v)))
		return fail(b, f, "must be a list like \"0-3,5\" of numbers up to %d",
			    RES_MAX_CPU_ID);
	return plan_add(b, file, json_object_get_string(v), "cpuset", f);
}

/* resources.cpu → cpu.max, cpu.weight, cpu.idle, cpuset.cpus, cpuset.mems. */
static int build_cpu(struct builder *b, json_object *cpu)
{
	static const char *const keys[] = { "quota", "period", "weight", "shares", "idle",
					    "cpus",  "mems",   NULL };
	const char *parent = "resources.cpu";
	json_object *idle;
	int r;

	r = check_keys(b, cpu, parent, keys);
	if (r < 0)
		return r;
	r = build_cpu_max(b, cpu, parent);
	if (r < 0)
		return r;
	r = build_cpu_weight(b, cpu, parent);
	if (r < 0)
		return r;
	r = get_member(b, cpu, parent, "idle", json_type_boolean, &idle);
	if (r < 0)
		return r;
	if (idle) {
		r = plan_add(b, "cpu.idle", json_object_get_boolean(idle) ? "1" : "0", "cpu",
			     "resources.cpu.idle");
		if (r < 0)
			return r;
	}
	r = build_cpuset(b, cpu, parent, "cpus", "cpuset.cpus");
	if (r < 0)
		return r;
	return build_cpuset(b, cpu, parent, "mems", "cpuset.mems");
}

/* One resources.io.max[] element → an io.max line for its device. */
static int build_io_device(struct builder *b, json_object *dev, const char *parent)
{
	static const char *const keys[] = { "major", "minor", "rbps", "wbps", "riops", "wiops",
					    NULL };
	char line[256];
	int64_t major, minor;
	size_t len;
	int r;

	r = check_keys(b, dev, parent, keys);
	if (r < 0)
		return r;
	r = get_int_in(b, dev, parent, "major", 0, IO_MAJOR_MAX, &major);
	if (r == 0)
		return fail(b, parent, "major is required");
	if (r < 0)
		return r;
	r = get_int_in(b, dev, parent, "minor", 0, IO_MINOR_MAX, &minor);
	if (r == 0)
		return fail(b, parent, "minor is required");
	if (r < 0)
		return r;
	len = (size_t)snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, major, minor);
	for (size_t i = 2; keys[i]; i++) {
		_cleanup_free_ char *f = NULL, *value = NULL;
		json_object *v;

		r = get_member(b, dev, parent, keys[i], json_type_string, &v);
		if (r < 0)
			return r;
		if (!v)
			continue;
		f = field_of(parent, keys[i]);
		if (!f)
			return -ENOMEM;
		/* 0 would stop all I/O of the device: surely a mistake. */
		r = check_number(b, f, json_object_get_string(v), 1, INT64_MAX, true, &value);
		if (r < 0)
			return r;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s", keys[i], value);
		if (len >= sizeof(line))
			return -EOVERFLOW; /* cannot happen: four bounded numbers */
	}
	if (!strchr(line, '='))
		return fail(b, parent, "sets none of rbps, wbps, riops, wiops");
	return plan_add(b, "io.max", line, "io", parent);
}

/* resources.io.max[] → io.max lines, one write per device. */
static int build_io_max(struct builder *b, json_object *io, const char *parent)
{
	_cleanup_free_ char *f = NULL;
	json_object *arr;
	size_t n;
	int r;

	r = get_member(b, io, parent, "max", json_type_array, &arr);
	if (r <= 0)
		return r;
	f = field_of(parent, "max");
	if (!f)
		return -ENOMEM;
	n = json_object_array_length(arr);
	if (n > RES_MAX_IO_DEVICES)
		return fail(b, f, "at most %d devices", RES_MAX_IO_DEVICES);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *fi = field_at(f, i);

		if (!fi)
			return -ENOMEM;
		r = build_io_device(b, json_object_array_get_idx(arr, i), fi);
		if (r < 0)
			return r;
	}
	return 0;
}

/* resources.io → io.weight "default N" and io.max. */
static int build_io(struct builder *b, json_object *io)
{
	static const char *const keys[] = { "weight", "max", NULL };
	const char *parent = "resources.io";
	int64_t weight;
	int r;

	r = check_keys(b, io, parent, keys);
	if (r < 0)
		return r;
	r = get_int_in(b, io, parent, "weight", 1, 10000, &weight);
	if (r < 0)
		return r;
	if (r > 0) {
		char value[32];

		snprintf(value, sizeof(value), "default %" PRId64, weight);
		r = plan_add(b, "io.weight", value, "io", "resources.io.weight");
		if (r < 0)
			return r;
	}
	return build_io_max(b, io, parent);
}

/* Whether s is a hugetlb page size as in the file names: [0-9]+(KB|MB|GB). */
static bool pagesize_valid(const char *s)
{
	size_t n = strspn(s, "0123456789");

	if (n == 0 || n > 8)
		return false;
	return strcmp(s + n, "KB") == 0 || strcmp(s + n, "MB") == 0 || strcmp(s + n, "GB") == 0;
}

/* One resources.hugetlb[] element → hugetlb.<pagesize>.max. */
static int build_hugetlb_one(struct builder *b, json_object *h, const char *parent)
{
	static const char *const keys[] = { "pagesize", "max", NULL };
	_cleanup_free_ char *fp = NULL, *fm = NULL, *file = NULL, *value = NULL;
	json_object *ps, *max;
	int r;

	r = check_keys(b, h, parent, keys);
	if (r < 0)
		return r;
	fp = field_of(parent, "pagesize");
	fm = field_of(parent, "max");
	if (!fp || !fm)
		return -ENOMEM;
	r = get_member(b, h, parent, "pagesize", json_type_string, &ps);
	if (r == 0)
		return fail(b, fp, "is required");
	if (r < 0)
		return r;
	if (!pagesize_valid(json_object_get_string(ps)))
		return fail(b, fp, "must be a page size like \"2MB\" or \"1GB\"");
	r = get_member(b, h, parent, "max", json_type_string, &max);
	if (r == 0)
		return fail(b, fm, "is required");
	if (r < 0)
		return r;
	r = check_number(b, fm, json_object_get_string(max), 0, INT64_MAX, true, &value);
	if (r < 0)
		return r;
	if (asprintf(&file, "hugetlb.%s.max", json_object_get_string(ps)) < 0)
		return -ENOMEM;
	return plan_add(b, file, value, "hugetlb", fm);
}

/* resources.hugetlb[] → hugetlb.*.max. */
static int build_hugetlb(struct builder *b, json_object *arr)
{
	const char *parent = "resources.hugetlb";
	size_t n;
	int r;

	if (!json_object_is_type(arr, json_type_array))
		return fail(b, parent, "must be an array");
	n = json_object_array_length(arr);
	if (n > RES_MAX_HUGETLB)
		return fail(b, parent, "at most %d page sizes", RES_MAX_HUGETLB);
	for (size_t i = 0; i < n; i++) {
		_cleanup_free_ char *fi = field_at(parent, i);

		if (!fi)
			return -ENOMEM;
		r = build_hugetlb_one(b, json_object_array_get_idx(arr, i), fi);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Whether s ends with suffix. */
static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * Check a unified file name; on success *ret_controller is its controller
 * (NULL for the cgroup.* files allowed). NULL message means valid.
 */
static const char *unified_name_error(const char *name, const char **ret_controller)
{
	static const char *const controllers[] = { "memory", "pids",    "cpu",  "cpuset",
						   "io",     "hugetlb", "rdma", "misc", NULL };
	/* Read-only statistics, and files whose writes only live as long as the fd. */
	static const char *const refused_suffixes[] = { ".stat",      ".current", ".events",
							".local",     ".pressure", ".effective",
							".numa_stat", ".peak",     NULL };
	size_t len = strlen(name), clen = strcspn(name, ".");

	if (len == 0 || len > RES_MAX_NAME)
		return "is not an interface file name";
	if (strchr(name, '/') || name[0] == '.' || strstr(name, "..") || name[len - 1] == '.')
		return "is not an interface file name";
	if (strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._") != len)
		return "has characters an interface file name never has";
	if (clen == len)
		return "is not a \"<controller>.<file>\" name";
	if (strcmp(name, "cgroup.max.descendants") == 0 || strcmp(name, "cgroup.max.depth") == 0) {
		*ret_controller = NULL;
		return NULL;
	}
	if (clen == strlen("cgroup") && strncmp(name, "cgroup", clen) == 0)
		return "is managed by the daemon (only cgroup.max.descendants and cgroup.max.depth may be set)";
	for (size_t i = 0; refused_suffixes[i]; i++)
		if (ends_with(name, refused_suffixes[i]))
			return "is not a settable limit";
	for (size_t i = 0; controllers[i]; i++)
		if (strlen(controllers[i]) == clen && strncmp(name, controllers[i], clen) == 0) {
			*ret_controller = controllers[i];
			return NULL;
		}
	return "belongs to no controller that may be set";
}

/* One unified entry: name and value checked, a trailing newline dropped. */
static int build_unified_one(struct builder *b, const char *name, json_object *v)
{
	_cleanup_free_ char *f = NULL, *value = NULL;
	const char *controller = NULL, *err;
	size_t len;

	if (asprintf(&f, "resources.unified[\"%.64s\"]", name) < 0)
		return -ENOMEM;
	err = unified_name_error(name, &controller);
	if (err)
		return fail(b, f, "\"%.64s\" %s", name, err);
	if (!json_object_is_type(v, json_type_string))
		return fail(b, f, "must be of type string");
	len = (size_t)json_object_get_string_len(v);
	if (len > RES_MAX_VALUE)
		return fail(b, f, "value longer than %d bytes", RES_MAX_VALUE);
	if (strlen(json_object_get_string(v)) != len)
		return fail(b, f, "value contains a NUL byte");
	value = strdup(json_object_get_string(v));
	if (!value)
		return -ENOMEM;
	if (len > 0 && value[len - 1] == '\n')
		value[--len] = '\0';
	if (strchr(value, '\n'))
		return fail(b, f, "value must be a single line");
	return plan_add(b, name, value, controller, f);
}

/* resources.unified → the whitelisted raw interface files. */
static int build_unified(struct builder *b, json_object *obj)
{
	int r;

	if (!json_object_is_type(obj, json_type_object))
		return fail(b, "resources.unified", "must be an object");
	if (json_object_object_length(obj) > RES_MAX_UNIFIED)
		return fail(b, "resources.unified", "at most %d files", RES_MAX_UNIFIED);
	json_object_object_foreach(obj, name, v) {
		r = build_unified_one(b, name, v);
		if (r < 0)
			return r;
	}
	return 0;
}

/* resources.pids_max → pids.max. */
static int build_pids(struct builder *b, json_object *res)
{
	return add_number(b, res, "resources", "pids_max", "pids.max", "pids", 0, PIDS_LIMIT_MAX);
}

/* Every section of the Resources object, in the order the writes are applied. */
static int build_all(struct builder *b, json_object *res)
{
	static const char *const keys[] = { "memory", "pids_max", "cpu",     "io",
					    "hugetlb", "unified",  NULL };
	json_object *v;
	int r;

	r = check_keys(b, res, "resources", keys);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(res, "memory", &v) && v && (r = build_memory(b, v)) < 0)
		return r;
	if ((r = build_pids(b, res)) < 0)
		return r;
	if (json_object_object_get_ex(res, "cpu", &v) && v && (r = build_cpu(b, v)) < 0)
		return r;
	if (json_object_object_get_ex(res, "io", &v) && v && (r = build_io(b, v)) < 0)
		return r;
	if (json_object_object_get_ex(res, "hugetlb", &v) && v && (r = build_hugetlb(b, v)) < 0)
		return r;
	if (json_object_object_get_ex(res, "unified", &v) && v && (r = build_unified(b, v)) < 0)
		return r;
	return 0;
}

int res_plan_build(json_object *resources, struct res_plan *ret, char **ret_field,
		   char **ret_message)
{
	struct builder b = { 0 };
	int r;

	r = build_all(&b, resources);
	if (r < 0) {
		res_plan_done(&b.plan);
		if (r == -EINVAL && ret_field)
			*ret_field = TAKE_PTR(b.field);
		if (r == -EINVAL && ret_message)
			*ret_message = TAKE_PTR(b.message);
		free(b.field);
		free(b.message);
		return r;
	}
	*ret = b.plan;
	return 0;
}

void res_plan_done(struct res_plan *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->w[i].file);
		free(p->w[i].value);
		free(p->w[i].controller);
		free(p->w[i].field);
	}
	free(p->w);
	p->w = NULL;
	p->n = 0;
}

int res_plan_check_controllers(const struct res_plan *p, char **enabled,
			       const char **ret_controller)
{
	for (size_t i = 0; i < p->n; i++) {
		const char *c = p->w[i].controller;
		char **e = enabled;

		if (!c)
			continue;
		while (e && *e && strcmp(*e, c) != 0)
			e++;
		if (e && *e)
			continue;
		if (ret_controller)
			*ret_controller = c;
		return -EOPNOTSUPP;
	}
	return 0;
}

json_object *res_plan_to_json(const struct res_plan *p)
{
	json_object *o = json_object_new_object();

	for (size_t i = 0; o && i < p->n; i++) {
		json_object *prev = NULL, *v;
		_cleanup_free_ char *joined = NULL;
		const char *s = p->w[i].value;

		if (json_object_object_get_ex(o, p->w[i].file, &prev)) {
			if (asprintf(&joined, "%s\n%s", json_object_get_string(prev), s) < 0)
				goto fail;
			s = joined;
		}
		v = json_object_new_string(s);
		if (!v || json_object_object_add(o, p->w[i].file, v) < 0) {
			json_object_put(v);
			goto fail;
		}
	}
	return o;
fail:
	json_object_put(o);
	return NULL;
}
