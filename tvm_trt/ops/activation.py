"""Activations, softmax / log_softmax and dropout (inference identity)."""

from __future__ import annotations

import math

import numpy as np

from ..core import ir
from ..core.registry import register_op
from ._common import batch_axis_rule, norm_axis, rank_of


def _act(ctx, x, kind: str, alpha=None, beta=None):
    layer = ctx.network.add_activation(x, getattr(ctx.trt.ActivationType, kind))
    if alpha is not None:
        layer.alpha = alpha
    if beta is not None:
        layer.beta = beta
    return layer.get_output(0)


def _activation(kind: str, alpha=None, beta=None):
    def convert(ctx, node):
        return _act(ctx, node.args[0], kind, alpha, beta)

    return convert


register_op("relax.nn.relu")(_activation("RELU"))
register_op("relax.sigmoid")(_activation("SIGMOID"))
register_op("relax.tanh")(_activation("TANH"))


@register_op("relax.nn.silu")
def silu(ctx, node):
    x = node.args[0]
    return ctx.elementwise(x, _act(ctx, x, "SIGMOID"), "PROD")


# ---- (5, 1, 5): the parametrised activations -------------------------------------------


@register_op("relax.nn.leakyrelu", min_version=(5, 1, 5))
def leakyrelu(ctx, node):
    return _act(ctx, node.args[0], "LEAKY_RELU", alpha=float(node.attrs["alpha"]))


def _clip_check(call, opts):
    for bound in call.args[1:]:
        if not hasattr(bound, "value") or ir.is_constant(bound):
            return "clip bounds must be scalar constants"
    return None


@register_op("relax.clip", check=_clip_check, min_version=(5, 1, 5))
def clip(ctx, node):
    x, lo, hi = node.args
    return _act(ctx, x, "CLIP", alpha=float(lo), beta=float(hi))


def _softplus_check(call, opts):
    # Relax returns x itself once beta*x > threshold; TensorRT never switches. The two agree
    # to float32 rounding only while log1p(exp(-threshold)) is below float32's resolution.
    if float(call.attrs.threshold) < 20.0:
        return f"softplus threshold={float(call.attrs.threshold)} < 20 switches to identity visibly early"
    if float(call.attrs.beta) <= 0:
        return "softplus beta must be positive"
    return None


@register_op("relax.nn.softplus", check=_softplus_check, min_version=(5, 1, 5))
def softplus(ctx, node):
    # TensorRT: alpha * log(exp(beta * x) + 1); Relax: log(1 + exp(beta * x)) / beta.
    beta = float(node.attrs["beta"])
    return _act(ctx, node.args[0], "SOFTPLUS", alpha=1.0 / beta, beta=beta)


# Relax's selu uses the constants of Klambauer et al. (2017) and exposes no attributes.
register_op("relax.nn.selu", min_version=(5, 1, 5))(
    _activation("SELU", alpha=1.6732632423543772848170429916717, beta=1.0507009873554804934193349852946)
)


# ---- GELU: a fused TensorRT activation where the installed TensorRT has it --------------


def has_activation(ctx, kind: str) -> bool:
    """GELU_ERF / GELU_TANH exist in TensorRT 10 era APIs only."""
    return hasattr(ctx.trt.ActivationType, kind)


@register_op("relax.nn.gelu", min_version=(7, 0, 0))
def gelu(ctx, node):
    x = node.args[0]
    if has_activation(ctx, "GELU_ERF"):
        return _act(ctx, x, "GELU_ERF")
    # 0.5 * x * (1 + erf(x / sqrt(2))), exact up to the kernels' rounding (needs unary ERF)
    inner = ctx.unary(ctx.elementwise(x, 1 / math.sqrt(2), "PROD"), "ERF")
    half_x = ctx.elementwise(x, 0.5, "PROD")
    return ctx.elementwise(half_x, ctx.elementwise(inner, 1.0, "SUM"), "PROD")


@register_op("relax.nn.gelu_tanh")
def gelu_tanh(ctx, node):
    x = node.args[0]
    if has_activation(ctx, "GELU_TANH"):
        return _act(ctx, x, "GELU_TANH")
    # 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))
    cube = ctx.elementwise(ctx.elementwise(x, x, "PROD"), x, "PROD")
    inner = ctx.elementwise(x, ctx.elementwise(cube, 0.044715, "PROD"), "SUM")
    t = _act(ctx, ctx.elementwise(inner, math.sqrt(2 / math.pi), "PROD"), "TANH")
    half_x = ctx.elementwise(x, 0.5, "PROD")
    return ctx.elementwise(half_x, ctx.elementwise(t, 1.0, "SUM"), "PROD")


# ---- PReLU ---------------------------------------------------------------------------------


def _prelu_check(call, opts):
    rank = rank_of(call.args[0])
    axis = norm_axis(int(call.attrs.axis), rank)
    alpha = ir.dims(call.args[1].ty)
    if len(alpha) != 1:
        return f"prelu alpha of rank {len(alpha)} (expected a vector along axis {axis})"
    return batch_axis_rule([axis], opts, "prelu slope") if alpha[0] != 1 else None


@register_op("relax.nn.prelu", check=_prelu_check, min_version=(8, 0, 0))
def prelu(ctx, node):
    x, alpha = node.args
    rank = len(x.shape)
    shape = [1] * rank
    shape[norm_axis(int(node.attrs["axis"]), rank)] = -1
    if isinstance(alpha, np.ndarray):
        slope = ctx.constant(alpha.reshape(shape))
    else:
        slope = ctx.reshape(alpha, [d if d != -1 else int(alpha.shape[0]) for d in shape])
    return ctx.network.add_parametric_relu(x, slope).get_output(0)


# ---- softmax family ------------------------------------------------------------------------


def _softmax_check(call, opts):
    what = call.op.name[len("relax.nn.") :]
    return batch_axis_rule([norm_axis(int(call.attrs.axis), rank_of(call.args[0]))], opts, what)


@register_op("relax.nn.softmax", check=_softmax_check, keep_float32=True)
def softmax(ctx, node):
    x = node.args[0]
    layer = ctx.network.add_softmax(x)
    layer.axes = 1 << norm_axis(node.attrs["axis"], len(x.shape))
    return layer.get_output(0)


def _reduce(ctx, x, op: str, axis: int):
    return ctx.network.add_reduce(x, getattr(ctx.trt.ReduceOperation, op), 1 << axis, True).get_output(0)


@register_op("relax.nn.log_softmax", check=_softmax_check, keep_float32=True)
def log_softmax(ctx, node):
    """(x - max) - log(sum(exp(x - max))): stable where log(softmax(x)) would give -inf."""
    x = node.args[0]
    axis = norm_axis(node.attrs["axis"], len(x.shape))
    shifted = ctx.elementwise(x, _reduce(ctx, x, "MAX", axis), "SUB")
    exp = ctx.unary(shifted, "EXP")
    log_sum = ctx.unary(_reduce(ctx, exp, "SUM", axis), "LOG")
    return ctx.elementwise(shifted, log_sum, "SUB")


# ---- dropout -------------------------------------------------------------------------------


@register_op("relax.nn.dropout", tuple_output=True)
def dropout(ctx, node):
    """Inference: (x, mask of ones), as Relax's own legalisation computes it."""
    x = node.args[0]
    shape, dtype = node.out[1]["shape"], node.out[1]["dtype"]
    if all(isinstance(d, int) for d in shape):
        mask = ctx.constant(np.ones(shape, dtype))
    else:  # dynamic batch: a one broadcast (stride-0 slice) to x's run-time shape; NaN-proof
        rank = len(shape)
        layer = ctx.network.add_slice(ctx.constant(np.ones([1] * rank, dtype)), (0,) * rank, (1,) * rank, (0,) * rank)
        layer.set_input(2, ctx.network.add_shape(x).get_output(0))
        mask = layer.get_output(0)
    return [ctx.network.add_identity(x).get_output(0), mask]
