#!/bin/bash
# SPDX-License-Identifier: MIT
# phase.sh: run one phase of make check and print its wall time, its CPU time (user + system
# of everything it ran) and the load average, so that a loaded machine's figures can be read.
#
# Usage: bash scripts/phase.sh NAME COMMAND [ARG...]   (exit status: COMMAND's)
set -u
name=$1
shift
t0=$EPOCHREALTIME
"$@"
rc=$?
# Children's user and system time: "times" prints them on its second line as XmY.ZZZs
# (into a file: in a $(...) or a pipe it would be a subshell's, which has no children).
tf=$(mktemp) || exit 1
times >"$tf"
cpu=$(awk 'NR == 2 { n = 0; for (i = 1; i <= 2; i++) { split($i, a, "m"); n += a[1] * 60 + a[2] } printf "%.1f", n }' "$tf")
rm -f "$tf"
read -r l1 _ </proc/loadavg
printf '  PHASE   %s: %s s wall, %s s CPU (load %s)%s\n' "$name" \
	"$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')" "$cpu" "$l1" \
	"$([ "$rc" = 0 ] || printf ', exit %s' "$rc")"
exit "$rc"
