/* SPDX-License-Identifier: MIT */
/* oci_where.c: where the hook finds its daemon and its log file, also inside a runtime's user namespace. */

/*
 * podman runs poststop itself, as uid 0 of its rootless user namespace and
 * with an almost empty environment: no XDG_RUNTIME_DIR, no HOME. So
 * createRuntime, which still has the user's environment, records what it
 * used in a small file of the bundle, and poststop reads it back; without
 * one, the uid the namespace maps us to gives /run/user/UID, as logind
 * would have it. Unlike the rest of oci_*.c this module does I/O.
 */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "oci.h"
#include "paths.h"

#define WHERE_RECORD_MAX 8192

/* _cleanup_ of a FILE *. */
static inline void where_fclose(FILE **f)
{
	if (*f)
		fclose(*f);
}

/* The uid outside every user namespace that our euid maps to (our euid when there is none). */
uid_t oci_where_outer_uid(void)
{
	_cleanup_(where_fclose) FILE *f = fopen("/proc/self/uid_map", "re");
	unsigned long in, out, count;
	uid_t me = geteuid();

	while (f && fscanf(f, "%lu %lu %lu", &in, &out, &count) == 3)
		if (me >= in && me - in < count && out + (me - in) <= UINT_MAX - 1)
			return (uid_t)(out + (me - in));
	return me;
}

/* Path of the record file in bundle; malloc'd or NULL. */
static char *where_record_path(const char *bundle)
{
	char *p = NULL;

	return asprintf(&p, "%s/" OCI_WHERE_RECORD, bundle) < 0 ? NULL : p;
}

/* The record createRuntime left in bundle, as a JSON object, or NULL: ours, regular, small. */
static json_object *where_record_read(const char *bundle)
{
	_cleanup_free_ char *path = where_record_path(bundle), *buf = NULL;
	_cleanup_close_ int fd = -1;
	json_object *o = NULL;
	struct stat st;
	ssize_t n;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK)) < 0)
		return NULL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_size <= 0 ||
	    st.st_size > WHERE_RECORD_MAX || !(buf = calloc(1, (size_t)st.st_size + 1)))
		return NULL;
	n = read(fd, buf, (size_t)st.st_size);
	if (n != st.st_size || oci_spec_parse(buf, (size_t)n, &o) < 0)
		return NULL;
	return o;
}

/* A string member of the record that is an absolute path, strdup'd, or NULL. */
static char *where_record_get(const char *bundle, const char *key)
{
	_cleanup_json_ json_object *o = where_record_read(bundle);
	const char *v = oci_spec_str(o, key);

	return v && v[0] == '/' && proto_check_socket_path(v) >= 0 ? strdup(v) : NULL;
}

char *oci_where_name(const char *bundle)
{
	_cleanup_json_ json_object *o = bundle ? where_record_read(bundle) : NULL;
	const char *v = oci_spec_str(o, "name");

	return v && cgname_validate(v, strlen(v), NULL) >= 0 ? strdup(v) : NULL;
}

/* $CGCTL_SOCKET, $XDG_RUNTIME_DIR/..., createRuntime's record, /run/user/<outer uid>/... */
int oci_where_socket(const char *bundle, char **ret)
{
	const char *env = getenv("CGCTL_SOCKET"), *xdg = getenv("XDG_RUNTIME_DIR");
	char *p = NULL;

	if (env && env[0])
		p = strdup(env);
	else if (xdg && xdg[0] == '/')
		return proto_default_socket_path(ret);
	else if (bundle && (p = where_record_get(bundle, "socket")))
		;
	else if (asprintf(&p, "/run/user/%u/" PROTO_SOCKET_DIR "/" PROTO_SOCKET_NAME,
			  (unsigned)oci_where_outer_uid()) < 0)
		p = NULL;
	if (!p)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* $XDG_STATE_HOME, ~/.local/state of $HOME, of the outer uid's passwd entry; malloc'd or NULL. */
static char *where_state_home(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct passwd *pw;
	char *p = NULL;

	if (xdg && xdg[0] == '/')
		return strdup(xdg);
	if ((!home || home[0] != '/') && (pw = getpwuid(oci_where_outer_uid())) && pw->pw_dir[0] == '/')
		home = pw->pw_dir;
	if (!home || home[0] != '/')
		return NULL;
	return asprintf(&p, "%s/.local/state", home) < 0 ? NULL : p;
}

int oci_where_state_dir(char **ret)
{
	_cleanup_free_ char *state = where_state_home();
	char *dir = NULL;

	if (!state)
		return -ENOENT;
	/* The parents as XDG wants them; an error shows when a file there cannot be opened. */
	for (char *s = strchr(state + 1, '/');; s = strchr(s + 1, '/')) {
		if (s)
			*s = '\0';
		(void)mkdir(state, 0700);
		if (!s)
			break;
		*s = '/';
	}
	if (asprintf(&dir, "%s/cgctl", state) < 0)
		return -ENOMEM;
	(void)mkdir(dir, 0700);
	*ret = dir;
	return 0;
}

/* createRuntime's record, else <state home>/cgctl/oci-hook.log. */
int oci_where_log(const char *bundle, char **ret)
{
	_cleanup_free_ char *dir = NULL;
	char *p = bundle ? where_record_get(bundle, "log") : NULL;
	int r;

	if (p) {
		*ret = p;
		return 0;
	}
	r = oci_where_state_dir(&dir);
	if (r < 0)
		return r;
	if (asprintf(&p, "%s/oci-hook.log", dir) < 0)
		return -ENOMEM;
	*ret = p;
	return 0;
}

/* Leave socket, log and cgroup name in bundle for poststop (replacing an older record atomically). */
int oci_where_record(const char *bundle, const char *socket, const char *log, const char *name)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	_cleanup_free_ char *path = where_record_path(bundle), *tmp = NULL;
	_cleanup_close_ int fd = -1;
	const char *text;
	size_t len;

	if (!o || !path || asprintf(&tmp, "%s.%d", path, (int)getpid()) < 0)
		return -ENOMEM;
	json_object_object_add(o, "socket", json_object_new_string(socket));
	if (log)
		json_object_object_add(o, "log", json_object_new_string(log));
	if (name)
		json_object_object_add(o, "name", json_object_new_string(name));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	len = strlen(text);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, text, len) != (ssize_t)len || rename(tmp, path) < 0) {
		int r = -errno;

		unlink(tmp);
		return r ? r : -EIO;
	}
	return 0;
}

/* Remove the record of bundle (poststop, after its work); gone already is fine. */
void oci_where_forget(const char *bundle)
{
	_cleanup_free_ char *path = where_record_path(bundle);

	if (path)
		(void)unlink(path);
}
