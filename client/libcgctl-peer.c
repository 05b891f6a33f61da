/* SPDX-License-Identifier: MIT */
/* libcgctl-peer.c: who serves the socket: only the caller's own uid or root is talked to. */

#include <errno.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libcgctl-internal.h"

/* Why the calling thread's last cgctl_connect() failed, when there is more to say than its code. */
static __thread char connect_error[512];

/* Forget the calling thread's last connect error (start of every connect). */
void libcgctl_connect_error_clear(void)
{
	connect_error[0] = '\0';
}

/* The calling thread's last connect error, or NULL. */
const char *libcgctl_connect_error(void)
{
	return connect_error[0] ? connect_error : NULL;
}

/*
 * The kernel reports the listener's uid as seen from our user namespace, and
 * ours as well: a same-user daemon seen from a rootless user namespace (podman's
 * hooks run as uid 0 there) appears as 0, or both of us as the overflow uid.
 */
int libcgctl_check_peer(int fd, const char *path)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	uid_t uid = getuid(), euid = geteuid();

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	if (len != sizeof(cred))
		return -EPROTO;
	if (cred.uid == uid || cred.uid == euid || cred.uid == 0)
		return 0;
	snprintf(connect_error, sizeof(connect_error),
		 "%s is served by uid %u, not by you (uid %u) or root; refusing to talk to it", path,
		 (unsigned)cred.uid, (unsigned)uid);
	return -CGCTL_EUNTRUSTED;
}
