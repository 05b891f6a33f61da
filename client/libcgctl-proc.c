/* SPDX-License-Identifier: MIT */
/* libcgctl-proc.c: processes and resources: Attach, SetResources, GetStats, Freeze, Thaw, Kill, OpenCgroup. */

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "errors.h"
#include "libcgctl-internal.h"

/* Most processes one Attach may move (the daemon's bound). */
#define ATTACH_MAX 1024u
/* Extra time the transport gives a call that waits in the daemon. */
#define WAIT_SLACK_MS 2000

/* Drop a json-c reference held by a local. */
static void json_putp(json_object **o)
{
	if (*o)
		json_object_put(*o);
}
#define _cleanup_json_ _cleanup_(json_putp)

/* Close and free the descriptors a call handed over. */
static void xfer_done(struct libcgctl_xfer *x)
{
	for (size_t i = 0; i < x->n_ret_fds; i++)
		if (x->ret_fds[i] >= 0)
			close(x->ret_fds[i]);
	free(x->ret_fds);
	x->ret_fds = NULL;
	x->n_ret_fds = 0;
}

/* A new {"name": name} object after checking name; NULL with *ret set on failure. */
static json_object *name_params(cgctl *c, const char *name, int *ret)
{
	json_object *p, *v;

	*ret = libcgctl_check_name(c, name);
	if (*ret < 0)
		return NULL;
	p = json_object_new_object();
	v = json_object_new_string(name);
	if (!p || !v || json_object_object_add(p, "name", v) < 0) {
		json_object_put(p);
		json_object_put(v);
		*ret = -ENOMEM;
		return NULL;
	}
	return p;
}

/* Add key: integer to o. */
static int add_int(json_object *o, const char *key, int64_t v)
{
	json_object *j = json_object_new_int64(v);

	if (!j || json_object_object_add(o, key, j) < 0) {
		json_object_put(j);
		return -ENOMEM;
	}
	return 0;
}

/* Attach by pid. */
CGCTL_EXPORT int cgctl_attach(cgctl *c, const char *name, const pid_t *pids, size_t n)
{
	_cleanup_json_ json_object *p = NULL;
	json_object *a;
	int r;

	if (!c || !pids || n == 0 || n > ATTACH_MAX)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if (!(p = name_params(c, name, &r)))
		return r;
	for (size_t i = 0; i < n; i++)
		if (pids[i] <= 0)
			return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE), "not a pid");
	a = json_object_new_array_ext((int)n);
	if (!a || json_object_object_add(p, "pids", a) < 0) {
		json_object_put(a);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (json_object_array_add(a, json_object_new_int(pids[i])) < 0)
			return -ENOMEM;
	return libcgctl_transact(c, CGCTL_INTERFACE ".Attach", p, NULL, NULL);
}

/* Attach by pidfd: the descriptors ride with the call, "pidfds" counts them. */
CGCTL_EXPORT int cgctl_attach_pidfds(cgctl *c, const char *name, const int *pidfds, size_t n)
{
	_cleanup_json_ json_object *p = NULL;
	struct libcgctl_xfer x = { .fds = pidfds, .n_fds = n };
	int r;

	if (!c || !pidfds || n == 0 || n > LIBCGCTL_FDS_MAX)
		return libcgctl_bad_args(c, __func__);
	for (size_t i = 0; i < n; i++)
		if (pidfds[i] < 0)
			return libcgctl_set_error(c, -EBADF, cgerr_name(CGERR_INVALID_VALUE), "a pidfd is negative");
	libcgctl_clear_error(c);
	if (!(p = name_params(c, name, &r)))
		return r;
	if ((r = add_int(p, "pidfds", (int64_t)n)) < 0)
		return r;
	r = libcgctl_transact_ex(c, CGCTL_INTERFACE ".Attach", p, &x, NULL, NULL);
	xfer_done(&x);
	return r;
}

/* SetResources with an already built Resources object (taken). */
static int set_resources(cgctl *c, const char *name, json_object *res)
{
	_cleanup_json_ json_object *p = NULL, *owned = res;
	int r;

	if (!(p = name_params(c, name, &r)))
		return r;
	if (json_object_object_add(p, "resources", TAKE_PTR(owned)) < 0)
		return -ENOMEM;
	return libcgctl_transact(c, CGCTL_INTERFACE ".SetResources", p, NULL, NULL);
}

/* Typed limits. */
CGCTL_EXPORT int cgctl_set_resources(cgctl *c, const char *name, const struct cgctl_resources *r)
{
	json_object *res = NULL;
	int k;

	if (!c || !r)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if ((k = libcgctl_check_name(c, name)) < 0 || (k = libcgctl_resources_encode(c, r, &res)) < 0)
		return k;
	return set_resources(c, name, res);
}

/* Limits as JSON text. */
CGCTL_EXPORT int cgctl_set_resources_json(cgctl *c, const char *name, const char *json)
{
	json_object *res = NULL;
	int k;

	if (!c || !json)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if ((k = libcgctl_check_name(c, name)) < 0 || (k = libcgctl_resources_parse(c, json, &res)) < 0)
		return k;
	return set_resources(c, name, res);
}

/* GetStats: the reply's "stats" object (owned) in *ret. */
static int get_stats(cgctl *c, const char *name, json_object **ret)
{
	_cleanup_json_ json_object *p = NULL, *reply = NULL;
	json_object *st;
	int r;

	libcgctl_clear_error(c);
	if (!(p = name_params(c, name, &r)))
		return r;
	r = libcgctl_transact(c, CGCTL_INTERFACE ".GetStats", p, &reply, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(reply, "stats", &st) || !json_object_is_type(st, json_type_object))
		return -EPROTO;
	*ret = json_object_get(st);
	return 0;
}

/* Stats as JSON text. */
CGCTL_EXPORT int cgctl_get_stats(cgctl *c, const char *name, char **ret_json)
{
	_cleanup_json_ json_object *st = NULL;
	const char *s;
	char *d;
	int r;

	if (!c || !ret_json)
		return libcgctl_bad_args(c, __func__);
	if ((r = get_stats(c, name, &st)) < 0)
		return r;
	s = json_object_to_json_string_ext(st, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s || !(d = strdup(s)))
		return -ENOMEM;
	*ret_json = d;
	return 0;
}

/* A boolean member as 1/0, -EPROTO when absent or of another type. */
static int stats_bool(json_object *st, const char *key, int *ret)
{
	json_object *v;

	if (!json_object_object_get_ex(st, key, &v) || !json_object_is_type(v, json_type_boolean))
		return -EPROTO;
	*ret = json_object_get_boolean(v);
	return 0;
}

/* The "pids" array as a malloc'd pid_t array. */
static int stats_pids(json_object *st, pid_t **ret, size_t *ret_n)
{
	json_object *a, *v;
	pid_t *l;
	size_t n;
	int64_t p;

	if (!json_object_object_get_ex(st, "pids", &a) || !json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	l = calloc(n ? n : 1, sizeof(pid_t));
	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		v = json_object_array_get_idx(a, i);
		p = json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
		if (p <= 0 || p > INT32_MAX) {
			free(l);
			return -EPROTO;
		}
		l[i] = (pid_t)p;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* Typed summary of GetStats. */
CGCTL_EXPORT int cgctl_get_pids(cgctl *c, const char *name, int *ret_populated, int *ret_frozen,
				pid_t **ret_pids, size_t *ret_n_pids)
{
	_cleanup_json_ json_object *st = NULL;
	int populated, frozen, r;
	pid_t *pids = NULL;
	size_t n = 0;

	if (!c || (!ret_pids) != (!ret_n_pids))
		return libcgctl_bad_args(c, __func__);
	if ((r = get_stats(c, name, &st)) < 0)
		return r;
	if ((r = stats_bool(st, "populated", &populated)) < 0 ||
	    (r = stats_bool(st, "frozen", &frozen)) < 0 ||
	    (ret_pids && (r = stats_pids(st, &pids, &n)) < 0))
		return r;
	if (ret_populated)
		*ret_populated = populated;
	if (ret_frozen)
		*ret_frozen = frozen;
	if (ret_pids) {
		*ret_pids = pids;
		*ret_n_pids = n;
	}
	return 0;
}

/* A call on name with an optional timeout_ms (0: left out) the transport waits for too. */
static int waiting_call(cgctl *c, const char *method, const char *name, int timeout_ms,
			const char *int_key, int int_value)
{
	_cleanup_json_ json_object *p = NULL;
	struct libcgctl_xfer x = {};
	int r;

	if (!c || timeout_ms < 0)
		return libcgctl_bad_args(c, strcmp(method, CGCTL_INTERFACE ".Thaw") == 0 ? "cgctl_thaw" : "cgctl_freeze");
	libcgctl_clear_error(c);
	if (!(p = name_params(c, name, &r)))
		return r;
	if (timeout_ms > 0) {
		if ((r = add_int(p, "timeout_ms", timeout_ms)) < 0)
			return r;
		x.extra_ms = timeout_ms + WAIT_SLACK_MS;
	}
	if (int_key && (r = add_int(p, int_key, int_value)) < 0)
		return r;
	r = libcgctl_transact_ex(c, method, p, &x, NULL, NULL);
	xfer_done(&x);
	return r;
}

/* Freeze and wait for frozen 1. */
CGCTL_EXPORT int cgctl_freeze(cgctl *c, const char *name, int timeout_ms)
{
	return waiting_call(c, CGCTL_INTERFACE ".Freeze", name, timeout_ms, NULL, 0);
}

/* Thaw and wait for frozen 0. */
CGCTL_EXPORT int cgctl_thaw(cgctl *c, const char *name, int timeout_ms)
{
	return waiting_call(c, CGCTL_INTERFACE ".Thaw", name, timeout_ms, NULL, 0);
}

/* Signal every process; 0 means SIGKILL (the daemon's default, through cgroup.kill). */
CGCTL_EXPORT int cgctl_kill(cgctl *c, const char *name, int sig)
{
	if (sig < 0 || sig > SIGRTMAX)
		return libcgctl_bad_args(c, __func__);
	return waiting_call(c, CGCTL_INTERFACE ".Kill", name, 0, sig ? "signal" : NULL, sig);
}

/* Take the descriptor the reply's "fd" indexes, checking it is a directory. */
static int take_dir_fd(json_object *reply, struct libcgctl_xfer *x, int *ret_fd)
{
	struct stat st;
	json_object *v;
	int64_t i;
	int fd;

	if (!json_object_object_get_ex(reply, "fd", &v) || !json_object_is_type(v, json_type_int))
		return -EPROTO;
	i = json_object_get_int64(v);
	if (i < 0 || (uint64_t)i >= x->n_ret_fds)
		return -EPROTO;
	fd = x->ret_fds[i];
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
		return -EPROTO;
	x->ret_fds[i] = -1;
	*ret_fd = fd;
	return 0;
}

/* OpenCgroup: the directory fd (received close-on-exec). */
CGCTL_EXPORT int cgctl_open_cgroup(cgctl *c, const char *name, int *ret_fd)
{
	_cleanup_json_ json_object *p = NULL, *reply = NULL;
	struct libcgctl_xfer x = {};
	int r;

	if (!c || !ret_fd)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if (!(p = name_params(c, name, &r)))
		return r;
	r = libcgctl_transact_ex(c, CGCTL_INTERFACE ".OpenCgroup", p, &x, &reply, NULL);
	if (r >= 0)
		r = take_dir_fd(reply, &x, ret_fd);
	xfer_done(&x);
	return r;
}
