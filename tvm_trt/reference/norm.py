"""Softmax and normalisation (layer, instance and group norm)."""
from __future__ import annotations

import numpy as np

from ._common import Node, axes_from_mask, compute, evaluates


@evaluates("SOFTMAX", "ISoftMaxLayer")
def _softmax(node: Node):
    x = compute(node.inputs[0])
    axes = axes_from_mask(node.layer.axes, x.ndim)
    e = np.exp(x - np.max(x, axis=axes, keepdims=True))
    return e / np.sum(e, axis=axes, keepdims=True)


@evaluates("NORMALIZATION", "INormalizationLayer")
def _normalization(node: Node):
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
