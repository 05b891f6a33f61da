/* SPDX-License-Identifier: MIT */
/* oci.h: a container's OCI state and config.json translated for cgctld (oci_spec.c, oci_identity.c, oci_resources.c, oci_where.c). */
#pragma once

/*
 * None of these modules but oci_where.c does I/O: the hook reads the
 * runtime's JSON, hands the objects over and logs what they report through
 * struct oci_log.
 */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "cgctl.h"
#include "cleanup.h"

#define OCI_ANN_NAME "io.cgctl.name"
#define OCI_ANN_RESOURCES "io.cgctl.resources"

/* _cleanup_ destructor of json-c locals. */
static inline void json_cleanup(json_object **o) { json_object_put(*o); }
#define _cleanup_json_ _cleanup_(json_cleanup)

/* Where the translation reports problems: level is "warning" or "error". */
struct oci_log {
	void (*log_cb)(void *userdata, const char *level, const char *fmt, va_list ap)
		__attribute__((format(printf, 3, 0)));
	void *userdata;
};

/* What the runtime's state says of the container; the strings point into the state object. */
struct oci_state {
	const char *id;
	const char *bundle;
	const char *status;
	pid_t pid; /* 0 when absent or out of range */
};

/* --- oci_spec.c: reading the runtime's JSON ------------------------------ */

/* Parse text (len bytes, NUL-terminated) as one JSON object into *ret; -EINVAL when it is not one. */
int oci_spec_parse(const char *text, size_t len, json_object **ret);
/* String member key of o, or NULL (o may be NULL). */
const char *oci_spec_str(json_object *o, const char *key);
/* Member key of o when it is an object, else NULL (o may be NULL). */
json_object *oci_spec_obj(json_object *o, const char *key);
/* Annotation key of config.json, else of the state; NULL when neither has it. */
const char *oci_spec_annotation(json_object *config, json_object *state, const char *key);
/*
 * Fill *st from the state object, then check it: -EINVAL with *ret_error
 * (static) when it has no id or no absolute bundle path. *st is filled
 * either way, so that a message about the state can name the container.
 */
int oci_spec_state(json_object *state, struct oci_state *st, const char **ret_error);
/* Report a warning through log (NULL: nowhere). */
void oci_spec_warn(const struct oci_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Report an error through log (NULL: nowhere); returns -EINVAL. */
int oci_spec_error(const struct oci_log *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- oci_identity.c: the cgroup's name and labels -------------------------- */

/*
 * The cgroup name for container id: the io.cgctl.name annotation, else
 * linux.cgroupsPath (a systemd "slice:prefix:name" becomes "prefix-name"),
 * else "oci-<id>" (*ret_derived true; an id too long for one component is cut
 * and hashed). -EINVAL (reported) when it is not a valid name, -ENOMEM
 * (reported); the out-parameters are written on success only.
 */
int oci_identity_name(json_object *config, json_object *state, const char *id, const struct oci_log *log,
		      char **ret_name, bool *ret_derived);
/* The labels marking an entry as this container's: oci.id, oci.bundle, and oci.derived when derived. */
json_object *oci_identity_labels(const struct oci_state *st, bool derived);
/*
 * Whose entries the hook may take for its own. A tenant of the daemon sees
 * only its own entries; an administrator (root, or the daemon's own uid) sees
 * everybody's, and must take only administrators' (uid 0 or daemon_uid):
 * a tenant can label an entry of its own as anything.
 */
struct oci_owner {
	bool admin;         /* the daemon serves us as an administrator */
	int64_t daemon_uid; /* the daemon's uid (GetStatus), when admin */
};
/* Whether entry e (its owner) may be the hook's own, for a caller o. */
bool oci_identity_owner_ok(const struct oci_owner *o, const struct cgctl_entry *e);
/* Whether entry e carries this container's oci.id and oci.bundle labels and its owner may be ours (o). */
bool oci_identity_is_ours(const struct oci_state *st, const struct oci_owner *o, const struct cgctl_entry *e);

/* --- oci_resources.c: linux.resources → Resources -------------------------- */

/*
 * The Resources object for config.json's linux.resources, overridden member
 * by member by the io.cgctl.resources annotation (of config.json, else of the
 * state). What cgroup v2 cannot express is reported as a warning and left
 * out. 0 with *ret, or -EINVAL (reported) on malformed input, -ENOMEM.
 */
int oci_resources_from_spec(json_object *config, json_object *state, const struct oci_log *log,
			    json_object **ret);
/* Remove every part of Resources res that needs controller ctl; the number of parts removed. */
int oci_resources_drop_controller(json_object *res, const char *ctl);
/*
 * Remove what the daemon's field path names ("resources.memory.swap_max",
 * "resources.hugetlb[1].max", "resources.unified[\"cpu.max.burst\"]"): the
 * array element when the path crosses one, else the last member. 1 or 0.
 */
int oci_resources_drop_field(json_object *res, const char *field);

/* --- oci_where.c: where the daemon and the log are (does I/O) -------------- */

/* The file createRuntime leaves in the bundle for poststop: {"socket": PATH, "log": PATH, "name": NAME}. */
#define OCI_WHERE_RECORD ".cgctl-oci-hook.json"

/* The uid outside every user namespace that our euid maps to (our euid outside one). */
uid_t oci_where_outer_uid(void);
/*
 * The daemon's socket: $CGCTL_SOCKET, else $XDG_RUNTIME_DIR/cgctl/..., else
 * the one createRuntime recorded in bundle (may be NULL), else
 * /run/user/<outer uid>/cgctl/io.cgctl.Manager. 0 and a malloc'd *ret, -errno.
 */
int oci_where_socket(const char *bundle, char **ret);
/*
 * The default log file: the one recorded in bundle (may be NULL), else
 * $XDG_STATE_HOME (~/.local/state, HOME from the outer uid's passwd entry
 * when unset)/cgctl/oci-hook.log, its directories made. 0 and *ret, -errno.
 */
int oci_where_log(const char *bundle, char **ret);
/* $XDG_STATE_HOME (as for the log)/cgctl, its directories made 0700. 0 and a malloc'd *ret, -errno. */
int oci_where_state_dir(char **ret);
/* Record socket, log and the cgroup's name (both may be NULL) in bundle's OCI_WHERE_RECORD, for poststop. 0 or -errno. */
int oci_where_record(const char *bundle, const char *socket, const char *log, const char *name);
/* The cgroup name createRuntime recorded in bundle (a valid name), malloc'd; NULL when none. */
char *oci_where_name(const char *bundle);
/* Remove bundle's record (ENOENT is fine). */
void oci_where_forget(const char *bundle);

/* --- oci_parents.c: parents of a cgroupfs-style path (talks to the daemon) -- */

/* The label of the parents the hook creates (shared by the containers below them). */
#define OCI_PARENT_LABEL "oci.parent=true"

/*
 * Who we are to the daemon (*ret): an administrator when the socket's server
 * has our uid (root's daemon and root, a user's daemon and that user, also
 * seen from a rootless user namespace), with the daemon's uid then. 0 or -errno.
 */
int oci_parents_owner(cgctl *c, struct oci_owner *ret);
/* Whether e is a parent the hook created. */
bool oci_parents_is_parent(const struct cgctl_entry *e);
/* Create name's missing parents, labelled OCI_PARENT_LABEL, no limits. 0 or -errno. */
int oci_parents_make(cgctl *c, const char *name);
/*
 * Every parent of name (which exists) may be ours (o): 0, or -EEXIST with
 * *ret_taken (malloc'd) naming the first that is somebody else's; -errno.
 * Once name exists its parents cannot go, so a check after its Create holds.
 */
int oci_parents_check(cgctl *c, const struct oci_owner *o, const char *name, char **ret_taken);
/*
 * Remove name's parents that are the hook's (by e[0..n), a List, and owner
 * o), deepest first, without kill or recursion; stops at the first one that
 * stays (not the hook's, or Busy: it still holds a cgroup or a process).
 */
void oci_parents_drop(cgctl *c, const struct oci_owner *o, const char *name, struct cgctl_entry **e, size_t n);

/* --- oci_stopped.c: poststops that missed the daemon (talks to it) -------- */

/*
 * Remember that container st stopped now while the daemon on socket sock
 * could not be reached (NULL: not known; any daemon's sweep takes it), for
 * oci_stopped_finish (poststop without a daemon). 0 or -errno.
 */
int oci_stopped_note(const struct oci_state *st, const char *sock);
/*
 * Kill and remove the entries of every container remembered for the daemon
 * on socket sock (c's) that were created before it stopped and whose owner
 * may be ours (o) ("removed NAME" on out, may be NULL), and forget the notes
 * done. Notes for another socket are another daemon's: left alone. 0, or the
 * last -errno (those notes are kept).
 */
int oci_stopped_finish(cgctl *c, const char *sock, const struct oci_owner *o, FILE *out);
