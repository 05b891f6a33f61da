#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Other containers' hooks under one cgroupsPath parent, as fast as they go.

usage: parent_churn.py SOCKET PARENT STOPFILE
Until STOPFILE exists: Create PARENT (labelled oci.parent=true, as the hook
makes it), Destroy it (as the poststop of the last container below it does).
Prints "cycles N removed M" (M: destroys that found it empty and removed it).
"""
import json
import os
import socket
import sys

sock, parent, stopfile = sys.argv[1], sys.argv[2], sys.argv[3]
s = socket.socket(socket.AF_UNIX)
s.connect(sock)
buf = b""


def call(method, params):
    global buf
    s.sendall(json.dumps({"method": "io.cgctl.Manager." + method, "parameters": params}).encode() + b"\0")
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit("cgctld closed the connection")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)


cycles = removed = 0
while not os.path.exists(stopfile):
    call("Create", {"name": parent, "labels": {"oci.parent": "true"}})
    r = call("Destroy", {"name": parent})
    cycles += 1
    if "error" not in r:
        removed += 1
print("cycles", cycles, "removed", removed)
