/* SPDX-License-Identifier: MIT */
/* resources_cpu.c: Resources' cpu section: cpu.max from quota and period, cpu.weight (or shares), cpu.idle, cpuset lists. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "resources_internal.h"

/* cpu.max bounds as the kernel enforces them (kernel/sched/core.c, MAX_BW). */
#define CPU_PERIOD_MIN 1000
#define CPU_PERIOD_MAX 1000000
#define CPU_PERIOD_DEFAULT 100000
#define CPU_QUOTA_MIN 1000
#define CPU_QUOTA_MAX ((UINT64_C(1) << 44) - 1)
/* Bounds on what a client may ask for in one call. */
#define RES_MAX_CPULIST 1024
#define RES_MAX_CPU_ID 65535

/* cpu.quota and cpu.period → cpu.max "QUOTA PERIOD". */
static int build_cpu_max(struct builder *b, json_object *cpu, const char *parent)
{
	_cleanup_free_ char *f = NULL, *quota = NULL, *value = NULL;
	int64_t period = CPU_PERIOD_DEFAULT;
	json_object *q;
	int r, has_period;

	has_period = res_get_int_in(b, cpu, parent, "period", CPU_PERIOD_MIN, CPU_PERIOD_MAX, &period);
	if (has_period < 0)
		return has_period;
	r = res_get_member(b, cpu, parent, "quota", json_type_string, &q);
	if (r < 0)
		return r;
	if (!q && !has_period)
		return 0;
	f = res_field_of(parent, q ? "quota" : "period");
	if (!f)
		return -ENOMEM;
	if (q) {
		r = res_check_number(b, f, json_object_get_string(q), CPU_QUOTA_MIN, CPU_QUOTA_MAX, true,
				 &quota);
		if (r < 0)
			return r;
	}
	if (asprintf(&value, "%s %" PRId64, quota ? quota : "max", period) < 0)
		return -ENOMEM;
	return res_plan_add(b, "cpu.max", value, "cpu", f);
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

	hw = res_get_int_in(b, cpu, parent, "weight", 1, 10000, &weight);
	if (hw < 0)
		return hw;
	/* OCI: shares 0 means "not set". */
	hs = res_get_int_in(b, cpu, parent, "shares", 0, 262144, &shares);
	if (hs < 0)
		return hs;
	hs = hs && shares != 0;
	if (!hw && !hs)
		return 0;
	f = res_field_of(parent, hs ? "shares" : "weight");
	if (!f)
		return -ENOMEM;
	if (hw && hs)
		return res_fail(b, f, "weight and shares are mutually exclusive");
	if (hs && shares < 2)
		return res_fail(b, f, "must be 0 (unset) or in 2..262144");
	if (hs)
		weight = (int64_t)shares_to_weight((uint64_t)shares);
	if (asprintf(&value, "%" PRId64, weight) < 0)
		return -ENOMEM;
	return res_plan_add(b, "cpu.weight", value, "cpu", f);
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
		if (res_parse_uint(num, RES_MAX_CPU_ID, &lo) < 0)
			return false;
		p += n;
		hi = lo;
		if (*p == '-') {
			n = strspn(++p, "0123456789");
			if (n == 0 || n >= sizeof(num))
				return false;
			memcpy(num, p, n);
			num[n] = '\0';
			if (res_parse_uint(num, RES_MAX_CPU_ID, &hi) < 0 || hi < lo)
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

	r = res_get_member(b, cpu, parent, key, json_type_string, &v);
	if (r <= 0)
		return r;
	f = res_field_of(parent, key);
	if (!f)
		return -ENOMEM;
	if (!cpulist_valid(json_object_get_string(v)))
		return res_fail(b, f, "must be a list like \"0-3,5\" of numbers up to %d",
			    RES_MAX_CPU_ID);
	return res_plan_add(b, file, json_object_get_string(v), "cpuset", f);
}

int res_build_cpu(struct builder *b, json_object *cpu)
{
	static const char *const keys[] = { "quota", "period", "weight", "shares", "idle",
					    "cpus",  "mems",   NULL };
	const char *parent = "resources.cpu";
	json_object *idle;
	int r;

	r = res_check_keys(b, cpu, parent, keys);
	if (r < 0)
		return r;
	r = build_cpu_max(b, cpu, parent);
	if (r < 0)
		return r;
	r = build_cpu_weight(b, cpu, parent);
	if (r < 0)
		return r;
	r = res_get_member(b, cpu, parent, "idle", json_type_boolean, &idle);
	if (r < 0)
		return r;
	if (idle) {
		r = res_plan_add(b, "cpu.idle", json_object_get_boolean(idle) ? "1" : "0", "cpu",
			     "resources.cpu.idle");
		if (r < 0)
			return r;
	}
	r = build_cpuset(b, cpu, parent, "cpus", "cpuset.cpus");
	if (r < 0)
		return r;
	return build_cpuset(b, cpu, parent, "mems", "cpuset.mems");
}
