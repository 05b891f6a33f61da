/* SPDX-License-Identifier: MIT */
/* names.h: validation and on-disk escaping of cgroup names, shared by daemon and client. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CGNAME_MAX 1024          /* whole name, bytes */
#define CGNAME_COMPONENT_MAX 128 /* one component, bytes (before escaping) */
#define CGNAME_DEPTH_MAX 16      /* components */

/*
 * Check a client-supplied name ("a/b/c"). 0 when valid; -EINVAL otherwise with
 * *ret_reason (may be NULL) set to a static sentence saying why. Rejected:
 * NULL or empty, leading or trailing or doubled "/", components "." and "..",
 * NUL (len given and differs from strlen), control characters (newline...),
 * over-long components, names or depth. These are the rules every name in a
 * ledger passed (an older cgctld's too): the ones to look a name up by.
 */
int cgname_validate(const char *name, size_t len, const char **ret_reason);

/*
 * cgname_validate() and the rule for a name that is to be created: no
 * character cgname_char_hidden() names (C1 controls, bidi controls, line
 * separators, zero-width characters), which would act on the terminal that
 * prints the name or show it as another.
 */
int cgname_validate_new(const char *name, size_t len, const char **ret_reason);

/*
 * Characters that act on a terminal or hide in printed text instead of
 * showing: C0, DEL and C1 controls; U+061C, U+200E, U+200F, U+202A..U+202E,
 * U+2066..U+2069 (bidi controls, "Trojan Source"); U+2028, U+2029 (line and
 * paragraph separators); U+200B, U+2060, U+FEFF (zero width).
 */
bool cgname_char_hidden(uint32_t cp);

/* The well-formed UTF-8 character at s (at most avail bytes): its length and *ret_cp (may be NULL); 0 if malformed. */
size_t cgname_utf8_char(const char *s, size_t avail, uint32_t *ret_cp);

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
