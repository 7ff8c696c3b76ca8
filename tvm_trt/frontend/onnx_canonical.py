"""ONNX imports made canonical: non-weight initializers embedded as constants, and the TIR kernels TVM's
importer emits for ONNX ``Clip`` turned back into Relax ops (``clip``, or ``maximum``/``minimum`` for one-sided
clips), so that the module holds only Relax operators where TensorRT can take them."""

from __future__ import annotations

import contextlib
import functools
import re

import numpy as np

from ._common import Params


def _is_weight(value: np.ndarray) -> bool:
    return value.dtype.kind in "fc" and value.size > 1


@contextlib.contextmanager
def shape_operands_as_constants(model):
    """Non-weight initializers (integers, scalars: shapes, axes, repeats) as Constant nodes of ``model``
    while TVM imports it, restored after. With ``keep_params_in_input`` TVM's importer makes every
    initializer a parameter of main, and an op whose shape operand is a parameter gets an unknown
    output shape: a Reshape that infers a dim from it then fails ("Reshape expects the input tensor to
    have known shape"; onnxslim folds Hugging Face Swin's window shapes into such initializers)."""
    from onnx import helper, numpy_helper

    graph = model.graph
    inputs = {i.name for i in graph.input}
    moved = [t for t in graph.initializer if t.name not in inputs and not _is_weight(numpy_helper.to_array(t))]
    if not moved:
        yield model
        return
    saved_nodes = list(graph.node)
    saved_inits = list(graph.initializer)
    kept = [t for t in saved_inits if all(t is not m for m in moved)]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    constants = [helper.make_node("Constant", [], [t.name], value=t) for t in moved]
    del graph.node[:]
    graph.node.extend(constants + saved_nodes)
    try:
        yield model
    finally:
        del graph.node[:]
        graph.node.extend(saved_nodes)
        del graph.initializer[:]
        graph.initializer.extend(saved_inits)


def make_canonical(mod, params: Params):
    """Embed non-weight initializers as constants and rewrite Clip kernels (see from_onnx)."""
    from tvm import relax

    consts = {k: v for k, v in params.items() if not _is_weight(v)}
    if consts:
        mod = relax.transform.BindParams("main", consts)(mod)
        params = {k: v for k, v in params.items() if k not in consts}
    if any(_MINMAX_KERNEL.match(gv.name_hint) for gv in mod.get_global_vars()):
        mod["main"] = _clip_rewriter()(mod).visit_expr(mod["main"])
        # Drops the kernels and the bound computations that the rewrite left unused.
        mod = relax.transform.DeadCodeElimination(["main"])(mod)
    return mod, params


# TVM's ONNX importer lowers Clip to call_tir of TE kernels named "maximum" / "minimum"
# (topi.maximum / topi.minimum: broadcasting elementwise max / min, same as the Relax ops).
# It guards each bound as where(isnan(b), -/+inf, b); with constant bounds that is folded
# here with numpy (relax FoldConstant would compile a kernel per guard: seconds per model).
_MINMAX_KERNEL = re.compile(r"^(maximum|minimum)(_?\d+)?$")


@functools.lru_cache(maxsize=None)
def _clip_rewriter():
    """A PyExprMutator class (built lazily so that importing this module imports no TVM)."""
    import tvm
    from tvm import relax
    from tvm.relax.expr_functor import PyExprMutator, mutator

    def op_name(expr):
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op):
            return expr.op.name
        return None

    @mutator
    class ClipRewriter(PyExprMutator):
        def _value(self, expr, depth=0):
            """numpy value of a constant expression built from isnan/where, else None."""
            if depth > 4:
                return None
            if isinstance(expr, tvm.ir.GenericConst):
                return expr.value.numpy()
            if isinstance(expr, relax.Var):
                bound = self.lookup_binding(expr)
                return None if bound is None else self._value(bound, depth + 1)
            name = op_name(expr)
            if name in ("relax.isnan", "relax.where"):
                args = [self._value(a, depth + 1) for a in expr.args]
                if any(a is None for a in args):
                    return None
                return np.isnan(*args) if name == "relax.isnan" else np.where(*args)
            return None

        def _scalar(self, expr):
            value = self._value(expr)
            if value is not None and value.size == 1 and value.dtype.kind == "f":
                return float(value.reshape(()))
            return None

        def _const(self, expr, like):
            """``expr`` as a relax constant of ``like``'s dtype when it is a known scalar."""
            value = self._scalar(expr)
            if value is None or isinstance(expr, tvm.ir.GenericConst):
                return expr
            return relax.const(value, like.ty.dtype)

        def visit_call_(self, call):
            call = self.visit_expr_post_order(call)
            if op_name(call) != "relax.call_tir":
                return call
            gv, args = call.args[0], call.args[1]
            match = _MINMAX_KERNEL.match(getattr(gv, "name_hint", ""))
            if not (match and isinstance(args, relax.Tuple) and len(args.fields) == 2):
                return call
            x, bound = args.fields
            if match.group(1) == "maximum":
                return relax.op.maximum(x, self._const(bound, x))
            # minimum(maximum(y, lo), hi) with scalar constant bounds -> clip(y, lo, hi)
            inner = self.lookup_binding(x) if isinstance(x, relax.Var) else None
            hi = self._scalar(bound)
            if hi is not None and op_name(inner) == "relax.maximum":
                lo = self._scalar(inner.args[1])
                if lo is not None:
                    return relax.op.clip(inner.args[0], lo, hi)
            return relax.op.minimum(x, self._const(bound, x))

    return ClipRewriter
