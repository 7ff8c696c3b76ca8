"""Pooling: max, average (padding counted or not) and their blend."""

from __future__ import annotations

import itertools

import numpy as np

from ._common import LayerEval, compute, evaluates, lowest, pad_for_windows, to_batched, window_padding, window_slices


@evaluates("POOLING", "IPoolingLayer")
def _pooling(node: LayerEval):
    layer = node.layer
    kind = layer.type.name  # the PoolingType once downcast
    if kind not in ("MAX", "AVERAGE", "MAX_AVERAGE_BLEND"):
        raise node.unsupported("type", kind)
    window = tuple(layer.window_size_nd)
    nsp = len(window)
    strides = tuple(layer.stride_nd)
    ones = (1,) * nsp
    x, lead = to_batched(compute(node.inputs[0]), nsp)
    sizes = x.shape[2:]
    pre, post, out = window_padding(node, sizes, window, strides)
    taps = list(itertools.product(*(range(k) for k in window)))
    lead_slices = (slice(None),) * 2

    def pooled(padded, combine):
        acc = None
        for tap in taps:
            patch = padded[lead_slices + window_slices(tap, ones, strides, out)]
            acc = patch.copy() if acc is None else combine(acc, patch, out=acc)
        return acc

    results = {}
    if kind in ("MAX", "MAX_AVERAGE_BLEND"):
        results["MAX"] = pooled(pad_for_windows(x, nsp, pre, out, window, strides, lowest(x.dtype)), np.maximum)
    if kind in ("AVERAGE", "MAX_AVERAGE_BLEND"):
        total = pooled(pad_for_windows(x, nsp, pre, out, window, strides, 0), np.add)
        # The divisor counts window elements inside the input (excludes padding) or inside the
        # padded input; window parts running past the post-padding (round-up mode) never count.
        if layer.average_count_excludes_padding:
            region, region_pre = np.ones((1, 1) + tuple(sizes), x.dtype), pre
        else:
            padded_sizes = tuple(n + b + a for n, b, a in zip(sizes, pre, post))
            region, region_pre = np.ones((1, 1) + padded_sizes, x.dtype), [0] * nsp
        count = pooled(pad_for_windows(region, nsp, region_pre, out, window, strides, 0), np.add)
        results["AVERAGE"] = total / count
    if kind == "MAX_AVERAGE_BLEND":
        blend = layer.blend_factor
        y = (1 - blend) * results["MAX"] + blend * results["AVERAGE"]
    else:
        y = results[kind]
    return y.reshape(lead + y.shape[1:])
