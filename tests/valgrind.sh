#!/bin/sh
# SPDX-License-Identifier: MIT
# valgrind.sh NAME.vg: run the suite tests/NAME with ipcd under valgrind
# memcheck (make check-valgrind runs it once per tests/valgrind/*.vg, in
# parallel).
# Every daemon a test starts must then exit 0 after SIGTERM/SIGINT, which
# valgrind turns into 99 on any memory error or definite/indirect/possible
# leak. check_fuzz_replay runs the daemon in-process, so that whole program
# goes under memcheck (CK_FORK=no). Skipped (77) when configure found no
# valgrind, and in a --enable-sanitizers build.

if [ "${IPCD_SANITIZED:-no}" = yes ]; then
	echo "valgrind.sh: sanitizer build (ASan cannot run under valgrind), skipping"
	exit 77
fi
if [ -z "${VALGRIND:-}" ] || ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "valgrind.sh: valgrind not found, skipping"
	exit 77
fi
: "${1:?usage: valgrind.sh tests/valgrind/NAME.vg}"
: "${IPCD_BUILDDIR:?IPCD_BUILDDIR is not set (run through make check)}"
: "${VALGRIND_SUPP:=$(dirname "$0")/valgrind.supp}"
name=$(basename "$1" .vg)
bin="$IPCD_BUILDDIR/tests/$name"

# --read-inline-info=no: reading inlined-call info from ipcd's and libc's
# debug info was about 15% of the CPU of each daemon start (a suite starts
# one per test); reports then show the function a fault is inlined into.
# --vgdb=no: each valgrind makes three vgdb FIFOs in /tmp, and one that a
# test SIGKILLs (a crash test) leaves them behind.
IPCD_WRAPPER="$VALGRIND --tool=memcheck --vgdb=no --read-inline-info=no --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible --error-exitcode=99 --suppressions=$VALGRIND_SUPP"
# The 100,000-message stress test moves 1/4 of that under valgrind.
IPCD_TEST_SCALE=${IPCD_TEST_SCALE:-4}
export IPCD_WRAPPER IPCD_TEST_SCALE

echo "valgrind.sh: $name with ipcd under valgrind memcheck (exit 99 = memory error or leak), stress scale 1/$IPCD_TEST_SCALE"
start=$(date +%s)
if [ "$name" = check_fuzz_replay ]; then
	CK_FORK=no $IPCD_WRAPPER "$bin"
else
	"$bin"
fi
rc=$?
end=$(date +%s)
if [ $rc -eq 0 ]; then
	echo "valgrind.sh: PASS: $name, no memory errors or leaks in ipcd ($((end - start)) s)"
else
	echo "valgrind.sh: FAIL: $name, status $rc; see the ipcd logs above ($((end - start)) s)"
fi
exit $rc
