"""Pooling: max/avg with padding, ceil_mode and count_include_pad; adaptive pooling."""
from __future__ import annotations

import math

from .. import ir
from ..registry import all_of, attr_in, register_op
from ._common import pair


def _trt_out_size(size, k, s, pre, post, ceil):
    span = size + pre + post - k
    return (math.ceil(span / s) if ceil else span // s) + 1


def _pool_check(call, opts):
    a = call.attrs
    if any(int(d) != 1 for d in a.dilation):
        return "dilated pooling is not supported by TensorRT"
    in_shape, out_shape = ir.dims(call.args[0].ty), ir.dims(call.ty)
    pad = pair(a.padding)
    n = len(a.pool_size)
    for i in range(n):
        want = out_shape[2 + i]
        got = _trt_out_size(in_shape[2 + i], int(a.pool_size[i]), int(a.strides[i]), pad[i], pad[n + i], a.ceil_mode)
        if want != got:
            return f"ceil_mode output size {want} differs from TensorRT's rounding ({got})"
    return None


_check2d = all_of(attr_in("layout", ["NCHW"]), attr_in("out_layout", ["NCHW"]), _pool_check)


def _pool(kind):
    def convert(ctx, node):
        a = node.attrs
        n = len(a["pool_size"])
        layer = ctx.network.add_pooling_nd(node.args[0], getattr(ctx.trt.PoolingType, kind), tuple(pair(a["pool_size"])))
        layer.stride_nd = tuple(pair(a["strides"]))
        pad = pair(a["padding"])
        layer.pre_padding = tuple(pad[:n])
        layer.post_padding = tuple(pad[n:])
        if a["ceil_mode"]:
            layer.padding_mode = ctx.trt.PaddingMode.EXPLICIT_ROUND_UP
        if kind == "AVERAGE":
            layer.average_count_excludes_padding = not a["count_include_pad"]
        return layer.get_output(0)

    return convert


register_op("relax.nn.max_pool2d", check=_check2d)(_pool("MAX"))
register_op("relax.nn.avg_pool2d", check=_check2d)(_pool("AVERAGE"))


def _adaptive_check(call, opts):
    in_shape, out_shape = ir.dims(call.args[0].ty), ir.dims(call.ty)
    for i, o in zip(in_shape[2:], out_shape[2:]):
        if i % o:
            return f"adaptive pooling from {i} to {o} is not a uniform window"
    return None


def _adaptive(kind):
    def convert(ctx, node):
        x = node.args[0]
        in_hw = list(x.shape[2:])
        out_hw = node.out_shape[2:]
        window = tuple(i // o for i, o in zip(in_hw, out_hw))
        layer = ctx.network.add_pooling_nd(x, getattr(ctx.trt.PoolingType, kind), window)
        layer.stride_nd = window
        return layer.get_output(0)

    return convert


_adaptive_layout = all_of(attr_in("layout", ["NCHW"]), attr_in("out_layout", ["NCHW"]), _adaptive_check)
register_op("relax.nn.adaptive_avg_pool2d", check=_adaptive_layout)(_adaptive("AVERAGE"))
