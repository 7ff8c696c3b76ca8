"""The shared harness of the reference-executor tests: a TensorRT network under construction with the host values
of its inputs (``Net``), random inputs, and naive NumPy expectations for convolution and pooling."""

import itertools

import numpy as np

from tvm_trt.core import tensorrt

if tensorrt.available():
    from tvm_trt import reference

    trt = tensorrt.trt()

RNG = np.random.default_rng(0)

_TRT_TYPES = {
    np.dtype(np.float32): "FLOAT",
    np.dtype(np.float16): "HALF",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.int8): "INT8",
    np.dtype(np.uint8): "UINT8",
}


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def trt_type(dtype):
    return getattr(trt.DataType, _TRT_TYPES[np.dtype(dtype)])


class Net:
    """A network under construction plus the host values for its inputs."""

    def __init__(self):
        self.builder = trt.Builder(tensorrt.get_logger())
        self.network = self.builder.create_network(0)
        self.feeds = {}
        self._keep = []  # trt.Weights borrow host memory until the network is done with it

    def input(self, value, shape=None, name=None):
        value = np.asarray(value)
        name = name or f"in{len(self.feeds)}"
        self.feeds[name] = value
        return self.network.add_input(name, trt_type(value.dtype), value.shape if shape is None else shape)

    def weights(self, value):
        if value is None:
            return trt.Weights()
        value = np.array(value, order="C")  # (ascontiguousarray would turn 0-d into 1-d)
        self._keep.append(value)
        return trt.Weights(value)

    def const(self, value):
        value = np.array(value, order="C")
        self._keep.append(value)
        return self.network.add_constant(value.shape, trt.Weights(value)).get_output(0)

    def run(self, *outputs, feeds=None):
        for j, tensor in enumerate(outputs):
            tensor.name = f"out{j}"
            self.network.mark_output(tensor)
        result = reference.run_network(self.network, self.feeds if feeds is None else feeds)
        values = [result[f"out{j}"] for j in range(len(outputs))]
        return values[0] if len(values) == 1 else values


# ----------------------------------------------------------------------------------------------
# Naive expectations


def naive_conv(x, w, b, stride, pre, post, dilation, groups):
    """Direct loops over output positions and output channels."""
    nsp = w.ndim - 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + list(zip(pre, post)))
    n, c = x.shape[:2]
    k_out = w.shape[0]
    cg, kg = c // groups, k_out // groups
    out = [(xp.shape[2 + i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    y = np.zeros((n, k_out) + tuple(out))
    for k in range(k_out):
        g = k // kg
        for pos in itertools.product(*map(range, out)):
            window = tuple(
                slice(p * s, p * s + d * (kk - 1) + 1, d) for p, s, d, kk in zip(pos, stride, dilation, w.shape[2:])
            )
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + window]
            y[(slice(None), k) + pos] = (patch * w[k]).reshape(n, -1).sum(axis=1)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nsp)
    return y


def naive_deconv(x, w, b, stride, pre, post, dilation, groups):
    """Scatter every input element times the kernel into the output, then crop the padding."""
    n, c = x.shape[:2]
    sizes, kernel = x.shape[2:], w.shape[2:]
    cg, kg = c // groups, w.shape[1]
    full = [(i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip(sizes, stride, dilation, kernel)]
    y = np.zeros((n, kg * groups) + tuple(full))
    for ci in range(c):
        g = ci // cg
        for j in range(kg):
            for ipos in itertools.product(*map(range, sizes)):
                for kpos in itertools.product(*map(range, kernel)):
                    opos = tuple(i * s + k * d for i, s, k, d in zip(ipos, stride, kpos, dilation))
                    y[(slice(None), g * kg + j) + opos] += x[(slice(None), ci) + ipos] * w[(ci, j) + kpos]
    crop = tuple(slice(b_, f - a) for b_, a, f in zip(pre, post, full))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(sizes))
    return y


def naive_pool(x, window, stride, pre, post, out, kind, exclude_padding=True):
    """Loops over output windows; `out` is given so ceil-mode windows may run past the padding."""
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    y = np.zeros((n, c) + tuple(out))
    for pos in itertools.product(*map(range, out)):
        lows = [p * s - b for p, s, b in zip(pos, stride, pre)]
        highs = [lo + k for lo, k in zip(lows, window)]
        inside = tuple(slice(max(lo, 0), min(hi, size)) for lo, hi, size in zip(lows, highs, sizes))
        patch = x[(slice(None), slice(None)) + inside].reshape(n, c, -1)
        if kind == "max":
            y[(slice(None), slice(None)) + pos] = patch.max(axis=-1)
        else:
            if exclude_padding:
                count = patch.shape[-1]
            else:
                spans = [min(hi, n + a) - max(lo, -b) for lo, hi, n, a, b in zip(lows, highs, sizes, post, pre)]
                count = np.prod(spans)
            y[(slice(None), slice(None)) + pos] = patch.sum(axis=-1) / count
    return y


def configure_layer(layer, settings):
    for key, value in settings.items():
        if key == "padding_mode":
            value = getattr(trt.PaddingMode, value)
        setattr(layer, key, value)
