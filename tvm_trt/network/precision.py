"""FP16 for strongly typed TensorRT: an fp16-rewritten copy of a subgraph spec.

TensorRT-RTX has no FP16 builder flag; precision comes from tensor types. So the network is
built from a copy of the spec whose float32 weights, node types and dtype attrs are float16.
Network inputs keep the graph's dtype and are cast right after ``add_input``
(``io_dtype``); outputs are cast back to the graph's dtype by ``build_network``. Ops whose
accuracy suffers in half precision (softmax, norms, reductions: registered with
``keep_float32=True``) are marked ``compute_dtype``: their tensor arguments are cast to float32
and their float32 results back to float16.
"""

from __future__ import annotations

import copy
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..core import registry, tensorrt
from ..core.dtypes import trt_dtype

FULL, HALF = "float32", "float16"

_DTYPE_ATTRS = ("dtype", "out_dtype")


def kept_in_float32() -> frozenset:
    """The ops computed in float32 inside an FP16 subgraph (their registrations say so)."""
    return frozenset(name for name, entry in registry.entries().items() if entry.keep_float32)


def _half_type(t: Dict) -> Dict:
    return dict(t, dtype=HALF) if t.get("dtype") == FULL else t


def keeps_fp32(node: Dict, symbol: str, fp32_ops) -> bool:
    """Whether the user's ``fp32_ops`` (the option) names this node: by Relax op name (``relax.matmul``
    or ``matmul``) or by the layer name ``tvm_trt.debug`` prints (``<subgraph>/<binding>``)."""
    op = node["op"]
    names = {op, op[len("relax.") :] if op.startswith("relax.") else op}
    if node.get("var"):
        names.add(f"{symbol}/{node['var']}")
    return any(name in names for name in fp32_ops)


def to_fp16(spec: Dict, weights: Sequence[np.ndarray]) -> Tuple[Dict, List[np.ndarray]]:
    """The spec and weights rewritten to compute in float16 (see the module docstring). Ops named
    by the ``fp32_ops`` option keep float32, like those registered with ``keep_float32``."""
    spec = copy.deepcopy(spec)
    spec["inputs"] = [dict(_half_type(inp), io_dtype=inp["dtype"]) for inp in spec["inputs"]]
    fp32_ops = spec.get("config", {}).get("fp32_ops") or ()
    for node in spec["nodes"]:
        kept = getattr(registry.get(node["op"]), "keep_float32", False)  # the op's registration says so
        if kept or keeps_fp32(node, spec.get("symbol", ""), fp32_ops):
            node["compute_dtype"] = FULL  # its types stay float32; arguments are cast to it
            if not kept:  # user's choice: its result may exceed half's range
                node["float32_out"] = True  # so it stays float32; half consumers cast it
            continue
        node["out"] = [_half_type(t) for t in node["out"]]
        for name in _DTYPE_ATTRS:
            if node["attrs"].get(name) == FULL:
                node["attrs"][name] = HALF
    read_in_half = _weights_read_by(n for n in spec["nodes"] if "compute_dtype" not in n)
    half = []
    for k, (w, desc) in enumerate(zip(weights, spec["weights"])):
        if w.dtype == np.float32 and k in read_in_half:  # float32 nodes' own weights keep their precision
            w = to_half_saturated(w)
            desc["dtype"] = HALF
        half.append(w)
    spec["precision"] = HALF
    return spec, half


HALF_MAX = float(np.finfo(np.float16).max)  # 65504


def to_half_saturated(w: np.ndarray) -> np.ndarray:
    """float16 with finite values beyond half's range clipped to +-65504 (as ONNX's float16 converters
    do): a constant such as float32's lowest value in an attention mask becomes -65504, not -inf,
    which a multiplication by 0 would turn into nan."""
    return np.where(np.isfinite(w), np.clip(w, -HALF_MAX, HALF_MAX), w).astype(np.float16)


def _weights_read_by(nodes) -> set:
    found = set()

    def visit(ref):
        if isinstance(ref, dict):
            if "weight" in ref:
                found.add(ref["weight"])
            for item in ref.get("tuple", ()):
                visit(item)

    for node in nodes:
        for arg in node["args"]:
            visit(arg)
    return found


def cast_tree(ctx, value, src: str, dst: str):
    """Casts every ``src`` tensor/weight inside ``value`` (nested lists too) to ``dst``."""
    if isinstance(value, (list, tuple)):
        return type(value)(cast_tree(ctx, v, src, dst) for v in value)
    if isinstance(value, np.ndarray):
        return value.astype(dst) if value.dtype == np.dtype(src) else value
    if isinstance(value, ctx.trt.ITensor) and value.dtype == trt_dtype(src):
        return ctx.cast(value, dst)
    return value


def has_half_tensors(network) -> bool:
    """Whether any layer of a built network produces HALF tensors (tests, reports)."""
    half = tensorrt.trt().DataType.HALF
    return any(
        network.get_layer(i).get_output(j).dtype == half
        for i in range(network.num_layers)
        for j in range(network.get_layer(i).num_outputs)
    )
