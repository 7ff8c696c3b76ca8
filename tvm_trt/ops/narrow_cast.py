"""Casts to and from FP8 (E4M3): TensorRT-RTX refuses an ICastLayer on FP8 tensors (FP8 is made only
by a quantize layer and taken only by a dequantize layer), so such a cast is a Q or DQ of unit scale.

Quantizing saturates to +-448 and rounds to nearest even: ONNX ``Cast`` with ``saturate=1``.
Other source/target types go through float32 first (exact for every FP8 and bfloat16 value)."""

from __future__ import annotations

import numpy as np

from ..core.dtypes import np_dtype

FP8 = "float8_e4m3fn"
_FLOAT_SIDE = {"float32": "FLOAT", "float16": "HALF"}


def _unit_scale(ctx, dtype: str):
    return ctx.constant(np.ones((), dtype=dtype))


def is_fp8(ctx, x) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype.name == FP8
    return x.dtype == getattr(ctx.trt.DataType, "FP8", None)


def cast_fp8(ctx, x, dst: str):
    """``x`` (a TensorRT tensor) as Relax dtype ``dst``; the source or ``dst`` is FP8."""
    trt = ctx.trt
    if is_fp8(ctx, x) and dst == FP8:
        return ctx.network.add_identity(x).get_output(0)
    if dst == FP8:
        src = np_dtype(x.dtype).name
        if src not in _FLOAT_SIDE:
            x, src = ctx.cast(x, "float32"), "float32"
        return ctx.network.add_quantize(x, _unit_scale(ctx, src), trt.DataType.FP8).get_output(0)
    float_side = dst if dst in _FLOAT_SIDE else "float32"
    out = ctx.network.add_dequantize(x, _unit_scale(ctx, float_side), getattr(trt.DataType, _FLOAT_SIDE[float_side]))
    return ctx.cast(out.get_output(0), dst)
