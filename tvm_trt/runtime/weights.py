"""Offloaded weights at run time: NumPy views of the loaded library's read-only bytes (found by their
exported symbol), or the arrays of a build done in this process (its executable was not exported).
``codegen.weights_writer`` writes them at compile time."""

from __future__ import annotations

import os
from typing import Dict, List, Sequence

import numpy as np

from ..core.spec_format import symbol, weight_views, weights_id

# weights id -> arrays, for executables run in the process that built them (not exported)
in_process: Dict[str, List[np.ndarray]] = {}


def arrays(spec: Dict) -> List[np.ndarray]:
    """A subgraph's weights at run time: views of the loaded library's bytes, or the arrays of a
    build done in this process (its executable was not exported)."""
    if not spec["weights"]:
        return []
    wid = weights_id(spec)
    address = _find_symbol(symbol(wid))
    if address:
        return weight_views(spec, address)
    found = in_process.get(wid)
    if found is None:
        raise RuntimeError(
            f"tvm_trt: subgraph {spec['symbol']}: its weights ({symbol(wid)}) are neither in a loaded library nor "
            "built in this process"
        )
    return found


_found: Dict[str, int] = {}


def _find_symbol(name: str) -> int:
    """Address of an exported data symbol in the libraries this process has loaded (TVM opens
    them RTLD_LOCAL, so each is asked by path; RTLD_NOLOAD never loads a new one)."""
    if name in _found:
        return _found[name]
    import ctypes

    paths = []
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split(maxsplit=5)[-1].strip() if line.count(" ") >= 5 else ""
                if path.startswith("/") and ".so" in os.path.basename(path) and path not in paths:
                    paths.append(path)
    except OSError:
        return 0
    mode = getattr(os, "RTLD_NOLOAD", 4) | getattr(os, "RTLD_LAZY", 1)
    for path in reversed(paths):  # the latest loaded first
        try:
            lib = ctypes.CDLL(path, mode=mode)
            address = ctypes.addressof(ctypes.c_char.in_dll(lib, name))
        except (OSError, ValueError):
            continue
        _found[name] = address
        return address
    return 0


def register_in_process(regions: Dict[str, Sequence[np.ndarray]]) -> None:
    """Executables used before export find their weights here."""
    for wid, values in regions.items():
        in_process[wid] = list(values)
