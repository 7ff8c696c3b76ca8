"""Simplification before annotation: known shapes, constant folding (quantized weights kept)."""

from __future__ import annotations

import logging

import tvm
from tvm import relax

from ..core import ir, int8
from . import tir_kernels
from .known_dims import bind_known_dims

log = logging.getLogger("tvm_trt.partition")


@relax.expr_functor.mutator
class _KnownShapes(relax.expr_functor.PyExprMutator):
    """``R.shape_of(x)`` -> ``R.shape([...])`` where ``x``'s shape is known: the value then no
    longer depends on ``x`` (a TensorRT subgraph computing ``x`` would otherwise feed TVM code
    that feeds it back, splitting the subgraph), and TVM evaluates it from the symbolic vars."""

    def visit_call_(self, call):
        call = super().visit_call_(call)
        if isinstance(call.op, tvm.ir.Op) and call.op.name == "relax.shape_of":
            shape = getattr(call.args[0].ty, "shape", None)
            if isinstance(shape, relax.ShapeExpr):
                return relax.ShapeExpr(shape.values)
        return call


def _known_shapes(mod: tvm.IRModule) -> tvm.IRModule:
    for gv, func in list(mod.functions.items()):
        if isinstance(func, relax.Function):
            mod[gv] = _KnownShapes(mod).visit_expr(func)
    return mod


def simplify(mod: tvm.IRModule) -> tvm.IRModule:
    """Fold constant expressions. batch_norm is kept (our converter offloads it as a per-channel
    scale + shift that TensorRT fuses into the preceding convolution): TVM's
    FoldBatchnormToConv2D + FoldConstant compiles a kernel per folded weight, ~1 s per conv.

    FoldConstant compiles the ops it folds and fails on some that TVM's build would reject only
    later, or never (integer power, some rms_norm axes): then the module is not folded.

    Quantized weights (``dequantize(int8 constant)``) are hidden from folding: TensorRT needs
    their DQ to choose INT8 kernels."""
    mod, quantized_weights = int8.hide_quantized_weights(tir_kernels.lift_pads(mod))
    mod = bind_known_dims(mod)  # shapes computed from constants: static dims, not vars
    return int8.restore_quantized_weights(_fold(mod), quantized_weights)


def _fold(mod: tvm.IRModule) -> tvm.IRModule:
    to_dataflow = relax.transform.ConvertToDataflow(min_size=1)  # pattern fusion only looks inside dataflow blocks
    try:
        return tvm.transform.Sequential(
            [to_dataflow, relax.transform.FoldConstant(), relax.transform.CanonicalizeBindings()]
        )(_known_shapes(mod))
    except Exception as err:  # TVM raises InternalError/AssertionError/... from its kernels
        log.warning("constant folding failed, partitioning without it: %s: %s", type(err).__name__, ir.error_line(err))
    try:
        return tvm.transform.Sequential([to_dataflow, relax.transform.CanonicalizeBindings()])(mod)
    except Exception as err:
        log.warning("canonicalization failed, partitioning the module as given: %s", ir.error_line(err))
        return mod
