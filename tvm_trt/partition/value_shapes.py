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

from ..core import graph, ir
from ..core.call_checks import VALUE_SHAPED
from .value_dims import AppendArgs

PROLOGUE_REASON = "computes the output shape of {op} ({var}) in TVM: the VM allocates it before the TensorRT call"
_VAR_PREFIX = "tvm_trt_vshape"


def _slice_shape(extents, begin, end, strides):
    """TVM's own output shape of dynamic_strided_slice (its LegalizeOps shape function), from the
    data's extents."""

    def _compute(i):
        def canonical(index, extent, stride):
            low = tir.Select(stride < 0, tir.const(-1, "int64"), tir.const(0, "int64"))
            high = tir.Select(stride < 0, extent - 1, extent)
            index = tir.Select(index < 0, index + extent, index)
            return tir.Min(tir.Max(index, low), high)

        extent = tir.const(-1, "int64")
        for axis in range(int(begin.shape[0])):
            extent = tir.Select(i == tir.const(axis, "int64"), extents[axis], extent)
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
        # the extents come from the data's type: the data itself can stay inside the subgraph
        extents = self.builder_.emit(
            relax.op.shape_to_tensor(relax.ShapeExpr(value.args[0].ty.shape.values)), f"{_VAR_PREFIX}{k}_x"
        )
        shape_tensor = self.builder_.emit(
            self.builder_.call_te(_slice_shape, extents, *value.args[1:]), f"{_VAR_PREFIX}{k}_t"
        )
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
                                todo.append(leaf)
                # the prologue's tensor_to_shape follows the kernel
                kept[str(b.var.name)[: -len("_t")] + "_s"] = reason
    return kept


# ---- after merging ------------------------------------------------------------------------------


def bind_outputs(
    mod: tvm.IRModule, offloaded: Dict[str, relax.Function], kept: Dict[str, str]
) -> Tuple[tvm.IRModule, Dict[str, str]]:
    """Offloaded functions whose result dims are unknown because they hold value-shaped ops with
    a prologue in main: an ``R.Shape`` parameter with the prologues' vars, each such op's result
    cast to them inside, so the result's type (inferred again) is known to the caller.
    -> (mod, {function: reason} for those whose result dims stay unknown to the caller)."""
    todo = {n: f for n, f in offloaded.items() if _unknown_dims(f.body.body)}
    if not todo:
        return mod, {}
    main = mod["main"]
    prologues = _prologues(main)
    calls = {}
    for blk in main.body.blocks:
        for b in blk.bindings:
            v = b.value
            if isinstance(v, relax.Call) and isinstance(v.op, relax.GlobalVar) and v.op.name_hint in todo:
                calls[v.op.name_hint] = v
    rejected, new_gvs = {}, {}
    for name, func in todo.items():
        new = _retyped(func, calls[name].args, prologues) if name in calls else None
        if new is None or _unknown_dims(new.body.body):
            rejected[name] = (
                "its output shape depends on input values and the caller does not know it before the call "
                "(TensorRT needs a destination of known shape)"
            )
            continue
        del mod[name]
        builder = relax.BlockBuilder(mod)
        new_gvs[name] = (builder.add_func(new, name), [relax.ShapeExpr(list(new.params[-1].ty.values))])
        mod = builder.get()
    if new_gvs:
        mod["main"] = _prologues_first(AppendArgs(mod, new_gvs).visit_expr(mod["main"]), kept)
    return mod, rejected


def _prologues_first(main: relax.Function, kept: Dict[str, str]) -> relax.Function:
    """The prologues (and what they read, all kept in TVM: none reads an offloaded result) moved
    to the front of their blocks: merging may have put a subgraph's call before the match_cast
    that binds the dims it is now passed."""

    def first(b) -> bool:
        name = str(b.var.name)
        return name in kept or name.startswith(_VAR_PREFIX)

    blocks = []
    for blk in main.body.blocks:
        bindings = [b for b in blk.bindings if first(b)] + [b for b in blk.bindings if not first(b)]
        blocks.append(type(blk)(bindings, blk.span))
    body = relax.SeqExpr(blocks, main.body.body)
    return relax.Function(main.params, body, main.ret_ty, main.is_pure, main.attrs, main.span)


def _unknown_dims(expr) -> bool:
    return any(ir.dims(t) is None for t in ir.tensor_types(expr))


def _prologues(main: relax.Function) -> List[Tuple[List[relax.Expr], List]]:
    """(value inputs in main, output dims bound by the prologue) of each prologue of main."""
    bound = {b.var: b for blk in main.body.blocks for b in blk.bindings}
    found = []
    for b in bound.values():
        if not isinstance(b, relax.MatchCast) or not str(b.var.name).startswith(_VAR_PREFIX):
            continue
        to_shape = bound.get(b.value)
        kernel = bound.get(to_shape.value.args[0]) if to_shape is not None else None
        if kernel is not None and isinstance(kernel.value, relax.Call) and len(kernel.value.args) > 1:
            found.append((list(kernel.value.args[1].fields[1:]), list(b.ty.values)))
    return found


def _retyped(func: relax.Function, args, prologues) -> relax.Function:
    """``func`` re-emitted with a trailing ``R.Shape`` param of the prologues' vars whose value
    inputs it takes, each value-shaped op's result cast to its prologue's vars."""
    mine = [(vals, dims) for vals, dims in prologues if all(any(v.same_as(a) for a in args) for v in vals)]
    if not mine:
        return None
    params = [relax.Var(str(p.name), p.ty) for p in func.params]
    main_arg = {p: a for p, a in zip(params, args)}
    shape_param = relax.Var("output_dims", relax.ShapeType([d for _, ds in mine for d in ds]))
    dims = {}
    for ty in [t for p in params for t in ir.tensor_types(p)]:
        for d in getattr(ty.shape, "values", None) or []:
            if isinstance(d, tir.Var):
                dims.setdefault(str(d), d)

    class _Cast(graph.Emitter):
        def call(self, c, call_args):
            out = super().call(c, call_args)
            if c.op.name in VALUE_SHAPED and ir.dims(out.ty) is None:
                values = [main_arg.get(a) for a in call_args[1:]]
                for vals, ds in mine:
                    if all(v is not None and v.same_as(w) for v, w in zip(values, vals)):
                        return self.builder.match_cast(out, relax.TensorType(ds, out.ty.dtype))
            return out

    builder = relax.BlockBuilder()
    with builder.function("f", params + [shape_param], pure=True):
        with builder.dataflow():
            out = builder.emit_output(graph.walk(func, params, _Cast(builder, dims)))
        builder.emit_func_output(out)
    new = builder.get()["f"]
    for key, value in func.attrs.items():
        new = new.with_attr(key, value)
    return new


def prologue_vars(main: relax.Function, kept: Dict[str, str]) -> Dict[relax.Var, str]:
    """{var of a binding of main kept for a prologue: why}, for the partition record."""
    return {b.var: kept[str(b.var.name)] for blk in main.body.blocks for b in blk.bindings if str(b.var.name) in kept}
