# SPDX-License-Identifier: MIT
# t_contract.sh: what the daemon says is true: replies as the interface declares, state that never lags.
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK... are lib.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.
# Every reply of every test is also checked against protocol/*.varlink at the
# end of the run (run.sh's varlink_replies); these tests hold the cases that
# need a particular exchange or timing.

PY=/usr/bin/python3

# The CLI as the test user, talking to the current daemon.
c() { cgctl_u --socket "$DSOCK" "$@"; }

# Skip (77) without the Python the raw clients need.
need_python() {
	[ -x "$PY" ] || skip "$PY not installed"
}

# Raw Varlink helpers for the Python clients below (argv[1] is the socket).
VL_PY='
import json, socket, sys, time
class Conn:
    def __init__(self, timeout=5):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(sys.argv[1])
        self.buf = b""
    def settimeout(self, t):
        self.sock.settimeout(t)
def conn(timeout=5):
    return Conn(timeout)
def send(s, method, params=None, **flags):
    m = {"method": method, "parameters": params or {}}
    m.update(flags)
    s.sock.sendall(json.dumps(m).encode() + b"\0")
def recv(s):
    while b"\0" not in s.buf:
        d = s.sock.recv(65536)
        if not d:
            raise SystemExit("connection closed")
        s.buf += d
    m, s.buf = s.buf.split(b"\0", 1)
    return json.loads(m)
'

# A cgroup "f" holding a sleeping process, on a fresh daemon.
frozen_fixture() {
	cgt_daemon_start "" || return 1
	c create f
	expect_rc 0 || return 1
	cgt_sleeper "$CGT_MROOT/f" || fail "cannot place a sleeper in f" || return 1
}

# Run the script $1 as the test user in workloads/ (the CLI at hand);
# its argv: the CLI, the socket, the per-call guard (CGT_TIMEOUT s), then ours.
# No speed is asserted: the script's own cap is 400 calls' guards, which only
# a hang reaches, and the script bounds each call by the guard itself.
as_user_sh() {
	local call_s=$CGT_TIMEOUT script=$1
	local CGT_TIMEOUT=$((call_s * 400))
	shift
	cgt_as_user_in "$CGT_WORK" /bin/sh -c "$script" sh "$CGCTL" "$DSOCK" "$call_s" "$@"
}

# CONTRACT_ROUNDS times (CGCTL_CONTRACT_ROUNDS; 25, 100 with CGCTL_THOROUGH=1),
# no pause: a List right after a confirmed Freeze (or Thaw) of cgroup $1 shows
# what it confirmed, in the whole list and in the subtree. The race itself is
# caught by contract_pipelined_list_never_stale (at its first round, against
# the daemon before 92f21ff); this is the CLI's end of the same promise.
# A call that hangs fails the round it is in (exit 124 of timeout). Each
# List's reply is kept as it came and all are judged by one jq at the end
# (not two jq starts a round: 100 in a run).
CONTRACT_ROUNDS=${CGCTL_CONTRACT_ROUNDS:-25}
[ "${CGCTL_THOROUGH:-0}" = 1 ] && CONTRACT_ROUNDS=${CGCTL_CONTRACT_ROUNDS:-100}
freeze_list_loop() {
	local lists=$CGT_TMP/lists.jsonl res
	install -m 0600 -o "$CGT_UID" -g "$CGT_GID" /dev/null "$lists" || return 1
	as_user_sh '
		cgctl=$1 sock=$2 t=$3 cg=$4 n=$5 lists=$6 i=0
		cl() { timeout -k 2 "$t" "$cgctl" --socket "$sock" "$@"; }
		while [ $i -lt "$n" ]; do
			cl freeze "$cg" || { echo "freeze #$i failed ($?)"; exit 1; }
			cl --json list >>"$lists" || { echo "list after freeze #$i failed ($?)"; exit 1; }
			cl thaw "$cg" || { echo "thaw #$i failed ($?)"; exit 1; }
			cl --json list "$cg" >>"$lists" || { echo "list of $cg after thaw #$i failed ($?)"; exit 1; }
			i=$((i + 1))
		done
		echo "$cg: $i rounds"' "$1" "$CONTRACT_ROUNDS" "$lists" >"$CGT_TMP/loop.out" 2>&1
	local rc=$?
	cat "$CGT_TMP/loop.out"
	[ "$rc" = 0 ] || fail "exit $rc: $(tail -n 1 "$CGT_TMP/loop.out")" || return 1
	# After freeze #i: the whole list has $1 once, frozen; after thaw #i: the
	# subtree's list starts with $1, not frozen.
	res=$(jq -n -r --arg cg "$1" --argjson n "$CONTRACT_ROUNDS" '[inputs] as $d
		| if ($d | length) != 2 * $n then "\($d | length) lists, want \(2 * $n)" else
		  first(range(0; $n) as $i
			| ([$d[2 * $i][] | select(.name == $cg) | .frozen]) as $f
			| ($d[2 * $i + 1][0].frozen) as $t
			| if $f != [true] then "\($cg): list after freeze #\($i): frozen \($f | map(tojson) | join(" "))"
			  elif $t != false then "\($cg): list after thaw #\($i): frozen \($t | tojson)"
			  else empty end) // "ok" end' "$lists") || fail "the lists do not parse: $(head -c 300 "$lists")" || return 1
	[ "$res" = ok ] || fail "$res"
}

# Run Python client $1 as the test user against the daemon (more argv after);
# its last line of output is the reason when it fails.
run_py() {
	local script=$1 out=$CGT_TMP/py.out
	shift
	cgt_as_user_in "$CGT_WORK" "$PY" -S -c "$script" "$DSOCK" "$@" >"$out" 2>&1
	[ $? = 0 ] || fail "$(tail -n 1 "$out")"
}

test_contract_freeze_then_list_never_stale() {
	frozen_fixture || return 1
	# Empty, a cgroup freezes and thaws at once, before the kernel tells inotify.
	c create empty
	expect_rc 0 || return 1
	freeze_list_loop empty || return 1
	freeze_list_loop f || return 1
}

# The same on one connection, List pipelined right behind the change (the
# daemon reads it the moment it has answered): the sharpest "right after".
# argv[2] is a pid to move between a/b and x.
PIPELINED_PY=$VL_PY'
s = conn()
pid = int(sys.argv[2])
def entries(name):
    r = recv(s)
    if "error" in r:
        raise SystemExit("List %s: %r" % (name, r))
    return r["parameters"]["entries"]
def after(method, params, name, field, want, rounds):
    for i in range(rounds):
        send(s, "io.cgctl.Manager." + method, params)
        send(s, "io.cgctl.Manager.List", {"name": name})
        r = recv(s)
        if "error" in r:
            raise SystemExit("%s #%d: %r" % (method, i, r))
        got = [e[field] for e in entries(name)]
        if got != want:
            raise SystemExit("List right after %s %s #%d: %s %s, want %s" % (method, params, i, field, got, want))
for i in range(100):
    for cg in ("empty", "f"):
        after("Freeze", {"name": cg}, cg, "frozen", [True], 1)
        after("Thaw", {"name": cg}, cg, "frozen", [False], 1)
for i in range(30):
    after("Freeze", {"name": "p"}, "p", "frozen", [True, True], 1)
    after("Thaw", {"name": "p"}, "p", "frozen", [False, False], 1)
    after("Attach", {"name": "a/b", "pids": [pid]}, "a", "populated", [True, True], 1)
    after("Attach", {"name": "x", "pids": [pid]}, "x", "populated", [True], 1)
print("ok")
'

test_contract_pipelined_list_never_stale() {
	need_python || return
	frozen_fixture || return 1
	local n
	for n in empty p p/inner a a/b x; do
		c create "$n"
		expect_rc 0 || return 1
	done
	cgt_sleeper "$CGT_WORK" || return 1
	run_py "$PIPELINED_PY" "$SPID" || return 1
}

# A client that keeps a Watch on f open and, on a second connection, sends
# Freeze and Thaw together 20 times: every confirmed transition is an event.
FREEZE_THAW_PY=$VL_PY'
w = conn()
send(w, "io.cgctl.Manager.Watch", {"names": ["f"]}, more=True)
if recv(w)["parameters"]["event"]["type"] != "watching":
    raise SystemExit("no watching event")
c = conn()
for i in range(20):
    send(c, "io.cgctl.Manager.Freeze", {"name": "f"})
    send(c, "io.cgctl.Manager.Thaw", {"name": "f"})
    for what in ("Freeze", "Thaw"):
        r = recv(c)
        if "error" in r:
            raise SystemExit("%s #%d: %r" % (what, i, r))
seen = []
w.settimeout(3)
try:
    while len(seen) < 40:
        ev = recv(w)["parameters"]["event"]
        if ev["type"] in ("frozen", "thawed"):
            seen.append(ev["type"])
except socket.timeout:
    pass
want = ["frozen", "thawed"] * 20
if seen != want:
    raise SystemExit("%d events, want 40 alternating frozen/thawed: %s" % (len(seen), " ".join(seen)))
print("40 events in order")
'

test_contract_freeze_thaw_back_to_back_events() {
	need_python || return
	frozen_fixture || return 1
	run_py "$FREEZE_THAW_PY" || return 1
}

# Put controller $1 back in the scratch root's subtree_control (what the harness set up).
restore_parent() {
	cgt_has_word "$CGT_SCRATCH/cgroup.subtree_control" "$1" ||
		echo "+$1" >"$CGT_SCRATCH/cgroup.subtree_control" || cgt_log "warning: cannot re-enable $1"
}

# Controllers of the daemon's status, space-separated.
status_controllers() {
	c --json status >/dev/null
	jqo '.controllers | join(" ")'
}

test_contract_controllers_follow_the_parent() {
	local ctl=hugetlb
	cgt_has_word "$CGT_SCRATCH/cgroup.controllers" "$ctl" || { skip "no $ctl on cgroup2 here"; return; }
	cgt_has_word "$CGT_SCRATCH/cgroup.subtree_control" "$ctl" || { skip "$ctl not enabled in the scratch root"; return; }
	# The parent (the scratch root, "user@UID.service") withholds it at start-up.
	echo "-$ctl" >"$CGT_SCRATCH/cgroup.subtree_control" || fail "cannot disable $ctl in the scratch root" || return 1
	contract_controllers_body "$ctl"
	local rc=$?
	restore_parent "$ctl"
	return "$rc"
}

# The part of test_contract_controllers_follow_the_parent run while the parent lacks $1.
contract_controllers_body() {
	local ctl=$1
	cgt_daemon_start "" || return 1
	[ "$(status_controllers)" = "" ] || fail "controllers at start without $ctl: $(jqo .controllers)" || return 1
	# The parent enables it: status says so at once, no restart, and new cgroups get it.
	echo "+$ctl" >"$CGT_SCRATCH/cgroup.subtree_control" || fail "cannot enable $ctl" || return 1
	[ "$(status_controllers)" = "$ctl" ] || fail "after the parent enabled $ctl: $(jqo .controllers)" || return 1
	cgt_has_word "$CGT_MROOT/cgroup.subtree_control" "$ctl" || fail "$ctl not enabled for the children" || return 1
	c create late
	expect_rc 0 || return 1
	compgen -G "$CGT_MROOT/late/$ctl.*" >/dev/null || fail "no $ctl files in a cgroup made after" || return 1
	c destroy late
	expect_rc 0 || return 1
	# Withdrawn (first below us, then in the parent): status follows, the daemon does not fight it.
	echo "-$ctl" >"$CGT_MROOT/cgroup.subtree_control" || fail "cannot withdraw $ctl from the managed root" || return 1
	[ "$(status_controllers)" = "" ] || fail "after $ctl was withdrawn: $(jqo .controllers)" || return 1
	echo "-$ctl" >"$CGT_SCRATCH/cgroup.subtree_control" || fail "cannot withdraw $ctl from the parent" || return 1
	[ "$(status_controllers)" = "" ] || fail "after the parent withdrew $ctl: $(jqo .controllers)" || return 1
	# And back again.
	echo "+$ctl" >"$CGT_SCRATCH/cgroup.subtree_control" || fail "cannot enable $ctl again" || return 1
	[ "$(status_controllers)" = "$ctl" ] || fail "after the parent enabled $ctl again: $(jqo .controllers)" || return 1
}

WATCH_NO_MORE_PY=$VL_PY'
s = conn()
send(s, "io.cgctl.Manager.Watch", {})
r = recv(s)
if r != {"error": "org.varlink.service.ExpectedMore", "parameters": {}}:
    raise SystemExit("Watch without more: %r" % r)
send(s, "org.varlink.service.GetInterfaceDescription", {"interface": "org.example.Nope"})
r = recv(s)
if r != {"error": "org.varlink.service.InterfaceNotFound", "parameters": {"interface": "org.example.Nope"}}:
    raise SystemExit("unknown interface: %r" % r)
send(s, "org.example.Nope.Method")
r = recv(s)
if r != {"error": "org.varlink.service.InterfaceNotFound", "parameters": {"interface": "org.example.Nope"}}:
    raise SystemExit("method of an unknown interface: %r" % r)
send(s, "io.cgctl.Manager.Nope")
r = recv(s)
if r != {"error": "org.varlink.service.MethodNotFound", "parameters": {"method": "io.cgctl.Manager.Nope"}}:
    raise SystemExit("unknown method: %r" % r)
send(s, "io.cgctl.Manager.List", {"bogus": 1})
r = recv(s)
if r != {"error": "org.varlink.service.InvalidParameter", "parameters": {"parameter": "bogus"}}:
    raise SystemExit("unknown parameter: %r" % r)
print("ok")
'

test_contract_service_errors_exact() {
	need_python || return
	cgt_daemon_start "" || return 1
	run_py "$WATCH_NO_MORE_PY" || return 1
	# The service interface served is varlink.org's, byte for byte our file.
	c call org.varlink.service.GetInterfaceDescription '{"interface":"org.varlink.service"}'
	expect_rc 0 || return 1
	[ "$(jq -r .description <<<"$OUT")" = "$(cat "$TOP/protocol/org.varlink.service.varlink")" ] ||
		fail "served org.varlink.service differs from protocol/org.varlink.service.varlink" || return 1
}

ONEWAY_MORE_PY=$VL_PY'
s = conn()
# Neither runs (nothing to stream into the void), neither is answered, and the
# connection goes on: the next call gets the next reply.
send(s, "io.cgctl.Manager.Watch", {}, oneway=True, more=True)
send(s, "io.cgctl.Manager.Create", {"name": "never"}, oneway=True, more=True)
send(s, "org.varlink.service.GetInfo")
r = recv(s)
if "interfaces" not in r.get("parameters", {}):
    raise SystemExit("reply after oneway+more calls: %r" % r)
send(s, "io.cgctl.Manager.List")
r = recv(s)
if r.get("parameters", {}).get("entries") != []:
    raise SystemExit("List after a oneway+more Create: %r" % r)
print("ok")
'

test_contract_oneway_more_refused_not_wedged() {
	need_python || return
	cgt_daemon_start "" || return 1
	run_py "$ONEWAY_MORE_PY" || return 1
	expect_no_dir never "oneway+more Create" || return 1
	c --json status
	expect_rc 0 "daemon after oneway+more calls" || return 1
}

test_contract_stats_values_are_strings() {
	cgt_daemon_start "" || return 1
	c create s
	expect_rc 0 || return 1
	c --json stats s
	expect_rc 0 || return 1
	# Single-value files are strings (a number or "max"), every other file an object.
	expect_jq_all '(.values | type == "object") and ([.values[] | type == "string" and test("^(max|-?[0-9]+)$")] | all)' \
		'[.files[] | type == "object"] | all' || return 1
	# A limit near 2^63 (this kernel's unlimited hugetlb) survives exactly.
	if [ -e "$CGT_MROOT/s/hugetlb.2MB.max" ]; then
		expect_jq ".values[\"hugetlb.2MB.max\"] == \"$(cat "$CGT_MROOT/s/hugetlb.2MB.max")\"" || return 1
	fi
	c --json status
	expect_jq '.ledger.dropped_records == 0' || return 1
}
