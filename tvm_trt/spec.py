"""Offloaded Relax function -> serialisable subgraph spec (JSON) + weights, packed in one blob.

A spec lists the subgraph's inputs, its op nodes in order (Relax op name, attrs, argument
references, output types) and its weights. References: {"input": i}, {"weight": k},
{"node": j} / {"node": j, "item": k} (tuple outputs), {"tuple": [...]}, {"shape": [...]},
{"value": v}. The blob = JSON + newline + raw weight bytes; its sha256 is the content hash
that engine cache keys start from, so weights are hashed once, at compile time.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Dict, List, Tuple

import numpy as np
import tvm
from tvm import relax

from . import graph, ir

FORMAT = 1


def _type_json(ty) -> Dict[str, Any]:
    return {"shape": ir.dims(ty), "dtype": str(ty.dtype)}


class _SpecBuilder(graph.Visitor):
    def __init__(self):
        self.nodes: List[Dict[str, Any]] = []
        self.weights: List[np.ndarray] = []
        self._weight_ids: Dict[Any, int] = {}

    def call(self, call, args):
        outs = [_type_json(t) for t in ir.tensor_types(call)]
        for out in outs:
            if out["shape"] is None:  # typed from a shape param (reshape, broadcast_to): its value
                out["shape"] = next((a["shape"] for a in args if isinstance(a, dict) and "shape" in a
                                     and len(a["shape"]) == ir.ndim(call.ty)), None)
        self.nodes.append(
            {
                "op": call.op.name,
                "args": args,
                "attrs": ir.attrs_to_dict(call.attrs),
                "out": outs,
                "tuple_out": isinstance(call.ty, relax.TupleType),
            }
        )
        return {"node": len(self.nodes) - 1}

    def tuple(self, items):
        return {"tuple": list(items)}

    def get_item(self, value, index):
        if "tuple" in value:
            return value["tuple"][index]
        return {"node": value["node"], "item": index}

    def leaf(self, expr):
        if ir.is_constant(expr):
            if expr not in self._weight_ids:
                self._weight_ids[expr] = len(self.weights)
                # np.require, not ascontiguousarray: that one turns 0-d arrays into 1-d
                self.weights.append(np.require(ir.const_value(expr), requirements="C"))
            return {"weight": self._weight_ids[expr]}
        if isinstance(expr, relax.ShapeExpr):
            return {"shape": [ir.prim_to_py(v) for v in expr.values]}
        if isinstance(expr, tvm.ir.StringImm):
            return {"value": str(expr.value)}
        if isinstance(getattr(expr, "ty", None), tvm.ir.PrimType) and not hasattr(expr, "value"):
            return {"value": ir.prim_to_py(expr)}  # a symbolic dim (slice bounds): "n", "n * 2"
        if isinstance(expr, tvm.ir.expr.Constant) or hasattr(expr, "value"):
            return {"value": ir.to_py(expr.value)}
        raise NotImplementedError(f"cannot serialise argument {type(expr).__name__}: {expr}")


def from_function(func: relax.Function, symbol: str, config: Dict[str, Any]) -> Tuple[Dict, List[np.ndarray]]:
    builder = _SpecBuilder()
    result = graph.walk(func, [{"input": i} for i in range(len(func.params))], builder)
    results = result["tuple"] if "tuple" in result else [result]
    if len(results) == 1 and "node" in results[0] and "item" not in results[0]:
        node = builder.nodes[results[0]["node"]]
        if node["tuple_out"]:  # the function returns a tuple-valued op (e.g. split) as it is
            results = [{"node": results[0]["node"], "item": k} for k in range(len(node["out"]))]
    ret_types = ir.tensor_types(func.body.body)
    spec = {
        "format": FORMAT,
        "symbol": symbol,
        "inputs": [dict(name=str(p.name), **_type_json(p.ty)) for p in func.params],
        "outputs": [_type_json(t) for t in ret_types],
        "nodes": builder.nodes,
        "results": results,
        "weights": [],
        "config": config,
    }
    offset = 0
    for w in builder.weights:
        spec["weights"].append({"shape": list(w.shape), "dtype": str(w.dtype), "offset": offset})
        offset += w.nbytes
    return spec, builder.weights


def pack(spec: Dict, weights: List[np.ndarray]) -> Tuple[str, str]:
    """-> (content hash hex, base64 blob). Base64: the blob travels as a NUL-free C string."""
    raw = json.dumps(spec, sort_keys=True).encode() + b"\n" + b"".join(w.tobytes() for w in weights)
    return hashlib.sha256(raw).hexdigest(), base64.b64encode(raw).decode("ascii")


def unpack(blob: str) -> Tuple[Dict, List[np.ndarray], str]:
    raw = base64.b64decode(blob)
    head, _, data = raw.partition(b"\n")
    spec = json.loads(head)
    weights = []
    for w in spec["weights"]:
        dtype = np.dtype(w["dtype"])
        count = int(np.prod(w["shape"], dtype=np.int64))
        weights.append(np.frombuffer(data, dtype=dtype, count=count, offset=w["offset"]).reshape(w["shape"]))
    return spec, weights, hashlib.sha256(raw).hexdigest()
