// SPDX-License-Identifier: MIT
/* resources.c: Varlink Resources validated into a plan of cgroup v2 file writes (resources_apply.c writes it). */

#include <errno.h>
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
#include "resources_internal.h"

/* Bounds on what a client may ask for in one call. */
#define RES_MAX_IO_DEVICES 64
#define RES_MAX_HUGETLB 16
#define RES_MAX_UNIFIED 128
#define RES_MAX_NAME 255
#define RES_MAX_VALUE 4096

/* PID_MAX_LIMIT on 64-bit: pids.max takes at most this. */
#define PIDS_LIMIT_MAX 4194304
#define IO_MAJOR_MAX 4095
#define IO_MINOR_MAX 1048575

__attribute__((format(printf, 3, 4)))
int res_fail(struct builder *b, const char *field, const char *fmt, ...)
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

char *res_field_of(const char *parent, const char *key)
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

int res_parse_uint(const char *s, uint64_t max, uint64_t *ret)
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

int res_check_number(struct builder *b, const char *field, const char *s, uint64_t min,
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
		return res_fail(b, field, "must be %san integer, not empty", either);
	if (s[0] == '-')
		return res_fail(b, field, "must not be negative");
	r = res_parse_uint(s, max, &v);
	if (r == -EINVAL)
		return res_fail(b, field, "must be %sa decimal integer", either);
	if (r < 0 || v < min)
		return res_fail(b, field, "must be %san integer in %" PRIu64 "..%" PRIu64, either, min,
			    max);
	return asprintf(ret_value, "%" PRIu64, v) < 0 ? -ENOMEM : 0;
}

int res_plan_add(struct builder *b, const char *file, const char *value,
		 const char *controller, const char *field)
{
	struct res_write *w;

	for (size_t i = 0; i < b->plan.n; i++)
		if (res_same_target(&b->plan.w[i], file, value))
			return res_fail(b, field, "%s is also set by %s", file, b->plan.w[i].field);
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

int res_check_keys(struct builder *b, json_object *obj, const char *field,
		   const char *const *allowed)
{
	if (!json_object_is_type(obj, json_type_object))
		return res_fail(b, field, "must be an object");
	json_object_object_foreach(obj, key, val) {
		const char *const *a = allowed;
		_cleanup_free_ char *f = NULL;

		(void)val;
		while (*a && strcmp(*a, key) != 0)
			a++;
		if (*a)
			continue;
		f = res_field_of(field, key);
		if (!f)
			return -ENOMEM;
		return res_fail(b, f, "unknown key \"%.64s\"", key);
	}
	return 0;
}

int res_get_member(struct builder *b, json_object *obj, const char *parent, const char *key,
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
	f = res_field_of(parent, key);
	if (!f)
		return -ENOMEM;
	return res_fail(b, f, "must be of type %s", json_type_to_name(t));
}

/* Add a write for a string member that is "max" or an integer in min..max. */
static int add_number(struct builder *b, json_object *obj, const char *parent, const char *key,
		      const char *file, const char *controller, uint64_t min, uint64_t max)
{
	_cleanup_free_ char *f = NULL, *value = NULL;
	json_object *v;
	int r;

	r = res_get_member(b, obj, parent, key, json_type_string, &v);
	if (r <= 0)
		return r;
	f = res_field_of(parent, key);
	if (!f)
		return -ENOMEM;
	r = res_check_number(b, f, json_object_get_string(v), min, max, true, &value);
	if (r < 0)
		return r;
	return res_plan_add(b, file, value, controller, f);
}

/* resources.memory → memory.{max,high,low,min,swap.max}. */
static int build_memory(struct builder *b, json_object *mem)
{
	static const char *const keys[] = { "max", "high", "low", "min", "swap_max", NULL };
	static const char *const files[] = { "memory.max", "memory.high", "memory.low",
					     "memory.min", "memory.swap.max" };
	const char *parent = "resources.memory";
	int r;

	r = res_check_keys(b, mem, parent, keys);
	if (r < 0)
		return r;
	for (size_t i = 0; keys[i]; i++) {
		r = add_number(b, mem, parent, keys[i], files[i], "memory", 0, INT64_MAX);
		if (r < 0)
			return r;
	}
	return 0;
}

int res_get_int_in(struct builder *b, json_object *obj, const char *parent, const char *key,
		   int64_t min, int64_t max, int64_t *ret)
{
	_cleanup_free_ char *f = NULL;
	json_object *v;
	int64_t n;
	int r;

	r = res_get_member(b, obj, parent, key, json_type_int, &v);
	if (r <= 0)
		return r;
	n = json_object_get_int64(v);
	if (n >= min && n <= max) {
		*ret = n;
		return 1;
	}
	f = res_field_of(parent, key);
	if (!f)
		return -ENOMEM;
	if (n < 0)
		return res_fail(b, f, "must not be negative");
	return res_fail(b, f, "must be in %" PRId64 "..%" PRId64, min, max);
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

	r = res_check_keys(b, dev, parent, keys);
	if (r < 0)
		return r;
	r = res_get_int_in(b, dev, parent, "major", 0, IO_MAJOR_MAX, &major);
	if (r == 0)
		return res_fail(b, parent, "major is required");
	if (r < 0)
		return r;
	r = res_get_int_in(b, dev, parent, "minor", 0, IO_MINOR_MAX, &minor);
	if (r == 0)
		return res_fail(b, parent, "minor is required");
	if (r < 0)
		return r;
	len = (size_t)snprintf(line, sizeof(line), "%" PRId64 ":%" PRId64, major, minor);
	for (size_t i = 2; keys[i]; i++) {
		_cleanup_free_ char *f = NULL, *value = NULL;
		json_object *v;

		r = res_get_member(b, dev, parent, keys[i], json_type_string, &v);
		if (r < 0)
			return r;
		if (!v)
			continue;
		f = res_field_of(parent, keys[i]);
		if (!f)
			return -ENOMEM;
		/* 0 would stop all I/O of the device: surely a mistake. */
		r = res_check_number(b, f, json_object_get_string(v), 1, INT64_MAX, true, &value);
		if (r < 0)
			return r;
		len += (size_t)snprintf(line + len, sizeof(line) - len, " %s=%s", keys[i], value);
		if (len >= sizeof(line))
			return -EOVERFLOW; /* cannot happen: four bounded numbers */
	}
	if (!strchr(line, '='))
		return res_fail(b, parent, "sets none of rbps, wbps, riops, wiops");
	return res_plan_add(b, "io.max", line, "io", parent);
}

/* resources.io.max[] → io.max lines, one write per device. */
static int build_io_max(struct builder *b, json_object *io, const char *parent)
{
	_cleanup_free_ char *f = NULL;
	json_object *arr;
	size_t n;
	int r;

	r = res_get_member(b, io, parent, "max", json_type_array, &arr);
	if (r <= 0)
		return r;
	f = res_field_of(parent, "max");
	if (!f)
		return -ENOMEM;
	n = json_object_array_length(arr);
	if (n > RES_MAX_IO_DEVICES)
		return res_fail(b, f, "at most %d devices", RES_MAX_IO_DEVICES);
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

	r = res_check_keys(b, io, parent, keys);
	if (r < 0)
		return r;
	r = res_get_int_in(b, io, parent, "weight", 1, 10000, &weight);
	if (r < 0)
		return r;
	if (r > 0) {
		char value[32];

		snprintf(value, sizeof(value), "default %" PRId64, weight);
		r = res_plan_add(b, "io.weight", value, "io", "resources.io.weight");
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

	r = res_check_keys(b, h, parent, keys);
	if (r < 0)
		return r;
	fp = res_field_of(parent, "pagesize");
	fm = res_field_of(parent, "max");
	if (!fp || !fm)
		return -ENOMEM;
	r = res_get_member(b, h, parent, "pagesize", json_type_string, &ps);
	if (r == 0)
		return res_fail(b, fp, "is required");
	if (r < 0)
		return r;
	if (!pagesize_valid(json_object_get_string(ps)))
		return res_fail(b, fp, "must be a page size like \"2MB\" or \"1GB\"");
	r = res_get_member(b, h, parent, "max", json_type_string, &max);
	if (r == 0)
		return res_fail(b, fm, "is required");
	if (r < 0)
		return r;
	r = res_check_number(b, fm, json_object_get_string(max), 0, INT64_MAX, true, &value);
	if (r < 0)
		return r;
	if (asprintf(&file, "hugetlb.%s.max", json_object_get_string(ps)) < 0)
		return -ENOMEM;
	return res_plan_add(b, file, value, "hugetlb", fm);
}

/* resources.hugetlb[] → hugetlb.*.max. */
static int build_hugetlb(struct builder *b, json_object *arr)
{
	const char *parent = "resources.hugetlb";
	size_t n;
	int r;

	if (!json_object_is_type(arr, json_type_array))
		return res_fail(b, parent, "must be an array");
	n = json_object_array_length(arr);
	if (n > RES_MAX_HUGETLB)
		return res_fail(b, parent, "at most %d page sizes", RES_MAX_HUGETLB);
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
		return res_fail(b, f, "\"%.64s\" %s", name, err);
	if (!json_object_is_type(v, json_type_string))
		return res_fail(b, f, "must be of type string");
	len = (size_t)json_object_get_string_len(v);
	if (len > RES_MAX_VALUE)
		return res_fail(b, f, "value longer than %d bytes", RES_MAX_VALUE);
	if (strlen(json_object_get_string(v)) != len)
		return res_fail(b, f, "value contains a NUL byte");
	value = strdup(json_object_get_string(v));
	if (!value)
		return -ENOMEM;
	if (len > 0 && value[len - 1] == '\n')
		value[--len] = '\0';
	if (strchr(value, '\n'))
		return res_fail(b, f, "value must be a single line");
	return res_plan_add(b, name, value, controller, f);
}

/* resources.unified → the whitelisted raw interface files. */
static int build_unified(struct builder *b, json_object *obj)
{
	int r;

	if (!json_object_is_type(obj, json_type_object))
		return res_fail(b, "resources.unified", "must be an object");
	if (json_object_object_length(obj) > RES_MAX_UNIFIED)
		return res_fail(b, "resources.unified", "at most %d files", RES_MAX_UNIFIED);
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

	r = res_check_keys(b, res, "resources", keys);
	if (r < 0)
		return r;
	if (json_object_object_get_ex(res, "memory", &v) && v && (r = build_memory(b, v)) < 0)
		return r;
	if ((r = build_pids(b, res)) < 0)
		return r;
	if (json_object_object_get_ex(res, "cpu", &v) && v && (r = res_build_cpu(b, v)) < 0)
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
