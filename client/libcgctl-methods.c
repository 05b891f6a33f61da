/* SPDX-License-Identifier: MIT */
/* libcgctl-methods.c: typed io.cgctl.Manager methods: parameters to JSON, replies to C structs. */

#include <errno.h>
#include <stddef.h>
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

/* Free a NULL-terminated string array; NULL-safe. */
static void strv_free(char **l)
{
	char **p;

	if (!l)
		return;
	for (p = l; *p; p++)
		free(*p);
	free(l);
}

/* Cleanup helper for a local string array. */
static void strv_freep(char ***l)
{
	strv_free(*l);
}

/*
 * Member key of o when it has type t: 0 with *ret (NULL when absent or null);
 * -EPROTO when it has another type, or is absent and required.
 */
static int member(json_object *o, const char *key, json_type t, bool required, json_object **ret)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, key, &v) || json_object_is_type(v, json_type_null)) {
		*ret = NULL;
		return required ? -EPROTO : 0;
	}
	if (!json_object_is_type(v, t))
		return -EPROTO;
	*ret = v;
	return 0;
}

/* Copy a string member (NULL when optional and absent). */
static int get_str(json_object *o, const char *key, bool required, char **ret)
{
	json_object *v;
	int r;

	r = member(o, key, json_type_string, required, &v);
	if (r < 0)
		return r;
	if (!v) {
		*ret = NULL;
		return 0;
	}
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : -ENOMEM;
}

/* A nullable boolean as 1, 0, or dflt when absent or null. */
static int get_bool(json_object *o, const char *key, int dflt, int *ret)
{
	json_object *v;
	int r;

	r = member(o, key, json_type_boolean, false, &v);
	if (r < 0)
		return r;
	*ret = v ? json_object_get_boolean(v) : dflt;
	return 0;
}

/* An integer member, 0 when absent or null. */
static int get_i64(json_object *o, const char *key, int64_t *ret)
{
	json_object *v;
	int r;

	r = member(o, key, json_type_int, false, &v);
	if (r < 0)
		return r;
	*ret = v ? json_object_get_int64(v) : 0;
	return 0;
}

/* A non-negative integer member, 0 when absent or null; -EPROTO when negative. */
static int get_u64(json_object *o, const char *key, uint64_t *ret)
{
	int64_t v;
	int r;

	r = get_i64(o, key, &v);
	if (r < 0)
		return r;
	if (v < 0)
		return -EPROTO;
	*ret = (uint64_t)v;
	return 0;
}

/* A uid member: 0..2^32-2, -1 when absent or null; -EPROTO otherwise. */
static int get_uid(json_object *o, const char *key, int64_t *ret)
{
	json_object *v;
	int64_t u;
	int r;

	r = member(o, key, json_type_int, false, &v);
	if (r < 0)
		return r;
	u = v ? json_object_get_int64(v) : -1;
	if (v && (u < 0 || u >= (int64_t)UINT32_MAX))
		return -EPROTO;
	*ret = u;
	return 0;
}

/* An array of strings as a NULL-terminated array (empty when absent). */
static int get_strv(json_object *o, const char *key, char ***ret)
{
	_cleanup_(strv_freep) char **l = NULL;
	json_object *a, *s;
	size_t i, n;
	int r;

	r = member(o, key, json_type_array, false, &a);
	if (r < 0)
		return r;
	n = a ? json_object_array_length(a) : 0;
	l = calloc(n + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		s = json_object_array_get_idx(a, i);
		if (!json_object_is_type(s, json_type_string))
			return -EPROTO;
		l[i] = strdup(json_object_get_string(s));
		if (!l[i])
			return -ENOMEM;
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* A string map as a NULL-terminated array of "key=value" (empty when absent). */
static int get_labels(json_object *o, const char *key, char ***ret)
{
	_cleanup_(strv_freep) char **l = NULL;
	json_object *m;
	size_t i = 0;
	int r;

	r = member(o, key, json_type_object, false, &m);
	if (r < 0)
		return r;
	l = calloc((m ? (size_t)json_object_object_length(m) : 0) + 1, sizeof(char *));
	if (!l)
		return -ENOMEM;
	if (m) {
		json_object_object_foreach(m, k, v) {
			if (!json_object_is_type(v, json_type_string))
				return -EPROTO;
			if (asprintf(&l[i], "%s=%s", k, json_object_get_string(v)) < 0) {
				l[i] = NULL;
				return -ENOMEM;
			}
			i++;
		}
	}
	*ret = TAKE_PTR(l);
	return 0;
}

/* Free what an entry holds, leaving it zeroed. */
static void entry_clear(struct cgctl_entry *e)
{
	free(e->name);
	free(e->path);
	free(e->state);
	strv_free(e->labels);
	memset(e, 0, sizeof(*e));
}

/* Decode an Entry object; on failure *e holds nothing. */
static int entry_decode(json_object *o, struct cgctl_entry *e)
{
	int r;

	memset(e, 0, sizeof(*e));
	e->size = sizeof(*e);
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	if ((r = get_str(o, "name", true, &e->name)) < 0 ||
	    (r = get_str(o, "path", true, &e->path)) < 0 ||
	    (r = get_str(o, "state", true, &e->state)) < 0 ||
	    (r = get_bool(o, "generated", 0, &e->generated)) < 0 ||
	    (r = get_bool(o, "populated", -1, &e->populated)) < 0 ||
	    (r = get_bool(o, "frozen", -1, &e->frozen)) < 0 ||
	    (r = get_u64(o, "created", &e->created_usec)) < 0 ||
	    (r = get_bool(o, "delegate", 0, &e->delegate)) < 0 ||
	    (r = get_bool(o, "auto_remove", 0, &e->auto_remove)) < 0 ||
	    (r = get_bool(o, "lease", 0, &e->lease)) < 0 ||
	    (r = get_uid(o, "owner", &e->owner)) < 0 ||
	    (r = get_labels(o, "labels", &e->labels)) < 0) {
		entry_clear(e);
		return r;
	}
	return 0;
}

/* Free one entry. */
CGCTL_EXPORT void cgctl_entry_free(struct cgctl_entry *e)
{
	if (!e)
		return;
	entry_clear(e);
	free(e);
}

/* Free the entries of an array, then the array. */
CGCTL_EXPORT void cgctl_entries_free(struct cgctl_entry **entries, size_t n)
{
	if (!entries)
		return;
	for (size_t i = 0; i < n; i++)
		cgctl_entry_free(entries[i]);
	free(entries);
}

/* Free a status. */
CGCTL_EXPORT void cgctl_status_free(struct cgctl_status *s)
{
	if (!s)
		return;
	free(s->version);
	free(s->reason);
	free(s->cgroup_mount);
	free(s->managed_root);
	free(s->leaf);
	strv_free(s->controllers);
	free(s->socket);
	free(s->ledger_path);
	strv_free(s->reconcile_dropped);
	strv_free(s->reconcile_rolled_back);
	strv_free(s->reconcile_resumed);
	strv_free(s->reconcile_unknown);
	free(s->ledger_mode);
	strv_free(s->ledger_damage);
	free(s);
}

/* Cleanup helper for a local status. */
static void status_freep(struct cgctl_status **s)
{
	cgctl_status_free(*s);
}

/* One LedgerDamage object as a line of text. */
static int damage_line(json_object *d, char **ret)
{
	json_object *file = NULL, *kept = NULL, *lost = NULL;
	int64_t off = 0;
	int r;

	if (!json_object_is_type(d, json_type_object))
		return -EPROTO;
	if ((r = member(d, "file", json_type_string, true, &file)) < 0 || (r = get_i64(d, "offset", &off)) < 0 ||
	    (r = member(d, "kept", json_type_string, false, &kept)) < 0 ||
	    (r = member(d, "lost", json_type_string, true, &lost)) < 0)
		return r;
	if (asprintf(ret, "%s: damaged at byte %lld%s%s; lost: %s", json_object_get_string(file), (long long)off,
		     kept ? ", kept as " : "", kept ? json_object_get_string(kept) : "",
		     json_object_get_string(lost)) < 0)
		return -ENOMEM;
	return 0;
}

/* Decode LedgerRecovery (absent: mode NULL, no damage). */
static int recovery_decode(json_object *l, struct cgctl_status *s)
{
	json_object *rec = NULL, *a = NULL;
	size_t n;
	int r;

	if ((r = member(l, "recovery", json_type_object, false, &rec)) < 0 || !rec)
		return r;
	if ((r = get_str(rec, "mode", false, &s->ledger_mode)) < 0 ||
	    (r = member(rec, "damage", json_type_array, false, &a)) < 0)
		return r;
	n = a ? json_object_array_length(a) : 0;
	s->ledger_damage = calloc(n + 1, sizeof(char *));
	if (!s->ledger_damage)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		if ((r = damage_line(json_object_array_get_idx(a, i), &s->ledger_damage[i])) < 0)
			return r;
	return 0;
}

/* Decode the LedgerStatus object (absent: all zero, lists empty). */
static int ledger_decode(json_object *o, struct cgctl_status *s)
{
	json_object *l = NULL, *rec = NULL;
	int r;

	if ((r = member(o, "ledger", json_type_object, false, &l)) < 0)
		return r;
	if (l && ((r = get_str(l, "path", false, &s->ledger_path)) < 0 ||
		  (r = get_i64(l, "format_version", &s->ledger_format_version)) < 0 ||
		  (r = get_u64(l, "entries", &s->ledger_entries)) < 0 ||
		  (r = get_u64(l, "journal_bytes", &s->journal_bytes)) < 0 ||
		  (r = get_u64(l, "journal_records", &s->journal_records)) < 0 ||
		  (r = get_u64(l, "compactions", &s->compactions)) < 0 ||
		  (r = get_u64(l, "last_compaction", &s->last_compaction_usec)) < 0 ||
		  (r = get_u64(l, "dropped_records", &s->journal_dropped_records)) < 0 ||
		  (r = member(l, "reconcile", json_type_object, false, &rec)) < 0))
		return r;
	/* get_strv() on a NULL object yields an empty list, so a missing report reads as "nothing found". */
	if ((r = get_strv(rec, "dropped", &s->reconcile_dropped)) < 0 ||
	    (r = get_strv(rec, "rolled_back", &s->reconcile_rolled_back)) < 0 ||
	    (r = get_strv(rec, "resumed", &s->reconcile_resumed)) < 0 ||
	    (r = get_strv(rec, "unknown", &s->reconcile_unknown)) < 0)
		return r;
	return l ? recovery_decode(l, s) : 0;
}

/* Decode a Status object into a new struct. */
static int status_decode(json_object *o, struct cgctl_status **ret)
{
	_cleanup_(status_freep) struct cgctl_status *s = NULL;
	int r;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->size = sizeof(*s);
	if ((r = get_str(o, "version", true, &s->version)) < 0 ||
	    (r = get_bool(o, "delegated", 0, &s->delegated)) < 0 ||
	    (r = get_str(o, "reason", false, &s->reason)) < 0 ||
	    (r = get_str(o, "cgroup_mount", false, &s->cgroup_mount)) < 0 ||
	    (r = get_str(o, "managed_root", false, &s->managed_root)) < 0 ||
	    (r = get_str(o, "leaf", false, &s->leaf)) < 0 ||
	    (r = get_strv(o, "controllers", &s->controllers)) < 0 ||
	    (r = get_i64(o, "pid", &s->pid)) < 0 ||
	    (r = get_i64(o, "uid", &s->uid)) < 0 ||
	    (r = get_str(o, "socket", false, &s->socket)) < 0 ||
	    (r = ledger_decode(o, s)) < 0)
		return r;
	*ret = TAKE_PTR(s);
	return 0;
}

/* Daemon state. */
CGCTL_EXPORT int cgctl_get_status(cgctl *c, struct cgctl_status **ret)
{
	_cleanup_json_ json_object *reply = NULL;
	json_object *st;
	int r;

	if (!c || !ret)
		return libcgctl_bad_args(c, __func__);
	r = libcgctl_transact(c, CGCTL_INTERFACE ".GetStatus", NULL, &reply, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(reply, "status", &st))
		return -EPROTO;
	return status_decode(st, ret);
}

/* Decode an array of Entry objects. */
int libcgctl_entries_decode(json_object *a, struct cgctl_entry ***ret, size_t *ret_n)
{
	struct cgctl_entry **l;
	size_t i, n;
	int r;

	if (!json_object_is_type(a, json_type_array))
		return -EPROTO;
	n = json_object_array_length(a);
	l = calloc(n + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		l[i] = malloc(sizeof(*l[i]));
		r = l[i] ? entry_decode(json_object_array_get_idx(a, i), l[i]) : -ENOMEM;
		if (r < 0) {
			free(l[i]);
			cgctl_entries_free(l, i);
			return r;
		}
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* Where List's reply decoded from its text goes. */
struct list_out {
	struct cgctl_entry **entries;
	size_t n;
};

/* libcgctl_text_fn for List: entries straight from the reply's text. */
static int list_text_cb(const char *msg, size_t len, void *userdata)
{
	struct list_out *o = userdata;

	return libcgctl_entries_parse(msg, len, &o->entries, &o->n);
}

/* Managed cgroups, all or below name. */
CGCTL_EXPORT int cgctl_list(cgctl *c, const char *name, struct cgctl_entry ***ret, size_t *ret_n)
{
	_cleanup_json_ json_object *params = NULL, *reply = NULL;
	struct list_out out = { 0 };
	json_object *a;
	int r;

	if (!c || !ret || !ret_n)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	params = json_object_new_object();
	if (!params)
		return -ENOMEM;
	if (name) {
		r = libcgctl_check_name(c, name);
		if (r < 0)
			return r;
		if (json_object_object_add(params, "name", json_object_new_string(name)) < 0)
			return -ENOMEM;
	}
	r = libcgctl_transact_text(c, CGCTL_INTERFACE ".List", params, list_text_cb, &out, &reply);
	if (r < 0)
		return r;
	if (!reply) {
		*ret = out.entries;
		*ret_n = out.n;
		return 0;
	}
	/* Anything the text decoder left (an unusual but valid reply) is json-c's. */
	if (!json_object_object_get_ex(reply, "entries", &a))
		return -EPROTO;
	return libcgctl_entries_decode(a, ret, ret_n);
}

/* Add key: true to o. */
static int add_true(json_object *o, const char *key)
{
	return json_object_object_add(o, key, json_object_new_boolean(1)) < 0 ? -ENOMEM : 0;
}

/* Add key: string to o. */
static int add_str(json_object *o, const char *key, const char *s)
{
	json_object *v = json_object_new_string(s);

	if (!v || json_object_object_add(o, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Remove a cgroup. */
CGCTL_EXPORT int cgctl_destroy(cgctl *c, const char *name, unsigned flags, int *ret_existed)
{
	_cleanup_json_ json_object *params = NULL, *reply = NULL;
	json_object *v;
	int r;

	if (!c || (flags & ~(CGCTL_DESTROY_RECURSIVE | CGCTL_DESTROY_KILL)))
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	r = libcgctl_check_name(c, name);
	if (r < 0)
		return r;
	params = json_object_new_object();
	if (!params)
		return -ENOMEM;
	if ((r = add_str(params, "name", name)) < 0 ||
	    ((flags & CGCTL_DESTROY_RECURSIVE) && (r = add_true(params, "recursive")) < 0) ||
	    ((flags & CGCTL_DESTROY_KILL) && (r = add_true(params, "kill")) < 0))
		return r;
	r = libcgctl_transact(c, CGCTL_INTERFACE ".Destroy", params, &reply, NULL);
	if (r < 0)
		return r;
	r = member(reply, "existed", json_type_boolean, true, &v);
	if (r < 0)
		return r;
	if (ret_existed)
		*ret_existed = json_object_get_boolean(v);
	return 0;
}

/* Whether the caller's opts (of size opts->size) reach field f. */
#define OPTS_HAVE(o, f) \
	((o)->size >= offsetof(struct cgctl_create_opts, f) + sizeof((o)->f))

/* "key=value" strings as a Varlink string map; InvalidValue for a malformed one. */
static int labels_encode(cgctl *c, const char *const *labels, json_object **ret)
{
	_cleanup_json_ json_object *m = json_object_new_object();
	const char *eq;

	if (!m)
		return -ENOMEM;
	for (; *labels; labels++) {
		eq = strchr(*labels, '=');
		if (!eq || eq == *labels)
			return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE),
						  "label is not KEY=VALUE");
		_cleanup_free_ char *k = strndup(*labels, (size_t)(eq - *labels));
		if (!k || add_str(m, k, eq + 1) < 0)
			return -ENOMEM;
	}
	*ret = TAKE_PTR(m);
	return 0;
}

/* Add Create's resources from opts: JSON text or typed, not both. */
static int create_resources_encode(cgctl *c, const struct cgctl_create_opts *o, json_object *params)
{
	const char *text = OPTS_HAVE(o, resources_json) ? o->resources_json : NULL;
	const struct cgctl_resources *res = OPTS_HAVE(o, resources) ? o->resources : NULL;
	json_object *v = NULL;
	int r;

	if (text && res)
		return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE),
					  "give resources as JSON or typed, not both");
	if (text)
		r = libcgctl_resources_parse(c, text, &v);
	else if (res)
		r = libcgctl_resources_encode(c, res, &v);
	else
		return 0;
	if (r < 0)
		return r;
	if (json_object_object_add(params, "resources", v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

/* Add the optional members of Create from opts. */
static int create_opts_encode(cgctl *c, const struct cgctl_create_opts *o, json_object *params)
{
	json_object *v = NULL;
	int r;

	if (o->size < sizeof(o->size))
		return libcgctl_bad_args(c, "cgctl_create");
	if ((OPTS_HAVE(o, generate) && o->generate && (r = add_true(params, "generate")) < 0) ||
	    (OPTS_HAVE(o, delegate) && o->delegate && (r = add_true(params, "delegate")) < 0) ||
	    (OPTS_HAVE(o, auto_remove) && o->auto_remove && (r = add_true(params, "auto_remove")) < 0) ||
	    (OPTS_HAVE(o, lease) && o->lease && (r = add_true(params, "lease")) < 0))
		return r;
	if (OPTS_HAVE(o, prefix) && o->prefix) {
		if ((r = libcgctl_check_new_name(c, o->prefix)) < 0 ||
		    (r = add_str(params, "prefix", o->prefix)) < 0)
			return r;
	}
	if (OPTS_HAVE(o, labels) && o->labels) {
		if ((r = labels_encode(c, o->labels, &v)) < 0)
			return r;
		if (json_object_object_add(params, "labels", v) < 0) {
			json_object_put(v);
			return -ENOMEM;
		}
	}
	return create_resources_encode(c, o, params);
}

/* Create a cgroup. */
CGCTL_EXPORT int cgctl_create(cgctl *c, const char *name, const struct cgctl_create_opts *opts,
			      struct cgctl_entry **ret_entry)
{
	_cleanup_json_ json_object *params = NULL, *reply = NULL;
	struct cgctl_entry *e;
	json_object *v;
	int r;

	if (!c)
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	params = json_object_new_object();
	if (!params)
		return -ENOMEM;
	if (name && ((r = libcgctl_check_new_name(c, name)) < 0 || (r = add_str(params, "name", name)) < 0))
		return r;
	if (opts && (r = create_opts_encode(c, opts, params)) < 0)
		return r;
	r = libcgctl_transact(c, CGCTL_INTERFACE ".Create", params, &reply, NULL);
	if (r < 0)
		return r;
	if (!json_object_object_get_ex(reply, "entry", &v))
		return -EPROTO;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	r = entry_decode(v, e);
	if (r < 0) {
		free(e);
		return r;
	}
	if (ret_entry)
		*ret_entry = e;
	else
		cgctl_entry_free(e);
	return 0;
}
