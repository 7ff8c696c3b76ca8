"""Offloaded Relax function -> serialisable subgraph spec (JSON) + weights, packed in one blob.

A spec lists the subgraph's inputs, its op nodes in order (Relax op name, attrs, argument
references, output types) and its weights. References: {"input": i}, {"weight": k},
{"node": j} / {"node": j, "item": k} (tuple outputs), {"tuple": [...]}, {"shape": [...]},
{"value": v}.

Weights lifted by ``tvm_trt.build`` (``tvm_trt.weights``) are the function's trailing
parameters: the stub receives them as arguments (VM constants) and the spec carries only their
shapes, dtypes and the digest of their bytes; the blob is the spec's JSON text. A function that
still binds its constants (plain ``RunCodegen`` without ``tvm_trt.build``) embeds them: blob =
base64(JSON + newline + raw weight bytes). Either way the blob's sha256 is the content hash
engine cache keys start from, computed at compile time.
"""
from __future__ import annotations

import base64
import hashlib
import json
from typing import Any, Dict, List, Optional, Tuple

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
        outs = ir.tensor_types(call)
        self.nodes.append(
            {
                "op": call.op.name,
                "args": args,
                "attrs": ir.attrs_to_dict(call.attrs),
                "out": [_type_json(t) for t in outs],
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
        if isinstance(expr, tvm.ir.expr.Constant) or hasattr(expr, "value"):
            return {"value": ir.to_py(expr.value)}
        raise NotImplementedError(f"cannot serialise argument {type(expr).__name__}: {expr}")


def from_function(func: relax.Function, symbol: str, config: Dict[str, Any]) -> Tuple[Dict, Optional[List[np.ndarray]]]:
    """-> (spec, embedded weights); None for weights passed as arguments."""
    from .weights import COUNT_ATTR, DIGEST_ATTR

    num_args = int(func.attrs.get(COUNT_ATTR, 0)) if func.attrs is not None else 0
    num_inputs = len(func.params) - num_args
    builder = _SpecBuilder()
    refs = [{"input": i} for i in range(num_inputs)] + [{"weight": k} for k in range(num_args)]
    result = graph.walk(func, refs, builder)
    results = result["tuple"] if "tuple" in result else [result]
    if len(results) == 1 and "node" in results[0] and "item" not in results[0]:
        node = builder.nodes[results[0]["node"]]
        if node["tuple_out"]:  # the function returns a tuple-valued op (e.g. split) as it is
            results = [{"node": results[0]["node"], "item": k} for k in range(len(node["out"]))]
    ret_types = ir.tensor_types(func.body.body)
    spec = {
        "format": FORMAT,
        "symbol": symbol,
        "inputs": [dict(name=str(p.name), **_type_json(p.ty)) for p in func.params[:num_inputs]],
        "outputs": [_type_json(t) for t in ret_types],
        "nodes": builder.nodes,
        "results": results,
        "weights": [],
        "config": config,
    }
    if num_args:
        if builder.weights:
            raise ValueError(f"{symbol}: constants left inside a function whose weights are arguments")
        spec["weights"] = [_type_json(p.ty) for p in func.params[num_inputs:]]
        spec["weights_from"] = "arguments"
        spec["weights_digest"] = str(func.attrs[DIGEST_ATTR])
        return spec, None
    offset = 0
    for w in builder.weights:
        spec["weights"].append({"shape": list(w.shape), "dtype": str(w.dtype), "offset": offset})
        offset += w.nbytes
    return spec, builder.weights


def weights_in_arguments(spec: Dict) -> int:
    """How many trailing stub arguments (after the inputs) are weights."""
    return len(spec["weights"]) if spec.get("weights_from") == "arguments" else 0


def pack(spec: Dict, weights: Optional[List[np.ndarray]]) -> Tuple[str, str]:
    """-> (content hash hex, blob). The blob travels as a NUL-free C string: the JSON text when
    the weights are arguments, else base64 of JSON + newline + weight bytes."""
    if weights is None:
        text = json.dumps(spec, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest(), text
    raw = json.dumps(spec, sort_keys=True).encode() + b"\n" + b"".join(w.tobytes() for w in weights)
    return hashlib.sha256(raw).hexdigest(), base64.b64encode(raw).decode("ascii")


def unpack(blob: str) -> Tuple[Dict, Optional[List[np.ndarray]], str]:
    """-> (spec, embedded weights or None when they are arguments, content hash)."""
    if blob.startswith("{"):
        return json.loads(blob), None, hashlib.sha256(blob.encode()).hexdigest()
    raw = base64.b64decode(blob)
    head, _, data = raw.partition(b"\n")
    spec = json.loads(head)
    weights = []
    for w in spec["weights"]:
        dtype = np.dtype(w["dtype"])
        count = int(np.prod(w["shape"], dtype=np.int64))
        weights.append(np.frombuffer(data, dtype=dtype, count=count, offset=w["offset"]).reshape(w["shape"]))
    return spec, weights, hashlib.sha256(raw).hexdigest()
