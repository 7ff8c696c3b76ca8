"""Element and N-D gathers and scatters (IGatherLayer / IScatterLayer modes) and one-hot.

TensorRT takes indices as INT32 or INT64 tensors and, like ONNX, counts negative indices from
the end of the axis."""

from __future__ import annotations

import numpy as np

from ..core.dtypes import np_dtype
from ..core.registry import ANY_TYPE, register_op
from ._common import batch_axis_rule, norm_axis, rank_of


def _indices(ctx, indices):
    """Indices as a tensor (constants become INT32 weights)."""
    if isinstance(indices, np.ndarray):
        return ctx.constant(indices.astype(np.int32))
    return indices


def _index_dtype(position: int):
    def check(call, opts):
        dtype = str(call.args[position].ty.dtype)
        return None if dtype in ("int32", "int64") else f"{call.op.name} with {dtype} indices"

    return check


def _all(*checks):
    def check(call, opts):
        for c in checks:
            reason = c(call, opts)
            if reason:
                return reason
        return None

    return check


def _axis_rule(call, opts):
    axis = norm_axis(int(call.attrs.axis), rank_of(call.args[0]))
    return batch_axis_rule([axis], opts, call.op.name)


def _batch_dims_rule(call, opts):
    # gather_nd with batch_dims = 0 indexes axis 0; with batch_dims >= 1 axis 0 is shared
    return None if int(call.attrs.batch_dims) else batch_axis_rule([0], opts, call.op.name)


def _update_only(call, opts):
    reduction = str(call.attrs.reduction)
    if reduction != "update":  # TensorRT's scatter writes; it does not accumulate
        return f"{call.op.name} with reduction={reduction} (TensorRT's scatter only writes)"
    return None


# ---- gathers ---------------------------------------------------------------------------------


@register_op("relax.gather_elements", check=_all(_index_dtype(1), _axis_rule), dtypes=ANY_TYPE)
def gather_elements(ctx, node):
    data, indices = ctx.tensor(node.args[0]), _indices(ctx, node.args[1])
    layer = ctx.network.add_gather_v2(data, indices, ctx.trt.GatherMode.ELEMENT)
    layer.axis = norm_axis(int(node.attrs["axis"]), len(data.shape))
    return layer.get_output(0)


@register_op("relax.gather_nd", check=_all(_index_dtype(1), _batch_dims_rule), dtypes=ANY_TYPE)
def gather_nd(ctx, node):
    data, indices = ctx.tensor(node.args[0]), _indices(ctx, node.args[1])
    layer = ctx.network.add_gather_v2(data, indices, ctx.trt.GatherMode.ND)
    layer.num_elementwise_dims = int(node.attrs["batch_dims"])
    return layer.get_output(0)


# ---- scatters --------------------------------------------------------------------------------


@register_op("relax.scatter_elements", check=_all(_index_dtype(1), _update_only, _axis_rule), dtypes=ANY_TYPE)
def scatter_elements(ctx, node):
    data, indices, updates = ctx.tensor(node.args[0]), _indices(ctx, node.args[1]), ctx.tensor(node.args[2])
    layer = ctx.network.add_scatter(data, indices, updates, ctx.trt.ScatterMode.ELEMENT)
    layer.axis = norm_axis(int(node.attrs["axis"]), len(data.shape))
    return layer.get_output(0)


def _leading_axis_rule(call, opts):
    return batch_axis_rule([0], opts, call.op.name)  # scatter_nd's index tuples start at axis 0


@register_op("relax.scatter_nd", check=_all(_index_dtype(1), _update_only, _leading_axis_rule), dtypes=ANY_TYPE)
def scatter_nd(ctx, node):
    data, indices, updates = ctx.tensor(node.args[0]), _indices(ctx, node.args[1]), ctx.tensor(node.args[2])
    return ctx.network.add_scatter(data, indices, updates, ctx.trt.ScatterMode.ND).get_output(0)


# ---- one_hot ---------------------------------------------------------------------------------


def _one_hot_check(call, opts):
    return _index_dtype(0)(call, opts)


@register_op("relax.one_hot", check=_one_hot_check, arities=(3,), dtypes=ANY_TYPE)
def one_hot(ctx, node):
    indices = _indices(ctx, node.args[0])
    dtype = np.dtype(node.out_dtype)
    on, off = (float(v) for v in node.args[1:3])
    values = ctx.constant(np.array([off, on], dtype))  # TensorRT's order: [off, on]
    depth = ctx.constant(np.array(int(node.attrs["depth"]), np.int32))
    axis = norm_axis(int(node.attrs["axis"]), len(indices.shape) + 1)
    layer = ctx.network.add_one_hot(indices, values, depth, axis)
    out = layer.get_output(0)
    return out if np_dtype(out.dtype) == dtype else ctx.cast(out, node.out_dtype)
