#!/bin/sh
# SPDX-License-Identifier: MIT
# debian/libipcclient0.symbols lists exactly the functions the built
# libipcclient.so exports, so the packages' dependencies follow the ABI.
# After adding a public function: `make symbols` (new ones get the
# package version); a removed or renamed one is an ABI break. Skipped (77)
# without nm or the built library.
src="${IPCD_SRCDIR:-$(dirname "$0")/..}"
lib="${IPCD_BUILDDIR:-.}/client/.libs/libipcclient.so"
command -v nm >/dev/null 2>&1 && [ -f "$lib" ] || { echo "no nm or $lib: skipped"; exit 77; }
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$tmp/built"
sed -n 's/^ \([^@]*\)@Base .*/\1/p' "$src/debian/libipcclient0.symbols" | sort >"$tmp/listed"
if ! cmp -s "$tmp/built" "$tmp/listed"; then
	echo "exported (+) and listed in debian/libipcclient0.symbols (-) differ:"
	diff "$tmp/listed" "$tmp/built" | sed -n 's/^> /+ /p; s/^< /- /p'
	echo "run 'make symbols' after adding a function"
	exit 1
fi
echo "$(wc -l <"$tmp/built") exported functions, all in the symbols file"
