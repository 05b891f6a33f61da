// SPDX-License-Identifier: MIT
/* stats.c: a cgroup's statistics files read and parsed into the Varlink Stats object. */

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cgroupfs.h"
#include "stats.h"

/* No statistics file comes near this; cgroup.procs of a huge cgroup is the largest. */
#define STATS_READ_MAX (1024 * 1024)
/* Page sizes times file kinds: far more than any machine has. */
#define STATS_MAX_HUGETLB 64

/* How a statistics file is laid out. */
enum stats_kind {
	STATS_SINGLE,   /* "123" or "max" */
	STATS_FLAT,     /* "key 123" lines */
	STATS_PRESSURE, /* "some avg10=0.00 avg60=0.00 avg300=0.00 total=0" lines */
	STATS_IOSTAT,   /* "8:0 rbytes=1 wbytes=2 ..." lines */
};

/* The statistics files read when they exist, in the order reported. */
static const struct {
	const char *name;
	enum stats_kind kind;
} stats_files[] = {
	{ "memory.current", STATS_SINGLE },    { "memory.peak", STATS_SINGLE },
	{ "memory.swap.current", STATS_SINGLE }, { "memory.swap.peak", STATS_SINGLE },
	{ "memory.events", STATS_FLAT },       { "memory.events.local", STATS_FLAT },
	{ "memory.swap.events", STATS_FLAT },  { "memory.stat", STATS_FLAT },
	{ "memory.pressure", STATS_PRESSURE }, { "cpu.stat", STATS_FLAT },
	{ "cpu.pressure", STATS_PRESSURE },    { "io.stat", STATS_IOSTAT },
	{ "io.pressure", STATS_PRESSURE },     { "pids.current", STATS_SINGLE },
	{ "pids.peak", STATS_SINGLE },         { "pids.events", STATS_FLAT },
	{ "cgroup.stat", STATS_FLAT },         { "irq.pressure", STATS_PRESSURE },
};

/* Parse len bytes of s as a decimal int64 (optional '-'); false when not exactly one. */
static bool parse_i64(const char *s, size_t len, int64_t *ret)
{
	char buf[24], *end;
	size_t sign = len > 0 && s[0] == '-';
	long long v;

	if (len == sign || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (strspn(buf + sign, "0123456789") != len - sign)
		return false;
	errno = 0;
	v = strtoll(buf, &end, 10);
	if (errno != 0 || *end != '\0')
		return false;
	*ret = v;
	return true;
}

/* Parse len bytes of s as a plain decimal fraction ("12.34"); false otherwise. */
static bool parse_fraction(const char *s, size_t len, double *ret)
{
	char buf[32], *end;
	const char *dot;
	double v;

	if (len == 0 || len >= sizeof(buf))
		return false;
	memcpy(buf, s, len);
	buf[len] = '\0';
	dot = strchr(buf, '.');
	if (strspn(buf, "0123456789.") != len || buf[0] == '.' || (dot && strchr(dot + 1, '.')))
		return false;
	errno = 0;
	v = strtod(buf, &end);
	if (errno != 0 || *end != '\0')
		return false;
	*ret = v;
	return true;
}

/* Next line of *p (NUL-terminated in place); NULL at the end. */
static char *next_line(char **p)
{
	char *line = *p, *nl;

	if (!line || !*line)
		return NULL;
	nl = strchr(line, '\n');
	if (nl) {
		*nl = '\0';
		*p = nl + 1;
	} else {
		*p = line + strlen(line);
	}
	return line;
}

/* Add key → int64 to obj. 0 or -ENOMEM. */
static int add_int(json_object *obj, const char *key, int64_t v)
{
	json_object *j = json_object_new_int64(v);

	if (!j || json_object_object_add(obj, key, j) < 0) {
		json_object_put(j);
		return -ENOMEM;
	}
	return 0;
}

/*
 * "123" → "123", "max" → "max": strings, as every 64-bit value that may be a
 * limit travels (io.cgctl.Manager.varlink); *ret NULL when malformed.
 */
static int parse_single(char *text, json_object **ret)
{
	size_t len = strcspn(text, "\n");
	int64_t v;

	*ret = NULL;
	if (text[len] == '\n' && text[len + 1] != '\0')
		return 0;
	if (!(len == 3 && memcmp(text, "max", 3) == 0) && !parse_i64(text, len, &v))
		return 0;
	*ret = json_object_new_string_len(text, (int)len);
	return *ret ? 0 : -ENOMEM;
}

/* "key value" lines → {key: value}; malformed lines skipped. */
static int parse_flat(char *text, json_object **ret)
{
	json_object *obj = json_object_new_object();
	char *p = text, *line;

	if (!obj)
		return -ENOMEM;
	while ((line = next_line(&p))) {
		size_t klen = strcspn(line, " ");
		const char *value = line + klen + 1;
		int64_t v;

		if (klen == 0 || line[klen] != ' ' || !parse_i64(value, strlen(value), &v))
			continue;
		line[klen] = '\0';
		if (add_int(obj, line, v) < 0) {
			json_object_put(obj);
			return -ENOMEM;
		}
	}
	*ret = obj;
	return 0;
}

/*
 * " k=v k=v ..." → {k: v} in obj; avg* values are fractions, others
 * integers. 0, -EBADMSG when malformed, -ENOMEM.
 */
static int parse_pairs(char *s, bool fractions, json_object *obj)
{
	char *save = NULL, *tok;

	for (tok = strtok_r(s, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		char *eq = strchr(tok, '=');
		json_object *j;
		int64_t i;
		double d;

		if (!eq || eq == tok)
			return -EBADMSG;
		*eq = '\0';
		if (fractions && strncmp(tok, "avg", 3) == 0) {
			if (!parse_fraction(eq + 1, strlen(eq + 1), &d))
				return -EBADMSG;
			j = json_object_new_double(d);
		} else {
			if (!parse_i64(eq + 1, strlen(eq + 1), &i))
				return -EBADMSG;
			j = json_object_new_int64(i);
		}
		if (!j || json_object_object_add(obj, tok, j) < 0) {
			json_object_put(j);
			return -ENOMEM;
		}
	}
	return 0;
}

/* Lines "<key> k=v ..." → {key: {k: v}}; malformed lines, or keys valid_key refuses, skipped. */
static int parse_keyed_pairs(char *text, bool fractions, bool (*valid_key)(const char *),
			     json_object **ret)
{
	json_object *obj = json_object_new_object();
	char *p = text, *line;

	if (!obj)
		return -ENOMEM;
	while ((line = next_line(&p))) {
		size_t klen = strcspn(line, " ");
		json_object *inner;
		int r;

		if (line[klen] != ' ')
			continue;
		line[klen] = '\0';
		if (!valid_key(line))
			continue;
		inner = json_object_new_object();
		if (!inner)
			r = -ENOMEM;
		else
			r = parse_pairs(line + klen + 1, fractions, inner);
		if (r == 0 && json_object_object_add(obj, line, inner) < 0)
			r = -ENOMEM;
		if (r < 0)
			json_object_put(inner);
		if (r == -ENOMEM) {
			json_object_put(obj);
			return r;
		}
	}
	*ret = obj;
	return 0;
}

/* Pressure lines are "some ..." and "full ...". */
static bool pressure_key(const char *key)
{
	return strcmp(key, "some") == 0 || strcmp(key, "full") == 0;
}

/* io.stat lines start with a device "MAJ:MIN". */
static bool device_key(const char *key)
{
	size_t maj = strspn(key, "0123456789");

	return maj > 0 && maj <= 10 && key[maj] == ':' && key[maj + 1] &&
	       strspn(key + maj + 1, "0123456789") == strlen(key + maj + 1) &&
	       strlen(key + maj + 1) <= 10;
}

/* Parse text of the given kind; *ret NULL when a single value is malformed. */
static int stats_parse(enum stats_kind kind, char *text, json_object **ret)
{
	switch (kind) {
	case STATS_SINGLE:
		return parse_single(text, ret);
	case STATS_FLAT:
		return parse_flat(text, ret);
	case STATS_PRESSURE:
		return parse_keyed_pairs(text, true, pressure_key, ret);
	case STATS_IOSTAT:
		return parse_keyed_pairs(text, false, device_key, ret);
	}
	return -EINVAL;
}

/*
 * Whether a read error means "no such statistics here" rather than a failure;
 * a directory (-EISDIR) is a delegatee's cgroup named like a file its kernel lacks.
 */
static bool stats_absent(int r)
{
	return r == -ENOENT || r == -EOPNOTSUPP || r == -ENODEV || r == -EACCES || r == -EPERM || r == -EISDIR;
}

/* Read and parse one file into dest[name] when it exists and parses. */
static int stats_add_file(int rootfd, const char *relpath, const char *name,
			  enum stats_kind kind, json_object *dest)
{
	_cleanup_free_ char *text = NULL;
	json_object *parsed = NULL;
	int r;

	r = cgfs_read_attr(rootfd, relpath ? relpath : "", name, STATS_READ_MAX, &text);
	if (r < 0)
		return stats_absent(r) ? 0 : r;
	r = stats_parse(kind, text, &parsed);
	if (r < 0 || !parsed)
		return r;
	if (json_object_object_add(dest, name, parsed) < 0) {
		json_object_put(parsed);
		return -ENOMEM;
	}
	return 0;
}

/* Whether name is a hugetlb statistics file, and of which kind. */
static bool hugetlb_stats_file(const char *name, enum stats_kind *ret_kind)
{
	static const char *const singles[] = { "current", "max", "rsvd.current", "rsvd.max", NULL };
	static const char *const flats[] = { "events", "events.local", NULL };
	const char *rest;
	size_t n;

	if (strncmp(name, "hugetlb.", 8) != 0)
		return false;
	n = strspn(name + 8, "0123456789");
	/* "hugetlb.<digits>(K|M|G)B.<rest>" */
	rest = name + 8 + n;
	if (n == 0 || !rest[0] || !strchr("KMG", rest[0]) || rest[1] != 'B' || rest[2] != '.')
		return false;
	rest += 3;
	for (size_t i = 0; singles[i]; i++)
		if (strcmp(rest, singles[i]) == 0) {
			*ret_kind = STATS_SINGLE;
			return true;
		}
	for (size_t i = 0; flats[i]; i++)
		if (strcmp(rest, flats[i]) == 0) {
			*ret_kind = STATS_FLAT;
			return true;
		}
	return false;
}

/* qsort comparator for an array of C strings. */
static int strcmp_cb(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The hugetlb statistics files of relpath, sorted, as a strv (at most STATS_MAX_HUGETLB). */
static int stats_list_hugetlb(int rootfd, const char *relpath, char ***ret)
{
	char **names = calloc(STATS_MAX_HUGETLB + 1, sizeof(char *));
	struct dirent *de;
	size_t n = 0;
	DIR *d;
	int fd;

	if (!names)
		return -ENOMEM;
	fd = cgfs_open_dir(rootfd, relpath);
	if (fd < 0) {
		free(names);
		return fd;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		free(names);
		return -errno;
	}
	while (n < STATS_MAX_HUGETLB && (de = readdir(d))) {
		enum stats_kind kind;

		if (!hugetlb_stats_file(de->d_name, &kind))
			continue;
		names[n] = strdup(de->d_name);
		if (!names[n++]) {
			closedir(d);
			cgfs_strv_free(names);
			return -ENOMEM;
		}
	}
	closedir(d);
	qsort(names, n, sizeof(char *), strcmp_cb);
	*ret = names;
	return 0;
}

/*
 * The "values" object (single-value files, as strings) and the "files" object
 * (every other statistics file, parsed into an object): all there are.
 */
static int stats_files_collect(int rootfd, const char *relpath, json_object **ret_values,
			       json_object **ret_files)
{
	json_object *values = json_object_new_object(), *files = json_object_new_object();
	char **hugetlb = NULL;
	int r = values && files ? 0 : -ENOMEM;

	for (size_t i = 0; r == 0 && i < ELEMENTSOF(stats_files); i++)
		r = stats_add_file(rootfd, relpath, stats_files[i].name, stats_files[i].kind,
				   stats_files[i].kind == STATS_SINGLE ? values : files);
	if (r == 0)
		r = stats_list_hugetlb(rootfd, relpath, &hugetlb);
	for (size_t i = 0; r == 0 && hugetlb[i]; i++) {
		enum stats_kind kind = STATS_SINGLE;

		hugetlb_stats_file(hugetlb[i], &kind);
		r = stats_add_file(rootfd, relpath, hugetlb[i], kind, kind == STATS_SINGLE ? values : files);
	}
	cgfs_strv_free(hugetlb);
	if (r < 0) {
		json_object_put(values);
		json_object_put(files);
		return r;
	}
	*ret_values = values;
	*ret_files = files;
	return 0;
}

/* The pids of cgroup.procs as a JSON array; malformed lines skipped. */
static int stats_pids(int rootfd, const char *relpath, json_object **ret)
{
	_cleanup_free_ char *text = NULL;
	json_object *arr;
	char *p, *line;
	int r;

	r = cgfs_read_attr(rootfd, relpath ? relpath : "", "cgroup.procs", STATS_READ_MAX, &text);
	/* A threaded cgroup's cgroup.procs refuses reads: it has no processes of its own. */
	if (r < 0 && r != -EOPNOTSUPP)
		return r;
	arr = json_object_new_array();
	if (!arr)
		return -ENOMEM;
	p = text;
	while ((line = next_line(&p))) {
		int64_t pid;
		json_object *j;

		if (!parse_i64(line, strlen(line), &pid) || pid <= 0 || pid > INT32_MAX)
			continue;
		j = json_object_new_int64(pid);
		if (!j || json_object_array_add(arr, j) < 0) {
			json_object_put(j);
			json_object_put(arr);
			return -ENOMEM;
		}
	}
	*ret = arr;
	return 0;
}

/* Add key → v (taken) to obj; 0 or -ENOMEM (v released). */
static int stats_add(json_object *obj, const char *key, json_object *v)
{
	if (!v || json_object_object_add(obj, key, v) < 0) {
		json_object_put(v);
		return -ENOMEM;
	}
	return 0;
}

int stats_collect(int rootfd, const char *relpath, json_object **ret)
{
	json_object *stats, *pids = NULL, *values = NULL, *files = NULL;
	bool populated = false, frozen = false;
	int r;

	r = cgfs_read_events(rootfd, relpath, &populated, &frozen);
	if (r < 0)
		return r;
	r = stats_pids(rootfd, relpath, &pids);
	if (r < 0)
		return r;
	r = stats_files_collect(rootfd, relpath, &values, &files);
	if (r < 0) {
		json_object_put(pids);
		return r;
	}
	stats = json_object_new_object();
	if (!stats || stats_add(stats, "populated", json_object_new_boolean(populated)) < 0 ||
	    stats_add(stats, "frozen", json_object_new_boolean(frozen)) < 0 ||
	    stats_add(stats, "pids", TAKE_PTR(pids)) < 0 ||
	    stats_add(stats, "values", TAKE_PTR(values)) < 0 ||
	    stats_add(stats, "files", TAKE_PTR(files)) < 0) {
		json_object_put(pids);
		json_object_put(values);
		json_object_put(files);
		json_object_put(stats);
		return -ENOMEM;
	}
	*ret = stats;
	return 0;
}

/* How the file called name is laid out: the table's kind, else a single value (memory.max). */
static enum stats_kind stats_kind_of(const char *name)
{
	for (size_t i = 0; i < ELEMENTSOF(stats_files); i++)
		if (strcmp(stats_files[i].name, name) == 0)
			return stats_files[i].kind;
	return STATS_SINGLE;
}

int stats_add_files(int rootfd, const char *relpath, const char *const *names, json_object *values,
		    json_object *files)
{
	int r = 0;

	for (size_t i = 0; r == 0 && names[i]; i++) {
		enum stats_kind kind = stats_kind_of(names[i]);

		r = stats_add_file(rootfd, relpath, names[i], kind, kind == STATS_SINGLE ? values : files);
	}
	return r;
}
