"""Resize: nearest, linear and cubic, every coordinate transformation TensorRT offers."""
from __future__ import annotations

import math
from typing import List

import numpy as np

from ._common import Node, compute, evaluates, ints


def _resize_sizes(node: Node, shape) -> List[int]:
    """Output dims: from input 1 (a shape tensor, or float scales), scales, or shape."""
    layer = node.layer
    dynamic = node.input(1)
    if dynamic is not None and dynamic.dtype.kind in "iu":
        return ints(dynamic)
    scales = [float(s) for s in dynamic.reshape(-1)] if dynamic is not None else list(layer.scales or [])
    if scales:
        return [int(math.floor(n * s)) for n, s in zip(shape, scales)]
    return list(layer.shape)


def _source_coordinates(node: Node, n_in: int, n_out: int) -> np.ndarray:
    layer = node.layer
    i = np.arange(n_out, dtype=np.float64)
    if n_out == 1 and layer.selector_for_single_pixel.name == "UPPER":
        return np.zeros(1)
    transform = layer.coordinate_transformation.name
    if transform == "ALIGN_CORNERS":
        return i * ((n_in - 1) / (n_out - 1)) if n_out > 1 else np.zeros(1)
    if transform == "ASYMMETRIC":
        return i * (n_in / n_out)
    if transform == "HALF_PIXEL":
        return (i + 0.5) * (n_in / n_out) - 0.5
    raise node.unsupported("coordinate_transformation", transform)


_ROUNDING = {
    "HALF_UP": lambda c: np.floor(c + 0.5),
    "HALF_DOWN": lambda c: np.ceil(c - 0.5),
    "FLOOR": np.floor,
    "CEIL": np.ceil,
}


def _cubic_weights(t: np.ndarray, a: float) -> np.ndarray:
    """Keys cubic convolution weights for taps at offsets -1, 0, 1, 2."""
    d = np.stack([t + 1, t, 1 - t, 2 - t], axis=-1)
    near = ((a + 2) * d - (a + 3)) * d * d + 1
    far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    return np.where(d <= 1, near, far)


def _resize_axis(node: Node, x: np.ndarray, axis: int, n_out: int) -> np.ndarray:
    layer = node.layer
    n_in = x.shape[axis]
    coord = _source_coordinates(node, n_in, n_out)
    mode = layer.resize_mode.name
    if mode == "NEAREST":
        rounding = layer.nearest_rounding.name
        if rounding not in _ROUNDING:
            raise node.unsupported("nearest_rounding", rounding)
        index = np.clip(_ROUNDING[rounding](coord), 0, n_in - 1).astype(np.int64)
        return np.take(x, index, axis=axis)
    x = compute(x)
    shape = [1] * x.ndim
    shape[axis] = n_out
    if mode == "LINEAR":
        coord = np.clip(coord, 0, n_in - 1)
        lo = np.floor(coord).astype(np.int64)
        hi = np.minimum(lo + 1, n_in - 1)
        t = (coord - lo).reshape(shape).astype(x.dtype)
        return np.take(x, lo, axis=axis) * (1 - t) + np.take(x, hi, axis=axis) * t
    if mode == "CUBIC":
        base = np.floor(coord).astype(np.int64)
        weights = _cubic_weights(coord - base, layer.cubic_coeff)
        taps = base[:, None] + np.arange(-1, 3)
        if layer.exclude_outside:
            weights = np.where((taps >= 0) & (taps < n_in), weights, 0)
            weights = weights / weights.sum(axis=1, keepdims=True)
        taps = np.clip(taps, 0, n_in - 1)
        y = 0
        for j in range(4):
            y = y + np.take(x, taps[:, j], axis=axis) * weights[:, j].reshape(shape).astype(x.dtype)
        return y
    raise node.unsupported("resize_mode", mode)


@evaluates("RESIZE", "IResizeLayer")
def _resize(node: Node):
    x = node.inputs[0]
    sizes = _resize_sizes(node, x.shape)
    if len(sizes) != x.ndim:
        raise ValueError(f"reference executor: layer '{node.layer.name}' resizes to {sizes} from rank {x.ndim}")
    for axis in reversed(range(x.ndim)):
        if sizes[axis] != x.shape[axis]:
            x = _resize_axis(node, x, axis, sizes[axis])
    return x
