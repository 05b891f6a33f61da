#!/bin/sh
# SPDX-License-Identifier: MIT
# embed.sh SYMBOL FILE: print a C file defining SYMBOL as FILE's text.
set -eu
sym=$1 file=$2
echo "/* Generated from $file by scripts/embed.sh; do not edit. */"
echo "extern const char $sym[];"
echo "const char $sym[] ="
sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$/\\n"/' "$file"
echo ";"
