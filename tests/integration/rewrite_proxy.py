#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# rewrite_proxy.py: a hostile cgctld for t_names.sh (run with /usr/bin/python3).
#
# Usage: rewrite_proxy.py LISTEN UPSTREAM FROM TO. Listens on LISTEN, passes
# every client's messages to the real daemon at UPSTREAM, and in each
# message coming back replaces the text FROM with TO (JSON text: escapes such
# as \u009b stay escapes, the message stays valid JSON), so that the CLI gets
# names, labels and messages the real daemon would never send.

import socket
import sys
import threading


def pump(src, dst, rewrite):
    """Copy NUL-terminated messages from src to dst, rewriting each when asked."""
    buf = b""
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            buf += data
            while b"\0" in buf:
                msg, buf = buf.split(b"\0", 1)
                dst.sendall((rewrite(msg) if rewrite else msg) + b"\0")
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    listen, upstream, old, new = sys.argv[1:5]
    old_b, new_b = old.encode(), new.encode()
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(listen)
    srv.listen(16)
    print("listening", flush=True)
    while True:
        c, _ = srv.accept()
        u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        u.connect(upstream)
        threading.Thread(target=pump, args=(c, u, None), daemon=True).start()
        threading.Thread(target=pump, args=(u, c, lambda m: m.replace(old_b, new_b)), daemon=True).start()


main()
