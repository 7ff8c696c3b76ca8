"""Binary elementwise ops with NumPy broadcasting (ranks equalised by prepending 1s)."""
from __future__ import annotations

from .. import ir
from ..registry import register_op


def _batch_rule(call, opts):
    """With implicit batch, a binary op may not broadcast a per-sample tensor across the batch."""
    if not opts.use_implicit_batch:
        return None
    out = ir.dims(call.ty)
    for arg in call.args:
        if ir.is_tensor(arg) and not ir.is_constant(arg):
            shape = ir.dims(arg.ty)
            if len(shape) == len(out) and out and shape[0] != out[0]:
                return "broadcasts a non-constant operand across the batch axis with use_implicit_batch=True"
    return None


def _binary(op_name: str):
    def convert(ctx, node):
        a, b = ctx.broadcast_pair(node.args[0], node.args[1])
        return ctx.network.add_elementwise(a, b, getattr(ctx.trt.ElementWiseOperation, op_name)).get_output(0)

    return convert


for _relax, _trt in [
    ("add", "SUM"),
    ("subtract", "SUB"),
    ("multiply", "PROD"),
    ("divide", "DIV"),
    ("power", "POW"),
    ("maximum", "MAX"),
    ("minimum", "MIN"),
]:
    register_op(f"relax.{_relax}", check=_batch_rule)(_binary(_trt))
