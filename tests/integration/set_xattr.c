/* SPDX-License-Identifier: MIT */
/* set_xattr.c: set one extended attribute, as setfattr -n NAME -v VALUE would, in one exec of ~1 ms. */

/*
 * Usage: set_xattr PATH NAME VALUE. Sets attribute NAME of PATH (a symlink
 * followed, as os.setxattr does) to the bytes of VALUE, without a NUL.
 * Exit 0 when it is set, 1 (and why on stderr) otherwise. The harness's
 * python3 -c 'os.setxattr(...)' cost a Python start (about 60 ms of CPU).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

int main(int argc, char **argv)
{
	if (argc != 4) {
		fprintf(stderr, "usage: set_xattr PATH NAME VALUE\n");
		return 1;
	}
	if (setxattr(argv[1], argv[2], argv[3], strlen(argv[3]), 0) < 0) {
		fprintf(stderr, "set_xattr: %s: %s: %s\n", argv[1], argv[2], strerror(errno));
		return 1;
	}
	return 0;
}
