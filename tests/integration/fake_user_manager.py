#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# fake_user_manager.py: a stand-in for systemd --user's private D-Bus socket, for t_proc.sh (run with /usr/bin/python3).
#
# Usage: fake_user_manager.py MODE SOCKET [DELAY]. Listens on SOCKET (its
# directory is created), serves every connection in a thread of its own and
# prints one line per event ("listening", "connected", "call MEMBER ARGS",
# "replied", "closed"). MODE says what the peer does:
#   mute   accept, never say a word (not even to the authentication)
#   hang   authenticate, read the call, never answer it
#   ok     authenticate, answer the call with success after DELAY seconds
#   deny   authenticate, answer with org.freedesktop.DBus.Error.AccessDenied after DELAY
#   drop   authenticate, read the call, hang up
# Runs until SIGTERM or SIGINT, then removes SOCKET.

import os
import signal
import socket
import struct
import sys
import threading
import time

GUID = b"0123456789abcdef0123456789abcdef"
METHOD_CALL, METHOD_RETURN, ERROR = 1, 2, 3
F_PATH, F_INTERFACE, F_MEMBER, F_ERROR_NAME, F_REPLY_SERIAL, F_SIGNATURE = 1, 2, 3, 4, 5, 8
LOCK = threading.Lock()


def say(msg):
    """One event line, whole, whatever the threads do."""
    with LOCK:
        print(msg, flush=True)


def align(n, a):
    """n rounded up to a multiple of a."""
    return (n + a - 1) // a * a


class Peer:
    """One client connection: byte buffer, SASL, D-Bus messages."""

    def __init__(self, sock):
        self.s = sock
        self.buf = b""
        self.serial = 0

    def fill(self, n):
        """Read until the buffer holds n bytes; False on end of file."""
        while len(self.buf) < n:
            data = self.s.recv(65536)
            if not data:
                return False
            self.buf += data
        return True

    def take(self, n):
        """The next n buffered bytes."""
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def line(self):
        """One CRLF-terminated SASL line, or None at end of file."""
        while b"\r\n" not in self.buf:
            data = self.s.recv(4096)
            if not data:
                return None
            self.buf += data
        out, self.buf = self.buf.split(b"\r\n", 1)
        return out.decode("ascii", "replace")

    def authenticate(self):
        """Server side of the SASL exchange sd-bus starts; True once BEGIN came."""
        if not self.fill(1) or self.take(1) != b"\0":
            return False
        while True:
            line = self.line()
            if line is None:
                return False
            if line == "BEGIN":
                return True
            if line == "AUTH EXTERNAL":
                reply = b"DATA\r\n"  # newer sd-bus: the identity comes in a DATA line
            elif line.startswith("AUTH EXTERNAL ") or line.startswith("DATA"):
                reply = b"OK " + GUID + b"\r\n"
            elif line == "NEGOTIATE_UNIX_FD":
                reply = b"AGREE_UNIX_FD\r\n"
            elif line.startswith("AUTH"):
                reply = b"REJECTED EXTERNAL\r\n"
            else:
                reply = b"ERROR\r\n"
            self.s.sendall(reply)

    def message(self):
        """(type, serial, header fields, body, endianness) of the next message, or None."""
        if not self.fill(16):
            return None
        e = "<" if self.buf[0:1] == b"l" else ">"
        mtype = self.buf[1]
        body_len, serial, fields_len = struct.unpack(e + "III", self.buf[4:16])
        total = align(16 + fields_len, 8) + body_len
        if not self.fill(total):
            return None
        raw = self.take(total)
        fields, off = {}, 16
        while off < 16 + fields_len:
            off = align(off, 8)
            code, siglen = raw[off], raw[off + 1]
            sig = raw[off + 2:off + 2 + siglen].decode()
            off += 3 + siglen
            if sig in ("s", "o"):
                off = align(off, 4)
                (n,) = struct.unpack(e + "I", raw[off:off + 4])
                fields[code] = raw[off + 4:off + 4 + n].decode()
                off += 5 + n
            elif sig == "g":
                n = raw[off]
                fields[code] = raw[off + 1:off + 1 + n].decode()
                off += 2 + n
            elif sig == "u":
                off = align(off, 4)
                (fields[code],) = struct.unpack(e + "I", raw[off:off + 4])
                off += 4
            else:
                raise ValueError("header field of signature %r" % sig)
        return mtype, serial, fields, raw[align(16 + fields_len, 8):], e

    def send(self, mtype, fields, body=b""):
        """Send one little-endian message with header fields [(code, sig, value)]."""
        f = b""
        for code, sig, val in fields:
            f += b"\0" * (align(len(f), 8) - len(f))
            f += bytes([code, 1]) + sig.encode() + b"\0"
            if sig == "s":
                f += b"\0" * (align(len(f), 4) - len(f))
                f += struct.pack("<I", len(val)) + val.encode() + b"\0"
            elif sig == "g":
                f += bytes([len(val)]) + val.encode() + b"\0"
            elif sig == "u":
                f += b"\0" * (align(len(f), 4) - len(f))
                f += struct.pack("<I", val)
        self.serial += 1
        # Flags 1: no reply expected.
        msg = b"l" + bytes([mtype, 1, 1]) + struct.pack("<III", len(body), self.serial, len(f)) + f
        msg += b"\0" * (align(len(msg), 8) - len(msg))
        self.s.sendall(msg + body)


def ssau(body, e):
    """Decode an (s, s, au) body, as AttachProcessesToUnit takes."""
    out, off = [], 0
    for _ in range(2):
        off = align(off, 4)
        (n,) = struct.unpack(e + "I", body[off:off + 4])
        out.append(body[off + 4:off + 4 + n].decode())
        off += 5 + n
    off = align(off, 4)
    (n,) = struct.unpack(e + "I", body[off:off + 4])
    out.append(list(struct.unpack(e + "%dI" % (n // 4), body[off + 4:off + 4 + n])))
    return out


def serve(sock, mode, delay):
    """One connection, as MODE says."""
    peer = Peer(sock)
    try:
        say("connected")
        if mode == "mute":
            while sock.recv(4096):
                pass
            return
        if not peer.authenticate():
            say("closed during authentication")
            return
        while True:
            m = peer.message()
            if m is None:
                break
            mtype, serial, fields, body, e = m
            if mtype != METHOD_CALL:
                continue
            member = fields.get(F_MEMBER, "")
            args = ssau(body, e) if fields.get(F_SIGNATURE) == "ssau" else body.hex()
            say("call %s %s %r" % (fields.get(F_PATH, ""), member, args))
            if mode == "hang":
                continue
            if mode == "drop":
                break
            time.sleep(delay)
            if mode == "ok":
                peer.send(METHOD_RETURN, [(F_REPLY_SERIAL, "u", serial)])
            else:
                text = "fake user manager says no".encode()
                peer.send(ERROR, [(F_ERROR_NAME, "s", "org.freedesktop.DBus.Error.AccessDenied"),
                                  (F_REPLY_SERIAL, "u", serial), (F_SIGNATURE, "g", "s")],
                          struct.pack("<I", len(text)) + text + b"\0")
            say("replied")
    except OSError as err:
        say("connection error: %s" % err)
    finally:
        say("closed")
        sock.close()


def main():
    if len(sys.argv) < 3 or sys.argv[1] not in ("mute", "hang", "ok", "deny", "drop"):
        sys.stderr.write("usage: fake_user_manager.py mute|hang|ok|deny|drop SOCKET [DELAY]\n")
        return 2
    mode, path = sys.argv[1], sys.argv[2]
    delay = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    if os.path.exists(path):
        os.unlink(path)
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(64)

    def stop(signum, frame):
        os.unlink(path)
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    say("listening")
    while True:
        conn, _ = srv.accept()
        threading.Thread(target=serve, args=(conn, mode, delay), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
