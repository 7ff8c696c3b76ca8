"""Normalisation: batch_norm in inference form (what FoldBatchnormToConv2D could not fold)."""
from __future__ import annotations

import numpy as np

from .. import ir
from ..registry import register_op
from ._common import norm_axis, rank_of


def _batch_norm_check(call, opts):
    if call.attrs.training:
        return "batch_norm with training=True normalises with batch statistics"
    if not all(ir.is_constant(a) for a in call.args[1:5]):
        return "batch_norm gamma/beta/mean/var must be constants"
    if opts.use_implicit_batch and norm_axis(int(call.attrs.axis), rank_of(call.args[0])) == 0:
        return "batch_norm over the batch axis with use_implicit_batch=True"
    return None


@register_op("relax.nn.batch_norm", check=_batch_norm_check, tuple_output=True)
def batch_norm(ctx, node):
    """y = x * scale + shift with per-channel constants (TensorRT fuses it into neighbours)."""
    x, gamma, beta, mean, var = node.args[:5]
    a = node.attrs
    rank = len(x.shape)
    axis = norm_axis(int(a["axis"]), rank)
    gamma = gamma.astype(np.float64) if a.get("scale", True) else np.ones_like(var, np.float64)
    beta = beta.astype(np.float64) if a.get("center", True) else np.zeros_like(var, np.float64)
    scale = gamma / np.sqrt(var.astype(np.float64) + float(a["epsilon"]))
    shift = beta - mean.astype(np.float64) * scale
    shape = [1] * rank
    shape[axis] = -1
    dtype = node.out_dtype
    s = ctx.constant(scale.astype(dtype).reshape(shape))
    b = ctx.constant(shift.astype(dtype).reshape(shape))
    prod = ctx.network.add_elementwise(x, s, ctx.trt.ElementWiseOperation.PROD).get_output(0)
    return [ctx.network.add_elementwise(prod, b, ctx.trt.ElementWiseOperation.SUM).get_output(0)]
