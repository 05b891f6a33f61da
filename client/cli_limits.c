/* SPDX-License-Identifier: MIT */
/* cli_limits.c: cgctl's KEY=VALUE limits and limit flags, translated into a Varlink Resources object. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cleanup.h"
#include "cli.h"

/* Longest KEY of KEY=VALUE we look at. */
#define KEY_MAX 128

/* Keys of the CLI_LIMIT_* options, in enum order ("hugetlb" and "set" are special). */
static const char *const opt_keys[] = {
	"memory.max", "memory.high", "memory.low", "memory.min", "memory.swap.max", "pids.max",
	"cpu.max", "cpu.weight", "cpu.idle", "cpuset.cpus", "cpuset.mems", "io.weight",
};

/* Whether opt is a limit option. */
bool cli_is_limit_opt(int opt)
{
	return opt >= CLI_LIMIT_MEMORY_MAX && opt < CLI_LIMIT_LAST_;
}

/* Set o[key] = v, taking v. */
static int put(json_object *o, const char *key, json_object *v)
{
	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* res[key], created as a fresh object or array (t) when absent. */
static json_object *sub(json_object *res, const char *key, json_type t)
{
	json_object *o;

	if (json_object_object_get_ex(res, key, &o) && json_object_is_type(o, t))
		return o;
	o = t == json_type_array ? json_object_new_array() : json_object_new_object();
	return put(res, key, o) < 0 ? NULL : o;
}

/* "max", or a byte count with an optional binary suffix (K, M, G, T; "KB", "KiB" too), as decimal text. */
static int parse_bytes(const char *s, char *buf, size_t size)
{
	static const char suffixes[] = "KMGT";
	unsigned long long v;
	const char *p;
	char *end;
	int n;

	if (strcmp(s, "max") == 0)
		return snprintf(buf, size, "max") < (int)size ? 0 : -ENOBUFS;
	if (!s[0] || s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -EINVAL;
	if (*end) {
		p = strchr(suffixes, *end & ~0x20);
		if (!p || (end[1] && strcasecmp(end + 1, "B") != 0 && strcmp(end + 1, "iB") != 0))
			return -EINVAL;
		for (n = 0; n <= p - suffixes; n++) {
			if (v > INT64_MAX / 1024)
				return -ERANGE;
			v *= 1024;
		}
	}
	if (v > INT64_MAX)
		return -ERANGE;
	n = snprintf(buf, size, "%llu", v);
	return n > 0 && (size_t)n < size ? 0 : -ENOBUFS;
}

/* A decimal integer in min..max. */
static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *ret)
{
	char *end;
	long long v;

	if (!s[0] || (s[0] != '-' && (s[0] < '0' || s[0] > '9')))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

/* Fail with why. */
static int bad(const char **ret_why, const char *why)
{
	*ret_why = why;
	return -EINVAL;
}

/* A byte size into o[key] as the wire's string. */
static int put_bytes(json_object *o, const char *key, const char *value, const char **ret_why)
{
	char buf[32];

	if (parse_bytes(value, buf, sizeof(buf)) < 0)
		return bad(ret_why, "want \"max\" or bytes, optionally with a K, M, G or T suffix");
	return put(o, key, json_object_new_string(buf));
}

/* A plain integer into o[key] (JSON number). */
static int put_int(json_object *o, const char *key, const char *value, int64_t min, int64_t max,
		   const char **ret_why, const char *why)
{
	int64_t v;

	if (parse_i64(value, min, max, &v) < 0)
		return bad(ret_why, why);
	return put(o, key, json_object_new_int64(v));
}

/* cpu.max "QUOTA [PERIOD]" (also "QUOTA PERIOD" with the quota "max"). */
static int add_cpu_max(json_object *res, const char *value, const char **ret_why)
{
	static const char why[] = "want \"QUOTA [PERIOD]\": QUOTA microseconds or \"max\", PERIOD microseconds";
	char quota[32], *sp;
	json_object *cpu;
	size_t n = strcspn(value, " ");
	int64_t v;

	if (n == 0 || n >= sizeof(quota))
		return bad(ret_why, why);
	memcpy(quota, value, n);
	quota[n] = '\0';
	if (strcmp(quota, "max") != 0 && parse_i64(quota, 0, INT64_MAX, &v) < 0)
		return bad(ret_why, why);
	if (!(cpu = sub(res, "cpu", json_type_object)) || put(cpu, "quota", json_object_new_string(quota)) < 0)
		return -ENOMEM;
	sp = (char *)value + n;
	while (*sp == ' ')
		sp++;
	if (!*sp)
		return 0;
	return put_int(cpu, "period", sp, 0, INT64_MAX, ret_why, why);
}

/* io.weight "N" or "default N" (per-device weights go raw through unified). */
static int add_io_weight(json_object *res, const char *value, const char **ret_why)
{
	json_object *io = sub(res, "io", json_type_object);

	if (!io)
		return -ENOMEM;
	if (strncmp(value, "default ", 8) == 0)
		value += 8;
	return put_int(io, "weight", value, 0, 10000, ret_why, "want a weight 1..10000");
}

/* One "rbps=B" style field of an io.max line into the device object. */
static int add_io_field(json_object *dev, const char *tok, const char **ret_why)
{
	static const char *const keys[] = { "rbps", "wbps", "riops", "wiops" };
	const char *eq = strchr(tok, '=');

	for (size_t i = 0; eq && i < 4; i++)
		if (strlen(keys[i]) == (size_t)(eq - tok) && strncmp(tok, keys[i], 4) == 0)
			return put_bytes(dev, keys[i], eq + 1, ret_why);
	return bad(ret_why, "want \"MAJ:MIN\" then rbps=, wbps=, riops=, wiops= fields");
}

/* io.max "MAJ:MIN rbps=.. wbps=.. riops=.. wiops=..": one device of resources.io.max. */
static int add_io_max(json_object *res, const char *value, const char **ret_why)
{
	_cleanup_free_ char *copy = strdup(value);
	json_object *io, *arr, *dev;
	unsigned major, minor;
	char *tok, *save = NULL;
	int n = 0, r;

	if (!copy)
		return -ENOMEM;
	tok = strtok_r(copy, " ", &save);
	if (!tok || sscanf(tok, "%u:%u%n", &major, &minor, &n) != 2 || tok[n])
		return bad(ret_why, "want \"MAJ:MIN\" then rbps=, wbps=, riops=, wiops= fields");
	if (!(io = sub(res, "io", json_type_object)) || !(arr = sub(io, "max", json_type_array)))
		return -ENOMEM;
	dev = json_object_new_object();
	if (!dev || json_object_array_add(arr, dev) < 0) {
		json_object_put(dev);
		return -ENOMEM;
	}
	if (put(dev, "major", json_object_new_int64(major)) < 0 ||
	    put(dev, "minor", json_object_new_int64(minor)) < 0)
		return -ENOMEM;
	while ((tok = strtok_r(NULL, " ", &save)))
		if ((r = add_io_field(dev, tok, ret_why)) < 0)
			return r;
	return 0;
}

/* hugetlb.<SIZE>.max: one element of resources.hugetlb (a repeated size replaces the earlier one). */
static int add_hugetlb(json_object *res, const char *pagesize, size_t len, const char *value,
		       const char **ret_why)
{
	json_object *arr, *h, *ps;
	char buf[32];
	size_t i;

	if (len == 0 || len >= 16)
		return bad(ret_why, "want a page size like 2MB or 1GB");
	if (parse_bytes(value, buf, sizeof(buf)) < 0)
		return bad(ret_why, "want \"max\" or bytes, optionally with a K, M, G or T suffix");
	if (!(arr = sub(res, "hugetlb", json_type_array)))
		return -ENOMEM;
	for (i = 0; i < json_object_array_length(arr); i++) {
		h = json_object_array_get_idx(arr, i);
		if (json_object_object_get_ex(h, "pagesize", &ps) &&
		    strlen(json_object_get_string(ps)) == len &&
		    strncmp(json_object_get_string(ps), pagesize, len) == 0)
			return put(h, "max", json_object_new_string(buf));
	}
	h = json_object_new_object();
	if (!h || json_object_array_add(arr, h) < 0) {
		json_object_put(h);
		return -ENOMEM;
	}
	if (put(h, "pagesize", json_object_new_string_len(pagesize, (int)len)) < 0)
		return -ENOMEM;
	return put(h, "max", json_object_new_string(buf));
}

/* Keys of resources.memory by file name. */
static const char *memory_key(const char *key)
{
	static const char *const files[] = { "memory.max", "memory.high", "memory.low", "memory.min",
					     "memory.swap.max" };
	static const char *const keys[] = { "max", "high", "low", "min", "swap_max" };

	for (size_t i = 0; i < 5; i++)
		if (strcmp(key, files[i]) == 0)
			return keys[i];
	return NULL;
}

/* cpu.* and cpuset.* friendly keys; 1 when key was not one of them. */
static int add_cpu(json_object *res, const char *key, const char *value, const char **ret_why)
{
	json_object *cpu;

	if (strcmp(key, "cpu.max") == 0)
		return add_cpu_max(res, value, ret_why);
	if (strcmp(key, "cpu.weight") && strcmp(key, "cpu.shares") && strcmp(key, "cpu.idle") &&
	    strcmp(key, "cpuset.cpus") && strcmp(key, "cpuset.mems"))
		return 1;
	if (!(cpu = sub(res, "cpu", json_type_object)))
		return -ENOMEM;
	if (strcmp(key, "cpu.weight") == 0)
		return put_int(cpu, "weight", value, 0, 10000, ret_why, "want a weight 1..10000");
	if (strcmp(key, "cpu.shares") == 0)
		return put_int(cpu, "shares", value, 0, 262144, ret_why, "want OCI shares 2..262144");
	if (strcmp(key, "cpu.idle") == 0) {
		if (strcmp(value, "0") && strcmp(value, "1"))
			return bad(ret_why, "want 0 or 1");
		return put(cpu, "idle", json_object_new_boolean(value[0] == '1'));
	}
	return put(cpu, strcmp(key, "cpuset.cpus") == 0 ? "cpus" : "mems", json_object_new_string(value));
}

/* One KEY, VALUE pair into the Resources object. */
static int limit_add(json_object *res, const char *key, const char *value, const char **ret_why)
{
	const char *mk = memory_key(key);
	size_t len = strlen(key);
	json_object *o;
	int r;

	if (mk)
		return (o = sub(res, "memory", json_type_object)) ? put_bytes(o, mk, value, ret_why) : -ENOMEM;
	if (strcmp(key, "pids.max") == 0) {
		int64_t v;
		if (strcmp(value, "max") != 0 && parse_i64(value, 0, INT64_MAX, &v) < 0)
			return bad(ret_why, "want \"max\" or a number of processes");
		return put(res, "pids_max", json_object_new_string(value));
	}
	if ((r = add_cpu(res, key, value, ret_why)) <= 0)
		return r;
	if (strcmp(key, "io.weight") == 0)
		return add_io_weight(res, value, ret_why);
	if (strcmp(key, "io.max") == 0)
		return add_io_max(res, value, ret_why);
	if (len > 12 && strncmp(key, "hugetlb.", 8) == 0 && strcmp(key + len - 4, ".max") == 0 &&
	    strchr(key + 8, '.') == key + len - 4)
		return add_hugetlb(res, key + 8, len - 12, value, ret_why);
	/* Anything else is a raw interface file; the daemon keeps the whitelist. */
	if (!(o = sub(res, "unified", json_type_object)))
		return -ENOMEM;
	return put(o, key, json_object_new_string(value));
}

/* KEY=VALUE into the Resources object. */
int cli_limit_add_kv(json_object *res, const char *kv, const char **ret_why)
{
	const char *eq = strchr(kv, '=');
	char key[KEY_MAX + 1];

	*ret_why = NULL;
	if (!eq || eq == kv)
		return bad(ret_why, "want KEY=VALUE");
	if ((size_t)(eq - kv) > KEY_MAX)
		return bad(ret_why, "key too long");
	memcpy(key, kv, (size_t)(eq - kv));
	key[eq - kv] = '\0';
	return limit_add(res, key, eq + 1, ret_why);
}

/* A limit option's value into the Resources object. */
int cli_limit_add_opt(json_object *res, int opt, const char *value, const char **ret_why)
{
	const char *eq;
	char key[KEY_MAX + 1];
	int n;

	*ret_why = NULL;
	if (opt == CLI_LIMIT_SET)
		return cli_limit_add_kv(res, value, ret_why);
	if (opt == CLI_LIMIT_HUGETLB) {
		eq = strchr(value, '=');
		if (!eq || eq == value)
			return bad(ret_why, "want PAGESIZE=VALUE, e.g. 2MB=64M");
		n = snprintf(key, sizeof(key), "hugetlb.%.*s.max", (int)(eq - value), value);
		if (n < 0 || (size_t)n >= sizeof(key))
			return bad(ret_why, "page size too long");
		return limit_add(res, key, eq + 1, ret_why);
	}
	if (opt < CLI_LIMIT_MEMORY_MAX || (size_t)(opt - CLI_LIMIT_MEMORY_MAX) >= sizeof(opt_keys) / sizeof(opt_keys[0]))
		return bad(ret_why, "not a limit option");
	return limit_add(res, opt_keys[opt - CLI_LIMIT_MEMORY_MAX], value, ret_why);
}
