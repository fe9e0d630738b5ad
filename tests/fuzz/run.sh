#!/bin/sh
# SPDX-License-Identifier: MIT
# run.sh: build ipcd's libFuzzer targets with clang (ASan + UBSan) and run
# each for a while, the two in parallel.
#
#   tests/fuzz/run.sh [SECONDS]        (default 30 each; $FUZZ_SECONDS too)
#
# Run it from a configured build directory (it needs that config.h), or
# set BUILDDIR. The targets are built in $BUILDDIR/fuzz/, the seeds
# (tests/fuzz/corpus/) are copied to a scratch corpus there, so the
# repository is never written. The named seeds (all but cov-* and
# regress-*) are written by tests/fuzz/gen_corpus (built by make check;
# tests/fuzz/seeds.sh fails when they are out of date). A crash, leak or
# sanitizer report fails the run and leaves the input as
# $BUILDDIR/fuzz/crash-*: copy it into tests/fuzz/corpus/proto/ or
# tests/fuzz/corpus/daemon/ as regress-WHAT with the fix, and make check
# replays it (tests/check_fuzz_replay) from then on. To keep what a long
# run found: fuzz/fuzz_daemon -merge=1 NEWDIR tests/fuzz/corpus/daemon
# fuzz/corpus-daemon, then add NEWDIR's files as cov-*.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${BUILDDIR:-.}" && pwd)
secs=${1:-${FUZZ_SECONDS:-30}}
out="$build/fuzz"
CC=${FUZZ_CC:-clang}

if [ ! -f "$build/config.h" ]; then
	echo "run.sh: no config.h in $build: run from a configured build dir or set BUILDDIR" >&2
	exit 2
fi
if ! command -v "$CC" >/dev/null 2>&1; then
	echo "run.sh: $CC not found" >&2
	exit 2
fi
mkdir -p "$out"
deps_cflags=$(pkg-config --cflags msgpack libevent_core)
deps_libs="$(pkg-config --libs msgpack libevent_core) -lpthread"
cflags="-std=gnu11 -g -O1 -fno-omit-frame-pointer -include $build/config.h \
	-I$src/proto -I$src/common -I$src/client -I$src/daemon -I$src/daemon/core -I$src/daemon/store -I$here $deps_cflags"
san="-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
proto_src=$(ls "$src"/proto/*.c)
daemon_src=$(ls "$src"/common/*.c "$src"/daemon/*.c "$src"/daemon/core/*.c "$src"/daemon/store/*.c | grep -v '/main\.c$')

echo "run.sh: building with $($CC --version | head -n 1)"
# shellcheck disable=SC2086
$CC $cflags $san -DFUZZ_MAIN -o "$out/fuzz_proto" "$here/fuzz_proto.c" $proto_src $deps_libs
# shellcheck disable=SC2086
$CC $cflags $san -DFUZZ_MAIN -o "$out/fuzz_daemon" "$here/fuzz_daemon.c" \
	$daemon_src $proto_src $deps_libs

# Scratch corpora seeded from the committed ones.
for t in proto daemon; do
	mkdir -p "$out/corpus-$t"
	cp "$src/tests/fuzz/corpus/$t"/* "$out/corpus-$t/" 2>/dev/null || true
done

# Run both; libFuzzer's last line says "Done N runs in S second(s)".
run_one() {
	t=$1
	# Whole client sessions need room: inputs up to 4 KiB from the start.
	"$out/fuzz_$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
		-max_len=4096 -len_control=0 \
		-print_final_stats=1 -artifact_prefix="$out/crash-$t-" \
		"$out/corpus-$t" >"$out/fuzz_$t.log" 2>&1
}
status=0
run_one proto & p1=$!
run_one daemon & p2=$!
wait $p1 || status=1
wait $p2 || status=1
for t in proto daemon; do
	runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$out/fuzz_$t.log" | tail -n 1)
	corp=$(ls "$out/corpus-$t" | wc -l)
	echo "run.sh: fuzz_$t: ${runs:-no summary} (corpus $corp inputs)"
done
if [ $status -ne 0 ]; then
	for t in proto daemon; do
		if grep -qE 'ERROR|SUMMARY|deadly signal|Test unit written' "$out/fuzz_$t.log"; then
			echo "=== fuzz_$t.log (tail)"
			tail -n 60 "$out/fuzz_$t.log"
		fi
	done
	ls "$out"/crash-* 2>/dev/null || true
	echo "run.sh: FAIL: see above; add the crash input to tests/fuzz/corpus/ with the fix"
	exit 1
fi
echo "run.sh: PASS: no crash in ${secs} s per target"
