#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layers.sh [DIR]: the daemon's layers point one way (README.md, Architecture):
#   socket -> transport -> glue -> domain -> ledger/cgroupfs -> commit -> reply.
# Fails when a transport file includes a header of another layer, when commit.c
# (durability) includes the transport or the glue, when a domain file includes
# the transport or the glue, when a file outside the transport sees inside a
# connection or a call (struct conn and struct call are the transport's:
# conn_internal.h; everyone else uses conn.h's accessors), when a file other
# than server.c defines struct server, when a file other than now.c reads a
# clock, when a function's comment in a .c copies its header's, when README's
# architecture and daemon/*.c name different files, or when daemon/'s includes
# form a cycle.
# One awk reads README.md and every file once and applies every rule (a sed or
# grep a file and a rule cost some thousand processes, about 5 ms each here);
# tsort finds the cycles.
set -u
dir=${1:-daemon}
fail=0

say() { echo "check-layers: $*" >&2; fail=1; }

# The transport: framing, replies, fds, accept, limits. It may include only these of daemon/.
transport="conn.c conn_reply.c conn.h conn_internal.h server.c server.h"
transport_may="conn.h conn_internal.h server.h log.h nspid.h now.h replylog.h"
# The transport's private header: the only place struct conn and struct call are defined.
private="conn_internal.h"
# The glue: the only files that include both the transport and the domain (main.c wires all).
glue="app.c app.h dispatch.c dispatch.h methods.c methods_proc.c snapshot.c watch.c watch.h lease.c lease.h main.c"
# Headers of the transport and of the glue, which the domain must not include.
upper="conn.h server.h app.h dispatch.h watch.h lease.h"

for f in $transport; do
	[ -f "$dir/$f" ] || say "$dir/$f: missing (the transport's files moved? update this script)"
done

readme="$dir/../README.md"
[ -f "$readme" ] || readme=

# Prints the include graph ("file header", headers of DIR only) for tsort; says
# every broken rule on stderr and exits 1 after one. The headers come first, so
# that a .c's comment can be compared with its header's.
# shellcheck disable=SC2016 # awk's $0, not the shell's
edges=$(awk -v dir="$dir" -v readme="$readme" -v transport="$transport" -v may="$transport_may" \
	-v private="$private" -v glue="$glue" -v upper="$upper" '
function set(list, arr,   n, i, a) { n = split(list, a, " "); for (i = 1; i <= n; i++) arr[a[i]] = 1 }
function bad(msg) { print "check-layers: " msg > "/dev/stderr"; failed = 1 }
# Is $1 a file of DIR ([ -f ] in the shell)? Asked once a name.
function exists(h,   p, line, r) {
	if (!(h in known)) { p = dir "/" h; r = (getline line < p); close(p); known[h] = (r >= 0) }
	return known[h]
}
# README architecture: every NAME.c the fenced block after "## Architecture"
# names, manager_{a,b}.c spelled as the shell would expand it.
function readme_line(l,   w, pre, rest, list, post, n, i, a) {
	while (match(l, /[a-z_]*(\{[a-z_,]*\})?[a-z_]*\.c([^A-Za-z0-9_]|$)/)) {
		w = substr(l, RSTART, RLENGTH)
		l = substr(l, RSTART + RLENGTH)
		if (w !~ /\.c$/) w = substr(w, 1, length(w) - 1)
		if (w == ".c") continue
		if (w ~ /\{/) {
			pre = w; sub(/\{.*/, "", pre)
			rest = w; sub(/^[^{]*\{/, "", rest)
			list = rest; sub(/\}.*/, "", list)
			post = rest; sub(/^[^}]*\}/, "", post)
			n = split(list, a, ",")
			for (i = 1; i <= n; i++) named[pre a[i] post] = 1
		} else
			named[w] = 1
	}
}
# One include of file f: the layer rules.
function include(f, h) {
	if (f in tr) {
		if (!(h in mayinc)) bad(dir "/" f " (transport) includes " h ": the transport knows no other layer")
	} else if (h == private)
		bad(dir "/" f " includes " h ": only the transport sees inside a connection or a call")
	if ((f == "commit.c" || f == "commit.h") && (h in up))
		bad(dir "/" f " (durability) includes " h ": it calls back, it does not answer calls")
	if (!(f in tr) && !(f in gl) && (h in up))
		bad(dir "/" f " (domain) includes " h ": the domain does not know the transport or the glue")
	if (h != f) print f, h
}
BEGIN { set(transport, tr); set(may, mayinc); set(glue, gl); set(upper, up) }
FNR == 1 { path = FILENAME; f = path; sub(/.*\//, "", f); prev = ""; isreadme = (path == readme) }
isreadme {
	if (/^## Architecture/) sec = 1
	if (sec && /^```/) { if (++fence == 2) sec = 0; next }
	if (sec && fence == 1) readme_line($0)
	next
}
path ~ /\.c$/ { cfile[f] = 1 }
/^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*"/ {
	h = $0; sub(/^[^"]*"/, "", h); sub(/".*/, "", h)
	if (exists(h)) include(f, h)
}
/^[[:space:]]*struct[[:space:]]+(conn|call)[[:space:]]*\{/ && f != private && !((f, "cc") in once) {
	once[f, "cc"] = 1
	bad(dir "/" f " defines struct conn or struct call: their fields are the transport'"'"'s (" private ")")
}
# struct server is server.c'"'"'s alone, like struct manager is the manager'"'"'s:
# defined in server.c and in no header (server.h'"'"'s functions are the way in).
f == "server.c" && /^struct server \{/ { server_defined = 1 }
f != "server.c" && /^[[:space:]]*struct[[:space:]]+server[[:space:]]*\{/ && !((f, "sv") in once) {
	once[f, "sv"] = 1
	bad(dir "/" f " defines struct server: its members are server.c'"'"'s (server.h'"'"'s accessors)")
}
!(f in tr) && /(^|[^A-Za-z0-9_])call->|->conn->|->vl\./ {
	bad(dir "/" f ":" FNR ": reaches into a call or a connection (use conn.h'"'"'s accessors)")
}
# The daemon reads its clocks in now.c only (now.h): no second copy of "microseconds now".
path ~ /\.c$/ && f != "now.c" && /(^|[^A-Za-z0-9_])(clock_gettime|gettimeofday|time\(NULL\))/ {
	bad(path ": reads a clock itself (now.h'"'"'s now_usec()/now_mono_usec() are the daemon'"'"'s clocks)")
}
# A function'"'"'s contract is said once, in its header: a .c definition under the
# very one-line comment its declaration has in a header repeats it (STYLE.md).
{
	if (prev ~ /^\/\*.*\*\/$/ && $0 !~ /^static/ && match($0, /[A-Za-z_][A-Za-z_0-9]*\(/)) {
		key = substr($0, RSTART, RLENGTH - 1) SUBSEP prev
		if (path ~ /\.h$/)
			said[key] = 1
		else if (key in said)
			bad(path ":" FNR - 1 ": the comment above " substr($0, RSTART, RLENGTH - 1) "() copies its header'"'"'s (say what in the .h, how in the .c)")
	}
	prev = $0
}
END {
	if (!server_defined) bad(dir "/server.c: struct server is not defined there (update this script)")
	if (readme != "") {
		for (c in cfile) if (!(c in named)) bad(dir "/" c " is not in README.md'"'"'s architecture")
		for (c in named) if (!(c in cfile)) bad("README.md'"'"'s architecture names " c ", which daemon/ does not have")
	}
	exit failed
}' ${readme:+"$readme"} "$dir"/*.h "$dir"/*.c) || fail=1

# Include cycles: tsort reports a loop in the "file includes header" graph.
if ! cycle=$(printf '%s\n' "$edges" | tsort 2>&1 >/dev/null); then
	say "include cycle in $dir: $(echo $cycle)"
fi

[ "$fail" = 0 ] && echo "  LAYERS  $dir: transport, glue and domain include one way, no include cycle"
exit "$fail"
