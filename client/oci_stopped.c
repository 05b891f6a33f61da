/* SPDX-License-Identifier: MIT */
/* oci_stopped.c: poststops that could not reach cgctld, remembered until a later --gc or createRuntime finishes them. */

/*
 * A container without a PID namespace can leave processes behind when its
 * init ends. Rootless runc cannot kill them (it has no cgroup of its own to
 * look in), and the container's auto_remove entry never becomes empty:
 * poststop's kill is the only one. When cgctld is down at poststop, the hook
 * leaves a note in the user's state directory saying which container
 * stopped when; the next --gc, or the quiet sweep of any createRuntime,
 * kills and removes that container's entries created before that moment
 * (a container of the same id started since is not touched), then drops the
 * note. Like oci_where.c and oci_parents.c, this module does I/O.
 */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "oci.h"

#define STOPPED_DIR "oci-hook-stopped"
#define STOPPED_NOTE_MAX 8192 /* bytes of one note */
#define STOPPED_MAX 1024      /* notes finished in one sweep */
/* Another daemon's note older than this is dropped: notes cannot pile up past STOPPED_MAX. */
#define STOPPED_STALE_USEC (30LL * 24 * 3600 * 1000000)

/* _cleanup_ of a DIR *. */
static inline void stopped_closedir(DIR **d)
{
	if (*d)
		closedir(*d);
}

/* <state>/cgctl/oci-hook-stopped, made 0700 when make; malloc'd in *ret, or -errno. */
static int stopped_dir(bool make, char **ret)
{
	_cleanup_free_ char *state = NULL;
	int r = oci_where_state_dir(&state);

	if (r < 0)
		return r;
	if (asprintf(ret, "%s/" STOPPED_DIR, state) < 0)
		return -ENOMEM;
	if (make)
		(void)mkdir(*ret, 0700);
	return 0;
}

int oci_stopped_note(const struct oci_state *st, const char *sock)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *dir = NULL, *tmp = NULL, *path = NULL;
	_cleanup_close_ int fd = -1;
	struct timespec now;
	const char *text;
	size_t len;
	int r = stopped_dir(true, &dir);

	if (r < 0)
		return r;
	if (!o || clock_gettime(CLOCK_REALTIME, &now) < 0)
		return -ENOMEM;
	json_object_object_add(o, "id", json_object_new_string(st->id));
	json_object_object_add(o, "bundle", json_object_new_string(st->bundle));
	if (sock)
		json_object_object_add(o, "socket", json_object_new_string(sock));
	json_object_object_add(o, "stopped_usec",
			       json_object_new_int64((int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	/* Written under a dot name, renamed when whole: a sweep reads only whole notes. */
	if (asprintf(&tmp, "%s/.%jd.%d", dir, (intmax_t)now.tv_sec, (int)getpid()) < 0 ||
	    asprintf(&path, "%s/%jd.%09ld.%d.json", dir, (intmax_t)now.tv_sec, now.tv_nsec, (int)getpid()) < 0)
		return -ENOMEM;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		r = -errno;
		unlink(tmp);
		return r ? r : -EIO;
	}
	return 0;
}

/* Note file name of dirfd as a JSON object, or NULL: ours, regular, small, an object. */
static json_object *stopped_read(int dirfd, const char *name)
{
	_cleanup_free_ char *buf = NULL;
	_cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
	json_object *o = NULL;
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size <= 0 ||
	    st.st_size > STOPPED_NOTE_MAX || !(buf = calloc(1, (size_t)st.st_size + 1)))
		return NULL;
	if (read(fd, buf, (size_t)st.st_size) != st.st_size || oci_spec_parse(buf, (size_t)st.st_size, &o) < 0)
		return NULL;
	return o;
}

/* Whether note was left for the daemon on socket sock (a note without one: any daemon's). */
static bool stopped_same_socket(json_object *note, const char *sock)
{
	const char *s = oci_spec_str(note, "socket");

	return !s || (sock && strcmp(s, sock) == 0);
}

/* Whether note stopped more than STOPPED_STALE_USEC ago (or says no time). */
static bool stopped_stale(json_object *note)
{
	json_object *when = NULL;
	struct timespec now;

	if (!json_object_object_get_ex(note, "stopped_usec", &when) || !json_object_is_type(when, json_type_int) ||
	    clock_gettime(CLOCK_REALTIME, &now) < 0)
		return true;
	return (int64_t)now.tv_sec * 1000000 + now.tv_nsec / 1000 - json_object_get_int64(when) > STOPPED_STALE_USEC;
}

/*
 * Kill and remove the entries among e[0..n) of the container a note names,
 * created before it stopped; "removed NAME" on out. 0 when nothing of it is
 * left (gone, removed, or replaced by another program), else -errno.
 */
static int stopped_finish_one(cgctl *c, const struct oci_owner *o, json_object *note, struct cgctl_entry **e,
			      size_t n, FILE *out)
{
	struct oci_state st = { .id = oci_spec_str(note, "id"), .bundle = oci_spec_str(note, "bundle") };
	json_object *when = NULL;
	int64_t stopped;
	int ret = 0;

	if (!st.id || !st.bundle || !json_object_object_get_ex(note, "stopped_usec", &when) ||
	    !json_object_is_type(when, json_type_int) || (stopped = json_object_get_int64(when)) <= 0)
		return 0; /* not a note of ours: nothing to do */
	for (size_t i = 0; i < n; i++) {
		int existed = 0, r;

		if (!oci_identity_is_ours(&st, o, e[i]) || e[i]->created_usec > (uint64_t)stopped)
			continue;
		r = cgctl_destroy(c, e[i]->name, CGCTL_DESTROY_KILL | CGCTL_DESTROY_RECURSIVE, &existed);
		if (r >= 0)
			oci_parents_drop(c, o, e[i]->name, e, n);
		if (r >= 0 && existed && out)
			fprintf(out, "removed %s\n", e[i]->name);
		if (r < 0 && r != -CGCTL_EREPLACED)
			ret = r;
	}
	return ret;
}

int oci_stopped_finish(cgctl *c, const char *sock, const struct oci_owner *o, FILE *out)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_(stopped_closedir) DIR *d = NULL;
	struct cgctl_entry **e = NULL;
	struct dirent *de;
	size_t n = 0, seen = 0;
	bool listed = false;
	int r = stopped_dir(false, &path), ret = 0;

	if (r < 0)
		return r;
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d)) && seen < STOPPED_MAX) {
		_cleanup_json_ json_object *note = NULL;

		if (de->d_name[0] == '.')
			continue;
		seen++;
		note = stopped_read(dirfd(d), de->d_name);
		/* Another daemon's container (its own socket): that daemon's sweeps finish it, unless stale. */
		if (note && !stopped_same_socket(note, sock)) {
			if (stopped_stale(note))
				(void)unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		/* The list once, and only when there is a note of ours. */
		if (note && !listed) {
			if ((r = cgctl_list(c, NULL, &e, &n)) < 0)
				return r;
			listed = true;
		}
		r = note ? stopped_finish_one(c, o, note, e, n, out) : 0;
		if (r >= 0)
			(void)unlinkat(dirfd(d), de->d_name, 0);
		else
			ret = r;
	}
	cgctl_entries_free(e, n);
	return ret;
}
