"""Convolutions and transposed convolutions, 1-D to 3-D (multiply-accumulate ops).

TensorRT convolution needs at least two spatial dims, so the 1-D forms run as 2-D layers over
a trailing unit axis (reshape in, reshape out)."""

from __future__ import annotations

import numpy as np

from ..core import ir
from ..core.registry import all_of, attr_in, register_op
from ._common import is_weight, pair, same_out_dtype, unit_axis

_LAYOUTS = {1: ("NCW", "OIW", "IOW"), 2: ("NCHW", "OIHW", "IOHW"), 3: ("NCDHW", "OIDHW", "IODHW")}
CONV3D_VERSION = (6, 0, 1)
TENSOR_KERNEL_VERSION = (8, 0, 0)  # kernels as layer inputs (set_input(1)) came with explicit quantization


def _weight_check(op: str):
    """Constant weights become TensorRT weights; a weight computed in the graph (or a graph input)
    is the layer's input 1, which needs static dims (the kernel size and channel counts)."""

    def check(call, opts):
        weight = call.args[1]
        if ir.is_constant(weight) or is_weight(weight, opts):
            return None
        if opts.use_implicit_batch:
            return f"{op} weight is not a constant: with use_implicit_batch=True it would gain a batch axis"
        if tuple(opts.version) < TENSOR_KERNEL_VERSION:
            return f"{op} weight is not a constant: kernels as tensors need TensorRT >= 8.0.0"
        if any(not isinstance(d, int) for d in ir.dims(weight.ty) or [None]):
            return f"{op} weight is not a constant and its shape is not static"
        return None

    return check


def _check(op: str, spatial: int, transpose: bool = False):
    data, oihw, iohw = _LAYOUTS[spatial]
    return all_of(
        attr_in("data_layout", [data]),
        attr_in("kernel_layout", [iohw if transpose else oihw]),
        attr_in("out_layout", [data]),
        _weight_check(op),
        same_out_dtype,
    )


def _layer(ctx, node, spatial: int, transpose: bool):
    x, weight = node.args[0], node.args[1]
    # a tensor: dequantized int8 weights (a QDQ model) or weights computed in the graph
    from_tensor = isinstance(weight, ctx.trt.ITensor)
    if not from_tensor:
        weight = np.asarray(weight)
    a = node.attrs
    strides, dilation, pad = pair(a["strides"]), pair(a["dilation"]), pair(a["padding"])
    pre, post = pad[:spatial], pad[spatial:]
    extra = [0] * spatial
    if transpose:
        # Relax: out = (I-1)*S + D*(K-1) + 1 - pre - post + output_padding. TensorRT crops pre and
        # post from the full (I-1)*S + D*(K-1) + 1; output padding first gives back cropped rows,
        # and past the full output it is zeros (no input reaches there).
        out_pad = pair(a["output_padding"])
        extra = [max(op - p, 0) for op, p in zip(out_pad, post)]
        post = [max(p - op, 0) for op, p in zip(out_pad, post)]
    if spatial == 1:
        x = unit_axis(ctx, x, True)
        weight = ctx.reshape(weight, tuple(weight.shape) + (1,)) if from_tensor else weight[..., None]
        strides, dilation, pre, post, extra = strides + [1], dilation + [1], pre + [0], post + [0], extra + [0]
    kernel = tuple(int(k) for k in weight.shape[2:])
    groups = int(a["groups"])
    kernel_weights = ctx.trt.Weights() if from_tensor else ctx.weights(weight)
    if transpose:
        maps = int(weight.shape[1]) * groups  # IOHW: (C_in, C_out / groups, *kernel)
        layer = ctx.network.add_deconvolution_nd(x, maps, kernel, kernel_weights, None)
    else:
        layer = ctx.network.add_convolution_nd(x, int(weight.shape[0]), kernel, kernel_weights, None)
    if from_tensor:  # after a DQ, TensorRT fuses DQ -> conv into an INT8 convolution
        layer.set_input(1, weight)
    layer.stride_nd = tuple(strides)
    layer.dilation_nd = tuple(dilation)
    layer.pre_padding = tuple(pre)
    layer.post_padding = tuple(post)
    layer.num_groups = groups
    y = layer.get_output(0)
    if any(extra):
        y = _zero_pad_end(ctx, y, extra)
    return unit_axis(ctx, y, False) if spatial == 1 else y


def _zero_pad_end(ctx, y, extra):
    """Appends ``extra`` zero rows at the end of each spatial (innermost) dim."""
    return ctx.network.add_padding_nd(y, (0,) * len(extra), tuple(extra)).get_output(0)


def _conv(spatial: int, transpose: bool = False):
    def convert(ctx, node):
        return _layer(ctx, node, spatial, transpose)

    return convert


for _n, _gate in ((1, (0, 0, 0)), (2, (0, 0, 0)), (3, CONV3D_VERSION)):
    for _t in (False, True):
        _op = f"relax.nn.conv{_n}d" + ("_transpose" if _t else "")
        register_op(_op, check=_check(_op.split(".")[-1], _n, _t), min_version=_gate, mac=True)(_conv(_n, _t))
