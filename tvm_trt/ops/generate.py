"""Ops that generate values from positions: arange (IFillLayer LINSPACE) and the triangular
masks tril / triu (a constant mask and ISelectLayer)."""

from __future__ import annotations

import numpy as np

from ..core import ir
from ..core.call_checks import computed_dtype
from ..core.registry import ANY_TYPE, FLOAT_TYPES, INT_TYPES, register_op


def _number(value):
    """An int or float constant from a PrimValue argument, else None (a symbolic value)."""
    value = ir.to_py(getattr(value, "value", value))
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# ---- arange(start, end, step) ------------------------------------------------------------------


def _arange_check(call, opts):
    start, step = (_number(a) for a in (call.args[0], call.args[2]))
    if start is None or step is None:
        return "arange with a run-time start or step (TensorRT's fill takes them as constants here)"
    if computed_dtype(call.attrs.dtype, opts) not in FLOAT_TYPES + INT_TYPES:
        return f"arange of dtype {call.attrs.dtype}"
    return None


@register_op("relax.arange", check=_arange_check, arities=(3,), dtypes=FLOAT_TYPES + INT_TYPES)
def arange(ctx, node):
    start, step = node.args[0], node.args[2]
    (n,), dtype = node.out_shape, np.dtype(node.out_dtype)
    if isinstance(n, int):  # start + i * step, as TVM computes it
        return ctx.constant((start + np.arange(n) * step).astype(dtype))
    kind = "float32" if dtype.kind == "f" else "int64"  # LINSPACE fills FLOAT, INT32 or INT64
    layer = ctx.network.add_fill(
        (1,), ctx.trt.FillOperation.LINSPACE, ctx.trt.DataType.FLOAT if kind == "float32" else ctx.trt.DataType.INT64
    )
    layer.set_input(0, ctx.shape_tensor([n]))
    layer.set_input(1, ctx.constant(np.array(start, kind)))
    layer.set_input(2, ctx.constant(np.array([step], kind)))
    return ctx.cast(layer.get_output(0), node.out_dtype)


# ---- tril / triu(x, k) -------------------------------------------------------------------------


def _triangle_check(call, opts):
    if _number(call.args[1]) is None:
        return f"{call.op.name} with a run-time diagonal offset k"
    dims = ir.dims(call.args[0].ty)
    if len(dims) < 2 or any(isinstance(d, str) for d in dims[-2:]):
        return f"{call.op.name} of dynamic (or missing) matrix dims: the mask is a constant"
    return None


def _triangle(upper: bool):
    def convert(ctx, node):
        x, k = ctx.tensor(node.args[0]), int(node.args[1])
        rows, cols = (int(d) for d in node.out_shape[-2:])
        keep = np.triu(np.ones((rows, cols), bool), k) if upper else np.tril(np.ones((rows, cols), bool), k)
        lead = (1,) * (len(x.shape) - 2)
        mask = ctx.constant(keep.reshape(lead + keep.shape))
        zero = ctx.constant(np.zeros(lead + (1, 1), np.dtype(node.out_dtype)))
        return ctx.network.add_select(mask, x, zero).get_output(0)

    return convert


register_op("relax.tril", check=_triangle_check, arities=(2,), dtypes=ANY_TYPE)(_triangle(upper=False))
register_op("relax.triu", check=_triangle_check, arities=(2,), dtypes=ANY_TYPE)(_triangle(upper=True))


# ---- eye_like(x, k): ones on the k-th diagonal, a constant of x's (static) shape ------------------


def _eye_check(call, opts):
    if _number(call.args[1]) is None:
        return "eye_like with a run-time diagonal offset k"
    if any(isinstance(d, str) for d in ir.dims(call.ty)):
        return "eye_like of a dynamic shape"
    return None


@register_op("relax.eye_like", check=_eye_check, arities=(2,), dtypes=ANY_TYPE)
def eye_like(ctx, node):
    rows, cols = (int(d) for d in node.out_shape)
    return ctx.constant(np.eye(rows, cols, int(node.args[1]), dtype=np.dtype(node.out_dtype)))


# ---- zeros / ones / full (and their _like forms): a value broadcast to the output shape -----------


def _filled(ctx, node, value):
    """``value`` (an ITensor or a number) in the output's dtype, broadcast to its (maybe symbolic)
    shape by a stride-0 slice."""
    from .index import slice_nd

    out = list(node.out_shape)
    if isinstance(value, ctx.trt.ITensor):
        value = ctx.cast(ctx.reshape(value, (1,) * len(out)), node.out_dtype)
    else:
        value = ctx.constant(np.full((1,) * len(out), value, np.dtype(node.out_dtype)))
    return slice_nd(ctx, value, [0] * len(out), out, [0] * len(out)) if out else ctx.reshape(value, ())


def _fill_value_check(call, opts):
    value = call.args[1]
    if ir.is_tensor(value) and ir.ndim(value.ty) != 0:
        return f"{call.op.name} with a fill value of rank {ir.ndim(value.ty)}"
    return None


register_op("relax.zeros", arities=(1,), dtypes=ANY_TYPE)(lambda ctx, node: _filled(ctx, node, 0))
register_op("relax.ones", arities=(1,), dtypes=ANY_TYPE)(lambda ctx, node: _filled(ctx, node, 1))
register_op("relax.zeros_like", arities=(1,), dtypes=ANY_TYPE)(lambda ctx, node: _filled(ctx, node, 0))
register_op("relax.ones_like", arities=(1,), dtypes=ANY_TYPE)(lambda ctx, node: _filled(ctx, node, 1))


def _full(ctx, node):
    value = node.args[1]
    return _filled(ctx, node, value if isinstance(value, ctx.trt.ITensor) else np.asarray(value).item())


register_op("relax.full", check=_fill_value_check, arities=(2,), dtypes=ANY_TYPE)(_full)
register_op("relax.full_like", check=_fill_value_check, arities=(2,), dtypes=ANY_TYPE)(_full)
