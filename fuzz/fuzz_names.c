// SPDX-License-Identifier: MIT
/* fuzz_names.c: libFuzzer harness for cgroup name validation and on-disk escaping. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"

/*
 * The input is a name (any bytes, NULs included). Checked:
 *  - cgname_validate() and cgname_validate_new() agree with an independent
 *    reference implementation of the rules in names.h (the hidden characters
 *    of new names matched by their UTF-8 bytes, not decoded), and give a
 *    reason whenever they refuse;
 *  - for a valid name, cgname_to_path() gives a relative path with no "." or
 *    ".." component and no unescaped kernel-looking one, and
 *    cgname_from_path() maps it back to the same name;
 *  - for any input taken as a path, a successful cgname_from_path() is undone
 *    exactly by cgname_to_path() (the mapping is a bijection);
 *  - cgname_is_below() agrees with its definition, holds for the name's
 *    own ancestors, and is preserved by escaping.
 * The input is also split at its first 0xff byte into name and prefix.
 */

/* Report a broken invariant and crash, so libFuzzer saves the input. */
static void __attribute__((noreturn)) fail(const char *what, const char *a, const char *b)
{
	fprintf(stderr, "fuzz_names: invariant broken: %s\n  a=\"%s\"\n  b=\"%s\"\n", what, a ? a : "(null)",
		b ? b : "(null)");
	abort();
}

/* Well-formed UTF-8 per Unicode table 3-7 (a different technique from names.c). */
static bool ref_utf8(const uint8_t *s, size_t len)
{
	size_t i = 0;

	while (i < len) {
		uint8_t c = s[i];
		size_t n;
		uint8_t lo = 0x80, hi = 0xbf;

		if (c <= 0x7f) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 1;
		else if (c == 0xe0)
			n = 2, lo = 0xa0;
		else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
			n = 2;
		else if (c == 0xed)
			n = 2, hi = 0x9f;
		else if (c == 0xf0)
			n = 3, lo = 0x90;
		else if (c >= 0xf1 && c <= 0xf3)
			n = 3;
		else if (c == 0xf4)
			n = 3, hi = 0x8f;
		else
			return false;
		if (i + n >= len)
			return false; /* truncated sequence */
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

/* Does a character new names may not hold start at c[k] (well-formed UTF-8 assumed)? By its bytes, not decoded. */
static bool ref_hidden_at(const uint8_t *c, size_t k, size_t clen)
{
	/* The UTF-8 of U+061C, U+200B, U+200E, U+200F, U+2028..U+202E, U+2060, U+2066..U+2069, U+FEFF. */
	static const char *const seqs[] = {
		"\xd8\x9c", "\xe2\x80\x8b", "\xe2\x80\x8e", "\xe2\x80\x8f", "\xe2\x80\xa8", "\xe2\x80\xa9",
		"\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac", "\xe2\x80\xad", "\xe2\x80\xae", "\xe2\x81\xa0",
		"\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8", "\xe2\x81\xa9", "\xef\xbb\xbf",
	};

	/* C1: U+0080..U+009F is 0xc2 0x80..0x9f. */
	if (c[k] == 0xc2 && k + 1 < clen && c[k + 1] <= 0x9f)
		return true;
	for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
		size_t n = strlen(seqs[i]);

		if (k + n <= clen && memcmp(c + k, seqs[i], n) == 0)
			return true;
	}
	return false;
}

/* The rules of names.h, written out plainly; strict: those of a new name (cgname_validate_new()). */
static bool ref_valid(const uint8_t *s, size_t len, bool strict)
{
	size_t depth = 0, start = 0;

	if (len == 0 || len > CGNAME_MAX || memchr(s, 0, len))
		return false;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && s[i] != '/')
			continue;
		size_t clen = i - start;
		const uint8_t *c = s + start;

		if (clen == 0 || clen > CGNAME_COMPONENT_MAX)
			return false;
		if ((clen == 1 && c[0] == '.') || (clen == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		for (size_t k = 0; k < clen; k++)
			if (c[k] < 0x20 || c[k] == 0x7f)
				return false;
		if (!ref_utf8(c, clen))
			return false;
		for (size_t k = 0; strict && k < clen; k++)
			if (ref_hidden_at(c, k, clen))
				return false;
		if (++depth > CGNAME_DEPTH_MAX)
			return false;
		start = i + 1;
	}
	return true;
}

/* Definition of "name equals prefix or lies below it by whole components". */
static bool ref_below(const char *name, const char *prefix)
{
	size_t n = strlen(prefix);

	if (n == 0)
		return true;
	return strncmp(name, prefix, n) == 0 && (name[n] == '\0' || name[n] == '/');
}

/* Check the shape of an escaped path: no ".", "..", empty or unescaped kernel components. */
static void check_path_shape(const char *name, const char *path)
{
	const char *p = path;

	if (path[0] == '/' || path[0] == '\0')
		fail("cgname_to_path gave an absolute or empty path", name, path);
	for (;;) {
		const char *slash = strchrnul(p, '/');
		size_t n = (size_t)(slash - p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			fail("cgname_to_path gave an empty, \".\" or \"..\" component", name, path);
		if (p[0] == '_') {
			if (!cgname_component_needs_escape(p + 1, n - 1))
				fail("cgname_to_path escaped a component that needs no escape", name, path);
		} else if (cgname_component_needs_escape(p, n)) {
			fail("cgname_to_path left a component unescaped that needs it", name, path);
		}
		if (!*slash)
			break;
		p = slash + 1;
	}
}

/* A valid name: escaping round trip, ancestors, and the NUL-free C string view. */
static void check_valid(const char *name)
{
	char *path = NULL, *back = NULL;
	int r = cgname_to_path(name, &path);

	if (r == -ENOMEM)
		return;
	if (r < 0)
		fail("cgname_to_path refused a valid name", name, NULL);
	check_path_shape(name, path);
	r = cgname_from_path(path, &back);
	if (r == -ENOMEM) {
		free(path);
		return;
	}
	if (r < 0 || strcmp(back, name) != 0)
		fail("cgname_from_path(cgname_to_path(name)) is not name", name, path);
	if (!cgname_is_below(name, name) || !cgname_is_below(name, ""))
		fail("a name is not below itself or the root", name, NULL);
	/* Every ancestor contains it; a partial last component does not. */
	for (const char *s = strchr(name, '/'); s; s = strchr(s + 1, '/')) {
		char *anc = strndup(name, (size_t)(s - name));

		if (!anc)
			break;
		if (!cgname_is_below(name, anc) || cgname_is_below(anc, name))
			fail("ancestor relation wrong", name, anc);
		/* Cut inside the component: name[len] is neither "/" nor the end. */
		anc[s - name - 1] = '\0';
		if (anc[0] && cgname_is_below(name, anc))
			fail("a partial component counts as an ancestor", name, anc);
		free(anc);
	}
	free(back);
	free(path);
}

/* Any text as a path: what cgname_from_path() accepts, cgname_to_path() produces. */
static void check_path(const char *path)
{
	char *name = NULL, *again = NULL;
	int r = cgname_from_path(path, &name);

	if (r == -ENOMEM || r == -EINVAL)
		return;
	if (r < 0)
		fail("cgname_from_path returned an undocumented error", path, NULL);
	if (cgname_validate(name, strlen(name), NULL) < 0)
		fail("cgname_from_path produced an invalid name", path, name);
	r = cgname_to_path(name, &again);
	if (r == 0 && strcmp(again, path) != 0)
		fail("cgname_to_path(cgname_from_path(path)) is not path", path, again);
	free(again);
	free(name);
}

/* Two names: is_below against its definition, and preserved by escaping. */
static void check_pair(const char *a, const char *b)
{
	bool below = cgname_is_below(a, b);
	char *pa = NULL, *pb = NULL;

	if (below != ref_below(a, b))
		fail("cgname_is_below disagrees with its definition", a, b);
	if (below && cgname_is_below(b, a) && strcmp(a, b) != 0)
		fail("cgname_is_below holds both ways for different names", a, b);
	if (cgname_validate(a, strlen(a), NULL) < 0 || cgname_validate(b, strlen(b), NULL) < 0)
		return;
	if (cgname_to_path(a, &pa) == 0 && cgname_to_path(b, &pb) == 0 && cgname_is_below(pa, pb) != below)
		fail("escaping changed whether one name lies below the other", a, b);
	free(pa);
	free(pb);
}

/* cgname_validate_new() against the reference (on exactly size bytes), with a reason when it refuses. */
static bool new_name_agrees(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *raw = malloc(size ? size : 1);
	int r;

	if (!raw)
		return true;
	memcpy(raw, data, size);
	r = cgname_validate_new(size ? raw : NULL, size, &why);
	free(raw);
	if (r < 0 && (r != -EINVAL || !why))
		return false;
	return (r == 0) == ref_valid(data, size, true);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why = NULL;
	char *text, *sep;
	int r;

	/* Exactly size bytes, no terminator: an over-read past len shows under ASan. */
	char *raw = malloc(size ? size : 1);
	if (!raw)
		return 0;
	memcpy(raw, data, size);
	r = cgname_validate(size ? raw : NULL, size, &why);
	free(raw);
	if (r != 0 && r != -EINVAL)
		fail("cgname_validate returned an undocumented error", NULL, NULL);
	if (r < 0 && !why)
		fail("cgname_validate refused without a reason", NULL, NULL);
	if ((r == 0) != ref_valid(data, size, false))
		fail(r == 0 ? "cgname_validate accepted a name the rules refuse"
			    : "cgname_validate refused a name the rules allow", why, NULL);
	if (!new_name_agrees(data, size))
		fail("cgname_validate_new disagrees with the rules of new names", NULL, NULL);

	text = strndup((const char *)data, size);
	if (!text)
		return 0;
	if (r == 0)
		check_valid(text);
	check_path(text);
	sep = strchr(text, '\xff');
	if (sep) {
		*sep = '\0';
		check_pair(text, sep + 1);
		check_pair(sep + 1, text);
	} else {
		check_pair(text, text);
	}
	free(text);
	return 0;
}
