# SPDX-License-Identifier: MIT
# t_names.sh: names that act on a terminal are refused, NULs are never cut, and the CLI escapes what any daemon sends.
# shellcheck shell=bash disable=SC2153 # CGCTL, DSOCK, HERE... are lib.sh's and run.sh's
# Sourced by run.sh after lib.sh; every test_* starts from an empty topology.

# A hostile name as JSON text: C1 CSI "2J" (clear the screen), ESC "]0;...BEL" (set the
# title), RLO (show what follows backwards). Printed, every one of them is escaped.
NM_HOSTILE_JSON='X\u009b2J\u001b]0;pwn\u0007\u202eZ'
NM_HOSTILE_SHOWN='X\u009b2J\x1b]0;pwn\x07\u202eZ'

c() { cgctl_u --socket "$DSOCK" "$@"; }

# Text $2 (what the CLI printed for $1) holds no byte of the hostile name that a terminal would act on, and shows its escaped form.
nm_expect_escaped() {
	case $2 in *$'\x1b'* | *$'\xc2\x9b'* | *$'\x07'* | *$'\xe2\x80\xae'*)
		fail "$1 printed raw control or bidi bytes: $(printf '%q' "${2:0:300}")"
		return 1
		;;
	esac
	case $2 in *"$NM_HOSTILE_SHOWN"*) return 0 ;; esac
	fail "$1 does not show the escaped name: $(printf '%q' "${2:0:300}")"
}

test_names_hidden_chars_refused() {
	cgt_daemon_start "" || return 1
	local p
	# Straight to the daemon (cgctl call checks no names): C1, bidi, isolate, BOM, in a prefix too.
	for p in '{"name":"a\u009b2J"}' '{"name":"ok/x\u202ey"}' '{"name":"z\u2066"}' '{"name":"b\ufeff"}' \
		'{"name":"n\u0085"}' '{"generate":true,"prefix":"p\u009b"}'; do
		c call Create "$p" && expect_rc 1 "Create $p" && expect_err InvalidName "Create $p" || return 1
	done
	expect_err "invalid prefix: name contains a C1 control character" || return 1
	c call Create '{"name":"t\u202e"}' && expect_err "invalid name: name contains an invisible or text-direction" ||
		return 1
	# libcgctl refuses them before sending.
	c create $'c1\xc2\x9b2J' && expect_rc 1 && expect_err InvalidName && expect_err "C1 control character" || return 1
	c create --generate --prefix $'p\xe2\x80\xae' && expect_rc 1 && expect_err InvalidName || return 1
	c --json list && expect_rc 0 && expect_jq 'length == 0' || return 1
	# Their neighbours are names like any: NBSP, é, ZWJ (emoji, Persian).
	c create $'caf\xc3\xa9\xc2\xa0\xe2\x80\x8d' && expect_rc 0 || return 1
	expect_dir $'caf\xc3\xa9\xc2\xa0\xe2\x80\x8d'
}

# Raw calls with "\u0000" in a key or a string: json-c cuts a key there, C every value.
# Each must be InvalidParameter naming the parameter, and make nothing. Prints "ok" or exits with why.
NM_NUL_PY='
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(5)
s.connect(sys.argv[1])
def call(method, params):
    s.sendall(("{\"method\":\"io.cgctl.Manager.%s\",\"parameters\":%s}" % (method, params)).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        d = s.recv(65536)
        if not d:
            raise SystemExit("connection closed after %s %s" % (method, params))
        buf += d
    return json.loads(buf.split(b"\0", 1)[0])
for method, params, want in [
        ("Create", "{\"name\":\"lab\",\"labels\":{\"a\\u0000b\":\"x\"}}", "labels"),
        ("Create", "{\"name\":\"val\",\"labels\":{\"k\":\"v\\u0000w\"}}", "labels"),
        ("Create", "{\"name\":\"n\\u0000x\"}", "name"),
        ("Create", "{\"generate\":true,\"prefix\":\"p\\u0000q\"}", "prefix"),
        ("Destroy", "{\"name\":\"lab\\u0000\"}", "name"),
        ("SetResources", "{\"name\":\"lab\",\"resources\":{\"unified\":{\"pids.max\":\"5\\u00009\"}}}", "resources")]:
    r = call(method, params)
    if r.get("error") != "org.varlink.service.InvalidParameter" or r.get("parameters") != {"parameter": want}:
        raise SystemExit("%s %s: %r, want InvalidParameter %s" % (method, params, r, want))
r = call("List", "{}")
if r.get("parameters", {}).get("entries") != []:
    raise SystemExit("entries after the refused calls: %r" % r)
print("ok")
'

test_names_nul_refused() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	cgt_daemon_start "" || return 1
	cgt_as_user_in "$CGT_WORK" /usr/bin/python3 -S -c "$NM_NUL_PY" "$DSOCK" ||
		fail "a call with \\u0000 was not refused as it should (see transcript)" || return 1
	# cgctl call (libcgctl) refuses it before sending, saying why.
	c call Create '{"name":"lab","labels":{"a\u0000b":"x"}}' && expect_rc 1 || return 1
	expect_err "parameter 'labels' holds a key written twice, a lone UTF-16 surrogate escape or a NUL" || return 1
	expect_no_dir lab && expect_no_dir n && expect_no_dir val || return 1
	kill -0 "$DPID" || fail "daemon died"
}

# Start rewrite_proxy.py as the test user on socket $1 in front of $DSOCK, "evilmark" made hostile. Sets PXPID.
nm_proxy_start() {
	local py=$CGT_TMP/bin/rewrite_proxy.py
	[ -f "$py" ] || install -m 0644 "$HERE/rewrite_proxy.py" "$py" || return 1
	cgt_user_bg_split "$CGT_WORK" "$CGT_TMP/proxy.out" "$CGT_TMP/proxy.err" /usr/bin/python3 -S "$py" "$1" "$DSOCK" \
		evilmark "$NM_HOSTILE_JSON"
	PXPID=$BGPID
	cgt_wait_file "$CGT_TMP/proxy.out" || fail "proxy did not start: $(head -c 300 "$CGT_TMP/proxy.err")"
}

test_names_cli_escapes_hostile_daemon() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	local px=$CGT_RUN/hostile.sock i
	# "evilmark" in the state dir's path puts it in the status's ledger path too.
	cgt_daemon_start "" --state-dir "$CGT_STATES/evilmark" || return 1
	c create evilmark --label evilmark=evilmark && c create evilmark/kid && expect_rc 0 || return 1
	nm_proxy_start "$px" || return 1
	cgctl_u --socket "$px" list && expect_rc 0 && nm_expect_escaped list "$OUT" || return 1
	cgctl_u --socket "$px" status && expect_rc 0 && nm_expect_escaped status "$OUT" || return 1
	cgctl_u --socket "$px" top -b -n 1 -d 0.2 -s name && expect_rc 0 && nm_expect_escaped top "$OUT" || return 1
	# The daemon's error messages quote names.
	cgctl_u --socket "$px" freeze evilmark/nosuch && expect_rc 1 && nm_expect_escaped "freeze's error" "$ERR" ||
		return 1
	# --json stays exact: the name as the daemon sent it.
	cgctl_u --socket "$px" --json list && expect_rc 0 || return 1
	expect_jq '.[0].name == "'"$NM_HOSTILE_JSON"'" and .[0].labels["'"$NM_HOSTILE_JSON"'"] == "'"$NM_HOSTILE_JSON"'"' ||
		return 1
	# Events: one line each, escaped.
	cgt_user_bg_split "$CGT_WORK" "$CGT_TMP/w.out" "$CGT_TMP/w.err" "$CGCTL" --socket "$px" watch
	for ((i = 0; i < 50; i++)); do
		c create "evilmark/w$i" && expect_rc 0 || return 1
		grep -q "/w$i" "$CGT_TMP/w.out" 2>/dev/null && break
		cgt_nap 0.1
	done
	kill "$BGPID" 2>/dev/null
	nm_expect_escaped watch "$(<"$CGT_TMP/w.out")" || return 1
	kill "$PXPID" 2>/dev/null
	return 0
}

# JSON text $2 (what the CLI printed for $1) holds no byte a terminal would act on.
nm_expect_json_safe() {
	case $2 in *$'\x1b'* | *$'\xc2\x9b'* | *$'\x07'* | *$'\xe2\x80\xae'*)
		fail "$1 printed raw control or bidi bytes: $(printf '%q' "${2:0:300}")"
		return 1
		;;
	esac
	[ -n "$2" ] || fail "$1 printed nothing"
}

# Every JSON the CLI prints (--json, call, call --more, watch --json, top
# --json) writes what would act on a terminal as its JSON escape: the same
# strings to a parser, nothing raw on root's screen. A tenant's label is
# the everyday way in (no rule limits labels); a hostile daemon's names too.
test_names_json_output_escaped() {
	[ -x /usr/bin/python3 ] || { skip "/usr/bin/python3 not installed"; return; }
	local px=$CGT_RUN/hostile-json.sock i out wpid
	cgt_daemon_start "" || return 1
	c call Create '{"name":"lab","labels":{"k":"v\u009b2J\u202eZ"}}' && expect_rc 0 || return 1
	c --json list && expect_rc 0 && nm_expect_json_safe "--json list" "$OUT" || return 1
	expect_jq '.[0].labels.k == "v\u009b2J\u202eZ"' || return 1
	c call List && expect_rc 0 && nm_expect_json_safe "call List" "$OUT" || return 1
	expect_jq '.entries[0].labels.k == "v\u009b2J\u202eZ"' || return 1
	c create evilmark && expect_rc 0 || return 1
	nm_proxy_start "$px" || return 1
	cgctl_u --socket "$px" --json list && expect_rc 0 && nm_expect_json_safe "--json list (names)" "$OUT" || return 1
	expect_jq 'map(.name) | index("'"$NM_HOSTILE_JSON"'") != null' || return 1
	cgctl_u --socket "$px" --json top -n 1 -d 0.2 && expect_rc 0 && nm_expect_json_safe "top --json" "$OUT" || return 1
	expect_jq '.cgroups | map(.name) | index("'"$NM_HOSTILE_JSON"'") != null' || return 1
	cgt_user_bg_split "$CGT_WORK" "$CGT_TMP/w.out" "$CGT_TMP/w.err" "$CGCTL" --socket "$px" --json watch
	wpid=$BGPID
	cgt_user_bg_split "$CGT_WORK" "$CGT_TMP/m.out" "$CGT_TMP/m.err" "$CGCTL" --socket "$px" call --more \
		io.cgctl.Manager.Watch '{}'
	for ((i = 0; i < 50; i++)); do
		c create "evilmark/w$i" && expect_rc 0 || return 1
		grep -q "/w$i" "$CGT_TMP/w.out" 2>/dev/null && grep -q "/w$i" "$CGT_TMP/m.out" 2>/dev/null && break
		cgt_nap 0.1
	done
	kill "$wpid" "$BGPID" 2>/dev/null
	for out in w m; do
		nm_expect_json_safe "$out: watch --json / call --more" "$(<"$CGT_TMP/$out.out")" || return 1
		grep -qF "$NM_HOSTILE_JSON" "$CGT_TMP/$out.out" || fail "$out: no escaped name: $(head -c 300 "$CGT_TMP/$out.out")" ||
			return 1
	done
	kill "$PXPID" 2>/dev/null
	return 0
}

test_names_hook_log_escaped() {
	local st=$CGT_TMP/hookstate
	mkdir -p "$st/cgctl" && chmod -R 0755 "$st" || return 1
	printf '2026-12-05 hook: container %s: created\n' $'X\xc2\x9b2J\x1b]0;pwn\x07\xe2\x80\xaeZ' >"$st/cgctl/oci-hook.log"
	chmod 0644 "$st/cgctl/oci-hook.log"
	cgt_as_user_in "$CGT_WORK" env XDG_STATE_HOME="$st" "$CGCTL" hook-log >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl hook-log"
	expect_rc 0 && nm_expect_escaped hook-log "$OUT" || return 1
	# --json keeps the line as logged (to a parser; nothing raw on the terminal).
	cgt_as_user_in "$CGT_WORK" env XDG_STATE_HOME="$st" "$CGCTL" hook-log --json >"$CGT_TMP/out" 2>"$CGT_TMP/err" </dev/null
	cgt_collect "cgctl hook-log --json"
	expect_rc 0 && expect_jq '.[0] | contains("X\u009b2J\u001b]0;pwn\u0007\u202eZ")' &&
		nm_expect_json_safe "hook-log --json" "$OUT"
}
