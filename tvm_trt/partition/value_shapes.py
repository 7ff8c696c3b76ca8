"""Ops whose output shape is computed from input *values* (``dynamic_strided_slice``: begin/end/
strides are int64 tensors), offloaded with their output shape known to the caller.

An offloaded call is destination-passing: the VM allocates its output before the call, so the
output dims must be known there. TVM gets them for these ops as LegalizeOps does: a shape kernel,
``tensor_to_shape``, a ``match_cast`` binding fresh symbolic vars. Before partitioning,
``prepare`` emits that prologue in front of each such op and casts the op's result to those vars;
the prologue and everything computing the op's value inputs stay in TVM (the VM needs their
values before the call; inside TensorRT they would have to be shape tensors). After merging,
``bind_outputs`` gives each offloaded function whose result is cast so an ``R.Shape`` parameter
holding the vars, and declares its result with them: the caller allocates the output, TensorRT
computes the same shape from the value inputs (its shape inputs), and the runtime compares.
"""

from __future__ import annotations

from typing import Dict, List, Set, Tuple

import tvm
from tvm import relax, te
from tvm import tirx as tir

from ..core import ir
from ..core.call_checks import VALUE_SHAPED

PROLOGUE_REASON = "computes the output shape of {op} ({var}) in TVM: the VM allocates it before the TensorRT call"
_VAR_PREFIX = "tvm_trt_vshape"


def _slice_shape(data, begin, end, strides):
    """TVM's own output shape of dynamic_strided_slice (its LegalizeOps shape function)."""

    def _compute(i):
        def canonical(index, extent, stride):
            low = tir.Select(stride < 0, tir.const(-1, "int64"), tir.const(0, "int64"))
            high = tir.Select(stride < 0, extent - 1, extent)
            index = tir.Select(index < 0, index + extent, index)
            return tir.Min(tir.Max(index, low), high)

        extent = tir.const(-1, "int64")
        for axis in range(data.ndim):
            extent = tir.Select(i == tir.const(axis, "int64"), data.shape[axis], extent)
        b, e, s = canonical(begin[i], extent, strides[i]), canonical(end[i], extent, strides[i]), strides[i]
        return tir.Select(s < 0, tir.ceildiv(b - e, -s), tir.ceildiv(e - b, s))

    return te.compute((begin.shape[0],), _compute, name="tvm_trt_slice_shape")


def _needs_prologue(call) -> bool:
    if not isinstance(call, relax.Call) or not isinstance(call.op, tvm.ir.Op) or call.op.name not in VALUE_SHAPED:
        return False
    data, values = call.args[0], call.args[1:]
    return (
        ir.dims(call.ty) is None
        and ir.dims(data.ty) is not None
        and all(ir.is_tensor(v) and ir.dims(v.ty) == [len(ir.dims(data.ty))] for v in values)
        and all(str(v.ty.dtype) == "int64" for v in values)
    )


@relax.expr_functor.mutator
class _Prepare(relax.expr_functor.PyExprMutator):
    def __init__(self, mod):
        super().__init__(mod)
        self.count = 0
        self.roots: List[Tuple[relax.Var, List[relax.Expr]]] = []  # (op's var, its value inputs)

    def visit_var_binding_(self, binding):
        value = self.visit_expr(binding.value)
        if not _needs_prologue(value):
            return super().visit_var_binding_(binding)
        k, self.count = self.count, self.count + 1
        shape_tensor = self.builder_.emit(self.builder_.call_te(_slice_shape, *value.args), f"{_VAR_PREFIX}{k}_t")
        shape = self.builder_.emit(relax.op.tensor_to_shape(shape_tensor), f"{_VAR_PREFIX}{k}_s")
        rank = ir.ndim(value.ty)
        dims = [tir.Var(f"{_VAR_PREFIX}{k}_{a}", "int64") for a in range(rank)]
        self.builder_.match_cast(shape, relax.ShapeType(dims), f"{_VAR_PREFIX}{k}_dims")
        result = self.builder_.emit(value, f"{binding.var.name}_dyn")
        cast = self.builder_.match_cast(result, relax.TensorType(dims, value.ty.dtype), str(binding.var.name))
        self.set_var_remap(binding.var, cast)
        self.roots.append((shape_tensor, list(value.args[1:])))


def prepare(mod: tvm.IRModule) -> Tuple[tvm.IRModule, Set[str]]:
    """-> (mod with a shape prologue before each value-shaped op of main, {var name: reason} of
    the bindings that must stay in TVM: the prologues and what computes the ops' value inputs)."""
    main_gv = next((gv for gv in mod.get_global_vars() if gv.name_hint == "main"), None)
    if main_gv is None or not any(_needs_prologue(c) for c in _calls(mod[main_gv])):
        return mod, {}
    prep = _Prepare(mod)
    main = prep.visit_expr(mod[main_gv])
    new = prep.builder_.get()
    new[main_gv] = main
    return new, _kept(new[main_gv])


def _calls(func) -> List[relax.Call]:
    return [b.value for blk in func.body.blocks for b in blk.bindings if isinstance(b.value, relax.Call)]


def _kept(main: relax.Function) -> Dict[str, str]:
    """Names of the prologue bindings and of the bindings their value inputs come from."""
    bindings = {b.var: b for blk in main.body.blocks for b in blk.bindings}
    kept: Dict[str, str] = {}
    for blk in main.body.blocks:
        for b in blk.bindings:
            if (
                isinstance(b.var, relax.Var)
                and str(b.var.name).startswith(_VAR_PREFIX)
                and str(b.var.name).endswith("_t")
            ):
                reason = PROLOGUE_REASON.format(op="dynamic_strided_slice", var=str(b.var.name)[: -len("_t")])
                todo = [b.var]
                while todo:
                    var = todo.pop()
                    if str(var.name) in kept or var not in bindings:
                        continue
                    kept[str(var.name)] = reason
                    value = bindings[var].value
                    args = value.args if isinstance(value, relax.Call) else []
                    for arg in args:
                        for leaf in arg.fields if isinstance(arg, relax.Tuple) else [arg]:
                            if isinstance(leaf, relax.Var) and leaf in bindings:
                                # the sliced data itself is TensorRT's input, not shape work
                                if not _is_data_of_root(leaf, value):
                                    todo.append(leaf)
                # the prologue's tensor_to_shape / match_cast follow the kernel
                kept[str(b.var.name)[: -len("_t")] + "_s"] = reason
    return kept


def _is_data_of_root(var, value) -> bool:
    """The first argument of the shape kernel (the sliced tensor): only its shape is read."""
    if isinstance(value, relax.Call) and str(value.op) == "relax.call_tir":
        args = value.args[1]
        return isinstance(args, relax.Tuple) and len(args.fields) and args.fields[0].same_as(var)
    return False


# ---- after merging ------------------------------------------------------------------------------


def bind_outputs(mod: tvm.IRModule, offloaded: Dict[str, relax.Function]) -> Tuple[tvm.IRModule, Dict[str, str]]:
    """Offloaded functions returning a tensor of unknown dims that main casts to the vars of a
    prologue: an ``R.Shape`` parameter with those vars, and the result declared with them.
    -> (mod, {function: reason} for those whose result dims stay unknown to the caller)."""
    rejected: Dict[str, str] = {}
    todo = {n: f for n, f in offloaded.items() if any(ir.dims(t) is None for t in ir.tensor_types(f.body.body))}
    if not todo:
        return mod, rejected
    main = mod["main"]
    bound = {b.var: b.value for blk in main.body.blocks for b in blk.bindings}
    targets: Dict[str, List] = {}  # offloaded function -> the types main casts its calls' results to
    for blk in main.body.blocks:
        for b in blk.bindings:
            value = b.value
            if isinstance(b, relax.MatchCast):
                call = bound.get(value) if isinstance(value, relax.Var) else value
                if isinstance(call, relax.Call) and isinstance(call.op, relax.GlobalVar) and call.op.name_hint in todo:
                    targets.setdefault(call.op.name_hint, []).append(b.ty)
            elif isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar) and value.op.name_hint in todo:
                if not any(isinstance(c, relax.MatchCast) and c.value.same_as(b.var) for c in blk.bindings):
                    targets.setdefault(value.op.name_hint, []).append(None)
    new_gvs = {}
    for name, func in todo.items():
        found = targets.get(name, [None])
        target = found[0] if len({str(t) for t in found}) == 1 else None
        if not isinstance(target, relax.TensorType) or not isinstance(func.body.body.ty, relax.TensorType):
            rejected[name] = (
                "its output shape depends on input values and the caller does not know it before the call "
                "(TensorRT needs a destination of known shape)"
            )
            continue
        dims = list(target.shape.values)
        shape_param = relax.Var("output_shape", relax.ShapeType(dims))
        new = relax.Function(
            list(func.params) + [shape_param], func.body, relax.TensorType(dims, target.dtype), func.is_pure, func.attrs
        )
        del mod[name]
        builder = relax.BlockBuilder(mod)
        new_gvs[name] = (builder.add_func(new, name), dims)
        mod = builder.get()
    if new_gvs:
        mod["main"] = _AddShapeArg(mod, new_gvs).visit_expr(mod["main"])
    return mod, rejected


@relax.expr_functor.mutator
class _AddShapeArg(relax.expr_functor.PyExprMutator):
    def __init__(self, mod, functions):
        super().__init__(mod)
        self.functions = functions

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, relax.GlobalVar) and call.op.name_hint in self.functions:
            gv, dims = self.functions[call.op.name_hint]
            return relax.Call(gv, list(call.args) + [relax.ShapeExpr(dims)], call.attrs, call.ty_args)
        return call


def prologue_vars(main: relax.Function, kept: Dict[str, str]) -> Dict[relax.Var, str]:
    """{var of a binding of main kept for a prologue: why}, for the partition record."""
    return {b.var: kept[str(b.var.name)] for blk in main.body.blocks for b in blk.bindings if str(b.var.name) in kept}
