"""Symbolic vars bound from the *values* of an int64 tensor (``match_cast(tensor_to_shape(t),
R.Shape([x_0, x_1]))``: ONNX Expand, ConstantOfShape), offloaded.

The VM knows such vars before an offloaded call (main binds them), so the call's result can be
typed with them; TensorRT must compute the same dims itself: the tensor ``t`` becomes an input of
the subgraph, a shape input whose element k is var k (``network.builder`` reads it with a
slice), and the subgraph keeps its ``R.Shape`` parameter so the caller's type keeps the dims.
"""

from __future__ import annotations

import json
from typing import Dict, List, Tuple

import tvm
from tvm import relax
from tvm import tirx as tir

from ..core import ir

VALUE_DIMS_ATTR = "tvm_trt.value_dims"  # {var: [param name, element]} of an offloaded function
REASON = "turns the values of {t} into the dims a TensorRT subgraph's destination is allocated with (TVM binds them)"
_PREFIX = "tvm_trt_vdim"


def _to_shape_arg(value):
    """``t`` of ``tensor_to_shape(t)`` or of TVM's ``vm.builtin.tensor_to_shape`` packed call."""
    if not isinstance(value, relax.Call):
        return None
    if isinstance(value.op, tvm.ir.Op) and value.op.name == "relax.tensor_to_shape":
        return value.args[0]
    if isinstance(value.op, relax.ExternFunc) and str(value.op.global_symbol) == "vm.builtin.tensor_to_shape":
        return value.args[0]
    return None


@relax.expr_functor.mutator
class _Bind(relax.expr_functor.PyExprMutator):
    """Shapes from tensor values typed by rank only get fresh vars (a match_cast), so what
    they shape is typed with them."""

    def __init__(self, mod, cast):
        super().__init__(mod)
        self.count = 0
        self.cast = cast  # shape vars main already match_casts: TVM's importer bound their dims
        self.shapes = {}

    def visit_var_binding_(self, binding):
        given = binding.value
        if isinstance(given, relax.Call) and any(isinstance(x, relax.Var) and x in self.shapes for x in given.args):
            # uses see the dims themselves: a tensor typed by a shape *var* trips TVM's passes
            args = [self.shapes.get(x, x) if isinstance(x, relax.Var) else x for x in given.args]
            given = relax.Call(given.op, args, given.attrs, given.ty_args)
        value = self.visit_expr(given)
        ty = binding.var.ty
        if (
            _to_shape_arg(value) is None
            or binding.var in self.cast
            or not isinstance(ty, relax.ShapeType)
            or ty.values is not None
            or ty.ndim < 0
        ):
            if given.same_as(binding.value):
                return super().visit_var_binding_(binding)
            self.set_var_remap(binding.var, self.builder_.emit(value, str(binding.var.name)))
            return None
        shape = self.builder_.emit(value, str(binding.var.name))
        self.set_var_remap(binding.var, shape)
        k, self.count = self.count, self.count + 1
        dims = [tir.Var(f"{_PREFIX}{k}_{i}", "int64") for i in range(ty.ndim)]
        self.builder_.match_cast(shape, relax.ShapeType(dims), f"{_PREFIX}{k}")
        self.shapes[binding.var] = relax.ShapeExpr(dims)
        return None


def bind_shapes(mod: tvm.IRModule) -> tvm.IRModule:
    main_gv = next((gv for gv in mod.get_global_vars() if gv.name_hint == "main"), None)
    if main_gv is None:
        return mod
    calls = [b.value for blk in mod[main_gv].body.blocks for b in blk.bindings]
    if not any(_to_shape_arg(c) is not None for c in calls):
        return mod
    cast = {b.value for blk in mod[main_gv].body.blocks for b in blk.bindings if isinstance(b, relax.MatchCast)}
    binder = _Bind(mod, cast)
    main = binder.visit_expr(mod[main_gv])
    new = binder.builder_.get()
    new[main_gv] = main
    return new


def value_bound(main: relax.Function) -> Dict[str, Tuple[relax.Var, int, relax.Var]]:
    """{var name: (int64 tensor whose values bind it, element, the tensor_to_shape binding's var)}."""
    bound = {b.var: b.value for blk in main.body.blocks for b in blk.bindings}
    out = {}
    for blk in main.body.blocks:
        for b in blk.bindings:
            if not isinstance(b, relax.MatchCast) or not isinstance(b.ty, relax.ShapeType) or b.ty.values is None:
                continue
            source = bound.get(b.value) if isinstance(b.value, relax.Var) else None
            t = _to_shape_arg(source)
            if not isinstance(t, relax.Var) or not ir.is_tensor(t) or str(t.ty.dtype) != "int64":
                continue
            if not (len(ir.dims(t.ty) or []) == 1 and isinstance(ir.dims(t.ty)[0], int)):
                continue  # a shape input has a static length
            for k, d in enumerate(b.ty.values):
                if isinstance(d, tir.Var):
                    out.setdefault(str(d), (t, k, b.value))
    return out


def add_value_params(mod: tvm.IRModule, offloaded: Dict[str, relax.Function], needed) -> Tuple[tvm.IRModule, Dict]:
    """Offloaded functions using vars main binds from tensor values (``needed(func)``: the vars it
    cannot read from its tensor inputs) take those tensors as inputs too.
    -> (mod, {name of main's tensor_to_shape bindings involved: reason})."""
    main = mod["main"]
    bound = value_bound(main)
    if not bound:
        return mod, {}
    boundary, new_gvs = {}, {}
    for name, func in offloaded.items():
        missing = needed(func)
        if not missing or not missing <= set(bound):
            continue
        tensors: List[relax.Var] = []
        where = {}
        for var in sorted(missing):
            t, k, to_shape = bound[var]
            if not any(t.same_as(x) for x in tensors):
                tensors.append(t)
            where[var] = [f"{t.name}_values", k]
            boundary[str(to_shape.name)] = REASON.format(t=t.name)
        params = list(func.params) + [relax.Var(f"{t.name}_values", t.ty) for t in tensors]
        new = relax.Function(params, func.body, func.ret_ty, func.is_pure, func.attrs)
        new = new.with_attr(VALUE_DIMS_ATTR, json.dumps(where, sort_keys=True))
        del mod[name]
        builder = relax.BlockBuilder(mod)
        new_gvs[name] = (builder.add_func(new, name), tensors)
        mod = builder.get()
    if new_gvs:
        mod["main"] = AppendArgs(mod, new_gvs).visit_expr(mod["main"])
    return mod, boundary


@relax.expr_functor.mutator
class AppendArgs(relax.expr_functor.PyExprMutator):
    """Calls of the named functions go to their new version with arguments appended:
    ``functions``: {name: (new GlobalVar, [args to append])}."""

    def __init__(self, mod, functions):
        super().__init__(mod)
        self.functions = functions

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint in self.functions:
            gv, extra = self.functions[call.op.name_hint]
            return relax.Call(gv, list(call.args) + list(extra), call.attrs, call.ty_args)
        return call


def value_vars(func: relax.Function) -> Dict[str, list]:
    """The function's vars bound from tensor values: {var: [param name, element]}."""
    attr = func.attrs.get(VALUE_DIMS_ATTR) if func.attrs is not None else None
    return json.loads(str(attr)) if attr is not None else {}


def declare_results(mod: tvm.IRModule, offloaded: Dict[str, relax.Function]) -> tvm.IRModule:
    """Functions with dims bound from tensor values, their results typed by a shape *variable*
    (``R.Tensor(shape)``): declared with the dims themselves, which the caller's type keeps."""
    for name, func in offloaded.items():
        ty = func.body.body.ty
        if not value_vars(func) or not isinstance(ty, relax.TensorType) or isinstance(ty.shape, relax.ShapeExpr):
            continue
        dims = ir.dims(ty)
        if dims is None:
            continue
        values = ty.shape.ty.values
        new = relax.Function(func.params, func.body, relax.TensorType(values, ty.dtype), func.is_pure, func.attrs)
        del mod[name]
        builder = relax.BlockBuilder(mod)
        gv = builder.add_func(new, name)
        mod = builder.get()
        mod["main"] = _Retarget(mod, name, gv).visit_expr(mod["main"])
    return mod


@relax.expr_functor.mutator
class _Retarget(relax.expr_functor.PyExprMutator):
    def __init__(self, mod, name, gv):
        super().__init__(mod)
        self.name, self.gv = name, gv

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint == self.name:
            return relax.Call(self.gv, call.args, call.attrs, call.ty_args)
        return call
