/* SPDX-License-Identifier: MIT */
/* fakepeer.h: the byte-level side of the fake Varlink servers the libcgctl suites script. */
#pragma once

#include <sys/types.h>

/* Next NUL-terminated message from the client into out: its length, 0 at EOF, -1 on error. */
ssize_t srv_read_msg(int fd, char *out, size_t size);
/* Write all of buf: 0, or -1. */
int srv_write(int fd, const void *buf, size_t len);
/* Read until the client hangs up; 1 when it sent anything meanwhile. */
int srv_drain(int fd);
/* Open descriptors of this process. */
int count_fds(void);
/*
 * Fork a server listening at path as uid/gid (taken before listen(), whose
 * credentials SO_PEERCRED reports); it accepts one client within 10 s and
 * exits 0 when that client sent nothing, 1 when it sent bytes, 2 or more when
 * it could not set up. Returns once it listens. Needs root.
 */
pid_t srv_listen_as(const char *path, uid_t uid, gid_t gid);
