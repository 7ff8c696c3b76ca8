"""Symbolic vars whose values are known at compile time, bound to those values before partitioning.

TVM's ONNX importer turns shapes computed inside the graph (Expand / Reshape / Tile targets from
``Shape -> Gather -> Concat`` chains, RoPE and grouped-query attention in decoder-only models)
into ``match_cast(tensor_to_shape(t), R.Shape([x_0, x_1, ...]))``: fresh symbolic vars, even
where every model input is static and ``t`` folds to a constant. Those vars are not dims of any
tensor a TensorRT subgraph receives, so every subgraph touching them would stay in TVM (and
TVM's own VMShapeLower may fail on them after partitioning). Here, repeatedly: constant shape
tensors become shape values, each match_cast whose value has a known shape binds the vars of
its pattern, and FoldConstant propagates the result, until no var is left to bind. Vars that
depend on run-time data (a dynamic input dim, NonZero) are left alone.
"""

from __future__ import annotations

import logging
from typing import Dict, Optional

import tvm
from tvm import relax

from ..core import ir

log = logging.getLogger(__name__)

TENSOR_TO_SHAPE = "vm.builtin.tensor_to_shape"
MAX_ROUNDS = 16  # each round resolves at least one chain of shape computations; models need 1-3


def _packed_name(call: relax.Call) -> Optional[str]:
    """The packed function a call_packed / call_pure_packed calls, else None."""
    if isinstance(call.op, relax.ExternFunc):
        return str(call.op.global_symbol)
    if isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.call_pure_packed" and call.args:
        head = call.args[0]
        if isinstance(head, relax.ExternFunc):
            return str(head.global_symbol)
    return None


@relax.expr_functor.mutator
class _ConstantShapes(relax.expr_functor.PyExprMutator):
    """``tensor_to_shape(<int constant>)`` -> ``R.shape([...])``."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if _packed_name(call) != TENSOR_TO_SHAPE:
            return call
        tensors = [a for a in call.args if not isinstance(a, relax.ExternFunc)]
        value = tensors[0] if len(tensors) == 1 else None
        if isinstance(value, relax.Var):
            value = self.lookup_binding(value)
        if not (ir.is_constant(value) and ir.const_value(value).ndim == 1 and ir.const_value(value).dtype.kind in "iu"):
            return call
        return relax.ShapeExpr([int(v) for v in ir.const_value(value)])


def _known_values(ty) -> Optional[list]:
    """The values of a shape/tensor type as TIR exprs, when all are known integers."""
    values = getattr(ty, "values", None) if isinstance(ty, relax.ShapeType) else None
    if isinstance(ty, relax.TensorType) and isinstance(ty.shape, relax.ShapeExpr):
        values = list(ty.shape.values)
    if values is None or not all(isinstance(v, tvm.ir.prim.expr.IntImm) for v in values):
        return None
    return list(values)


def _pattern_values(ty) -> Optional[list]:
    if isinstance(ty, relax.ShapeType):
        return None if ty.values is None else list(ty.values)
    if isinstance(ty, relax.TensorType) and isinstance(ty.shape, relax.ShapeExpr):
        return list(ty.shape.values)
    return None


def _match_casts(func: relax.Function):
    body = func.body
    if not isinstance(body, relax.SeqExpr):
        return []
    return [b for block in body.blocks for b in block.bindings if isinstance(b, relax.MatchCast)]


def _bindings(func: relax.Function) -> Dict[tvm.tirx.Var, tvm.ir.PrimExpr]:
    """{symbolic var: its value} for each match_cast whose value's shape is known."""
    found: Dict[tvm.tirx.Var, tvm.ir.PrimExpr] = {}
    for cast in _match_casts(func):
        known, pattern = _known_values(cast.value.ty), _pattern_values(cast.ty)
        if known is not None and pattern is not None and len(known) == len(pattern):
            for dim, value in zip(pattern, known):
                if isinstance(dim, tvm.tirx.Var):
                    found.setdefault(dim, value)
    return found


def bind_known_dims(mod: tvm.IRModule) -> tvm.IRModule:
    """``mod`` with every symbolic var of its Relax functions that compile-time values determine
    bound to its value (and the shape computations that produced it folded away)."""
    if not any(_match_casts(f) for f in mod.functions.values() if isinstance(f, relax.Function)):
        return mod  # nothing defines a var inside a function (most models): no folding round
    try:
        return _bind(mod)
    except Exception as err:  # TVM raises InternalError/ValueError...: partition the module as given
        log.warning(
            "binding symbolic vars with known values failed, keeping them: %s: %s",
            type(err).__name__,
            ir.error_line(err),
        )
        return mod


def _bind(mod: tvm.IRModule) -> tvm.IRModule:
    simplify = tvm.transform.Sequential([relax.transform.FoldConstant(), relax.transform.CanonicalizeBindings()])
    for _ in range(MAX_ROUNDS):
        changed = False
        for gv, func in list(mod.functions.items()):
            if not isinstance(func, relax.Function) or (func.attrs is not None and func.attrs.get("Codegen")):
                continue
            func = _ConstantShapes(mod).visit_expr(func)
            values = _bindings(func)
            if values:
                func = func.bind_symbolic_vars(values)
                changed = True
            mod[gv] = func
        mod = simplify(mod)
        if not changed:
            break
    return mod
