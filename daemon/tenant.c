/* SPDX-License-Identifier: MIT */
/* tenant.c: who may see and act on which ledger entry, and which processes a client may move. */
#include "tenant.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "discover.h"
#include "ledger.h"
#include "names.h"
#include "resources.h"

bool tenant_is_admin(uid_t uid)
{
	/* Our own uid owns the managed subtree: it could write every file by hand anyway. */
	return uid == 0 || uid == geteuid();
}

bool tenant_may_access(uid_t uid, const struct ledger_entry *le)
{
	return tenant_is_admin(uid) || le->owner == uid;
}

unsigned tenant_count(const uid_t *uids, size_t n)
{
	unsigned count = 0;

	for (size_t i = 0; i < n; i++)
		count += !tenant_is_admin(uids[i]);
	return count;
}

/* Any entry below name that is not uid's. */
bool tenant_subtree_foreign(uid_t uid, struct ledger *l, const char *name)
{
	_cleanup_free_ struct ledger_entry **all = NULL;
	struct ledger_entry *le = ledger_get(l, name);
	bool foreign = false;
	size_t n = 0;

	if (tenant_is_admin(uid) || !le || le->children == 0)
		return false;
	/* Out of memory: say yes, so that nothing is touched. */
	if (ledger_list(l, &all, &n) < 0)
		return true;
	for (size_t i = 0; i < n && !foreign; i++)
		foreign = cgname_is_below(all[i]->name, name) && strcmp(all[i]->name, name) != 0 &&
			  !tenant_may_access(uid, all[i]);
	return foreign;
}

/* One decimal uid at *p (advanced past it); -EBADMSG when there is none. */
static int tenant_parse_uid(const char **p, uid_t *ret)
{
	unsigned long long v;
	char *end;

	while (**p == ' ' || **p == '\t')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(*p, &end, 10);
	if (errno || v >= (uid_t)-1)
		return -EBADMSG;
	*p = end;
	*ret = (uid_t)v;
	return 0;
}

int tenant_parse_status(const char *text, uid_t ret_uids[4])
{
	const char *p;
	uid_t v[4];

	if (strncmp(text, "Uid:", 4) == 0)
		p = text + 4;
	else if ((p = strstr(text, "\nUid:")))
		p += 5;
	else
		return -EBADMSG;
	for (int i = 0; i < 4; i++)
		if (tenant_parse_uid(&p, &v[i]) < 0)
			return -EBADMSG;
	if (*p != '\n' && *p != '\0')
		return -EBADMSG;
	memcpy(ret_uids, v, sizeof(v));
	return 0;
}

int tenant_parse_stat(const char *text, unsigned long *ret_flags)
{
	const char *p = strrchr(text, ')');
	unsigned long long v;
	char *end;

	if (!p)
		return -EBADMSG;
	p++;
	/* Fields 3 (state) to 8 (tpgid) come before the flags. */
	for (int field = 3; field <= 9; field++) {
		if (*p != ' ')
			return -EBADMSG;
		p++;
		if (field == 9)
			break;
		p += strcspn(p, " ");
	}
	if (*p < '0' || *p > '9')
		return -EBADMSG;
	errno = 0;
	v = strtoull(p, &end, 10);
	if (errno || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -EBADMSG;
	*ret_flags = (unsigned long)v;
	return 0;
}

/* Read /proc/PID/NAME into buf (NUL-terminated); -ESRCH once the process is gone. */
static int tenant_read_file(pid_t pid, const char *name, char *buf, size_t size)
{
	_cleanup_close_ int fd = -1;
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, name);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return errno == ENOENT ? -ESRCH : -errno;
	n = read(fd, buf, size - 1);
	if (n < 0)
		return errno == ESRCH ? -ESRCH : -errno;
	buf[n] = '\0';
	return 0;
}

int tenant_read_proc(pid_t pid, struct tenant_proc *ret)
{
	const char *q;
	char buf[4096];
	struct tenant_proc p;
	int r;

	r = tenant_read_file(pid, "status", buf, sizeof(buf));
	if (r >= 0)
		r = tenant_parse_status(buf, p.uids);
	if (r >= 0)
		r = tenant_read_file(pid, "stat", buf, sizeof(buf));
	if (r >= 0)
		r = tenant_parse_stat(buf, &p.flags);
	if (r < 0)
		return r;
	/* A zombie: cgroup.procs takes its pid and moves nothing, the move would be reported all the same. */
	if ((q = strrchr(buf, ')')) && q[1] == ' ' && (q[2] == 'Z' || q[2] == 'X'))
		return -ESRCH;
	*ret = p;
	return 0;
}

int tenant_may_move(uid_t uid, pid_t pid, const struct tenant_proc *p, const char **ret_why)
{
	if (pid == 1) {
		*ret_why = "it is PID 1 (init)";
		return -EPERM;
	}
	/* In its entry, a Freeze would wedge the daemon and a Kill end it, from one client call. */
	if (pid == getpid()) {
		*ret_why = "it is cgctld itself";
		return -EPERM;
	}
	if (p->flags & TENANT_PF_KTHREAD) {
		*ret_why = "it is a kernel thread";
		return -EPERM;
	}
	if (tenant_is_admin(uid))
		return 0;
	for (int i = 0; i < 4; i++)
		if (p->uids[i] != uid) {
			*ret_why = "it does not belong to your uid (its real, effective, saved and filesystem uids "
				   "must all be yours)";
			return -EPERM;
		}
	return 0;
}

int tenant_read_cgroup(pid_t pid, char **ret_path)
{
	char buf[4096];
	int r = tenant_read_file(pid, "cgroup", buf, sizeof(buf));

	return r < 0 ? r : discover_parse_proc_cgroup(buf, ret_path);
}

int tenant_may_take_from(uid_t uid, struct ledger *l, const char *rel, const char **ret_why)
{
	_cleanup_free_ char *path = strdup(rel);
	char *slash;

	if (!path)
		return -ENOMEM;
	if (tenant_is_admin(uid))
		return 0;
	/* The deepest entry holding the cgroup decides: deeper directories are its inside. */
	while (path[0]) {
		_cleanup_free_ char *name = NULL;
		struct ledger_entry *le = cgname_from_path(path, &name) >= 0 ? ledger_get(l, name) : NULL;

		if (le && tenant_may_access(uid, le))
			return 0;
		if (le) {
			*ret_why = "it is in a cgroup that is not yours";
			return -EPERM;
		}
		slash = strrchr(path, '/');
		if (!slash)
			break;
		*slash = '\0';
	}
	*ret_why = "it is in a cgroup of the managed root that is not yours";
	return -EPERM;
}

/* The last blank-separated word of value into buf (size n; "" when none), as the kernel's parsers see it. */
static void tenant_last_word(const char *value, char *buf, size_t n)
{
	size_t end = strlen(value), start;

	while (end > 0 && strchr(" \t\n", value[end - 1]))
		end--;
	start = end;
	while (start > 0 && !strchr(" \t\n", value[start - 1]))
		start--;
	if (end - start >= n)
		start = end - (n - 1);
	memcpy(buf, value + start, end - start);
	buf[end - start] = '\0';
}

/* How many blank-separated words value has. */
static size_t tenant_words(const char *value)
{
	size_t n = 0;

	for (const char *p = value; *p;) {
		p += strspn(p, " \t\n");
		if (!*p)
			break;
		n++;
		p += strcspn(p, " \t\n");
	}
	return n;
}

/* Does a weight line ("N", "default N", "MAJ:MIN N") of value ask for more than the default 100? */
static bool tenant_weight_raised(const char *value)
{
	unsigned long long v;
	char num[32], *end;

	/* The kernel takes the first number after "default " or "MAJ:MIN " and ignores the rest
	 * ("default 1000 100" is 1000): a longer line is refused. */
	size_t lead = strspn(value, " \t\n"), words = tenant_words(value);

	if (words > 2)
		return true;
	/* Two words: "default N" or "MAJ:MIN N"; "N M" is read as N as well. */
	if (words == 2 && strncmp(value + lead, "default", 7) != 0 &&
	    !memchr(value + lead, ':', strcspn(value + lead, " \t\n")))
		return true;
	tenant_last_word(value, num, sizeof(num));
	/* "MAJ:MIN default" puts a device back to the cgroup's default: never more. */
	if (strcmp(num, "default") == 0)
		return false;
	errno = 0;
	v = strtoull(num, &end, 0);
	/* Anything else that is no plain number: refused, whatever the kernel would make of it. */
	if (errno || end == num || *end != '\0' || num[0] == '-')
		return true;
	return v > 100;
}

/* Does a memory.min or memory.low value ask for any protection (anything but a plain 0, the default)? */
static bool tenant_protection_asked(const char *value)
{
	unsigned long long v;
	char num[32], *end;

	/* "max", "1G", "0 5" (the kernel would read the 0, then refuse): all refused. */
	if (tenant_words(value) != 1)
		return true;
	tenant_last_word(value, num, sizeof(num));
	errno = 0;
	v = strtoull(num, &end, 10);
	return errno || end == num || *end != '\0' || num[0] == '-' || num[0] == '+' || v != 0;
}

/* Why tenant_check_sibling_plan() refuses one write, or NULL. */
static const char *tenant_sibling_write_why(const struct res_write *w)
{
	if (strcmp(w->file, "cpu.weight") == 0 || strcmp(w->file, "io.weight") == 0 ||
	    strcmp(w->file, "io.bfq.weight") == 0)
		return tenant_weight_raised(w->value) ? "a weight above the default, 100" : NULL;
	if (strcmp(w->file, "cpu.weight.nice") == 0)
		return w->value[strspn(w->value, " \t")] == '-' ? "a negative nice value, a weight above the default"
								 : NULL;
	/* Protection is shared out among siblings in proportion to what each claims (cgroup-v2.rst,
	 * memory.low): a claim beside root's cgroups takes from theirs. */
	if (strcmp(w->file, "memory.min") == 0 || strcmp(w->file, "memory.low") == 0)
		return tenant_protection_asked(w->value) ? "memory protection above the default, 0" : NULL;
	if (strcmp(w->file, "io.latency") == 0)
		return "an io.latency target throttles the siblings";
	if (strcmp(w->file, "cpuset.cpus.partition") == 0)
		return strcmp(w->value, "member") == 0 ? NULL : "a cpuset partition takes cpus from the siblings";
	if (strcmp(w->file, "cpuset.cpus.exclusive") == 0)
		return w->value[strspn(w->value, " \t")] ? "exclusive cpus are taken from the siblings" : NULL;
	return NULL;
}

int tenant_check_plan(const struct res_plan *plan, const char **ret_file, const char **ret_why)
{
	/* Policies of io.prio.class that never raise a request's class (block/blk-ioprio.c). */
	static const char *const prio_ok[] = { "no-change", "restrict-to-be", "idle", NULL };

	for (size_t i = 0; i < plan->n; i++) {
		bool ok = false;

		if (strcmp(plan->w[i].file, "io.prio.class") != 0)
			continue;
		for (size_t k = 0; prio_ok[k] && !ok; k++)
			ok = strcmp(plan->w[i].value, prio_ok[k]) == 0;
		if (!ok) {
			*ret_file = plan->w[i].file;
			*ret_why = "promote-to-rt and none-to-rt give real-time I/O, above every other cgroup's, "
				   "which ioprio_set(2) grants only to privileged processes";
			return -EPERM;
		}
	}
	return 0;
}

int tenant_check_bounds(const struct res_plan *plan, unsigned descendants, unsigned depth, const char **ret_file,
			const char **ret_why)
{
	for (size_t i = 0; i < plan->n; i++) {
		const char *f = plan->w[i].file, *v = plan->w[i].value;
		unsigned bound = strcmp(f, "cgroup.max.descendants") == 0 ? descendants
				 : strcmp(f, "cgroup.max.depth") == 0	   ? depth
									   : 0;
		char *end = NULL;
		unsigned long n;

		if (!bound)
			continue;
		errno = 0;
		n = strtoul(v, &end, 10);
		if (v[0] < '0' || v[0] > '9' || *end || errno || n > bound) {
			*ret_file = f;
			*ret_why = "cgctld keeps a tenant's cgroups at most --max-cgroups-per-uid descendants and 64 levels "
				   "deep, so that removing them stays short";
			return -EPERM;
		}
	}
	return 0;
}

int tenant_check_sibling_plan(const struct res_plan *plan, const char **ret_file, const char **ret_why)
{
	for (size_t i = 0; i < plan->n; i++) {
		const char *why = tenant_sibling_write_why(&plan->w[i]);

		if (why) {
			*ret_file = plan->w[i].file;
			*ret_why = why;
			return -EPERM;
		}
	}
	return 0;
}
