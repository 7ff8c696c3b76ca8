"""Reductions, top-k and cumulative sums."""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np

from ._common import LayerEval, axes_from_mask, compute, evaluates, is_low_float, scalar


_REDUCE: Dict[str, Callable] = {"SUM": np.sum, "PROD": np.prod, "MAX": np.max, "MIN": np.min, "AVG": np.mean}


@evaluates("REDUCE", "IReduceLayer")
def _reduce(node: LayerEval):
    layer = node.layer
    op = layer.op.name
    if op not in _REDUCE:
        raise node.unsupported("op", op)
    x = compute(node.inputs[0])
    return _REDUCE[op](x, axis=axes_from_mask(layer.axes, x.ndim), keepdims=layer.keep_dims)


@evaluates("TOPK", "ITopKLayer")
def _topk(node: LayerEval):
    layer = node.layer
    x = node.inputs[0]
    axes = axes_from_mask(layer.axes, x.ndim)
    if len(axes) != 1:
        raise node.unsupported("axes", layer.axes)
    axis = axes[0]
    k = int(scalar(node.input(1))) if node.input(1) is not None else layer.k
    op = layer.op.name
    keys = compute(x).astype(np.float64) if x.dtype.kind in "fb" or is_low_float(x.dtype) else x.astype(np.int64)
    if op == "MAX":
        keys = -keys
    elif op != "MIN":
        raise node.unsupported("op", op)
    order = np.argsort(keys, axis=axis, kind="stable")  # ties: lower index first
    index = np.take(order, np.arange(k), axis=axis)
    return [np.take_along_axis(x, index, axis=axis), index]


@evaluates("CUMULATIVE", "ICumulativeLayer")
def _cumulative(node: LayerEval):
    layer = node.layer
    if layer.op.name != "SUM":
        raise node.unsupported("op", layer.op.name)
    x = compute(node.inputs[0])
    axis = int(scalar(node.inputs[1])) % x.ndim
    y = np.cumsum(np.flip(x, axis) if layer.reverse else x, axis=axis, dtype=x.dtype)
    if layer.exclusive:  # shift by one rather than subtract, so float sums stay exact scans
        shifted = np.zeros_like(y)
        target, source = [slice(None)] * y.ndim, [slice(None)] * y.ndim
        target[axis], source[axis] = slice(1, None), slice(None, -1)
        shifted[tuple(target)] = y[tuple(source)]
        y = shifted
    return np.flip(y, axis) if layer.reverse else y
