"""Reductions over axes, with keepdims, and cumsum."""

from __future__ import annotations

import numpy as np

from ..core import ir
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
        layer = ctx.network.add_reduce(
            x, getattr(ctx.trt.ReduceOperation, kind), axes_mask(axes), bool(node.attrs["keepdims"])
        )
        return layer.get_output(0)

    return convert


register_op("relax.mean", check=_reduce_check, keep_float32=True)(_reduce("AVG"))  # long sums: float32 under FP16
# Integer sums, products and extrema: TensorRT reduces INT32/INT64 (and plain int8 from 10 on).
for _relax, _trt in [("sum", "SUM"), ("prod", "PROD"), ("max", "MAX"), ("min", "MIN")]:
    register_op(
        f"relax.{_relax}",
        check=all_of(int8_values_check, _reduce_check),
        dtypes=FLOAT_TYPES + INT_TYPES + ("int8",),
        keep_float32=_relax in ("sum", "prod"),
    )(_reduce(_trt))


@register_op("relax.variance", check=_reduce_check, keep_float32=True)
def variance(ctx, node):
    """Population variance (what Relax computes): mean((x - mean(x))^2) over the axes."""
    x = node.args[0]
    trt = ctx.trt
    mask = axes_mask(norm_axes(node.attrs["axis"], len(x.shape)))
    mean = ctx.network.add_reduce(x, trt.ReduceOperation.AVG, mask, True).get_output(0)
    centred = ctx.elementwise(x, mean, "SUB")
    square = ctx.elementwise(centred, centred, "PROD")
    return ctx.network.add_reduce(square, trt.ReduceOperation.AVG, mask, bool(node.attrs["keepdims"])).get_output(0)


# ---- argmax / argmin: ITopKLayer with k = 1, its index output ------------------------------


def _arg_check(call, opts):
    axis = call.attrs.axis
    axes = norm_axes(None if axis is None else [int(axis)], rank_of(call.args[0]))
    if axis is None and any(isinstance(d, str) for d in ir.dims(call.args[0].ty)):
        return f"{call.op.name} over every axis of a dynamic shape"
    return batch_axis_rule(axes, opts, call.op.name)


def _arg(kind):
    def convert(ctx, node):
        x = ctx.tensor(node.args[0])
        axis = node.attrs["axis"]
        if axis is None:  # over the flattened tensor
            x, axis = ctx.reshape(x, (1, -1)), 1
        axis = norm_axes([int(axis)], len(x.shape))[0]
        if len(x.shape) == 1:  # TopK takes >= 2 dims
            x, axis = ctx.reshape(x, (1, -1)), 1
        layer = ctx.network.add_topk(x, getattr(ctx.trt.TopKOperation, kind), 1, axes_mask([axis]))
        index = ctx.cast(layer.get_output(1), node.out_dtype)
        if node.attrs["axis"] is None or not node.attrs["keepdims"] or len(node.out_shape) == 1:
            index = ctx.reshape(index, node.out_shape)
        return index

    return convert


for _relax, _trt in [("argmax", "MAX"), ("argmin", "MIN")]:
    register_op(f"relax.{_relax}", check=_arg_check, dtypes=FLOAT_TYPES + INT_TYPES)(_arg(_trt))


# ---- topk: ITopKLayer (k up to 3840, TensorRT's bound) ---------------------------------------

TOPK_MAX_K = 3840


def _topk_check(call, opts):
    k = int(call.attrs.k)
    if not 0 < k <= TOPK_MAX_K:
        return f"topk with k={k} (TensorRT's TopK takes 1..{TOPK_MAX_K})"
    if str(call.attrs.ret_type) not in ("both", "values", "indices"):
        return f"topk ret_type={call.attrs.ret_type}"
    axes = norm_axes([int(call.attrs.axis)], rank_of(call.args[0]))
    return batch_axis_rule(axes, opts, "topk")


@register_op("relax.topk", check=_topk_check, dtypes=FLOAT_TYPES + INT_TYPES, tuple_output=True)
def topk(ctx, node):
    x = ctx.tensor(node.args[0])
    axis = norm_axes([int(node.attrs["axis"])], len(x.shape))[0]
    flat = len(x.shape) == 1  # TopK takes >= 2 dims
    if flat:
        x, axis = ctx.reshape(x, (1, -1)), 1
    kind = ctx.trt.TopKOperation.MAX if node.attrs["largest"] else ctx.trt.TopKOperation.MIN
    layer = ctx.network.add_topk(x, kind, int(node.attrs["k"]), axes_mask([axis]))
    values, index = layer.get_output(0), layer.get_output(1)
    if flat:
        values, index = ctx.reshape(values, (-1,)), ctx.reshape(index, (-1,))
    ret = node.attrs["ret_type"]
    out = {"both": [values, index], "values": [values], "indices": [index]}[ret]
    out = [ctx.cast(t, o["dtype"]) for t, o in zip(out, node.out)]
    return out if ret == "both" else out[0]


# ---- cumsum (position ids from a mask): ICumulativeLayer, TensorRT 10.4 -------------------


def _cumsum_check(call, opts):
    if call.attrs.axis is None:
        return "cumsum without an axis (over the flattened tensor)"
    dtype = str(call.attrs.dtype)
    if dtype not in ("", "void", "None", str(call.args[0].ty.dtype)):
        return f"cumsum changing the dtype ({call.args[0].ty.dtype} -> {dtype})"
    axis = norm_axes([int(call.attrs.axis)], rank_of(call.args[0]))
    return batch_axis_rule(axis, opts, "cumsum")


@register_op(
    "relax.cumsum", check=_cumsum_check, min_version=(10, 4, 0), dtypes=FLOAT_TYPES + INT_TYPES, keep_float32=True
)
def cumsum(ctx, node):
    x = node.args[0]
    axis = norm_axes([int(node.attrs["axis"])], len(x.shape))[0]
    axis_tensor = ctx.constant(np.array(axis, np.int32))
    layer = ctx.network.add_cumulative(
        x, axis_tensor, ctx.trt.CumulativeOperation.SUM, bool(node.attrs.get("exclusive") or False), False
    )
    return layer.get_output(0)
