#!/bin/sh
# SPDX-License-Identifier: MIT
# The committed seeds are what tests/fuzz/gen_corpus writes now: every
# generated seed is in tests/fuzz/corpus/ with the same bytes. A change
# of the encoder, of an op's row or of the generator that leaves old
# seeds behind fails here; refresh them with
#   tests/fuzz/gen_corpus tests/fuzz/corpus     (from a build dir: the
# generator is built by make check) and commit the result.
src=${IPCD_SRCDIR:-$(dirname "$0")/../..}
build=${IPCD_BUILDDIR:-.}
tmp=$(mktemp -d) || exit 99
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/proto" "$tmp/daemon" || exit 99
"$build/tests/fuzz/gen_corpus" "$tmp" || exit 99
n=0 bad=0
for f in "$tmp"/proto/* "$tmp"/daemon/*; do
	rel=${f#"$tmp"/}
	n=$((n + 1))
	if ! cmp -s "$f" "$src/tests/fuzz/corpus/$rel"; then
		echo "seeds.sh: tests/fuzz/corpus/$rel is missing or out of date"
		bad=$((bad + 1))
	fi
done
echo "seeds.sh: $n seeds generated, $bad missing or out of date"
if [ "$bad" -ne 0 ]; then
	echo "seeds.sh: run tests/fuzz/gen_corpus $src/tests/fuzz/corpus in the build dir and commit"
	exit 1
fi
