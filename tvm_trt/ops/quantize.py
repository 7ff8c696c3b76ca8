"""quantize / dequantize (ONNX QuantizeLinear / DequantizeLinear): TensorRT Q/DQ layers.

TensorRT quantization is symmetric: zero points must be 0 (others stay in TVM with a reason).
Scales are per-tensor (a scalar) or per-axis (1-D, one per channel of ``axis``). TensorRT fuses
DQ -> conv/matmul <- DQ(weights) -> Q chains into INT8 kernels. FP8 (e4m3) Q/DQ needs TensorRT
>= 8.6 and an sm_89+ GPU (Ada, Hopper, Blackwell); the partition gate checks the version only.
"""

from __future__ import annotations

import numpy as np

from ..core import ir, tensorrt
from ..core.registry import register_op, requires_trt
from ._common import norm_axis

QUANT_TYPES = ("int8", "float8_e4m3fn")
FP8_VERSION = (8, 6, 0)
_TRT_TYPES = {"int8": "INT8", "float8_e4m3fn": "FP8"}


def _quantized(call) -> str:
    """The integer/fp8 side of the call: the output of quantize, the input of dequantize."""
    return str(call.ty.dtype) if call.op.name == "relax.quantize" else str(call.args[0].ty.dtype)


def _check(call, opts):
    qtype = _quantized(call)
    if qtype not in QUANT_TYPES:
        return f"{call.op.name} to/from {qtype}: TensorRT quantizes to int8 (or fp8 e4m3)"
    if qtype.startswith("float8"):
        reason = requires_trt(FP8_VERSION, "fp8 quantization")(call, opts)
        if reason:
            return reason
    scale, zero_point = call.args[1], call.args[2]
    for name, arg in (("scale", scale), ("zero point", zero_point)):
        if not ir.is_constant(arg):
            return f"{call.op.name}: {name} must be a constant for TensorRT"
    zp = ir.const_value(zero_point)
    if np.any(zp.astype(np.float32) != 0):
        return f"{call.op.name}: zero point {zp.ravel()[:4].tolist()} is not 0 (TensorRT quantization is symmetric)"
    s = ir.const_value(scale)
    if s.ndim > 1:
        return f"{call.op.name}: scale of rank {s.ndim} (block quantization) is not supported"
    if s.ndim == 1 and s.size > 1:
        shape = ir.dims(call.args[0].ty)
        axis = norm_axis(int(call.attrs.axis), len(shape))
        if shape[axis] != s.size:
            return f"{call.op.name}: {s.size} scales for axis {axis} of size {shape[axis]}"
        if opts.use_implicit_batch and axis == 0 and not ir.is_constant(call.args[0]):
            return f"{call.op.name}: per-channel scales along the batch axis (use_implicit_batch=True)"
    return None


def _scale(ctx, scale, dtype: str):
    """Scales as a constant of the float side's type: a scalar (per tensor) or 1-D (per axis)."""
    s = np.asarray(scale, dtype=dtype)
    return ctx.constant(s.reshape(()) if s.size == 1 else s.reshape(-1))


FP8_MIN_SM = 89


def _fp8_gpu_gate() -> None:
    """FP8 kernels exist from compute capability 8.9 (Ada) on; plans built without a GPU
    (TensorRT-RTX ahead of time) are checked when an engine is made on one."""
    name = tensorrt.gpu_name()
    if name != "any" and int(name.rsplit("sm_", 1)[1]) < FP8_MIN_SM:
        raise ValueError(f"fp8 quantization needs a GPU of compute capability >= 8.9, not {name}")


def _qdq_layer(ctx, add, x, scale, out_type: str, axis: int):
    trt = ctx.trt
    if out_type == "FP8" or x.dtype == getattr(trt.DataType, "FP8", None):
        _fp8_gpu_gate()
    try:
        layer = add(x, scale, getattr(trt.DataType, out_type))
    except TypeError:  # TensorRT 8.x: no output type, INT8 only
        layer = add(x, scale)
    if len(scale.shape) == 1:
        layer.axis = norm_axis(axis, len(x.shape))
    return layer.get_output(0)


def _zero_point_is_zero(node, what: str) -> None:
    zp = node.args[2]
    if isinstance(zp, np.ndarray) and np.any(zp.astype(np.float32) != 0):
        raise ValueError(f"{what}: non-zero zero point (TensorRT quantization is symmetric)")


@register_op("relax.quantize", check=_check, dtypes=("float32", "float16") + QUANT_TYPES)
def quantize(ctx, node):
    _zero_point_is_zero(node, "quantize")
    x = ctx.tensor(node.args[0])
    float_type = "float16" if x.dtype == ctx.trt.DataType.HALF else "float32"
    scale = _scale(ctx, node.args[1], float_type)
    return _qdq_layer(ctx, ctx.network.add_quantize, x, scale, _TRT_TYPES[node.out_dtype], int(node.attrs["axis"]))


@register_op("relax.dequantize", check=_check, dtypes=("float32", "float16") + QUANT_TYPES)
def dequantize(ctx, node):
    _zero_point_is_zero(node, "dequantize")
    x = node.args[0]
    if isinstance(x, np.ndarray):  # quantized weights: an int8/fp8 constant feeding the DQ
        x = ctx.constant(x)
    out_type = "HALF" if node.out_dtype == "float16" else "FLOAT"
    scale = _scale(ctx, node.args[1], node.out_dtype)
    return _qdq_layer(ctx, ctx.network.add_dequantize, x, scale, out_type, int(node.attrs["axis"]))
