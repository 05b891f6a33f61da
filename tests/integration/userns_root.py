#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# userns_root.py: run a command as root of a new user namespace that maps uids and gids 0-65535 to themselves.
#
# Usage (as root): userns_root.py CMD [ARG...]. The command keeps root's file
# access and chown for the mapped ids, but is no longer CAP_SYS_ADMIN of the
# host: trusted.* extended attributes are refused to it, as to a root daemon in
# a container. No newuidmap needed (root writes the maps itself). Execs CMD.
import ctypes
import os
import sys

CLONE_NEWUSER = 0x10000000


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: userns_root.py CMD [ARG...]")
    r, w = os.pipe()
    done_r, done_w = os.pipe()
    me = os.getpid()
    helper = os.fork()
    if helper == 0:
        # The maps of the namespace the parent is about to enter, written from outside it.
        os.close(w)
        if os.read(r, 1) != b"x":
            os._exit(1)
        for f in ("uid_map", "gid_map"):
            with open("/proc/%d/%s" % (me, f), "w") as fh:
                fh.write("0 0 65536\n")
        os.write(done_w, b"x")
        os._exit(0)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER) != 0:
        sys.exit("unshare(CLONE_NEWUSER): %s" % os.strerror(ctypes.get_errno()))
    os.write(w, b"x")
    ok = os.read(done_r, 1) == b"x"
    _, status = os.waitpid(helper, 0)
    if not ok or status != 0:
        sys.exit("cannot write the namespace's uid and gid maps")
    os.setgid(0)
    os.setuid(0)
    os.execvp(sys.argv[1], sys.argv[1:])


main()
