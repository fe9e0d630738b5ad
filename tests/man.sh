#!/bin/sh
# SPDX-License-Identifier: MIT
# The manual pages are mandoc -Tlint clean at level warning (a parseable
# .TH date among the rest). Skipped (77) without mandoc.
command -v mandoc >/dev/null 2>&1 || { echo "mandoc not found: skipped"; exit 77; }
cd "${IPCD_SRCDIR:-$(dirname "$0")/..}/man" || exit 99
mandoc -Tlint -Wwarning ipcd.8 ipcctl.1 ipcd.conf.5 libipcclient.3
