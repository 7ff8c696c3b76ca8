"""matmul (dense, batch_matmul, matrix-vector): TensorRT broadcasts batch dims once ranks are
equal; a 1-D operand is a VECTOR operand, whose rank is one less than the other's; two 1-D
operands make a 0-d dot product."""

from __future__ import annotations

from ..core import ir
from ..core.registry import register_op
from ._common import is_weight, same_out_dtype


def _batch_rule(call, opts):
    """With use_implicit_batch every non-constant input must carry the batch axis (axis 0 of
    the result): an operand shared by all batch elements cannot be fed per batch element."""
    out = ir.dims(call.ty)
    if not out:
        return "a 0-d result (two 1-D operands) has no batch axis (use_implicit_batch=True)"
    for name, x in zip(("first", "second"), call.args):
        if is_weight(x, opts):  # constants and dequantized int8 constants (QDQ models)
            continue
        shape = ir.dims(x.ty)
        # The second operand of a rank-2 result never holds the batch (rows come from the first).
        shared = len(shape) < len(out) or (name == "second" and len(out) < 3)
        if shared:
            return f"{name} operand is shared across the batch but not constant (use_implicit_batch=True)"
        if shape[0] != out[0]:
            return f"{name} operand broadcasts across the batch axis (use_implicit_batch=True)"
    return None


def _matmul_check(call, opts):
    a, b = call.args
    reason = same_out_dtype(call, opts)
    if reason:
        return reason
    if opts.use_implicit_batch:
        return _batch_rule(call, opts)
    return None


@register_op("relax.matmul", check=_matmul_check, mac=True)
def matmul(ctx, node):
    trt = ctx.trt
    a, b = (ctx.tensor(v) for v in node.args)
    ops = [trt.MatrixOperation.NONE, trt.MatrixOperation.NONE]
    ranks = [len(a.shape), len(b.shape)]
    if ranks == [1, 1]:  # a dot product: a row times a vector is 1-element, reshaped to 0-d
        row = ctx.expand_rank(a, 2)
        dot = ctx.network.add_matrix_multiply(row, ops[0], b, trt.MatrixOperation.VECTOR).get_output(0)
        return ctx.reshape(dot, [])
    if 1 in ranks:
        vec = ranks.index(1)  # the vector gets the other operand's batch dims as leading 1s
        ops[vec] = trt.MatrixOperation.VECTOR
        if vec == 0:
            a = ctx.expand_rank(a, ranks[1] - 1)
        else:
            b = ctx.expand_rank(b, ranks[0] - 1)
    else:
        a, b = ctx.broadcast_pair(a, b)
    return ctx.network.add_matrix_multiply(a, ops[0], b, ops[1]).get_output(0)
