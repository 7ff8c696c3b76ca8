"""Reductions over axes, with keepdims."""
from __future__ import annotations

from ..registry import register_op
from ._common import axes_mask, batch_axis_rule, norm_axes, rank_of


def _reduce_check(call, opts):
    return batch_axis_rule(norm_axes(call.attrs.axis, rank_of(call.args[0])), opts, call.op.name)


def _reduce(kind):
    def convert(ctx, node):
        x = node.args[0]
        axes = norm_axes(node.attrs["axis"], len(x.shape))
        layer = ctx.network.add_reduce(x, getattr(ctx.trt.ReduceOperation, kind), axes_mask(axes), bool(node.attrs["keepdims"]))
        return layer.get_output(0)

    return convert


for _relax, _trt in [("sum", "SUM"), ("prod", "PROD"), ("max", "MAX"), ("min", "MIN"), ("mean", "AVG")]:
    register_op(f"relax.{_relax}", check=_reduce_check)(_reduce(_trt))
