"""Binary elementwise ops, select, casts and identity, and the scale layer."""

from __future__ import annotations

from typing import Callable, Dict, Optional

import numpy as np

from ._common import FP8_MAX, LayerEval, compute, evaluates, is_float, same_rank, weights_of


def _divide(a, b):
    if a.dtype.kind in "iu":
        # Integer DIV truncates toward zero (C semantics); FLOOR_DIV is the floored variant.
        q = a // b
        return q + ((a % b != 0) & ((a < 0) != (b < 0)))
    return a / b


def _floor_divide(a, b):
    return a // b if a.dtype.kind in "iu" else np.floor(a / b)


_ELEMENTWISE: Dict[str, Callable] = {
    "SUM": np.add,
    "PROD": np.multiply,
    "MAX": np.maximum,
    "MIN": np.minimum,
    "SUB": np.subtract,
    "DIV": _divide,
    "POW": np.power,
    "FLOOR_DIV": _floor_divide,
    "AND": np.logical_and,
    "OR": np.logical_or,
    "XOR": np.logical_xor,
    "EQUAL": np.equal,
    "GREATER": np.greater,
    "LESS": np.less,
}


@evaluates("ELEMENTWISE", "IElementWiseLayer")
def _elementwise(node: LayerEval):
    op = node.layer.op.name
    if op not in _ELEMENTWISE:
        raise node.unsupported("op", op)
    a, b = (compute(t) for t in node.inputs[:2])
    same_rank(node, a, b)  # TensorRT broadcasts only along size-1 dims of equal-rank tensors
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _ELEMENTWISE[op](a, b)


@evaluates("SELECT", "ISelectLayer")
def _select(node: LayerEval):
    condition, a, b = node.inputs[:3]
    same_rank(node, condition, a, b)
    return np.where(condition.astype(bool), a, b)


def convert(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float -> integer conversion truncates toward zero and saturates; NaN becomes 0.

    Float -> FP8 saturates to +-448 (E4M3 has no infinity); NaN stays NaN. Every float
    conversion rounds to nearest even (ml_dtypes does, for bfloat16 and FP8 too).
    """
    if is_float(x.dtype):
        if dtype == np.bool_:
            return x != 0
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            y = np.nan_to_num(np.trunc(x.astype(np.float64)), nan=0.0)
            return np.clip(y, info.min, info.max).astype(dtype)
        if dtype.name == "float8_e4m3fn":
            return np.clip(x.astype(np.float32), -FP8_MAX, FP8_MAX).astype(dtype)
    return x.astype(dtype)


@evaluates("CAST", "ICastLayer")
def _cast(node: LayerEval):
    return convert(node.inputs[0], node.out_dtypes[0])


@evaluates("IDENTITY", "IIdentityLayer")
def _identity(node: LayerEval):
    return convert(node.inputs[0], node.out_dtypes[0])  # an identity may change the type


def _scale_coefficients(node: LayerEval, attribute: str, x: np.ndarray) -> Optional[np.ndarray]:
    values = weights_of(node, getattr(node.layer, attribute), attribute)
    if values is None:
        return None
    values = values.astype(np.float32)
    mode = node.layer.mode.name
    axis = node.layer.channel_axis
    if mode == "UNIFORM":
        return values.reshape(())
    if mode == "CHANNEL":
        return values.reshape((-1,) + (1,) * (x.ndim - axis - 1))
    if mode == "ELEMENTWISE":
        return values.reshape(x.shape[axis:])
    raise node.unsupported("mode", mode)


@evaluates("SCALE", "IScaleLayer")
def _scale(node: LayerEval):
    x = compute(node.inputs[0])
    scale, shift, power = (_scale_coefficients(node, a, x) for a in ("scale", "shift", "power"))
    y = x if scale is None else x * scale
    y = y if shift is None else y + shift
    return y if power is None else np.power(y, power)
