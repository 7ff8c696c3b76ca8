"""Activations and softmax."""
from __future__ import annotations

from ..registry import register_op
from ._common import batch_axis_rule, norm_axis, rank_of


def _activation(kind: str, alpha=None, beta=None):
    def convert(ctx, node):
        layer = ctx.network.add_activation(node.args[0], getattr(ctx.trt.ActivationType, kind))
        if alpha is not None:
            layer.alpha = alpha
        if beta is not None:
            layer.beta = beta
        return layer.get_output(0)

    return convert


register_op("relax.nn.relu")(_activation("RELU"))
register_op("relax.sigmoid")(_activation("SIGMOID"))
register_op("relax.tanh")(_activation("TANH"))


def _softmax_check(call, opts):
    return batch_axis_rule([norm_axis(call.attrs.axis, rank_of(call.args[0]))], opts, "softmax")


@register_op("relax.nn.softmax", check=_softmax_check)
def softmax(ctx, node):
    x = node.args[0]
    layer = ctx.network.add_softmax(x)
    layer.axes = 1 << norm_axis(node.attrs["axis"], len(x.shape))
    return layer.get_output(0)
