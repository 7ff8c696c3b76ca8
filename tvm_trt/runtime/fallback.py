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

import logging
import threading
import warnings
from typing import Dict, List, Tuple

import numpy as np

from ..core import env
from .stats import bump


_state = threading.local()  # did the last stub call on this thread hand its subgraph to TVM?
_lock = threading.Lock()
_weights: Dict[str, List[np.ndarray]] = {}  # weights id -> host views of the library's bytes
_tensors: Dict[Tuple, object] = {}  # (weights id, index, device) -> TVM tensor given to TVM's code


class TensorRTFallbackWarning(RuntimeWarning):
    """A subgraph runs TVM's compiled code because TensorRT cannot run it here."""


def enabled() -> bool:
    return env.flag(env.FALLBACK, True)


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
        logging.getLogger("tvm_trt").info("subgraph %s: fallback to TVM (%s)", subgraph.symbol, subgraph.fallback_reason)
        warnings.warn(
            f"tvm_trt: subgraph {subgraph.symbol} runs TVM's compiled code instead of TensorRT: "
            f"{subgraph.fallback_reason}",
            TensorRTFallbackWarning,
            stacklevel=2,
        )
    decline()


def decline() -> None:

    _state.declined = True
    bump("fallback_executions")


def remember(subgraph) -> None:
    from ..core.spec_format import weights_id

    if subgraph.weights:
        with _lock:
            _weights[weights_id(subgraph.spec)] = subgraph.weights


def forget() -> None:
    with _lock:
        _weights.clear()
        _tensors.clear()


def weight(name, like):
    """``tvm_trt.weight("<weights id>:<index>", like)``: a subgraph's weight for TVM's code, on
    ``like``'s device: a view of the library's bytes on the host, else one device copy kept."""
    import tvm

    device = like.device
    key = (str(name), device.dlpack_device_type(), device.index)
    tensor = _tensors.get(key)
    if tensor is None:
        weights_id, index = str(name).rsplit(":", 1)
        array = _weights[weights_id][int(index)]
        host = device.dlpack_device_type() in (1, 3)  # kDLCPU, kDLCUDAHost
        tensor = tvm.runtime.from_dlpack(array) if host else tvm.runtime.tensor(array, device)
        with _lock:
            tensor = _tensors.setdefault(key, tensor)
    return tensor


def ok(*_outputs) -> bool:
    """``tvm_trt.ok``: False when the stub just called on this thread left its work to TVM."""
    declined = getattr(_state, "declined", False)
    _state.declined = False
    return not declined
