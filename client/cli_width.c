/* SPDX-License-Identifier: MIT */
/* cli_width.c: display columns of names, for list's tree and top's rows. */

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "cli_width.h"

/*
 * The character at s (len bytes left): its bytes, its columns in *ret_w.
 * wcwidth() in a multibyte locale; else, and for bytes that are no character
 * there, one column a UTF-8 character (what names are, in practice).
 */
static size_t char_step(const char *s, size_t len, mbstate_t *st, size_t *ret_w)
{
	wchar_t wc;
	size_t n = MB_CUR_MAX > 1 ? mbrtowc(&wc, s, len, st) : (size_t)-1;
	int w = 1;

	if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
		for (n = 1; n < len && ((unsigned char)s[n] & 0xC0) == 0x80; n++)
			;
		memset(st, 0, sizeof(*st));
	} else {
		w = wcwidth(wc);
	}
	*ret_w = w < 0 ? 1 : (size_t)w;
	return n;
}

size_t cli_display_width(const char *s, size_t len)
{
	size_t cols;

	cli_display_fit(s, len, (size_t)-1, &cols);
	return cols;
}

size_t cli_display_fit(const char *s, size_t len, size_t cols, size_t *ret_cols)
{
	mbstate_t st = { 0 };
	size_t used = 0, k = 0;

	while (k < len) {
		size_t w, n = char_step(s + k, len - k, &st, &w);

		if (used + w > cols)
			break;
		used += w;
		k += n;
	}
	*ret_cols = used;
	return k;
}
