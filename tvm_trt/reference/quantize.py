"""Explicit quantization: QUANTIZE and DEQUANTIZE layers as TensorRT defines them.

quantize:   y = saturate(round(x / scale) + zero_point), rounding half to even, saturating to
            [-128, 127] for INT8; for FP8 x / scale is saturated to [-448, 448] and rounded to
            the nearest E4M3 value.
dequantize: y = (x - zero_point) * scale.
Scales are per tensor (a scalar or one element), per axis (1-D, along `axis`) or per block
(same rank as the input, each scale covering a block of input elements). TensorRT accepts
only zero-valued zero points (symmetric quantization): others are rejected here as well.
Arithmetic is in float32, TensorRT's documented scale precision.
"""

from __future__ import annotations

import numpy as np

from ._common import FP8_MAX, LayerEval, evaluates


def _expand(node: LayerEval, coefficients: np.ndarray, shape, what: str) -> np.ndarray:
    """Broadcasts a per-tensor, per-axis or per-block coefficient tensor to `shape`."""
    c = np.asarray(coefficients)
    if c.size == 1:
        return c.reshape(())
    rank = len(shape)
    if c.ndim == 1:
        axis = node.layer.axis % rank
        if c.shape[0] != shape[axis]:
            raise ValueError(
                f"reference executor: layer '{node.layer.name}': {what} has {c.shape[0]} values "
                f"for axis {axis} of size {shape[axis]}"
            )
        return c.reshape([-1 if d == axis else 1 for d in range(rank)])
    if c.ndim == rank and all(n % s == 0 for n, s in zip(shape, c.shape)):
        for d, (n, s) in enumerate(zip(shape, c.shape)):
            c = np.repeat(c, n // s, axis=d)  # each coefficient covers a block of n // s elements
        return c
    raise ValueError(
        f"reference executor: layer '{node.layer.name}': {what} of shape {c.shape} does not fit input {tuple(shape)}"
    )


def _zero_point(node: LayerEval, shape) -> np.ndarray:
    zero = node.input(2)
    if zero is None:
        return np.zeros((), np.float32)
    zero = zero.astype(np.float32)
    if np.any(zero != 0):  # the builder refuses such a network: there is no result to model
        raise ValueError(
            f"reference executor: layer '{node.layer.name}' of type {node.kind} has a nonzero zero point; "
            "TensorRT quantizes symmetrically only"
        )
    return _expand(node, zero, shape, "zero point")


@evaluates("QUANTIZE", "IQuantizeLayer")
def _quantize(node: LayerEval):
    x = node.inputs[0].astype(np.float32)
    scale = _expand(node, node.inputs[1].astype(np.float32), x.shape, "scale")
    zero = _zero_point(node, x.shape)
    out = node.out_dtypes[0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        scaled = x / scale
    if out == np.int8 or out == np.uint8:
        info = np.iinfo(out)
        return np.clip(np.rint(scaled) + zero, info.min, info.max).astype(out)
    if out.name == "float8_e4m3fn":  # the cast to E4M3 rounds to nearest even
        return np.clip(scaled + zero, -FP8_MAX, FP8_MAX).astype(out)
    raise node.unsupported("output dtype", out)


@evaluates("DEQUANTIZE", "IDequantizeLayer")
def _dequantize(node: LayerEval):
    x = node.inputs[0].astype(np.float32)
    scale = _expand(node, node.inputs[1].astype(np.float32), x.shape, "scale")
    return (x - _zero_point(node, x.shape)) * scale
