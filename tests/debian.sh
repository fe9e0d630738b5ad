#!/bin/sh
# SPDX-License-Identifier: MIT
# debian/ parses and agrees with the build: the changelog's version is
# configure's, and debhelper (when installed) lists the four packages.
# Building the packages is `make deb`, never make check.
src="${IPCD_SRCDIR:-$(dirname "$0")/..}"
want="${IPCD_VERSION:?IPCD_VERSION not set: run from make check}"
cd "$src" || exit 99
command -v dpkg-parsechangelog >/dev/null 2>&1 || { echo "dpkg-dev not found: skipped"; exit 77; }
got=$(dpkg-parsechangelog -l debian/changelog -S Version) || exit 1
[ "$got" = "$want" ] || { echo "debian/changelog says $got, configure.ac $want"; exit 1; }
if command -v dh_listpackages >/dev/null 2>&1; then
	pkgs=$(dh_listpackages | sort | tr '\n' ' ')
	[ "$pkgs" = "ipcd libipcclient-dev libipcclient0 python3-ipcd " ] || {
		echo "debian/control packages: $pkgs"
		exit 1
	}
fi
echo "debian/: version $got"
