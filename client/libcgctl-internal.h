/* SPDX-License-Identifier: MIT */
/* libcgctl-internal.h: the transport under libcgctl's typed methods; not installed, not exported. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "cgctl.h"
#include "varlink.h"

/* Marks the definition of a cgctl_* function the library exports (it is built -fvisibility=hidden). */
#define CGCTL_EXPORT __attribute__((visibility("default")))

/* Upper bound of one reply, terminating NUL excluded. */
#define LIBCGCTL_REPLY_MAX (16u * 1024u * 1024u)
/* Upper bound of descriptors held for one reply. */
#define LIBCGCTL_FDS_MAX 64u

/* A deadline that never passes: wait as long as it takes. */
#define LIBCGCTL_NO_DEADLINE UINT64_MAX

/* Flags of libcgctl_send(). */
#define LIBCGCTL_CALL_MORE   (1u << 0) /* ask for a stream of replies */
#define LIBCGCTL_CALL_ONEWAY (1u << 1) /* no reply wanted */

/* One reply read from the daemon, with the descriptors that came with it. */
struct libcgctl_reply {
	struct vl_reply vl; /* error name (NULL: success), parameters, continues */
	int *fds;           /* received with SCM_RIGHTS, owned until taken */
	size_t n_fds;
};

/* Release a reply and close the descriptors nobody took. */
void libcgctl_reply_done(struct libcgctl_reply *r);

/* Absolute CLOCK_MONOTONIC deadline, in microseconds, of a call starting now. */
uint64_t libcgctl_deadline(const cgctl *c);
/* Deadline timeout_ms from now; negative: LIBCGCTL_NO_DEADLINE. */
uint64_t libcgctl_deadline_in(int timeout_ms);

/* Send one call (params may be NULL), passing fds with it; -errno. */
int libcgctl_send(cgctl *c, const char *method, json_object *params, unsigned flags,
		  const int *fds, size_t n_fds, uint64_t deadline);
/* Read the next reply in request order; the connection is unusable after a failure. */
int libcgctl_recv(cgctl *c, uint64_t deadline, struct libcgctl_reply *ret);
/* libcgctl_recv() for a stream's replies: -ETIMEDOUT leaves the connection usable. */
int libcgctl_recv_stream(cgctl *c, uint64_t deadline, struct libcgctl_reply *ret);
/* Break the connection with code r (< 0), as a transport failure does; returns r. */
int libcgctl_set_broken(cgctl *c, int r);
/* Keep a daemon error reply's name and message on the handle; returns the mapped code. */
int libcgctl_reply_error(cgctl *c, struct libcgctl_reply *rep);
/* The connection's socket. */
int libcgctl_fd(const cgctl *c);

/* The "more" call in progress on a handle (libcgctl-stream.c); other calls wait for its end. */
struct libcgctl_stream {
	bool active; /* sent, and its final reply not read yet */
	int end;     /* once over: what reading on returns (-ESHUTDOWN, the daemon's error); 0 before */
};

/* The handle's streaming state. */
struct libcgctl_stream *libcgctl_stream_of(cgctl *c);

/*
 * One call, one reply: clears the handle's error, sends, reads. On success
 * *ret_params gets the reply parameters (owned). On a daemon error the mapped
 * code is returned, the name and message are kept on the handle, and
 * *ret_error_params (if not NULL) gets the error parameters.
 */
int libcgctl_transact(cgctl *c, const char *method, json_object *params,
		      json_object **ret_params, json_object **ret_error_params);

/*
 * Decodes a success reply straight from its text (msg[len] is its NUL): 0
 * when it took the reply, which must be final and not an error; negative to
 * leave the reply to the general path (json-c), which then judges it.
 */
typedef int (*libcgctl_text_fn)(const char *msg, size_t len, void *userdata);

/*
 * libcgctl_transact() whose reply is offered to decode first: 0 with
 * *ret_params NULL when decode took it, else as libcgctl_transact().
 */
int libcgctl_transact_text(cgctl *c, const char *method, json_object *params, libcgctl_text_fn decode,
			   void *userdata, json_object **ret_params);

/* Decode a List reply's text into entries: 0, -ENOMSG when it is not the plain shape cgctld sends, -ENOMEM. */
int libcgctl_entries_parse(const char *msg, size_t len, struct cgctl_entry ***ret, size_t *ret_n);
/* Decode a json-c array of Entry objects (the general path, and the reference for the one above). */
int libcgctl_entries_decode(json_object *a, struct cgctl_entry ***ret, size_t *ret_n);

/* Descriptors and time of one libcgctl_transact_ex() call. */
struct libcgctl_xfer {
	const int *fds;   /* sent with the call (SCM_RIGHTS), still the caller's */
	size_t n_fds;
	int extra_ms;     /* added to the handle's bound (calls that wait in the daemon) */
	int *ret_fds;     /* success: received descriptors, malloc'd, now the caller's */
	size_t n_ret_fds;
};

/* libcgctl_transact() with descriptors both ways; on failure nothing is left in x->ret_fds. */
int libcgctl_transact_ex(cgctl *c, const char *method, json_object *params, struct libcgctl_xfer *x,
			 json_object **ret_params, json_object **ret_error_params);

/* Encode typed resources as a Resources object; -EINVAL with InvalidValue on the handle. */
int libcgctl_resources_encode(cgctl *c, const struct cgctl_resources *r, json_object **ret);
/* Parse JSON text that must be a Resources object; -EINVAL with InvalidValue on the handle. */
int libcgctl_resources_parse(cgctl *c, const char *text, json_object **ret);

/* Checked method name (malloc'd; a bare one is io.cgctl.Manager's) and parameters of a raw call. */
int libcgctl_call_prepare(cgctl *c, const char *method, const char *params_json, char **ret_method,
			  json_object **ret_params);
/* Parameters {"names": [...]} of Watch and Snapshot ({} without names), each name checked. */
int libcgctl_names_params(cgctl *c, const char *const *names, json_object **ret);
/* Compact JSON text of o, malloc'd. */
int libcgctl_json_text(json_object *o, char **ret);
/* True when no reply is owed: the connection is free for a new call. */
bool libcgctl_idle(const cgctl *c);

/* Refuse (-CGCTL_EUNTRUSTED, reason kept for the thread) a server neither ours nor root's, before any byte goes out. */
int libcgctl_check_peer(int fd, const char *path);
/* Forget the calling thread's last connect error. */
void libcgctl_connect_error_clear(void);
/* Why the calling thread's last cgctl_connect() failed, or NULL when its code says it all. */
const char *libcgctl_connect_error(void);

/* Forget the last error (start of every call). */
void libcgctl_clear_error(cgctl *c);
/* Record a locally detected error under a Varlink error name; returns r. */
int libcgctl_set_error(cgctl *c, int r, const char *name, const char *message);
/* An argument check of func failed before anything was sent: -EINVAL, kept as the handle's
 * error (InvalidValue, naming func) so that no earlier call's error is taken for it; c may be NULL. */
int libcgctl_bad_args(cgctl *c, const char *func);
/* Validate a name client-side: 0, or -EINVAL with InvalidName set on the handle. */
int libcgctl_check_name(cgctl *c, const char *name);
/* libcgctl_check_name() and the rule of a name to create (cgname_validate_new()): 0 or -EINVAL, error set. */
int libcgctl_check_new_name(cgctl *c, const char *name);
/* The negative code a Varlink error name (and its parameters) maps to. */
int libcgctl_error_to_code(const char *name, json_object *params);
