#!/bin/sh
# SPDX-License-Identifier: MIT
# check-install.sh: check a staged "make install PREFIX=/usr": what README.md lists is
# there, libcgctl.pc names the (multiarch) libdir, examples/runtime.c builds warning-free
# with the documented command under GCC 14's default errors.
# Usage: sh tests/check-install.sh STAGE MULTIARCH CC
set -u
stage=$1 multiarch=$2 cc=${3:-cc}
libdir=/usr/lib${multiarch:+/$multiarch}
fails=0

bad() { echo "FAIL check-install: $*"; fails=$((fails + 1)); }

for f in /usr/bin/cgctld /usr/bin/cgctl /usr/bin/cgctl-oci-hook /usr/include/cgctl.h \
	"$libdir/libcgctl.so.1" "$libdir/libcgctl.so" "$libdir/libcgctl.a" "$libdir/pkgconfig/libcgctl.pc" \
	/usr/share/man/man1/cgctl.1 /usr/share/man/man1/cgctl-oci-hook.1 /usr/share/man/man3/libcgctl.3 \
	/usr/share/man/man8/cgctld.8 /usr/share/containers/oci/hooks.d/cgctl.json; do
	[ -e "$stage$f" ] || bad "$f not installed"
done
# README's install paragraph names every program and man page.
para=$(awk -v RS= '/^`make install` puts/ { print; exit }' README.md | tr '\n' ' ')
for w in '`cgctld`' '`cgctl`' '`cgctl-oci-hook`' '`cgctl-oci-hook(1)`' '`libcgctl(3)`' '`cgctld(8)`' '`cgctl(1)`' \
	'`cgctl.json`' '`libcgctl.pc`'; do
	case $para in *"$w"*) ;; *) bad "README.md's install paragraph lacks $w" ;; esac
done
pc=$stage$libdir/pkgconfig/libcgctl.pc
[ "$(sed -n 's/^libdir=//p' "$pc" 2>/dev/null)" = "$libdir" ] || bad "libcgctl.pc: libdir is not $libdir"
grep -q '"path": "/usr/bin/cgctl-oci-hook"' "$stage/usr/share/containers/oci/hooks.d/cgctl.json" 2>/dev/null ||
	bad "hooks.d/cgctl.json does not name /usr/bin/cgctl-oci-hook"

# The documented command (examples/README.md), against the staged files.
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_PATH=$stage$libdir/pkgconfig pkg-config --cflags --libs libcgctl) ||
	bad "pkg-config cannot find the staged libcgctl"
# shellcheck disable=SC2086 # word splitting of pkg-config's output is meant
if ! $cc -Wall -Werror -Werror=implicit-function-declaration -Werror=implicit-int -Werror=int-conversion \
	-Werror=incompatible-pointer-types -o "$tmp/runtime" examples/runtime.c $flags >"$tmp/log" 2>&1; then
	bad "examples/runtime.c does not build warning-free: $(head -n 5 "$tmp/log")"
fi
[ "$fails" = 0 ] && echo "check-install: passed"
[ "$fails" = 0 ]
