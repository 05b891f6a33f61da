/* SPDX-License-Identifier: MIT */
/* paths.h: where the daemon's socket lives by default, shared by daemon and client. */
#pragma once

/* The socket is <runtime dir>/PROTO_SOCKET_DIR/PROTO_SOCKET_NAME. */
#define PROTO_SOCKET_DIR "cgctl"
#define PROTO_SOCKET_NAME "io.cgctl.Manager"

/*
 * Default socket path: $XDG_RUNTIME_DIR/cgctl/io.cgctl.Manager when that
 * variable is set, non-empty and absolute, else /run/user/<uid>/cgctl/...
 * Returns 0 and a malloc'd string, -ENAMETOOLONG when it does not fit
 * sockaddr_un.sun_path, -ENOMEM.
 */
int proto_default_socket_path(char **ret);

/* 0 when path can be bound or connected to; -EINVAL (NULL or empty), -ENAMETOOLONG. */
int proto_check_socket_path(const char *path);
