"""A cross compiler for the Jetson (aarch64) path without a system toolchain: Zig's clang, from PyPI.

``pip install ziglang`` ships a self-contained clang that links for other targets; ``zig_cc``
writes a small wrapper named like a GNU cross compiler (``aarch64-linux-gnu-gcc``), which is what
``tvm-trt compile --cc`` and ``export_library(cc=...)`` expect (the name gives the host triple).
Debian's ``g++-aarch64-linux-gnu`` works the same way where it is installed.
"""

from __future__ import annotations

import importlib.util
import os
import stat
import sys

GLIBC = "2.17"  # the oldest glibc Zig links against: the library then loads on any JetPack


def available() -> bool:
    return importlib.util.find_spec("ziglang") is not None


def zig_cc(directory: str, triple: str = "aarch64-linux-gnu") -> str:
    """Write ``DIRECTORY/<triple>-gcc`` running ``zig cc -target <triple>.<glibc>``; returns its path."""
    if not available():
        raise ImportError("the cross compiler needs Zig: pip install ziglang")
    path = os.path.join(directory, f"{triple}-gcc")
    with open(path, "w") as f:
        f.write(f'#!/bin/sh\nexec "{sys.executable}" -m ziglang cc -target {triple}.{GLIBC} "$@"\n')
    os.chmod(path, os.stat(path).st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path
