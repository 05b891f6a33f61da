/* SPDX-License-Identifier: MIT */
/* cli_esc.h: text from cgctld (or a log) made safe to print on a terminal. */
#pragma once

#include <stddef.h>

/* Leave "\" as it is: for JSON text (whose escapes stay readable) and log lines. */
#define CLI_ESC_KEEP_BACKSLASH 1u
/*
 * JSON text to print as JSON: what would act on a terminal becomes the JSON
 * escape that reads the same ("\u009b"), so a parser gets the very strings;
 * "\", newline, tab and CR stay (whitespace between values, pretty output's
 * lines), a byte that is no UTF-8 becomes "\ufffd". Other flags are ignored.
 */
#define CLI_ESC_JSON 2u

/*
 * Escape len bytes of s into buf (size > 0 bytes, always NUL-terminated, cut
 * before an escape that does not fit). Escaped: "\" as "\\" (unless flags
 * hold CLI_ESC_KEEP_BACKSLASH); newline, tab, CR as "\n", "\t", "\r"; other
 * C0 controls, DEL and bytes that are no UTF-8 as "\xNN"; the characters
 * cgname_char_hidden() names (C1, bidi, line separators, zero width) as
 * "\uNNNN". Returns the length the whole escaped text takes.
 */
size_t cli_esc_to(const char *s, size_t len, unsigned flags, char *buf, size_t size);
/* The escaped form of len bytes of s, malloc'd; NULL when out of memory. */
char *cli_esc_dup(const char *s, size_t len, unsigned flags);
/*
 * s (NULL: "-") ready to print: s itself when nothing needs escaping, else its
 * escaped form, kept until 16 more escaped strings have been made (or "?"
 * when out of memory). For printf arguments.
 */
const char *cli_esc(const char *s);
/* cli_esc() with CLI_ESC_KEEP_BACKSLASH. */
const char *cli_esc_raw(const char *s);
/* cli_esc() with CLI_ESC_JSON: for JSON text printed as JSON (--json, call, watch --json, top --json). */
const char *cli_esc_json(const char *s);
