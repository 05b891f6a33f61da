#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# varlink_strict.py: a strict Varlink client of cgctld, built from the interface files.
#
# Usage: varlink_strict.py SOCKET [--degraded SOCKET] IDL...
# Drives every method of every interface the IDL files declare, with good and
# bad input, over the real socket, and checks every reply on the client side
# as another implementation generated from the .varlink files would: strict
# JSON (no duplicate keys, no NaN, UTF-8, one NUL-terminated message each),
# the declared return or error parameters field for field (varlink_check.py),
# the error the input calls for, "continues" only on "more" calls, no reply to
# "oneway", the file descriptor OpenCgroup declares, the values the comments
# promise (Entry.state, Event.type, LedgerRecovery.mode). At the end every
# method must have answered successfully and every declared error must have
# been seen, but for those no client input can cause here (listed). --degraded
# names a daemon whose managed root is not writable (for NoDelegation).
# Prints one line per check; "FAIL: ..." lines and exit 1 when one failed.
# Standard library only (run with /usr/bin/python3, as the daemon's user).

import json
import os
import re
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import varlink_check as vc  # noqa: E402
import hostile  # noqa: E402
from hostile import sleeper  # noqa: E402

IFACE = "io.cgctl.Manager"
SVC = "org.varlink.service"
# Declared errors no client input can cause on a healthy daemon here.
UNREACHABLE = {IFACE + ".Timeout", IFACE + ".SystemError",
               SVC + ".MethodNotImplemented", SVC + ".PermissionDenied"}
ENTRY_STATES = {"creating", "active", "destroying"}
EVENT_TYPES = {"watching", "created", "removed", "populated", "empty", "frozen", "thawed", "oom",
               "oom_kill", "limits", "pressure", "lost", "degraded", "delegated"}
RECOVERY_MODES = {"normal", "fallback", "recovery"}
FAILS = []
SEEN_OK, SEEN_ERR = set(), set()
IFACES = {}


def fail(msg):
    """Record a failed check and go on."""
    FAILS.append(msg)
    print("FAIL: " + msg, flush=True)


def short(obj, n=240):
    """A value, shortened for messages."""
    s = obj if isinstance(obj, str) else json.dumps(obj)
    return s if len(s) <= n else s[:n] + "..."


def no_dups(pairs):
    """object_pairs_hook: a member named twice is not JSON a strict client takes."""
    d = {}
    for k, v in pairs:
        if k in d:
            raise ValueError("member %r twice" % k)
        d[k] = v
    return d


def no_constant(name):
    """parse_constant: NaN and Infinity are not JSON."""
    raise ValueError("%s is not JSON" % name)


def strict_loads(raw):
    """Decode one message as a strict client does; ValueError when it would refuse it."""
    text = raw.decode("utf-8")
    return json.loads(text, object_pairs_hook=no_dups, parse_constant=no_constant)


class Conn(hostile.Conn):
    """hostile.py's connection, but replies are handed over raw, for strict decoding."""

    def __init__(self, path):
        super().__init__(path, timeout=10)

    def send(self, method, params=None, fds=None, **flags):
        """Send one call; a bare method name is io.cgctl.Manager's."""
        super().send(method if "." in method else IFACE + "." + method, params, fds=fds, **flags)

    def recv(self, timeout=10.0):
        """Next raw message (bytes without the NUL); None at EOF or on timeout."""
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.s.settimeout(left)
            try:
                data, fds, _, _ = socket.recv_fds(self.s, 1 << 16, 8)
            except (socket.timeout, ConnectionResetError):
                return None
            self.fds.extend(fds)
            if not data:
                return None
            self.buf += data
        msg, self.buf = self.buf.split(b"\0", 1)
        return msg

    def quiet_for(self, secs):
        """True when nothing arrives for secs."""
        return self.recv(secs) is None and not self.buf


def check_values(method, params):
    """The values the interface's comments promise, beyond the types."""
    out = []
    entries = params.get("entries", []) if method == "List" else []
    if method == "Create" and isinstance(params.get("entry"), dict):
        entries = [params["entry"]]
    for e in entries:
        if e.get("state") not in ENTRY_STATES:
            out.append("Entry.state %s not one of %s" % (json.dumps(e.get("state")), sorted(ENTRY_STATES)))
    if method == "Watch" and isinstance(params.get("event"), dict):
        if params["event"].get("type") not in EVENT_TYPES:
            out.append("Event.type %s undocumented" % json.dumps(params["event"].get("type")))
    if method == "GetStatus":
        mode = params.get("status", {}).get("ledger", {}).get("recovery", {}).get("mode")
        if mode not in RECOVERY_MODES:
            out.append("LedgerRecovery.mode %s not one of %s" % (json.dumps(mode), sorted(RECOVERY_MODES)))
    return out


def judge(raw, method, params, more, want):
    """Check one raw reply to method; the decoded reply (or None)."""
    qual = method if "." in method else IFACE + "." + method
    what = "%s %s" % (method, short(params, 100))
    if raw is None:
        fail("%s: no reply" % what)
        return None
    try:
        reply = strict_loads(raw)
    except ValueError as e:
        fail("%s: reply a strict client refuses (%s): %s" % (what, e, short(raw.decode("utf-8", "replace"))))
        return None
    problems = vc.check_record(IFACES, {"method": qual, "more": more, "reply": reply})
    if "error" in reply and "continues" in reply:
        problems.append("an error that continues: an error ends the call")
    if not isinstance(reply.get("parameters", {}), dict):
        problems.append("parameters is not an object")
    elif "error" not in reply:
        problems += check_values(method.rsplit(".", 1)[-1], reply.get("parameters", {}))
    for p in problems:
        fail("%s: %s in %s" % (what, p, short(reply)))
    err = reply.get("error")
    if err:
        SEEN_ERR.add(err)
    elif not problems:
        SEEN_OK.add(qual)
    got = err or "ok"
    if want is not None:
        want_full = want if want == "ok" or "." in want else IFACE + "." + want
        if got != want_full:
            fail("%s: %s, want %s: %s" % (what, got, want_full, short(reply)))
        else:
            print("ok   %s -> %s" % (what, got), flush=True)
    return reply


def call(c, method, params=None, want="ok", fds=None, **flags):
    """Call, check the reply, return its parameters ({} on error or failure)."""
    c.send(method, params, fds=fds, **flags)
    reply = judge(c.recv(), method, params, flags.get("more") is True, want)
    if reply and not reply.get("continues") and flags.get("more") is not True and b"\0" in c.buf:
        fail("%s: more than one message for one call" % method)
    return reply.get("parameters", {}) if reply and "error" not in reply else {}


def reap(pid):
    """Kill and reap a child of ours."""
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)


MEMBER_RE = re.compile(r"[A-Z][A-Za-z0-9]*$")
FIELD_RE = re.compile(r"[A-Za-z](_?[A-Za-z0-9])*$")


def grammar_fields(where, t, out):
    """Field names and enum values of t (and the types inside it) as the Varlink grammar has them."""
    if t[0] in ("nullable", "array", "map"):
        grammar_fields(where, t[1], out)
    elif t[0] == "enum":
        out.extend("%s: enum value %r" % (where, v) for v in t[1] if not FIELD_RE.match(v))
    elif t[0] == "struct":
        for name, ft in t[1]:
            if not FIELD_RE.match(name):
                out.append("%s: field name %r" % (where, name))
            grammar_fields(where + "." + name, ft, out)


def grammar(iface):
    """Names a stricter parser than varlink_check.py's (the Varlink grammar) would refuse."""
    out = []
    decls = [(n, [t]) for n, t in iface.types.items()] + [(n, list(m)) for n, m in iface.methods.items()]
    for name, types in decls + [(n, [t]) for n, t in iface.errors.items()]:
        if not MEMBER_RE.match(name):
            out.append("member name %r" % name)
        for t in types:
            grammar_fields(name, t, out)
    return out


def service(c, idl_paths):
    """org.varlink.service: GetInfo, every description equal to its file, its errors."""
    info = call(c, SVC + ".GetInfo")
    for name in info.get("interfaces", []):
        desc = call(c, SVC + ".GetInterfaceDescription", {"interface": name}).get("description", "")
        try:
            served = vc.parse_idl(desc)
        except vc.IdlError as e:
            fail("%s: the served description does not parse: %s" % (name, e))
            continue
        for p in grammar(served):
            fail("%s: not the Varlink grammar: %s" % (name, p))
        if name not in IFACES:
            fail("%s: served, but not in the interface files given" % name)
            continue
        mine = IFACES[name]
        if (served.types, served.methods, served.errors) != (mine.types, mine.methods, mine.errors):
            fail("%s: the served description declares other types than the file" % name)
    for name in IFACES:
        if name not in info.get("interfaces", []):
            fail("GetInfo: %s missing from interfaces" % name)
    call(c, SVC + ".GetInterfaceDescription", {"interface": "org.example.Nope"}, SVC + ".InterfaceNotFound")
    call(c, SVC + ".GetInterfaceDescription", {}, SVC + ".InvalidParameter")
    call(c, "org.example.Nope.Call", {}, SVC + ".InterfaceNotFound")
    call(c, IFACE + ".Nope", {}, SVC + ".MethodNotFound")
    call(c, "GetStatus", {"bogus": 1}, SVC + ".InvalidParameter")
    call(c, "Watch", {}, SVC + ".ExpectedMore")
    # "more" on a method that does not stream: one reply, without "continues".
    call(c, "GetStatus", {}, more=True)
    call(c, SVC + ".GetInfo", {}, more=True)
    # "upgrade": no method offers another protocol; refused, and the connection stays Varlink.
    call(c, "GetStatus", {}, SVC + ".InvalidParameter", upgrade=True)
    call(c, "GetStatus", {})
    # oneway: done, no reply; oneway + more: not run, no reply; the next call is answered.
    c.send("Create", {"name": "vs/ow"}, oneway=True)
    c.send("Create", {"name": "vs/.."}, oneway=True)
    c.send("Watch", {"names": ["vs"]}, oneway=True, more=True)
    names = [e["name"] for e in call(c, "List", {"name": "vs"}).get("entries", [])]
    pipelined(c)
    if "vs/ow" not in names:
        fail("oneway Create not done before the next call's reply: %s" % names)


def pipelined(c):
    """Calls sent in one write are answered in order, each with its own method's reply."""
    calls = [("GetStatus", {}, "ok"), ("List", {"name": "vs"}, "ok"), ("Create", {"name": "vs/.."}, "InvalidName"),
             (SVC + ".GetInfo", {}, "ok"), ("GetStats", {"name": "vs"}, "ok"), ("Freeze", {"name": "nope"}, "NotFound")]
    data = b""
    for method, params, _ in calls:
        qual = method if "." in method else IFACE + "." + method
        data += json.dumps({"method": qual, "parameters": params}).encode() + b"\0"
    c.s.sendall(data)
    for method, params, want in calls:
        judge(c.recv(), method, params, False, want)


def create_list(c):
    """Create (every nullable parameter null, generated, errors) and List."""
    nulls = dict.fromkeys(["generate", "prefix", "resources", "delegate", "auto_remove", "lease", "labels"])
    call(c, "Create", dict(nulls, name="vs/nulls"))
    e = call(c, "Create", {"name": "vs/l", "labels": {"a": "b"}, "auto_remove": False}).get("entry", {})
    if e.get("labels") != {"a": "b"} or e.get("name") != "vs/l":
        fail("Create vs/l answered %s" % short(e))
    g = call(c, "Create", {"generate": True, "prefix": "vs"}).get("entry", {})
    if not (g.get("generated") is True and str(g.get("name", "")).startswith("vs/")):
        fail("generated Create answered %s" % short(g))
    call(c, "Create", {"name": "vs/l"}, "AlreadyExists")
    call(c, "Create", {"name": "vs/.."}, "InvalidName")
    call(c, "Create", {"name": "nope/x"}, "NotFound")
    call(c, "Create", {"name": 5}, SVC + ".InvalidParameter")
    call(c, "Create", {"name": "vs/bad", "resources": {"pids_max": 5}}, "InvalidValue")
    listed = {x["name"]: x for x in call(c, "List", {"name": "vs"}).get("entries", [])}
    if listed.get("vs/l", {}).get("path") != e.get("path"):
        fail("List and Create disagree on vs/l: %s vs %s" % (short(listed.get("vs/l")), short(e)))
    call(c, "List", {})
    call(c, "List", {"name": None})
    call(c, "List", {"name": "nope"}, "NotFound")


def resources(c, controllers):
    """SetResources: good, bad, missing controller, quota through cgroup.max.descendants."""
    call(c, "Create", {"name": "vs/q"})
    call(c, "SetResources", {"name": "vs/q", "resources": {"unified": {"cgroup.max.descendants": "0"}}})
    call(c, "Create", {"name": "vs/q/x"}, "QuotaExceeded")
    call(c, "SetResources", {"name": "vs/q", "resources": {"pids_max": "x"}}, "InvalidValue")
    call(c, "SetResources", {"name": "nope", "resources": {}}, "NotFound")
    nulls = {"memory": None, "pids_max": None, "cpu": None, "io": None, "hugetlb": None, "unified": None}
    call(c, "SetResources", {"name": "vs/q", "resources": nulls})
    missing = [k for k in ("memory", "pids", "cpu", "io") if k not in controllers]
    res = {"memory": {"memory": {"max": "1073741824"}}, "pids": {"pids_max": "100"}, "cpu": {"cpu": {"weight": 100}},
           "io": {"io": {"weight": 100}}}
    if missing:
        call(c, "SetResources", {"name": "vs/q", "resources": res[missing[0]]}, "ControllerUnavailable")
    else:
        UNREACHABLE.add(IFACE + ".ControllerUnavailable")
        print("note: every controller is available: ControllerUnavailable not asked for", flush=True)


def processes(c, path):
    """Attach (pid, pidfd, refused), GetStats, Freeze/Thaw, Snapshot, OpenCgroup, Busy, Kill."""
    kid, kid2 = sleeper(), sleeper()
    try:
        call(c, "Create", {"name": "vs/busy"})
        a = call(c, "Attach", {"name": "vs/busy", "pids": [kid]})
        if a.get("attached") != [kid]:
            fail("Attach answered %s, want attached [%d]" % (short(a), kid))
        pfd = os.pidfd_open(kid2)
        try:
            call(c, "Attach", {"name": "vs/busy", "pidfds": 1}, fds=[pfd])
        finally:
            os.close(pfd)
        call(c, "Attach", {"name": "vs/busy", "pids": [1]}, "PermissionDenied")
        call(c, "Attach", {"name": "vs/busy", "pids": [2 ** 22 + 1]}, "InvalidValue")
        st = call(c, "GetStats", {"name": "vs/busy"}).get("stats", {})
        if sorted(st.get("pids", [])) != sorted([kid, kid2]) or st.get("populated") is not True:
            fail("GetStats after two attaches: %s" % short(st))
        call(c, "GetStats", {"name": "nope"}, "NotFound")
        call(c, "Freeze", {"name": "vs/busy"})
        fr = [x for x in call(c, "List", {"name": "vs/busy"}).get("entries", [])]
        if not fr or fr[0].get("frozen") is not True:
            fail("List after Freeze: %s" % short(fr))
        call(c, "Thaw", {"name": "vs/busy", "timeout_ms": 5000})
        call(c, "Freeze", {"name": "nope"}, "NotFound")
        call(c, "Thaw", {"name": "vs/busy", "timeout_ms": -1}, "InvalidValue")
        snap = call(c, "Snapshot", {"names": ["vs"]})
        if "vs/busy" not in [x.get("name") for x in snap.get("cgroups", [])]:
            fail("Snapshot of vs lacks vs/busy: %s" % short(snap))
        call(c, "Snapshot", {})
        call(c, "Snapshot", {"names": ["vs"] * 65}, "InvalidValue")
        opened(c)
        call(c, "OpenCgroup", {"name": "nope"}, "NotFound")
        call(c, "Destroy", {"name": "vs/busy"}, "Busy")
        call(c, "Kill", {"name": "vs/busy", "signal": 99}, "InvalidValue")
        call(c, "Kill", {"name": "vs/busy", "signal": 9})
        for k in (kid, kid2):
            os.waitpid(k, 0)
    finally:
        for k in (kid, kid2):
            try:
                reap(k)
            except ChildProcessError:
                pass


def opened(c):
    """OpenCgroup hands out exactly one descriptor: the cgroup's directory."""
    r = call(c, "OpenCgroup", {"name": "vs/busy"})
    fds, c.fds = c.fds, []
    try:
        if not r:
            return
        if len(fds) != 1 or r.get("fd") != 0:
            fail("OpenCgroup: fd %s with %d descriptors passed" % (r.get("fd"), len(fds)))
            return
        a, b = os.fstat(fds[0]), os.stat(r["path"])
        if (a.st_dev, a.st_ino) != (b.st_dev, b.st_ino):
            fail("OpenCgroup: the descriptor is not %s" % r["path"])
    finally:
        for fd in fds:
            os.close(fd)


def stream_next(w, params, want_type, want_name):
    """Read stream replies until the event (want_type, want_name); each one checked."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        reply = judge(w.recv(deadline - time.monotonic()), "Watch", params, True, None)
        if reply is None:
            return False
        if reply.get("continues") is not True:
            fail("Watch: a reply without continues ended the stream: %s" % short(reply))
            return False
        ev = reply.get("parameters", {}).get("event", {})
        if (ev.get("type"), ev.get("name")) == (want_type, want_name):
            print("ok   Watch -> %s %s" % (want_type, want_name), flush=True)
            return True
    fail("Watch: no %s event for %s" % (want_type, want_name))
    return False


def streams(c, path):
    """Watch: the first reply, events of another connection's acts, pressure, errors."""
    params = {"names": ["vs"]}
    w = Conn(path)
    try:
        w.send("Watch", params, more=True)
        stream_next(w, params, "watching", "")
        call(c, "Create", {"name": "vs/w"})
        stream_next(w, params, "created", "vs/w")
        call(c, "Destroy", {"name": "vs/w"})
        stream_next(w, params, "removed", "vs/w")
    finally:
        w.close()
    trig = {"name": "vs", "resource": "cpu", "kind": "some", "stall_us": 150000, "window_us": 2000000}
    p = Conn(path)
    try:
        p.send("Watch", {"pressure": [trig]}, more=True)
        stream_next(p, {"pressure": [trig]}, "watching", "")
    finally:
        p.close()
    call(c, "Watch", {"pressure": [dict(trig, kind="every")]}, "InvalidValue", more=True)
    call(c, "Watch", {"names": ["../x"]}, "InvalidName", more=True)
    call(c, "Watch", {"pressure": [dict(trig, name="nope")]}, "NotFound", more=True)


def replaced(c):
    """A directory another program made again under a managed name: Replaced."""
    e = call(c, "Create", {"name": "vs/r"}).get("entry", {})
    if not e:
        return
    os.rmdir(e["path"])
    os.mkdir(e["path"])
    try:
        call(c, "Freeze", {"name": "vs/r"}, "Replaced")
    finally:
        os.rmdir(e["path"])


def destroys(c):
    """Destroy: Busy without recursive, existed=false for the unknown, everything removed."""
    call(c, "Destroy", {"name": "vs"}, "Busy")
    d = call(c, "Destroy", {"name": "never-made"})
    if d != {"name": "never-made", "existed": False, "removed": []}:
        fail("Destroy of a name never made answered %s" % short(d))
    # timeout_ms 0 is the default wait, as for Freeze, Thaw and Kill (it was no wait: Timeout).
    kid = sleeper()
    try:
        call(c, "Create", {"name": "vs/zero"})
        call(c, "Attach", {"name": "vs/zero", "pids": [kid]})
        d = call(c, "Destroy", {"name": "vs/zero", "kill": True, "timeout_ms": 0})
        if d.get("removed") != ["vs/zero"]:
            fail("Destroy with kill and timeout_ms 0 answered %s" % short(d))
    finally:
        reap(kid)
    d = call(c, "Destroy", {"name": "vs", "recursive": True, "kill": True, "timeout_ms": 5000})
    if d.get("existed") is not True or "vs" not in d.get("removed", []):
        fail("recursive Destroy answered %s" % short(d))
    left = call(c, "List", {}).get("entries", [])
    if [x["name"] for x in left if x["name"] == "vs" or x["name"].startswith("vs/")]:
        fail("entries left after the recursive Destroy: %s" % short(left))


def degraded(path):
    """A daemon without a writable root: NoDelegation, status says why, Destroy is a no-op."""
    d = Conn(path)
    try:
        st = call(d, "GetStatus").get("status", {})
        if st.get("delegated") is not False or not st.get("reason"):
            fail("degraded GetStatus: %s" % short(st))
        call(d, "Create", {"name": "x"}, "NoDelegation")
        call(d, "Create", {}, "NoDelegation")
        call(d, "Destroy", {"name": "x"})
    finally:
        d.close()


def coverage():
    """Every method answered successfully, every declared error seen (but the unreachable)."""
    for iname, iface in sorted(IFACES.items()):
        for mname in sorted(iface.methods):
            if iname + "." + mname not in SEEN_OK:
                fail("coverage: no conforming successful reply to %s.%s" % (iname, mname))
        for ename in sorted(iface.errors):
            full = iname + "." + ename
            if full not in SEEN_ERR and full not in UNREACHABLE:
                fail("coverage: error %s never elicited" % full)
    print("%d methods answered, %d errors seen" % (len(SEEN_OK), len(SEEN_ERR)), flush=True)


def main(argv):
    args, degraded_sock = argv[1:], None
    if len(args) >= 2 and args[1] == "--degraded":
        degraded_sock = args[2]
        del args[1:3]
    if len(args) < 2:
        print("usage: varlink_strict.py SOCKET [--degraded SOCKET] IDL...", file=sys.stderr)
        return 2
    IFACES.update(vc.load_interfaces(args[1:]))
    path = args[0]
    c = Conn(path)
    try:
        status = call(c, "GetStatus").get("status", {})
        call(c, "Create", {"name": "vs"})
        service(c, args[1:])
        create_list(c)
        resources(c, status.get("controllers", []))
        processes(c, path)
        streams(c, path)
        replaced(c)
        destroys(c)
    finally:
        c.close()
    if degraded_sock:
        degraded(degraded_sock)
    else:
        UNREACHABLE.add(IFACE + ".NoDelegation")
    coverage()
    print("%d checks failed" % len(FAILS), flush=True)
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
