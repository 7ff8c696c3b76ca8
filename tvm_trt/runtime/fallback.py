"""TVM fallback: when TensorRT cannot run a subgraph, TVM's compiled code for it does.

A library built with ``fallback=True`` holds, beside each stub, TVM's own compilation of the
same subgraph, and ``main`` reads ``y = stub(x); if stub_ok(y): y else tvm_trt.weights(id, y, subgraph_tvm)(x)``.
When TensorRT is missing, cannot build the subgraph, or cannot deserialise / execute it here,
the runtime records why, warns once for that subgraph, clears the subgraph's state byte and
returns without writing its outputs; from then on neither the stub nor ``stub_ok`` enters
Python, and the VM runs TVM's code through ``tvm_trt.weights``: one call that returns the twin with
all its weights bound, once per VM (views of the library's bytes on the host, one device copy kept
per device otherwise), so the VM does no work per weight.
``TVM_TENSORRT_FALLBACK=0`` turns the warning back into the error. The reference executor never
falls back: it checks TensorRT's network, explicitly.
"""

from __future__ import annotations

import logging
import threading
import warnings
from typing import Dict, List, Tuple

import numpy as np

from ..core import env
from ..core.spec_format import DECLINED
from .stats import bump

_lock = threading.Lock()
# subgraph key -> its state byte (1: TensorRT path, 0: TVM's code). Libraries keep the address:
# never freed, reset() sets them back to 1.
_states: Dict[str, np.ndarray] = {}
_weights: Dict[str, List[np.ndarray]] = {}  # weights id -> host views of the library's bytes
_tensors: Dict[Tuple, List] = {}  # (weights id, device type, device id) -> the twin's weights
# (weights id, device type, device id, id of a VM's twin function) -> (that function, it with the
# weights bound): one small entry per VM that ran the twin, kept for the process like the weights
_bound: Dict[Tuple, Tuple] = {}


class TensorRTFallbackWarning(RuntimeWarning):
    """A subgraph runs TVM's compiled code because TensorRT cannot run it here."""


def enabled() -> bool:
    return env.flag(env.FALLBACK, True)


def available(subgraph) -> bool:
    """The library holds TVM's code for this subgraph and the user allows falling back to it."""
    return bool(subgraph.spec.get("config", {}).get("fallback")) and enabled()


def state_address(key: str) -> int:
    with _lock:
        state = _states.get(key)
        if state is None:
            state = _states[key] = np.ones(1, np.int8)
    return state.ctypes.data


def take(subgraph, error: BaseException) -> int:
    """Hand ``subgraph`` to TVM for this call and the next ones (re-raises ``error`` when that is
    not possible or not allowed)."""
    if not available(subgraph):
        raise error
    if subgraph.fallback_reason is None:
        subgraph.fallback_reason = f"{type(error).__name__}: {error}"
        logging.getLogger("tvm_trt").info(
            "subgraph %s: fallback to TVM (%s)", subgraph.symbol, subgraph.fallback_reason
        )
        warnings.warn(
            f"tvm_trt: subgraph {subgraph.symbol} runs TVM's compiled code instead of TensorRT: "
            f"{subgraph.fallback_reason}",
            TensorRTFallbackWarning,
            stacklevel=2,
        )
    return decline(subgraph)


def decline(subgraph) -> int:
    """For good: the stub stops calling Python, ``<symbol>_ok`` answers False."""
    state_address(subgraph.key)
    _states[subgraph.key][0] = 0
    return DECLINED


def remember(subgraph) -> None:
    from ..core.spec_format import weights_id

    if subgraph.weights:
        with _lock:
            _weights[weights_id(subgraph.spec)] = subgraph.weights


def forget() -> None:
    with _lock:
        _weights.clear()
        _tensors.clear()
        _bound.clear()
        for state in _states.values():
            state[0] = 1


def weights(weights_id, like, twin):
    """``tvm_trt.weights("<weights id>", like, twin)``: the VM's function ``twin`` with all of a
    subgraph's weights bound as its last arguments, on ``like``'s device (views of the library's
    bytes on the host, else one device copy kept per device). Bound once per VM; called once per
    execution of the twin: it counts them."""
    device = like.device
    key = (str(weights_id), device.dlpack_device_type(), device.index, twin.id_)
    found = _bound.get(key)
    if found is None:
        found = _bind(key, twin, device)
    bump("fallback_executions", python_calls=1)
    return found[1]


def _bind(key, twin, device):
    import tvm
    import tvm_ffi

    place = key[:3]
    tensors = _tensors.get(place)
    if tensors is None:
        arrays = _weights.get(key[0], [])
        host = key[1] in (1, 3)  # kDLCPU, kDLCUDAHost
        tensors = [tvm.runtime.from_dlpack(a) if host else tvm.runtime.tensor(a, device) for a in arrays]
    bound = tvm_ffi.get_global_func("vm.builtin.make_closure")(twin, *tensors)
    with _lock:
        _tensors.setdefault(place, tensors)
        # ``twin`` is kept with its binding: its id stays unique while the entry lives
        return _bound.setdefault(key, (twin, bound))
