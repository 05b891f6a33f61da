/* SPDX-License-Identifier: MIT */
/* cli_top_view.c: `cgctl top`'s model: frames from Snapshot replies, rates, tree order, text and JSON. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_esc.h"
#include "cli_top.h"
#include "cli_width.h"

static const char *const sort_names[] = { "cpu", "memory", "pids", "name", "io" };

int top_sort_parse(const char *s, enum top_sort *ret)
{
	for (size_t i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
		if (strcmp(s, sort_names[i]) == 0) {
			*ret = (enum top_sort)i;
			return 0;
		}
	return -EINVAL;
}

const char *top_sort_name(enum top_sort key)
{
	return sort_names[key];
}

/* A number of the reply: int, double, or a decimal string (64-bit values may travel so); false otherwise. */
static bool top_num(json_object *v, int64_t *ret)
{
	const char *s;
	char *end;

	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		*ret = json_object_get_int64(v);
		return true;
	}
	if (!json_object_is_type(v, json_type_string) || !(s = json_object_get_string(v))[0])
		return false;
	errno = 0;
	*ret = strtoll(s, &end, 10);
	return errno == 0 && *end == '\0';
}

/* files[file] (or files[file][key]) as a number; "max" as TOP_MAX; TOP_NONE when absent. */
static int64_t top_file(json_object *files, const char *file, const char *key)
{
	json_object *v;
	int64_t n;

	if (!json_object_object_get_ex(files, file, &v) || (key && !json_object_object_get_ex(v, key, &v)))
		return TOP_NONE;
	if (json_object_is_type(v, json_type_string) && strcmp(json_object_get_string(v), "max") == 0)
		return TOP_MAX;
	return top_num(v, &n) ? n : TOP_NONE;
}

/* some avg10 of a pressure file; -1 when absent. */
static double top_psi(json_object *files, const char *file)
{
	json_object *v;

	if (!json_object_object_get_ex(files, file, &v) || !json_object_object_get_ex(v, "some", &v) ||
	    !json_object_object_get_ex(v, "avg10", &v))
		return -1;
	if (json_object_is_type(v, json_type_string))
		return strtod(json_object_get_string(v), NULL);
	return json_object_get_double(v);
}

/* Bytes read and written over every device of io.stat; TOP_NONE without io.stat. */
static void top_io(json_object *files, int64_t *ret_r, int64_t *ret_w)
{
	json_object *io;
	int64_t r = 0, w = 0, n;

	*ret_r = *ret_w = TOP_NONE;
	if (!json_object_object_get_ex(files, "io.stat", &io) || !json_object_is_type(io, json_type_object))
		return;
	json_object_object_foreach(io, dev, v) {
		json_object *x;

		(void)dev;
		if (json_object_object_get_ex(v, "rbytes", &x) && top_num(x, &n))
			r += n;
		if (json_object_object_get_ex(v, "wbytes", &x) && top_num(x, &n))
			w += n;
	}
	*ret_r = r;
	*ret_w = w;
}

/* The row of prev (rows in name order) called name, NULL when there is none. */
static const struct top_row *top_prev(const struct top_frame *prev, const char *name)
{
	size_t lo = 0, hi = prev ? prev->n : 0;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(prev->rows[mid].name, name);

		if (c == 0)
			return &prev->rows[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* Per second rate of a counter between two samples; -1 when unknown (new cgroup, reset). */
static double top_rate(int64_t now, int64_t before, double seconds)
{
	if (now < 0 || before < 0 || now < before || seconds <= 0)
		return -1;
	return (double)(now - before) / seconds;
}

/* Fill row from one CgroupSnapshot; rates against prev. false when it is not one. */
static bool top_row_fill(struct top_row *row, json_object *o, const struct top_frame *prev, int64_t now)
{
	const struct top_row *p;
	json_object *v, *values, *files;
	double dt;

	if (!json_object_object_get_ex(o, "name", &v) || !json_object_is_type(v, json_type_string) ||
	    !json_object_object_get_ex(o, "files", &files))
		return false;
	/* Single-value files travel as strings in "values" (a daemon before that put them in "files"). */
	if (!json_object_object_get_ex(o, "values", &values))
		values = files;
	row->name = json_object_get_string(v);
	row->procs = json_object_object_get_ex(o, "processes", &v) && top_num(v, &row->procs) ? row->procs : TOP_NONE;
	row->mem = top_file(values, "memory.current", NULL);
	row->mem_max = top_file(values, "memory.max", NULL);
	row->pids = top_file(values, "pids.current", NULL);
	row->pids_max = top_file(values, "pids.max", NULL);
	row->usage_usec = top_file(files, "cpu.stat", "usage_usec");
	top_io(files, &row->rbytes, &row->wbytes);
	row->psi_cpu = top_psi(files, "cpu.pressure");
	row->psi_mem = top_psi(files, "memory.pressure");
	row->psi_io = top_psi(files, "io.pressure");
	/* Each cgroup's own reading time: a big Snapshot is read over many loop turns. */
	row->time_usec = json_object_object_get_ex(o, "time", &v) && top_num(v, &row->time_usec) ? row->time_usec : now;
	p = top_prev(prev, row->name);
	dt = p ? (double)(row->time_usec - p->time_usec) / 1e6 : 0;
	row->cpu = p ? top_rate(row->usage_usec, p->usage_usec, dt) / 1e4 : -1; /* µs/s → % */
	row->io_r = p ? top_rate(row->rbytes, p->rbytes, dt) : -1;
	row->io_w = p ? top_rate(row->wbytes, p->wbytes, dt) : -1;
	return true;
}

int top_frame_build(const char *json, const struct top_frame *prev, struct top_frame *ret)
{
	struct top_frame f = { 0 };
	json_object *cg, *v;
	size_t n;

	f.reply = json_tokener_parse(json);
	if (!f.reply || !json_object_object_get_ex(f.reply, "cgroups", &cg) || !json_object_is_type(cg, json_type_array)) {
		json_object_put(f.reply);
		return -EPROTO;
	}
	json_object_object_get_ex(f.reply, "status", &f.status);
	if (json_object_object_get_ex(f.reply, "time", &v))
		top_num(v, &f.time_usec);
	f.truncated = json_object_object_get_ex(f.reply, "truncated", &v) && json_object_get_boolean(v);
	n = json_object_array_length(cg);
	f.rows = calloc(n + 1, sizeof(*f.rows));
	f.order = calloc(n + 1, sizeof(*f.order));
	if (!f.rows || !f.order) {
		top_frame_done(&f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct top_row *row = &f.rows[f.n];

		if (!top_row_fill(row, json_object_array_get_idx(cg, i), prev, f.time_usec))
			continue;
		f.has_mem |= row->mem != TOP_NONE;
		f.has_pids |= row->pids != TOP_NONE;
		f.has_io |= row->rbytes != TOP_NONE;
		f.has_psi |= row->psi_cpu >= 0 || row->psi_mem >= 0 || row->psi_io >= 0;
		f.n++;
	}
	*ret = f;
	return 0;
}

void top_frame_done(struct top_frame *f)
{
	json_object_put(f->reply);
	free(f->rows);
	free(f->order);
	memset(f, 0, sizeof(*f));
}

/* The sort key's figure of a row (higher first). */
static double top_key(const struct top_row *r, enum top_sort key)
{
	switch (key) {
	case TOP_SORT_CPU: return r->cpu;
	case TOP_SORT_MEMORY: return (double)r->mem;
	case TOP_SORT_PIDS: return (double)(r->pids != TOP_NONE ? r->pids : r->procs);
	case TOP_SORT_IO: return (r->io_r < 0 ? 0 : r->io_r) + (r->io_w < 0 ? 0 : r->io_w);
	case TOP_SORT_NAME: return 0;
	}
	return 0;
}

/* qsort_r comparator: by key descending, then name ascending. */
static int top_cmp_cb(const void *a, const void *b, void *arg)
{
	const struct top_frame *f = ((void **)arg)[0];
	enum top_sort key = *(enum top_sort *)((void **)arg)[1];
	const struct top_row *x = &f->rows[*(const size_t *)a], *y = &f->rows[*(const size_t *)b];
	double kx = top_key(x, key), ky = top_key(y, key);

	if (kx != ky)
		return kx > ky ? -1 : 1;
	return strcmp(x->name, y->name);
}

/* Index of the nearest ancestor of row i shown in f, -1 when none (rows are in name order). */
static int top_parent(const struct top_frame *f, size_t i)
{
	char buf[1100];
	char *slash;

	snprintf(buf, sizeof(buf), "%s", f->rows[i].name);
	while ((slash = strrchr(buf, '/'))) {
		const struct top_row *p;

		*slash = '\0';
		if ((p = top_prev(f, buf)))
			return (int)(p - f->rows);
	}
	return -1;
}

/* Append row i and its subtree to order: children (kid[i] first, then along next[]) in sorted order. */
static void top_emit(struct top_frame *f, const size_t *kid, const size_t *next, size_t i, int depth, size_t *k)
{
	f->rows[i].depth = depth;
	f->order[(*k)++] = i;
	for (size_t j = kid[i]; j != SIZE_MAX; j = next[j])
		top_emit(f, kid, next, j, depth + 1, k);
}

int top_frame_sort(struct top_frame *f, enum top_sort key)
{
	void *arg[2] = { f, &key };
	/* sorted, then each row's first child and next sibling (SIZE_MAX: none); kid[n] holds the top rows. */
	size_t *sorted = calloc(3 * (f->n + 1), sizeof(size_t)), k = 0;
	size_t *kid, *next;

	if (!sorted)
		return -ENOMEM;
	kid = sorted + f->n + 1;
	next = kid + f->n + 1;
	for (size_t i = 0; i < f->n; i++) {
		sorted[i] = i;
		f->rows[i].parent = top_parent(f, i);
	}
	qsort_r(sorted, f->n, sizeof(size_t), top_cmp_cb, arg);
	for (size_t i = 0; i <= f->n; i++)
		kid[i] = next[i] = SIZE_MAX;
	/* Backwards, each pushed in front: siblings end up in sorted order. */
	for (size_t j = f->n; j-- > 0;) {
		size_t i = sorted[j], p = f->rows[i].parent < 0 ? f->n : (size_t)f->rows[i].parent;

		next[i] = kid[p];
		kid[p] = i;
	}
	for (size_t j = kid[f->n]; j != SIZE_MAX; j = next[j])
		top_emit(f, kid, next, j, 0, &k);
	free(sorted);
	return 0;
}

/* Bytes for people: "512", "1.5K", "20.0M"; "max", "-" for TOP_MAX, TOP_NONE. */
static void top_bytes(double v, char *buf, size_t size)
{
	static const char units[] = "KMGTP";
	int u = -1;

	if (v == TOP_MAX) {
		snprintf(buf, size, "max");
		return;
	}
	if (v < 0) {
		snprintf(buf, size, "-");
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	if (u < 0)
		snprintf(buf, size, "%.0f", v);
	else
		snprintf(buf, size, "%.1f%c", v, units[u]);
}

/* A count or "max"/"-". */
static void top_count(int64_t v, char *buf, size_t size)
{
	if (v == TOP_MAX)
		snprintf(buf, size, "max");
	else if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%lld", (long long)v);
}

/* A percentage or "-". */
static void top_pct(double v, char *buf, size_t size)
{
	if (v < 0)
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f", v);
}

/* A status member as a number, 0 when absent. */
static long long top_status_num(const struct top_frame *f, const char *key)
{
	json_object *v;
	int64_t n = 0;

	if (f->status && json_object_object_get_ex(f->status, key, &v))
		top_num(v, &n);
	return (long long)n;
}

/* The header: the daemon's figures, what is not enabled (once), the sort key. */
static void top_header(const struct top_frame *f, enum top_sort key, FILE *out)
{
	json_object *ctl = NULL;
	size_t nctl;

	fprintf(out, "cgctld: %zu cgroups, %lld entries, controllers:", f->n, top_status_num(f, "entries"));
	if (f->status)
		json_object_object_get_ex(f->status, "controllers", &ctl);
	nctl = ctl ? json_object_array_length(ctl) : 0;
	for (size_t i = 0; i < nctl; i++)
		fprintf(out, " %s", cli_esc(json_object_get_string(json_object_array_get_idx(ctl, i))));
	fprintf(out, "%s; %lld connections, %lld watchers, %lld pressure triggers; ledger %lld records, %lld bytes\n",
		nctl ? "" : " none", top_status_num(f, "connections"), top_status_num(f, "watchers"),
		top_status_num(f, "pressure_triggers"), top_status_num(f, "journal_records"),
		top_status_num(f, "journal_bytes"));
	if (f->n > 0 && (!f->has_mem || !f->has_pids || !f->has_io || !f->has_psi)) {
		const char *sep = " ";

		fputs("not enabled:", out);
		if (!f->has_mem)
			fprintf(out, "%smemory (MEM, MAX)", sep), sep = ", ";
		if (!f->has_pids)
			fprintf(out, "%spids (PIDS)", sep), sep = ", ";
		if (!f->has_io)
			fprintf(out, "%sio (READ/s, WRITE/s)", sep), sep = ", ";
		if (!f->has_psi)
			fprintf(out, "%spsi (PSI-*)", sep);
		fputc('\n', out);
	}
	fprintf(out, "sorted by %s%s\n\n", top_sort_name(key), f->truncated ? "; only the first 4096 cgroups" : "");
}

/* Print line cut at width display columns (0: whole). */
static void top_line(const char *line, int width, FILE *out)
{
	size_t cols, len = strlen(line);

	if (width > 0)
		len = cli_display_fit(line, len, (size_t)width, &cols);
	fprintf(out, "%.*s\n", (int)len, line);
}

/* name padded to 32 display columns (a wider one is not cut) into buf: the bytes written. */
static size_t top_name_cell(const char *name, char *buf, size_t size)
{
	size_t w = cli_display_width(name, strlen(name));
	int n = snprintf(buf, size, "%s%*s", name, w < 32 ? (int)(32 - w) : 0, "");

	return n < 0 ? 0 : (size_t)n;
}

/* One row (or the column titles when r is NULL) into buf. */
static void top_row_text(const struct top_frame *f, const struct top_row *r, char *buf, size_t size)
{
	char name[96 + 32], procs[24], cpu[24], mem[16], max[16], pids[24], rd[16], wr[16], pc[16], pm[16], pi[16];
	size_t k = 0;

	if (r) {
		const char *comp = r->parent >= 0 ? r->name + strlen(f->rows[r->parent].name) + 1 : r->name;
		int indent = 2 * (r->depth < 16 ? r->depth : 16);

		/* Escaped (cli_esc.h): a name reaches root's screen from whoever created it. */
		memset(name, ' ', (size_t)indent);
		cli_esc_to(comp, strlen(comp), 0, name + indent, 96);
		top_count(r->procs, procs, sizeof(procs));
		top_pct(r->cpu, cpu, sizeof(cpu));
		top_bytes((double)r->mem, mem, sizeof(mem));
		top_bytes((double)r->mem_max, max, sizeof(max));
		top_count(r->pids, pids, sizeof(pids));
		top_bytes(r->io_r, rd, sizeof(rd));
		top_bytes(r->io_w, wr, sizeof(wr));
		top_pct(r->psi_cpu, pc, sizeof(pc));
		top_pct(r->psi_mem, pm, sizeof(pm));
		top_pct(r->psi_io, pi, sizeof(pi));
	}
	k += top_name_cell(r ? name : "NAME", buf, size);
	if (k < size)
		k += (size_t)snprintf(buf + k, size - k, " %6s %6s", r ? procs : "PROCS", r ? cpu : "CPU%");
	if (f->has_mem && k < size)
		k += (size_t)snprintf(buf + k, size - k, " %8s %8s", r ? mem : "MEM", r ? max : "MAX");
	if (f->has_pids && k < size)
		k += (size_t)snprintf(buf + k, size - k, " %6s", r ? pids : "PIDS");
	if (f->has_io && k < size)
		k += (size_t)snprintf(buf + k, size - k, " %8s %8s", r ? rd : "READ/s", r ? wr : "WRITE/s");
	if (f->has_psi && k < size)
		snprintf(buf + k, size - k, " %7s %7s %7s", r ? pc : "PSI-CPU", r ? pm : "PSI-MEM", r ? pi : "PSI-IO");
}

void top_render_text(const struct top_frame *f, enum top_sort key, int width, int max_rows, FILE *out)
{
	char line[512];

	top_header(f, key, out);
	top_row_text(f, NULL, line, sizeof(line));
	top_line(line, width, out);
	for (size_t i = 0; i < f->n && (max_rows <= 0 || (int)i < max_rows); i++) {
		top_row_text(f, &f->rows[f->order[i]], line, sizeof(line));
		top_line(line, width, out);
	}
}

int top_render_screen(const struct top_frame *f, enum top_sort key, int cols, int rows, FILE *out)
{
	char *text = NULL, *line, *nl;
	size_t len = 0, fit, used;
	FILE *mem = open_memstream(&text, &len);

	if (!mem)
		return -ENOMEM;
	/* More rows than the screen's would not be seen; none would mean all. */
	top_render_text(f, key, 0, rows > 1 ? rows : 1, mem);
	if (fclose(mem) != 0) {
		free(text);
		return -ENOMEM;
	}
	fputs("\033[H", out);
	/* At most rows lines, no newline after the last: the screen never scrolls. */
	line = text;
	for (int i = 0; i < rows && line && *line; i++, line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		fit = cli_display_fit(line, nl ? (size_t)(nl - line) : strlen(line), cols > 0 ? (size_t)cols : SIZE_MAX,
				      &used);
		fprintf(out, "%s%.*s\033[K", i ? "\r\n" : "", (int)fit, line);
	}
	fputs("\033[J", out);
	free(text);
	return 0;
}

/* Add key → v to o when v is known (>= 0). */
static void top_json_num(json_object *o, const char *key, double v, bool integer)
{
	if (v >= 0 || v == TOP_MAX)
		json_object_object_add(o, key, v == TOP_MAX ? json_object_new_string("max")
					       : integer ? json_object_new_int64((int64_t)v) : json_object_new_double(v));
}

/* One row as an object. */
static json_object *top_row_json(const struct top_row *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "name", json_object_new_string(r->name));
	json_object_object_add(o, "depth", json_object_new_int(r->depth));
	top_json_num(o, "processes", (double)r->procs, true);
	top_json_num(o, "cpu_percent", r->cpu, false);
	top_json_num(o, "memory_current", (double)r->mem, true);
	top_json_num(o, "memory_max", (double)r->mem_max, true);
	top_json_num(o, "pids_current", (double)r->pids, true);
	top_json_num(o, "pids_max", (double)r->pids_max, true);
	top_json_num(o, "io_read_bytes_per_sec", r->io_r, false);
	top_json_num(o, "io_write_bytes_per_sec", r->io_w, false);
	top_json_num(o, "cpu_some_avg10", r->psi_cpu, false);
	top_json_num(o, "memory_some_avg10", r->psi_mem, false);
	top_json_num(o, "io_some_avg10", r->psi_io, false);
	return o;
}

void top_render_json(const struct top_frame *f, enum top_sort key, FILE *out)
{
	json_object *o = json_object_new_object(), *rows = json_object_new_array();

	json_object_object_add(o, "time", json_object_new_int64(f->time_usec));
	json_object_object_add(o, "sort", json_object_new_string(top_sort_name(key)));
	json_object_object_add(o, "status", json_object_get(f->status));
	json_object_object_add(o, "truncated", json_object_new_boolean(f->truncated));
	for (size_t i = 0; i < f->n; i++)
		json_object_array_add(rows, top_row_json(&f->rows[f->order[i]]));
	json_object_object_add(o, "cgroups", rows);
	/* What would act on a terminal in its JSON escape (cli_esc.h): names and the daemon's words. */
	fprintf(out, "%s\n",
		cli_esc_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)));
	json_object_put(o);
}
