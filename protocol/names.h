/* SPDX-License-Identifier: MIT */
/* names.h: validation and on-disk escaping of cgroup names, shared by daemon and client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CGNAME_MAX 1024          /* whole name, bytes */
#define CGNAME_COMPONENT_MAX 128 /* one component, bytes (before escaping) */
#define CGNAME_DEPTH_MAX 16      /* components */

/*
 * Check a client-supplied name ("a/b/c"). 0 when valid; -EINVAL otherwise with
 * *ret_reason (may be NULL) set to a static sentence saying why. Rejected:
 * NULL or empty, leading or trailing or doubled "/", components "." and "..",
 * NUL (len given and differs from strlen), control characters (newline...),
 * over-long components, names or depth.
 */
int cgname_validate(const char *name, size_t len, const char **ret_reason);

/* True when a component must be escaped on disk (kernel file names, leading "_" or "."). */
bool cgname_component_needs_escape(const char *comp, size_t len);

/*
 * Relative on-disk path for a validated name: every component that needs it
 * gets a "_" prepended (systemd's cg_escape). Returns 0 and a malloc'd string,
 * -EINVAL for an invalid name, -ENOMEM.
 */
int cgname_to_path(const char *name, char **ret_path);

/*
 * Name for a relative on-disk path (inverse of cgname_to_path): strips the
 * escaping "_". -EINVAL when the path could not have come from
 * cgname_to_path() (e.g. an unescaped kernel-looking component).
 */
int cgname_from_path(const char *path, char **ret_name);

/* True when name equals prefix or lies below it, by whole components. */
bool cgname_is_below(const char *name, const char *prefix);
