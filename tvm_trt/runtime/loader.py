"""``tvm_trt.load(path)``: the guarded way to load a library exported with tvm-trt.

``tvm.runtime.load_module`` maps the file with ``dlopen``; a truncated ``.so`` can map and then
fault (SIGBUS) when a page past the end of the file is touched, killing the process. ``load``
checks the file first (header, section table extent, and the size + SHA-256 recorded by
``tvm-trt compile`` in ``LIB.so.json`` when it is there), so a damaged library raises one
``LibraryError`` naming the file and the cause instead.
"""

from __future__ import annotations

import json
import os
from typing import Dict, Optional

from .library_check import LibraryError, check


def read_meta(path: str) -> Optional[Dict]:
    """The ``LIB.so.json`` that ``tvm-trt compile`` wrote beside the library, or None when absent."""
    meta_path = path + ".json"
    if not os.path.isfile(meta_path):
        return None
    try:
        with open(meta_path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as err:
        raise LibraryError(f"cannot read {meta_path} (written by tvm-trt compile): {err}") from None
    if not isinstance(meta, dict):
        raise LibraryError(f"{meta_path} is not the JSON object tvm-trt compile writes")
    return meta


def load(path):
    """Check and load an exported library; returns the ``tvm.runtime.Module``.

    Raises ``FileNotFoundError`` for a missing path, ``LibraryError`` (a ValueError) for a
    directory, a file that is not a whole shared library, or one that differs from what
    ``tvm-trt compile`` recorded beside it. Importing ``tvm_trt`` (done by calling this) also
    registers the runtime the library's TensorRT stubs call.
    """
    import tvm

    path = os.fspath(path)
    if os.path.isdir(path):
        raise LibraryError(f"{path} is a directory, not a library")
    if not os.path.exists(path):
        raise FileNotFoundError(f"library {path!r} not found")
    meta = read_meta(path) or {}
    check(path, meta.get("library"))
    try:
        return tvm.runtime.load_module(path)
    except Exception as err:  # dlopen's or TVM's reason, on one line
        from ..core.ir import error_line

        raise LibraryError(f"{path} cannot be loaded: {error_line(err)}") from None
