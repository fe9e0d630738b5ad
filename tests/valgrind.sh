#!/bin/sh
# valgrind.sh: run the integration suite with ipcd under valgrind memcheck.
# Every daemon a test starts must then exit 0 after SIGTERM/SIGINT, which
# valgrind turns into 99 on any memory error or definite/indirect/possible
# leak. Skipped (77) when configure found no valgrind.

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
end=$(date +%s)
if [ $rc -eq 0 ]; then
	echo "valgrind.sh: PASS: no memory errors or leaks in ipcd ($((end - start)) s)"
else
	echo "valgrind.sh: FAIL: status $rc; see the ipcd logs above ($((end - start)) s)"
fi
exit $rc
