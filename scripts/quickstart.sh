#!/bin/sh
# From a fresh clone: install what is missing, build, start ipcd in the
# background on a private socket and show a queue working.
set -eu
cd "$(dirname "$0")/.."
sh scripts/install-deps.sh
[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure -q
make -j"$(nproc)" >/dev/null
SOCK="${IPCD_SOCKET:-${XDG_RUNTIME_DIR:-/tmp}/ipcd.sock}"
./ipcd -s "$SOCK" >ipcd.log 2>&1 </dev/null &
echo "ipcd started (pid $!) on $SOCK, log in ipcd.log"
i=0
until ./ipcctl -s "$SOCK" ls >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 100 ] || { cat ipcd.log; exit 1; }; sleep 0.05
done
./ipcctl -s "$SOCK" create demo --maxsize 2 2>/dev/null || true
./ipcctl -s "$SOCK" put demo "hello from ipcd"
echo "got: $(./ipcctl -s "$SOCK" get demo --timeout 1)"
./ipcctl -s "$SOCK" ls
echo "stop it with: kill $!   (or: export IPCD_SOCKET=$SOCK and use ./ipcctl)"
