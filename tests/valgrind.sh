#!/bin/sh
# valgrind.sh: run the integration suites (queues, pipes, acks, batches,
# service) with ipcd under valgrind memcheck.
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

echo "valgrind.sh: checking every ipcd run for memory errors and leaks (exit 99 = found), stress scale 1/$IPCD_TEST_SCALE"
start=$(date +%s)
rc=0
# Each suite starts its own daemons through the harness, which runs them
# under $IPCD_WRAPPER. Suites whose variable is unset are left out.
for bin in "$CHECK_INTEGRATION_BIN" "${CHECK_PIPES_BIN:-}" "${CHECK_ACK_BIN:-}" \
	   "${CHECK_BATCH_BIN:-}" "${CHECK_SERVICE_BIN:-}"; do
	[ -n "$bin" ] || continue
	echo "valgrind.sh: $(basename "$bin") with ipcd under valgrind memcheck"
	"$bin" || { rc=$?; break; }
done
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
