#!/bin/sh
# SPDX-License-Identifier: MIT
# Run one Python test module (unittest) against the in-tree build: the
# package from python/inplace, libipcclient from client/.libs, and the
# daemon named by IPCD_BIN (each module starts its own on a temp socket).
# make check runs it as PY_LOG_COMPILER with the module's path.
set -eu
: "${IPCD_BUILDDIR:?run through make check}"
if [ "${IPCD_SANITIZED:-no}" = yes ]; then
	# The sanitized libipcclient cannot be loaded into an uninstrumented
	# python (ASan must come first); the C suites cover it there.
	echo "skipped: sanitizer build"
	exit 77
fi
PYTHONPATH="$IPCD_BUILDDIR/python/inplace${PYTHONPATH:+:$PYTHONPATH}"
LD_LIBRARY_PATH="$IPCD_BUILDDIR/client/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
IPCD_EXAMPLES="$IPCD_SRCDIR/examples/python"
export PYTHONPATH LD_LIBRARY_PATH IPCD_EXAMPLES
exec "${PYTHON:-python3}" "$1"
