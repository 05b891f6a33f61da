#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""List right after a child that lived a few ms in the cgroup was reaped: never populated.

usage: short_child.py SOCKET CGROUP_DIR NAME ROUNDS
The kernel sends the second cgroup.events notification within 10 ms late, so
a List answered from the cache alone said populated for an empty cgroup.
Prints "stale N of ROUNDS".
"""
import json
import os
import socket
import sys
import time

sock, cgdir, name, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
buf = b""


def call(method, params):
    global buf
    s.sendall(json.dumps({"method": method, "parameters": params}).encode() + b"\0")
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("cgctld closed the connection")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)


call("io.cgctl.Manager.List", {"name": name})  # from now on the daemon follows it
stale = 0
for _ in range(rounds):
    pid = os.fork()
    if pid == 0:
        with open(cgdir + "/cgroup.procs", "w") as f:
            f.write("0")
        time.sleep(0.003)
        os._exit(0)
    os.waitpid(pid, 0)
    r = call("io.cgctl.Manager.List", {"name": name})
    listed = r["parameters"]["entries"][0]["populated"]
    with open(cgdir + "/cgroup.events") as f:
        real = f.read()
    if listed and "populated 0" in real:
        stale += 1
    time.sleep(0.03)
print("stale", stale, "of", rounds)
