"""Convolution and deconvolution (N-D, grouped, dilated), in float32 for half types."""

from __future__ import annotations

import itertools

import numpy as np

from ._common import (
    LayerEval,
    compute,
    evaluates,
    is_low_float,
    pad_for_windows,
    pad_or_crop,
    to_batched,
    weights_of,
    window_padding,
    window_slices,
)


def _correlate(xp: np.ndarray, w: np.ndarray, groups: int, strides, dilation, out) -> np.ndarray:
    """Grouped N-D cross-correlation of padded (N, C, *sp) with (K, C/groups, *k)."""
    n, c = xp.shape[:2]
    k_out = w.shape[0]
    kernel = w.shape[2:]
    cg, kg = c // groups, k_out // groups
    taps = list(itertools.product(*(range(k) for k in kernel)))
    xg = xp.reshape((n, groups, cg) + xp.shape[2:])
    lead = (slice(None),) * 3
    if cg == 1:
        # Depthwise: one multiply-add per tap over whole feature maps beats tiny matmuls.
        wg = w.reshape(groups, kg, len(taps))
        acc = np.zeros((n, groups, kg) + tuple(out), dtype=xp.dtype)
        for j, tap in enumerate(taps):
            patch = xg[lead + window_slices(tap, dilation, strides, out)]
            acc += patch * wg[:, :, j].reshape((1, groups, kg) + (1,) * len(out))
        return acc.reshape((n, k_out) + tuple(out))
    # im2col: gather every tap into one buffer, then a single (batched) GEMM per group.
    cols = np.empty((n, groups, cg, len(taps)) + tuple(out), dtype=xp.dtype)
    for j, tap in enumerate(taps):
        cols[:, :, :, j] = xg[lead + window_slices(tap, dilation, strides, out)]
    cols = cols.reshape(n, groups, cg * len(taps), -1)
    acc = np.matmul(w.reshape(groups, kg, cg * len(taps)), cols)
    return acc.reshape((n, k_out) + tuple(out))


def _conv_params(node: LayerEval):
    layer = node.layer
    if node.inputs[0].dtype.kind != "f" and not is_low_float(node.inputs[0].dtype):
        raise node.unsupported("input dtype", node.inputs[0].dtype)  # int8 needs Q/DQ semantics
    kernel = tuple(layer.kernel_size_nd)
    nsp = len(kernel)
    strides = tuple(layer.stride_nd)
    dilation = tuple(layer.dilation_nd)
    w = node.input(1) if node.input(1) is not None else weights_of(node, layer.kernel, "kernel")
    b = node.input(2) if node.input(2) is not None else weights_of(node, layer.bias, "bias")
    if w is None:
        raise ValueError(f"reference executor: layer '{layer.name}' has no kernel")
    return kernel, nsp, strides, dilation, compute(np.asarray(w)), None if b is None else compute(np.asarray(b))


@evaluates("CONVOLUTION", "IConvolutionLayer")
def _convolution(node: LayerEval):
    layer = node.layer
    kernel, nsp, strides, dilation, w, b = _conv_params(node)
    x, lead = to_batched(compute(node.inputs[0]), nsp)
    groups, k_out = layer.num_groups, layer.num_output_maps
    w = w.reshape((k_out, x.shape[1] // groups) + kernel)
    windows = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    pre, _, out = window_padding(node, x.shape[2:], windows, strides)
    xp = pad_for_windows(x, nsp, pre, out, windows, strides, 0)
    y = _correlate(xp, w, groups, strides, dilation, out)
    if b is not None:
        y += b.reshape((1, k_out) + (1,) * nsp)
    return y.reshape(lead + y.shape[1:])


def _deconv_padding(node: LayerEval, windows, strides):
    mode = node.layer.padding_mode.name
    if mode in ("EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP"):  # both give (I-1)*S + DK - B - A
        return list(node.layer.pre_padding), list(node.layer.post_padding)
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max(k - s, 0) for k, s in zip(windows, strides)]
        small = [t // 2 for t in totals]
        large = [t - t // 2 for t in totals]
        return (small, large) if mode == "SAME_UPPER" else (large, small)
    raise node.unsupported("padding_mode", mode)


@evaluates("DECONVOLUTION", "IDeconvolutionLayer")
def _deconvolution(node: LayerEval):
    layer = node.layer
    kernel, nsp, strides, dilation, w, b = _conv_params(node)
    x, lead = to_batched(compute(node.inputs[0]), nsp)
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    groups, k_out = layer.num_groups, layer.num_output_maps
    cg, kg = c // groups, k_out // groups
    taps = list(itertools.product(*(range(k) for k in kernel)))
    # Kernel layout is (C_in, K/groups, *kernel). One GEMM gives every tap's contribution...
    wg = w.reshape(groups, cg, kg * len(taps)).transpose(0, 2, 1)
    cols = np.matmul(wg, x.reshape(n, groups, cg, -1)).reshape((n, groups, kg, len(taps)) + sizes)
    # ...which is then scattered (col2im) into the full, uncropped output.
    windows = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    full = np.zeros((n, groups, kg) + tuple((i - 1) * s + k for i, s, k in zip(sizes, strides, windows)), x.dtype)
    lead_slices = (slice(None),) * 3
    for j, tap in enumerate(taps):
        full[lead_slices + window_slices(tap, dilation, strides, sizes)] += cols[:, :, :, j]
    pre, post = _deconv_padding(node, windows, strides)
    full = full.reshape((n, k_out) + full.shape[3:])
    y = pad_or_crop(full, range(2, 2 + nsp), [-p for p in pre], [-p for p in post])  # padding crops
    if b is not None:
        y = y + b.reshape((1, k_out) + (1,) * nsp)
    return y.reshape(lead + y.shape[1:])
