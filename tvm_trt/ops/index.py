"""Indexing ops: strided_slice, split, take (gather), broadcast_to, tile.

All but take lower to TensorRT's slice layer, whose sample modes also give broadcasting
(stride 0), tiling (WRAP) and padding (FILL / REFLECT / CLAMP, see shape.pad)."""
from __future__ import annotations

from typing import List, Optional, Sequence

import numpy as np

from .. import ir
from ..network import np_dtype, trt_dims
from ..registry import FLOAT_TYPES, INT_TYPES, register_op
from ._common import batch_axis_rule, norm_axis, rank_of


ANY_TYPE = FLOAT_TYPES + INT_TYPES + ("bool",)  # slices and gathers only move data


def slice_nd(ctx, x, start: Sequence[int], size: Sequence[int], stride: Sequence[int], *,
             mode: Optional[str] = None, fill: Optional[float] = None, grow: Optional[Sequence[int]] = None):
    """ISliceLayer over every axis of ``x``. On axes where ``x`` is dynamic (-1) the output
    extent is computed at run time as ``x``'s extent + ``grow[axis]`` (0 by default)."""
    trt = ctx.trt
    dynamic = [d < 0 for d in x.shape]
    static = [1 if dyn else int(n) for dyn, n in zip(dynamic, size)]
    layer = ctx.network.add_slice(x, tuple(int(s) for s in start), tuple(static), tuple(int(s) for s in stride))
    if any(dynamic):
        shape = ctx.network.add_shape(x).get_output(0)
        dt = np_dtype(shape.dtype)
        keep = ctx.constant(np.array(dynamic, dt))
        fixed = ctx.constant(np.array([(grow[i] if grow else 0) if dyn else n
                                       for i, (dyn, n) in enumerate(zip(dynamic, static))], dt))
        kept = ctx.network.add_elementwise(shape, keep, trt.ElementWiseOperation.PROD).get_output(0)
        layer.set_input(2, ctx.network.add_elementwise(kept, fixed, trt.ElementWiseOperation.SUM).get_output(0))
    if mode is not None:
        layer.mode = getattr(trt.SampleMode, mode)
    if fill is not None:
        layer.set_input(4, ctx.constant(np.array(fill, np_dtype(x.dtype))))
    return layer.get_output(0)


def _static_axes(call, axes: Sequence[int], what: str) -> Optional[str]:
    shape = ir.dims(call.args[0].ty)
    dynamic = [a for a in axes if isinstance(shape[a], str)]
    return f"{what} along dynamic axis {dynamic[0]}" if dynamic else None


# ---- strided_slice(x, axes, begin, end, [strides]) --------------------------------------------


def _ints_or_none(expr) -> Optional[List[int]]:
    values = [ir.to_py(getattr(f, "value", f)) for f in expr.fields] if hasattr(expr, "fields") else None
    if values is None or not all(isinstance(v, int) for v in values):
        return None
    return values


def _strided_slice_check(call, opts):
    lists = [_ints_or_none(a) for a in call.args[1:]]
    if any(v is None for v in lists):
        return "strided_slice axes/begin/end/strides must be constant integers"
    rank = rank_of(call.args[0])
    axes = [norm_axis(a, rank) for a in lists[0]]
    if any(s == 0 for s in (lists[3] if len(lists) > 3 else [])):
        return "strided_slice with stride 0"
    if any(d == 0 for d in ir.dims(call.ty)):
        return "strided_slice with an empty result"
    return batch_axis_rule(axes, opts, "strided_slice") or _static_axes(call, axes, "strided_slice")


def _slice_params(shape, axes, begin, end, strides):
    rank = len(shape)
    start, size, stride = [0] * rank, list(shape), [1] * rank
    for i, axis in enumerate(axes):
        axis = norm_axis(int(axis), rank)
        s = int(strides[i]) if strides else 1
        r = range(*slice(int(begin[i]), int(end[i]), s).indices(shape[axis]))  # clamps like TVM
        start[axis], size[axis], stride[axis] = r.start, len(r), s
    return start, size, stride


@register_op("relax.strided_slice", check=_strided_slice_check, min_version=(5, 1, 5), arities=(4, 5),
             dtypes=ANY_TYPE)
def strided_slice(ctx, node):
    x, axes, begin, end = node.args[:4]
    strides = node.args[4] if len(node.args) > 4 else None
    return slice_nd(ctx, x, *_slice_params(list(x.shape), axes, begin, end, strides))


# ---- split ---------------------------------------------------------------------------------------


def _split_check(call, opts):
    axis = norm_axis(int(call.attrs.axis), rank_of(call.args[0]))
    return batch_axis_rule([axis], opts, "split") or _static_axes(call, [axis], "split")


@register_op("relax.split", check=_split_check, min_version=(5, 1, 5), tuple_output=True, dtypes=ANY_TYPE)
def split(ctx, node):
    x = node.args[0]
    rank = len(x.shape)
    axis = norm_axis(int(node.attrs["axis"]), rank)
    outs, offset = [], 0
    for out in node.out:  # the output types already hold each piece's extent
        start = [0] * rank
        start[axis] = offset
        size = trt_dims(out["shape"])
        outs.append(slice_nd(ctx, x, start, size, [1] * rank))
        offset += size[axis]
    return outs


# ---- take (gather) -------------------------------------------------------------------------------


def _take_check(call, opts):
    x = call.args[0]
    if str(call.args[1].ty.dtype) not in INT_TYPES:
        return f"take with {call.args[1].ty.dtype} indices"
    if call.attrs.axis is None:
        return "take without an axis (flattened gather)"
    if str(call.attrs.mode) not in ("fast", "clip", "wrap") or (
        str(call.attrs.mode) != "fast" and not ir.is_constant(call.args[1])
    ):
        return f"take mode={call.attrs.mode} needs constant indices"
    axis = norm_axis(int(call.attrs.axis), rank_of(x))
    if ir.is_constant(x):  # a lookup table (embeddings): its axis 0 is not the batch
        return None
    return batch_axis_rule([axis], opts, "take") or _static_axes(call, [axis], "take")


@register_op("relax.take", check=_take_check, dtypes=ANY_TYPE)
def take(ctx, node):
    x, indices = node.args
    axis = norm_axis(int(node.attrs["axis"]), len(x.shape))
    if isinstance(indices, np.ndarray):  # constants: resolve negative/out-of-range indices now
        n = int(x.shape[axis])
        mode = node.attrs["mode"]
        indices = indices % n if mode in ("fast", "wrap") else np.clip(indices, 0, n - 1)
        indices = ctx.constant(indices.astype(np.int32))
    return ctx.network.add_gather(ctx.tensor(x), indices, axis).get_output(0)  # x: a table of weights


# ---- broadcast_to / tile -------------------------------------------------------------------------


def _broadcast_check(call, opts):
    src, dst = ir.dims(call.args[0].ty), ir.dims(call.ty)
    src = [1] * (len(dst) - len(src)) + src
    if opts.use_implicit_batch and dst and (len(src) != len(ir.dims(call.args[0].ty)) or src[0] != dst[0]):
        return "broadcast_to changes the batch axis with use_implicit_batch=True"
    changed = [i for i, (a, b) in enumerate(zip(src, dst)) if a != b]
    # A unit dim may grow to the dynamic batch (a constant broadcast per batch element): the
    # converter reads the extent from the input that carries the symbol.
    if any(isinstance(src[i], str) or (isinstance(dst[i], str) and (i != 0 or src[i] != 1)) for i in changed):
        return "broadcast_to of a dynamic dim"
    return None


@register_op("relax.broadcast_to", check=_broadcast_check, dtypes=ANY_TYPE)
def broadcast_to(ctx, node):
    dims = node.out_shape or node.args[1]  # fused functions may type a symbolic target by rank only
    out = trt_dims(dims)
    x = ctx.expand_rank(ctx.tensor(node.args[0]), len(out))
    stride = [0 if (d == 1 and n != 1) else 1 for d, n in zip(x.shape, out)]
    if all(d >= 0 for d in x.shape) and any(n < 0 for n in out):  # grows to a symbolic dim
        layer = ctx.network.add_slice(x, (0,) * len(out), tuple(max(n, 1) for n in out), tuple(stride))
        layer.set_input(2, ctx.shape_tensor(dims))
        return layer.get_output(0)
    return slice_nd(ctx, x, [0] * len(out), out, stride)


def _tile_check(call, opts):
    reps = [int(r) for r in call.attrs.repeats]
    rank = rank_of(call.args[0])
    reps = [1] * (rank - len(reps)) + reps
    if opts.use_implicit_batch and reps and (len(reps) != rank or reps[0] != 1):
        return "tile repeats the batch axis with use_implicit_batch=True"
    shape = ir.dims(call.args[0].ty)
    shape = [1] * (len(reps) - len(shape)) + shape
    if any(isinstance(d, str) and r != 1 for d, r in zip(shape, reps)):
        return "tile of a dynamic dim"
    return None


@register_op("relax.tile", check=_tile_check, dtypes=ANY_TYPE)
def tile(ctx, node):
    out = trt_dims(node.out_shape)
    x = ctx.expand_rank(node.args[0], len(out))
    return slice_nd(ctx, x, [0] * len(out), out, [1] * len(out), mode="WRAP")
