"""Shape manipulation, constants and fills: shuffle, squeeze/unsqueeze, shape, concatenation,
constant, padding, fill and assertion."""

from __future__ import annotations

from typing import List

import numpy as np

from ._common import LayerEval, evaluates, ints, pad_or_crop, scalar, weights_of


@evaluates("SHUFFLE", "IShuffleLayer")
def _shuffle(node: LayerEval):
    layer = node.layer
    x = node.inputs[0]
    x = x.transpose(_permutation(node, layer.first_transpose, x.ndim, "first_transpose"))
    dims = ints(node.input(1)) if node.input(1) is not None else layer.reshape_dims
    if dims is not None:
        x = x.reshape(_reshape_dims(node, list(dims), x.shape, layer.zero_is_placeholder))
    return x.transpose(_permutation(node, layer.second_transpose, x.ndim, "second_transpose"))


def _permutation(node: LayerEval, permutation, rank: int, attribute: str) -> List[int]:
    perm = list(permutation)[:rank]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"reference executor: layer '{node.layer.name}': {attribute}={perm} is not a permutation")
    return perm


def _reshape_dims(node: LayerEval, dims: List[int], shape, zero_is_placeholder: bool) -> List[int]:
    resolved = []
    for i, d in enumerate(dims):
        if d == 0 and zero_is_placeholder:
            if i >= len(shape):
                raise ValueError(f"reference executor: layer '{node.layer.name}': reshape 0 at {i} has no input dim")
            d = shape[i]
        resolved.append(d)
    return resolved


@evaluates("SQUEEZE", "ISqueezeLayer")
def _squeeze(node: LayerEval):
    x = node.inputs[0]
    if node.input(1) is None:  # no axes: every dim that is statically 1 in the definition
        axes = tuple(d for d, n in enumerate(node.layer.get_input(0).shape) if n == 1)
    else:
        axes = tuple(a % x.ndim for a in ints(node.inputs[1]))
    return np.squeeze(x, axis=axes)


@evaluates("UNSQUEEZE", "IUnsqueezeLayer")
def _unsqueeze(node: LayerEval):
    x = node.inputs[0]
    axes = ints(node.inputs[1])
    rank = x.ndim + len(axes)  # axes refer to the output
    return np.expand_dims(x, axis=tuple(sorted(a % rank for a in axes)))


@evaluates("SHAPE", "IShapeLayer")
def _shape(node: LayerEval):
    return np.array(node.inputs[0].shape, dtype=np.int64)


@evaluates("CONCATENATION", "IConcatenationLayer")
def _concatenation(node: LayerEval):
    return np.concatenate(node.inputs, axis=node.layer.axis)


@evaluates("CONSTANT", "IConstantLayer")
def _constant(node: LayerEval):
    values = weights_of(node, node.layer.weights, "weights")
    shape = tuple(node.layer.shape)
    if values is None:
        return np.zeros(shape, node.out_dtypes[0])
    return values.reshape(shape)


@evaluates("PADDING", "IPaddingLayer")
def _padding(node: LayerEval):
    x = node.inputs[0]
    pre, post = list(node.layer.pre_padding_nd), list(node.layer.post_padding_nd)
    return pad_or_crop(x, range(x.ndim - len(pre), x.ndim), pre, post, 0)  # innermost dims


@evaluates("FILL", "IFillLayer")
def _fill(node: LayerEval):
    layer = node.layer
    op = layer.operation.name
    if op != "LINSPACE":  # random fills have no reproducible reference
        raise node.unsupported("operation", op)
    shape = ints(node.input(0)) if node.input(0) is not None else list(layer.shape)
    alpha = scalar(node.input(1)) if node.input(1) is not None else layer.alpha
    if node.input(2) is not None:
        beta = np.asarray(node.input(2)).reshape(-1)
    elif len(shape) == 1:
        beta = np.array([layer.beta])
    else:
        raise node.unsupported("beta", f"scalar with a rank-{len(shape)} output")
    dtype = np.float64 if node.out_dtypes[0].kind == "f" else np.int64
    grids = np.indices(shape, dtype=dtype)
    return alpha + np.tensordot(beta.astype(dtype), grids, axes=1) if shape else np.asarray(alpha)


@evaluates("ASSERTION", "IAssertionLayer")
def _assertion(node: LayerEval):
    if not np.all(node.inputs[0]):
        raise AssertionError(f"reference executor: assertion layer '{node.layer.name}' failed: {node.layer.message}")
    return []
