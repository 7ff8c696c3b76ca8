"""Symbolic shapes at partition time: shape-typed parameters of offloaded functions, and the
profile ranges (``dynamic_shapes``, ``tir_var_upper_bound``) that travel in the config."""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Set, Tuple

import tvm
from tvm import relax

from . import ir, symbolic


def defined_vars(func: relax.Function) -> Set[str]:
    """Symbolic vars readable at run time: plain dims of the function's tensor parameters."""
    names = set()
    for p in func.params:
        for ty in ir.tensor_types(p):
            names.update(d for d in ir.dims(ty) or [] if symbolic.is_var(d))
    return names


def _shape_values(param) -> Optional[List[Any]]:
    ty = param.ty
    if not isinstance(ty, relax.ShapeType) or ty.values is None:
        return None
    return list(ty.values)


def free_vars(func: relax.Function) -> Set[str]:
    """Symbolic vars in the dims of a function's tensor params and result."""
    names = set()
    for expr in list(func.params) + [func.body.body]:
        for ty in ir.tensor_types(expr):
            for d in ir.dims(ty) or []:
                names |= symbolic.free_vars(d)
    return names


def inline_shape_params(func: relax.Function) -> Tuple[relax.Function, List[int], Optional[str]]:
    """Replace ``R.Shape`` parameters by the shape they hold (``R.shape([n, s * 8])``), written in
    the vars the tensor parameters define. TensorRT computes those shapes from the input tensors
    at run time, so the caller stops passing them.

    -> (function, indices of the dropped params, None) or (func, [], reason it cannot be offloaded).
    """
    defined = defined_vars(func)
    binding, dropped = {}, []
    for i, param in enumerate(func.params):
        if isinstance(param.ty, relax.TensorType):
            continue
        values = _shape_values(param)
        if values is None:
            return func, [], f"parameter {param.name_hint} of type {param.ty} (TensorRT takes tensors)"
        missing = set()
        for v in values:
            missing |= symbolic.free_vars(ir.prim_to_py(v)) - defined
        if missing:
            return func, [], (f"symbolic var {sorted(missing)[0]} is not a dim of any tensor input "
                              "(TensorRT reads symbolic dims from its inputs' shapes)")
        binding[param] = relax.ShapeExpr(values)
        dropped.append(i)
    missing = free_vars(func) - defined
    if missing:
        return func, [], f"symbolic var {sorted(missing)[0]} is not a dim of any tensor input"
    if not binding:
        return func, [], None
    return func.bind_params(binding), dropped, None


@relax.expr_functor.mutator
class _DropArgs(relax.expr_functor.PyExprMutator):
    def __init__(self, mod, dropped: Dict[str, Tuple[relax.GlobalVar, List[int]]]):
        super().__init__(mod)
        self.dropped = dropped

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint in self.dropped:
            gv, indices = self.dropped[call.op.name_hint]
            args = [a for i, a in enumerate(call.args) if i not in set(indices)]
            return relax.Call(gv, args, call.attrs, call.ty_args)
        return call


def drop_shape_params(mod: tvm.IRModule, offloaded: Dict[str, relax.Function]) -> Tuple[tvm.IRModule, Dict[str, str]]:
    """Inline shape params of every offloaded function; -> (mod, {function: reason}) for the
    functions that cannot run in TensorRT (the caller puts those back into TVM)."""
    dropped, rejected = {}, {}
    for name, func in offloaded.items():
        new, indices, reason = inline_shape_params(func)
        if reason:
            rejected[name] = reason
        elif indices:
            # a new GlobalVar: the old one's type still lists the dropped params
            del mod[name]
            builder = relax.BlockBuilder(mod)
            gv = builder.add_func(new, name)
            mod = builder.get()
            dropped[name] = (gv, indices)
    if dropped:
        for gv, func in list(mod.functions.items()):
            if isinstance(func, relax.Function) and gv.name_hint not in offloaded:
                mod[gv] = _DropArgs(mod, dropped).visit_expr(func)
    return mod, rejected


# ---- profile ranges in the config --------------------------------------------------------------


def check_ranges(dynamic_shapes: Optional[Dict[str, Any]]) -> Dict[str, List[int]]:
    """``{"n": (1, 8, 32)}`` -> ``{"n": [1, 8, 32]}``; ValueError naming a bad entry."""
    ranges = {}
    for name, value in (dynamic_shapes or {}).items():
        try:
            lo, opt, hi = (int(v) for v in value)
        except (TypeError, ValueError):
            raise ValueError(f"dynamic_shapes[{name!r}] must be (min, opt, max), got {value!r}") from None
        if not 0 <= lo <= opt <= hi:
            raise ValueError(f"dynamic_shapes[{name!r}] = {value!r}: need 0 <= min <= opt <= max")
        ranges[str(name)] = [lo, opt, hi]
    return ranges


def upper_bounds(func: relax.Function) -> Dict[str, int]:
    """The function's ``tir_var_upper_bound`` attribute as {var: bound}."""
    attr = func.attrs.get("tir_var_upper_bound") if func.attrs is not None else None
    return {str(k): int(ir.to_py(v)) for k, v in (attr or {}).items()}
