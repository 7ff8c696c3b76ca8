"""Where offloaded weights live: Relax VM constants, passed to the stubs as arguments.

``tvm_trt.build`` rewrites each offloaded function into a flat function whose constants are
extra parameters (after the inputs), and passes the constants at its call sites in ``main``.
TVM then keeps them where it keeps its own weights: the VM executable's constant pool,
serialised in binary inside the exported library (one copy, no text encoding) and loaded into
host memory once, where the stubs read them without a copy (NumPy views). The spec only names
their shapes and dtypes plus a digest of their bytes, computed here at compile time, so engine
cache keys still cover the weights.

The same flat function, without ``Codegen``, is TVM's fallback for the subgraph: it takes the
same constants, so the fallback stores no second copy.
"""
from __future__ import annotations

import hashlib
import json
import threading
from typing import Dict, List, Tuple

import numpy as np
import tvm
from tvm import relax

from . import graph, ir, partition

DIGEST_ATTR = "tvm_trt.weights_digest"  # sha256 of the lifted weights' bytes, in order
COUNT_ATTR = "tvm_trt.num_weights"

# Weight values of the build in progress on this thread (symbol -> arrays), for codegen steps
# that need the numbers at compile time (build_at_compile_time embeds plans).
_pending = threading.local()


def pending(symbol: str):
    return getattr(_pending, "weights", {}).get(symbol)


def set_pending(values: Dict[str, List[np.ndarray]]) -> None:
    _pending.weights = values


def as_array(const) -> np.ndarray:
    """A NumPy view of a constant's host data (no copy)."""
    return np.from_dlpack(const.value)


def digest(arrays: List[np.ndarray]) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(json.dumps([list(a.shape), str(a.dtype)]).encode())
        h.update(memoryview(np.ascontiguousarray(a)).cast("B"))
    return h.hexdigest()


class _Constants(graph.Visitor):
    def __init__(self):
        self.found: Dict[relax.Constant, int] = {}

    def call(self, call, args):
        for a in call.args:
            self._leaf_tree(a)
        return None

    def _leaf_tree(self, expr):
        if ir.is_constant(expr) and expr not in self.found:
            self.found[expr] = len(self.found)
        elif isinstance(expr, relax.Tuple):
            for f in expr.fields:
                self._leaf_tree(f)

    def get_item(self, value, index):
        return None


def flatten(func: relax.Function, name: str) -> Tuple[relax.Function, List[relax.Constant]]:
    """``func`` with its composites inlined and its tensor constants as trailing parameters."""
    collect = _Constants()
    graph.walk(func, [None] * len(func.params), collect)
    consts = list(collect.found)
    params = [relax.Var(str(p.name), p.ty) for p in func.params]
    wvars = {c: relax.Var(f"w{i}", c.ty) for i, c in enumerate(consts)}
    bb = relax.BlockBuilder()

    class _Emit(graph.Visitor):
        def call(self, c, args):
            return bb.emit(relax.Call(c.op, args, c.attrs, c.ty_args))

        def tuple(self, items):
            return relax.Tuple(items)

        def get_item(self, value, index):
            if isinstance(value, relax.Tuple):
                return value.fields[index]
            return bb.emit(relax.TupleGetItem(value, index))

        def leaf(self, expr):
            return wvars.get(expr, expr) if ir.is_constant(expr) else _swap(expr)

    def _swap(expr):
        if isinstance(expr, relax.Tuple):
            return relax.Tuple([wvars.get(f, f) if ir.is_constant(f) else _swap(f) for f in expr.fields])
        return expr

    with bb.function(name, params + list(wvars.values()), private=True):
        with bb.dataflow():
            out = graph.walk(func, params, _Emit())
            out = bb.emit_output(out)
        bb.emit_func_output(out)
    flat = bb.get()[name]
    return flat, consts


def lift(mod: tvm.IRModule, symbols: List[str], fallback: bool) -> Tuple[tvm.IRModule, Dict[str, List[np.ndarray]]]:
    """Offloaded functions take their weights as parameters; with ``fallback`` each also gets a
    TVM-compiled twin ``<symbol>_tvm`` that main calls when TensorRT cannot run the subgraph."""
    flats, consts, values = {}, {}, {}
    for name in symbols:
        func = mod[name]
        flat, consts[name] = flatten(func, name)
        values[name] = [as_array(c) for c in consts[name]]
        attrs = {str(k): v for k, v in func.attrs.items()} if func.attrs is not None else {}
        attrs.update({DIGEST_ATTR: digest(values[name]), COUNT_ATTR: len(consts[name])})
        for k, v in attrs.items():
            flat = flat.with_attr(k, v)
        flats[name] = flat
    rest = tvm.IRModule({gv: f for gv, f in mod.functions.items() if gv.name_hint not in flats}, attrs=mod.attrs)
    bb = relax.BlockBuilder(rest)
    gvs = {name: bb.add_func(flat, name) for name, flat in flats.items()}
    twins = {}
    if fallback:
        for name, flat in flats.items():
            twin = flat.without_attr("Codegen").without_attr("global_symbol")
            for attr in (partition.CONFIG_ATTR, DIGEST_ATTR, COUNT_ATTR):
                twin = twin.without_attr(attr)
            twins[name] = bb.add_func(twin.with_attr("global_symbol", f"{name}_tvm"), f"{name}_tvm")
    mod = bb.get()
    if fallback:
        mod = relax.transform.ToNonDataflow()(mod)
    main_gv = mod.get_global_var("main")
    main = _CallSites(mod, consts, gvs, twins).visit_expr(mod[main_gv])
    mod.update_func(main_gv, main)
    if fallback:
        mod = relax.transform.ConvertToDataflow(min_size=1)(mod)
    return mod, values


@relax.expr_functor.mutator
class _CallSites(relax.expr_functor.PyExprMutator):
    """Calls of offloaded functions pass their weights; with twins, each call becomes
    ``y = f(...); if tvm_trt.ok(y): y else f_tvm(...)`` (``ok`` is False once the runtime has
    given the subgraph to TVM)."""

    def __init__(self, mod, consts, gvs, twins):
        super().__init__(mod)
        self.consts, self.gvs, self.twins = consts, gvs, twins

    def visit_var_binding_(self, binding):
        value = binding.value
        name = value.op.name_hint if isinstance(value, relax.Call) and isinstance(value.op, relax.GlobalVar) else None
        if name not in self.gvs:
            return super().visit_var_binding_(binding)
        args = [self.visit_expr(a) for a in value.args] + self.consts[name]
        call = relax.Call(self.gvs[name], args)
        if name in self.twins:
            y = self.builder_.emit(call, "trt_out")
            ok = self.builder_.emit(
                relax.op.call_pure_packed("tvm_trt.ok", y, ty_args=tvm.ir.PrimType("bool")), "trt_ok"
            )
            out = relax.Var("tvm_out", y.ty)
            tvm_branch = relax.SeqExpr([relax.BindingBlock([relax.VarBinding(out, relax.Call(self.twins[name], args))])], out)
            call = self.builder_.normalize(relax.If(ok, relax.SeqExpr([], y), tvm_branch))
        self.builder_.emit_normalized(relax.VarBinding(binding.var, call))
