#!/bin/sh
# SPDX-License-Identifier: MIT
# From a fresh clone: install what is missing, build, start ipcd in the
# background where a client with no environment set finds it, and show a
# queue working. A second run finds that daemon and leaves it alone.
#
# The socket: $IPCD_SOCKET when set; else $XDG_RUNTIME_DIR/ipcd.sock (the
# user's own daemon, which clients try first); else, for root, the system
# path /run/ipcd/ipcd.sock (clients try it next). Anyone else without
# XDG_RUNTIME_DIR gets /tmp/ipcd-UID.sock and is told to export
# IPCD_SOCKET. The log is ipcd.log, the pid in ipcd.pid, beside the build.
#
# QUICKSTART_BUILT=DIR skips installing and building and uses DIR/ipcd and
# DIR/ipcctl (the test suite does; IPCD_TEST_SYSTEM_SOCKET is its
# stand-in for the system path, as in the client library).
set -eu
if [ -n "${QUICKSTART_BUILT:-}" ]; then
	cd "$QUICKSTART_BUILT"
else
	cd "$(dirname "$0")/.."
	sh scripts/install-deps.sh
	[ -x configure ] || autoreconf -fi
	[ -f Makefile ] || ./configure -q
	make -j"$(nproc)" >/dev/null
fi
SYSTEM_SOCK="${IPCD_TEST_SYSTEM_SOCKET:-/run/ipcd/ipcd.sock}"
EXPORT=""
if [ -n "${IPCD_SOCKET:-}" ]; then
	SOCK="$IPCD_SOCKET"
elif [ -n "${XDG_RUNTIME_DIR:-}" ] && [ -d "$XDG_RUNTIME_DIR" ]; then
	SOCK="$XDG_RUNTIME_DIR/ipcd.sock"
elif [ "$(id -u)" -eq 0 ] && mkdir -p "$(dirname "$SYSTEM_SOCK")"; then
	SOCK="$SYSTEM_SOCK"
else
	SOCK="/tmp/ipcd-$(id -u).sock"
	EXPORT="export IPCD_SOCKET=$SOCK"
fi

# Already running there: say so, keep its log, start nothing.
if ./ipcctl -s "$SOCK" ls >/dev/null 2>&1; then
	pid=$(cat ipcd.pid 2>/dev/null || true)
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		echo "ipcd already running (pid $pid) on $SOCK, log in ipcd.log"
	else
		echo "ipcd already running on $SOCK (not started by this script)"
		pid=""
	fi
else
	./ipcd -s "$SOCK" >>ipcd.log 2>&1 </dev/null &
	pid=$!
	echo "$pid" >ipcd.pid
	echo "ipcd started (pid $pid) on $SOCK, log in ipcd.log"
	i=0
	until ./ipcctl -s "$SOCK" ls >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 100 ] || { tail -n 20 ipcd.log; exit 1; }
		sleep 0.05
	done
fi
./ipcctl -s "$SOCK" create demo --maxsize 2 2>/dev/null || true
./ipcctl -s "$SOCK" put demo "hello from ipcd"
echo "got: $(./ipcctl -s "$SOCK" get demo --timeout 1)"
./ipcctl -s "$SOCK" ls
if [ -n "$EXPORT" ]; then
	echo "clients find it after: $EXPORT"
fi
if [ -n "$pid" ]; then
	echo "stop it with: kill $pid"
fi
