// SPDX-License-Identifier: MIT
/* discover.c: find the cgroup2 mount in mountinfo and the daemon's own cgroup. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"
#include "discover.h"

#define PROC_FILE_MAX (16u * 1024 * 1024)
#define MOUNTINFO_FIELDS_MAX 64

/* Which cgroup2 mount wins: lower is better. */
enum mount_rank {
	RANK_SYS_FS_CGROUP,
	RANK_UNIFIED,
	RANK_OTHER,
	RANK_NONE,
};

/* One parsed mountinfo line; strings point into a scratch copy of the line. */
struct mount_line {
	char *root;
	char *mountpoint;
	char *fstype;
	char *superopts;
};

/* Decode mountinfo's \ooo octal escapes in place; -EINVAL for an encoded NUL. */
static int unescape_octal(char *s)
{
	char *w = s;

	for (const char *r = s; *r;) {
		if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
		    r[3] >= '0' && r[3] <= '7') {
			char c = (char)(((r[1] - '0') << 6) | ((r[2] - '0') << 3) | (r[3] - '0'));

			if (c == '\0')
				return -EINVAL;
			*w++ = c;
			r += 4;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return 0;
}

/* Split one mountinfo line (modified in place) into its fields; -EINVAL when malformed. */
static int mount_line_parse(char *line, struct mount_line *ret)
{
	char *fields[MOUNTINFO_FIELDS_MAX], *save = NULL, *tok;
	size_t n = 0, sep = 0;

	for (tok = strtok_r(line, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
		if (n == MOUNTINFO_FIELDS_MAX)
			return -EINVAL;
		/* The optional fields vary in number; " - " ends them. */
		if (sep == 0 && n >= 6 && strcmp(tok, "-") == 0)
			sep = n;
		fields[n++] = tok;
	}
	if (sep == 0 || n < sep + 4)
		return -EINVAL;
	if (unescape_octal(fields[3]) < 0 || unescape_octal(fields[4]) < 0)
		return -EINVAL;
	ret->root = fields[3];
	ret->mountpoint = fields[4];
	ret->fstype = fields[sep + 1];
	ret->superopts = fields[sep + 3];
	return 0;
}

/* True when a v1 super-option string names at least one controller. */
static bool v1_has_controller(const char *superopts)
{
	static const char *const generic[] = {
		"rw", "ro", "none", "clone_children", "noprefix", "xattr", "cpuset_v2_mode",
		"favordynmods",
	};
	const char *p = superopts;

	while (*p) {
		size_t len = strcspn(p, ",");
		bool is_generic = memchr(p, '=', len) != NULL;

		for (size_t i = 0; !is_generic && i < ELEMENTSOF(generic); i++)
			is_generic = strlen(generic[i]) == len && memcmp(generic[i], p, len) == 0;
		if (!is_generic && len > 0)
			return true;
		p += len + (p[len] == ',' ? 1 : 0);
	}
	return false;
}

/* Rank a cgroup2 mount point by the documented preference. */
static enum mount_rank mount_rank(const char *mountpoint)
{
	if (strcmp(mountpoint, "/sys/fs/cgroup") == 0)
		return RANK_SYS_FS_CGROUP;
	if (strcmp(mountpoint, "/sys/fs/cgroup/unified") == 0)
		return RANK_UNIFIED;
	return RANK_OTHER;
}

/* Replace *dst with a copy of src; -ENOMEM. */
static int replace_str(char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* Consider one mountinfo line (modified in place) for the best cgroup2 mount. */
static int mountinfo_line(char *line, enum mount_rank *best, char **mount, char **root,
			  bool *hybrid)
{
	struct mount_line m;
	enum mount_rank rank;
	int r;

	if (mount_line_parse(line, &m) < 0)
		return 0; /* not ours to judge: skip lines we do not understand */
	if (strcmp(m.fstype, "cgroup") == 0) {
		if (v1_has_controller(m.superopts))
			*hybrid = true;
		return 0;
	}
	if (strcmp(m.fstype, "cgroup2") != 0)
		return 0;
	rank = mount_rank(m.mountpoint);
	/* Among mounts stacked on a preferred point the last is on top; otherwise the first wins. */
	if (rank > *best || (rank == *best && rank == RANK_OTHER))
		return 0;
	r = replace_str(mount, m.mountpoint);
	if (r >= 0)
		r = replace_str(root, m.root);
	if (r < 0)
		return r;
	*best = rank;
	return 0;
}

int discover_parse_mountinfo(const char *text, char **ret_mount, char **ret_mount_root,
			     bool *ret_hybrid)
{
	_cleanup_free_ char *copy = NULL, *mount = NULL, *root = NULL;
	enum mount_rank best = RANK_NONE;
	bool hybrid = false;
	char *line, *save = NULL;

	if (!text)
		return -EINVAL;
	copy = strdup(text);
	if (!copy)
		return -ENOMEM;
	for (line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		int r = mountinfo_line(line, &best, &mount, &root, &hybrid);

		if (r < 0)
			return r;
	}
	if (best == RANK_NONE)
		return -ENOENT;
	if (ret_mount)
		*ret_mount = TAKE_PTR(mount);
	if (ret_mount_root)
		*ret_mount_root = TAKE_PTR(root);
	if (ret_hybrid)
		*ret_hybrid = hybrid;
	return 0;
}

int discover_parse_proc_cgroup(const char *text, char **ret_path)
{
	static const char deleted[] = " (deleted)";
	const char *p;

	if (!text)
		return -EINVAL;
	for (p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		if (len >= 3 && memcmp(p, "0::", 3) == 0) {
			const char *path = p + 3;
			size_t plen = len - 3;
			char *s;

			if (plen >= sizeof(deleted) - 1 &&
			    memcmp(path + plen - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1) == 0)
				return -EIDRM;
			if (plen == 0 || path[0] != '/')
				return -EBADMSG;
			s = strndup(path, plen);
			if (!s)
				return -ENOMEM;
			*ret_path = s;
			return 0;
		}
		p += len + (nl ? 1 : 0);
	}
	return -ENOENT;
}

/* True when path has a "." or ".." component. */
static bool has_dot_component(const char *path)
{
	for (const char *p = path; *p;) {
		size_t len = strcspn(p, "/");

		if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
			return true;
		p += len + (p[len] == '/' ? 1 : 0);
	}
	return false;
}

int discover_join(const char *mount, const char *mount_root, const char *own, char **ret_path)
{
	size_t rlen;
	const char *rel;
	int n;

	if (!mount || !mount_root || !own || mount[0] != '/' || mount_root[0] != '/' || own[0] != '/')
		return -EINVAL;
	if (has_dot_component(own) || has_dot_component(mount_root))
		return -EXDEV;
	rlen = strlen(mount_root);
	while (rlen > 1 && mount_root[rlen - 1] == '/')
		rlen--;
	if (rlen == 1) {
		rel = own;
	} else {
		/* Whole components only: "/ab" is not below "/a". */
		if (strncmp(own, mount_root, rlen) != 0 || (own[rlen] != '\0' && own[rlen] != '/'))
			return -EXDEV;
		rel = own + rlen;
	}
	rel += strspn(rel, "/");
	if (rel[0] == '\0')
		n = asprintf(ret_path, "%s", mount);
	else if (strcmp(mount, "/") == 0)
		n = asprintf(ret_path, "/%s", rel);
	else
		n = asprintf(ret_path, "%s/%s", mount, rel);
	return n < 0 ? -ENOMEM : 0;
}

/* Read a whole (proc) file, whose st_size is meaningless, into a NUL-terminated buffer. */
static int read_proc_file(const char *path, char **ret_text)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	return cgfs_read_fd(fd, PROC_FILE_MAX, ret_text);
}

int discover_self(struct discovery *d)
{
	_cleanup_free_ char *mountinfo = NULL, *cgroup = NULL;
	struct discovery t = {};
	int r;

	r = read_proc_file("/proc/self/mountinfo", &mountinfo);
	if (r < 0)
		return r;
	r = read_proc_file("/proc/self/cgroup", &cgroup);
	if (r < 0)
		return r;
	r = discover_parse_mountinfo(mountinfo, &t.mount, &t.mount_root, &t.hybrid);
	if (r >= 0)
		r = discover_parse_proc_cgroup(cgroup, &t.own_cgroup);
	if (r >= 0)
		r = discover_join(t.mount, t.mount_root, t.own_cgroup, &t.own_path);
	if (r < 0) {
		discovery_done(&t);
		return r;
	}
	*d = t;
	return 0;
}

void discovery_done(struct discovery *d)
{
	if (!d)
		return;
	free(d->mount);
	free(d->mount_root);
	free(d->own_cgroup);
	free(d->own_path);
	*d = (struct discovery){};
}
