#!/bin/sh
# SPDX-License-Identifier: MIT
# The benchmark builds and runs (make check builds bench/ipcbench, which
# make bench alone would not, so a change that breaks it is caught): a
# run with tiny counts prints ipcd and raw-socket rows with figures, the
# header with the commit and the load, other processes' and kernel
# threads' CPU per row (table and JSON), the idle section's ratios and
# the durable section's three ratio targets are medians of pairs,
# recovery prints its time, and --ab prints a ratio per workload (the
# idle and durable ones too). No figure is judged: speed is
# make bench's business, on a quiet machine.
b="${IPCD_BUILDDIR:-.}"
bench="$b/bench/ipcbench"
ipcd="${IPCD_BIN:-$b/ipcd}"
out=$(mktemp) || exit 99
trap 'rm -f "$out"' EXIT
fail() { echo "FAIL: $*"; cat "$out"; exit 1; }
small="--divide 400 --repeat 1 --redis '' --python '' --nats ''"

eval "\"$bench\" --ipcd \"$ipcd\" $small --commit smoke-test \
	--only tput,pipe,lat,small,ipcd,raw,1/1" > "$out" 2>/dev/null ||
	fail "ipcbench exited $?"
grep -q '^commit smoke-test, started 20' "$out" || fail "no commit/date header"
grep -q 'load average [0-9.]* at start, [0-9.]* at end' "$out" || fail "no load figures"
grep -Eq 'of a core over the run, kernel threads [0-9.]+%' "$out" || fail "no kernel-thread figure"
grep -Eq '^1/1 plain +64 B +ipcd +[0-9]+ .* [0-9.]+!? +[0-9.]+!? *$' "$out" ||
	fail "no other and kern columns"
grep -Eq '^1/1 plain +64 B +ipcd +[0-9]+ ' "$out" || fail "no 1/1 plain ipcd row"
grep -Eq '^1/1 batch64 +64 B +ipcd +[0-9]+ ' "$out" || fail "no 1/1 batch64 ipcd row"
grep -Eq '^pipe 1/1 pipelined +64 B +ipcd +[0-9]+ ' "$out" || fail "no pipe row"
grep -Eq '^latency +64 B +ipcd +- +- +[0-9.]+ ' "$out" || fail "no latency row"
grep -Eq '^1/1 +64 B +raw-socket +[0-9]+ .*plain [0-9.]+x' "$out" || fail "no raw-socket ratio"

eval "\"$bench\" --ipcd \"$ipcd\" $small --json --commit smoke-test \
	--only tput,small,ipcd,1/1" > "$out" 2>/dev/null || fail "ipcbench --json exited $?"
n=$(grep -c '"commit": "smoke-test".*"run_kern_pct": [0-9.]*.*"workload": "1/1 [a-z0-9]*".*"other_pct": [0-9.]*, "kern_pct": [0-9.]*, "noisy": \(true\|false\), "msgs_per_s": [0-9]' "$out")
[ "$n" -eq 3 ] || fail "expected 3 JSON rows with commit and noise fields, got $n"

"$bench" --ab "$ipcd" "$ipcd" --repeat 2 --divide 400 --only tput,small \
	> "$out" 2>/dev/null || fail "ipcbench --ab exited $?"
n=$(grep -Ec '^tput 1/1 [a-z0-9]+ +64 B +[0-9.]+ +[0-9.]+ +[0-9.]+x +[0-9.]+\.\.[0-9.]+' "$out")
[ "$n" -eq 3 ] || fail "expected 3 A/B rows with ratio and range, got $n"
eval "\"$bench\" --ipcd \"$ipcd\" $small --only idle" > "$out" 2>/dev/null ||
	fail "ipcbench --only idle exited $?"
n=$(grep -Ec '^1/1 [a-z0-9]+ \+idle +64 B +ipcd +[0-9]+ .* of a twin without them \(median of 3 pairs, [0-9.]+\.\.[0-9.]+\)' "$out")
[ "$n" -eq 3 ] || fail "expected 3 +idle rows with the median of 3 pairs, got $n"
grep -Eq '^1/1 batch64 -idle +64 B +ipcd +[0-9]+ ' "$out" || fail "no -idle row"
grep -Eq '10k queues \+ 1k idle clients vs without them +[0-9.]+x \(need' "$out" ||
	fail "no idle target"

"$bench" --ab "$ipcd" "$ipcd" --repeat 2 --divide 400 --only idle \
	> "$out" 2>/dev/null || fail "ipcbench --ab --only idle exited $?"
n=$(grep -Ec '^idle 1/1 [a-z0-9]+ +64 B +[0-9.]+ +[0-9.]+ +[0-9.]+x +[0-9.]+\.\.[0-9.]+' "$out")
[ "$n" -eq 3 ] || fail "expected 3 idle A/B rows, got $n"
eval "\"$bench\" --ipcd \"$ipcd\" $small --only dur" > "$out" 2>/dev/null ||
	fail "ipcbench --only dur exited $?"
grep -Eq '^1/1 plain non-durable +64 B +ipcd sync=always +[0-9]+ ' "$out" ||
	fail "no non-durable row on the journaling daemon"
grep -Eq '^1/1 plain +64 B +ipcd no journal +[0-9]+ ' "$out" || fail "no twin row"
grep -E -A1 'non-durable 1/1 plain, daemon with a journal vs without +[0-9.]+x \(need >= 0.95x\)' \
	"$out" | grep -Eq '\(median of 15 pairs, [0-9.]+\.\.[0-9.]+\)' ||
	fail "the non-durable target is not the median of 15 pairs"
grep -E -A1 "durable 1/1 plain, sync=always vs the disk's fdatasync rate +[0-9.]+x \(need >= 0.8x\)" \
	"$out" | grep -Eq '\(median of 5 pairs, [0-9.]+\.\.[0-9.]+\)' ||
	fail "the fdatasync target is not the median of 5 pairs"
grep -E -A1 'sync=interval vs a non-durable queue +[0-9.]+x \(need >= 0.7x\)' \
	"$out" | grep -Eq '\(median of 5 pairs, [0-9.]+\.\.[0-9.]+\)' ||
	fail "the interval target is not the median of 5 pairs"
grep -Eq '^fdatasync 64 B +64 B +disk +[0-9]+ ' "$out" || fail "no fdatasync row"
grep -Eq '^1/1 plain durable +64 B +ipcd sync=always +[0-9]+ ' "$out" ||
	fail "no durable 1/1 plain row"
"$bench" --ab "$ipcd" "$ipcd" --repeat 2 --divide 400 --only dur \
	> "$out" 2>/dev/null || fail "ipcbench --ab --only dur exited $?"
grep -Eq '^1/1 plain plain always +64 B +[0-9.]+ +[0-9.]+ +[0-9.]+x' "$out" ||
	fail "no A/B row of a plain queue on the journaling daemon"

# Recovery moves total / divide messages: 1,000,000 x 64 B and 1 GiB of
# 64 KiB messages without --divide and --quick.
eval "\"$bench\" --ipcd \"$ipcd\" $small --divide 1000 --only recover" > "$out" \
	2>/dev/null || fail "ipcbench --only recover exited $?"
grep -Eq 'recovery, 1000 of 64 B, warm: journal MB/s +[0-9]+ .*MB in [0-9.]+ s' "$out" ||
	fail "no 64 B recovery figure with its time"
grep -Eq 'recovery, 16 of 65536 B, warm: journal MB/s +[0-9]+ .*MB in [0-9.]+ s' "$out" ||
	fail "no 64 KiB recovery figure with its time"
echo "ok: table, JSON, idle and non-durable pairs, recovery and A/B"
