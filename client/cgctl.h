/* SPDX-License-Identifier: MIT */
/* cgctl.h: libcgctl, the C client library of cgctld (io.cgctl.Manager over Varlink). */
#ifndef CGCTL_H
#define CGCTL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Conventions. Every function returning int returns >= 0 on success and a
 * negative errno-style code on failure. Out-parameters (ret_*) are written
 * only on success, except where said otherwise. Destructors accept NULL.
 * A handle is not thread-safe: use one per thread, or lock around it.
 *
 * Codes the daemon's errors map to:
 *   NotFound -ENOENT, AlreadyExists -EEXIST, InvalidName and InvalidValue
 *   -EINVAL, NoDelegation -CGCTL_ENODELEGATION, ControllerUnavailable
 *   -EOPNOTSUPP, Busy -EBUSY, PermissionDenied -EACCES, QuotaExceeded -EDQUOT,
 *   Timeout -ETIMEDOUT, SystemError -<its errno> (-EIO without one),
 *   org.varlink.service InterfaceNotFound / MethodNotFound /
 *   MethodNotImplemented -ENOSYS, InvalidParameter -EINVAL, any other name
 *   -EPROTO. The daemon's error name and message stay on the handle.
 * Codes of the transport: -ETIMEDOUT (no complete reply in time; no error
 * name set), -ECONNRESET (the daemon closed the connection), -EPROTO (the
 * daemon sent something that is not a valid reply), -EMSGSIZE (a reply over
 * 16 MiB), -ENOTCONN (an earlier transport failure broke the connection:
 * disconnect and connect again).
 */

/* Distinct code (returned negated) for io.cgctl.Manager.NoDelegation: the
 * daemon has no writable cgroup subtree; run without cgroups, like runc's
 * ErrRootless. Outside the errno range so it never collides with one. */
#define CGCTL_ENODELEGATION 4096

/* Default bound of each call, in milliseconds. */
#define CGCTL_TIMEOUT_DEFAULT_MS 25000

/* Flags of cgctl_destroy(). */
#define CGCTL_DESTROY_RECURSIVE (1u << 0) /* remove child cgroups too */
#define CGCTL_DESTROY_KILL      (1u << 1) /* kill processes inside first */

/* A connection to cgctld. */
typedef struct cgctl cgctl;

/* A managed cgroup, as returned by cgctl_create() and cgctl_list(). */
struct cgctl_entry {
	char *name;            /* relative name, "buildkit/abc123" */
	char *path;            /* absolute path of the cgroup directory */
	char *state;           /* ledger state: "creating", "active", "destroying" */
	int generated;         /* 1 when the daemon made the name up */
	int populated;         /* 1, 0, or -1 when unknown */
	int frozen;            /* 1, 0, or -1 when unknown */
	uint64_t created_usec; /* creation time, microseconds since the epoch */
	int delegate;          /* 1 when handed over whole */
	int auto_remove;       /* 1 when removed once empty */
	int lease;             /* 1 when removed when the creating connection closes */
	char **labels;         /* NULL-terminated "key=value" strings, never NULL */
};

/* Daemon state, as returned by cgctl_get_status(). Strings may be NULL where
 * the daemon left them out; string arrays are NULL-terminated, never NULL. */
struct cgctl_status {
	char *version;
	int delegated;          /* 0: Create fails with NoDelegation, see reason */
	char *reason;           /* why not delegated, NULL when delegated */
	char *cgroup_mount;     /* cgroup2 mount point */
	char *managed_root;     /* absolute path of the managed root */
	char *leaf;             /* the daemon's own leaf cgroup, NULL if none */
	char **controllers;     /* enabled for children of the managed root */
	int64_t pid;            /* of the daemon */
	int64_t uid;            /* of the daemon */
	char *socket;           /* the daemon's socket path */
	char *ledger_path;
	int64_t ledger_format_version;
	uint64_t ledger_entries;
	uint64_t journal_bytes;
	uint64_t journal_records;
	uint64_t compactions;
	uint64_t last_compaction_usec; /* 0 when none yet */
	char **reconcile_dropped;      /* vanished entries dropped at start-up */
	char **reconcile_rolled_back;  /* interrupted creates rolled back */
	char **reconcile_resumed;      /* interrupted destroys resolved */
	char **reconcile_unknown;      /* directories the ledger does not know */
};

/*
 * Options of cgctl_create(). Zero-initialise, then set size to
 * sizeof(struct cgctl_create_opts): fields are only ever appended, and the
 * library reads no further than size.
 */
struct cgctl_create_opts {
	size_t size;
	int generate;                    /* make a name up (below prefix) */
	const char *prefix;              /* parent of a generated name, or NULL */
	int delegate;                    /* hand the cgroup over whole */
	int auto_remove;                 /* remove it once it becomes empty */
	int lease;                       /* remove it when this connection closes */
	const char *const *labels;       /* NULL-terminated "key=value", or NULL */
	const char *resources_json;      /* a Resources JSON object, or NULL */
};

/* Connect to socket_path (NULL: $CGCTL_SOCKET, else the default per-user socket); *ret on success. */
int cgctl_connect(const char *socket_path, cgctl **ret);
/* Close the connection and free the handle; NULL-safe; returns NULL. */
cgctl *cgctl_disconnect(cgctl *c);
/* Bound every later call to timeout_ms milliseconds (> 0); -EINVAL otherwise. */
int cgctl_set_timeout(cgctl *c, int timeout_ms);

/* Full Varlink name of the last call's error (daemon's or a local check's), NULL after success. */
const char *cgctl_error_name(const cgctl *c);
/* Message that came with the last error, NULL after success or when there was none. */
const char *cgctl_error_message(const cgctl *c);
/* Static description of a code returned by this library (sign ignored). */
const char *cgctl_strerror(int r);

/* Free n entries and the array holding them; NULL-safe. */
void cgctl_entries_free(struct cgctl_entry *entries, size_t n);
/* Free a status; NULL-safe. */
void cgctl_status_free(struct cgctl_status *s);

/* Create a cgroup (name NULL: generated); *ret_entry (if not NULL) gets it, free with cgctl_entries_free(e, 1). */
int cgctl_create(cgctl *c, const char *name, const struct cgctl_create_opts *opts,
		 struct cgctl_entry **ret_entry);
/* Remove a cgroup; a name the daemon never created is success with *ret_existed = 0. */
int cgctl_destroy(cgctl *c, const char *name, unsigned flags, int *ret_existed);
/* Managed cgroups, all (name NULL) or the subtree below name; free with cgctl_entries_free(). */
int cgctl_list(cgctl *c, const char *name, struct cgctl_entry **ret, size_t *ret_n);
/* Daemon state, delegation and ledger figures; free with cgctl_status_free(). */
int cgctl_get_status(cgctl *c, struct cgctl_status **ret);

/*
 * Raw call: method fully qualified ("org.varlink.service.GetInfo") or a bare
 * io.cgctl.Manager method ("GetStatus"); params_json a JSON object or NULL.
 * Success: *ret_reply_json (malloc'd) holds the reply parameters object.
 * Daemon error: the negative code, error name and message on the handle, and
 * *ret_reply_json set to the error parameters object. Otherwise untouched.
 */
int cgctl_call(cgctl *c, const char *method, const char *params_json, char **ret_reply_json);

#ifdef __cplusplus
}
#endif

#endif /* CGCTL_H */
