// SPDX-License-Identifier: MIT
/* cgroupfs.c: cgroup filesystem operations contained beneath the managed root's dirfd. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroupfs.h"
#include "cleanup.h"

#ifndef SYS_openat2
#define SYS_openat2 437
#endif

#define CGFS_EVENTS_SMALL 256 /* cgroup.events is two short lines */
#define OPENAT2_EAGAIN_RETRIES 16

/* How relpaths are resolved: decided on first use, openat2 unless the kernel lacks it. */
enum resolve_mode {
	RESOLVE_MODE_UNKNOWN,
	RESOLVE_MODE_OPENAT2,
	RESOLVE_MODE_WALK,
};

static enum resolve_mode resolve_mode = RESOLVE_MODE_UNKNOWN;
static bool force_walk;

/* Free a closedir-able handle at scope exit. */
static inline void closedirp(DIR **d)
{
	if (*d)
		closedir(*d);
}

void cgfs_force_walk(bool force)
{
	force_walk = force;
}

/* Length of the component starting at p (up to "/" or NUL). */
static size_t component_len(const char *p)
{
	const char *slash = strchr(p, '/');

	return slash ? (size_t)(slash - p) : strlen(p);
}

/* Refuse absolute paths and "", ".", ".." components ("" as a whole means rootfd). */
static int relpath_check(const char *relpath)
{
	const char *p;

	if (!relpath || relpath[0] == '/')
		return -EINVAL;
	if (relpath[0] == '\0')
		return 0;
	for (p = relpath;;) {
		size_t n = component_len(p);

		if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
			return -EINVAL;
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}

/* openat2() beneath rootfd; -ENOSYS/-E2BIG tell the caller to fall back. */
static int open_openat2(int rootfd, const char *relpath, int flags, mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
		.mode = ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE) ? mode : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *p = relpath[0] ? relpath : ".";

	/* EAGAIN: a concurrent rename or mount raced the resolution; retry a bounded number of times. */
	for (int i = 0; i < OPENAT2_EAGAIN_RETRIES; i++) {
		long fd = syscall(SYS_openat2, rootfd, p, &how, sizeof(how));

		if (fd >= 0)
			return (int)fd;
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
	return -EAGAIN;
}

/* Map an O_NOFOLLOW failure on name to -ELOOP when name is a symlink. */
static int walk_errno(int dirfd, const char *name, int e)
{
	struct stat st;

	if ((e == ENOTDIR || e == ELOOP) && fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISLNK(st.st_mode))
		return -ELOOP;
	return -e;
}

/* Open the final component under dirfd, never following a symlink. */
static int walk_open_last(int dirfd, const char *name, int flags, mode_t mode)
{
	_cleanup_close_ int fd = -1;
	struct stat st;

	fd = openat(dirfd, name, flags | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return walk_errno(dirfd, name, errno);
	/* O_PATH|O_NOFOLLOW opens a symlink itself: refuse it like openat2 would. */
	if ((flags & O_PATH) && fstat(fd, &st) == 0 && S_ISLNK(st.st_mode))
		return -ELOOP;
	return TAKE_FD(fd);
}

/* Walk relpath component by component with O_NOFOLLOW, never leaving rootfd. */
static int open_walk(int rootfd, const char *relpath, int flags, mode_t mode)
{
	_cleanup_close_ int cur = -1;
	char name[NAME_MAX + 1];
	const char *p = relpath;

	if (relpath[0] == '\0')
		return walk_open_last(rootfd, ".", flags, mode);
	for (;;) {
		size_t n = component_len(p);
		int dirfd = cur >= 0 ? cur : rootfd, next;

		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, p, n);
		name[n] = '\0';
		if (p[n] == '\0')
			return walk_open_last(dirfd, name, flags, mode);
		next = openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return walk_errno(dirfd, name, errno);
		if (cur >= 0)
			close(cur);
		cur = next;
		p += n + 1;
	}
}

int cgfs_open(int rootfd, const char *relpath, int flags, mode_t mode)
{
	int r = relpath_check(relpath);

	if (r < 0)
		return r;
	if (!force_walk && resolve_mode != RESOLVE_MODE_WALK) {
		r = open_openat2(rootfd, relpath, flags, mode);
		if (r != -ENOSYS && r != -E2BIG) {
			resolve_mode = RESOLVE_MODE_OPENAT2;
			return r;
		}
		resolve_mode = RESOLVE_MODE_WALK;
	}
	return open_walk(rootfd, relpath, flags, mode);
}

int cgfs_open_dir(int rootfd, const char *relpath)
{
	return cgfs_open(rootfd, relpath, O_RDONLY | O_DIRECTORY, 0);
}

/*
 * The directory holding relpath's last component (borrowed into *ret_last):
 * rootfd itself for a top-level name, which costs no syscall, else the parent
 * opened beneath rootfd into *ret_opened for the caller to close.
 */
static int parent_dirfd(int rootfd, const char *relpath, const char **ret_last, int *ret_opened)
{
	const char *slash;
	_cleanup_free_ char *parent = NULL;
	int r = relpath_check(relpath);

	*ret_opened = -1;
	if (r < 0)
		return r;
	if (relpath[0] == '\0')
		return -EINVAL;
	slash = strrchr(relpath, '/');
	if (!slash) {
		*ret_last = relpath;
		return rootfd;
	}
	parent = strndup(relpath, (size_t)(slash - relpath));
	if (!parent)
		return -ENOMEM;
	r = cgfs_open(rootfd, parent, O_PATH | O_DIRECTORY, 0);
	if (r < 0)
		return r;
	*ret_last = slash + 1;
	*ret_opened = r;
	return r;
}

int cgfs_parent_dirfd(int rootfd, const char *relpath, const char **ret_last, int *ret_opened)
{
	return parent_dirfd(rootfd, relpath, ret_last, ret_opened);
}

int cgfs_mkdir(int rootfd, const char *relpath, mode_t mode)
{
	_cleanup_close_ int opened = -1;
	const char *last = NULL;
	int pfd = parent_dirfd(rootfd, relpath, &last, &opened);

	if (pfd < 0)
		return pfd;
	if (mkdirat(pfd, last, mode) < 0)
		return -errno;
	return 0;
}

int cgfs_exists(int rootfd, const char *relpath)
{
	int fd = cgfs_open(rootfd, relpath, O_PATH | O_DIRECTORY, 0);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return fd == -ENOENT ? 0 : fd;
}

int cgfs_rmdir_resolve(int rootfd, const char *relpath, int rmdir_errno, bool *ret_existed)
{
	int r;

	switch (rmdir_errno) {
	case 0:
		if (ret_existed)
			*ret_existed = true;
		return 0;
	case ENOENT:
		break;
	case EROFS:
	case EACCES:
	case EPERM:
		/* runc 4518: a read-only or foreign mount says EROFS even for a missing directory. */
		r = cgfs_exists(rootfd, relpath);
		if (r != 0)
			return -rmdir_errno;
		break;
	case ENOTEMPTY:
		/* A stand-in tree says ENOTEMPTY where cgroupfs says EBUSY: children either way. */
		return -EBUSY;
	default:
		return -rmdir_errno;
	}
	if (ret_existed)
		*ret_existed = false;
	return 0;
}

int cgfs_rmdir(int rootfd, const char *relpath, bool *ret_existed)
{
	_cleanup_close_ int opened = -1;
	const char *last = NULL;
	int e = 0, pfd = parent_dirfd(rootfd, relpath, &last, &opened);

	if (pfd < 0) {
		if (pfd == -EINVAL || pfd == -ENOMEM)
			return pfd;
		return cgfs_rmdir_resolve(rootfd, relpath, -pfd, ret_existed);
	}
	if (unlinkat(pfd, last, AT_REMOVEDIR) < 0)
		e = errno;
	return cgfs_rmdir_resolve(rootfd, relpath, e, ret_existed);
}

int cgfs_read_fd(int fd, size_t max, char **ret_text)
{
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap = 0;

	for (;;) {
		ssize_t n;

		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 4096;
			char *nbuf;

			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= len)
				return -EFBIG;
			nbuf = realloc(buf, ncap + 1);
			if (!nbuf)
				return -ENOMEM;
			buf = nbuf;
			cap = ncap;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > max)
		return -EFBIG;
	buf[len] = '\0';
	*ret_text = TAKE_PTR(buf);
	return 0;
}

/* The delegatable files of a cgroup, one per line: the kernel's list, else cgroup-v2.rst's three. */
static int cgfs_delegate_files(char **ret_list)
{
	_cleanup_close_ int fd = open("/sys/kernel/cgroup/delegate", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && cgfs_read_fd(fd, 4096, ret_list) == 0)
		return 0;
	*ret_list = strdup("cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
	return *ret_list ? 0 : -ENOMEM;
}

/*
 * Give dirfd's interface file name to uid. A file of a controller not enabled
 * above is simply not there; nor is it when a delegatee's directory (or
 * anything but a regular file) stands in its place: that is left alone.
 */
static int cgfs_chown_file(int dirfd, const char *name, uid_t uid)
{
	_cleanup_close_ int fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	return fchownat(fd, "", uid, (gid_t)-1, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

int cgfs_hand_over(int dirfd, uid_t uid)
{
	_cleanup_free_ char *list = NULL;
	char *save = NULL;
	int r = cgfs_delegate_files(&list);

	if (r < 0)
		return r;
	for (char *f = strtok_r(list, "\n", &save); f; f = strtok_r(NULL, "\n", &save)) {
		if (!strchr(f, '/') && (r = cgfs_chown_file(dirfd, f, uid)) < 0)
			return r;
	}
	return fchownat(dirfd, "", uid, (gid_t)-1, AT_EMPTY_PATH) < 0 ? -errno : 0;
}

int cgfs_open_file(int rootfd, const char *relpath, int flags)
{
	_cleanup_close_ int fd = cgfs_open(rootfd, relpath, flags | O_NOFOLLOW, 0);
	struct stat st;

	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	/* cgroupfs holds no FIFO either; tests stand one in for a file whose reads differ. */
	if (!S_ISREG(st.st_mode) && !S_ISFIFO(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	return TAKE_FD(fd);
}

int cgfs_read(int rootfd, const char *relpath, size_t max, char **ret_text)
{
	_cleanup_close_ int fd = -1;

	if (max >= SIZE_MAX - 1)
		return -EINVAL;
	fd = cgfs_open_file(rootfd, relpath, O_RDONLY);
	if (fd < 0)
		return fd;
	return cgfs_read_fd(fd, max, ret_text);
}

int cgfs_write(int rootfd, const char *relpath, const char *value)
{
	_cleanup_close_ int fd = -1;
	size_t len;
	ssize_t n;

	if (!value)
		return -EINVAL;
	fd = cgfs_open_file(rootfd, relpath, O_WRONLY);
	if (fd < 0)
		return fd;
	len = strlen(value);
	/* Cgroup interface files take one value per write(2): never split it. */
	do
		n = write(fd, value, len);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

/* Join a relpath and a file name; "" stands for rootfd. */
static int path_join(const char *relpath, const char *name, char **ret)
{
	int n;

	if (!relpath)
		return -EINVAL;
	n = relpath[0] ? asprintf(ret, "%s/%s", relpath, name) : asprintf(ret, "%s", name);
	return n < 0 ? -ENOMEM : 0;
}

int cgfs_open_attr(int rootfd, const char *relpath, const char *attr, int flags)
{
	_cleanup_free_ char *path = NULL;
	int r = path_join(relpath, attr, &path);

	return r < 0 ? r : cgfs_open_file(rootfd, path, flags);
}

int cgfs_read_attr(int rootfd, const char *relpath, const char *attr, size_t max, char **ret_text)
{
	_cleanup_free_ char *path = NULL;
	int r = path_join(relpath, attr, &path);

	return r < 0 ? r : cgfs_read(rootfd, path, max, ret_text);
}

int cgfs_write_attr(int rootfd, const char *relpath, const char *attr, const char *value)
{
	_cleanup_free_ char *path = NULL;
	int r = path_join(relpath, attr, &path);

	return r < 0 ? r : cgfs_write(rootfd, path, value);
}

/* Parse "key 0|1" from one cgroup.events line into *ret when key matches. */
static int events_line(const char *line, size_t len, const char *key, bool *seen, bool *ret)
{
	size_t klen = strlen(key);

	if (len != klen + 2 || memcmp(line, key, klen) != 0 || line[klen] != ' ')
		return 0;
	if (line[klen + 1] != '0' && line[klen + 1] != '1')
		return -EBADMSG;
	*ret = line[klen + 1] == '1';
	*seen = true;
	return 1;
}

int cgfs_parse_events(const char *text, bool *ret_populated, bool *ret_frozen)
{
	bool populated = false, frozen = false, seen_p = false, seen_f = false;
	const char *p;
	int r;

	for (p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);

		r = events_line(p, len, "populated", &seen_p, &populated);
		if (r == 0)
			r = events_line(p, len, "frozen", &seen_f, &frozen);
		if (r < 0)
			return r;
		p += len + (nl ? 1 : 0);
	}
	if (!seen_p)
		return -EBADMSG;
	if (ret_populated)
		*ret_populated = populated;
	if (ret_frozen)
		*ret_frozen = frozen;
	return 0;
}

int cgfs_read_events(int rootfd, const char *relpath, bool *ret_populated, bool *ret_frozen)
{
	_cleanup_close_ int fd = cgfs_open_attr(rootfd, relpath, "cgroup.events", O_RDONLY);

	if (fd < 0)
		return fd;
	return cgfs_read_events_fd(fd, ret_populated, ret_frozen);
}

int cgfs_read_events_fd(int fd, bool *ret_populated, bool *ret_frozen)
{
	char buf[CGFS_EVENTS_SMALL];
	ssize_t n;

	/* The kernel prints the whole file as one seq_file record: a read with room to spare
	 * returns all of it (and saves the read that would only say EOF). */
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	/* A full buffer is not what cgroup.events looks like. */
	if ((size_t)n >= sizeof(buf) - 1)
		return -EBADMSG;
	buf[n] = '\0';
	return cgfs_parse_events(buf, ret_populated, ret_frozen);
}

/* qsort comparator for an array of strings. */
static int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Append a copy of s to the NULL-terminated *v of *n strings (capacity *cap). */
static int strv_push(char ***v, size_t *n, size_t *cap, const char *s, size_t len)
{
	if (*n + 1 >= *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		char **nv = reallocarray(*v, ncap, sizeof(char *));

		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[*n] = strndup(s, len);
	if (!(*v)[*n])
		return -ENOMEM;
	(*n)++;
	(*v)[*n] = NULL;
	return 0;
}

/* True when the entry de of directory d is a directory (not following symlinks). */
static bool dirent_is_dir(DIR *d, const struct dirent *de)
{
	struct stat st;

	if (de->d_type == DT_DIR)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
}

int cgfs_list_children(int rootfd, const char *relpath, char ***ret_names)
{
	_cleanup_(closedirp) DIR *d = NULL;
	char **v = NULL;
	size_t n = 0, cap = 1;
	struct dirent *de;
	int fd, r = 0;

	fd = cgfs_open_dir(rootfd, relpath);
	if (fd < 0)
		return fd;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	v = calloc(1, sizeof(char *));
	if (!v)
		return -ENOMEM;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") || !dirent_is_dir(d, de))
			continue;
		r = strv_push(&v, &n, &cap, de->d_name, strlen(de->d_name));
		if (r < 0)
			break;
	}
	if (r == 0 && errno != 0)
		r = -errno;
	if (r < 0) {
		cgfs_strv_free(v);
		return r;
	}
	qsort(v, n, sizeof(char *), strv_cmp);
	*ret_names = v;
	return 0;
}

/* Is name a file name of controller ("memory.max" of "memory")? */
static bool cgfs_is_controller_file(const char *name, const char *controller)
{
	size_t n = strlen(controller);

	return strncmp(name, controller, n) == 0 && name[n] == '.';
}

/*
 * Does the cgroup open at dirfd have regular files of controller (which then
 * names its children's files after them)? The cgroup root has none of most.
 */
static bool cgfs_has_controller_files(int dirfd, const char *controller)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	bool found = false;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (!found && (de = readdir(d)))
		found = de->d_type == DT_REG && cgfs_is_controller_file(de->d_name, controller);
	closedir(d);
	return found;
}

/* Is name a regular file in the directory open at dirfd? */
static bool cgfs_is_file_in(int dirfd, const char *name)
{
	struct stat st;

	return fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

int cgfs_find_shadow(int dirfd, const char *controller, char **ret_path)
{
	char **kids = NULL;
	int r = cgfs_list_children(dirfd, "", &kids);
	/* Only a name the controller's files have (dirfd's own, when it has them) keeps it off. */
	bool exact = r >= 0 && cgfs_has_controller_files(dirfd, controller);

	if (r < 0)
		return r;
	for (char **k = kids; *k && r == 0; k++) {
		char **inner = NULL;

		if (cgfs_list_children(dirfd, *k, &inner) < 0)
			continue;
		for (char **i = inner; *i && r == 0; i++)
			if (cgfs_is_controller_file(*i, controller) && (!exact || cgfs_is_file_in(dirfd, *i)))
				r = asprintf(ret_path, "%s/%s", *k, *i) < 0 ? -ENOMEM : 1;
		cgfs_strv_free(inner);
	}
	cgfs_strv_free(kids);
	return r;
}

char **cgfs_strv_free(char **v)
{
	if (!v)
		return NULL;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
	return NULL;
}

int cgfs_parse_controllers(const char *text, char ***ret_controllers)
{
	char **v = calloc(1, sizeof(char *));
	size_t n = 0, cap = 1;
	const char *p = text ? text : "";

	if (!v)
		return -ENOMEM;
	for (;;) {
		size_t len;

		p += strspn(p, " \t\n");
		if (!*p)
			break;
		len = strcspn(p, " \t\n");
		if (strv_push(&v, &n, &cap, p, len) < 0) {
			cgfs_strv_free(v);
			return -ENOMEM;
		}
		p += len;
	}
	*ret_controllers = v;
	return 0;
}
