/* SPDX-License-Identifier: MIT */
/* oci_resources.c: OCI linux.resources (and the io.cgctl.resources annotation) → cgctld Resources, and trimming them. */

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oci.h"

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
	json_object *v = oci_spec_obj(o, key);

	if (!v) {
		v = json_object_new_object();
		json_object_object_add(o, key, v);
	}
	return v;
}

/* Warn about the members of o listed in keys that are set (non-zero, non-empty): no cgroup v2 equivalent. */
static void warn_ignored(const struct oci_log *log, json_object *o, const char *section,
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
		oci_spec_warn(log, "linux.resources.%s%s%s is not supported on cgroup v2 by cgctld; ignored", section,
			  section[0] ? "." : "", keys[i]);
	}
}

/* memory: limit → max, reservation → low, swap (memory+swap) → swap_max, as runc converts it. */
static int xl_memory(const struct oci_log *log, json_object *mem, json_object *out)
{
	static const char *const v1_only[] = { "kernel", "kernelTCP", "swappiness", "disableOOMKiller", NULL };
	int64_t limit = 0, resv = 0, swap = 0;
	int hl = oci_int(mem, "limit", &limit), hr = oci_int(mem, "reservation", &resv);
	int hs = oci_int(mem, "swap", &swap);
	json_object *m;

	if (hl < 0 || hr < 0 || hs < 0)
		return oci_spec_error(log, "linux.resources.memory: limit, reservation and swap must be integers");
	warn_ignored(log, mem, "memory", v1_only);
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
			return oci_spec_error(log, "linux.resources.memory.swap needs a memory limit");
		if (swap < limit)
			return oci_spec_error(log, "linux.resources.memory.swap (memory+swap, %" PRId64 ") is below "
				       "the memory limit (%" PRId64 ")", swap, limit);
		put_limit(m, "swap_max", swap - limit);
	}
	if (json_object_object_length(m) == 0)
		json_object_object_del(out, "memory");
	return 0;
}

/* cpu: shares, quota/period, cpus/mems, idle; burst goes through unified as cpu.max.burst. */
static int xl_cpu(const struct oci_log *log, json_object *cpu, json_object *out)
{
	static const char *const v1_only[] = { "realtimeRuntime", "realtimePeriod", NULL };
	int64_t shares = 0, quota = 0, period = 0, idle = 0, burst = 0;
	const char *cpus = oci_spec_str(cpu, "cpus"), *mems = oci_spec_str(cpu, "mems");
	int has_idle = oci_int(cpu, "idle", &idle);
	json_object *o;

	if (oci_int(cpu, "shares", &shares) < 0 || oci_int(cpu, "quota", &quota) < 0 ||
	    oci_int(cpu, "period", &period) < 0 || has_idle < 0 || oci_int(cpu, "burst", &burst) < 0)
		return oci_spec_error(log, "linux.resources.cpu: shares, quota, period, idle and burst must be integers");
	warn_ignored(log, cpu, "cpu", v1_only);
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
	if (burst > 0 && !oci_spec_str(oci_spec_obj(out, "unified"), "cpu.max.burst"))
		put_limit(child_obj(out, "unified"), "cpu.max.burst", burst);
	return 0;
}

/* One throttle*Device array into the per-device io.max objects of devs (keyed "major:minor"). */
static int xl_throttle(const struct oci_log *log, json_object *arr, const char *key, json_object *devs)
{
	size_t n = json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;

	for (size_t i = 0; i < n; i++) {
		json_object *d = json_object_array_get_idx(arr, i), *dev;
		int64_t major, minor;
		uint64_t rate = 0;
		char k[48];

		if (oci_int(d, "major", &major) <= 0 || oci_int(d, "minor", &minor) <= 0 ||
		    oci_uint(d, "rate", &rate) < 0 || major < 0 || minor < 0)
			return oci_spec_error(log, "linux.resources.blockIO: a throttle device needs major, minor and rate");
		snprintf(k, sizeof(k), "%" PRId64 ":%" PRId64, major, minor);
		dev = oci_spec_obj(devs, k);
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
static int xl_blkio(const struct oci_log *log, json_object *blk, json_object *out)
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
		return oci_spec_error(log, "linux.resources.blockIO.weight must be an integer");
	warn_ignored(log, blk, "blockIO", unsupported);
	if (weight > 0) {
		int64_t w = 1 + (weight - 10) * 9999 / 990;

		json_object_object_add(io, "weight", json_object_new_int64(w < 1 ? 1 : w > 10000 ? 10000 : w));
	}
	for (size_t i = 0; i < ELEMENTSOF(throttles); i++) {
		json_object *arr;

		if (json_object_object_get_ex(blk, throttles[i][0], &arr) &&
		    xl_throttle(log, arr, throttles[i][1], devs) < 0)
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
static int xl_hugetlb(const struct oci_log *log, json_object *arr, json_object *out)
{
	json_object *hl = json_object_new_array();

	json_object_object_add(out, "hugetlb", hl);
	if (!json_object_is_type(arr, json_type_array))
		return oci_spec_error(log, "linux.resources.hugepageLimits must be an array");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i), *o;
		const char *ps = oci_spec_str(e, "pageSize");
		uint64_t limit = 0;
		char buf[24];

		if (!ps || oci_uint(e, "limit", &limit) <= 0)
			return oci_spec_error(log, "linux.resources.hugepageLimits[%zu] needs pageSize and limit", i);
		snprintf(buf, sizeof(buf), "%" PRIu64, limit);
		o = json_object_new_object();
		json_object_object_add(o, "pagesize", json_object_new_string(ps));
		json_object_object_add(o, "max", json_object_new_string(buf));
		json_object_array_add(hl, o);
	}
	return 0;
}

/* pids.limit → pids_max; 0 or less is "max". */
static int xl_pids(const struct oci_log *log, json_object *pids, json_object *out)
{
	int64_t limit = 0;
	int r = oci_int(pids, "limit", &limit);

	if (r < 0)
		return oci_spec_error(log, "linux.resources.pids.limit must be an integer");
	if (r > 0)
		put_limit(out, "pids_max", limit > 0 ? limit : -1);
	return 0;
}

/* unified: passed on as it is (the daemon checks names and values); it wins over what was translated. */
static int xl_unified(const struct oci_log *log, json_object *unified, json_object *out)
{
	json_object *u;

	if (!json_object_is_type(unified, json_type_object))
		return oci_spec_error(log, "linux.resources.unified must be an object");
	u = child_obj(out, "unified");
	json_object_object_foreach(unified, key, val)
		json_object_object_add(u, key, json_object_get(val));
	return 0;
}

/* The OCI resources object (linux.resources, overridden member by member by io.cgctl.resources) → Resources. */
int oci_resources_from_spec(json_object *config, json_object *state, const struct oci_log *log,
			    json_object **ret)
{
	static const char *const unsupported[] = { "rdma", "network", NULL };
	_cleanup_json_ json_object *oci = NULL, *out = json_object_new_object();
	const char *ann = oci_spec_annotation(config, state, OCI_ANN_RESOURCES);
	json_object *lr = oci_spec_obj(oci_spec_obj(config, "linux"), "resources"), *v;
	int r = 0;

	if (lr ? json_object_deep_copy(lr, &oci, NULL) < 0 : !(oci = json_object_new_object())) {
		oci_spec_error(log, "out of memory");
		return -ENOMEM;
	}
	if (ann) {
		_cleanup_json_ json_object *a = json_tokener_parse(ann);

		if (!json_object_is_type(a, json_type_object))
			return oci_spec_error(log, "annotation %s is not a JSON object", OCI_ANN_RESOURCES);
		json_object_object_foreach(a, key, val)
			json_object_object_add(oci, key, json_object_get(val));
	}
	warn_ignored(log, oci, "", unsupported);
	if ((v = oci_spec_obj(oci, "memory")))
		r = xl_memory(log, v, out);
	if (r >= 0 && (v = oci_spec_obj(oci, "cpu")))
		r = xl_cpu(log, v, out);
	if (r >= 0 && (v = oci_spec_obj(oci, "pids")))
		r = xl_pids(log, v, out);
	if (r >= 0 && (v = oci_spec_obj(oci, "blockIO")))
		r = xl_blkio(log, v, out);
	if (r >= 0 && json_object_object_get_ex(oci, "hugepageLimits", &v) && v)
		r = xl_hugetlb(log, v, out);
	if (r >= 0 && json_object_object_get_ex(oci, "unified", &v) && v)
		r = xl_unified(log, v, out);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(out);
	return 0;
}

/* --- dropping what an unavailable controller needs ------------------------ */

/* Remove unified members "<ctl>.*"; their number. */
static int drop_unified(json_object *res, const char *ctl)
{
	json_object *u = oci_spec_obj(res, "unified");
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
int oci_resources_drop_controller(json_object *res, const char *ctl)
{
	static const char *const cpu_keys[] = { "quota", "period", "weight", "shares", "idle", NULL };
	json_object *cpu = oci_spec_obj(res, "cpu");
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

/* Walk the field path from res; the array element or the last member it ends in goes. */
int oci_resources_drop_field(json_object *res, const char *field)
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
