"""Small helpers over TVM 0.27 Relax IR (types, attrs, constants) shared by partition and codegen."""

from __future__ import annotations

import collections
from typing import Any, Dict, List, Optional, Union

import numpy as np
import tvm
from tvm import relax
from tvm.ir.prim.expr import FloatImm, IntImm  # 0.27 keeps prim imms here

Dim = Union[int, str]  # static extent, or the name of a symbolic dim


def error_line(err: Exception) -> str:
    """The one line of an error worth showing: TVM's C++ errors put a stack first and the reason
    last; ours (and Python's) are one line."""
    lines = [ln.strip() for ln in str(err).splitlines() if ln.strip()]
    if not lines:
        return type(err).__name__
    return lines[-1] if lines[0].startswith("Traceback") else lines[0]


def is_constant(expr) -> bool:
    """A tensor constant (weights); IntImm/FloatImm are Constants too in 0.27 but hold scalars."""
    return isinstance(expr, tvm.ir.expr.Constant) and isinstance(getattr(expr, "value", None), tvm.runtime.Tensor)


def const_value(expr) -> np.ndarray:
    return expr.value.numpy()


def is_tensor(expr) -> bool:
    return isinstance(getattr(expr, "ty", None), relax.TensorType)


def dims(ty) -> Optional[List[Dim]]:
    """Shape of a TensorType as ints, with symbolic dims by name; None when the rank is unknown."""
    shape = getattr(ty, "shape", None)
    if isinstance(shape, relax.Var) and isinstance(shape.ty, relax.ShapeType) and shape.ty.values is not None:
        return [prim_to_py(v) for v in shape.ty.values]  # typed by a shape var whose dims are known
    if not isinstance(shape, relax.ShapeExpr):
        return None
    return [prim_to_py(v) for v in shape.values]


def ndim(ty) -> int:
    """Rank of a TensorType (-1 when unknown)."""
    return int(getattr(ty, "ndim", -1))


def prim_to_py(v) -> Any:
    if isinstance(v, IntImm):
        return int(v.value)
    if isinstance(v, FloatImm):
        return float(v.value)
    return str(v)


def tensor_types(expr) -> List[relax.TensorType]:
    """The TensorTypes of an expr's value: one for a tensor, several for a tuple."""
    return tensors_of(expr.ty)


def tensors_of(ty) -> List[relax.TensorType]:
    """The TensorTypes of a type: itself for a tensor, its tensor fields for a tuple."""
    if isinstance(ty, relax.TensorType):
        return [ty]
    if isinstance(ty, relax.TupleType):
        out = []
        for field in ty.fields:
            out += [field] if isinstance(field, relax.TensorType) else []
        return out
    return []


def to_py(value) -> Any:
    """Attr values -> JSON-able Python values."""
    if isinstance(value, str):
        return str(value)  # also tvm_ffi's String
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, dict) or type(value).__name__ == "Map":
        return {str(k): to_py(v) for k, v in value.items()}
    if isinstance(value, (IntImm, FloatImm)):
        return prim_to_py(value)
    if isinstance(value, (list, tuple)) or type(value).__name__ == "Array":
        return [to_py(v) for v in value]
    if isinstance(value, tvm.ir.StringImm):
        return str(value.value)
    return str(value)


def attrs_to_dict(attrs) -> Dict[str, Any]:
    if attrs is None:
        return {}
    out = {}
    for name in dir(attrs):
        if name.startswith("_") or name in ("id_", "handle"):
            continue
        value = getattr(attrs, name)
        if callable(value):
            continue
        out[name] = to_py(value)
    return out


# ---- match_cast through TVM's partitioning passes --------------------------------------------
# TVM 0.27's MergeCompositeFunctions rejects any match_cast binding ("Invalid type:
# relax.expr.MatchCast"); the ONNX importer emits them wherever a shape depends on data.
# While the passes run, each ``v = match_cast(x, T)`` is the plain alias binding ``v = x``
# (v keeps its type T; an alias is never matched by a pattern, so it stays in TVM), turned
# back into the match_cast afterwards. The pass also drops bindings whose vars are unused,
# blind to the symbolic dims a match_cast defines, so the function returns the cast vars too
# until they are restored.


@relax.expr_functor.mutator
class _Rename(relax.expr_functor.PyExprMutator):
    def __init__(self, remap):
        super().__init__()
        self.remap = remap

    def visit_dataflow_var_(self, var):
        return self.remap.get(var, var)


def _dead_casts(func: relax.Function) -> set:
    """match_cast bindings whose var and symbolic dims nothing uses (FoldConstant leaves some)."""
    bindings = [b for blk in func.body.blocks for b in blk.bindings]
    used = set(relax.analysis.used_vars(func.body))
    dims_of = lambda ty: {str(v) for v in relax.analysis.tir_vars_in_type(ty)}  # noqa: E731
    var_dims = [dims_of(b.var.ty) for b in bindings]  # once per binding: the test below is per cast
    count = collections.Counter(d for dims in var_dims for d in dims)
    returned = dims_of(func.ret_ty)
    dead = set()
    for b, own in zip(bindings, var_dims):
        if isinstance(b, relax.MatchCast) and b.var not in used:
            # a dim is used elsewhere when the return type or another binding's type holds it
            if not any(d in returned or count[d] - (d in own) > 0 for d in dims_of(b.ty)):
                dead.add(b)
    return dead


def hide_match_casts(mod: tvm.IRModule):
    """(mod without match_cast bindings, {function name: (return type, cast types)}) for
    ``restore_match_casts``."""
    hidden: Dict[str, tuple] = {}
    # a copy: the caller's module must keep its match_casts if a pass fails before they are restored
    mod = tvm.IRModule(dict(mod.functions), attrs=mod.attrs, global_infos=mod.global_infos)
    for gv, func in list(mod.functions.items()):
        if not isinstance(func, relax.Function) or not isinstance(func.body, relax.SeqExpr):
            continue
        if not any(isinstance(b, relax.MatchCast) for blk in func.body.blocks for b in blk.bindings):
            continue
        dead = _dead_casts(func)
        remap: Dict = {}  # match_cast dataflow vars -> plain vars (they leave their block)
        rename = _Rename(remap)
        casts = []
        blocks = []
        for block in func.body.blocks:
            bindings = []
            for b in block.bindings:
                value = rename.visit_expr(b.value) if remap else b.value
                if b in dead:
                    continue
                if not isinstance(b, relax.MatchCast):
                    bindings.append(relax.VarBinding(remap.get(b.var, b.var), value))
                    continue
                var = b.var
                if isinstance(var, relax.DataflowVar):
                    var = remap[b.var] = relax.Var(b.var.name, b.var.ty)
                if not isinstance(value, (relax.Var, tvm.ir.expr.Constant)):  # nested call: bind it first
                    tmp_type = relax.DataflowVar if isinstance(block, relax.DataflowBlock) else relax.Var
                    tmp = tmp_type(f"{var.name}_value", value.ty)
                    bindings.append(relax.VarBinding(tmp, value))
                    value = tmp
                bindings.append(relax.VarBinding(var, value))
                casts.append((var, b.ty))
            blocks.append(type(block)(bindings, block.span))
        result = rename.visit_expr(func.body.body) if remap else func.body.body
        body = relax.SeqExpr(blocks, relax.Tuple([result] + [v for v, _ in casts]))
        hidden[gv.name_hint] = (func.ret_ty, [t for _, t in casts])
        ret = relax.TupleType([func.ret_ty] + [v.ty for v, _ in casts])
        mod[gv] = relax.Function(func.params, body, ret, func.is_pure, func.attrs, func.span)
    return (relax.transform.Normalize()(mod) if hidden else mod), hidden


def restore_match_casts(mod: tvm.IRModule, hidden: Dict[str, tuple]) -> tvm.IRModule:
    for gv, func in list(mod.functions.items()):
        if gv.name_hint not in hidden:
            continue
        ret_ty, types = hidden[gv.name_hint]
        result = func.body.body
        if not isinstance(result, relax.Tuple) or len(result.fields) != 1 + len(types):
            raise RuntimeError(f"{gv.name_hint}: the match_cast bindings did not survive partitioning")
        casts = dict(zip(result.fields[1:], types))
        blocks = []
        for block in func.body.blocks:
            bindings = [relax.MatchCast(b.var, b.value, casts[b.var]) if b.var in casts else b for b in block.bindings]
            blocks.append(type(block)(bindings, block.span))
        body = relax.SeqExpr(blocks, result.fields[0])
        mod[gv] = relax.Function(func.params, body, ret_ty, func.is_pure, func.attrs, func.span)
    return mod
