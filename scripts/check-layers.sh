#!/bin/sh
# SPDX-License-Identifier: MIT
# check-layers.sh [DIR]: the daemon's layers point one way (README.md, Architecture):
#   socket -> transport -> glue -> domain -> ledger/cgroupfs -> commit -> reply.
# Fails when a transport file includes a header of another layer, when commit.c
# (durability) includes the transport or the glue, when a domain file includes
# the transport or the glue, or when daemon/'s includes form a cycle.
set -u
dir=${1:-daemon}
fail=0

say() { echo "check-layers: $*" >&2; fail=1; }

# The transport: framing, replies, fds, accept, limits. It may include only these of daemon/.
transport="conn.c conn.h server.c server.h"
transport_may="conn.h server.h log.h replylog.h"
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
