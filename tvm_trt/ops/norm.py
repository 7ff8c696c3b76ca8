"""Normalisation: batch_norm in inference form (what FoldBatchnormToConv2D could not fold),
layer/RMS norm and group/instance norm."""

from __future__ import annotations

import numpy as np

from ..core import ir
from ..core.dtypes import np_dtype
from ..core.registry import register_op
from ._common import axes_mask, batch_axis_rule, norm_axis, producer, rank_of


def _batch_norm_check(call, opts):
    if call.attrs.training:
        return "batch_norm with training=True normalises with batch statistics"
    if opts.use_implicit_batch and norm_axis(int(call.attrs.axis), rank_of(call.args[0])) == 0:
        return "batch_norm over the batch axis with use_implicit_batch=True"
    return None


@register_op("relax.nn.batch_norm", check=_batch_norm_check, tuple_output=True, keep_float32=True)
def batch_norm(ctx, node):
    """y = x * scale + shift per channel: folded to constants when the statistics are weights
    (TensorRT fuses it into neighbours), computed with elementwise layers when they are tensors."""
    x, gamma, beta, mean, var = node.args[:5]
    a = node.attrs
    rank = len(x.shape)
    axis = norm_axis(int(a["axis"]), rank)
    if not all(isinstance(v, np.ndarray) for v in (gamma, beta, mean, var)):
        return [_batch_norm_from_tensors(ctx, node, axis)]
    gamma = gamma.astype(np.float64) if a.get("scale", True) else np.ones_like(var, np.float64)
    beta = beta.astype(np.float64) if a.get("center", True) else np.zeros_like(var, np.float64)
    scale = gamma / np.sqrt(var.astype(np.float64) + float(a["epsilon"]))
    shift = beta - mean.astype(np.float64) * scale
    shape = [1] * rank
    shape[axis] = -1
    dtype = node.out_dtype
    s = ctx.constant(scale.astype(dtype).reshape(shape))
    b = ctx.constant(shift.astype(dtype).reshape(shape))
    return [ctx.elementwise(ctx.elementwise(x, s, "PROD"), b, "SUM")]


def _batch_norm_from_tensors(ctx, node, axis: int):
    """(x - mean) / sqrt(var + eps) * gamma + beta, as TensorRT's parser does for tensor statistics."""
    x, gamma, beta, mean, var = node.args[:5]
    a = node.attrs
    channel = lambda v: _affine_operand(ctx, v, x, [axis])  # noqa: E731
    std = ctx.unary(ctx.elementwise(channel(var), ctx.tensor(np.float32(a["epsilon"]), like=x), "SUM"), "SQRT")
    y = ctx.elementwise(ctx.elementwise(x, channel(mean), "SUB"), std, "DIV")
    if a.get("scale", True):
        y = ctx.elementwise(y, channel(gamma), "PROD")
    if a.get("center", True):
        y = ctx.elementwise(y, channel(beta), "SUM")
    return y


# ---- layer / group / instance / RMS norm ----------------------------------------------------


def _norm_axes(call):
    return sorted(norm_axis(int(a), rank_of(call.args[0])) for a in call.attrs.axes)


def _is_filled_with(expr, value: int, opts) -> bool:
    """A constant of all ``value``, or the result of ones_like/zeros_like (how TVM's ONNX
    importer spells an absent GroupNormalization scale/bias)."""
    if ir.is_constant(expr):
        return bool(np.all(ir.const_value(expr) == value))
    call = producer(expr, opts)
    return call is not None and call.op.name == ("relax.ones_like" if value == 1 else "relax.zeros_like")


def _affine_flags(call, opts):
    # TVM's own legalisation applies gamma and beta whatever these flags say. Both readings agree
    # only when the switched-off operand is neutral (ones / zeros); otherwise the call stays in TVM.
    gamma, beta = call.args[1], call.args[2]
    if not call.attrs.scale and not _is_filled_with(gamma, 1, opts):
        return (
            "scale=False with a gamma that is not all ones (TVM itself ignores the flag, so the meaning is ambiguous)"
        )
    if not call.attrs.center and not _is_filled_with(beta, 0, opts):
        return (
            "center=False with a beta that is not all zeros (TVM itself ignores the flag, so the meaning is ambiguous)"
        )
    return None


def _layer_norm_check(call, opts):
    reason = _affine_flags(call, opts) if hasattr(call.attrs, "center") else None
    return reason or batch_axis_rule(_norm_axes(call), opts, call.op.name[len("relax.nn.") :])


def _affine_operand(ctx, value, x, axes):
    """gamma/beta (shaped like x's ``axes``) as a tensor of x's rank."""
    rank = len(x.shape)
    shape = [int(x.shape[a]) if a in axes else 1 for a in range(rank)]
    if isinstance(value, np.ndarray):
        return ctx.constant(value.astype(np_dtype(x.dtype)).reshape(shape))
    return ctx.reshape(value, shape)


def _mean(ctx, x, axes):
    return ctx.network.add_reduce(x, ctx.trt.ReduceOperation.AVG, axes_mask(axes), True).get_output(0)


def _divide_by_rms(ctx, x, centred_square_source, axes, eps: float):
    """x / sqrt(mean(source^2) + eps): the shared tail of the layer and RMS norm compositions."""
    sq = ctx.elementwise(centred_square_source, centred_square_source, "PROD")
    var = ctx.elementwise(_mean(ctx, sq, axes), ctx.tensor(np.float32(eps), like=x), "SUM")
    std = ctx.unary(var, "SQRT")
    return ctx.elementwise(x, std, "DIV")


def has_normalization_layer(ctx) -> bool:
    """INormalizationLayer came with TensorRT 8.6; older ones get an exact composition."""
    return hasattr(ctx.network, "add_normalization")


@register_op("relax.nn.layer_norm", check=_layer_norm_check, keep_float32=True)
def layer_norm(ctx, node):
    x, gamma, beta = node.args
    a = node.attrs
    axes = [norm_axis(int(v), len(x.shape)) for v in a["axes"]]
    scale = _affine_operand(ctx, gamma, x, axes)
    bias = _affine_operand(ctx, beta, x, axes)
    if has_normalization_layer(ctx):
        layer = ctx.network.add_normalization(x, scale, bias, axes_mask(axes))
        layer.epsilon = float(a["epsilon"])
        return layer.get_output(0)
    centred = ctx.elementwise(x, _mean(ctx, x, axes), "SUB")
    y = _divide_by_rms(ctx, centred, centred, axes, float(a["epsilon"]))
    return ctx.elementwise(ctx.elementwise(y, scale, "PROD"), bias, "SUM")


@register_op("relax.nn.rms_norm", check=_layer_norm_check, keep_float32=True)
def rms_norm(ctx, node):
    x, weight = node.args
    axes = [norm_axis(int(v), len(x.shape)) for v in node.attrs["axes"]]
    y = _divide_by_rms(ctx, x, x, axes, float(node.attrs["epsilon"]))
    return ctx.elementwise(y, _affine_operand(ctx, weight, x, axes), "PROD")


def _channel_norm_check(call, opts):
    """TensorRT normalises groups/instances over every axis after the channel axis 1."""
    rank = rank_of(call.args[0])
    if rank < 3:
        return f"{call.op.name} of a rank-{rank} tensor (needs N, C and spatial axes)"
    if norm_axis(int(call.attrs.channel_axis), rank) != 1:
        return f"channel_axis={int(call.attrs.channel_axis)} (TensorRT needs the channel axis at 1)"
    if _norm_axes(call) != list(range(2, rank)):
        return f"axes={[int(v) for v in call.attrs.axes]} (TensorRT normalises all spatial axes 2..{rank - 1})"
    return _affine_flags(call, opts)


def _channel_norm(ctx, node, groups: int, axes):
    """Normalise with unit affine, then apply the per-channel gamma/beta: portable across
    TensorRT versions whose group-norm scale is per group or per channel."""
    x, gamma, beta = node.args
    a = node.attrs
    rank = len(x.shape)
    unit = [1, groups] + [1] * (rank - 2)
    dtype = np_dtype(x.dtype)
    layer = ctx.network.add_normalization(
        x, ctx.constant(np.ones(unit, dtype)), ctx.constant(np.zeros(unit, dtype)), axes_mask(axes)
    )
    layer.epsilon = float(a["epsilon"])
    layer.num_groups = groups
    y = layer.get_output(0)
    if a.get("scale", True):  # a switched-off gamma/beta is neutral (the check made sure)
        y = ctx.elementwise(y, _affine_operand(ctx, gamma, x, [1]), "PROD")
    if a.get("center", True):
        y = ctx.elementwise(y, _affine_operand(ctx, beta, x, [1]), "SUM")
    return y


@register_op("relax.nn.group_norm", check=_channel_norm_check, min_version=(8, 6, 0), keep_float32=True)
def group_norm(ctx, node):
    groups, rank = int(node.attrs["num_groups"]), len(node.args[0].shape)
    if groups == 1:  # TensorRT groups only when num_groups > 1: one group spans the channels too
        return _channel_norm(ctx, node, 1, range(1, rank))
    return _channel_norm(ctx, node, groups, range(2, rank))


@register_op("relax.nn.instance_norm", check=_channel_norm_check, min_version=(8, 6, 0))
def instance_norm(ctx, node):
    return _channel_norm(ctx, node, 1, range(2, len(node.args[0].shape)))
