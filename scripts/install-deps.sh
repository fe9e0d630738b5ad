#!/bin/sh
# SPDX-License-Identifier: MIT
# Install the Debian 12 packages ipcd needs to build, test and benchmark,
# skipping those already installed. Runs apt-get as root (or via sudo).
set -eu
PKGS="build-essential autoconf automake libtool pkg-config libevent-dev
libmsgpack-dev check valgrind python3 python3-dev python3-setuptools python3-pytest
python3-redis redis-server clang libclang-rt-14-dev mandoc
nats-server libnats-dev"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing:$missing"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
