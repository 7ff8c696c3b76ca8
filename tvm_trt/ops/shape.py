"""Shape ops: reshape, flatten, concat, stack, permute_dims, layout_transform, squeeze, expand_dims, pad.

They move data without computing on it, so they take every dtype TensorRT holds (int64 and bool
where the registry's dtype gates allow: masks and ids in transformers)."""

from __future__ import annotations

import re

import numpy as np

from ..core import ir
from ..core.registry import ANY_TYPE, all_of, register_op
from ._common import batch_axis_rule, int8_values_check, norm_axis, rank_of
from .index import slice_nd


def _same_batch(call, opts):
    if not opts.use_implicit_batch:
        return None
    src, dst = ir.dims(call.args[0].ty), ir.dims(call.ty)
    if not src or not dst or src[0] != dst[0]:
        return f"changes the batch axis ({src[0] if src else '-'} -> {dst[0] if dst else '-'}) with use_implicit_batch=True"
    return None


def _to_out_shape(ctx, node):
    """Reshape to Relax's output dims (symbolic ones as placeholders or a run-time shape)."""
    return ctx.reshape(ctx.tensor(node.args[0]), node.out_shape, src=node.arg_dims[0])


register_op("relax.reshape", check=_same_batch, dtypes=ANY_TYPE)(_to_out_shape)
register_op("relax.nn.batch_flatten", check=_same_batch, dtypes=ANY_TYPE)(_to_out_shape)
register_op("relax.flatten", check=_same_batch, dtypes=ANY_TYPE)(_to_out_shape)


def _expand_dims_check(call, opts):
    rank = rank_of(call)  # axes index the output
    return batch_axis_rule([norm_axis(int(a), rank) for a in call.attrs.axis], opts, "expand_dims")


register_op("relax.expand_dims", check=_expand_dims_check, dtypes=ANY_TYPE)(_to_out_shape)


def _squeeze_axes(axis, shape):
    if axis is None:
        return [i for i, d in enumerate(shape) if d == 1]
    return [norm_axis(int(a), len(shape)) for a in axis]


def _squeeze_check(call, opts):
    return batch_axis_rule(_squeeze_axes(call.attrs.axis, ir.dims(call.args[0].ty)), opts, "squeeze")


register_op("relax.squeeze", check=_squeeze_check, dtypes=ANY_TYPE)(_to_out_shape)


def _output_axis_check(what: str):
    """concat / stack: the batch rule on ``attrs.axis`` of the output (stack's new axis counts)."""

    def check(call, opts):
        rank = len(ir.dims(call.ty))
        return batch_axis_rule([norm_axis(int(call.attrs.axis), rank)], opts, what)

    return check


# int8 too: ONNX's variadic Max / Min / Sum import as a stack of the (broadcast) operands reduced
@register_op("relax.concat", check=all_of(_output_axis_check("concat"), int8_values_check), dtypes=ANY_TYPE + ("int8",))
def concat(ctx, node):
    tensors = [ctx.tensor(t) for t in node.args[0]]
    layer = ctx.network.add_concatenation(tensors)
    layer.axis = norm_axis(int(node.attrs["axis"]), len(tensors[0].shape))
    return layer.get_output(0)


@register_op("relax.stack", check=all_of(_output_axis_check("stack"), int8_values_check), dtypes=ANY_TYPE + ("int8",))
def stack(ctx, node):
    """A new unit axis on every input, then a concatenation along it."""
    tensors = [ctx.tensor(t) for t in node.args[0]]
    axis = norm_axis(int(node.attrs["axis"]), len(tensors[0].shape) + 1)
    piece = list(node.out_shape)
    piece[axis] = 1
    src = list(node.out_shape[:axis]) + list(node.out_shape[axis + 1 :])  # every input's dims
    layer = ctx.network.add_concatenation([ctx.reshape(t, piece, src=src) for t in tensors])
    layer.axis = axis
    return layer.get_output(0)


def _perm(attrs_axes, rank):
    return list(range(rank))[::-1] if attrs_axes is None else [norm_axis(int(a), rank) for a in attrs_axes]


def _moves_batch(perm, opts):
    if opts.use_implicit_batch and perm[0] != 0:
        return "moves the batch axis with use_implicit_batch=True"
    return None


def _permute_check(call, opts):
    return _moves_batch(_perm(call.attrs.axes, rank_of(call.args[0])), opts)


@register_op("relax.permute_dims", check=_permute_check, dtypes=ANY_TYPE)
def permute_dims(ctx, node):
    x = node.args[0]
    return ctx.transpose(x, _perm(node.attrs["axes"], len(x.shape)))


# ---- layout_transform: pure permutations only (NCHW <-> NHWC ...) ------------------------------

_INDEX_MAP = re.compile(r"lambda\s*([^:]*):\s*\(([^()]*)\)")


def _layout_perm(index_map: str):
    """Permutation of a printed index map such as 'lambda n, c, h, w: (n, h, w, c)', or None
    when the map computes indices (packing, splitting: c // 4, c % 4)."""
    m = _INDEX_MAP.search(index_map)
    if m is None:
        return None
    src = [s.strip() for s in m.group(1).split(",") if s.strip()]
    dst = [s.strip() for s in m.group(2).split(",") if s.strip()]
    if sorted(src) != sorted(dst) or len(set(src)) != len(src):
        return None
    return [src.index(d) for d in dst]


def _layout_check(call, opts):
    index_map = call.attrs.index_map
    src = [str(v) for v in index_map.initial_indices]
    dst = [str(v) for v in index_map.final_indices]
    if sorted(src) != sorted(dst) or len(set(dst)) != len(dst):
        return f"layout_transform {index_map} is not a pure permutation (packing/splitting layouts stay in TVM)"
    perm = _layout_perm(str(ir.to_py(index_map)))
    if perm is None:
        return f"cannot read the permutation of layout_transform {index_map}"
    return _moves_batch(perm, opts)


@register_op("relax.layout_transform", check=_layout_check)
def layout_transform(ctx, node):
    return ctx.transpose(node.args[0], _layout_perm(node.attrs["index_map"]))


# ---- pad: a slice that starts before the tensor and runs past it, filling or mirroring ------

_PAD_MODES = {"constant": "FILL", "reflect": "REFLECT", "replicate": "CLAMP", "circular": "WRAP"}


def _pad_widths(pad_width, rank):
    widths = [int(w) for w in pad_width]
    return widths[0::2][:rank], widths[1::2][:rank]


def _pad_check(call, opts):
    mode = str(call.attrs.pad_mode)
    if mode not in _PAD_MODES:
        return f"pad_mode={mode} is not supported (supported: {', '.join(_PAD_MODES)})"
    rank = rank_of(call.args[0])
    pre, post = _pad_widths(call.attrs.pad_width, rank)
    if len(pre) != rank or len(post) != rank:
        return "pad_width must give (before, after) for every axis"
    if min(pre + post) < 0:
        return "negative pad widths (cropping) are not supported"
    shape = ir.dims(call.args[0].ty)
    padded = [i for i in range(rank) if pre[i] or post[i]]
    if mode == "reflect" and any(isinstance(shape[i], str) or shape[i] < 2 for i in padded):
        return "reflect padding needs static axes of at least 2 elements"
    return batch_axis_rule(padded, opts, "pad")


@register_op("relax.nn.pad", check=_pad_check)
def pad(ctx, node):
    x = node.args[0]
    rank = len(x.shape)
    pre, post = _pad_widths(node.attrs["pad_width"], rank)
    out = list(node.out_shape)  # symbolic extents (x + pads) are computed at run time
    mode = _PAD_MODES[node.attrs["pad_mode"]]
    fill = float(node.attrs["pad_value"] or 0.0) if mode == "FILL" else None
    return slice_nd(ctx, x, [-p for p in pre], out, [1] * rank, mode=mode, fill=fill)


# ---- size: the element count, a 0-d int64 (a product of the shape at run time) -------------------


@register_op("relax.size", dtypes=ANY_TYPE + ("int8",), min_version=(10, 0, 0))
def size(ctx, node):
    x = ctx.tensor(node.args[0])
    dims = node.arg_dims[0] or list(x.shape)
    if all(isinstance(d, int) for d in dims):
        return ctx.constant(np.array(int(np.prod(dims, dtype=np.int64)), np.int64))
    shape = ctx.cast(ctx.network.add_shape(x).get_output(0), "int64")
    return ctx.network.add_reduce(shape, ctx.trt.ReduceOperation.PROD, 1, False).get_output(0)
