/* SPDX-License-Identifier: MIT */
/* methods.c: handlers of io.cgctl.Manager's methods. */
#include "dispatch.h"

#include <errno.h>
#include <string.h>

#include "app.h"
#include "cleanup.h"
#include "commit.h"
#include "events.h"
#include "lease.h"
#include "log.h"
#include "server.h"
#include "tenant.h"
#include "watch.h"

/* What create_undo() undoes: the entry, by name and directory. */
struct create_made {
	uint64_t cgroup_id;
	char name[];
};

/* A Create's record, for create_undo(); NULL when out of memory (then nothing is undone). */
static struct create_made *create_undo_arg(const struct ledger_entry *le)
{
	size_t n = strlen(le->name) + 1;
	struct create_made *c = malloc(sizeof(*c) + n);

	if (c) {
		c->cgroup_id = le->cgroup_id;
		memcpy(c->name, le->name, n);
	}
	return c;
}

/* A Create could not be made durable: take the cgroup away again, so that its error is the truth. */
static const char *create_undo(struct call *call, void *arg)
{
	struct create_made *c = arg;

	if (!c || manager_create_undo(call_manager(call), c->name, c->cgroup_id) < 0)
		return "";
	return " (the cgroup was removed again)";
}

/* A tenant's view: its own figures (quota_status_view()); the reconcile report names anybody's entries, so it is empty. */
static void status_tenant_view(struct manager *m, uid_t uid, json_object *st)
{
	static const char *const lists[] = { "dropped", "rolled_back", "resumed", "unknown" };
	json_object *ledger, *rec;

	if (!json_object_object_get_ex(st, "ledger", &ledger) || !json_object_object_get_ex(ledger, "reconcile", &rec))
		return;
	quota_status_view(m, uid, ledger);
	for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++)
		json_object_object_add(rec, lists[i], json_object_new_array());
}

/* What the caller's uid holds of its reply budget (its connections' unread replies). */
static json_object *status_replies(struct call *call)
{
	json_object *o = json_object_new_object();
	struct server_reply_use u;

	server_reply_use(call_server(call), call_peer_uid(call), &u);
	json_object_object_add(o, "unread_bytes", json_object_new_int64((int64_t)u.unread));
	json_object_object_add(o, "budget_bytes", json_object_new_int64((int64_t)u.budget));
	json_object_object_add(o, "times_over", json_object_new_int64((int64_t)u.over));
	return o;
}

/* GetStatus() -> (status) */
void method_get_status(struct call *call)
{
	static const struct param_spec specs[] = { PARAM_END };
	const char *sock = server_socket_path(call_server(call));
	json_object *st, *p;

	if (!params_check(call, specs))
		return;
	st = manager_status(call_manager(call));
	if (!tenant_is_admin(call_peer_uid(call)))
		status_tenant_view(call_manager(call), call_peer_uid(call), st);
	json_object_object_add(st, "socket", json_object_new_string(sock ? sock : "(socket activation)"));
	json_object_object_add(st, "replies", status_replies(call));
	p = json_object_new_object();
	json_object_object_add(p, "status", st);
	call_reply(call, p);
}

/* Labels: at most 64 names (not empty, no "=") to strings of at most 4096 bytes, without NULs. */
static bool create_labels_ok(json_object *labels)
{
	if (!labels)
		return true;
	if (json_object_object_length(labels) > 64)
		return false;
	json_object_object_foreach(labels, k, v) {
		size_t len;

		/* libcgctl hands labels over as "key=value": a key must be one and only one word. */
		if (!json_object_is_type(v, json_type_string) || !k[0] || strlen(k) > 256 || strchr(k, '='))
			return false;
		/* The byte count, not strlen: a NUL would hide the rest from the limit. */
		len = (size_t)json_object_get_string_len(v);
		if (len > 4096 || strlen(json_object_get_string(v)) != len)
			return false;
	}
	return true;
}

/* Create(name?, generate?, prefix?, resources?, delegate?, auto_remove?, lease?, labels?) -> (entry) */
void method_create(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, false },     { "generate", json_type_boolean, false },
		{ "prefix", json_type_string, false },   { "resources", json_type_object, false },
		{ "delegate", json_type_boolean, false }, { "auto_remove", json_type_boolean, false },
		{ "lease", json_type_boolean, false },   { "labels", json_type_object, false },
		PARAM_END,
	};
	struct manager *m = call_manager(call);
	struct create_request req = { 0 };
	struct ledger_entry *le = NULL;
	struct op_error e;
	json_object *p;

	if (!params_check(call, specs))
		return;
	req.name = param_bool(call, "generate", false) ? NULL : param_str(call, "name");
	req.prefix = param_str(call, "prefix");
	req.delegate = param_bool(call, "delegate", false);
	req.auto_remove = param_bool(call, "auto_remove", false);
	req.lease = param_bool(call, "lease", false);
	req.labels = param_obj(call, "labels");
	if (!create_labels_ok(req.labels)) {
		call_errorf(call, CGERR_INVALID_VALUE, "field", "labels",
			    "labels must map up to 64 names (not empty, without \"=\") to strings");
		return;
	}
	req.resources = param_obj(call, "resources");
	req.owner = call_peer_uid(call);
	if (manager_create(m, &req, &le, &e) < 0) {
		call_op_error(call, &e);
		return;
	}
	if (req.lease && lease_take(call_app(call), le, call_conn(call)) < 0)
		log_warnx("%s: could not record its lease", le->name);
	p = json_object_new_object();
	json_object_object_add(p, "entry", manager_entry_to_json(m, le));
	call_reply_durable_undo(call, p, create_undo, create_undo_arg(le));
}

/* A destroy ended: answer, durably when anything was removed. */
static void destroy_done_cb(void *arg, int r, bool existed, json_object *removed, const struct op_error *e)
{
	struct call *call = arg;
	json_object *p;

	if (r < 0) {
		if (removed && json_object_array_length(removed) > 0)
			commit_later(call_app(call)->commit);
		call_op_error(call, e);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "name", json_object_new_string(param_str(call, "name")));
	json_object_object_add(p, "existed", json_object_new_boolean(existed));
	json_object_object_add(p, "removed", json_object_get(removed));
	if (existed)
		call_reply_durable(call, p);
	else
		call_reply(call, p);
}

/* Destroy(name, recursive?, kill?, timeout_ms?) -> (name, existed, removed) */
void method_destroy(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "name", json_type_string, true },     { "recursive", json_type_boolean, false },
		{ "kill", json_type_boolean, false },   { "timeout_ms", json_type_int, false },
		PARAM_END,
	};
	struct destroy_request req = { 0 };

	if (!params_check(call, specs))
		return;
	req.name = param_str(call, "name");
	req.recursive = param_bool(call, "recursive", false);
	req.kill = param_bool(call, "kill", false);
	req.caller = call_peer_uid(call);
	if (!param_timeout(call, &req.timeout_ms))
		return;
	manager_destroy(call_manager(call), &req, destroy_done_cb, call);
}

/* List(name?) -> (entries) */
void method_list(struct call *call)
{
	static const struct param_spec specs[] = { { "name", json_type_string, false }, PARAM_END };
	json_object *arr, *p;
	struct op_error e;

	if (!params_check(call, specs))
		return;
	if (manager_list(call_manager(call), call_peer_uid(call), param_str(call, "name"), &arr, &e) < 0) {
		call_op_error(call, &e);
		return;
	}
	p = json_object_new_object();
	json_object_object_add(p, "entries", arr);
	call_reply(call, p);
}

/* Watch(names?, pressure?) -> (event), streamed while the connection lives. */
void method_watch(struct call *call)
{
	static const struct param_spec specs[] = {
		{ "names", json_type_array, false }, { "pressure", json_type_array, false }, PARAM_END,
	};
	struct op_error e;

	if (!params_check(call, specs))
		return;
	/* A stream needs "more"; org.varlink.service says so with ExpectedMore(), no parameters. */
	if (!call_more(call)) {
		call_error(call, CGERR_EXPECTED_MORE, NULL);
		return;
	}
	if (watch_add(call_app(call), call, param_obj(call, "names"), param_obj(call, "pressure"), &e) < 0)
		call_op_error(call, &e);
}
