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

# The daemon/ headers file $1 includes, one a line.
includes() {
	sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$dir/$1" |
		while read -r h; do [ -f "$dir/$h" ] && echo "$h"; done
}

# Is word $1 in the list $2?
member() {
	case " $2 " in *" $1 "*) return 0 ;; esac
	return 1
}

for f in $transport; do
	[ -f "$dir/$f" ] || { say "$dir/$f: missing (the transport's files moved? update this script)"; continue; }
	for h in $(includes "$f"); do
		member "$h" "$transport_may" || say "$dir/$f (transport) includes $h: the transport knows no other layer"
	done
done

# struct conn and struct call are opaque outside the transport: defined in its
# private header only, which only the transport includes, and nobody else
# reaches into one (call->..., ...->conn->..., ...->vl.).
for path in "$dir"/*.c "$dir"/*.h; do
	f=${path##*/}
	if [ "$f" != "$private" ] && grep -n '^[[:space:]]*struct[[:space:]]\+\(conn\|call\)[[:space:]]*{' "$path" >/dev/null; then
		say "$dir/$f defines struct conn or struct call: their fields are the transport's ($private)"
	fi
	member "$f" "$transport" && continue
	for h in $(includes "$f"); do
		[ "$h" = "$private" ] && say "$dir/$f includes $h: only the transport sees inside a connection or a call"
	done
	grep -n '\bcall->\|->conn->\|->vl\.' "$path" | while IFS= read -r line; do
		echo "check-layers: $dir/$f:${line%%:*}: reaches into a call or a connection (use conn.h's accessors)"
	done | grep . >&2 && fail=1
done

# struct server is server.c's alone, like struct manager is the manager's:
# defined in server.c and in no header, so no other file can compile a use of
# its members (server.h's functions are the way in).
grep -q '^struct server {' "$dir/server.c" 2>/dev/null || say "$dir/server.c: struct server is not defined there (update this script)"
for path in "$dir"/*.c "$dir"/*.h; do
	f=${path##*/}
	[ "$f" = server.c ] && continue
	grep -n '^[[:space:]]*struct[[:space:]]\+server[[:space:]]*{' "$path" >/dev/null &&
		say "$dir/$f defines struct server: its members are server.c's (server.h's accessors)"
done

for f in commit.c commit.h; do
	[ -f "$dir/$f" ] || continue
	for h in $(includes "$f"); do
		member "$h" "$upper" && say "$dir/$f (durability) includes $h: it calls back, it does not answer calls"
	done
done

for path in "$dir"/*.c "$dir"/*.h; do
	f=${path##*/}
	member "$f" "$transport" && continue
	member "$f" "$glue" && continue
	for h in $(includes "$f"); do
		member "$h" "$upper" && say "$dir/$f (domain) includes $h: the domain does not know the transport or the glue"
	done
done

# The daemon reads its clocks in now.c only (now.h): no second copy of "microseconds now".
grep -n '\bclock_gettime\|\bgettimeofday\|\btime(NULL)' "$dir"/*.c | grep -v "^$dir/now.c:" | while IFS= read -r line; do
	echo "check-layers: ${line%%:*}: reads a clock itself (now.h's now_usec()/now_mono_usec() are the daemon's clocks)"
done | grep . >&2 && fail=1

# A function's contract is said once, in its header: a .c definition under the
# very one-line comment its declaration has in a header repeats it (STYLE.md).
awk 'FNR == 1 { prev = "" }
{
	if (prev ~ /^\/\*.*\*\/$/ && $0 !~ /^static/ && match($0, /[A-Za-z_][A-Za-z_0-9]*\(/)) {
		key = substr($0, RSTART, RLENGTH - 1) SUBSEP prev
		if (FILENAME ~ /\.h$/)
			said[key] = 1
		else if (key in said)
			print "check-layers: " FILENAME ":" FNR - 1 ": the comment above " substr($0, RSTART, RLENGTH - 1) "() copies its header'"'"'s (say what in the .h, how in the .c)"
	}
	prev = $0
}' "$dir"/*.h "$dir"/*.c | grep . >&2 && fail=1

# README's architecture diagram names every daemon/*.c, and nothing that is not one
# (manager_{a,b}.c spelled as the shell would expand it).
readme="$dir/../README.md"
if [ -f "$readme" ]; then
	named=$(awk '/^## Architecture/ { sec = 1 } sec && /^```/ { if (++fence == 2) exit; next } fence == 1' "$readme" |
		grep -o '[a-z_]*\({[a-z_,]*}\)\{0,1\}[a-z_]*\.c\b' | grep -v '^\.c$' |
		while read -r w; do
			case "$w" in
			*"{"*) pre=${w%%\{*}; rest=${w#*\{}; list=${rest%%\}*}; post=${rest#*\}}
				echo "$list" | tr ',' '\n' | sed "s/^/$pre/; s/\$/$post/" ;;
			*) echo "$w" ;;
			esac
		done | sort -u)
	for path in "$dir"/*.c; do
		f=${path##*/}
		echo "$named" | grep -qx "$f" || say "$dir/$f is not in README.md's architecture"
	done
	for f in $named; do
		[ -f "$dir/$f" ] || say "README.md's architecture names $f, which daemon/ does not have"
	done
fi

# Include cycles: tsort reports a loop in the "file includes header" graph.
edges=$(for path in "$dir"/*.c "$dir"/*.h; do
	f=${path##*/}
	for h in $(includes "$f"); do [ "$h" != "$f" ] && echo "$f $h"; done
done)
if ! echo "$edges" | tsort >/dev/null 2>"${TMPDIR:-/tmp}/check-layers.$$"; then
	say "include cycle in $dir: $(tr '\n' ' ' <"${TMPDIR:-/tmp}/check-layers.$$")"
fi
rm -f "${TMPDIR:-/tmp}/check-layers.$$"

[ "$fail" = 0 ] && echo "  LAYERS  $dir: transport, glue and domain include one way, no include cycle"
exit "$fail"
