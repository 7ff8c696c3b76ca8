"""The runtime's process-wide counters (``tvm_trt.runtime_stats()``), bumped by every runtime module."""

from __future__ import annotations

import threading
from typing import Dict

_lock = threading.Lock()
STATS = {
    "engines_built": 0,
    "engines_loaded_from_cache": 0,
    "engines_from_library": 0,
    "engines_freed": 0,
    "executions": 0,
    "calibration_calls": 0,
    "int8_engines": 0,
    "reference_executions": 0,
    "fallback_executions": 0,
    "python_calls": 0,  # calls from a library into our Python (tvm_trt.run / load / state / weights)
    "cuda_graph_contexts": 0,  # execution contexts with CUDA graph capture (cuda_graphs)
    "shared_activation_bytes": 0,  # the activation buffers of share_activation_memory
    "build_seconds": 0.0,
    "cache_load_seconds": 0.0,
}


def bump(name: str, amount=1, python_calls: int = 0) -> None:
    with _lock:
        STATS[name] += amount
        STATS["python_calls"] += python_calls


def count_call() -> None:
    """One call from a library into our Python (the hot path's own bump carries it instead)."""
    bump("python_calls")


def snapshot() -> Dict:
    with _lock:
        return dict(STATS)


def reset() -> None:
    with _lock:
        for k in STATS:
            STATS[k] = 0 if isinstance(STATS[k], int) else 0.0
