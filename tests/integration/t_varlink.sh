# SPDX-License-Identifier: MIT
# t_varlink.sh: the Varlink surface: org.varlink.service, raw calls, pipelining, bad peers.
# shellcheck shell=bash
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

test_call_unknown_method() {
	cgt_daemon_start "" || return 1
	c call io.cgctl.Manager.Nope
	expect_rc 1 || return 1
	expect_err org.varlink.service.MethodNotFound || return 1
	c call org.example.Nope.Method
	expect_rc 1 || return 1
	expect_err org.varlink.service.InterfaceNotFound || return 1
	c --json status
	expect_rc 0 "daemon after unknown methods" || return 1
}

test_call_get_info() {
	cgt_daemon_start "" || return 1
	c call org.varlink.service.GetInfo
	expect_rc 0 || return 1
	expect_jq_all '.interfaces | index("io.cgctl.Manager") != null and index("org.varlink.service") != null' \
		'.vendor | type == "string"' || return 1
}

test_call_interface_description() {
	cgt_daemon_start "" || return 1
	c call org.varlink.service.GetInterfaceDescription '{"interface":"io.cgctl.Manager"}'
	expect_rc 0 || return 1
	expect_jq '.description | contains("method Create") and contains("interface io.cgctl.Manager")' || return 1
	# It serves exactly the interface file of the tree it was built from.
	[ "$(jq -r .description <<<"$OUT")" = "$(cat "$TOP/protocol/io.cgctl.Manager.varlink")" ] ||
		fail "served description differs from protocol/io.cgctl.Manager.varlink" || return 1
	c call org.varlink.service.GetInterfaceDescription '{"interface":"org.example.Nope"}'
	expect_rc 1 || return 1
	expect_err org.varlink.service.InterfaceNotFound || return 1
}

test_call_create_raw() {
	cgt_daemon_start "" || return 1
	c call io.cgctl.Manager.Create '{"name":"raw","labels":{"a":"b"}}'
	expect_rc 0 || return 1
	expect_jq ".entry.name == \"raw\" and .entry.path == \"$CGT_MROOT/raw\" and .entry.labels.a == \"b\"" || return 1
	expect_dir raw || return 1
	c call io.cgctl.Manager.Create '{"name": 42}'
	expect_rc 1 "Create with a number for a name" || return 1
	expect_err org.varlink.service.InvalidParameter || return 1
	c call io.cgctl.Manager.List
	expect_rc 0 || return 1
	expect_jq '[.entries[].name] == ["raw"]' || return 1
}

# Raw socket client in /usr/bin/python3 (root's python3 is a shim), run as the
# test user: pipelined calls answered in order; garbage drops only that peer.
WIRE_PY='
import json, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s
def replies(s, n):
    buf, out = b"", []
    while len(out) < n:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed after %d replies" % len(out))
        buf += d
        while b"\0" in buf:
            m, buf = buf.split(b"\0", 1)
            out.append(json.loads(m))
    return out
s = conn()
calls = [{"method": "io.cgctl.Manager.Create", "parameters": {"name": "p%d" % i}} for i in range(5)]
calls.append({"method": "io.cgctl.Manager.List", "parameters": {}})
s.sendall(b"".join(json.dumps(c).encode() + b"\0" for c in calls))
r = replies(s, len(calls))
for i in range(5):
    if r[i].get("parameters", {}).get("entry", {}).get("name") != "p%d" % i:
        raise SystemExit("reply %d out of order or failed: %r" % (i, r[i]))
if sorted(e["name"] for e in r[5]["parameters"]["entries"]) != ["p%d" % i for i in range(5)]:
    raise SystemExit("List after pipelined creates: %r" % r[5])
# oneway: no reply, but done before the next reply.
s.sendall(json.dumps({"method": "io.cgctl.Manager.Destroy", "parameters": {"name": "p0"}, "oneway": True}).encode() + b"\0"
          + json.dumps({"method": "io.cgctl.Manager.List"}).encode() + b"\0")
r = replies(s, 1)
if "p0" in [e["name"] for e in r[0]["parameters"]["entries"]]:
    raise SystemExit("oneway Destroy not done before the next call: %r" % r[0])
g = conn()
g.sendall(b"{this is not json\0")
try:
    d = g.recv(65536)
    while d and b"\0" not in d:
        d += g.recv(65536)
except (ConnectionResetError, socket.timeout):
    d = b""
s.sendall(json.dumps({"method": "org.varlink.service.GetInfo"}).encode() + b"\0")
replies(s, 1)
print("ok")
'

test_wire_pipelining_and_garbage() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	cgt_daemon_start "" || return 1
	if ! cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c "$WIRE_PY" "$DSOCK"; then
		fail "wire client failed (see transcript)"
		return 1
	fi
	local i
	expect_no_dir p0 "oneway Destroy" || return 1
	for i in 1 2 3 4; do expect_dir "p$i" || return 1; done
	kill -0 "$DPID" || fail "daemon died after a garbage peer" || return 1
	c --json status
	expect_rc 0 || return 1
}

# Raw messages json-c would read other than written: a lone surrogate escape
# (U+FFFD instead), duplicate keys (the last wins). Each must be refused with
# InvalidParameter naming the parameter, and create nothing; in the outer
# object they drop the connection. Prints "ok" or exits with why.
ODD_JSON_PY='
import json, socket, sys
def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    s.connect(sys.argv[1])
    return s
def call(s, raw):
    s.sendall(raw.encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        d = s.recv(65536)
        if not d:
            return None
        buf += d
    return json.loads(buf.split(b"\0", 1)[0])
C = "{\"method\":\"io.cgctl.Manager.Create\",\"parameters\":%s}"
s = conn()
for params, want in [("{\"name\":\"sur\\udcffx\"}", "name"),
                     ("{\"name\":\"hi\\ud800\"}", "name"),
                     ("{\"name\":\"dup-a\",\"name\":\"dup-b\"}", "name"),
                     ("{\"name\":\"lab\",\"labels\":{\"k\":\"1\",\"k\":\"2\"}}", "labels")]:
    r = call(s, C % params)
    if r is None or r.get("error") != "org.varlink.service.InvalidParameter" or r.get("parameters") != {"parameter": want}:
        raise SystemExit("Create %s: %r, want InvalidParameter %s" % (params, r, want))
# The connection goes on; a real pair and a real U+FFFD are names like others.
r = call(s, C % "{\"name\":\"pair\\ud83d\\ude00\"}")
if r is None or "error" in r:
    raise SystemExit("Create of a surrogate pair: %r" % r)
# In the outer object: a framing error, the connection is dropped.
g = conn()
if call(g, "{\"method\":\"io.cgctl.Manager.List\",\"method\":\"io.cgctl.Manager.GetStatus\"}") is not None:
    raise SystemExit("a duplicate method key was answered")
r = call(s, "{\"method\":\"io.cgctl.Manager.List\"}")
names = sorted(e["name"] for e in r["parameters"]["entries"])
if names != ["pair\U0001f600"]:
    raise SystemExit("entries after the refused calls: %r" % names)
print("ok")
'

test_wire_duplicate_keys_lone_surrogates() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	cgt_daemon_start "" || return 1
	if ! cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c "$ODD_JSON_PY" "$DSOCK"; then
		fail "odd JSON client failed (see transcript)"
		return 1
	fi
	expect_no_dir $'sur\xef\xbf\xbdx' "a lone surrogate" || return 1
	expect_no_dir dup-a && expect_no_dir dup-b && expect_no_dir lab || return 1
	kill -0 "$DPID" || fail "daemon died" || return 1
}

# cgctl call reads its parameters as the daemon reads a call: a key written twice (json-c keeps the
# last: Create of "b"), a lone surrogate or more values than a call may hold is refused before sending.
test_call_refuses_what_json_c_drops() {
	cgt_daemon_start "" || return 1
	local p
	cgctl_u --socket "$DSOCK" call Create '{"name":"dup-a","name":"dup-b"}'
	expect_rc 1 "call with a key twice" || return 1
	[[ $ERR == *"parameter 'name' holds a key written twice"* ]] || fail "unclear message: $ERR" || return 1
	cgctl_u --socket "$DSOCK" call Create '{"name":"lab","labels":{"k":"1","k":"2"}}'
	expect_rc 1 "call with a label key twice" || return 1
	[[ $ERR == *"parameter 'labels' holds a key written twice"* ]] || fail "unclear message: $ERR" || return 1
	cgctl_u --socket "$DSOCK" call --more Watch '{"names":["x"],"names":["y"]}'
	expect_rc 1 "call --more with a key twice" || return 1
	[[ $ERR == *"parameter 'names' holds a key written twice"* ]] || fail "unclear message: $ERR" || return 1
	cgctl_u --socket "$DSOCK" call Create '{"name":"sur\udcffx"}'
	expect_rc 1 "call with a lone surrogate" || return 1
	p=$(printf '{"name":"many","x":[%s0]}' "$(printf '0,%.0s' {1..5000})")
	cgctl_u --socket "$DSOCK" call Create "$p"
	expect_rc 1 "call with 5000 values" || return 1
	[[ $ERR == *"more than 4096 values"* ]] || fail "unclear message: $ERR" || return 1
	expect_no_dir dup-a && expect_no_dir dup-b && expect_no_dir lab && expect_no_dir many || return 1
	expect_no_dir $'sur\xef\xbf\xbdx' "a lone surrogate" || return 1
	# The same key in two objects is fine.
	cgctl_u --socket "$DSOCK" call Create '{"name":"ok","labels":{"name":"ok"}}'
	expect_rc 0 "call with a key in two objects" || return 1
}

# A strict client built from the interface files (varlink_strict.py) drives
# every method and every reachable error of a healthy and a degraded daemon,
# and checks each reply on the client side as another implementation would.
test_varlink_strict_client() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	local ro=$CGT_SCRATCH/rootowned py=$CGT_TMP/bin/varlink_strict.py dsock
	cgt_py_modules varlink_strict.py varlink_check.py hostile.py || return 1
	install -m 0644 "$TOP"/protocol/*.varlink "$CGT_TMP/bin/" || return 1
	cgt_mkcg "$ro" root && cgt_mkcg "$CGT_SCRATCH/deghome" || return 1
	cgt_daemon_start "$CGT_SCRATCH/deghome" --cgroup-root "$ro" --socket "$CGT_RUN/deg.sock" || return 1
	dsock=$DSOCK
	cgt_daemon_start "" || return 1
	if ! cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S "$py" "$DSOCK" --degraded "$dsock" "$CGT_TMP"/bin/*.varlink; then
		fail "the strict client found replies it refuses (see transcript)"
		return 1
	fi
	kill -0 "$DPID" || fail "daemon died under the strict client" || return 1
}
