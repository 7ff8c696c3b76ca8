"""``truncate_double=True``: float64 subgraphs go to TensorRT computed in float32.

TensorRT has no 64-bit float type (its own ONNX parser narrows DOUBLE to FLOAT with a warning;
Torch-TensorRT's option of the same name truncates float64 weights and casts float64 inputs).
With the option the predicates see float64 as float32 (``core.call_checks.computed_dtype``);
once the subgraphs are formed, each offloaded function holding float64 is rewritten in float32:
its parameters, its constants (the weights are narrowed here, once, so the plan, the weights
object and TVM's fallback twin all hold the same float32 values) and the dtype attributes of its
calls (``astype``, ``full``, ``arange``, ``out_dtype``). Each call of it casts float64 arguments
to float32 before and float32 results back to float64 after (``relax.astype`` in the caller,
compiled by TVM). The engine's signature is then float32 throughout: the runtime, the reference
executor and the twin need nothing of their own. Ops left in TVM keep float64.
"""

from __future__ import annotations

from typing import Dict, Optional

import tvm
from tvm import relax

from ..core import graph, ir
from ..core.call_checks import tensor_types

F64, F32 = "float64", "float32"


def has_float64(func: relax.Function) -> bool:
    """Does the offloaded function take, compute or return a float64 tensor?"""
    if any(t.dtype == F64 for p in func.params for t in ir.tensor_types(p)):
        return True
    return any(t.dtype == F64 for c in graph.op_calls(func) for t in tensor_types(c))


def holds_float64(ty) -> bool:
    """Is ``ty`` a float64 tensor, or a tuple holding one?"""
    return any(t.dtype == F64 for t in ir.tensors_of(ty))


def narrow_type(ty):
    """``ty`` with float64 tensors as float32 (tuples field by field; other types as they are)."""
    if not holds_float64(ty):
        return ty
    if isinstance(ty, relax.TupleType):
        return relax.TupleType([narrow_type(f) for f in ty.fields])
    shape = ty.shape if isinstance(ty.shape, relax.ShapeExpr) else None
    return relax.TensorType(shape, F32, ndim=-1 if shape is not None else ty.ndim)


def _narrow_attrs(attrs):
    """A copy of the call's attributes with every float64 dtype field (dtype, out_dtype) float32."""
    info = getattr(type(attrs), "__tvm_ffi_type_info__", None)
    if attrs is None or info is None:
        return attrs
    values = {f.name: getattr(attrs, f.name) for f in info.fields}
    if not any(str(v) == F64 for v in values.values()):
        return attrs
    return tvm.ir.make_node(info.type_key, **{k: F32 if str(v) == F64 else v for k, v in values.items()})


class _Narrower(graph.Emitter):
    """Re-emits the op calls in float32: float64 constants and dtype attributes narrowed."""

    def call(self, c, args):
        narrowed = relax.Call(c.op, c.args, _narrow_attrs(c.attrs), [narrow_type(t) for t in c.ty_args])
        return super().call(narrowed, args)

    def leaf(self, expr):
        if ir.is_constant(expr) and str(expr.value.dtype) == F64:
            return relax.const(ir.const_value(expr).astype(F32), F32)
        return expr


def narrow_function(func: relax.Function) -> relax.Function:
    """``func`` computed in float32: same attributes, float64 params and results now float32."""
    params = [p if not holds_float64(p.ty) else relax.Var(p.name, narrow_type(p.ty)) for p in func.params]
    bb = relax.BlockBuilder()
    with bb.function("narrowed", params, pure=func.is_pure):
        with bb.dataflow():
            out = bb.emit_output(graph.walk(func, params, _Narrower(bb)))
        bb.emit_func_output(out)
    narrowed = bb.get()["narrowed"]
    return relax.Function(narrowed.params, narrowed.body, narrowed.ret_ty, narrowed.is_pure, func.attrs, func.span)


def blocker(func: relax.Function) -> Optional[str]:
    """Why ``func`` cannot be computed in float32 (a float64 tensor the rewrite cannot narrow), or None."""
    try:
        narrowed = narrow_function(func)
    except Exception as err:  # TVM's type inference refused the narrowed call
        return f"in a float64 subgraph that cannot be computed in float32 (truncate_double): {ir.error_line(err)}"
    for call in graph.op_calls(narrowed):
        if any(t.dtype == F64 for t in tensor_types(call)):
            return f"in a float64 subgraph whose {call.op.name} stays float64 once narrowed (truncate_double)"
    return None


BEFORE = "casts float64 to float32 before {} (truncate_double=True)"
AFTER = "casts float32 back to float64 after {} (truncate_double=True)"


@relax.expr_functor.mutator
class _Boundary(relax.expr_functor.PyExprMutator):
    """Calls of the narrowed functions, with ``astype`` casts around them in the caller."""

    def __init__(self, mod, narrowed: Dict[str, relax.GlobalVar], casts: Dict[relax.Var, str]):
        super().__init__(mod)
        self.mod_, self.narrowed, self.casts = mod, narrowed, casts

    def visit_var_binding_(self, binding):
        value = binding.value
        if not (isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar)):
            return super().visit_var_binding_(binding)
        gv = self.narrowed.get(value.op.name_hint)
        if gv is None:
            return super().visit_var_binding_(binding)
        name, func = gv.name_hint, self.mod_[gv]
        args = []
        for i, (arg, param) in enumerate(zip(value.args, func.params)):
            arg = self.visit_expr(arg)
            if holds_float64(arg.ty) and not holds_float64(param.ty):
                label = arg.name if isinstance(arg, relax.Var) else f"{binding.var.name}_arg{i}"
                arg = self.builder_.emit(relax.op.astype(arg, F32), f"{label}_f32")
                self.casts[arg] = BEFORE.format(name)
            args.append(arg)
        call = relax.Call(gv, args)
        if not holds_float64(binding.var.ty):  # no float64 result: nothing to cast back
            self.builder_.emit_normalized(relax.VarBinding(binding.var, self.builder_.normalize(call)))
            return
        result = self.builder_.emit(call, f"{binding.var.name}_f32")
        if isinstance(binding.var.ty, relax.TensorType):  # the binding's own var now holds the cast
            widened = relax.op.astype(result, F64)
            self.casts[binding.var] = AFTER.format(name)
        else:  # a tuple of results: each float64 field cast back
            fields = []
            for i, ty in enumerate(binding.var.ty.fields):
                item = self.builder_.emit(relax.TupleGetItem(result, i), f"{binding.var.name}_{i}")
                if holds_float64(ty):
                    item = self.builder_.emit(relax.op.astype(item, F64), f"{binding.var.name}_{i}_f64")
                    self.casts[item] = AFTER.format(name)
                fields.append(item)
            widened = relax.Tuple(fields)
        self.builder_.emit_normalized(relax.VarBinding(binding.var, self.builder_.normalize(widened)))


def truncate(mod: tvm.IRModule, functions: Dict[str, relax.Function]):
    """-> (mod, {var of a cast added to a caller: what it casts}): each of ``functions`` (offloaded
    functions by name) that holds float64 computed in float32, its callers casting at its boundary."""
    narrowed: Dict[str, relax.GlobalVar] = {}
    mod = tvm.IRModule(dict(mod.functions), attrs=mod.attrs, global_infos=mod.global_infos)
    for name, func in functions.items():
        if not has_float64(func):
            continue
        new = narrow_function(func)
        old = mod.get_global_var(name)
        gv = relax.GlobalVar(name)
        relax.expr._update_type(gv, relax.FuncType([p.ty for p in new.params], new.ret_ty, new.is_pure))
        del mod[old]
        mod[gv] = new
        narrowed[name] = gv
    casts: Dict[relax.Var, str] = {}
    if not narrowed:
        return mod, casts
    boundary = _Boundary(mod, narrowed, casts)
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function) and gv.name_hint not in functions:
            mod[gv] = boundary.visit_expr(func)
    return mod, casts
