"""Offloaded Relax function -> serialisable subgraph spec (JSON) + its weights.

A spec lists the subgraph's inputs, its op nodes in order (Relax op name, attrs, argument
references, output types) and its weights. References: {"input": i}, {"weight": k},
{"node": j} / {"node": j, "item": k} (tuple outputs), {"tuple": [...]}, {"shape": [...]},
{"value": v}. Weights are named by shape, dtype and byte offset in the subgraph's region of
the library's weights object (``codegen.weights_writer``), plus the digest of their bytes. The blob
the stub carries is the spec's JSON text; its sha256 is the content hash engine cache keys
start from (it covers the weights through their digest), computed at compile time.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np
import tvm
from tvm import relax

from ..core import graph, ir
from ..core.call_checks import VALUE_SHAPED
from ..partition.value_dims import value_vars as value_dims_of
from ..core.spec_format import FORMAT, content_hash, pack, unpack, weight_views, weights_id  # noqa: F401  (re-exported)
from . import weights_writer


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
                out["shape"] = next(
                    (
                        a["shape"]
                        for a in args
                        if isinstance(a, dict) and "shape" in a and len(a["shape"]) == ir.ndim(call.ty)
                    ),
                    None,
                )
        self.nodes.append(
            {
                "op": call.op.name,
                "args": args,
                "attrs": ir.attrs_to_dict(call.attrs),
                "out": outs,
                "tuple_out": isinstance(call.ty, relax.TupleType),
                # the Relax binding it computes: TensorRT layers "<node>:<op>:<k>" map back through it
                "var": getattr(self, "binding", None),
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
                # a view of the constant (no copy); np.require, not ascontiguousarray (0-d stays 0-d)
                self.weights.append(np.require(weights_writer.as_array(expr), requirements="C"))
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


def _param_refs(func: relax.Function) -> Tuple[List[Dict[str, Any]], List[int]]:
    """A reference per parameter and the positions of tensor inputs. Target shapes with a
    symbolic dim (a reshape under a dynamic batch) arrive as shape-valued parameters; converters
    read shapes from the output types, so such a parameter is recorded by its dims only."""
    refs, tensors = [], []
    for i, p in enumerate(func.params):
        if isinstance(p.ty, relax.ShapeType) and p.ty.values is not None:
            refs.append({"shape": [ir.prim_to_py(v) for v in p.ty.values]})
        else:
            refs.append({"input": len(tensors)})
            tensors.append(i)
    return refs, tensors


def _mark_value_inputs(spec: Dict[str, Any]) -> None:
    """Inputs read as values that shape a result (a dynamic slice's bounds) are TensorRT shape
    inputs, whose values its optimization profile fixes: marked ``"values": true``."""
    for node in spec["nodes"]:
        if node["op"] in VALUE_SHAPED:
            for ref in node["args"][1:]:
                if isinstance(ref, dict) and "input" in ref:
                    spec["inputs"][ref["input"]]["values"] = True


def from_function(func: relax.Function, symbol: str, config: Dict[str, Any]) -> Tuple[Dict, List[np.ndarray]]:
    """-> (spec, weights as NumPy views of the function's constants)."""
    builder = _SpecBuilder()
    refs, tensor_params = _param_refs(func)
    result = graph.walk(func, refs, builder)
    results = result["tuple"] if "tuple" in result else [result]
    if len(results) == 1 and "node" in results[0] and "item" not in results[0]:
        node = builder.nodes[results[0]["node"]]
        if node["tuple_out"]:  # the function returns a tuple-valued op (e.g. split) as it is
            results = [{"node": results[0]["node"], "item": k} for k in range(len(node["out"]))]
    ret_types = ir.tensor_types(func.body.body)
    if any(ir.dims(t) is None for t in ret_types):  # dims the caller computed (partition.value_shapes)
        ret_types = ir.tensors_of(func.ret_ty)
    digest = func.attrs.get(weights_writer.DIGEST_ATTR) if func.attrs is not None else None
    offsets, size = weights_writer.layout(builder.weights)
    spec = {
        "format": FORMAT,
        "symbol": symbol,
        "inputs": [dict(name=str(func.params[i].name), **_type_json(func.params[i].ty)) for i in tensor_params],
        # call arguments that are not tensors (shape values), dropped by the runtime
        "skip_args": [i for i in range(len(func.params)) if i not in tensor_params],
        "outputs": [_type_json(t) for t in ret_types],
        "nodes": builder.nodes,
        "results": results,
        "weights": [
            {"shape": list(w.shape), "dtype": str(w.dtype), "offset": off} for w, off in zip(builder.weights, offsets)
        ],
        "weights_bytes": size,
        "weights_digest": str(digest) if digest is not None else weights_writer.digest(builder.weights),
        "config": config,
    }
    _mark_value_inputs(spec)
    for var, (param, element) in value_dims_of(func).items():  # dims TensorRT reads from input values
        inp = next(i for i in spec["inputs"] if i["name"] == param)
        inp["values"] = True
        inp.setdefault("value_dims", [None] * inp["shape"][0])[element] = var
    return spec, builder.weights
