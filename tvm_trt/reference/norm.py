"""Softmax, normalisation (layer, instance and group norm) and local response normalisation."""

from __future__ import annotations

import numpy as np

from ._common import LayerEval, axes_from_mask, compute, evaluates


@evaluates("SOFTMAX", "ISoftMaxLayer")
def _softmax(node: LayerEval):
    x = compute(node.inputs[0])
    axes = axes_from_mask(node.layer.axes, x.ndim)
    with np.errstate(invalid="ignore"):  # rows of -inf give NaN, as on the device
        e = np.exp(x - np.max(x, axis=axes, keepdims=True))
        return e / np.sum(e, axis=axes, keepdims=True)


@evaluates("NORMALIZATION", "INormalizationLayer")
def _normalization(node: LayerEval):
    layer = node.layer
    x, scale, bias = (compute(t) for t in node.inputs[:3])
    axes = axes_from_mask(layer.axes, x.ndim)
    groups, eps = layer.num_groups, layer.epsilon

    def normalize(v, over):
        mean = v.mean(axis=over, keepdims=True)
        var = np.square(v - mean).mean(axis=over, keepdims=True)
        return (v - mean) / np.sqrt(var + eps)

    if groups == 1:
        return normalize(x, axes) * scale + bias
    if 0 in axes or 1 in axes or x.ndim < 3:
        raise node.unsupported("axes", layer.axes)
    n, c = x.shape[:2]
    grouped_shape = (n, groups, c // groups) + x.shape[2:]
    y = normalize(x.reshape(grouped_shape), (2,) + tuple(a + 1 for a in axes))
    if layer.is_v2:  # add_normalization_v2: per-channel [1, C, 1, ...] scale and bias
        return y.reshape(x.shape) * scale + bias
    # add_normalization: per-group [1, G, 1, ...] scale and bias
    per_group = (scale.shape[0], groups, 1) + scale.shape[2:]
    return (y * scale.reshape(per_group) + bias.reshape(per_group)).reshape(x.shape)


@evaluates("LRN", "ILRNLayer")
def _lrn(node: LayerEval):
    """Cross-channel LRN: y = x / (k + alpha / window * sum of x^2 over the window of channels)^beta,
    the window centred on each channel (axis 1) and cut at the edges."""
    layer = node.layer
    x = compute(node.inputs[0])
    size = layer.window_size
    squares = np.square(x.astype(np.float64))
    c = x.shape[1]
    before, after = (size - 1) // 2, size // 2
    padded = np.pad(squares, [(0, 0), (before, after)] + [(0, 0)] * (x.ndim - 2))
    sums = sum(padded[:, j : j + c] for j in range(size))
    return x / np.power(layer.k + layer.alpha / size * sums, layer.beta)
