/* SPDX-License-Identifier: MIT */
/* stats.h: a cgroup's statistics files read and parsed into the Varlink Stats object. */
#pragma once

#include <json-c/json.h>

/*
 * Collect the Stats object of the cgroup relpath beneath rootfd:
 * {"populated": bool, "frozen": bool, "pids": [int], "values": {name: string},
 * "files": {name: parsed}}. Single-value files (memory.current, pids.current,
 * hugetlb.*.max...) go to "values" as strings: a decimal number or "max".
 * Flat keyed files (memory.stat, cpu.stat, *.events, cgroup.stat) become
 * {key: int}; pressure files
 * {"some": {"avg10": double, ..., "total": int}, "full": {...}}; io.stat
 * {"MAJ:MIN": {key: int}}. Files that do not exist or cannot be read are
 * absent, malformed lines skipped. 0, or -errno (-ENOENT: no such cgroup).
 */
int stats_collect(int rootfd, const char *relpath, json_object **ret);
/*
 * Read the files called names (NULL-terminated) of relpath into files, parsed
 * as stats_collect() does (names it does not know as single values, for
 * memory.max, pids.max); missing ones absent. 0 or -errno.
 */
int stats_add_files(int rootfd, const char *relpath, const char *const *names, json_object *values,
		    json_object *files);
