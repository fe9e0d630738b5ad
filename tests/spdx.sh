#!/bin/sh
# SPDX-License-Identifier: MIT
# Every tracked file carries "SPDX-License-Identifier: MIT" in its first
# three lines, as a comment of its format (after a #! line). Exempt: the
# files below, which are data, the licence itself, or formats without
# comments. Needs the git checkout (a dist tarball mixes in generated
# files): skipped (77) without it.
cd "${IPCD_SRCDIR:-$(dirname "$0")/..}" || exit 99
git rev-parse --is-inside-work-tree >/dev/null 2>&1 || {
	echo "not a git checkout: skipped"
	exit 77
}

# 0 when $1 needs no SPDX line.
exempt() {
	case "$1" in
	tests/fuzz/corpus/*) return 0 ;;                # fuzz inputs: raw bytes
	bench/results/*.txt) return 0 ;;                # measured tables: output
	LICENSE | debian/copyright) return 0 ;;         # the licence itself
	debian/changelog | debian/source/format) return 0 ;; # no comments
	python/ipcd/py.typed) return 0 ;;               # an empty marker (PEP 561)
	esac
	return 1
}

n=0 bad=0
for f in $(git ls-files); do
	exempt "$f" && continue
	[ -f "$f" ] || continue     # deleted in the work tree, not yet committed
	n=$((n + 1))
	if ! head -n 3 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
		echo "no SPDX-License-Identifier: MIT line at the top of $f"
		bad=$((bad + 1))
	fi
done
echo "$n files checked, $bad without the SPDX line"
[ "$bad" -eq 0 ]
