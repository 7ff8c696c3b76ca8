"""The two sides of a layer-by-layer comparison: the built TensorRT networks evaluated by the reference
executor (every tensor kept), and each offloaded binding computed by TVM in float32."""

from __future__ import annotations

import contextlib
import os
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import tvm
from tvm import relax

from ..core import env, graph
from ..reference import run_network
from ..runtime import observers


def to_tensors(arrays: Sequence[np.ndarray]):
    return [tvm.runtime.tensor(np.ascontiguousarray(a)) for a in arrays]


def run_vm(ex, arrays: Sequence[np.ndarray]) -> List[np.ndarray]:
    out = relax.VirtualMachine(ex, tvm.cpu())["main"](*to_tensors(arrays))
    return [out.numpy()] if isinstance(out, tvm.runtime.Tensor) else [o.numpy() for o in _flatten(out)]


def _flatten(value):
    if isinstance(value, tvm.runtime.Tensor):
        return [value]
    return [t for item in value for t in _flatten(item)]


@contextlib.contextmanager
def _reference_executor():
    """Offloaded subgraphs evaluated in NumPy from the built network (explicitly: never a GPU run)."""
    saved = os.environ.get(env.EXECUTOR)
    os.environ[env.EXECUTOR] = "reference"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(env.EXECUTOR, None)
        else:
            os.environ[env.EXECUTOR] = saved


class Recording:
    """What each subgraph's last reference evaluation saw, in the order the model first called them."""

    def __init__(self):
        self.calls: Dict[str, Tuple] = {}  # symbol -> (network spec, network, feeds)

    def __call__(self, subgraph, spec, network, feeds):
        self.calls[subgraph.symbol] = (spec, network, {k: np.array(v) for k, v in feeds.items()})


def run_recorded(ex, batches: Sequence[Sequence[np.ndarray]]) -> Tuple[List[np.ndarray], Recording]:
    """Runs every batch (INT8 calibration calls first); the outputs and networks are the last batch's."""
    recording = Recording()
    observers.REFERENCE_OBSERVERS.append(recording)
    try:
        with _reference_executor():
            for batch in batches:
                outputs = run_vm(ex, batch)
    finally:
        observers.REFERENCE_OBSERVERS.remove(recording)
    return outputs, recording


def layer_values(spec: Dict, network, feeds) -> List[Tuple[int, Optional[np.ndarray], str]]:
    """Per node of the network spec that came from a Relax binding (not the Q/DQ pairs INT8
    inserts): (network node index, the TensorRT value of its output, its TensorRT dtype)."""
    values = run_network(network, feeds, all_tensors=True)
    last: Dict[int, object] = {}
    for i in range(network.num_layers):  # layers are named "<node>:<op>:<k>" by build_network
        layer = network.get_layer(i)
        head = layer.name.split(":", 1)[0]
        if head.isdigit() and _fits(layer.get_output(0), spec["nodes"][int(head)]):
            last[int(head)] = layer.get_output(0)
    rows = []
    for index, node in enumerate(spec["nodes"]):
        if "var" not in node:
            continue
        tensor = last.get(index)
        value = values.get(tensor.name) if tensor is not None else None
        rows.append((index, value, str(tensor.dtype).rsplit(".", 1)[-1].lower() if tensor is not None else "?"))
    return rows


def _fits(tensor, node) -> bool:
    want = node["out"][0]["shape"]
    got = tuple(tensor.shape)
    return want is None or (
        len(got) == len(want) and all(not isinstance(w, int) or g < 0 or g == w for g, w in zip(got, want))
    )


def tvm_binding_values(func: relax.Function, feeds: Sequence[np.ndarray]) -> List[Optional[np.ndarray]]:
    """Every op call of an offloaded function computed by TVM (LLVM, the graph's own dtypes),
    in spec node order: the function flattened into one whose result is every call's value."""
    builder = relax.BlockBuilder()
    params = [relax.Var(p.name, p.ty) for p in func.params]
    with builder.function("main", params):
        with builder.dataflow():
            emitter = graph.Emitter(builder)
            calls = []
            original_call = emitter.call
            emitter.call = lambda c, args: calls.append(original_call(c, args)) or calls[-1]
            graph.walk(func, params, emitter)
            outs = []
            for value in calls:
                if isinstance(value.ty, relax.TupleType):
                    value = builder.emit(relax.TupleGetItem(value, 0))
                outs.append(value)
            result = builder.emit_output(relax.Tuple(outs))
        builder.emit_func_output(result)
    return run_vm(tvm.compile(builder.get(), "llvm"), feeds)
