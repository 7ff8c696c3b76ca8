"""Symbolic shapes at partition time: shape-typed parameters of offloaded functions, and the
profile ranges (``dynamic_shapes``, ``tir_var_upper_bound``) that travel in the config."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Set, Tuple

import tvm
from tvm import relax

from ..core import graph, ir, dim_expr
from . import value_dims


def defined_vars(func: relax.Function) -> Set[str]:
    """Symbolic vars readable at run time: plain dims of the function's tensor parameters, and
    elements of the int64 tensors whose values bind them (partition.value_dims)."""
    names = set(value_dims.value_vars(func))
    for p in func.params:
        for ty in ir.tensor_types(p):
            names.update(d for d in ir.dims(ty) or [] if dim_expr.is_var(d))
    return names


def _shape_values(param) -> Optional[List[Any]]:
    ty = param.ty
    if not isinstance(ty, relax.ShapeType) or ty.values is None:
        return None
    return list(ty.values)


def function_dim_vars(func: relax.Function) -> Set[str]:
    """Symbolic vars in the dims of a function's tensor params and result."""
    names = set()
    for expr in list(func.params) + [func.body.body]:
        for ty in ir.tensor_types(expr):
            for d in ir.dims(ty) or []:
                if dim_expr.try_parse(d) is None:  # dims we cannot read keep their ops in TVM
                    names |= dim_expr.vars_of(d)
    return names


def inline_shape_params(func: relax.Function) -> Tuple[relax.Function, List[int], Optional[str]]:
    """Replace ``R.Shape`` parameters by the shape they hold (``R.shape([n, s * 8])``), written in
    the vars the tensor parameters define. TensorRT computes those shapes from the input tensors
    at run time, so the caller stops passing them.

    -> (function, indices of the dropped params, None) or (func, [], reason it cannot be offloaded).
    """
    try:
        return _inline_shape_params(func)
    except dim_expr.UnsupportedDim as err:
        return func, [], str(err)


def _inline_shape_params(func: relax.Function) -> Tuple[relax.Function, List[int], Optional[str]]:
    defined = defined_vars(func)
    binding, dropped = {}, []
    for i, param in enumerate(func.params):
        if isinstance(param.ty, relax.TensorType):
            continue
        values = _shape_values(param)
        if values is None:
            return func, [], f"parameter {param.name} of type {param.ty} (TensorRT takes tensors)"
        if any(str(v) in value_dims.value_vars(func) for v in values):
            continue  # dims bound from tensor values: the param keeps them in the caller's type
        missing = set()
        for v in values:
            missing |= dim_expr.vars_of(ir.prim_to_py(v)) - defined
        if missing:
            return (
                func,
                [],
                (
                    f"symbolic var {sorted(missing)[0]} is not a dim of any tensor input "
                    "(TensorRT reads symbolic dims from its inputs' shapes)"
                ),
            )
        binding[param] = relax.ShapeExpr(values)
        dropped.append(i)
    missing = function_dim_vars(func) - defined
    if missing:
        return func, [], f"symbolic var {sorted(missing)[0]} is not a dim of any tensor input"
    if not binding and not defined:
        return func, [], None
    # re-emitted also without shape params: composites carry copies of the symbolic vars, which
    # TVM's own compile of the subgraph (the fallback) cannot resolve
    return _flatten(func, binding), dropped, None


def _flatten(func: relax.Function, shapes: Dict[relax.Var, relax.ShapeExpr]) -> relax.Function:
    """The function without its shape params, its op calls re-emitted with those shapes as
    values: types derived from a shape param (reshape, broadcast_to, resize2d targets) are
    inferred again, so the result's shape is known to the caller."""
    builder = relax.BlockBuilder()
    params = [relax.Var(str(p.name), p.ty) for p in func.params if p not in shapes]
    args = iter(params)
    values = [shapes[p] if p in shapes else next(args) for p in func.params]
    # shape params kept (dims bound from tensor values) are used as their dims: TVM's own lowering
    # (the fallback twin) takes a ShapeExpr target, not a shape variable
    values = [relax.ShapeExpr(_shape_values(v)) if _shape_values(v) is not None else v for v in values]
    dims = {}
    for ty in [t for p in params for t in ir.tensor_types(p)]:
        for d in getattr(ty.shape, "values", None) or []:
            if not isinstance(d, tvm.ir.prim.expr.IntImm) and dim_expr.is_var(ir.prim_to_py(d)):
                dims.setdefault(str(d), d)
    for p in params:  # shape params kept for dims bound from tensor values
        for d in _shape_values(p) or []:
            if not isinstance(d, tvm.ir.prim.expr.IntImm) and dim_expr.is_var(ir.prim_to_py(d)):
                dims.setdefault(str(d), d)
    with builder.function("f", params, pure=True):
        with builder.dataflow():
            out = graph.walk(func, values, graph.Emitter(builder, dims))
            out = builder.emit_output(out)
        builder.emit_func_output(out)
    new = builder.get()["f"]
    for key, value in func.attrs.items():
        new = new.with_attr(key, value)
    return new


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
        elif new is not func:
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


def upper_bounds(func: relax.Function) -> Dict[str, int]:
    """The function's ``tir_var_upper_bound`` attribute as {var: bound}."""
    attr = func.attrs.get("tir_var_upper_bound") if func.attrs is not None else None
    return {str(k): int(ir.to_py(v)) for k, v in (attr or {}).items()}


# ---- calls with symbolic dims inside tuple arguments -------------------------------------------
# TVM 0.27's MergeCompositeFunctions crashes ("Could not find memo-ized group") on a call left in
# TVM whose tuple argument holds a symbolic dim (strided_slice(x, (1,), (0,), (seq,)) of an int64
# constant). While subgraphs merge, such calls are stood in for by calls of placeholder functions
# (over the same tensors plus R.shape([seq]); a Codegen attribute keeps the pass out of them);
# the original calls are put back afterwards.

PLACEHOLDER = "tvm_trt_symbolic_call_"


def _is_dim(field) -> bool:
    return isinstance(getattr(field, "ty", None), tvm.ir.PrimType) and not isinstance(field, tvm.ir.prim.expr.IntImm)


def _bare_dims(arg) -> bool:
    return isinstance(arg, relax.Tuple) and any(_is_dim(f) for f in arg.fields)


@relax.expr_functor.mutator
class _Hide(relax.expr_functor.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.hidden: Dict[str, Tuple[relax.Call, List[relax.Expr]]] = {}
        self.functions: Dict[relax.GlobalVar, relax.Function] = {}

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if not isinstance(call.op, tvm.ir.Op) or not any(_bare_dims(a) for a in call.args):
            return call
        tensors = [a for a in call.args if isinstance(a, relax.Var) and not _is_dim(a)]
        dims = [f for a in call.args if _bare_dims(a) for f in a.fields if _is_dim(f)]
        params = [relax.Var(f"arg{i}", a.ty) for i, a in enumerate(tensors)]
        params.append(relax.Var("dims", relax.ShapeType(dims)))
        body = relax.Call(
            call.op, [params[tensors.index(a)] if a in tensors else a for a in call.args], call.attrs, call.ty_args
        )
        func = relax.Function(params, body, call.ty, True).with_attr("Codegen", "tvm_trt.placeholder")
        name = f"{PLACEHOLDER}{len(self.hidden)}"
        gv = relax.BlockBuilder().add_func(func, name)  # a GlobalVar typed by the function
        self.hidden[name] = (call, tensors)
        self.functions[gv] = func
        return relax.Call(gv, tensors + [relax.ShapeExpr(dims)])


def hide_symbolic_calls(mod: tvm.IRModule):
    hider = _Hide(mod)
    main = hider.visit_expr(mod["main"])
    if hider.hidden:
        mod = tvm.IRModule(dict(mod.functions), attrs=mod.attrs)
        for gv, func in hider.functions.items():
            mod[gv] = func
        mod[mod.get_global_var("main")] = main
    return mod, hider.hidden


@relax.expr_functor.mutator
class _Restore(relax.expr_functor.PyExprMutator):
    def __init__(self, mod, hidden):
        super().__init__(mod)
        self.hidden = hidden

    def visit_extern_func_(self, op):
        return op

    def visit_call_(self, call):
        call = super().visit_call_(call)
        name = _placeholder_key(call.op.name_hint) if isinstance(call.op, relax.GlobalVar) else None
        if name in self.hidden:
            original, tensors = self.hidden[name]
            actual = dict(zip(tensors, call.args[: len(tensors)]))
            args = [actual.get(a, a) if isinstance(a, relax.Var) else a for a in original.args]
            return relax.Call(original.op, args, original.attrs, original.ty_args)
        return call


def restore_symbolic_calls(mod: tvm.IRModule, hidden) -> tvm.IRModule:
    if hidden:
        for gv, func in list(mod.functions.items()):
            if isinstance(func, relax.Function) and _placeholder_key(gv.name_hint) is None:
                mod[gv] = _Restore(mod, hidden).visit_expr(func)
        for gv in list(mod.get_global_vars()):
            if _placeholder_key(gv.name_hint) is not None:
                del mod[gv]
    return mod


def _placeholder_key(name: str) -> Optional[str]:
    """The hidden call's key from its function's name (the pass may append the codegen name)."""
    match = re.match(rf"({PLACEHOLDER}\d+)", name)
    return match.group(1) if match else None
