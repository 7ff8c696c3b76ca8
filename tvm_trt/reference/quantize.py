"""Quantize / dequantize layers as TensorRT defines them: ``q = saturate(round_half_even(x / s))``,
``x = q * s``; scales per tensor (a scalar) or per axis (``layer.axis``); zero points are 0.

INT8 saturates to [-128, 127]. FP8 (e4m3) is not modelled: its tensors have no NumPy type here.
"""
from __future__ import annotations

import numpy as np

from ._common import Node, compute, evaluates

_INT_RANGE = {np.dtype(np.int8): (-128, 127), np.dtype(np.uint8): (0, 255)}


def _scale(node: Node, rank: int) -> np.ndarray:
    scale = compute(np.asarray(node.inputs[1])).astype(np.float32)
    if scale.size == 1:
        return scale.reshape(())
    if scale.ndim != 1:
        raise node.unsupported("scale rank", scale.ndim)  # block quantization
    axis = node.layer.axis % rank
    shape = [1] * rank
    shape[axis] = scale.size
    return scale.reshape(shape)


def _zero_point(node: Node) -> None:
    zp = node.input(2)
    if zp is not None and np.any(np.asarray(zp) != 0):
        raise node.unsupported("zero point", np.asarray(zp).ravel()[:4].tolist())


@evaluates("QUANTIZE", "IQuantizeLayer")
def _quantize(node: Node):
    _zero_point(node)
    x = compute(node.inputs[0]).astype(np.float32)
    out = node.out_dtypes[0]
    if out not in _INT_RANGE:
        raise node.unsupported("output type", out)
    lo, hi = _INT_RANGE[out]
    return np.clip(np.rint(x / _scale(node, x.ndim)), lo, hi).astype(out)


@evaluates("DEQUANTIZE", "IDequantizeLayer")
def _dequantize(node: Node):
    _zero_point(node)
    q = np.asarray(node.inputs[0])
    if q.dtype not in _INT_RANGE:
        raise node.unsupported("input type", q.dtype)
    return (q.astype(np.float32) * _scale(node, q.ndim)).astype(node.out_dtypes[0])
