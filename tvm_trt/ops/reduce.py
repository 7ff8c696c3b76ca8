"""Reductions over axes, with keepdims."""
from __future__ import annotations

from ..registry import register_op
from ._common import axes_mask, batch_axis_rule, norm_axes, norm_axis, producer, rank_of


def _reduce_check(call, opts):
    axes = norm_axes(call.attrs.axis, rank_of(call.args[0]))
    if axes == [0] and _stacked_on_axis0(call.args[0], opts):
        return None  # ONNX Sum/Mean/Max/Min (stack + reduce): over the stack axis, not the batch
    return batch_axis_rule(axes, opts, call.op.name)


def _stacked_on_axis0(expr, opts) -> bool:
    made_by = producer(expr, opts)
    if made_by is None or getattr(made_by.op, "name", None) != "relax.stack":
        return False
    return norm_axis(int(made_by.attrs.axis), rank_of(expr)) == 0


def _reduce(kind):
    def convert(ctx, node):
        x = node.args[0]
        axes = norm_axes(node.attrs["axis"], len(x.shape))
        layer = ctx.network.add_reduce(x, getattr(ctx.trt.ReduceOperation, kind), axes_mask(axes), bool(node.attrs["keepdims"]))
        return layer.get_output(0)

    return convert


for _relax, _trt in [("sum", "SUM"), ("prod", "PROD"), ("max", "MAX"), ("min", "MIN"), ("mean", "AVG")]:
    register_op(f"relax.{_relax}", check=_reduce_check)(_reduce(_trt))
