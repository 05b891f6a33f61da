/* SPDX-License-Identifier: MIT */
/* names.c: cgroup name validation and cg_escape-style mapping to on-disk paths. */

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "cleanup.h"
#include "names.h"

/*
 * Prefixes before the first "." that the kernel (v2, or v1 when a hybrid
 * hierarchy is mounted next to it) uses for interface files: systemd's list.
 */
static const char *const kernel_prefixes[] = {
	"cgroup", "cpu", "cpuacct", "cpuset", "io", "blkio", "memory", "devices",
	"freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "pids", "rdma",
	"misc", "irq",
};

/* cgroup v1 interface files without a "." in their name. */
static const char *const kernel_files[] = {
	"notify_on_release", "release_agent", "tasks",
};

/* True when [s, s+len) equals the NUL-terminated word. */
static bool mem_equals(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

size_t cgname_utf8_char(const char *str, size_t avail, uint32_t *ret_cp)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n, i;
	uint32_t cp;

	if (avail == 0)
		return 0;
	if (s[0] < 0x80)
		n = 1, cp = s[0];
	else if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (n > avail)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, UTF-16 surrogates, beyond Unicode. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	if (ret_cp)
		*ret_cp = cp;
	return n;
}

bool cgname_char_hidden(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||	     /* C0, DEL, C1 (U+009B is CSI) */
	       cp == 0x061c || cp == 0x200e || cp == 0x200f ||	     /* bidi marks */
	       (cp >= 0x202a && cp <= 0x202e) ||		     /* bidi embeddings, overrides */
	       (cp >= 0x2066 && cp <= 0x2069) ||		     /* bidi isolates */
	       cp == 0x2028 || cp == 0x2029 ||			     /* line, paragraph separators */
	       cp == 0x200b || cp == 0x2060 || cp == 0xfeff;	     /* zero width: space, joiner, BOM */
}

/* Why the character cp may not be in a new name, or NULL (C0 and DEL are refused in every name). */
static const char *char_hidden_why(uint32_t cp)
{
	if (cp >= 0x80 && cp <= 0x9f)
		return "name contains a C1 control character (U+0080 to U+009F)";
	if (cp >= 0x80 && cgname_char_hidden(cp))
		return "name contains an invisible or text-direction formatting character (U+061C, U+200B, "
		       "U+200E, U+200F, U+2028 to U+202E, U+2060, U+2066 to U+2069, U+FEFF)";
	return NULL;
}

/* Check one component's bytes (strict: hidden characters too); NULL when fine, else why not. */
static const char *component_check(const char *c, size_t len, bool strict)
{
	const char *why;
	uint32_t cp;
	size_t i, n;

	if (len == 0)
		return "name contains an empty component";
	if (len > CGNAME_COMPONENT_MAX)
		return "name component is longer than 128 bytes";
	if (mem_equals(c, len, "."))
		return "name component is \".\"";
	if (mem_equals(c, len, ".."))
		return "name component is \"..\"";
	for (i = 0; i < len; i += n) {
		unsigned char ch = (unsigned char)c[i];

		if (ch < 0x20 || ch == 0x7f)
			return "name contains a control character";
		n = cgname_utf8_char(c + i, len - i, &cp);
		if (n == 0)
			return "name is not valid UTF-8";
		if (strict && (why = char_hidden_why(cp)))
			return why;
	}
	return NULL;
}

/* Check the whole name and its components; NULL when valid, else why not. */
static const char *name_check(const char *name, size_t len, bool strict)
{
	const char *p, *end, *slash, *reason;
	size_t depth = 0;

	if (!name || len == 0)
		return "name is empty";
	if (strnlen(name, len) != len)
		return "name contains a NUL byte";
	if (len > CGNAME_MAX)
		return "name is longer than 1024 bytes";
	if (name[0] == '/')
		return "name starts with \"/\"";
	if (name[len - 1] == '/')
		return "name ends with \"/\"";

	end = name + len;
	for (p = name; p < end; p = slash + 1) {
		slash = memchr(p, '/', (size_t)(end - p));
		if (!slash)
			slash = end;
		if (slash == p)
			return "name contains \"//\"";
		if (++depth > CGNAME_DEPTH_MAX)
			return "name has more than 16 components";
		reason = component_check(p, (size_t)(slash - p), strict);
		if (reason)
			return reason;
	}
	return NULL;
}

/* 0 when name passes (strict: the rules of new names), else -EINVAL and the reason. */
static int name_validate(const char *name, size_t len, bool strict, const char **ret_reason)
{
	const char *reason = name_check(name, len, strict);

	if (!reason)
		return 0;
	if (ret_reason)
		*ret_reason = reason;
	return -EINVAL;
}

int cgname_validate(const char *name, size_t len, const char **ret_reason)
{
	return name_validate(name, len, false, ret_reason);
}

int cgname_validate_new(const char *name, size_t len, const char **ret_reason)
{
	return name_validate(name, len, true, ret_reason);
}

/* True when the component collides with kernel files or our own escape syntax. */
bool cgname_component_needs_escape(const char *comp, size_t len)
{
	const char *dot;
	size_t i;

	if (!comp || len == 0)
		return false;
	if (comp[0] == '_' || comp[0] == '.')
		return true;

	dot = memchr(comp, '.', len);
	if (!dot) {
		for (i = 0; i < ELEMENTSOF(kernel_files); i++)
			if (mem_equals(comp, len, kernel_files[i]))
				return true;
		return false;
	}
	for (i = 0; i < ELEMENTSOF(kernel_prefixes); i++)
		if (mem_equals(comp, (size_t)(dot - comp), kernel_prefixes[i]))
			return true;
	return false;
}

/* Escape every component of a valid name that needs it. */
int cgname_to_path(const char *name, char **ret_path)
{
	const char *p, *slash;
	size_t len, depth = 1;
	char *out, *o;

	if (!name || cgname_validate(name, strlen(name), NULL) < 0)
		return -EINVAL;

	len = strlen(name);
	for (p = name; (p = strchr(p, '/')); p++)
		depth++;
	/* At most one "_" per component. */
	out = malloc(len + depth + 1);
	if (!out)
		return -ENOMEM;

	o = out;
	for (p = name;; p = slash + 1) {
		size_t clen;

		slash = strchrnul(p, '/');
		clen = (size_t)(slash - p);
		if (cgname_component_needs_escape(p, clen))
			*o++ = '_';
		memcpy(o, p, clen);
		o += clen;
		if (*slash == '\0')
			break;
		*o++ = '/';
	}
	*o = '\0';
	*ret_path = out;
	return 0;
}

/* Unescape one on-disk component into o; -EINVAL if cgname_to_path() cannot produce it. */
static int component_unescape(const char *c, size_t len, char **o)
{
	if (len > 0 && c[0] == '_') {
		/* "_foo" would be the escape of "foo", which never needs one. */
		if (!cgname_component_needs_escape(c + 1, len - 1))
			return -EINVAL;
		c++;
		len--;
	} else if (cgname_component_needs_escape(c, len)) {
		/* Unescaped kernel file ("cgroup.procs") or hidden entry: not ours. */
		return -EINVAL;
	}
	memcpy(*o, c, len);
	*o += len;
	return 0;
}

/* Map a relative on-disk path back to the name it was escaped from. */
int cgname_from_path(const char *path, char **ret_name)
{
	_cleanup_free_ char *out = NULL;
	const char *p, *slash;
	size_t len;
	char *o;
	int r;

	if (!path || path[0] == '\0')
		return -EINVAL;
	len = strlen(path);
	/* Bound the work before allocating: the escaped form is never much longer than the name. */
	if (len > CGNAME_MAX + CGNAME_DEPTH_MAX)
		return -EINVAL;
	out = malloc(len + 1);
	if (!out)
		return -ENOMEM;

	o = out;
	for (p = path;; p = slash + 1) {
		slash = strchrnul(p, '/');
		if (slash == p)
			return -EINVAL; /* leading, trailing or doubled "/" */
		r = component_unescape(p, (size_t)(slash - p), &o);
		if (r < 0)
			return r;
		if (*slash == '\0')
			break;
		*o++ = '/';
	}
	*o = '\0';

	if (cgname_validate(out, (size_t)(o - out), NULL) < 0)
		return -EINVAL;
	*ret_name = TAKE_PTR(out);
	return 0;
}

/* Component-wise prefix test; the empty prefix (the root) contains every name. */
bool cgname_is_below(const char *name, const char *prefix)
{
	size_t plen;

	if (!name || !prefix)
		return false;
	plen = strlen(prefix);
	if (plen == 0)
		return true;
	if (strncmp(name, prefix, plen) != 0)
		return false;
	return name[plen] == '\0' || name[plen] == '/';
}
