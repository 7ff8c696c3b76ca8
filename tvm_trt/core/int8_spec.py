"""INT8 by calibration: the rewrites of a subgraph's spec (the runtime's ``int8_calibration`` runs them).

* ``calibration_spec``: the float spec with the activation inputs of every conv / matmul as
  extra outputs (their absolute max is recorded by the runtime's calibration).
* ``int8_spec``: the float spec with Q/DQ inserted from recorded maxima: per-tensor symmetric
  activations, per-channel symmetric weights. Softmax, norms and every op that is not a conv
  or matmul keep float inputs (TensorRT runs them in float between the quantized layers).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Dict, List, Sequence, Tuple

import numpy as np

# Ops whose inputs are quantized by calibration: {op: (activation argument positions, weight argument position)}
MAC_OPS = {
    "relax.nn.conv1d": (0, 1),
    "relax.nn.conv2d": (0, 1),
    "relax.nn.conv3d": (0, 1),
    "relax.matmul": (0, 1),
}
QMAX = 127.0

Scales = Dict[str, Dict[str, float]]  # {node index: {argument position: absolute max}}


def graph_key(spec: Dict, weights: Sequence[np.ndarray]) -> str:
    """Identity of a subgraph independent of its config: the key of ``int8_scales``."""
    fields = {k: spec[k] for k in ("inputs", "outputs", "nodes", "results")}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True).encode())
    for w in weights:
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()[:24]


def is_quantized(spec: Dict) -> bool:
    """The subgraph already carries Q/DQ (a QDQ model): it needs no calibration."""
    return any(n["op"] in ("relax.quantize", "relax.dequantize") for n in spec["nodes"])


def _activation_args(spec: Dict) -> List[Tuple[int, int, Dict]]:
    """(node index, argument position, reference) of every float activation feeding a conv/matmul."""
    found = []
    for index, node in enumerate(spec["nodes"]):
        if node["op"] not in MAC_OPS or node["out"][0]["dtype"] != "float32":
            continue
        for pos, ref in enumerate(node["args"][:2]):
            if "input" in ref or ("node" in ref):
                found.append((index, pos, ref))
    return found


def has_calibration_targets(spec: Dict) -> bool:
    return bool(_activation_args(spec))


def _type_of(spec: Dict, ref: Dict) -> Dict:
    if "input" in ref:
        inp = spec["inputs"][ref["input"]]
        return {"shape": inp["shape"], "dtype": inp["dtype"]}
    return spec["nodes"][ref["node"]]["out"][ref.get("item", 0)]


def calibration_spec(spec: Dict) -> Tuple[Dict, List[Tuple[int, int, int]]]:
    """-> (spec with the activations as extra outputs, [(node index, argument position, extra
    output k)]). Extra output k is output ``len(outputs) + k``; an activation read by several
    convs (a residual block's input) is one output (a TensorRT tensor is marked once)."""
    spec = copy.deepcopy(spec)
    order, seen = [], {}
    for index, pos, ref in _activation_args(spec):
        key = json.dumps(ref, sort_keys=True)
        if key not in seen:
            seen[key] = len(seen)
            spec["results"].append(dict(ref))
            spec["outputs"].append(dict(_type_of(spec, ref)))
        order.append((index, pos, seen[key]))
    spec["symbol"] = spec["symbol"] + "_calibration"
    return spec, order


def weight_scales(weight: np.ndarray, axis: int) -> np.ndarray:
    """Per-channel symmetric scales of ``weight`` along ``axis`` (never 0)."""
    others = tuple(a for a in range(weight.ndim) if a != axis)
    absmax = np.abs(weight).max(axis=others) if others else np.abs(weight)
    return (np.maximum(absmax, 1e-8) / QMAX).astype(np.float32)


def quantize_weight(weight: np.ndarray, axis: int) -> Tuple[np.ndarray, np.ndarray]:
    """(int8 weight, per-channel scales): round half to even, saturate to [-127, 127]."""
    scales = weight_scales(weight, axis)
    shape = [1] * weight.ndim
    shape[axis] = -1
    q = np.clip(np.rint(weight / scales.reshape(shape)), -QMAX, QMAX).astype(np.int8)
    return q, scales


def _weight_axis(op: str, weight: np.ndarray) -> int:
    """Output channels: axis 0 of OIHW kernels; the last (N) axis of a matmul's (.., K, N) operand."""
    return 0 if op.startswith("relax.nn.conv") else weight.ndim - 1


def int8_spec(spec: Dict, weights: Sequence[np.ndarray], scales: Scales) -> Tuple[Dict, List[np.ndarray]]:
    """The spec with Q/DQ before every calibrated conv/matmul input (see the module docstring)."""
    spec = copy.deepcopy(spec)
    weights = list(weights)
    old_nodes = spec["nodes"]
    new_nodes: List[Dict] = []
    remap: Dict[int, int] = {}

    def fix(ref):
        if isinstance(ref, dict):
            if "node" in ref:
                return dict(ref, node=remap[ref["node"]])
            if "tuple" in ref:
                return dict(ref, tuple=[fix(r) for r in ref["tuple"]])
        return ref

    def add_weight(array: np.ndarray) -> Dict:
        array = np.require(array, requirements="C")
        weights.append(array)
        spec["weights"].append({"shape": list(array.shape), "dtype": str(array.dtype), "offset": -1})
        return {"weight": len(weights) - 1}

    def add_node(op: str, args: List, axis: int, out: Dict) -> Dict:
        attrs = {"axis": axis, "out_dtype": out["dtype"]}
        new_nodes.append({"op": op, "args": args, "attrs": attrs, "out": [out], "tuple_out": False})
        return {"node": len(new_nodes) - 1}

    zero = None
    for index, node in enumerate(old_nodes):
        node = dict(node, args=[fix(a) for a in node["args"]])
        recorded = scales.get(str(index))
        if node["op"] in MAC_OPS and recorded:
            if zero is None:
                zero = add_weight(np.zeros((), np.int8))
            args = list(node["args"])
            for pos in range(2):
                ref = args[pos]
                if str(pos) in recorded:  # an activation: per-tensor Q -> DQ
                    t = _type_of({"inputs": spec["inputs"], "nodes": new_nodes}, ref)
                    s = add_weight(np.array(max(recorded[str(pos)], 1e-8) / QMAX, np.float32))
                    q = add_node("relax.quantize", [ref, s, zero], 0, dict(t, dtype="int8"))
                    args[pos] = add_node("relax.dequantize", [q, s, zero], 0, dict(t))
                elif "weight" in ref and weights[ref["weight"]].dtype == np.float32 and pos == 1:
                    w = weights[ref["weight"]]
                    axis = _weight_axis(node["op"], w)
                    q, ws = quantize_weight(w, axis)
                    out = {"shape": list(w.shape), "dtype": "float32"}
                    args[pos] = add_node("relax.dequantize", [add_weight(q), add_weight(ws), zero], axis, out)
            node["args"] = args
        new_nodes.append(node)
        remap[index] = len(new_nodes) - 1
    spec["nodes"] = new_nodes
    spec["results"] = [fix(r) for r in spec["results"]]
    spec["precision_int8"] = True
    return spec, weights


def scales_from_maxima(maxima: Dict[Tuple[int, int], float]) -> Scales:
    scales: Scales = {}
    for (index, pos), value in maxima.items():
        scales.setdefault(str(index), {})[str(pos)] = float(value)
    return scales


def scales_digest(scales: Scales) -> str:
    return hashlib.sha256(json.dumps(scales, sort_keys=True).encode()).hexdigest()[:16]
