/* SPDX-License-Identifier: MIT */
/* dispatch.c: the one place every call goes through: method table, parameters, varlink service. */
#include "dispatch.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "cleanup.h"
#include "commit.h"
#include "jsonbuf.h"
#include "log.h"
#include "server.h"

/* The interface files, embedded by the build (scripts/embed.sh). */
extern const char vl_interface_description[];
extern const char vl_service_description[];

/* org.varlink.service.GetInfo */
static void method_get_info(struct call *call)
{
	static const struct param_spec specs[] = { PARAM_END };
	json_object *p, *ifs;

	if (!params_check(call, specs))
		return;
	p = json_object_new_object();
	ifs = json_object_new_array();

	json_object_object_add(p, "vendor", json_object_new_string("cgctl"));
	json_object_object_add(p, "product", json_object_new_string("cgctld"));
	json_object_object_add(p, "version", json_object_new_string(CGCTL_VERSION));
	json_object_object_add(p, "url", json_object_new_string("https://cgctl.invalid/"));
	json_object_array_add(ifs, json_object_new_string(VARLINK_SERVICE_INTERFACE));
	json_object_array_add(ifs, json_object_new_string(CGCTL_INTERFACE));
	json_object_object_add(p, "interfaces", ifs);
	call_reply(call, p);
}

/*
 * desc as a JSON string, escaped once for the daemon's lifetime: the
 * description is some 13 KiB, and escaping it for every call of a client
 * that pipelines them held the loop up for everyone else.
 */
static json_object *dispatch_description_json(const char *desc, json_object **cache)
{
	struct jsonbuf b = { 0 };

	if (!*cache) {
		jsonbuf_put_string(&b, desc, strlen(desc));
		*cache = jsonbuf_to_json(&b);
	}
	return *cache ? json_object_get(*cache) : json_object_new_string(desc);
}

/* org.varlink.service.GetInterfaceDescription */
static void method_get_interface_description(struct call *call)
{
	static const struct param_spec specs[] = { { "interface", json_type_string, true }, PARAM_END };
	static json_object *cached[2];
	const char *iface, *desc;
	json_object *p;

	if (!params_check(call, specs))
		return;
	iface = param_str(call, "interface");
	if (strcmp(iface, CGCTL_INTERFACE) == 0)
		desc = vl_interface_description;
	else if (strcmp(iface, VARLINK_SERVICE_INTERFACE) == 0)
		desc = vl_service_description;
	else {
		/* InterfaceNotFound declares interface and nothing else. */
		p = json_object_new_object();
		json_object_object_add(p, "interface", json_object_new_string(iface));
		call_error(call, CGERR_INTERFACE_NOT_FOUND, p);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "description",
			       dispatch_description_json(desc, &cached[desc == vl_interface_description ? 0 : 1]));
	call_reply(call, p);
}

static const struct method methods[] = {
	{ "org.varlink.service.GetInfo", method_get_info },
	{ "org.varlink.service.GetInterfaceDescription", method_get_interface_description },
	{ CGCTL_INTERFACE ".GetStatus", method_get_status },
	{ CGCTL_INTERFACE ".Create", method_create },
	{ CGCTL_INTERFACE ".Destroy", method_destroy },
	{ CGCTL_INTERFACE ".List", method_list },
	{ CGCTL_INTERFACE ".Attach", method_attach },
	{ CGCTL_INTERFACE ".SetResources", method_set_resources },
	{ CGCTL_INTERFACE ".GetStats", method_get_stats },
	{ CGCTL_INTERFACE ".Freeze", method_freeze },
	{ CGCTL_INTERFACE ".Thaw", method_thaw },
	{ CGCTL_INTERFACE ".Kill", method_kill },
	{ CGCTL_INTERFACE ".Watch", method_watch },
	{ CGCTL_INTERFACE ".OpenCgroup", method_open_cgroup },
	{ CGCTL_INTERFACE ".Snapshot", method_snapshot },
};

/* Is the interface part of a method name one we serve? */
static bool dispatch_known_interface(const char *method, size_t len)
{
	return (len == strlen(CGCTL_INTERFACE) && strncmp(method, CGCTL_INTERFACE, len) == 0) ||
	       (len == strlen(VARLINK_SERVICE_INTERFACE) && strncmp(method, VARLINK_SERVICE_INTERFACE, len) == 0);
}

static bool params_invalid(struct call *call, const char *name);

/* Route a call to its handler. */
void dispatch_call(struct call *call)
{
	const char *dot;
	size_t iface_len;
	json_object *p;

	/*
	 * "oneway" asks for no reply, "more" for a stream of them: a call with both
	 * cannot be served. It is not run (a oneway Watch would hold the connection
	 * forever) and gets no reply (the client reads none); the next call goes on.
	 */
	if (call_oneway(call) && call_more(call)) {
		log_notice("connection %llu: %s called with both \"oneway\" and \"more\": not run",
			   (unsigned long long)conn_id(call_conn(call)), call_method(call));
		call_reply(call, NULL);
		return;
	}
	/*
	 * "upgrade" asks to speak another protocol on the connection after the
	 * reply: no method of ours offers one, and a client that went on in its
	 * own would be read as broken Varlink. Refused; the connection stays Varlink.
	 */
	if (call_upgrade(call)) {
		params_invalid(call, "upgrade");
		return;
	}
	/* "sur\udcffx" must not become another name, nor {"name":"a","name":"b"} quietly "b". */
	if (call_bad_parameter(call)) {
		params_invalid(call, call_bad_parameter(call));
		return;
	}
	for (size_t i = 0; i < ELEMENTSOF(methods); i++) {
		if (strcmp(methods[i].name, call_method(call)) == 0) {
			log_debug("connection %llu: %s", (unsigned long long)conn_id(call_conn(call)), call_method(call));
			/* Only Attach takes descriptors: no other call (a Watch lives long) holds any. */
			if (methods[i].fn != method_attach)
				call_drop_fds(call);
			methods[i].fn(call);
			return;
		}
	}
	p = json_object_new_object();
	dot = strrchr(call_method(call), '.');
	iface_len = dot ? (size_t)(dot - call_method(call)) : 0;
	if (!dispatch_known_interface(call_method(call), iface_len)) {
		json_object_object_add(p, "interface", json_object_new_string_len(call_method(call), (int)iface_len));
		call_error(call, CGERR_INTERFACE_NOT_FOUND, p);
		return;
	}
	json_object_object_add(p, "method", json_object_new_string(call_method(call)));
	call_error(call, CGERR_METHOD_NOT_FOUND, p);
}

/* Answer InvalidParameter naming the parameter. */
static bool params_invalid(struct call *call, const char *name)
{
	json_object *p = json_object_new_object();

	json_object_object_add(p, "parameter", json_object_new_string(name));
	call_error(call, CGERR_INVALID_PARAMETER, p);
	return false;
}

/* Check call's parameters against specs. */
bool params_check(struct call *call, const struct param_spec *specs)
{
	json_object_object_foreach(call_parameters(call), key, val) {
		const struct param_spec *s;

		for (s = specs; s->name; s++)
			if (strcmp(s->name, key) == 0)
				break;
		if (!s->name)
			return params_invalid(call, key);
		if (val && !json_object_is_type(val, s->type))
			return params_invalid(call, key);
		/* "a\u0000b" must not quietly become "a". */
		if (val && s->type == json_type_string &&
		    strlen(json_object_get_string(val)) != (size_t)json_object_get_string_len(val))
			return params_invalid(call, key);
	}
	for (const struct param_spec *s = specs; s->name; s++)
		if (s->required && !json_object_object_get(call_parameters(call), s->name))
			return params_invalid(call, s->name);
	return true;
}

/* The parameter object itself (borrowed). */
json_object *param_obj(struct call *call, const char *name)
{
	return json_object_object_get(call_parameters(call), name);
}

/* Parameter as a string. */
const char *param_str(struct call *call, const char *name)
{
	json_object *v = param_obj(call, name);

	return v ? json_object_get_string(v) : NULL;
}

/* Parameter as a bool. */
bool param_bool(struct call *call, const char *name, bool def)
{
	json_object *v = param_obj(call, name);

	return v ? json_object_get_boolean(v) : def;
}

bool param_timeout(struct call *call, int *ret)
{
	json_object *t = param_obj(call, "timeout_ms");
	int64_t v = t ? json_object_get_int64(t) : 0;

	if (v < 0 || v > MANAGER_KILL_TIMEOUT_MAX_MS) {
		call_errorf(call, CGERR_INVALID_VALUE, "field", "timeout_ms", "timeout_ms must be between 0 and %d",
			    MANAGER_KILL_TIMEOUT_MAX_MS);
		return false;
	}
	*ret = v ? (int)v : MANAGER_KILL_TIMEOUT_MS;
	return true;
}

void call_op_error(struct call *call, const struct op_error *e)
{
	json_object *p = json_object_new_object();

	if (e->code == CGERR_SYSTEM_ERROR)
		json_object_object_add(p, "errno", json_object_new_int(e->errnum));
	else if (e->key)
		json_object_object_add(p, e->key, json_object_new_string(e->value));
	if (e->field[0] && (!e->key || strcmp(e->key, "field") != 0))
		json_object_object_add(p, "field", json_object_new_string(e->field));
	json_object_object_add(p, "message", json_object_new_string(e->message));
	call_error(call, e->code, p);
}

struct manager *call_manager(struct call *call)
{
	return call_app(call)->mgr;
}

/* A reply waiting for the group commit. */
struct durable_reply {
	struct call *call;
	json_object *params;
	call_undo_fn undo; /* on a failed sync, or NULL */
	void *undo_arg;
};

/* The sync that covers the call's records ended with r: its reply, or SystemError (what was undone first). */
static void durable_reply_cb(void *userdata, int r)
{
	struct durable_reply *d = userdata;

	if (r < 0) {
		json_object_put(d->params);
		call_error_errno(d->call, r, "ledger could not be made durable%s",
				 d->undo ? d->undo(d->call, d->undo_arg) : "");
	} else {
		call_reply(d->call, d->params);
	}
	free(d->undo_arg);
	free(d);
}

void call_reply_durable_undo(struct call *call, json_object *params, call_undo_fn undo, void *arg)
{
	struct durable_reply *d = calloc(1, sizeof(*d));

	if (d) {
		d->call = call;
		d->params = params;
		d->undo = undo;
		d->undo_arg = arg;
		if (commit_after_sync(call_app(call)->commit, durable_reply_cb, d) == 0)
			return;
		free(d);
	}
	json_object_put(params);
	call_error_errno(call, -ENOMEM, "ledger could not be made durable%s", undo ? undo(call, arg) : "");
	free(arg);
}

void call_reply_durable(struct call *call, json_object *params)
{
	call_reply_durable_undo(call, params, NULL, NULL);
}
