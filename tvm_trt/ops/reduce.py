"""Reductions over axes, with keepdims, and cumsum."""
from __future__ import annotations

import numpy as np

from ..core.registry import FLOAT_TYPES, INT_TYPES, all_of, register_op
from ._common import axes_mask, batch_axis_rule, int8_values_check, norm_axes, norm_axis, producer, rank_of


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


for _relax, _trt in [("sum", "SUM"), ("prod", "PROD"), ("mean", "AVG")]:
    register_op(f"relax.{_relax}", check=_reduce_check)(_reduce(_trt))
for _relax, _trt in [("max", "MAX"), ("min", "MIN")]:
    register_op(f"relax.{_relax}", check=all_of(int8_values_check, _reduce_check),
                dtypes=FLOAT_TYPES + ("int8",))(_reduce(_trt))


# ---- cumsum (position ids from a mask): ICumulativeLayer, TensorRT 10.4 -------------------


def _cumsum_check(call, opts):
    if call.attrs.axis is None:
        return "cumsum without an axis (over the flattened tensor)"
    dtype = str(call.attrs.dtype)
    if dtype not in ("", "void", "None", str(call.args[0].ty.dtype)):
        return f"cumsum changing the dtype ({call.args[0].ty.dtype} -> {dtype})"
    axis = norm_axes([int(call.attrs.axis)], rank_of(call.args[0]))
    return batch_axis_rule(axis, opts, "cumsum")


@register_op("relax.cumsum", check=_cumsum_check, min_version=(10, 4, 0), dtypes=FLOAT_TYPES + INT_TYPES)
def cumsum(ctx, node):
    x = node.args[0]
    axis = norm_axes([int(node.attrs["axis"])], len(x.shape))[0]
    axis_tensor = ctx.constant(np.array(axis, np.int32))
    layer = ctx.network.add_cumulative(x, axis_tensor, ctx.trt.CumulativeOperation.SUM,
                                       bool(node.attrs.get("exclusive") or False), False)
    return layer.get_output(0)
