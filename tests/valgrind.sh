#!/bin/sh
# valgrind.sh: run the integration suite (and the pipes suite, when
# CHECK_PIPES_BIN is set) with ipcd under valgrind memcheck.
# Every daemon a test starts must then exit 0 after SIGTERM/SIGINT, which
# valgrind turns into 99 on any memory error or definite/indirect/possible
# leak. Skipped (77) when configure found no valgrind, and in a
# --enable-sanitizers build.

if [ "${IPCD_SANITIZED:-no}" = yes ]; then
	echo "valgrind.sh: sanitizer build (ASan cannot run under valgrind), skipping"
	exit 77
fi
if [ -z "${VALGRIND:-}" ] || ! command -v "$VALGRIND" >/dev/null 2>&1; then
	echo "valgrind.sh: valgrind not found, skipping"
	exit 77
fi
: "${CHECK_INTEGRATION_BIN:?CHECK_INTEGRATION_BIN is not set (run through make check)}"
: "${VALGRIND_SUPP:=$(dirname "$0")/valgrind.supp}"

IPCD_WRAPPER="$VALGRIND --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite,indirect,possible --show-leak-kinds=definite,indirect,possible --error-exitcode=99 --suppressions=$VALGRIND_SUPP"
# The 100,000-message stress test moves 1/4 of that under valgrind.
IPCD_TEST_SCALE=${IPCD_TEST_SCALE:-4}
export IPCD_WRAPPER IPCD_TEST_SCALE

echo "valgrind.sh: integration suite with ipcd under valgrind memcheck"
echo "valgrind.sh: checking every ipcd run for memory errors and leaks (exit 99 = found), stress scale 1/$IPCD_TEST_SCALE"
start=$(date +%s)
"$CHECK_INTEGRATION_BIN"
rc=$?
if [ $rc -eq 0 ] && [ -n "${CHECK_PIPES_BIN:-}" ]; then
	"$CHECK_PIPES_BIN"
	rc=$?
fi
if [ $rc -eq 0 ] && [ -n "${CHECK_ACK_BIN:-}" ]; then
	echo "valgrind.sh: at-least-once suite with ipcd under valgrind memcheck"
	"$CHECK_ACK_BIN"
	rc=$?
fi
if [ $rc -eq 0 ] && [ -n "${CHECK_BATCH_BIN:-}" ]; then
	echo "valgrind.sh: batch and pipelining suite with ipcd under valgrind memcheck"
	"$CHECK_BATCH_BIN"
	rc=$?
fi
# The fuzz corpus replay runs the daemon in-process: the whole program goes
# under memcheck, as one process (CK_FORK=no).
if [ $rc -eq 0 ] && [ -n "${CHECK_FUZZ_REPLAY_BIN:-}" ]; then
	echo "valgrind.sh: fuzz corpus replay (in-process daemon) under valgrind memcheck"
	CK_FORK=no $IPCD_WRAPPER "$CHECK_FUZZ_REPLAY_BIN"
	rc=$?
fi
end=$(date +%s)
if [ $rc -eq 0 ]; then
	echo "valgrind.sh: PASS: no memory errors or leaks in ipcd ($((end - start)) s)"
else
	echo "valgrind.sh: FAIL: status $rc; see the ipcd logs above ($((end - start)) s)"
fi
exit $rc
