"""matmul (dense, batch_matmul): TensorRT broadcasts batch dims once ranks are equal."""
from __future__ import annotations

from .. import ir
from ..registry import register_op
from ._common import same_out_dtype


def _matmul_check(call, opts):
    a, b = call.args
    reason = same_out_dtype(call, opts)
    if reason:
        return reason
    if len(ir.dims(a.ty)) < 2 or len(ir.dims(b.ty)) < 2:
        return "matmul with a 1-D operand"
    if opts.use_implicit_batch and not ir.is_constant(b) and len(ir.dims(b.ty)) < len(ir.dims(call.ty)):
        return "second operand is shared across the batch but not constant (use_implicit_batch=True)"
    if opts.use_implicit_batch and not ir.is_constant(b) and len(ir.dims(b.ty)) == len(ir.dims(call.ty)) \
            and ir.dims(b.ty)[0] != ir.dims(call.ty)[0]:
        return "second operand broadcasts across the batch axis (use_implicit_batch=True)"
    return None


@register_op("relax.matmul", check=_matmul_check, mac=True)
def matmul(ctx, node):
    a, b = ctx.broadcast_pair(node.args[0], node.args[1])
    none = ctx.trt.MatrixOperation.NONE
    return ctx.network.add_matrix_multiply(a, none, b, none).get_output(0)
