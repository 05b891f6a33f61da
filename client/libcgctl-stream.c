/* SPDX-License-Identifier: MIT */
/* libcgctl-stream.c: streaming ("more") calls: the raw form and the typed Watch event stream. */

#include <errno.h>
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

/* Send a "more" call; the handle is busy with it until its final reply. */
static int stream_start(cgctl *c, const char *method, json_object *params)
{
	struct libcgctl_stream *s = libcgctl_stream_of(c);
	int r;

	libcgctl_clear_error(c);
	if (s->active || !libcgctl_idle(c))
		return -EBUSY;
	r = libcgctl_send(c, method, params, LIBCGCTL_CALL_MORE, NULL, 0, libcgctl_deadline(c));
	if (r < 0)
		return r;
	s->active = true;
	s->end = 0;
	return 0;
}

/*
 * Next reply of the stream, waiting until deadline: 1 with its parameters
 * (*ret_continues false for the final one), 0 when none came in time, or a
 * negative code: the daemon's error (name and message on the handle, its
 * parameters in *ret_error_params if wanted), a transport failure, or, once
 * the stream is over, what ended it (-ESHUTDOWN after a final reply).
 */
static int stream_next(cgctl *c, uint64_t deadline, json_object **ret_params, bool *ret_continues,
		       json_object **ret_error_params)
{
	_cleanup_(libcgctl_reply_done) struct libcgctl_reply rep = {};
	struct libcgctl_stream *s = libcgctl_stream_of(c);
	int r;

	if (!s->active && !s->end)
		return libcgctl_set_error(c, -EINVAL, cgerr_name(CGERR_INVALID_VALUE),
					  "no watch or streaming call on this connection");
	if (!s->active)
		return s->end;
	libcgctl_clear_error(c);
	r = libcgctl_recv_stream(c, deadline, &rep);
	if (r == -ETIMEDOUT)
		return 0;
	if (r < 0) {
		/* A reply lost to ENOMEM leaves the stream out of step as surely as a broken socket. */
		libcgctl_set_broken(c, r == -ENOMEM ? -EIO : r);
		s->end = -ENOTCONN;
		return r;
	}
	if (rep.vl.error) {
		s->active = false;
		s->end = libcgctl_reply_error(c, &rep);
		if (ret_error_params)
			*ret_error_params = json_object_get(rep.vl.parameters);
		return s->end;
	}
	if (!rep.vl.continues) {
		s->active = false;
		s->end = -ESHUTDOWN;
	}
	*ret_params = json_object_get(rep.vl.parameters);
	*ret_continues = rep.vl.continues;
	return 1;
}

/* Start a raw streaming call. */
CGCTL_EXPORT int cgctl_call_more(cgctl *c, const char *method, const char *params_json)
{
	_cleanup_json_ json_object *params = NULL;
	_cleanup_free_ char *full = NULL;
	int r;

	if (!c || !method || !method[0])
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	r = libcgctl_call_prepare(c, method, params_json, &full, &params);
	if (r < 0)
		return r;
	return stream_start(c, full, params);
}

/* Next reply of a raw streaming call, as JSON text. */
CGCTL_EXPORT int cgctl_call_more_next(cgctl *c, int timeout_ms, char **ret_reply_json, int *ret_continues)
{
	_cleanup_json_ json_object *params = NULL, *err = NULL;
	bool continues = false;
	int r, k;

	if (!c || !ret_reply_json)
		return libcgctl_bad_args(c, __func__);
	r = stream_next(c, libcgctl_deadline_in(timeout_ms), &params, &continues, &err);
	if (r < 0 && err) {
		k = libcgctl_json_text(err, ret_reply_json);
		return k < 0 ? k : r;
	}
	if (r <= 0)
		return r;
	k = libcgctl_json_text(params, ret_reply_json);
	if (k < 0)
		return k;
	if (ret_continues)
		*ret_continues = continues;
	return 1;
}

CGCTL_EXPORT void cgctl_event_free(struct cgctl_event *e)
{
	if (!e)
		return;
	free(e->type);
	free(e->name);
	free(e->details_json);
	free(e);
}

/* Cleanup helper for a local event. */
static void event_freep(struct cgctl_event **e)
{
	cgctl_event_free(*e);
}

/* Copy the string member key of o; -EPROTO when it is missing or not a string. */
static int event_str(json_object *o, const char *key, char **ret)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return -EPROTO;
	*ret = strdup(json_object_get_string(v));
	return *ret ? 0 : -ENOMEM;
}

/* Decode the "event" member of a Watch reply. */
static int event_decode(json_object *params, struct cgctl_event **ret)
{
	_cleanup_(event_freep) struct cgctl_event *e = NULL;
	json_object *o, *v;
	int r;

	if (!json_object_object_get_ex(params, "event", &o) || !json_object_is_type(o, json_type_object))
		return -EPROTO;
	e = calloc(1, sizeof(*e));
	if (e)
		e->size = sizeof(*e);
	if (!e)
		return -ENOMEM;
	if ((r = event_str(o, "type", &e->type)) < 0 || (r = event_str(o, "name", &e->name)) < 0)
		return r;
	if (json_object_object_get_ex(o, "timestamp", &v) && !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
			return -EPROTO;
		e->timestamp_usec = (uint64_t)json_object_get_int64(v);
	}
	if (json_object_object_get_ex(o, "details", &v) && !json_object_is_type(v, json_type_null) &&
	    (r = libcgctl_json_text(v, &e->details_json)) < 0)
		return r;
	*ret = TAKE_PTR(e);
	return 0;
}

/* One PressureTrigger object; -EINVAL with InvalidValue on the handle for what cannot be one. */
static int trigger_json(cgctl *c, const struct cgctl_pressure_trigger *t, json_object **ret)
{
	_cleanup_json_ json_object *o = NULL;
	int r;

	if (!t->name || !t->resource || !t->kind || t->stall_usec > INT64_MAX || t->window_usec > INT64_MAX)
		return libcgctl_set_error(c, -EINVAL, "io.cgctl.Manager.InvalidValue",
					  "a pressure trigger needs a name, a resource, a kind and times");
	if ((r = libcgctl_check_name(c, t->name)) < 0)
		return r;
	if (!(o = json_object_new_object()) ||
	    json_object_object_add(o, "name", json_object_new_string(t->name)) < 0 ||
	    json_object_object_add(o, "resource", json_object_new_string(t->resource)) < 0 ||
	    json_object_object_add(o, "kind", json_object_new_string(t->kind)) < 0 ||
	    json_object_object_add(o, "stall_us", json_object_new_int64((int64_t)t->stall_usec)) < 0 ||
	    json_object_object_add(o, "window_us", json_object_new_int64((int64_t)t->window_usec)) < 0)
		return -ENOMEM;
	*ret = TAKE_PTR(o);
	return 0;
}

/* Add {"pressure": [...]} to Watch's parameters; the caller's structs are t[0].size bytes apart. */
static int watch_params_pressure(cgctl *c, const struct cgctl_pressure_trigger *t, size_t n, json_object *p)
{
	_cleanup_json_ json_object *a = json_object_new_array();
	size_t stride = t[0].size;
	int r;

	if (!a)
		return -ENOMEM;
	/* Every field of the first version must be there. */
	if (stride < offsetof(struct cgctl_pressure_trigger, window_usec) + sizeof(t->window_usec))
		return libcgctl_set_error(c, -EINVAL, "io.cgctl.Manager.InvalidValue",
					  "struct cgctl_pressure_trigger: size not set");
	for (size_t i = 0; i < n; i++) {
		struct cgctl_pressure_trigger one = { 0 };
		json_object *o = NULL;

		memcpy(&one, (const char *)t + i * stride, stride < sizeof(one) ? stride : sizeof(one));
		if ((r = trigger_json(c, &one, &o)) < 0)
			return r;
		if (json_object_array_add(a, o) < 0) {
			json_object_put(o);
			return -ENOMEM;
		}
	}
	return json_object_object_add(p, "pressure", TAKE_PTR(a)) < 0 ? -ENOMEM : 0;
}

/* Send Watch with params and wait for its "watching" reply. */
static int watch_start(cgctl *c, json_object *params)
{
	_cleanup_json_ json_object *first = NULL;
	_cleanup_(event_freep) struct cgctl_event *e = NULL;
	bool continues = false;
	int r;

	if ((r = stream_start(c, CGCTL_INTERFACE ".Watch", params)) < 0)
		return r;
	r = stream_next(c, libcgctl_deadline(c), &first, &continues, NULL);
	if (r == 0) /* never confirmed: its replies may still come, out of step with anything else */
		return libcgctl_set_broken(c, -ETIMEDOUT);
	if (r < 0) {
		libcgctl_stream_of(c)->end = 0; /* refused: there is no watch to read on */
		return r;
	}
	r = event_decode(first, &e);
	if (r >= 0 && (strcmp(e->type, "watching") != 0 || !continues))
		r = -EPROTO;
	if (r < 0 && continues)
		libcgctl_set_broken(c, -EPROTO); /* a stream in an unknown state: give the connection up */
	return r < 0 ? r : 0;
}

/* Start watching; returns once the daemon confirmed the watch with its "watching" reply. */
CGCTL_EXPORT int cgctl_watch(cgctl *c, const char *const *names)
{
	return cgctl_watch_pressure(c, names, NULL, 0);
}

/* Start watching, with PSI triggers armed for this stream. */
CGCTL_EXPORT int cgctl_watch_pressure(cgctl *c, const char *const *names,
				      const struct cgctl_pressure_trigger *triggers, size_t n)
{
	_cleanup_json_ json_object *params = NULL;
	int r;

	if (!c || (n > 0 && !triggers))
		return libcgctl_bad_args(c, __func__);
	libcgctl_clear_error(c);
	if ((r = libcgctl_names_params(c, names, &params)) < 0)
		return r;
	if (n > 0 && (r = watch_params_pressure(c, triggers, n, params)) < 0)
		return r;
	return watch_start(c, params);
}

/* Next event of the watch. */
CGCTL_EXPORT int cgctl_watch_next(cgctl *c, int timeout_ms, struct cgctl_event **ret)
{
	_cleanup_json_ json_object *params = NULL;
	bool continues = false;
	json_object *v;
	int r;

	if (!c || !ret)
		return libcgctl_bad_args(c, __func__);
	r = stream_next(c, libcgctl_deadline_in(timeout_ms), &params, &continues, NULL);
	if (r <= 0)
		return r;
	/* A final reply needs no event; anything else without one is not a Watch reply. */
	if (!continues && !json_object_object_get_ex(params, "event", &v))
		return libcgctl_stream_of(c)->end;
	/* A malformed event is lost, the stream stays in step: the caller may read on. */
	r = event_decode(params, ret);
	return r < 0 ? r : 1;
}

/* The socket to poll() for the next event. */
CGCTL_EXPORT int cgctl_watch_fd(const cgctl *c)
{
	return c ? libcgctl_fd(c) : -EINVAL;
}
