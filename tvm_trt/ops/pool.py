"""Pooling, 1-D to 3-D: max/avg with padding, ceil_mode and count_include_pad; adaptive pooling
with uniform windows. TensorRT pools over >= 2 spatial dims, so 1-D forms add a unit axis."""

from __future__ import annotations

import math
from typing import List, Optional

from ..core import ir
from ..core.registry import all_of, attr_in, register_op
from ._common import pair, unit_axis

POOL3D_VERSION = (6, 0, 1)
_LAYOUT = {1: "NCW", 2: "NCHW", 3: "NCDHW"}


def _trt_out_size(size, k, s, pre, post, ceil):
    span = size + pre + post - k
    return (math.ceil(span / s) if ceil else span // s) + 1


def _round_down_post(in_dims, out_dims, window, strides, pre, post, ceil) -> Optional[List[int]]:
    """None where TensorRT's own rounding gives Relax's output size; else the post-padding that
    gives it rounding down. ONNX / PyTorch drop a ceil-mode last window that starts in the
    padding, TensorRT's EXPLICIT_ROUND_UP keeps it: rounding down, the windows kept start where
    they did, and each dim's post-padding just reaches the end of its last window."""
    sizes = [(d, o) for d, o in zip(in_dims, out_dims)]
    if all(
        isinstance(d, str) or _trt_out_size(d, k, s, b, a, ceil) == o
        for (d, o), k, s, b, a in zip(sizes, window, strides, pre, post)
    ):
        return None
    if any(isinstance(d, str) or isinstance(o, str) for d, o in sizes):
        return None  # the caller names the dim it cannot adjust
    return [max((o - 1) * s + k - d - b, 0) for (d, o), k, s, b in zip(sizes, window, strides, pre)]


def _pool_check(call, opts):
    a = call.attrs
    if any(int(d) != 1 for d in a.dilation):
        return "dilated pooling is not supported by TensorRT"
    in_shape, out_shape = ir.dims(call.args[0].ty)[2:], ir.dims(call.ty)[2:]
    pad = pair(a.padding)
    n = len(a.pool_size)
    window, strides, pre, post = pair(a.pool_size), pair(a.strides), pad[:n], pad[n:]
    adjusted = _round_down_post(in_shape, out_shape, window, strides, pre, post, a.ceil_mode)
    if adjusted is None:
        for i in range(n):
            if isinstance(in_shape[i], str):  # symbolic: Relax and TensorRT use the same formula
                continue
            got = _trt_out_size(in_shape[i], window[i], strides[i], pre[i], post[i], a.ceil_mode)
            if got != out_shape[i]:  # a symbolic dim beside it
                return f"ceil_mode output size {out_shape[i]} differs from TensorRT's rounding ({got}), dynamic dims"
        return None
    for i in range(n):
        got = _trt_out_size(in_shape[i], window[i], strides[i], pre[i], adjusted[i], False)
        if got != out_shape[i]:
            return f"ceil_mode output size {out_shape[i]} differs from TensorRT's rounding ({got})"
    # Counting padding, the divisor would count post-padding added past the original one (ONNX's
    # last window counts up to the original padding's end). Unreachable with ONNX's output size.
    if "avg" in call.op.name and a.count_include_pad and any(p > q for p, q in zip(adjusted, post)):
        return (
            "ceil_mode average pooling with count_include_pad whose last window runs past the padding: "
            "TensorRT's divisor would count the part past it"
        )
    return None


def _layout_check(spatial: int):
    layout = _LAYOUT[spatial]
    return all_of(attr_in("layout", [layout]), attr_in("out_layout", [layout]))


def _to_2d(ctx, x, spatial: int, add: bool):
    return unit_axis(ctx, x, add) if spatial == 1 else x


def _pool(kind: str, spatial: int):
    def convert(ctx, node):
        a = node.attrs
        window, strides, pad = pair(a["pool_size"]), pair(a["strides"]), pair(a["padding"])
        pre, post = pad[:spatial], pad[spatial:]
        in_dims = (node.arg_dims[0] or list(node.args[0].shape))[2:]
        adjusted = _round_down_post(in_dims, node.out_shape[2:], window, strides, pre, post, a["ceil_mode"])
        ceil = a["ceil_mode"] and adjusted is None
        post = post if adjusted is None else adjusted
        if spatial == 1:
            window, strides, pre, post = window + [1], strides + [1], pre + [0], post + [0]
        x = _to_2d(ctx, node.args[0], spatial, True)
        layer = ctx.network.add_pooling_nd(x, getattr(ctx.trt.PoolingType, kind), tuple(window))
        layer.stride_nd = tuple(strides)
        layer.pre_padding = tuple(pre)
        layer.post_padding = tuple(post)
        if ceil:
            layer.padding_mode = ctx.trt.PaddingMode.EXPLICIT_ROUND_UP
        if kind == "AVERAGE":
            layer.average_count_excludes_padding = not a["count_include_pad"]
        return _to_2d(ctx, layer.get_output(0), spatial, False)

    return convert


for _n, _gate in ((1, (0, 0, 0)), (2, (0, 0, 0)), (3, POOL3D_VERSION)):
    _check = all_of(_layout_check(_n), _pool_check)
    register_op(f"relax.nn.max_pool{_n}d", check=_check, min_version=_gate)(_pool("MAX", _n))
    register_op(f"relax.nn.avg_pool{_n}d", check=_check, min_version=_gate)(_pool("AVERAGE", _n))


def _adaptive_check(call, opts):
    in_shape, out_shape = ir.dims(call.args[0].ty), ir.dims(call.ty)
    if any(isinstance(d, str) for d in in_shape[2:] + out_shape[2:]):
        if any(o != 1 for o in out_shape[2:]):
            return f"adaptive pooling of dynamic extents {in_shape[2:]} to {out_shape[2:]} (only to 1: global pooling)"
        return None
    for i, o in zip(in_shape[2:], out_shape[2:]):
        if i % o:
            return f"adaptive pooling from {i} to {o} is not a uniform window"
    return None


def _adaptive(kind: str, spatial: int):
    def convert(ctx, node):
        x = node.args[0]
        in_sizes, out_sizes = list(x.shape[2:]), node.out_shape[2:]
        if any(d < 0 for d in in_sizes):  # dynamic extent, output 1 (the check): a global mean
            axes = sum(1 << a for a in range(2, 2 + spatial))
            return ctx.network.add_reduce(x, ctx.trt.ReduceOperation.AVG, axes, True).get_output(0)
        window = [i // o for i, o in zip(in_sizes, out_sizes)]  # uniform: stride = window
        if spatial == 1:
            window = window + [1]
        layer = ctx.network.add_pooling_nd(
            _to_2d(ctx, x, spatial, True), getattr(ctx.trt.PoolingType, kind), tuple(window)
        )
        layer.stride_nd = tuple(window)
        return _to_2d(ctx, layer.get_output(0), spatial, False)

    return convert


# Relax has adaptive average pooling only (adaptive max pooling is not a Relax op).
for _n, _gate in ((1, (0, 0, 0)), (2, (0, 0, 0)), (3, POOL3D_VERSION)):
    register_op(
        f"relax.nn.adaptive_avg_pool{_n}d", check=all_of(_layout_check(_n), _adaptive_check), min_version=_gate
    )(_adaptive("AVERAGE", _n))
