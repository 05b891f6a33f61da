/* SPDX-License-Identifier: MIT */
/* cgctl.h: libcgctl, the C client library of cgctld (io.cgctl.Manager over Varlink). */
#ifndef CGCTL_H
#define CGCTL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
 *   Timeout -ETIMEDOUT, Replaced -CGCTL_EREPLACED, SystemError -<its errno>
 *   (-EIO without one),
 *   org.varlink.service InterfaceNotFound / MethodNotFound /
 *   MethodNotImplemented -ENOSYS, InvalidParameter -EINVAL, any other name
 *   -EPROTO. The daemon's error name and message stay on the handle.
 * Codes of the transport: -ETIMEDOUT (no complete reply in time; no error
 * name set), -ECONNRESET (the daemon closed the connection), -EPROTO (the
 * daemon sent something that is not a valid reply), -EMSGSIZE (a reply over
 * 16 MiB), -ENOTCONN (an earlier transport failure broke the connection:
 * disconnect and connect again), -EBUSY (the handle is busy with a watch or
 * another streaming call; see cgctl_watch()).
 */

/* Distinct code (returned negated) for io.cgctl.Manager.NoDelegation: the
 * daemon has no writable cgroup subtree; run without cgroups, like runc's
 * ErrRootless. Outside the errno range so it never collides with one. */
#define CGCTL_ENODELEGATION 4096

/* Distinct code (returned negated) for io.cgctl.Manager.Replaced: the cgroup's
 * directory is no longer the one the daemon made (another program removed it
 * and made one of the same name). The daemon touched nothing and no longer
 * manages the name; Create it again to get a cgroup of your own. */
#define CGCTL_EREPLACED 4097

/* Distinct code (returned negated) of cgctl_connect(): the socket is served by
 * a uid that is neither the caller's nor root's, so nothing was sent to it;
 * cgctl_error_message(NULL) says which. */
#define CGCTL_EUNTRUSTED 4098

/* Default bound of each call, in milliseconds. */
#define CGCTL_TIMEOUT_DEFAULT_MS 25000

/* Flags of cgctl_destroy(). */
#define CGCTL_DESTROY_RECURSIVE (1u << 0) /* remove child cgroups too */
#define CGCTL_DESTROY_KILL      (1u << 1) /* kill processes inside first */

/* A connection to cgctld. */
typedef struct cgctl cgctl;

/*
 * A managed cgroup, as returned by cgctl_create() and cgctl_list(). The
 * library allocates every entry and hands out pointers, never arrays of
 * structs: sizeof(struct cgctl_entry) is not part of the ABI, and fields are
 * only ever appended. size is how many bytes of the struct this library
 * filled; test a field newer than your oldest supported library with
 * CGCTL_HAS(e, field) before reading it. Do not allocate, copy or embed
 * entries yourself.
 */
struct cgctl_entry {
	size_t size;           /* bytes of this struct the library filled */
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
	int64_t owner;         /* uid of the client that created it; -1 when the daemon did not say */
};

/* True when p (a struct cgctl_entry, _status or _event from the library) has field: the library that filled it knows the field. */
#define CGCTL_HAS(p, field) ((p)->size >= offsetof(__typeof__(*(p)), field) + sizeof((p)->field))

/* Daemon state, as returned by cgctl_get_status(). Strings may be NULL where
 * the daemon left them out; string arrays are NULL-terminated, never NULL.
 * Allocated by the library and grown by appending, like struct cgctl_entry:
 * test newer fields with CGCTL_HAS(s, field). */
struct cgctl_status {
	size_t size;            /* bytes of this struct the library filled */
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
	uint64_t journal_dropped_records; /* torn/corrupt journal records dropped at start-up */
	/* How the ledger came up: "normal", "fallback" (ledger.json damaged, the previous
	 * generation proved the state) or "recovery" (records lost); NULL if not said. */
	char *ledger_mode;
	/* One line per damaged ledger file: which file, from which byte, kept as, what was lost. */
	char **ledger_damage;
};

/* Sentinels of the uint64_t limits in struct cgctl_resources. */
#define CGCTL_LIMIT_UNSET UINT64_MAX        /* leave the file as it is */
#define CGCTL_LIMIT_MAX   (UINT64_MAX - 1u) /* "max": no limit */

/* One hugetlb page size's limit: hugetlb.<pagesize>.max. */
struct cgctl_hugetlb_limit {
	const char *pagesize; /* as in the file name: "2MB", "1GB" */
	uint64_t max;         /* bytes, or CGCTL_LIMIT_MAX */
};

/* One device's io.max line; each rate in bytes or IOs per second,
 * CGCTL_LIMIT_MAX, or CGCTL_LIMIT_UNSET (not mentioned); at least one set. */
struct cgctl_io_device_limit {
	uint32_t major;
	uint32_t minor;
	uint64_t rbps;
	uint64_t wbps;
	uint64_t riops;
	uint64_t wiops;
};

/*
 * Resource limits, the C form of the Varlink Resources type (the OCI
 * linux.resources shape, written as cgroup v2 files by the daemon, which
 * validates everything before it writes anything). Start from
 * cgctl_resources_init(): zero is a limit (0 bytes, cpu.idle 0), not "unset",
 * so a zeroed struct would ask for a lot. Fields are only ever appended; the
 * library reads no further than size, and fields past it count as unset.
 * Pointers are borrowed for the duration of the call.
 */
struct cgctl_resources {
	size_t size;
	uint64_t memory_max;       /* bytes, CGCTL_LIMIT_MAX or CGCTL_LIMIT_UNSET */
	uint64_t memory_high;
	uint64_t memory_low;
	uint64_t memory_min;
	uint64_t memory_swap_max;
	uint64_t pids_max;         /* processes, CGCTL_LIMIT_MAX or _UNSET */
	uint64_t cpu_quota;        /* cpu.max quota, microseconds per period, or _MAX */
	uint64_t cpu_period;       /* cpu.max period, microseconds (_UNSET: 100000) */
	uint64_t cpu_weight;       /* cpu.weight 1..10000 */
	uint64_t cpu_shares;       /* OCI shares 2..262144, converted as runc does; not with cpu_weight */
	int cpu_idle;              /* cpu.idle: 1, 0, or -1 unset */
	const char *cpuset_cpus;   /* "0-3,5", or NULL */
	const char *cpuset_mems;   /* or NULL */
	uint64_t io_weight;        /* io.weight default 1..10000 */
	const struct cgctl_io_device_limit *io_max; /* n_io_max lines of io.max */
	size_t n_io_max;
	const struct cgctl_hugetlb_limit *hugetlb;  /* n_hugetlb page sizes */
	size_t n_hugetlb;
	const char *const *unified; /* NULL-terminated raw "file=value" (daemon whitelists), or NULL */
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
	const struct cgctl_resources *resources; /* typed limits, or NULL; not with resources_json */
};

/* Connect to socket_path (NULL: $CGCTL_SOCKET, else the default per-user socket); *ret on success.
 * A server whose uid is neither the caller's (real or effective) nor root's is refused with
 * -CGCTL_EUNTRUSTED before a byte is sent; cgctl_error_message(NULL) then says who serves it. */
int cgctl_connect(const char *socket_path, cgctl **ret);
/* Close the connection and free the handle; NULL-safe; returns NULL. */
cgctl *cgctl_disconnect(cgctl *c);
/* Bound every later call to timeout_ms milliseconds (> 0); -EINVAL otherwise. */
int cgctl_set_timeout(cgctl *c, int timeout_ms);

/* Full Varlink name of the last call's error (daemon's or a local check's), NULL after success. */
const char *cgctl_error_name(const cgctl *c);
/* Message that came with the last error, NULL after success or when there was none; with c NULL,
 * why the calling thread's last failed cgctl_connect() failed (NULL when its code says it all). */
const char *cgctl_error_message(const cgctl *c);
/* Static description of a code returned by this library (sign ignored). */
const char *cgctl_strerror(int r);

/* Free one entry (cgctl_create()'s); NULL-safe. */
void cgctl_entry_free(struct cgctl_entry *e);
/* Free the n entries of an array (NULL slots skipped: take one by NULLing its slot), then the array; NULL-safe. */
void cgctl_entries_free(struct cgctl_entry **entries, size_t n);
/* Free a status; NULL-safe. */
void cgctl_status_free(struct cgctl_status *s);

/* Create a cgroup (name NULL: generated); *ret_entry (if not NULL) gets it, free with cgctl_entry_free(). */
int cgctl_create(cgctl *c, const char *name, const struct cgctl_create_opts *opts,
		 struct cgctl_entry **ret_entry);
/* Remove a cgroup; a name the daemon never created is success with *ret_existed = 0. */
int cgctl_destroy(cgctl *c, const char *name, unsigned flags, int *ret_existed);
/* Managed cgroups, all (name NULL) or the subtree below name: *ret_n entry pointers, then NULL; free with cgctl_entries_free(). */
int cgctl_list(cgctl *c, const char *name, struct cgctl_entry ***ret, size_t *ret_n);
/* Daemon state, delegation and ledger figures; free with cgctl_status_free(). */
int cgctl_get_status(cgctl *c, struct cgctl_status **ret);

/* Set size and every field of r to "unset" (CGCTL_LIMIT_UNSET, -1, NULL). */
void cgctl_resources_init(struct cgctl_resources *r);

/* Move n (1..1024) processes into cgroup name, by pid. */
int cgctl_attach(cgctl *c, const char *name, const pid_t *pids, size_t n);
/* Move n (1..64) processes in by pidfd (pidfd_open(2)), sent with SCM_RIGHTS: no pid-reuse race. */
int cgctl_attach_pidfds(cgctl *c, const char *name, const int *pidfds, size_t n);
/* Apply limits; the daemon validates all before writing any, and writes all or none. */
int cgctl_set_resources(cgctl *c, const char *name, const struct cgctl_resources *r);
/* Apply limits given as a Resources JSON object ({"memory": {"max": "1048576"}, ...}). */
int cgctl_set_resources_json(cgctl *c, const char *name, const char *json);
/* The Stats object (populated, frozen, pids, files) as JSON text, malloc'd, in *ret_json. */
int cgctl_get_stats(cgctl *c, const char *name, char **ret_json);
/* Typed summary of GetStats: each out-parameter may be NULL; *ret_pids malloc'd (free()), never NULL. */
int cgctl_get_pids(cgctl *c, const char *name, int *ret_populated, int *ret_frozen,
		   pid_t **ret_pids, size_t *ret_n_pids);
/* Freeze every process, returning once cgroup.events says frozen; timeout_ms 0: the daemon's default. */
int cgctl_freeze(cgctl *c, const char *name, int timeout_ms);
/* Thaw, returning once cgroup.events says thawed; timeout_ms 0: the daemon's default. */
int cgctl_thaw(cgctl *c, const char *name, int timeout_ms);
/* Signal every process (sig 0: SIGKILL, through cgroup.kill; others freeze, signal, thaw). */
int cgctl_kill(cgctl *c, const char *name, int sig);
/* The cgroup's directory as an O_CLOEXEC fd in *ret_fd, for clone3(CLONE_INTO_CGROUP); close it. */
int cgctl_open_cgroup(cgctl *c, const char *name, int *ret_fd);

/*
 * Raw call: method fully qualified ("org.varlink.service.GetInfo") or a bare
 * io.cgctl.Manager method ("GetStatus"); params_json a JSON object or NULL.
 * Success: *ret_reply_json (malloc'd) holds the reply parameters object.
 * Daemon error: the negative code, error name and message on the handle, and
 * *ret_reply_json set to the error parameters object. Otherwise untouched.
 */
int cgctl_call(cgctl *c, const char *method, const char *params_json, char **ret_reply_json);

/*
 * Events. A watch takes its connection over: from cgctl_watch() until the
 * stream ends, every other call on the handle fails with -EBUSY, so use a
 * connection of its own for it. Varlink has no way to cancel a call: to stop
 * watching, disconnect. Events come in the order the daemon saw them; one
 * that happens after cgctl_watch() returned is never missed.
 *
 * Reading: cgctl_watch_next() with a timeout, or poll() cgctl_watch_fd() for
 * POLLIN and then call cgctl_watch_next() with timeout 0 until it returns 0 —
 * one read may bring several events, and those already read do not make the
 * socket readable again.
 *
 * How a watch ends: -ECONNRESET when the daemon went away (stopping cgctld
 * ends watches with its Timeout error, -ETIMEDOUT with the name set);
 * -EDQUOT with io.cgctl.Manager.QuotaExceeded on the handle when it fell more
 * than 1 MiB of events behind and the daemon dropped it (read faster, or
 * watch fewer cgroups, and watch again). After a daemon error the connection
 * may be used for other calls; after a transport failure it may not.
 */

/* One event of a watch; allocated by the library, grown by appending (see CGCTL_HAS()). */
struct cgctl_event {
	size_t size;             /* bytes of this struct the library filled */
	char *type;              /* "created", "removed", "populated", "empty", "frozen", "thawed",
				    "oom", "oom_kill", "limits", "pressure" (new types may come: ignore unknown ones) */
	char *name;              /* the cgroup's relative name */
	uint64_t timestamp_usec; /* when the daemon saw it, microseconds since the epoch */
	char *details_json;      /* JSON text of the details ("limits": the Resources set, "oom",
				    "oom_kill": {"count": N}), NULL when there are none */
};

/* Start a watch of every managed cgroup (names NULL or empty) or of the subtrees below names (NULL-terminated); returns once the daemon confirmed it. */
int cgctl_watch(cgctl *c, const char *const *names);
/* Next event: 1 with *ret (free with cgctl_event_free()), 0 when none came within timeout_ms (< 0: wait forever), negative when the watch ended or failed. */
int cgctl_watch_next(cgctl *c, int timeout_ms, struct cgctl_event **ret);
/* The connection's socket, to poll() for POLLIN while watching; still the library's: do not read or close it. */
int cgctl_watch_fd(const cgctl *c);
/* Free an event; NULL-safe. */
void cgctl_event_free(struct cgctl_event *e);

/*
 * A PSI trigger for cgctl_watch_pressure(), in the kernel's terms: fire when
 * the tasks of name stalled on resource ("memory", "cpu", "io") for
 * stall_usec within any window_usec ("some": at least one task, "full": all).
 * The kernel takes windows of 0.5 s to 10 s and 0 < stall <= window; an
 * unprivileged cgctld only multiples of 2 s (-EPERM, PermissionDenied).
 * memory and io need that controller enabled for the cgroup (-EOPNOTSUPP,
 * ControllerUnavailable), as does a kernel without PSI. Set size to
 * sizeof(struct cgctl_pressure_trigger) in each: fields are only ever
 * appended, and the library steps through the array by triggers[0].size.
 */
struct cgctl_pressure_trigger {
	size_t size;
	const char *name;
	const char *resource;
	const char *kind;
	uint64_t stall_usec;
	uint64_t window_usec;
};

/*
 * cgctl_watch() that also arms n (at most 16) PSI triggers for this stream:
 * a fired one streams a "pressure" event, details {"resource", "kind",
 * "stall_us", "window_us", "avg10", "avg60", "avg300", "total"}. Triggers
 * count against the caller's uid (-EDQUOT, QuotaExceeded, beyond the
 * daemon's --max-pressure-triggers-per-uid) until the stream ends; all are
 * armed or none.
 */
int cgctl_watch_pressure(cgctl *c, const char *const *names, const struct cgctl_pressure_trigger *triggers,
			 size_t n);

/*
 * Snapshot: the daemon's figures and the statistics top shows of every
 * managed cgroup, or of the subtrees below names (NULL-terminated), in one
 * round trip; the reply parameters as JSON text, malloc'd, in *ret_json
 * ({"status": {...}, "time": usec, "truncated": bool, "cgroups": [...]}).
 */
int cgctl_snapshot(cgctl *c, const char *const *names, char **ret_json);

/*
 * Raw streaming call ("more": true), for methods that answer with several
 * replies: method and params_json as for cgctl_call(). The handle is busy
 * with it (-EBUSY for other calls) until its final reply.
 */
int cgctl_call_more(cgctl *c, const char *method, const char *params_json);
/*
 * Next reply of it: 1 with *ret_reply_json (malloc'd parameters object) and
 * *ret_continues (if not NULL) 0 for the final reply; 0 when none came within
 * timeout_ms (< 0: wait forever); a daemon error as cgctl_call() reports it,
 * which ends the stream. Once it is over: -ESHUTDOWN after a final reply, the
 * error's code after an error; -EINVAL when no streaming call was made.
 */
int cgctl_call_more_next(cgctl *c, int timeout_ms, char **ret_reply_json, int *ret_continues);

#ifdef __cplusplus
}
#endif

#endif /* CGCTL_H */
