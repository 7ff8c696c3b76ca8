"""Helpers shared by op families: axis normalisation, batch-axis rules, argument checks."""

from __future__ import annotations

from typing import Iterable, List, Optional, Sequence

from ..core import ir
from ..core.call_checks import computed_dtype


def norm_axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def norm_axes(axes: Optional[Iterable[int]], rank: int) -> List[int]:
    return list(range(rank)) if axes is None else sorted(norm_axis(int(a), rank) for a in axes)


def axes_mask(axes: Iterable[int]) -> int:
    mask = 0
    for a in axes:
        mask |= 1 << a
    return mask


def rank_of(expr) -> int:
    return len(ir.dims(expr.ty))


def batch_axis_rule(axes: Sequence[int], opts, what: str) -> Optional[str]:
    """With use_implicit_batch, ops must leave axis 0 alone (one engine serves every batch size)."""
    if opts.use_implicit_batch and 0 in axes:
        return f"{what} touches the batch axis (axis 0) with use_implicit_batch=True"
    return None


def producer(expr, opts):
    """The call bound to ``expr`` in the function being partitioned, when known."""
    if opts.producers is None or not hasattr(expr, "ty"):
        return None
    value = opts.producers.get(expr) if hasattr(opts.producers, "get") else None
    return value if value is not None and hasattr(value, "op") else None


def unit_axis(ctx, x, add: bool):
    """(N, C, W) <-> (N, C, W, 1): TensorRT convolves and pools over >= 2 spatial dims. Zeros
    copy dims, so a free batch axis stays free."""
    return ctx.reshape(x, (0, 0, 0, 1) if add else (0, 0, 0))


def const_arg(index: int, what: str, quantized: bool = False):
    """Predicate: argument ``index`` must be a constant (TensorRT takes it as weights); with
    ``quantized``, a dequantized int8 constant (a QDQ model's weights) is accepted too."""

    def check(call, opts):
        arg = call.args[index]
        if ir.is_constant(arg) or (quantized and is_weight(arg, opts)):
            return None
        return f"{what} must be a constant for TensorRT"

    return check


def is_weight(expr, opts) -> bool:
    """A constant, or a dequantize (maybe reshaped / transposed) of one: TensorRT weights."""
    from ..core.int8 import weight_source

    return weight_source(expr, getattr(opts, "producers", None)) is not None


def pair(values) -> List[int]:
    return [int(v) for v in values]


def same_out_dtype(call, opts):
    """out_dtype unset or equal to the input dtype (TensorRT keeps the input's type)."""
    out_dtype = computed_dtype(call.attrs.out_dtype, opts)
    if out_dtype not in ("", "void", "None", computed_dtype(call.args[0].ty.dtype, opts)):
        return f"out_dtype={out_dtype} differs from the input dtype"
    return None


def int8_values_check(call, opts) -> Optional[str]:
    """int8 / uint8 as plain integers (torch's any/all: bool -> int8 -> max -> bool; ONNX's
    8-bit arithmetic), not a quantized type: TensorRT 10's strongly typed networks cast to and
    from them, and reduce and compare int8."""
    types = [t for a in call.args for t in ir.tensor_types(a)] + ir.tensor_types(call)
    found = sorted({str(t.dtype) for t in types} & {"int8", "uint8"})
    if found and tuple(opts.version) < (10, 0, 0):
        return f"{'/'.join(found)} values (not quantized) need TensorRT >= 10.0.0"
    return None
