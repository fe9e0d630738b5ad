# SPDX-License-Identifier: MIT
# Runs the tests of the Python client written from proto/PROTOCOL.md alone
# against the freshly built $IPCD_BIN. Skipped (77) without python3.
command -v python3 >/dev/null 2>&1 || { echo "python3 not found: skipped"; exit 77; }
PYTHONDONTWRITEBYTECODE=1 exec python3 "$(dirname "$0")/test_foreign.py"
