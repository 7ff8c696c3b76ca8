"""Convolutions (multiply-accumulate ops)."""
from __future__ import annotations

from ..registry import all_of, attr_in, register_op
from ._common import const_arg, pair, same_out_dtype


_conv2d_check = all_of(
    attr_in("data_layout", ["NCHW"]),
    attr_in("kernel_layout", ["OIHW"]),
    attr_in("out_layout", ["NCHW"]),
    const_arg(1, "conv2d weight"),
    same_out_dtype,
)


def _conv(ctx, node, spatial: int):
    x, weight = node.args[0], node.args[1]
    a = node.attrs
    kernel = tuple(weight.shape[2:])
    layer = ctx.network.add_convolution_nd(x, int(weight.shape[0]), kernel, ctx.weights(weight), None)
    layer.stride_nd = tuple(pair(a["strides"]))
    layer.dilation_nd = tuple(pair(a["dilation"]))
    pad = pair(a["padding"])
    layer.pre_padding = tuple(pad[:spatial])
    layer.post_padding = tuple(pad[spatial:])
    layer.num_groups = int(a["groups"])
    return layer.get_output(0)


@register_op("relax.nn.conv2d", check=_conv2d_check, mac=True)
def conv2d(ctx, node):
    return _conv(ctx, node, 2)
