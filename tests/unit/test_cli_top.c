// SPDX-License-Identifier: MIT
/* test_cli_top.c: Check suite for `cgctl top`'s model (client/cli_top_view.c) and --pressure parsing. */

#include <check.h>
#include <errno.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../client/cli.h"
#include "../../client/cli_top.h"
#include "../../client/cli_width.h"

/* A Snapshot reply at time usec (µs) with the CgroupSnapshot objects cgroups (JSON text). */
static char *reply(long long usec, const char *cgroups)
{
	char *s = NULL;

	ck_assert_int_ge(asprintf(&s, "{\"status\":{\"entries\":3,\"controllers\":[\"hugetlb\"],\"connections\":1,"
				      "\"watchers\":0,\"pressure_triggers\":0,\"journal_bytes\":10,\"journal_records\":2,"
				      "\"compactions\":0,\"delegated\":true},\"time\":%lld,\"truncated\":false,"
				      "\"cgroups\":[%s]}", usec, cgroups), 0);
	return s;
}

/* One CgroupSnapshot without memory, pids or io: cpu.stat usage and cpu.pressure some avg10. */
#define CG(name, usage, avg10) \
	"{\"name\":\"" name "\",\"processes\":1,\"controllers\":[],\"files\":{\"cpu.stat\":{\"usage_usec\":" usage "}," \
	"\"cpu.pressure\":{\"some\":{\"avg10\":" avg10 "}}}}"

/* Render f as text (sorted by key) into a malloc'd string. */
static char *render(struct top_frame *f, enum top_sort key)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);

	ck_assert_ptr_nonnull(mem);
	ck_assert_int_eq(top_frame_sort(f, key), 0);
	top_render_text(f, key, 0, 0, mem);
	fclose(mem);
	return text;
}

/* Two frames: idle, busy (a string usage, as 64-bit values may travel), busy/child, and one that is new. */
static void two_frames(struct top_frame *prev, struct top_frame *cur)
{
	char *a = reply(1000000, CG("busy", "\"1000\"", "1.5") "," CG("busy/child", "1000", "0") "," CG("idle", "5000", "0"));
	char *b = reply(3000000, CG("busy", "\"1001000\"", "42.25") "," CG("busy/child", "201000", "0") ","
				 CG("idle", "5000", "0") "," CG("new", "99", "0"));

	ck_assert_int_eq(top_frame_build(a, NULL, prev), 0);
	ck_assert_int_eq(top_frame_build(b, prev, cur), 0);
	free(a);
	free(b);
}

START_TEST(test_rates)
{
	struct top_frame prev, cur;

	two_frames(&prev, &cur);
	ck_assert_uint_eq(cur.n, 4);
	/* 1 s of CPU in 2 s: 50 %; 0.2 s: 10 %; a cgroup seen once has no rate. */
	ck_assert_double_eq_tol(cur.rows[0].cpu, 50.0, 1e-9);
	ck_assert_double_eq_tol(cur.rows[1].cpu, 10.0, 1e-9);
	ck_assert_double_eq_tol(cur.rows[2].cpu, 0.0, 1e-9);
	ck_assert(cur.rows[3].cpu < 0);
	ck_assert(prev.rows[0].cpu < 0);
	ck_assert_double_eq_tol(cur.rows[0].psi_cpu, 42.25, 1e-9);
	ck_assert(!cur.has_mem && !cur.has_pids && !cur.has_io && cur.has_psi);
	top_frame_done(&prev);
	top_frame_done(&cur);
}
END_TEST

/* A cgroup read later than the frame's time (a big Snapshot is read over many loop turns): its rate
 * uses its own reading times, not the frame's. */
START_TEST(test_rates_row_time)
{
	struct top_frame prev, cur;
	char *a = reply(1000000, "{\"name\":\"late\",\"time\":1500000,\"processes\":1,\"controllers\":[],"
				 "\"files\":{\"cpu.stat\":{\"usage_usec\":0}}}");
	char *b = reply(3000000, "{\"name\":\"late\",\"time\":2500000,\"processes\":1,\"controllers\":[],"
				 "\"files\":{\"cpu.stat\":{\"usage_usec\":1000000}}}");

	ck_assert_int_eq(top_frame_build(a, NULL, &prev), 0);
	ck_assert_int_eq(top_frame_build(b, &prev, &cur), 0);
	/* 1 s of CPU between readings 1 s apart: 100 % (the frames, 2 s apart, would say 50 %). */
	ck_assert_double_eq_tol(cur.rows[0].cpu, 100.0, 1e-9);
	top_frame_done(&prev);
	top_frame_done(&cur);
	free(a);
	free(b);
}
END_TEST

START_TEST(test_tree_sorted_by_cpu)
{
	struct top_frame prev, cur;
	char *text;

	two_frames(&prev, &cur);
	text = render(&cur, TOP_SORT_CPU);
	/* busy first, its child indented below it, then the rest; the new one's CPU% is "-". */
	ck_assert_msg(strstr(text, "\nbusy ") && strstr(text, "\n  child ") && strstr(text, "\nidle ") &&
		      strstr(text, "\nnew "), "%s", text);
	ck_assert(strstr(text, "\nbusy ") < strstr(text, "\n  child "));
	ck_assert(strstr(text, "\n  child ") < strstr(text, "\nidle "));
	ck_assert(strstr(text, "\nidle ") < strstr(text, "\nnew "));
	ck_assert_ptr_nonnull(strstr(text, "sorted by cpu"));
	ck_assert_ptr_nonnull(strstr(text, " 50.0 "));
	/* Missing controllers are said once, in the header, and get no columns. */
	ck_assert_ptr_nonnull(strstr(text, "not enabled: memory (MEM, MAX), pids (PIDS), io (READ/s, WRITE/s)\n"));
	ck_assert_ptr_null(strstr(text, " MEM "));
	ck_assert_ptr_nonnull(strstr(text, "PSI-CPU"));
	free(text);
	text = render(&cur, TOP_SORT_NAME);
	ck_assert(strstr(text, "\nbusy ") < strstr(text, "\nidle "));
	ck_assert(strstr(text, "\nidle ") < strstr(text, "\nnew "));
	free(text);
	top_frame_done(&prev);
	top_frame_done(&cur);
}
END_TEST

START_TEST(test_json_and_memory)
{
	static const char cg[] =
		"{\"name\":\"m\",\"processes\":2,\"controllers\":[\"memory\"],\"files\":{\"memory.current\":4096,"
		"\"memory.max\":\"max\",\"io.stat\":{\"8:0\":{\"rbytes\":10,\"wbytes\":20},\"8:16\":{\"rbytes\":\"5\"}}}}";
	struct top_frame f;
	char *json = reply(5, cg), *text = NULL, *out;
	size_t len = 0;
	FILE *mem;

	ck_assert_int_eq(top_frame_build(json, NULL, &f), 0);
	ck_assert(f.has_mem && f.has_io && !f.has_pids);
	ck_assert_int_eq(f.rows[0].mem, 4096);
	ck_assert_int_eq(f.rows[0].mem_max, TOP_MAX);
	ck_assert_int_eq(f.rows[0].rbytes, 15);
	ck_assert_int_eq(f.rows[0].wbytes, 20);
	out = render(&f, TOP_SORT_MEMORY);
	ck_assert_msg(strstr(out, " 4.0K      max") != NULL, "%s", out);
	free(out);
	mem = open_memstream(&text, &len);
	top_render_json(&f, TOP_SORT_MEMORY, mem);
	fclose(mem);
	ck_assert_msg(strstr(text, "\"name\":\"m\",\"depth\":0,\"processes\":2,\"memory_current\":4096,"
				   "\"memory_max\":\"max\"") != NULL, "%s", text);
	ck_assert_ptr_null(strstr(text, "cpu_percent"));
	ck_assert_int_eq((int)(strchr(text, '\n') - text), (int)strlen(text) - 1);
	free(text);
	free(json);
	top_frame_done(&f);
	/* Not a Snapshot reply. */
	ck_assert_int_eq(top_frame_build("{\"cgroups\":1}", NULL, &f), -EPROTO);
	ck_assert_int_eq(top_frame_build("nope", NULL, &f), -EPROTO);
}
END_TEST

START_TEST(test_sort_keys)
{
	enum top_sort k;

	ck_assert_int_eq(top_sort_parse("io", &k), 0);
	ck_assert_int_eq(k, TOP_SORT_IO);
	ck_assert_str_eq(top_sort_name(TOP_SORT_PIDS), "pids");
	ck_assert_int_eq(top_sort_parse("CPU", &k), -EINVAL);
}
END_TEST

START_TEST(test_pressure_parse)
{
	struct cgctl_pressure_trigger t;
	const char *why;

	ck_assert_int_eq(cli_pressure_parse("memory=some:150ms/2s", &t, &why), 0);
	ck_assert_uint_eq(t.size, sizeof(t));
	ck_assert_str_eq(t.resource, "memory");
	ck_assert_str_eq(t.kind, "some");
	ck_assert_uint_eq(t.stall_usec, 150000);
	ck_assert_uint_eq(t.window_usec, 2000000);
	ck_assert_int_eq(cli_pressure_parse("io=full:500000/4000000us", &t, &why), 0);
	ck_assert_uint_eq(t.stall_usec, 500000);
	ck_assert_uint_eq(t.window_usec, 4000000);
	ck_assert_int_eq(cli_pressure_parse("disk=some:1s/2s", &t, &why), -EINVAL);
	ck_assert_int_eq(cli_pressure_parse("cpu=most:1s/2s", &t, &why), -EINVAL);
	ck_assert_int_eq(cli_pressure_parse("cpu=some:1h/2s", &t, &why), -EINVAL);
	ck_assert_int_eq(cli_pressure_parse("cpu=some:-1/2s", &t, &why), -EINVAL);
	ck_assert_int_eq(cli_pressure_parse("cpu=some:150ms", &t, &why), -EINVAL);
	ck_assert_int_eq(cli_pressure_parse("cpu=some:99999999999999999999/2s", &t, &why), -EINVAL);
}
END_TEST

/* The suite. */
/* A frame of cgroups (JSON text), sorted by name. */
static void one_frame(const char *cgroups, struct top_frame *f)
{
	char *a = reply(1000000, cgroups);

	ck_assert_int_eq(top_frame_build(a, NULL, f), 0);
	ck_assert_int_eq(top_frame_sort(f, TOP_SORT_NAME), 0);
	free(a);
}

START_TEST(test_names_escaped)
{
	struct top_frame f;
	char *text;

	/* A tenant's names: C1 CSI "2J" (clear screen), ESC "]0;" (set title), an RLO; JSON escapes as the wire has them. */
	one_frame(CG("a\\u009b2J", "1", "0") "," CG("t\\u001b]0;x\\u0007", "1", "0") "," CG("r\\u202eb", "1", "0"), &f);
	text = render(&f, TOP_SORT_NAME);
	ck_assert_ptr_null(strstr(text, "\xc2\x9b"));
	ck_assert_ptr_null(strchr(text, '\x1b'));
	ck_assert_ptr_null(strstr(text, "\xe2\x80\xae"));
	ck_assert_ptr_nonnull(strstr(text, "a\\u009b2J "));
	ck_assert_ptr_nonnull(strstr(text, "t\\x1b]0;x\\x07 "));
	ck_assert_ptr_nonnull(strstr(text, "r\\u202eb "));
	free(text);
	top_frame_done(&f);
}
END_TEST

START_TEST(test_name_column_display_width)
{
	struct top_frame f;
	char *text, *line, *nl;
	size_t title = 0;

	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C.UTF-8"));
	one_frame(CG("ascii", "1", "0") "," CG("\xe6\x97\xa5\xe6\x9c\xac", "1", "0") "," CG("caf\xc3\xa9", "1", "0"), &f);
	text = render(&f, TOP_SORT_NAME);
	/* The titles and every row take the same columns (日本 takes four, in six bytes). */
	for (line = strstr(text, "NAME "); line && *line; line = nl + 1) {
		size_t w;

		nl = strchr(line, '\n');
		ck_assert_ptr_nonnull(nl);
		w = cli_display_width(line, (size_t)(nl - line));
		if (!title)
			title = w;
		ck_assert_msg(w == title, "%.*s: %zu columns, the titles %zu", (int)(nl - line), line, w, title);
	}
	free(text);
	top_frame_done(&f);
	setlocale(LC_CTYPE, "C");
}
END_TEST

/* The lines top_render_screen() wrote to a cols x rows terminal; each checked to fit. */
static int screen_lines(struct top_frame *f, int cols, int rows)
{
	char *text = NULL, *p, *end;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	int n = 0;

	ck_assert_int_eq(top_render_screen(f, TOP_SORT_NAME, cols, rows, mem), 0);
	fclose(mem);
	ck_assert_msg(strncmp(text, "\033[H", 3) == 0 && len >= 6 && strcmp(text + len - 3, "\033[J") == 0, "%s", text);
	ck_assert_msg(mbstowcs(NULL, text, 0) != (size_t)-1, "a character cut: %s", text);
	for (p = text + 3, end = text + len - 3; p < end; n++) {
		char *k = strstr(p, "\033[K");

		ck_assert_ptr_nonnull(k);
		ck_assert_msg(!memchr(p, '\n', (size_t)(k - p)), "a newline inside a line: %s", text);
		ck_assert_msg(cli_display_width(p, (size_t)(k - p)) <= (size_t)cols, "%.*s: wider than %d",
			      (int)(k - p), p, cols);
		p = k + 3;
		if (p < end) {
			ck_assert_msg(strncmp(p, "\r\n", 2) == 0, "%s", text);
			p += 2;
		}
	}
	free(text);
	return n;
}

START_TEST(test_screen_never_scrolls)
{
	struct top_frame f;
	char cgs[4096];
	size_t k = 0;

	ck_assert_ptr_nonnull(setlocale(LC_CTYPE, "C.UTF-8"));
	for (int i = 0; i < 12; i++)
		k += (size_t)snprintf(cgs + k, sizeof(cgs) - k, "%s" CG("\xe6\x97\xa5\xe6\x9c\xac\xe6\x97\xa5%02d", "1", "0"),
				      i ? "," : "", i);
	one_frame(cgs, &f);
	/* 12 rows and 5 header lines on terminals under 8 rows, down to one: never more lines than rows. */
	for (int rows = 1; rows < 8; rows++)
		ck_assert_int_eq(screen_lines(&f, 20, rows), rows);
	ck_assert_int_eq(screen_lines(&f, 7, 30), 17);
	ck_assert_int_eq(screen_lines(&f, 200, 30), 17);
	top_frame_done(&f);
	setlocale(LC_CTYPE, "C");
}
END_TEST

START_TEST(test_tree_4096)
{
	/* 4096 cgroups: 64 parents of 63 children each; every child right below its parent, in name order. */
	size_t cap = 4096 * 256, k = 0;
	char *cgs = malloc(cap);
	struct top_frame f;

	ck_assert_ptr_nonnull(cgs);
	for (int p = 0; p < 64; p++)
		for (int c = 0; c < 64; c++)
			k += c ? (size_t)snprintf(cgs + k, cap - k, "%s" CG("p%02d/c%02d", "1", "0"), k ? "," : "", p, c)
			       : (size_t)snprintf(cgs + k, cap - k, "%s" CG("p%02d", "1", "0"), k ? "," : "", p);
	ck_assert_uint_lt(k, cap);
	one_frame(cgs, &f);
	ck_assert_uint_eq(f.n, 4096);
	for (size_t i = 0; i < f.n; i++) {
		const struct top_row *r = &f.rows[f.order[i]];

		ck_assert_int_eq(r->depth, i % 64 ? 1 : 0);
		ck_assert_int_eq(r->parent, i % 64 ? (int)f.order[i - i % 64] : -1);
		ck_assert_str_eq(r->name, f.rows[i].name); /* name order: the tree's own */
	}
	free(cgs);
	top_frame_done(&f);
}
END_TEST

static Suite *top_suite(void)
{
	Suite *s = suite_create("cli_top");
	TCase *tc = tcase_create("model");

	tcase_add_test(tc, test_rates);
	tcase_add_test(tc, test_rates_row_time);
	tcase_add_test(tc, test_tree_sorted_by_cpu);
	tcase_add_test(tc, test_json_and_memory);
	tcase_add_test(tc, test_sort_keys);
	tcase_add_test(tc, test_pressure_parse);
	tcase_add_test(tc, test_name_column_display_width);
	tcase_add_test(tc, test_names_escaped);
	tcase_add_test(tc, test_screen_never_scrolls);
	tcase_add_test(tc, test_tree_4096);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(top_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
