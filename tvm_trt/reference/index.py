"""Indexing: slice (all sample modes), gather (default, element, ND), scatter (element, ND),
one-hot, reverse-sequence and non-zero."""

from __future__ import annotations

import numpy as np

from ._common import LayerEval, evaluates, ints, scalar


def _slice_indices(node: LayerEval, index: np.ndarray, size: int, mode: str) -> np.ndarray:
    if mode == "WRAP":
        return index % size
    if mode in ("CLAMP", "FILL"):
        return np.clip(index, 0, size - 1)
    if mode == "REFLECT":
        if size == 1:
            return np.zeros_like(index)
        c = np.abs(index) % (2 * size - 2)
        return np.where(c >= size, 2 * size - 2 - c, c)
    if mode == "STRICT_BOUNDS":
        if index.size and (index.min() < 0 or index.max() >= size):
            raise ValueError(f"reference executor: layer '{node.layer.name}' slices out of bounds")
        return index
    raise node.unsupported("mode", mode)


@evaluates("SLICE", "ISliceLayer")
def _slice(node: LayerEval):
    layer = node.layer
    x = node.inputs[0]
    start = ints(node.input(1)) if node.input(1) is not None else list(layer.start)
    size = ints(node.input(2)) if node.input(2) is not None else list(layer.shape)
    stride = ints(node.input(3)) if node.input(3) is not None else list(layer.stride)
    axes = ints(node.input(5)) if node.input(5) is not None else layer.axes
    axes = list(range(x.ndim)) if axes is None else [a % x.ndim for a in axes]
    mode = layer.mode.name
    wanted = {axis: b + s * np.arange(n) for axis, b, n, s in zip(axes, start, size, stride)}
    out_shape = [len(wanted[d]) if d in wanted else x.shape[d] for d in range(x.ndim)]
    if x.size == 0:  # nothing to read (TensorRT requires empty outputs, or FILL fills them)
        y = np.zeros(out_shape, x.dtype)
    else:
        indices = [
            _slice_indices(node, wanted[d], n, mode) if d in wanted else np.arange(n) for d, n in enumerate(x.shape)
        ]
        y = x[np.ix_(*indices)]
    if mode == "FILL":
        inside = [(axis, (index >= 0) & (index < x.shape[axis])) for axis, index in wanted.items()]
        fill = scalar(node.input(4)) if node.input(4) is not None else 0
        mask = np.ones(y.shape, bool)
        for axis, keep in inside:
            mask &= keep.reshape([-1 if d == axis else 1 for d in range(y.ndim)])
        y = np.where(mask, y, np.asarray(fill).astype(y.dtype))
    return y


def _check_indices(node: LayerEval, indices: np.ndarray, size: int) -> np.ndarray:
    """Indices in [-size, size), negative ones counting from the end (TensorRT's gather and
    scatter accept them; the ONNX parser passes Gather's negative indices straight through),
    made non-negative. Anything else is undefined on the device, so it is an error here."""
    if indices.size and (indices.min() < -size or indices.max() >= size):
        raise ValueError(f"reference executor: layer '{node.layer.name}' indexes with values outside [-{size}, {size})")
    return np.where(indices < 0, indices + size, indices)


@evaluates("GATHER", "IGatherLayer")
def _gather(node: LayerEval):
    layer = node.layer
    data, indices = node.inputs[:2]
    indices = indices.astype(np.int64)
    mode, axis, batch = layer.mode.name, layer.axis, layer.num_elementwise_dims
    if mode == "DEFAULT":
        indices = _check_indices(node, indices, data.shape[axis])
        if batch == 0:
            return np.take(data, indices, axis=axis)
        if batch == 1 and axis >= 1:  # leading dim of data and indices is shared
            return np.stack([np.take(data[i], indices[i], axis=axis - 1) for i in range(data.shape[0])])
        raise node.unsupported("num_elementwise_dims", batch)
    if mode == "ELEMENT":
        indices = _check_indices(node, indices, data.shape[axis])
        view = data[tuple(slice(0, n) if d != axis else slice(None) for d, n in enumerate(indices.shape))]
        return np.take_along_axis(view, indices, axis=axis)
    if mode == "ND":
        return _gather_nd(node, data, indices, batch)
    raise node.unsupported("mode", mode)


def _gather_nd(node: LayerEval, data: np.ndarray, indices: np.ndarray, batch: int) -> np.ndarray:
    """ONNX GatherND semantics with `batch` leading batch dims."""
    depth = indices.shape[-1]
    batch_shape = data.shape[:batch]
    indices = np.stack([_check_indices(node, indices[..., d], data.shape[batch + d]) for d in range(depth)], -1)
    flat_data = data.reshape((-1,) + data.shape[batch:])
    flat_idx = indices.reshape((int(np.prod(batch_shape, dtype=np.int64)), -1, depth))
    picked = [fd[tuple(ix.T)] for fd, ix in zip(flat_data, flat_idx)]
    return np.stack(picked).reshape(indices.shape[:-1] + data.shape[batch + depth :])


@evaluates("NON_ZERO", "INonZeroLayer")
def _non_zero(node: LayerEval):
    return np.array(np.nonzero(node.inputs[0]), dtype=np.int64).reshape(node.inputs[0].ndim, -1)


@evaluates("SCATTER", "IScatterLayer")
def _scatter(node: LayerEval):
    """Copies data, then writes updates where indices point (later updates win on duplicates,
    which TensorRT leaves undefined)."""
    layer = node.layer
    data, indices, updates = node.inputs[:3]
    y = data.copy()
    indices = indices.astype(np.int64)
    mode = layer.mode.name
    if mode == "ELEMENT":
        axis = layer.axis % data.ndim
        indices = _check_indices(node, indices, data.shape[axis])
        np.put_along_axis(y, indices, updates, axis=axis)
        return y
    if mode == "ND":
        depth = indices.shape[-1]
        columns = [_check_indices(node, indices[..., d], data.shape[d]) for d in range(depth)]
        y[tuple(c.reshape(-1) for c in columns)] = updates.reshape((-1,) + data.shape[depth:])
        return y
    raise node.unsupported("mode", mode)


@evaluates("ONE_HOT", "IOneHotLayer")
def _one_hot(node: LayerEval):
    """output[..., i, ...] = on where indices[...] == i (negative indices count from depth),
    off elsewhere; out-of-range indices give a row of off values."""
    indices, values, depth = node.inputs[:3]
    depth = int(scalar(depth))
    off, on = np.asarray(values).reshape(-1)[:2]
    indices = indices.astype(np.int64)
    indices = np.where(indices < 0, indices + depth, indices)
    axis = node.layer.axis % (indices.ndim + 1)
    classes = np.arange(depth).reshape([-1 if d == axis else 1 for d in range(indices.ndim + 1)])
    return np.where(np.expand_dims(indices, axis) == classes, on, off)


@evaluates("REVERSE_SEQUENCE", "IReverseSequenceLayer")
def _reverse_sequence(node: LayerEval):
    """Reverses the first lens[b] elements along sequence_axis of every batch entry b."""
    layer = node.layer
    x, lens = node.inputs[:2]
    batch_axis, seq_axis = layer.batch_axis % x.ndim, layer.sequence_axis % x.ndim
    n = x.shape[seq_axis]
    y = x.copy()
    for b, length in enumerate(ints(lens)):
        if not 0 <= length <= n:
            raise ValueError(f"reference executor: layer '{layer.name}': sequence length {length} outside [0, {n}]")
        source = [slice(None)] * x.ndim
        source[batch_axis] = b
        target = list(source)
        source[seq_axis] = slice(length - 1, None, -1) if length else slice(0, 0)
        target[seq_axis] = slice(0, length)
        y[tuple(target)] = x[tuple(source)]
    return y
