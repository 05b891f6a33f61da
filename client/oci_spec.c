/* SPDX-License-Identifier: MIT */
/* oci_spec.c: the runtime's JSON (state, config.json) parsed and read, and problems in it reported. */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "oci.h"

/* One JSON object, no NUL inside. */
int oci_spec_parse(const char *text, size_t len, json_object **ret)
{
	json_object *o;

	if (strlen(text) != len)
		return -EINVAL;
	o = json_tokener_parse(text);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return -EINVAL;
	}
	*ret = o;
	return 0;
}

/* String member key of o, or NULL. */
const char *oci_spec_str(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* Member key of o when it is an object, else NULL. */
json_object *oci_spec_obj(json_object *o, const char *key)
{
	json_object *v;

	if (!o || !json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_object))
		return NULL;
	return v;
}

/* Annotation key of config.json, else of the state. */
const char *oci_spec_annotation(json_object *config, json_object *state, const char *key)
{
	const char *v = oci_spec_str(oci_spec_obj(config, "annotations"), key);

	return v ? v : oci_spec_str(oci_spec_obj(state, "annotations"), key);
}

/* id, bundle, status and pid of the container state. */
int oci_spec_state(json_object *state, struct oci_state *st, const char **ret_error)
{
	json_object *v;

	*st = (struct oci_state){
		.id = oci_spec_str(state, "id"),
		.bundle = oci_spec_str(state, "bundle"),
		.status = oci_spec_str(state, "status"),
	};
	if (json_object_object_get_ex(state, "pid", &v) && json_object_is_type(v, json_type_int)) {
		int64_t pid = json_object_get_int64(v);

		if (pid > 0 && pid <= INT32_MAX)
			st->pid = (pid_t)pid;
	}
	if (!st->id || !st->id[0])
		*ret_error = "the container state has no \"id\"";
	else if (!st->bundle || st->bundle[0] != '/')
		*ret_error = "the container state has no absolute \"bundle\" path";
	else
		return 0;
	return -EINVAL;
}

/* Hand one message to log's callback. */
__attribute__((format(printf, 3, 0)))
static void oci_spec_vlog(const struct oci_log *log, const char *level, const char *fmt, va_list ap)
{
	if (log && log->log_cb)
		log->log_cb(log->userdata, level, fmt, ap);
}

/* A warning. */
void oci_spec_warn(const struct oci_log *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_spec_vlog(log, "warning", fmt, ap);
	va_end(ap);
}

/* An error; -EINVAL. */
int oci_spec_error(const struct oci_log *log, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	oci_spec_vlog(log, "error", fmt, ap);
	va_end(ap);
	return -EINVAL;
}
