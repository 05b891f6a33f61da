/* SPDX-License-Identifier: MIT */
/* cli_esc.c: escape what cgctld sends before a terminal sees it (ls -b, ps, systemd's cescape do likewise). */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_esc.h"
#include "names.h"

#define ESC_RING 16

/* Escaped strings handed out by cli_esc(), freed when their slot comes round again or at exit. */
static char *esc_ring[ESC_RING];
static unsigned esc_next;

/* Free the ring at exit (the leak checker then sees nothing lost). */
static void __attribute__((destructor)) esc_ring_free(void)
{
	for (unsigned i = 0; i < ESC_RING; i++) {
		free(esc_ring[i]);
		esc_ring[i] = NULL;
	}
}

/* The JSON escape of character cp (n bytes, 0: no UTF-8) into out (16 bytes): what a JSON string reads the same. */
static void esc_char_json(size_t n, uint32_t cp, char out[16])
{
	/* JSON is UTF-8 (RFC 8259): a byte that is none reads as what a decoder makes of it. */
	if (n == 0)
		snprintf(out, 16, "\\ufffd");
	/* Outside strings only whitespace: as it is (pretty output's lines); inside, json-c wrote "\n". */
	else if (cp == '\n' || cp == '\t' || cp == '\r')
		return;
	else if (cp < 0x20 || cp == 0x7f || cgname_char_hidden(cp))
		snprintf(out, 16, "\\u%04x", (unsigned)cp);
}

/* The escape of the character at s (its bytes in *ret_n) into out (16 bytes); "" when it prints as it is. */
static void esc_char(const char *s, size_t len, unsigned flags, char out[16], size_t *ret_n)
{
	uint32_t cp = 0;
	size_t n = cgname_utf8_char(s, len, &cp);

	out[0] = '\0';
	*ret_n = n ? n : 1;
	if (flags & CLI_ESC_JSON)
		esc_char_json(n, cp, out);
	else if (n == 0)
		snprintf(out, 16, "\\x%02x", (unsigned char)s[0]);
	else if (cp == '\\' && !(flags & CLI_ESC_KEEP_BACKSLASH))
		snprintf(out, 16, "\\\\");
	else if (cp == '\n' || cp == '\t' || cp == '\r')
		snprintf(out, 16, "\\%c", cp == '\n' ? 'n' : cp == '\t' ? 't' : 'r');
	else if (cp < 0x20 || cp == 0x7f)
		snprintf(out, 16, "\\x%02x", (unsigned)cp);
	else if (cgname_char_hidden(cp))
		snprintf(out, 16, "\\u%04x", (unsigned)cp);
}

size_t cli_esc_to(const char *s, size_t len, unsigned flags, char *buf, size_t size)
{
	size_t i = 0, need = 0, w = 0, n, k;
	char e[16];

	while (i < len) {
		esc_char(s + i, len - i, flags, e, &n);
		k = e[0] ? strlen(e) : n;
		if (w + k < size) {
			memcpy(buf + w, e[0] ? e : s + i, k);
			w += k;
		} else {
			size = w + 1; /* full: nothing after a cut, not even a shorter piece */
		}
		need += k;
		i += n;
	}
	if (size > 0)
		buf[w] = '\0';
	return need;
}

char *cli_esc_dup(const char *s, size_t len, unsigned flags)
{
	char one;
	size_t need = cli_esc_to(s, len, flags, &one, 1);
	char *d = malloc(need + 1);

	if (d)
		cli_esc_to(s, len, flags, d, need + 1);
	return d;
}

/* cli_esc() with flags. */
static const char *esc_ringed(const char *s, unsigned flags)
{
	size_t len;
	char one, **slot;

	if (!s)
		return "-";
	len = strlen(s);
	/* Every escape is longer than what it stands for: the same length means nothing to escape. */
	if (cli_esc_to(s, len, flags, &one, 1) == len)
		return s;
	slot = &esc_ring[esc_next++ % ESC_RING];
	free(*slot);
	*slot = cli_esc_dup(s, len, flags);
	return *slot ? *slot : "?";
}

const char *cli_esc(const char *s)
{
	return esc_ringed(s, 0);
}

const char *cli_esc_raw(const char *s)
{
	return esc_ringed(s, CLI_ESC_KEEP_BACKSLASH);
}

const char *cli_esc_json(const char *s)
{
	return esc_ringed(s, CLI_ESC_JSON);
}
