"""The runtime our generated stubs call: ``tvm_trt.run``, ``tvm_trt.load``, ``tvm_trt.state``, and
``tvm_trt.weights`` for the TVM twin of a subgraph that fell back (see ``codegen.stubs``).

Registered as TVM global functions when ``tvm_trt`` is imported, so a library exported
with our codegen runs in any process that has done ``import tvm_trt``.
"""

from __future__ import annotations

import threading
from typing import Dict

import tvm_ffi

from ..core.spec_format import LOAD_FUNC, NOT_LOADED, RUN_FUNC, STATE_FUNC, WEIGHTS_FUNC
from . import fallback
from . import stats
from .stats import count_call
from .subgraph import Subgraph

_subgraphs: Dict[str, Subgraph] = {}
_lock = threading.Lock()


def _run(key, device_type, device_id, *pointers_and_dims) -> int:
    """A stub's one call: RAN, DECLINED (TVM's twin runs), or NOT_LOADED (the stub then passes
    the blob to ``_load`` and calls again)."""
    subgraph = _subgraphs.get(key)
    if subgraph is None:  # the first call of a process: also where an outdated library shows
        count_call()
        if not isinstance(device_type, int):
            raise RuntimeError(
                f"tvm_trt: subgraph {key}: this library was built by an older tvm-trt (its stubs pass tensor "
                "handles); build it again with this version"
            )
        return NOT_LOADED
    return subgraph.call(device_type, device_id, pointers_and_dims)


def _state(key) -> int:
    count_call()
    return fallback.state_address(str(key))


def _load(key, blob) -> None:
    count_call()
    with _lock:
        if key not in _subgraphs:
            _subgraphs[key] = Subgraph(str(key), str(blob))
            fallback.remember(_subgraphs[key])


def register() -> None:
    tvm_ffi.register_global_func(RUN_FUNC, _run, override=True)
    tvm_ffi.register_global_func(LOAD_FUNC, _load, override=True)
    tvm_ffi.register_global_func(STATE_FUNC, _state, override=True)
    tvm_ffi.register_global_func(WEIGHTS_FUNC, fallback.weights, override=True)


def runtime_stats() -> Dict:
    """Counters of this process: engines built / loaded from cache / from the library / held
    now / freed, executions (TensorRT, reference executor, TVM fallback), ``python_calls`` (calls
    from a library into our Python: one per subgraph call, on every path); ``profiles``: per subgraph
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
