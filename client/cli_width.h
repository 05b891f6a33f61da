/* SPDX-License-Identifier: MIT */
/* cli_width.h: how many terminal columns text takes (names are UTF-8; a locale may say more). */
#pragma once

#include <stddef.h>

/* Columns the len bytes of s take on a terminal. */
size_t cli_display_width(const char *s, size_t len);
/* Bytes of s's first len that fit in cols columns, whole characters only; their columns in *ret_cols. */
size_t cli_display_fit(const char *s, size_t len, size_t cols, size_t *ret_cols);
