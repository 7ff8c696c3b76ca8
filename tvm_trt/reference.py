"""Reference executor: evaluates a TensorRT network definition in NumPy.

The network is read back layer by layer through the TensorRT Python API and every layer is
computed on the host, so conversions can be checked numerically on machines that can build
plans but cannot run engines. It is a verification tool, not a runtime: anything it does not
model exactly (a layer type, an attribute value, a data type) raises ``NotImplementedError``
naming the layer instead of producing approximate numbers.

Half-precision tensors are computed in float32 and rounded to the tensor's type after every
layer, which is close to (not bit-identical with) what TensorRT kernels do.
"""
from __future__ import annotations

import heapq
import itertools
import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from tvm_trt import backend
from tvm_trt.network import np_dtype

__all__ = ["run_network"]


def run_network(network, inputs: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Evaluate `network` (trt.INetworkDefinition) on host arrays; returns {output tensor name: array}.

    Input dimensions declared as -1 take their size from the given arrays; every other
    dimension must match. Arrays are converted to the input tensor's data type.
    """
    trt = backend.trt()
    values: Dict[str, np.ndarray] = {}
    expected = set()
    for i in range(network.num_inputs):
        tensor = network.get_input(i)
        expected.add(tensor.name)
        values[tensor.name] = _bind_input(tensor, inputs)
    unknown = sorted(set(inputs) - expected)
    if unknown:
        raise ValueError(f"reference executor: no network inputs named {unknown}; inputs are {sorted(expected)}")
    for layer in _topological_order(network):
        _run_layer(trt, layer, values)
    outputs = {}
    for i in range(network.num_outputs):
        name = network.get_output(i).name
        outputs[name] = values[name]
    return outputs


# ----------------------------------------------------------------------------------------------
# Driver


def _bind_input(tensor, inputs) -> np.ndarray:
    if tensor.name not in inputs:
        raise KeyError(f"reference executor: missing value for network input '{tensor.name}'")
    declared = tuple(tensor.shape)
    array = np.asarray(inputs[tensor.name])
    if array.ndim != len(declared) or any(d >= 0 and d != a for d, a in zip(declared, array.shape)):
        raise ValueError(
            f"reference executor: input '{tensor.name}' has shape {array.shape}, network declares {declared}"
        )
    return array.astype(_np_dtype(tensor.dtype, f"input '{tensor.name}'"), copy=False)


def _topological_order(network) -> List:
    """Layers ordered so producers run first.

    Network order is usually topological, but not after `set_input` rewires a layer to a
    tensor made later (e.g. a constant shape added after the shuffle that reads it).
    """
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    producer = {}
    for index, layer in enumerate(layers):
        for j in range(layer.num_outputs):
            producer[layer.get_output(j).name] = index
    consumers: Dict[int, List[int]] = {i: [] for i in range(len(layers))}
    pending = []
    for index, layer in enumerate(layers):
        deps = set()
        for j in range(layer.num_inputs):
            tensor = layer.get_input(j)
            if tensor is not None and tensor.name in producer and producer[tensor.name] != index:
                deps.add(producer[tensor.name])
        for dep in deps:
            consumers[dep].append(index)
        pending.append(len(deps))
    ready = [i for i, n in enumerate(pending) if n == 0]
    heapq.heapify(ready)  # smallest index first keeps the network's own order where possible
    order = []
    while ready:
        index = heapq.heappop(ready)
        order.append(layers[index])
        for consumer in consumers[index]:
            pending[consumer] -= 1
            if pending[consumer] == 0:
                heapq.heappush(ready, consumer)
    if len(order) != len(layers):
        raise ValueError("reference executor: the network has a cycle (loops are not supported)")
    return order


def _run_layer(trt, layer, values: Dict[str, np.ndarray]) -> None:
    # Read the LayerType before downcasting: several subclasses shadow `type` with their own
    # enum (IActivationLayer.type is an ActivationType, IPoolingLayer.type a PoolingType).
    kind = layer.type.name
    entry = _EVALUATORS.get(kind)
    if entry is None:
        raise NotImplementedError(
            f"reference executor: layer '{layer.name}' has type {kind}, which is not supported"
        )
    class_name, evaluate = entry
    layer.__class__ = getattr(trt, class_name)
    ins: List[Optional[np.ndarray]] = []
    for j in range(layer.num_inputs):
        tensor = layer.get_input(j)
        if tensor is None:  # optional input left unset
            ins.append(None)
        elif tensor.name not in values:
            raise ValueError(
                f"reference executor: layer '{layer.name}' reads tensor '{tensor.name}' before it is produced"
            )
        else:
            ins.append(values[tensor.name])
    where = f"layer '{layer.name}' of type {kind}: output"
    out_dtypes = [_np_dtype(layer.get_output(j).dtype, where) for j in range(layer.num_outputs)]
    node = _Node(layer, kind, ins, out_dtypes)
    results = evaluate(node)
    if isinstance(results, np.ndarray) or np.isscalar(results):
        results = [results]
    for j, (result, dtype) in enumerate(zip(results, out_dtypes)):
        name = layer.get_output(j).name
        if name in values:  # values are keyed by name, so names must be unique
            raise ValueError(f"reference executor: tensor name '{name}' is used more than once")
        values[name] = np.asarray(result).astype(dtype, copy=False)


class _Node:
    """One layer being evaluated: the downcast layer, its input arrays and output dtypes."""

    def __init__(self, layer, kind: str, inputs: List[Optional[np.ndarray]], out_dtypes: List[np.dtype]):
        self.layer = layer
        self.kind = kind
        self.inputs = inputs
        self.out_dtypes = out_dtypes

    def input(self, index: int) -> Optional[np.ndarray]:
        return self.inputs[index] if index < len(self.inputs) else None

    def unsupported(self, attribute: str, value) -> NotImplementedError:
        return NotImplementedError(
            f"reference executor: layer '{self.layer.name}' of type {self.kind}: "
            f"{attribute}={value} is not supported"
        )


_Evaluator = Callable[[_Node], object]
_EVALUATORS: Dict[str, Tuple[str, _Evaluator]] = {}


def _evaluates(kind: str, class_name: str):
    def register(fn: _Evaluator) -> _Evaluator:
        _EVALUATORS[kind] = (class_name, fn)
        return fn

    return register


# ----------------------------------------------------------------------------------------------
# Shared helpers

def _np_dtype(trt_dtype, where: str = "tensor") -> np.dtype:
    try:
        return np_dtype(trt_dtype)
    except KeyError:  # FP8, INT4, FP4, E8M0 need quantization semantics not modelled here
        raise NotImplementedError(f"reference executor: {where} dtype={trt_dtype.name} is not supported") from None


def _is_low_float(dtype: np.dtype) -> bool:
    return dtype == np.float16 or dtype.name == "bfloat16"


def _compute(x: np.ndarray) -> np.ndarray:
    """Half and bfloat16 are computed in float32 (TensorRT accumulates them in float32 too)."""
    return x.astype(np.float32) if _is_low_float(x.dtype) else x


def _weights(node: _Node, weights, attribute: str) -> Optional[np.ndarray]:
    """trt.Weights (or the ndarray the bindings return) -> ndarray; None when empty."""
    if weights is None:
        return None
    array = weights if isinstance(weights, np.ndarray) else weights.numpy()
    if not isinstance(array, np.ndarray):
        # The bindings cannot expose some types (e.g. BF16) as arrays.
        raise node.unsupported(attribute, f"weights of type {weights.dtype.name} (not readable from Python)")
    return None if array.size == 0 else array


def _axes_from_mask(mask: int, rank: int) -> Tuple[int, ...]:
    return tuple(i for i in range(rank) if mask >> i & 1)


def _ints(array: np.ndarray) -> List[int]:
    return [int(v) for v in np.asarray(array).reshape(-1)]


def _scalar(array: np.ndarray):
    return np.asarray(array).reshape(-1)[0]


def _pad_or_crop(x: np.ndarray, axes: Sequence[int], pre: Sequence[int], post: Sequence[int], value=0) -> np.ndarray:
    """Pads with `value` (negative amounts crop) along `axes`."""
    crop = [slice(None)] * x.ndim
    widths = [(0, 0)] * x.ndim
    for axis, b, a in zip(axes, pre, post):
        widths[axis] = (max(b, 0), max(a, 0))
        crop[axis] = slice(max(-b, 0), x.shape[axis] - max(-a, 0))
    x = x[tuple(crop)]
    if any(w != (0, 0) for w in widths):
        x = np.pad(x, widths, constant_values=value)
    return x


def _lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


_erf = np.vectorize(math.erf, otypes=[np.float64])


def _erf_like(x: np.ndarray) -> np.ndarray:
    return _erf(x).astype(x.dtype)


# ----------------------------------------------------------------------------------------------
# Convolution, deconvolution, pooling


def _window_padding(node: _Node, sizes, windows, strides):
    """(pre, post, out) per spatial dim for convolution/pooling, honouring padding_mode.

    `windows` are effective (dilated) window extents. `post` is the explicit post-padding;
    EXPLICIT_ROUND_UP may need windows running past it (handled by the caller).
    """
    layer = node.layer
    mode = layer.padding_mode.name
    pre, post, out = [], [], []
    for i, (n, k, s) in enumerate(zip(sizes, windows, strides)):
        if mode in ("SAME_UPPER", "SAME_LOWER"):
            o = -(-n // s)
            total = max((o - 1) * s + k - n, 0)
            small, large = total // 2, total - total // 2
            b, a = (small, large) if mode == "SAME_UPPER" else (large, small)
        elif mode in ("EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP"):
            b, a = layer.pre_padding[i], layer.post_padding[i]
            span = n + b + a - k
            o = (span // s if mode == "EXPLICIT_ROUND_DOWN" else -(-span // s)) + 1
        else:
            raise node.unsupported("padding_mode", mode)
        if o <= 0:
            raise ValueError(f"reference executor: layer '{layer.name}' has an empty output (dim {i})")
        pre.append(b)
        post.append(a)
        out.append(o)
    return pre, post, out


def _pad_for_windows(x, nsp, pre, out, windows, strides, value):
    """Pads/crops the trailing `nsp` dims so exactly out[i] windows fit."""
    sizes = x.shape[-nsp:]
    end = [(o - 1) * s + k - n - b for o, s, k, n, b in zip(out, strides, windows, sizes, pre)]
    return _pad_or_crop(x, range(x.ndim - nsp, x.ndim), pre, end, value)


def _window_slices(offsets, dilation, strides, out):
    """Strided slices selecting, for one kernel offset, the input element of every window."""
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offsets, dilation, strides, out))


def _to_batched(x: np.ndarray, nsp: int):
    """(..., C, *spatial) -> (N, C, *spatial) plus the leading shape to restore."""
    lead = x.shape[: x.ndim - nsp - 1]
    return x.reshape((-1,) + x.shape[x.ndim - nsp - 1 :]), lead


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
            patch = xg[lead + _window_slices(tap, dilation, strides, out)]
            acc += patch * wg[:, :, j].reshape((1, groups, kg) + (1,) * len(out))
        return acc.reshape((n, k_out) + tuple(out))
    # im2col: gather every tap into one buffer, then a single (batched) GEMM per group.
    cols = np.empty((n, groups, cg, len(taps)) + tuple(out), dtype=xp.dtype)
    for j, tap in enumerate(taps):
        cols[:, :, :, j] = xg[lead + _window_slices(tap, dilation, strides, out)]
    cols = cols.reshape(n, groups, cg * len(taps), -1)
    acc = np.matmul(w.reshape(groups, kg, cg * len(taps)), cols)
    return acc.reshape((n, k_out) + tuple(out))


def _conv_params(node: _Node):
    layer = node.layer
    if node.inputs[0].dtype.kind != "f" and not _is_low_float(node.inputs[0].dtype):
        raise node.unsupported("input dtype", node.inputs[0].dtype)  # int8 needs Q/DQ semantics
    kernel = tuple(layer.kernel_size_nd)
    nsp = len(kernel)
    strides = tuple(layer.stride_nd)
    dilation = tuple(layer.dilation_nd)
    w = node.input(1) if node.input(1) is not None else _weights(node, layer.kernel, "kernel")
    b = node.input(2) if node.input(2) is not None else _weights(node, layer.bias, "bias")
    if w is None:
        raise ValueError(f"reference executor: layer '{layer.name}' has no kernel")
    return kernel, nsp, strides, dilation, _compute(np.asarray(w)), None if b is None else _compute(np.asarray(b))


@_evaluates("CONVOLUTION", "IConvolutionLayer")
def _convolution(node: _Node):
    layer = node.layer
    kernel, nsp, strides, dilation, w, b = _conv_params(node)
    x, lead = _to_batched(_compute(node.inputs[0]), nsp)
    groups, k_out = layer.num_groups, layer.num_output_maps
    w = w.reshape((k_out, x.shape[1] // groups) + kernel)
    windows = [d * (k - 1) + 1 for k, d in zip(kernel, dilation)]
    pre, _, out = _window_padding(node, x.shape[2:], windows, strides)
    xp = _pad_for_windows(x, nsp, pre, out, windows, strides, 0)
    y = _correlate(xp, w, groups, strides, dilation, out)
    if b is not None:
        y += b.reshape((1, k_out) + (1,) * nsp)
    return y.reshape(lead + y.shape[1:])


def _deconv_padding(node: _Node, windows, strides):
    mode = node.layer.padding_mode.name
    if mode in ("EXPLICIT_ROUND_DOWN", "EXPLICIT_ROUND_UP"):  # both give (I-1)*S + DK - B - A
        return list(node.layer.pre_padding), list(node.layer.post_padding)
    if mode in ("SAME_UPPER", "SAME_LOWER"):
        totals = [max(k - s, 0) for k, s in zip(windows, strides)]
        small = [t // 2 for t in totals]
        large = [t - t // 2 for t in totals]
        return (small, large) if mode == "SAME_UPPER" else (large, small)
    raise node.unsupported("padding_mode", mode)


@_evaluates("DECONVOLUTION", "IDeconvolutionLayer")
def _deconvolution(node: _Node):
    layer = node.layer
    kernel, nsp, strides, dilation, w, b = _conv_params(node)
    x, lead = _to_batched(_compute(node.inputs[0]), nsp)
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
        full[lead_slices + _window_slices(tap, dilation, strides, sizes)] += cols[:, :, :, j]
    pre, post = _deconv_padding(node, windows, strides)
    full = full.reshape((n, k_out) + full.shape[3:])
    y = _pad_or_crop(full, range(2, 2 + nsp), [-p for p in pre], [-p for p in post])  # padding crops
    if b is not None:
        y = y + b.reshape((1, k_out) + (1,) * nsp)
    return y.reshape(lead + y.shape[1:])


@_evaluates("POOLING", "IPoolingLayer")
def _pooling(node: _Node):
    layer = node.layer
    kind = layer.type.name  # the PoolingType once downcast
    if kind not in ("MAX", "AVERAGE", "MAX_AVERAGE_BLEND"):
        raise node.unsupported("type", kind)
    window = tuple(layer.window_size_nd)
    nsp = len(window)
    strides = tuple(layer.stride_nd)
    ones = (1,) * nsp
    x, lead = _to_batched(_compute(node.inputs[0]), nsp)
    sizes = x.shape[2:]
    pre, post, out = _window_padding(node, sizes, window, strides)
    taps = list(itertools.product(*(range(k) for k in window)))
    lead_slices = (slice(None),) * 2

    def pooled(padded, combine):
        acc = None
        for tap in taps:
            patch = padded[lead_slices + _window_slices(tap, ones, strides, out)]
            acc = patch.copy() if acc is None else combine(acc, patch, out=acc)
        return acc

    results = {}
    if kind in ("MAX", "MAX_AVERAGE_BLEND"):
        results["MAX"] = pooled(_pad_for_windows(x, nsp, pre, out, window, strides, _lowest(x.dtype)), np.maximum)
    if kind in ("AVERAGE", "MAX_AVERAGE_BLEND"):
        total = pooled(_pad_for_windows(x, nsp, pre, out, window, strides, 0), np.add)
        # The divisor counts window elements inside the input (excludes padding) or inside the
        # padded input; window parts running past the post-padding (round-up mode) never count.
        if layer.average_count_excludes_padding:
            region, region_pre = np.ones((1, 1) + tuple(sizes), x.dtype), pre
        else:
            padded_sizes = tuple(n + b + a for n, b, a in zip(sizes, pre, post))
            region, region_pre = np.ones((1, 1) + padded_sizes, x.dtype), [0] * nsp
        count = pooled(_pad_for_windows(region, nsp, region_pre, out, window, strides, 0), np.add)
        results["AVERAGE"] = total / count
    if kind == "MAX_AVERAGE_BLEND":
        blend = layer.blend_factor
        y = (1 - blend) * results["MAX"] + blend * results["AVERAGE"]
    else:
        y = results[kind]
    return y.reshape(lead + y.shape[1:])


# ----------------------------------------------------------------------------------------------
# Pointwise


_ACTIVATIONS: Dict[str, Callable] = {
    "RELU": lambda x, a, b: np.maximum(x, 0),
    "SIGMOID": lambda x, a, b: 1 / (1 + np.exp(-x)),
    "TANH": lambda x, a, b: np.tanh(x),
    "LEAKY_RELU": lambda x, a, b: np.where(x >= 0, x, a * x),
    "ELU": lambda x, a, b: np.where(x >= 0, x, a * np.expm1(np.minimum(x, 0))),
    "SELU": lambda x, a, b: b * np.where(x > 0, x, a * np.expm1(np.minimum(x, 0))),
    "SOFTSIGN": lambda x, a, b: x / (1 + np.abs(x)),
    "SOFTPLUS": lambda x, a, b: a * np.logaddexp(0, b * x),
    "CLIP": lambda x, a, b: np.clip(x, a, b),
    "HARD_SIGMOID": lambda x, a, b: np.clip(a * x + b, 0, 1),
    "SCALED_TANH": lambda x, a, b: a * np.tanh(b * x),
    "THRESHOLDED_RELU": lambda x, a, b: np.where(x > a, x, 0),
    "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + _erf_like(x / math.sqrt(2))),
    "GELU_TANH": lambda x, a, b: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
}


@_evaluates("ACTIVATION", "IActivationLayer")
def _activation(node: _Node):
    kind = node.layer.type.name  # the ActivationType once downcast
    fn = _ACTIVATIONS.get(kind)
    if fn is None:
        raise node.unsupported("type", kind)
    x = _compute(node.inputs[0])
    with np.errstate(over="ignore"):  # exp overflow saturates, as on the device
        return fn(x, node.layer.alpha, node.layer.beta).astype(x.dtype, copy=False)


_UNARY: Dict[str, Callable] = {
    "EXP": np.exp,
    "LOG": np.log,
    "SQRT": np.sqrt,
    "RECIP": lambda x: 1 / x,
    "ABS": np.abs,
    "NEG": np.negative,
    "SIN": np.sin,
    "COS": np.cos,
    "TAN": np.tan,
    "SINH": np.sinh,
    "COSH": np.cosh,
    "ASIN": np.arcsin,
    "ACOS": np.arccos,
    "ATAN": np.arctan,
    "ASINH": np.arcsinh,
    "ACOSH": np.arccosh,
    "ATANH": np.arctanh,
    "CEIL": np.ceil,
    "FLOOR": np.floor,
    "ERF": _erf_like,
    "NOT": np.logical_not,
    "SIGN": np.sign,
    "ROUND": np.round,  # half to even, as TensorRT documents
    "ISINF": np.isinf,
    "ISNAN": np.isnan,
}


@_evaluates("UNARY", "IUnaryLayer")
def _unary(node: _Node):
    op = node.layer.op.name
    if op not in _UNARY:
        raise node.unsupported("op", op)
    with np.errstate(all="ignore"):  # log(0), sqrt(-1) give inf/nan like the device
        return _UNARY[op](_compute(node.inputs[0]))


def _divide(a, b):
    if a.dtype.kind in "iu":
        # Integer DIV truncates toward zero (C semantics); FLOOR_DIV is the floored variant.
        q = a // b
        return q + ((a % b != 0) & ((a < 0) != (b < 0)))
    return a / b


def _floor_divide(a, b):
    return a // b if a.dtype.kind in "iu" else np.floor(a / b)


_ELEMENTWISE: Dict[str, Callable] = {
    "SUM": np.add,
    "PROD": np.multiply,
    "MAX": np.maximum,
    "MIN": np.minimum,
    "SUB": np.subtract,
    "DIV": _divide,
    "POW": np.power,
    "FLOOR_DIV": _floor_divide,
    "AND": np.logical_and,
    "OR": np.logical_or,
    "XOR": np.logical_xor,
    "EQUAL": np.equal,
    "GREATER": np.greater,
    "LESS": np.less,
}


def _same_rank(node: _Node, *arrays):
    ranks = {a.ndim for a in arrays}
    if len(ranks) != 1:
        raise ValueError(
            f"reference executor: layer '{node.layer.name}' ({node.kind}) needs inputs of equal rank, "
            f"got shapes {[a.shape for a in arrays]}"
        )


@_evaluates("ELEMENTWISE", "IElementWiseLayer")
def _elementwise(node: _Node):
    op = node.layer.op.name
    if op not in _ELEMENTWISE:
        raise node.unsupported("op", op)
    a, b = (_compute(t) for t in node.inputs[:2])
    _same_rank(node, a, b)  # TensorRT broadcasts only along size-1 dims of equal-rank tensors
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        return _ELEMENTWISE[op](a, b)


@_evaluates("PARAMETRIC_RELU", "IParametricReLULayer")
def _parametric_relu(node: _Node):
    x, slope = (_compute(t) for t in node.inputs[:2])
    _same_rank(node, x, slope)
    return np.where(x >= 0, x, slope * x)


@_evaluates("SELECT", "ISelectLayer")
def _select(node: _Node):
    condition, a, b = node.inputs[:3]
    _same_rank(node, condition, a, b)
    return np.where(condition.astype(bool), a, b)


def _convert(x: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Float -> integer conversion truncates toward zero and saturates; NaN becomes 0."""
    if x.dtype.kind == "f" or _is_low_float(x.dtype):
        if dtype == np.bool_:
            return x != 0
        if dtype.kind in "iu":
            info = np.iinfo(dtype)
            y = np.nan_to_num(np.trunc(x.astype(np.float64)), nan=0.0)
            return np.clip(y, info.min, info.max).astype(dtype)
    return x.astype(dtype)


@_evaluates("CAST", "ICastLayer")
def _cast(node: _Node):
    return _convert(node.inputs[0], node.out_dtypes[0])


@_evaluates("IDENTITY", "IIdentityLayer")
def _identity(node: _Node):
    return _convert(node.inputs[0], node.out_dtypes[0])  # an identity may change the type


def _scale_coefficients(node: _Node, attribute: str, x: np.ndarray) -> Optional[np.ndarray]:
    values = _weights(node, getattr(node.layer, attribute), attribute)
    if values is None:
        return None
    values = values.astype(np.float32)
    mode = node.layer.mode.name
    axis = node.layer.channel_axis
    if mode == "UNIFORM":
        return values.reshape(())
    if mode == "CHANNEL":
        return values.reshape((-1,) + (1,) * (x.ndim - axis - 1))
    if mode == "ELEMENTWISE":
        return values.reshape(x.shape[axis:])
    raise node.unsupported("mode", mode)


@_evaluates("SCALE", "IScaleLayer")
def _scale(node: _Node):
    x = _compute(node.inputs[0])
    scale, shift, power = (_scale_coefficients(node, a, x) for a in ("scale", "shift", "power"))
    y = x if scale is None else x * scale
    y = y if shift is None else y + shift
    return y if power is None else np.power(y, power)


# ----------------------------------------------------------------------------------------------
# Shape manipulation


@_evaluates("SHUFFLE", "IShuffleLayer")
def _shuffle(node: _Node):
    layer = node.layer
    x = node.inputs[0]
    x = x.transpose(_permutation(node, layer.first_transpose, x.ndim, "first_transpose"))
    dims = _ints(node.input(1)) if node.input(1) is not None else layer.reshape_dims
    if dims is not None:
        x = x.reshape(_reshape_dims(node, list(dims), x.shape, layer.zero_is_placeholder))
    return x.transpose(_permutation(node, layer.second_transpose, x.ndim, "second_transpose"))


def _permutation(node: _Node, permutation, rank: int, attribute: str) -> List[int]:
    perm = list(permutation)[:rank]
    if sorted(perm) != list(range(rank)):
        raise ValueError(f"reference executor: layer '{node.layer.name}': {attribute}={perm} is not a permutation")
    return perm


def _reshape_dims(node: _Node, dims: List[int], shape, zero_is_placeholder: bool) -> List[int]:
    resolved = []
    for i, d in enumerate(dims):
        if d == 0 and zero_is_placeholder:
            if i >= len(shape):
                raise ValueError(f"reference executor: layer '{node.layer.name}': reshape 0 at {i} has no input dim")
            d = shape[i]
        resolved.append(d)
    return resolved


@_evaluates("SQUEEZE", "ISqueezeLayer")
def _squeeze(node: _Node):
    x = node.inputs[0]
    axes = tuple(a % x.ndim for a in _ints(node.inputs[1]))
    return np.squeeze(x, axis=axes)


@_evaluates("UNSQUEEZE", "IUnsqueezeLayer")
def _unsqueeze(node: _Node):
    x = node.inputs[0]
    axes = _ints(node.inputs[1])
    rank = x.ndim + len(axes)  # axes refer to the output
    return np.expand_dims(x, axis=tuple(sorted(a % rank for a in axes)))


@_evaluates("SHAPE", "IShapeLayer")
def _shape(node: _Node):
    return np.array(node.inputs[0].shape, dtype=np.int64)


@_evaluates("CONCATENATION", "IConcatenationLayer")
def _concatenation(node: _Node):
    return np.concatenate(node.inputs, axis=node.layer.axis)


@_evaluates("CONSTANT", "IConstantLayer")
def _constant(node: _Node):
    values = _weights(node, node.layer.weights, "weights")
    shape = tuple(node.layer.shape)
    if values is None:
        return np.zeros(shape, node.out_dtypes[0])
    return values.reshape(shape)


@_evaluates("PADDING", "IPaddingLayer")
def _padding(node: _Node):
    x = node.inputs[0]
    pre, post = list(node.layer.pre_padding_nd), list(node.layer.post_padding_nd)
    return _pad_or_crop(x, range(x.ndim - len(pre), x.ndim), pre, post, 0)  # innermost dims


def _slice_indices(node: _Node, index: np.ndarray, size: int, mode: str) -> np.ndarray:
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


@_evaluates("SLICE", "ISliceLayer")
def _slice(node: _Node):
    layer = node.layer
    x = node.inputs[0]
    start = _ints(node.input(1)) if node.input(1) is not None else list(layer.start)
    size = _ints(node.input(2)) if node.input(2) is not None else list(layer.shape)
    stride = _ints(node.input(3)) if node.input(3) is not None else list(layer.stride)
    axes = _ints(node.input(5)) if node.input(5) is not None else layer.axes
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
        fill = _scalar(node.input(4)) if node.input(4) is not None else 0
        mask = np.ones(y.shape, bool)
        for axis, keep in inside:
            mask &= keep.reshape([-1 if d == axis else 1 for d in range(y.ndim)])
        y = np.where(mask, y, np.asarray(fill).astype(y.dtype))
    return y


def _check_indices(node: _Node, indices: np.ndarray, size: int):
    # TensorRT requires 0 <= index < size; anything else is undefined on the device.
    if indices.size and (indices.min() < 0 or indices.max() >= size):
        raise ValueError(
            f"reference executor: layer '{node.layer.name}' gathers with indices outside [0, {size})"
        )


@_evaluates("GATHER", "IGatherLayer")
def _gather(node: _Node):
    layer = node.layer
    data, indices = node.inputs[:2]
    indices = indices.astype(np.int64)
    mode, axis, batch = layer.mode.name, layer.axis, layer.num_elementwise_dims
    if mode == "DEFAULT":
        _check_indices(node, indices, data.shape[axis])
        if batch == 0:
            return np.take(data, indices, axis=axis)
        if batch == 1 and axis >= 1:  # leading dim of data and indices is shared
            return np.stack([np.take(data[i], indices[i], axis=axis - 1) for i in range(data.shape[0])])
        raise node.unsupported("num_elementwise_dims", batch)
    if mode == "ELEMENT":
        _check_indices(node, indices, data.shape[axis])
        view = data[tuple(slice(0, n) if d != axis else slice(None) for d, n in enumerate(indices.shape))]
        return np.take_along_axis(view, indices, axis=axis)
    if mode == "ND":
        return _gather_nd(node, data, indices, batch)
    raise node.unsupported("mode", mode)


def _gather_nd(node: _Node, data: np.ndarray, indices: np.ndarray, batch: int) -> np.ndarray:
    """ONNX GatherND semantics with `batch` leading batch dims."""
    depth = indices.shape[-1]
    batch_shape = data.shape[:batch]
    for d in range(depth):
        _check_indices(node, indices[..., d], data.shape[batch + d])
    flat_data = data.reshape((-1,) + data.shape[batch:])
    flat_idx = indices.reshape((int(np.prod(batch_shape, dtype=np.int64)), -1, depth))
    picked = [fd[tuple(ix.T)] for fd, ix in zip(flat_data, flat_idx)]
    return np.stack(picked).reshape(indices.shape[:-1] + data.shape[batch + depth :])


# ----------------------------------------------------------------------------------------------
# Reductions and normalisation


_REDUCE: Dict[str, Callable] = {"SUM": np.sum, "PROD": np.prod, "MAX": np.max, "MIN": np.min, "AVG": np.mean}


@_evaluates("REDUCE", "IReduceLayer")
def _reduce(node: _Node):
    layer = node.layer
    op = layer.op.name
    if op not in _REDUCE:
        raise node.unsupported("op", op)
    x = _compute(node.inputs[0])
    return _REDUCE[op](x, axis=_axes_from_mask(layer.axes, x.ndim), keepdims=layer.keep_dims)


@_evaluates("SOFTMAX", "ISoftMaxLayer")
def _softmax(node: _Node):
    x = _compute(node.inputs[0])
    axes = _axes_from_mask(node.layer.axes, x.ndim)
    e = np.exp(x - np.max(x, axis=axes, keepdims=True))
    return e / np.sum(e, axis=axes, keepdims=True)


@_evaluates("NORMALIZATION", "INormalizationLayer")
def _normalization(node: _Node):
    layer = node.layer
    x, scale, bias = (_compute(t) for t in node.inputs[:3])
    axes = _axes_from_mask(layer.axes, x.ndim)
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


@_evaluates("MATRIX_MULTIPLY", "IMatrixMultiplyLayer")
def _matrix_multiply(node: _Node):
    layer = node.layer
    a, b = (_compute(t) for t in node.inputs[:2])
    op0, op1 = layer.op0.name, layer.op1.name
    for op, name in ((op0, "op0"), (op1, "op1")):
        if op not in ("NONE", "TRANSPOSE", "VECTOR"):
            raise node.unsupported(name, op)
    # VECTOR operands are batches of vectors: lift them to 1xK / Kx1 matrices, then drop the axis.
    a = np.swapaxes(a, -1, -2) if op0 == "TRANSPOSE" else a[..., None, :] if op0 == "VECTOR" else a
    b = np.swapaxes(b, -1, -2) if op1 == "TRANSPOSE" else b[..., :, None] if op1 == "VECTOR" else b
    y = np.matmul(a, b)
    if op1 == "VECTOR":
        y = y[..., 0]
    if op0 == "VECTOR":
        y = y[..., 0] if op1 == "VECTOR" else y[..., 0, :]
    return y


@_evaluates("TOPK", "ITopKLayer")
def _topk(node: _Node):
    layer = node.layer
    x = node.inputs[0]
    axes = _axes_from_mask(layer.axes, x.ndim)
    if len(axes) != 1:
        raise node.unsupported("axes", layer.axes)
    axis = axes[0]
    k = int(_scalar(node.input(1))) if node.input(1) is not None else layer.k
    op = layer.op.name
    keys = _compute(x).astype(np.float64) if x.dtype.kind in "fb" or _is_low_float(x.dtype) else x.astype(np.int64)
    if op == "MAX":
        keys = -keys
    elif op != "MIN":
        raise node.unsupported("op", op)
    order = np.argsort(keys, axis=axis, kind="stable")  # ties: lower index first
    index = np.take(order, np.arange(k), axis=axis)
    return [np.take_along_axis(x, index, axis=axis), index]


@_evaluates("CUMULATIVE", "ICumulativeLayer")
def _cumulative(node: _Node):
    layer = node.layer
    if layer.op.name != "SUM":
        raise node.unsupported("op", layer.op.name)
    x = _compute(node.inputs[0])
    axis = int(_scalar(node.inputs[1])) % x.ndim
    y = np.cumsum(np.flip(x, axis) if layer.reverse else x, axis=axis, dtype=x.dtype)
    if layer.exclusive:  # shift by one rather than subtract, so float sums stay exact scans
        shifted = np.zeros_like(y)
        target, source = [slice(None)] * y.ndim, [slice(None)] * y.ndim
        target[axis], source[axis] = slice(1, None), slice(None, -1)
        shifted[tuple(target)] = y[tuple(source)]
        y = shifted
    return np.flip(y, axis) if layer.reverse else y


@_evaluates("EINSUM", "IEinsumLayer")
def _einsum(node: _Node):
    return np.einsum(node.layer.equation, *(_compute(t) for t in node.inputs))


@_evaluates("NON_ZERO", "INonZeroLayer")
def _non_zero(node: _Node):
    return np.array(np.nonzero(node.inputs[0]), dtype=np.int64).reshape(node.inputs[0].ndim, -1)


@_evaluates("FILL", "IFillLayer")
def _fill(node: _Node):
    layer = node.layer
    op = layer.operation.name
    if op != "LINSPACE":  # random fills have no reproducible reference
        raise node.unsupported("operation", op)
    shape = _ints(node.input(0)) if node.input(0) is not None else list(layer.shape)
    alpha = _scalar(node.input(1)) if node.input(1) is not None else layer.alpha
    if node.input(2) is not None:
        beta = np.asarray(node.input(2)).reshape(-1)
    elif len(shape) == 1:
        beta = np.array([layer.beta])
    else:
        raise node.unsupported("beta", f"scalar with a rank-{len(shape)} output")
    dtype = np.float64 if node.out_dtypes[0].kind == "f" else np.int64
    grids = np.indices(shape, dtype=dtype)
    return alpha + np.tensordot(beta.astype(dtype), grids, axes=1) if shape else np.asarray(alpha)


@_evaluates("ASSERTION", "IAssertionLayer")
def _assertion(node: _Node):
    if not np.all(node.inputs[0]):
        raise AssertionError(f"reference executor: assertion layer '{node.layer.name}' failed: {node.layer.message}")
    return []


# ----------------------------------------------------------------------------------------------
# Resize


def _resize_sizes(node: _Node, shape) -> List[int]:
    """Output dims: from input 1 (a shape tensor, or float scales), scales, or shape."""
    layer = node.layer
    dynamic = node.input(1)
    if dynamic is not None and dynamic.dtype.kind in "iu":
        return _ints(dynamic)
    scales = [float(s) for s in dynamic.reshape(-1)] if dynamic is not None else list(layer.scales or [])
    if scales:
        return [int(math.floor(n * s)) for n, s in zip(shape, scales)]
    return list(layer.shape)


def _source_coordinates(node: _Node, n_in: int, n_out: int) -> np.ndarray:
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


def _resize_axis(node: _Node, x: np.ndarray, axis: int, n_out: int) -> np.ndarray:
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
    x = _compute(x)
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


@_evaluates("RESIZE", "IResizeLayer")
def _resize(node: _Node):
    x = node.inputs[0]
    sizes = _resize_sizes(node, x.shape)
    if len(sizes) != x.ndim:
        raise ValueError(f"reference executor: layer '{node.layer.name}' resizes to {sizes} from rank {x.ndim}")
    for axis in reversed(range(x.ndim)):
        if sizes[axis] != x.shape[axis]:
            x = _resize_axis(node, x, axis, sizes[axis])
    return x
