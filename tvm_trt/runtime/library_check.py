"""Checks of an exported library before TVM maps it.

``dlopen`` of a truncated shared object can succeed and then fault (SIGBUS) when a page past
the end of the file is touched, so a damaged ``.so`` must be refused before it is loaded:
``tvm-trt compile`` records the library's size and SHA-256 in ``LIB.so.json``, and the file's
header (ELF or Mach-O) and, for ELF, the extent of its section table are checked as well.
"""

from __future__ import annotations

import hashlib
import os
import struct
from typing import Dict, Optional

_MACHO = {b"\xfe\xed\xfa\xce", b"\xce\xfa\xed\xfe", b"\xfe\xed\xfa\xcf", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe"}


class LibraryError(ValueError):
    """The file is not a complete shared library (or not the one compiled)."""


def fingerprint(path: str) -> Dict:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return {"size": os.path.getsize(path), "sha256": digest.hexdigest()}


def _elf_extent(head: bytes) -> Optional[int]:
    """End of the section header table (the last thing a linker writes), or None if unknown."""
    if len(head) < 64:
        return None
    is64, little = head[4] == 2, head[5] == 1
    fmt = "<" if little else ">"
    if is64:
        (shoff,) = struct.unpack_from(fmt + "Q", head, 0x28)
        shentsize, shnum = struct.unpack_from(fmt + "HH", head, 0x3A)
    else:
        (shoff,) = struct.unpack_from(fmt + "I", head, 0x20)
        shentsize, shnum = struct.unpack_from(fmt + "HH", head, 0x2E)
    return shoff + shentsize * shnum if shoff else None


def check(path: str, recorded: Optional[Dict] = None) -> None:
    """Raise LibraryError unless ``path`` looks like a whole shared library (and, when
    ``recorded`` holds size and sha256 from compile time, is that library)."""
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(64)
    if head[:4] == b"\x7fELF":
        extent = _elf_extent(head)
        if extent is not None and extent > size:
            raise LibraryError(f"{path} is truncated: {size} bytes, its ELF header says at least {extent}")
    elif head[:4] not in _MACHO:
        raise LibraryError(f"{path} is not a shared library (no ELF or Mach-O header)")
    if recorded and "size" in recorded:
        if recorded["size"] != size:
            raise LibraryError(
                f"{path} has {size} bytes, {recorded['size']} when compiled: truncated or replaced; compile it again"
            )
        if fingerprint(path)["sha256"] != recorded.get("sha256"):
            raise LibraryError(f"{path} differs from the library compiled (sha256 mismatch); compile it again")
