/* SPDX-License-Identifier: MIT */
/* paths.c: the default control socket path and the sun_path length check. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "paths.h"

#define SUN_PATH_SIZE sizeof(((struct sockaddr_un *)0)->sun_path)

/* 0 when path fits sun_path with its NUL. */
int proto_check_socket_path(const char *path)
{
	if (!path || path[0] == '\0')
		return -EINVAL;
	if (strnlen(path, SUN_PATH_SIZE) >= SUN_PATH_SIZE)
		return -ENAMETOOLONG;
	return 0;
}

/* $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager, falling back to /run/user/<uid>. */
int proto_default_socket_path(char **ret)
{
	_cleanup_free_ char *path = NULL;
	const char *dir = getenv("XDG_RUNTIME_DIR");
	size_t dlen;
	int r;

	if (dir && dir[0] == '/') {
		/* Trailing slashes would only double up. */
		dlen = strlen(dir);
		while (dlen > 0 && dir[dlen - 1] == '/')
			dlen--;
		if (dlen > SUN_PATH_SIZE)
			return -ENAMETOOLONG;
		r = asprintf(&path, "%.*s/" PROTO_SOCKET_DIR "/" PROTO_SOCKET_NAME,
			     (int)dlen, dir);
	} else
		r = asprintf(&path, "/run/user/%u/" PROTO_SOCKET_DIR "/" PROTO_SOCKET_NAME,
			     (unsigned)getuid());
	if (r < 0) {
		path = NULL;
		return -ENOMEM;
	}

	r = proto_check_socket_path(path);
	if (r < 0)
		return r;
	*ret = TAKE_PTR(path);
	return 0;
}
