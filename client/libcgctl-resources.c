/* SPDX-License-Identifier: MIT */
/* libcgctl-resources.c: struct cgctl_resources to and from the Varlink Resources object. */

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "errors.h"
#include "libcgctl-internal.h"

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Whether the caller's struct (of size r->size) reaches field f. */
#define RES_HAVE(r, f) \
	((r)->size >= offsetof(struct cgctl_resources, f) + sizeof((r)->f))
/* Field f when the caller's struct has it, else dflt. */
#define RES_GET(r, f, dflt) (RES_HAVE(r, f) ? (r)->f : (dflt))

/* Everything unset. */
CGCTL_EXPORT void cgctl_resources_init(struct cgctl_resources *r)
{
	if (!r)
		return;
	memset(r, 0, sizeof(*r));
	r->size = sizeof(*r);
	r->memory_max = r->memory_high = r->memory_low = r->memory_min = CGCTL_LIMIT_UNSET;
	r->memory_swap_max = r->pids_max = CGCTL_LIMIT_UNSET;
	r->cpu_quota = r->cpu_period = r->cpu_weight = r->cpu_shares = CGCTL_LIMIT_UNSET;
	r->cpu_idle = -1;
	r->io_weight = CGCTL_LIMIT_UNSET;
}

/* InvalidValue on the handle, naming field. */
static int invalid(cgctl *c, const char *field, const char *what)
{
	char msg[192];

	snprintf(msg, sizeof(msg), "%s: %s", field, what);
	return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE), msg);
}

/* Add key: value to o, taking value; -ENOMEM (value released) on failure. */
static int add(json_object *o, const char *key, json_object *v)
{
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* A 64-bit limit as the wire's string ("max" or decimal); nothing when unset. */
static int add_limit(cgctl *c, json_object *o, const char *key, uint64_t v, const char *field)
{
	char buf[24];

	if (v == CGCTL_LIMIT_UNSET)
		return 0;
	if (v == CGCTL_LIMIT_MAX)
		return add(o, key, json_object_new_string("max"));
	if (v > INT64_MAX)
		return invalid(c, field, "out of range (use CGCTL_LIMIT_MAX for no limit)");
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	return add(o, key, json_object_new_string(buf));
}

/* An integer member; nothing when unset. */
static int add_int(cgctl *c, json_object *o, const char *key, uint64_t v, const char *field)
{
	if (v == CGCTL_LIMIT_UNSET)
		return 0;
	if (v > INT64_MAX)
		return invalid(c, field, "out of range");
	return add(o, key, json_object_new_int64((int64_t)v));
}

/* parent[key] := child when child has members; child is released otherwise. */
static int add_section(json_object *parent, const char *key, json_object *child)
{
	if (!child)
		return -ENOMEM;
	if (json_object_object_length(child) == 0) {
		json_object_put(child);
		return 0;
	}
	return add(parent, key, child);
}

/* resources.memory. */
static int encode_memory(cgctl *c, const struct cgctl_resources *r, json_object *res)
{
	json_object *m = json_object_new_object();
	int k;

	if (!m)
		return -ENOMEM;
	if ((k = add_limit(c, m, "max", RES_GET(r, memory_max, CGCTL_LIMIT_UNSET), "memory_max")) < 0 ||
	    (k = add_limit(c, m, "high", RES_GET(r, memory_high, CGCTL_LIMIT_UNSET), "memory_high")) < 0 ||
	    (k = add_limit(c, m, "low", RES_GET(r, memory_low, CGCTL_LIMIT_UNSET), "memory_low")) < 0 ||
	    (k = add_limit(c, m, "min", RES_GET(r, memory_min, CGCTL_LIMIT_UNSET), "memory_min")) < 0 ||
	    (k = add_limit(c, m, "swap_max", RES_GET(r, memory_swap_max, CGCTL_LIMIT_UNSET),
			   "memory_swap_max")) < 0) {
		json_object_put(m);
		return k;
	}
	return add_section(res, "memory", m);
}

/* resources.cpu (cpu.max, weight or shares, idle, cpuset). */
static int encode_cpu(cgctl *c, const struct cgctl_resources *r, json_object *res)
{
	_cleanup_json_ json_object *cpu = json_object_new_object();
	const char *cpus = RES_GET(r, cpuset_cpus, NULL), *mems = RES_GET(r, cpuset_mems, NULL);
	int idle = RES_GET(r, cpu_idle, -1), k;

	if (!cpu)
		return -ENOMEM;
	if ((k = add_limit(c, cpu, "quota", RES_GET(r, cpu_quota, CGCTL_LIMIT_UNSET), "cpu_quota")) < 0 ||
	    (k = add_int(c, cpu, "period", RES_GET(r, cpu_period, CGCTL_LIMIT_UNSET), "cpu_period")) < 0 ||
	    (k = add_int(c, cpu, "weight", RES_GET(r, cpu_weight, CGCTL_LIMIT_UNSET), "cpu_weight")) < 0 ||
	    (k = add_int(c, cpu, "shares", RES_GET(r, cpu_shares, CGCTL_LIMIT_UNSET), "cpu_shares")) < 0)
		return k;
	if (idle > 1 || idle < -1)
		return invalid(c, "cpu_idle", "must be 1, 0 or -1 (unset)");
	if (idle >= 0 && (k = add(cpu, "idle", json_object_new_boolean(idle))) < 0)
		return k;
	if (cpus && (k = add(cpu, "cpus", json_object_new_string(cpus))) < 0)
		return k;
	if (mems && (k = add(cpu, "mems", json_object_new_string(mems))) < 0)
		return k;
	return add_section(res, "cpu", TAKE_PTR(cpu));
}

/* One io.max device line as an IoDeviceLimit. */
static json_object *encode_io_device(cgctl *c, const struct cgctl_io_device_limit *d, int *ret)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	int k;

	*ret = -ENOMEM;
	if (!o || add(o, "major", json_object_new_int64(d->major)) < 0 ||
	    add(o, "minor", json_object_new_int64(d->minor)) < 0)
		return NULL;
	if ((k = add_limit(c, o, "rbps", d->rbps, "io_max.rbps")) < 0 ||
	    (k = add_limit(c, o, "wbps", d->wbps, "io_max.wbps")) < 0 ||
	    (k = add_limit(c, o, "riops", d->riops, "io_max.riops")) < 0 ||
	    (k = add_limit(c, o, "wiops", d->wiops, "io_max.wiops")) < 0) {
		*ret = k;
		return NULL;
	}
	*ret = 0;
	return TAKE_PTR(o);
}

/* resources.io (weight, per-device max). */
static int encode_io(cgctl *c, const struct cgctl_resources *r, json_object *res)
{
	_cleanup_json_ json_object *io = json_object_new_object();
	const struct cgctl_io_device_limit *devs = RES_GET(r, io_max, NULL);
	size_t n = RES_HAVE(r, n_io_max) ? r->n_io_max : 0;
	json_object *a, *d;
	int k;

	if (!io)
		return -ENOMEM;
	if ((k = add_int(c, io, "weight", RES_GET(r, io_weight, CGCTL_LIMIT_UNSET), "io_weight")) < 0)
		return k;
	if (n > 0 && !devs)
		return invalid(c, "io_max", "NULL with n_io_max > 0");
	if (devs && n > 0) {
		if ((k = add(io, "max", a = json_object_new_array())) < 0)
			return k;
		for (size_t i = 0; i < n; i++) {
			d = encode_io_device(c, &devs[i], &k);
			if (!d)
				return k;
			if (json_object_array_add(a, d) < 0) {
				json_object_put(d);
				return -ENOMEM;
			}
		}
	}
	return add_section(res, "io", TAKE_PTR(io));
}

/* resources.hugetlb[]. */
static int encode_hugetlb(cgctl *c, const struct cgctl_resources *r, json_object *res)
{
	const struct cgctl_hugetlb_limit *h = RES_GET(r, hugetlb, NULL);
	size_t n = RES_HAVE(r, n_hugetlb) ? r->n_hugetlb : 0;
	json_object *a, *o;
	int k;

	if (n == 0)
		return 0;
	if (!h)
		return invalid(c, "hugetlb", "NULL with n_hugetlb > 0");
	if ((k = add(res, "hugetlb", a = json_object_new_array())) < 0)
		return k;
	for (size_t i = 0; i < n; i++) {
		if (!h[i].pagesize || h[i].max == CGCTL_LIMIT_UNSET)
			return invalid(c, "hugetlb", "every element needs a pagesize and a max");
		o = json_object_new_object();
		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			return -ENOMEM;
		}
		if ((k = add(o, "pagesize", json_object_new_string(h[i].pagesize))) < 0 ||
		    (k = add_limit(c, o, "max", h[i].max, "hugetlb.max")) < 0)
			return k;
	}
	return 0;
}

/* resources.unified from "file=value" strings. */
static int encode_unified(cgctl *c, const struct cgctl_resources *r, json_object *res)
{
	const char *const *u = RES_GET(r, unified, NULL);
	_cleanup_json_ json_object *m = NULL;
	const char *eq;
	int k;

	if (!u || !*u)
		return 0;
	if (!(m = json_object_new_object()))
		return -ENOMEM;
	for (; *u; u++) {
		eq = strchr(*u, '=');
		if (!eq || eq == *u)
			return invalid(c, "unified", "want \"file=value\"");
		_cleanup_free_ char *key = strndup(*u, (size_t)(eq - *u));
		if (!key || (k = add(m, key, json_object_new_string(eq + 1))) < 0)
			return -ENOMEM;
	}
	return add(res, "unified", TAKE_PTR(m));
}

/* Typed resources as a Resources object. */
int libcgctl_resources_encode(cgctl *c, const struct cgctl_resources *r, json_object **ret)
{
	_cleanup_json_ json_object *res = NULL;
	int k;

	if (!r || r->size < sizeof(r->size))
		return invalid(c, "resources", "size not set (use cgctl_resources_init())");
	if (!(res = json_object_new_object()))
		return -ENOMEM;
	if ((k = encode_memory(c, r, res)) < 0 ||
	    (k = add_limit(c, res, "pids_max", RES_GET(r, pids_max, CGCTL_LIMIT_UNSET), "pids_max")) < 0 ||
	    (k = encode_cpu(c, r, res)) < 0 || (k = encode_io(c, r, res)) < 0 ||
	    (k = encode_hugetlb(c, r, res)) < 0 || (k = encode_unified(c, r, res)) < 0)
		return k;
	*ret = TAKE_PTR(res);
	return 0;
}

/* JSON text that must be an object. */
int libcgctl_resources_parse(cgctl *c, const char *text, json_object **ret)
{
	json_object *o = text ? json_tokener_parse(text) : NULL;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE),
					  "resources are not a JSON object");
	}
	*ret = o;
	return 0;
}
