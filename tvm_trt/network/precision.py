"""FP16 for strongly typed TensorRT: an fp16-rewritten copy of a subgraph spec.

TensorRT-RTX has no FP16 builder flag; precision comes from tensor types. So the network is
built from a copy of the spec whose float32 weights, node types and dtype attrs are float16.
Network inputs keep the graph's dtype and are cast right after ``add_input``
(``io_dtype``); outputs are cast back to the graph's dtype by ``build_network``. Ops whose
accuracy suffers in half precision (softmax, norms, reductions) are marked ``compute_dtype``:
their tensor arguments are cast to float32 and their float32 results back to float16.
"""
from __future__ import annotations

import copy
from typing import Dict, List, Sequence, Tuple

import numpy as np

from ..core import tensorrt
from ..core.dtypes import trt_dtype

FULL, HALF = "float32", "float16"

# Kept in float32: exponentials, variances and long sums lose too much in half precision.
KEEP_FLOAT32 = frozenset(
    {
        "relax.nn.softmax",
        "relax.nn.log_softmax",
        "relax.nn.layer_norm",
        "relax.nn.group_norm",
        "relax.nn.rms_norm",
        "relax.nn.batch_norm",
        "relax.sum",
        "relax.mean",
        "relax.variance",
        "relax.std",
        "relax.prod",
        "relax.cumsum",
        "relax.cumprod",
    }
)

_DTYPE_ATTRS = ("dtype", "out_dtype")


def _half_type(t: Dict) -> Dict:
    return dict(t, dtype=HALF) if t.get("dtype") == FULL else t


def keeps_fp32(node: Dict, symbol: str, fp32_ops) -> bool:
    """Whether the user's ``fp32_ops`` (the option) names this node: by Relax op name (``relax.matmul``
    or ``matmul``) or by the layer name ``tvm_trt.debug`` prints (``<subgraph>/<binding>``)."""
    op = node["op"]
    names = {op, op[len("relax."):] if op.startswith("relax.") else op}
    if node.get("var"):
        names.add(f"{symbol}/{node['var']}")
    return any(name in names for name in fp32_ops)


def to_fp16(spec: Dict, weights: Sequence[np.ndarray]) -> Tuple[Dict, List[np.ndarray]]:
    """The spec and weights rewritten to compute in float16 (see the module docstring). Ops named
    by the ``fp32_ops`` option keep float32, like those of ``KEEP_FLOAT32``."""
    spec = copy.deepcopy(spec)
    spec["inputs"] = [dict(_half_type(inp), io_dtype=inp["dtype"]) for inp in spec["inputs"]]
    fp32_ops = spec.get("config", {}).get("fp32_ops") or ()
    for node in spec["nodes"]:
        if node["op"] in KEEP_FLOAT32 or keeps_fp32(node, spec.get("symbol", ""), fp32_ops):
            node["compute_dtype"] = FULL  # its types stay float32; arguments are cast to it
            if node["op"] not in KEEP_FLOAT32:  # user's choice: its result may exceed half's range
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
