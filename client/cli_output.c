/* SPDX-License-Identifier: MIT */
/* cli_output.c: what cgctl prints: errors, JSON, the cgroup tree, status and stats. */

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "cli_esc.h"
#include "cli_width.h"
#include "names.h"

/* Report a failure: the daemon's (or a local check's) error name and message, else the code. */
int cli_fail(const struct cli *cli, int r, const char *what)
{
	const char *name = cli->conn ? cgctl_error_name(cli->conn) : NULL;
	const char *msg = cli->conn ? cgctl_error_message(cli->conn) : NULL;
	const char *prefix = "io.cgctl.Manager.";

	if (name) {
		/* Our own errors by their short name; anybody else's (org.varlink.service) in full. */
		if (strncmp(name, prefix, strlen(prefix)) == 0)
			name += strlen(prefix);
		/* The daemon's words, escaped: they may quote a name that holds anything (cli_esc.h). */
		if (msg)
			fprintf(stderr, "cgctl: %s: %s\n", cli_esc(name), cli_esc(msg));
		else
			fprintf(stderr, "cgctl: %s: %s: %s\n", cli_esc(name), what, cgctl_strerror(r));
	} else
		fprintf(stderr, "cgctl: %s: %s\n", what, cgctl_strerror(r));
	return CLI_EXIT_FAILURE;
}

/* Pretty JSON on stdout, what would act on a terminal in its JSON escape (cli_esc.h). */
void cli_print_json(json_object *o)
{
	puts(cli_esc_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
								    JSON_C_TO_STRING_NOSLASHESCAPE)));
}

/* A tri-state as JSON: true, false or null. */
static json_object *tristate(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

/* "k=v" strings back into a string map. */
static json_object *labels_to_json(char **labels)
{
	json_object *m = json_object_new_object();
	char **l;

	for (l = labels; m && l && *l; l++) {
		/* Split at the first "=": a key an older daemon took may be empty. */
		const char *eq = strchr(*l, '=');
		_cleanup_free_ char *key = eq ? strndup(*l, (size_t)(eq - *l)) : NULL;
		json_object *v = key ? json_object_new_string(eq + 1) : NULL;

		if (!v || json_object_object_add(m, key, v) < 0) {
			json_object_put(v);
			json_object_put(m);
			return NULL;
		}
	}
	return m;
}

/* One entry as the wire's Entry object. */
static json_object *entry_to_json(const struct cgctl_entry *e)
{
	json_object *o = json_object_new_object(), *labels = labels_to_json(e->labels);

	if (!o || !labels) {
		json_object_put(o);
		json_object_put(labels);
		return NULL;
	}
	json_object_object_add(o, "name", json_object_new_string(e->name));
	json_object_object_add(o, "path", json_object_new_string(e->path));
	json_object_object_add(o, "state", json_object_new_string(e->state));
	json_object_object_add(o, "generated", json_object_new_boolean(e->generated));
	json_object_object_add(o, "populated", tristate(e->populated));
	json_object_object_add(o, "frozen", tristate(e->frozen));
	json_object_object_add(o, "created", json_object_new_int64((int64_t)e->created_usec));
	json_object_object_add(o, "delegate", json_object_new_boolean(e->delegate));
	json_object_object_add(o, "auto_remove", json_object_new_boolean(e->auto_remove));
	json_object_object_add(o, "lease", json_object_new_boolean(e->lease));
	json_object_object_add(o, "owner", CGCTL_HAS(e, owner) && e->owner >= 0 ? json_object_new_int64(e->owner) : NULL);
	json_object_object_add(o, "labels", labels);
	return o;
}

/* Entries as a JSON array. */
json_object *cli_entries_to_json(struct cgctl_entry *const *e, size_t n)
{
	json_object *a = json_object_new_array(), *o;
	size_t i;

	for (i = 0; a && i < n; i++) {
		o = entry_to_json(e[i]);
		if (!o || json_object_array_add(a, o) < 0) {
			json_object_put(o);
			json_object_put(a);
			return NULL;
		}
	}
	return a;
}

/* One node of the printed tree: a name component, with the entry if it is managed. */
struct tree_node {
	const char *comp;
	size_t len;
	char *shown;                     /* comp escaped for a terminal (cli_esc.h) */
	size_t cols;                     /* columns shown takes on a terminal */
	const struct cgctl_entry *entry; /* NULL for an ancestor not in the list */
	struct tree_node **children;
	size_t n_children;
};

/* Free a node and everything below it. */
static void tree_free(struct tree_node *t)
{
	size_t i;

	for (i = 0; i < t->n_children; i++) {
		tree_free(t->children[i]);
		free(t->children[i]);
	}
	free(t->children);
	free(t->shown);
}

/* Compare names component-wise: "a/b" sorts right after "a", before "a-b". */
static int name_cmp(const void *x, const void *y)
{
	const unsigned char *a = (const unsigned char *)(*(const struct cgctl_entry *const *)x)->name;
	const unsigned char *b = (const unsigned char *)(*(const struct cgctl_entry *const *)y)->name;

	for (; *a && *a == *b; a++, b++)
		;
	if (*a == *b)
		return 0;
	if (*a == '/' || *b == '/')
		return *a == '/' ? (*b ? -1 : 1) : (*a ? 1 : -1);
	return *a < *b ? -1 : 1;
}

/* Child of t called comp: in sorted input it can only be the last one. */
static struct tree_node *tree_child(struct tree_node *t, const char *comp, size_t len)
{
	struct tree_node *last = t->n_children ? t->children[t->n_children - 1] : NULL, **l;

	if (last && last->len == len && memcmp(last->comp, comp, len) == 0)
		return last;
	l = realloc(t->children, (t->n_children + 1) * sizeof(*l));
	if (!l)
		return NULL;
	t->children = l;
	l[t->n_children] = calloc(1, sizeof(**l));
	if (!l[t->n_children])
		return NULL;
	*l[t->n_children] = (struct tree_node){ .comp = comp, .len = len, .shown = cli_esc_dup(comp, len, 0) };
	if (!l[t->n_children]->shown) {
		free(l[t->n_children]);
		return NULL;
	}
	l[t->n_children]->cols = cli_display_width(l[t->n_children]->shown, strlen(l[t->n_children]->shown));
	return l[t->n_children++];
}

/* Hang an entry into the tree by its name's components. */
static int tree_add(struct tree_node *root, const struct cgctl_entry *e)
{
	const char *p = e->name, *slash;
	struct tree_node *t = root;

	for (;;) {
		slash = strchr(p, '/');
		t = tree_child(t, p, slash ? (size_t)(slash - p) : strlen(p));
		if (!t)
			return -ENOMEM;
		if (!slash)
			break;
		p = slash + 1;
	}
	t->entry = e;
	return 0;
}

/* Widest label below t, in columns (each tree connector is two columns wide). */
static size_t tree_width(const struct tree_node *t, size_t depth)
{
	size_t i, w, max = 0;

	for (i = 0; i < t->n_children; i++) {
		w = depth * 2 + t->children[i]->cols;
		if (w > max)
			max = w;
		w = tree_width(t->children[i], depth + 1);
		if (w > max)
			max = w;
	}
	return max;
}

/* The owner column: the user's name, else the uid; "?" when the daemon did not say. */
static void owner_column(const struct cgctl_entry *e)
{
	int64_t owner = CGCTL_HAS(e, owner) ? e->owner : -1;
	struct passwd *pw = owner >= 0 ? getpwuid((uid_t)owner) : NULL;

	if (pw)
		printf("  %-12.32s", pw->pw_name);
	else if (owner >= 0)
		printf("  %-12lld", (long long)owner);
	else
		printf("  %-12s", "?");
}

/* Columns after the label: [owner,] state, populated or empty, flags; no trailing blanks. */
static void entry_columns(const struct cgctl_entry *e, bool show_owner)
{
	static const char *const names[] = { "frozen", "delegate", "auto-remove", "lease", "generated" };
	const char *pop = e->populated > 0 ? "populated" : e->populated == 0 ? "empty" : "?";
	int flags[] = { e->frozen > 0, e->delegate, e->auto_remove, e->lease, e->generated };
	size_t i;
	int any = 0;

	for (i = 0; i < ELEMENTSOF(flags); i++)
		any |= flags[i];
	if (show_owner)
		owner_column(e);
	printf("  %-10s %-*s", cli_esc(e->state), any ? 9 : 0, pop);
	for (i = 0; i < ELEMENTSOF(flags); i++)
		if (flags[i])
			printf(" %s", names[i]);
	putchar('\n');
}

/* Print the children of t below prefix, systemd-cgls style. */
static void tree_print(const struct tree_node *t, const char *prefix, size_t depth, size_t width,
		       bool show_owner)
{
	char sub[(CGNAME_DEPTH_MAX + 1) * 4 + 1]; /* "│ " is four bytes */
	size_t i, pad;
	bool last;

	for (i = 0; i < t->n_children; i++) {
		const struct tree_node *c = t->children[i];

		last = i + 1 == t->n_children;
		pad = width - (depth > 0 ? depth * 2 : 0) - c->cols;
		printf("%s%s%s", prefix, depth == 0 ? "" : last ? "└─" : "├─", c->shown);
		if (c->entry) {
			printf("%*s", (int)pad, "");
			entry_columns(c->entry, show_owner);
		} else
			putchar('\n'); /* an ancestor the daemon does not manage */
		if (depth > 0 && snprintf(sub, sizeof(sub), "%s%s", prefix, last ? "  " : "│ ") >= (int)sizeof(sub))
			continue; /* deeper than names may go: do not print garbage */
		tree_print(c, depth > 0 ? sub : "", depth + 1, width, show_owner);
	}
}

/* Does some entry belong to another uid than ours (we administer a daemon with tenants)? */
static bool owners_differ(struct cgctl_entry *const *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (CGCTL_HAS(e[i], owner) && e[i]->owner >= 0 && e[i]->owner != (int64_t)getuid())
			return true;
	return false;
}

int cli_print_tree(struct cgctl_entry *const *e, size_t n)
{
	_cleanup_free_ const struct cgctl_entry **sorted = NULL;
	struct tree_node root = {};
	size_t i;
	int r = 0;

	sorted = calloc(n ? n : 1, sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		sorted[i] = e[i];
	qsort(sorted, n, sizeof(*sorted), name_cmp);
	for (i = 0; i < n && r >= 0; i++)
		r = tree_add(&root, sorted[i]);
	if (r >= 0)
		tree_print(&root, "", 0, tree_width(&root, 0), owners_differ(e, n));
	tree_free(&root);
	return r;
}

/* "yes"/"no". */
static const char *yes_no(int b)
{
	return b ? "yes" : "no";
}

/* A NULL-terminated list, space-separated, or "-" when empty. */
static void print_strv(const char *key, char **l)
{
	printf("%-14s", key);
	if (!l || !*l)
		fputs(" -", stdout);
	for (; l && *l; l++)
		printf(" %s", cli_esc(*l));
	putchar('\n');
}

/* Length of a NULL-terminated list; NULL counts as empty. */
static size_t strv_len(char **l)
{
	size_t n = 0;

	while (l && l[n])
		n++;
	return n;
}

/* One reconcile finding list, indented under "Reconcile:", only when not empty. */
static void print_findings(const char *key, char **l)
{
	if (strv_len(l) == 0)
		return;
	printf("  %-12s", key);
	for (; *l; l++)
		printf(" %s", cli_esc(*l));
	putchar('\n');
}

/* Microseconds since the epoch as local time. */
static void print_time(uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000u);
	struct tm tm;
	char buf[64];

	if (localtime_r(&t, &tm) && strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S %Z", &tm) > 0)
		fputs(buf, stdout);
	else
		printf("@%llu", (unsigned long long)usec);
}

/* Ledger figures and what start-up reconciliation found. */
static void print_ledger(const struct cgctl_status *s)
{
	printf("Ledger:        %s (format %lld)\n", cli_esc(s->ledger_path),
	       (long long)s->ledger_format_version);
	printf("Entries:       %llu\n", (unsigned long long)s->ledger_entries);
	printf("Journal:       %llu bytes, %llu records", (unsigned long long)s->journal_bytes,
	       (unsigned long long)s->journal_records);
	if (s->journal_dropped_records)
		printf("; %llu torn or corrupt record(s) dropped at start-up",
		       (unsigned long long)s->journal_dropped_records);
	putchar('\n');
	printf("Compactions:   %llu", (unsigned long long)s->compactions);
	if (s->last_compaction_usec) {
		fputs(", last ", stdout);
		print_time(s->last_compaction_usec);
	}
	putchar('\n');
	printf("Reconcile:     dropped %zu, rolled back %zu, resumed %zu, unknown %zu\n",
	       strv_len(s->reconcile_dropped), strv_len(s->reconcile_rolled_back),
	       strv_len(s->reconcile_resumed), strv_len(s->reconcile_unknown));
	print_findings("dropped:", s->reconcile_dropped);
	print_findings("rolled back:", s->reconcile_rolled_back);
	print_findings("resumed:", s->reconcile_resumed);
	print_findings("unknown:", s->reconcile_unknown);
	if (CGCTL_HAS(s, ledger_damage) && s->ledger_mode && strcmp(s->ledger_mode, "normal") != 0) {
		printf("Recovery:      %s%s\n", cli_esc(s->ledger_mode),
		       strcmp(s->ledger_mode, "recovery") == 0 ?
			       ": ledger records were lost; nothing was removed at start (see cgctld(8))" :
			       ": ledger.json was damaged; the previous generation proved the state");
		for (char **d = s->ledger_damage; d && *d; d++)
			printf("  %s\n", cli_esc(*d));
	}
}

void cli_print_status(const struct cgctl_status *s)
{
	printf("Version:       %s\n", cli_esc(s->version));
	printf("Delegated:     %s\n", yes_no(s->delegated));
	if (s->reason)
		printf("Reason:        %s\n", cli_esc(s->reason));
	printf("Cgroup mount:  %s\n", cli_esc(s->cgroup_mount));
	printf("Managed root:  %s\n", cli_esc(s->managed_root));
	printf("Daemon leaf:   %s\n", cli_esc(s->leaf));
	print_strv("Controllers:", s->controllers);
	printf("Daemon:        pid %lld, uid %lld\n", (long long)s->pid, (long long)s->uid);
	printf("Socket:        %s\n", cli_esc(s->socket));
	print_ledger(s);
}

/* A JSON value as plain text for a terminal: strings unquoted, both escaped (cli_esc.h). */
static const char *plain(json_object *v)
{
	if (json_object_is_type(v, json_type_string))
		return cli_esc(json_object_get_string(v));
	return cli_esc_raw(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* A Stats object: flags, pids, then one line per file (keyed files indented). */
void cli_print_stats(json_object *stats)
{
	json_object *v, *files, *pids;
	size_t i, n;

	if (json_object_object_get_ex(stats, "populated", &v))
		printf("populated: %s\n", yes_no(json_object_get_boolean(v)));
	if (json_object_object_get_ex(stats, "frozen", &v))
		printf("frozen: %s\n", yes_no(json_object_get_boolean(v)));
	if (json_object_object_get_ex(stats, "pids", &pids) && json_object_is_type(pids, json_type_array)) {
		fputs("pids:", stdout);
		n = json_object_array_length(pids);
		for (i = 0; i < n; i++)
			printf(" %s", plain(json_object_array_get_idx(pids, i)));
		putchar('\n');
	}
	if (json_object_object_get_ex(stats, "values", &v) && json_object_is_type(v, json_type_object)) {
		json_object_object_foreach(v, file, val)
			printf("%s: %s\n", cli_esc(file), plain(val));
	}
	if (!json_object_object_get_ex(stats, "files", &files) || !json_object_is_type(files, json_type_object))
		return;
	json_object_object_foreach(files, file, val) {
		if (!json_object_is_type(val, json_type_object)) {
			printf("%s: %s\n", cli_esc(file), plain(val));
			continue;
		}
		printf("%s:\n", cli_esc(file));
		json_object_object_foreach(val, k, kv)
			printf("  %s: %s\n", cli_esc(k), plain(kv));
	}
}
