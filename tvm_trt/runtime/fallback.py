"""TVM fallback: when TensorRT cannot run a subgraph, TVM's compiled code for it does.

A library built with ``fallback=True`` holds, beside each stub, TVM's own compilation of the
same subgraph, and ``main`` reads ``y = stub(...); if tvm_trt.ok(y): y else subgraph_tvm(...)``.
When TensorRT is missing, cannot build the subgraph, or cannot deserialise / execute it here,
the stub records why, warns once for that subgraph, and returns without writing its outputs;
``tvm_trt.ok`` then answers False and the VM runs TVM's code. ``TVM_TENSORRT_FALLBACK=0`` turns
the warning back into the error. The reference executor never falls back: it checks
TensorRT's network, explicitly.
"""
from __future__ import annotations

import threading
import warnings

from .engine import env_flag

OK_FUNC = "tvm_trt.ok"

_state = threading.local()  # did the last stub call on this thread hand its subgraph to TVM?


class TensorRTFallbackWarning(RuntimeWarning):
    """A subgraph runs TVM's compiled code because TensorRT cannot run it here."""


def enabled() -> bool:
    return env_flag("TVM_TENSORRT_FALLBACK", True)


def available(subgraph) -> bool:
    """The library holds TVM's code for this subgraph and the user allows falling back to it."""
    return bool(subgraph.spec.get("config", {}).get("fallback")) and enabled()


def take(subgraph, error: BaseException) -> None:
    """Hand ``subgraph`` to TVM for this call and the next ones (re-raises ``error`` when that is
    not possible or not allowed)."""
    if not available(subgraph):
        raise error
    if subgraph.fallback_reason is None:
        subgraph.fallback_reason = f"{type(error).__name__}: {error}"
        warnings.warn(
            f"tvm_trt: subgraph {subgraph.symbol} runs TVM's compiled code instead of TensorRT: "
            f"{subgraph.fallback_reason}",
            TensorRTFallbackWarning,
            stacklevel=2,
        )
    decline()


def decline() -> None:
    from .subgraph import bump

    _state.declined = True
    bump("fallback_executions")


def ok(*_outputs) -> bool:
    """``tvm_trt.ok``: False when the stub just called on this thread left its work to TVM."""
    declined = getattr(_state, "declined", False)
    _state.declined = False
    return not declined
