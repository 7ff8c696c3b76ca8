"""Indexing ops: strided_slice, split, take (gather), broadcast_to, tile.

All but take lower to TensorRT's slice layer, whose sample modes also give broadcasting
(stride 0), tiling (WRAP) and padding (FILL / REFLECT / CLAMP, see shape.pad)."""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from ..core import ir, dim_expr
from ..core.dtypes import np_dtype
from ..core.registry import ANY_TYPE, INT_TYPES, all_of, register_op
from ._common import batch_axis_rule, int8_values_check, norm_axis, rank_of


def slice_nd(
    ctx,
    x,
    start: Sequence[int],
    size: Sequence,
    stride: Sequence[int],
    *,
    mode: Optional[str] = None,
    fill: Optional[float] = None,
):
    """ISliceLayer over every axis of ``x``. ``size`` holds Relax dims: symbolic ones (str) are
    computed at run time from the subgraph's inputs (ctx.shape_tensor)."""
    trt, x = ctx.trt, ctx.tensor(x)
    symbolic_size = any(isinstance(n, str) for n in size)
    static = (1,) * len(size) if symbolic_size else tuple(int(n) for n in size)
    layer = ctx.network.add_slice(x, tuple(int(s) for s in start), static, tuple(int(s) for s in stride))
    if symbolic_size:
        layer.set_input(2, ctx.shape_tensor(list(size)))
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


def _values_or_none(expr) -> Optional[list]:
    """Constant ints, or symbolic dims (str) from PrimValues holding symbolic vars."""
    values = [ir.to_py(getattr(f, "value", f)) for f in expr.fields] if hasattr(expr, "fields") else None
    if values is None or not all(isinstance(v, (int, str)) for v in values):
        return None
    if any(dim_expr.try_parse(v) for v in values):
        return None
    return values


def _strided_slice_check(call, opts):
    lists = [_values_or_none(a) for a in call.args[1:]]
    if any(v is None for v in lists):
        return "strided_slice axes/begin/end/strides must be integers or symbolic dims"
    if any(isinstance(v, str) for v in lists[0] + (lists[3] if len(lists) > 3 else [])):
        return "strided_slice with symbolic axes or strides"
    rank = rank_of(call.args[0])
    axes = [norm_axis(a, rank) for a in lists[0]]
    strides = lists[3] if len(lists) > 3 else [1] * len(axes)
    if any(s == 0 for s in strides):
        return "strided_slice with stride 0"
    if any(d == 0 for d in ir.dims(call.ty)):
        return "strided_slice with an empty result"
    shape = ir.dims(call.args[0].ty)
    for axis, begin, end, stride in zip(axes, lists[1], lists[2], strides):
        static = isinstance(shape[axis], int) and isinstance(begin, int) and isinstance(end, int)
        if not static and not (isinstance(begin, int) and begin >= 0 and stride > 0):
            return (
                f"strided_slice of axis {axis} with symbolic bounds needs a constant begin >= 0 "
                f"and a positive stride (begin {begin}, stride {stride})"
            )
    return batch_axis_rule(axes, opts, "strided_slice")


def _slice_params(shape, axes, begin, end, strides, out):
    """(start, size, stride); sizes are Relax dims: on axes with a symbolic extent or bound the
    size is Relax's own (symbolic) output extent and start the constant begin (the check)."""
    rank = len(shape)
    start, size, stride = [0] * rank, list(out), [1] * rank
    for i, axis in enumerate(axes):
        axis = norm_axis(int(axis), rank)
        s = int(strides[i]) if strides else 1
        if isinstance(shape[axis], int) and isinstance(begin[i], int) and isinstance(end[i], int):
            r = range(*slice(int(begin[i]), int(end[i]), s).indices(shape[axis]))  # clamps like TVM
            start[axis], size[axis], stride[axis] = r.start, len(r), s
        else:
            start[axis], stride[axis] = int(begin[i]), s
    return start, size, stride


@register_op("relax.strided_slice", check=_strided_slice_check, min_version=(5, 1, 5), arities=(4, 5), dtypes=ANY_TYPE)
def strided_slice(ctx, node):
    x, axes, begin, end = node.args[:4]
    strides = node.args[4] if len(node.args) > 4 else None
    shape = node.arg_dims[0] or list(x.shape)
    return slice_nd(ctx, x, *_slice_params(list(shape), axes, begin, end, strides, node.out_shape))


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
        size = list(out["shape"])
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
    reason = batch_axis_rule([axis], opts, "take")
    if reason or str(call.attrs.mode) == "fast" and not ir.is_constant(call.args[1]):
        return reason  # fast: indices are in range, TensorRT needs no extent
    return _static_axes(call, [axis], "take with constant or wrapped/clipped indices")


@register_op("relax.take", check=_take_check, dtypes=ANY_TYPE)
def take(ctx, node):
    x, indices = ctx.tensor(node.args[0]), node.args[1]
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
    if any(isinstance(src[i], str) for i in changed):
        return "broadcast_to of a dynamic dim (it may or may not be 1 at run time)"
    return None


@register_op("relax.broadcast_to", check=all_of(_broadcast_check, int8_values_check), dtypes=ANY_TYPE + ("int8",))
def broadcast_to(ctx, node):
    out = list(node.out_shape or node.args[1])  # fused functions may type a symbolic target by rank only
    x = ctx.expand_rank(ctx.tensor(node.args[0]), len(out))
    src = node.arg_dims[0] or list(x.shape)
    src = [1] * (len(out) - len(src)) + list(src)
    stride = [0 if (d == 1 and n != 1) else 1 for d, n in zip(src, out)]
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
    out = list(node.out_shape)
    x = ctx.expand_rank(node.args[0], len(out))
    return slice_nd(ctx, x, [0] * len(out), out, [1] * len(out), mode="WRAP")


# ---- flip: a slice that walks the axis backwards -----------------------------------------------


def _flip_check(call, opts):
    axis = norm_axis(int(call.attrs.axis), rank_of(call.args[0]))
    return batch_axis_rule([axis], opts, "flip") or _static_axes(call, [axis], "flip")


@register_op("relax.flip", check=_flip_check, dtypes=ANY_TYPE)
def flip(ctx, node):
    shape = list(node.out_shape)
    axis = norm_axis(int(node.attrs["axis"]), len(shape))
    start, stride = [0] * len(shape), [1] * len(shape)
    start[axis], stride[axis] = shape[axis] - 1, -1
    return slice_nd(ctx, node.args[0], start, shape, stride)


# ---- dynamic_strided_slice(x, begin, end, strides): bounds as int64 tensors ----------------------
# Its output dims follow from the bounds' values: partition.value_shapes has TVM compute them
# before the call; here TensorRT computes the same from its shape inputs (the bound tensors).


def _dynamic_slice_check(call, opts):
    rank = len(ir.dims(call.args[0].ty) or [])
    for name, arg in zip(("begin", "end", "strides"), call.args[1:]):
        if not ir.is_tensor(arg) or ir.dims(arg.ty) != [rank]:
            return f"dynamic_strided_slice {name} must be a 1-D tensor of the data's rank ({rank})"
    if rank == 0:
        return "dynamic_strided_slice of a scalar"
    return batch_axis_rule(range(rank), opts, "dynamic_strided_slice")


@register_op(
    "relax.dynamic_strided_slice", check=_dynamic_slice_check, min_version=(10, 0, 0), arities=(4,), dtypes=ANY_TYPE
)
def dynamic_strided_slice(ctx, node):
    """TVM's semantics (its shape function): an index < 0 counts from the end, then clamps to
    [0, extent] (to [-1, extent - 1] for a negative stride); size = ceildiv(end - begin, stride)."""
    trt = ctx.trt
    x = ctx.tensor(node.args[0])
    rank = len(x.shape)
    op = trt.ElementWiseOperation
    itype = ctx.shape_dtype()

    def ew(a, b, kind):
        return ctx.network.add_elementwise(a, b, getattr(op, kind)).get_output(0)

    def select(cond, a, b):
        return ctx.network.add_select(cond, a, b).get_output(0)

    def const(v):
        return ctx.constant(np.full((rank,), v, itype))

    begin, end, stride = (ctx.cast(ctx.tensor(a), str(itype)) for a in node.args[1:4])
    extent = ctx.cast(ctx.network.add_shape(x).get_output(0), str(itype))
    zero, one = const(0), const(1)
    negative = ew(stride, zero, "LESS")
    low = select(negative, const(-1), zero)
    high = select(negative, ew(extent, one, "SUB"), extent)

    def canonical(index):
        index = select(ew(index, zero, "LESS"), ew(index, extent, "SUM"), index)
        return ew(ew(index, low, "MAX"), high, "MIN")

    def ceildiv(a, b):  # b > 0
        return ew(ew(ew(a, b, "SUM"), one, "SUB"), b, "FLOOR_DIV")

    b, e = canonical(begin), canonical(end)
    size = select(negative, ceildiv(ew(b, e, "SUB"), ew(zero, stride, "SUB")), ceildiv(ew(e, b, "SUB"), stride))
    layer = ctx.network.add_slice(x, (0,) * rank, (1,) * rank, (1,) * rank)
    for i, value in ((1, b), (2, size), (3, stride)):
        layer.set_input(i, value)
    return layer.get_output(0)
