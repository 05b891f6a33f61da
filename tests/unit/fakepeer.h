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
