#!/bin/sh
# SPDX-License-Identifier: MIT
# check-abi.sh SO BASELINE HEADER SYMFILE SUPPRESSIONS: libcgctl's exported ABI against the
# libabigail baseline in the tree, and its exports against cgctl.h and the
# version script. Fails on any difference until it is made on purpose.
set -u
so=$1 baseline=$2 header=$3 symfile=$4 suppr=$5
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

say() { echo "check-abi: $*" >&2; }

# 1. What leaves the library is exactly what the header declares and the script lists.
nm -D --defined-only "$so" | awk '$2 == "T" { print $3 }' | sed 's/@.*//' | sort -u > "$tmp/exported"
sed -n 's/^[[:space:]]*\(cgctl_[a-z0-9_]*\);$/\1/p' "$symfile" | sort > "$tmp/listed"
grep -o '\bcgctl_[a-z0-9_]*(' "$header" | tr -d '(' | sort -u > "$tmp/declared"
if ! cmp -s "$tmp/listed" "$tmp/declared"; then
	say "$symfile and $header disagree (< listed only, > declared only):"
	diff "$tmp/listed" "$tmp/declared" | grep '^[<>]' >&2
	fail=1
fi
if ! cmp -s "$tmp/exported" "$tmp/listed"; then
	say "$so exports other functions than $symfile lists (< exported, > listed):"
	diff "$tmp/exported" "$tmp/listed" | grep '^[<>]' >&2
	fail=1
fi
if sort "$tmp/listed" | uniq -d | grep -q .; then
	say "$symfile lists a symbol twice"
	fail=1
fi

# 2. The baseline belongs to this soname, and the script's first node to this soname's major.
soname=$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
base_soname=$(sed -n "s/.*<abi-corpus[^>]* soname='\([^']*\)'.*/\1/p" "$baseline" | head -n 1)
if [ "$soname" != "$base_soname" ]; then
	say "$so is $soname but $baseline was taken of ${base_soname:-nothing}: run make abi-baseline"
	fail=1
fi
major=${soname#libcgctl.so.}
if ! grep -q "^LIBCGCTL_$major {" "$symfile"; then
	say "$symfile has no node LIBCGCTL_$major for $soname"
	fail=1
fi

# True when abidiff found nothing but added functions and variables.
additions_only() {
	grep -q 'Functions changes summary: 0 Removed, 0 Changed' "$tmp/diff" &&
		grep -q 'Variables changes summary: 0 Removed, 0 Changed' "$tmp/diff"
}

# 3. libabigail: types and symbols against the baseline.
abidiff --headers-dir2 "$(dirname "$header")" --drop-private-types --suppressions "$suppr" \
	"$baseline" "$so" > "$tmp/diff" 2>&1
rc=$?
if [ $((rc & 3)) -ne 0 ]; then
	cat "$tmp/diff" >&2
	say "abidiff failed (exit $rc)"
	fail=1
elif [ $((rc & 8)) -ne 0 ] || { [ $((rc & 4)) -ne 0 ] && ! additions_only; }; then
	cat "$tmp/diff" >&2
	say "INCOMPATIBLE change to libcgctl's ABI. If it is meant: bump SOVERSION in the"
	say "Makefile, rename the node in $symfile, then make abi-baseline and commit both."
	fail=1
elif [ $((rc & 4)) -ne 0 ]; then
	cat "$tmp/diff" >&2
	say "libcgctl's ABI grew (only additions). Put new symbols in a new version node of"
	say "$symfile, then make abi-baseline and commit it, so the next change is checked against it."
	fail=1
fi
[ $fail -eq 0 ] && echo "check-abi: $soname matches $baseline ($(wc -l < "$tmp/listed") symbols)"
exit $fail
