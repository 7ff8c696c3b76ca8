"""On-disk engine cache: content-hash keys, header + checksum, atomic writes.

File = MAGIC | sha256(payload) | len(payload) (8 bytes, little endian) | payload. Anything that
does not verify is reported and rebuilt, never deserialised.
"""

from __future__ import annotations

import hashlib
import logging
import os
import struct
import tempfile
from typing import Optional

from ..core import env

logger = logging.getLogger("tvm_trt")

MAGIC = b"TVMTRTPLAN1\0"
_HEADER = len(MAGIC) + 32 + 8


def cache_dir() -> Optional[str]:
    return env.path(env.CACHE_DIR)


def path_for(directory: str, key: str) -> str:
    return os.path.join(directory, f"{key}.plan")


def encode(payload: bytes) -> bytes:
    return MAGIC + hashlib.sha256(payload).digest() + struct.pack("<Q", len(payload)) + payload


def decode(data: bytes) -> Optional[bytes]:
    """The payload, or None when the file is truncated, corrupted or not ours."""
    if len(data) < _HEADER or not data.startswith(MAGIC):
        return None
    digest = data[len(MAGIC) : len(MAGIC) + 32]
    (length,) = struct.unpack("<Q", data[len(MAGIC) + 32 : _HEADER])
    payload = data[_HEADER:]
    if len(payload) != length or hashlib.sha256(payload).digest() != digest:
        return None
    return payload


_warned_unwritable = set()


def load(key: str, subgraph: str = "?") -> Optional[bytes]:
    return load_file(f"{key}.plan", f"subgraph {subgraph}: cached engine")


def load_file(filename: str, what: str) -> Optional[bytes]:
    """The verified payload of ``filename`` in the cache directory; None (with a warning when
    the file is damaged) otherwise."""
    directory = cache_dir()
    if not directory:
        return None
    path = os.path.join(directory, filename)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    except OSError as err:
        logger.warning("tvm_trt: %s: cannot read %s (%s); rebuilding", what, path, err)
        return None
    payload = decode(data)
    if payload is None:
        logger.warning("tvm_trt: %s: %s is truncated, corrupted or foreign; rebuilding", what, path)
    return payload


def store(key: str, payload: bytes) -> bool:
    """Atomically writes the entry (temp file + rename: readers never see half a file)."""
    return store_file(f"{key}.plan", payload)


def store_file(filename: str, payload: bytes) -> bool:
    directory = cache_dir()
    if not directory:
        return False
    try:
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{filename}.", suffix=".tmp", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(encode(payload))
            os.replace(tmp, os.path.join(directory, filename))
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        return True
    except OSError as err:
        if directory not in _warned_unwritable:
            _warned_unwritable.add(directory)
            logger.warning("tvm_trt: engine cache %s is not writable (%s); keeping engines in memory", directory, err)
        return False
