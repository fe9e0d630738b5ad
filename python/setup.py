# SPDX-License-Identifier: MIT
"""Build ipcd._ipcd against an installed libipcclient (found with
pkg-config; set PKG_CONFIG_PATH for a non-standard prefix). The metadata
is in pyproject.toml. In the ipcd source tree, `make` builds the same
module against the in-tree library instead."""
import subprocess

from setuptools import Extension, setup


def pkgconfig(*args):
    """pkg-config's answer for libipcclient, split; [] without it."""
    try:
        out = subprocess.check_output(["pkg-config", *args, "libipcclient"], text=True)
    except (OSError, subprocess.CalledProcessError):
        return []
    return out.split()


def flags(items, prefix):
    """The values of the flags that start with prefix."""
    return [i[len(prefix):] for i in items if i.startswith(prefix)]


cflags, libs = pkgconfig("--cflags"), pkgconfig("--libs")
libdirs = flags(libs, "-L")
ext = Extension(
    "ipcd._ipcd", ["_ipcd.c", "feeder.c", "pickle5.c"],
    include_dirs=flags(cflags, "-I"),
    library_dirs=libdirs,
    runtime_library_dirs=libdirs,
    libraries=flags(libs, "-l") or ["ipcclient"],
)
setup(ext_modules=[ext])
