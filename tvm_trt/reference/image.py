"""Resize (nearest, linear and cubic, every coordinate transformation TensorRT offers) and grid
sampling."""

from __future__ import annotations

import itertools
import math
from typing import List

import numpy as np

from ._common import LayerEval, compute, evaluates, ints


def _resize_sizes(node: LayerEval, shape) -> List[int]:
    """Output dims: from input 1 (a shape tensor, or float scales), scales, or shape."""
    layer = node.layer
    dynamic = node.input(1)
    if dynamic is not None and dynamic.dtype.kind in "iu":
        return ints(dynamic)
    scales = [float(s) for s in dynamic.reshape(-1)] if dynamic is not None else list(layer.scales or [])
    if scales:
        return [int(math.floor(n * s)) for n, s in zip(shape, scales)]
    return list(layer.shape)


def _source_coordinates(node: LayerEval, n_in: int, n_out: int) -> np.ndarray:
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


def _resize_axis(node: LayerEval, x: np.ndarray, axis: int, n_out: int) -> np.ndarray:
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
def _resize(node: LayerEval):
    x = node.inputs[0]
    sizes = _resize_sizes(node, x.shape)
    if len(sizes) != x.ndim:
        raise ValueError(f"reference executor: layer '{node.layer.name}' resizes to {sizes} from rank {x.ndim}")
    for axis in reversed(range(x.ndim)):
        if sizes[axis] != x.shape[axis]:
            x = _resize_axis(node, x, axis, sizes[axis])
    return x


def _reflect(x: np.ndarray, low: float, high: float) -> np.ndarray:
    """Folds coordinates back into [low, high] by repeated reflection at the borders."""
    span = high - low
    if span <= 0:
        return np.full_like(x, low)
    below, above = x < low, x > high
    dist = np.where(below, low - x, np.where(above, x - high, 0.0))
    n = np.floor(dist / span)
    r = dist - n * span
    even = n % 2 == 0
    from_low = np.where(even, low + r, high - r)
    from_high = np.where(even, high - r, low + r)
    return np.where(below, from_low, np.where(above, from_high, x))


def _keys(t: np.ndarray) -> List[np.ndarray]:
    """Keys cubic weights (A = -0.75) for taps at offsets -1, 0, 1, 2 from floor(x)."""
    a = -0.75
    weights = []
    for d in (t + 1, t, 1 - t, 2 - t):
        d = np.abs(d)
        near = ((a + 2) * d - (a + 3)) * d * d + 1
        far = ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
        weights.append(np.where(d <= 1, near, far))
    return weights


@evaluates("GRID_SAMPLE", "IGridSampleLayer")
def _grid_sample(node: LayerEval):
    """ONNX GridSample (PyTorch grid_sample) semantics, 2-D and 3-D.

    grid[n, *out, :] holds normalised (x, y[, z]) in [-1, 1], x indexing the last input dim.
    Taps outside the input read 0 (FILL), the nearest border element (CLAMP) or the element
    mirrored at the border (REFLECT).
    """
    layer = node.layer
    x = compute(node.inputs[0]).astype(np.float64)
    grid = compute(node.inputs[1]).astype(np.float64)
    mode, padding = layer.interpolation_mode.name, layer.sample_mode.name
    if padding not in ("FILL", "CLAMP", "REFLECT"):
        raise node.unsupported("sample_mode", padding)
    sizes = x.shape[2:]
    nsp = len(sizes)
    align = layer.align_corners
    coords, borders = [], []
    for d, n in enumerate(sizes):
        g = grid[..., nsp - 1 - d]  # the grid lists x (innermost dim) first
        c = (g + 1) / 2 * (n - 1) if align else ((g + 1) * n - 1) / 2
        if mode == "NEAREST":
            c = np.rint(c)
        low, high = (0.0, n - 1.0) if align else (-0.5, n - 0.5)
        if padding == "CLAMP":
            c = np.where((c < low) | (c > high), np.clip(c, 0, n - 1), c)
        elif padding == "REFLECT":
            c = _reflect(c, low, high)
        coords.append(c)
        borders.append((low, high))

    def tap_index(d: int, i: np.ndarray):
        """(index into dim d, in-bounds mask) for integer taps i, honouring the sample mode."""
        n = sizes[d]
        if padding == "CLAMP":
            i = np.clip(i, 0, n - 1)
        elif padding == "REFLECT":
            i = np.trunc(_reflect(i.astype(np.float64), *borders[d])).astype(np.int64)
        inside = (i >= 0) & (i < n)
        return np.clip(i, 0, n - 1), inside

    if mode == "NEAREST":
        taps = [[(np.trunc(c).astype(np.int64), np.ones_like(c))] for c in coords]
    elif mode == "LINEAR":
        taps = []
        for c in coords:
            base = np.floor(c)
            t = c - base
            taps.append([(base.astype(np.int64), 1 - t), (base.astype(np.int64) + 1, t)])
    elif mode == "CUBIC":
        taps = []
        for c in coords:
            base = np.floor(c)
            taps.append([(base.astype(np.int64) + o, w) for o, w in zip((-1, 0, 1, 2), _keys(c - base))])
    else:
        raise node.unsupported("interpolation_mode", mode)

    channels_last = np.moveaxis(x, 1, -1)  # (N, *spatial, C)
    batch = np.arange(x.shape[0]).reshape((-1,) + (1,) * (grid.ndim - 2))
    y = 0.0
    for combo in itertools.product(*taps):
        weight = 1.0
        index = [batch]
        valid = True
        for d, (i, w) in enumerate(combo):
            i, inside = tap_index(d, i)
            index.append(i)
            weight = weight * w
            valid = valid & inside
        y = y + channels_last[tuple(index)] * (weight * valid)[..., None]
    return np.moveaxis(y, -1, 1)
