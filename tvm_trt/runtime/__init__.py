"""The runtime our generated stubs call: ``tvm_trt.run`` and ``tvm_trt.load``.

Registered as TVM global functions when ``tvm_trt`` is imported, so a library exported
with our codegen runs in any process that has done ``import tvm_trt``.
"""
from __future__ import annotations

import threading
from typing import Dict

import tvm_ffi

from ..core.spec_format import OK_FUNC, WEIGHT_FUNC
from . import fallback
from . import stats
from .subgraph import Subgraph

_subgraphs: Dict[str, Subgraph] = {}
_lock = threading.Lock()


def _run(key, *handles) -> int:
    subgraph = _subgraphs.get(key)
    if subgraph is None:
        return 1  # the stub then passes the blob to _load and calls again
    subgraph.run(handles)
    return 0


def _load(key, blob) -> None:
    with _lock:
        if key not in _subgraphs:
            _subgraphs[key] = Subgraph(str(key), str(blob))
            fallback.remember(_subgraphs[key])


def register() -> None:
    tvm_ffi.register_global_func("tvm_trt.run", _run, override=True)
    tvm_ffi.register_global_func("tvm_trt.load", _load, override=True)
    tvm_ffi.register_global_func(OK_FUNC, fallback.ok, override=True)
    tvm_ffi.register_global_func(WEIGHT_FUNC, fallback.weight, override=True)


def runtime_stats() -> Dict:
    """Counters of this process: engines built / loaded from cache / from the library / held
    now / freed, executions (TensorRT, reference executor, TVM fallback); ``profiles``: per subgraph
    with symbolic dims, the optimization profile ({var: [min, opt, max]}) of each engine it holds."""
    counters = stats.snapshot()
    with _lock:
        subgraphs = list(_subgraphs.values())
    counters["subgraphs_loaded"] = len(subgraphs)
    counters["engines_held"] = sum(s.engines_held for s in subgraphs)
    counters["profiles"] = {s.symbol: s.profiles_held() for s in subgraphs if s.dynamic}
    return counters


def reset() -> None:
    """Forget loaded subgraphs, engines and counters (tests; freeing engines)."""
    with _lock:
        _subgraphs.clear()
    fallback.forget()
    stats.reset()
