/* SPDX-License-Identifier: MIT */
/* nspid.h: how far below our pid namespace a process lives (the NSpid line of /proc). */
#pragma once

#include <sys/types.h>

/*
 * How many pid namespaces below ours the process of a /proc status or pidfd
 * fdinfo text lives: its NSpid numbers less one (0: ours). -ESRCH when the
 * text says the process is gone (pid -1), -EBADMSG without a sane NSpid.
 */
int nspid_parse(const char *text);
/* The same for the peer of connected AF_UNIX socket fd whose SO_PEERCRED pid is pid. */
int nspid_of_peer(int fd, pid_t pid);
