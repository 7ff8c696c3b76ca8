"""Shared by the layer families: the per-layer view (LayerEval), the evaluator registry and
helpers for dtypes, weights, axes, padding and sliding windows."""

from __future__ import annotations

import math
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..core.dtypes import np_dtype


class LayerEval:
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
            f"reference executor: layer '{self.layer.name}' of type {self.kind}: {attribute}={value} is not supported"
        )


Evaluator = Callable[[LayerEval], object]
EVALUATORS: Dict[str, Tuple[str, Evaluator]] = {}


def evaluates(kind: str, class_name: str, *, override: bool = False):
    """Decorator registering ``evaluate(node) -> array | [arrays]`` for TensorRT layers of type
    ``kind`` (a ``trt.LayerType`` name), read through ``class_name`` (e.g. ``"IUnaryLayer"``).
    Like ``register_op``: a second registration of a layer type raises unless ``override=True``."""

    def register(fn: Evaluator) -> Evaluator:
        if not callable(fn):
            raise TypeError(f"evaluates({kind!r}): the evaluator must be callable, got {type(fn).__name__}")
        if kind in EVALUATORS and not override:
            raise ValueError(
                f"a reference evaluator for TensorRT {kind} layers is already registered "
                f"({EVALUATORS[kind][1].__module__}); pass override=True"
            )
        EVALUATORS[kind] = (class_name, fn)
        return fn

    return register


def host_dtype(trt_dtype, where: str = "tensor") -> np.dtype:
    if trt_dtype.name == "FP8":  # TensorRT's FP8 is E4M3 without infinities (OCP "e4m3fn")
        import ml_dtypes

        return np.dtype(ml_dtypes.float8_e4m3fn)
    try:
        return np_dtype(trt_dtype)
    except KeyError:  # INT4, FP4, E8M0: packed sub-byte types not modelled here
        raise NotImplementedError(f"reference executor: {where} dtype={trt_dtype.name} is not supported") from None


# Largest finite FP8 (E4M3) value: TensorRT saturates to it when quantizing or casting.
FP8_MAX = 448.0


def is_low_float(dtype: np.dtype) -> bool:
    """float16, bfloat16 and FP8 (the latter two are ml_dtypes types, of NumPy kind 'V')."""
    return dtype == np.float16 or dtype.name in ("bfloat16", "float8_e4m3fn")


def is_float(dtype: np.dtype) -> bool:
    return dtype.kind == "f" or is_low_float(dtype)


def compute(x: np.ndarray) -> np.ndarray:
    """Half and bfloat16 are computed in float32 (TensorRT accumulates them in float32 too)."""
    return x.astype(np.float32) if is_low_float(x.dtype) else x


def weights_of(node: LayerEval, weights, attribute: str) -> Optional[np.ndarray]:
    """trt.Weights (or the ndarray the bindings return) -> ndarray; None when empty."""
    if weights is None:
        return None
    array = weights if isinstance(weights, np.ndarray) else weights.numpy()
    if not isinstance(array, np.ndarray):
        # The bindings cannot expose some types (e.g. BF16) as arrays.
        raise node.unsupported(attribute, f"weights of type {weights.dtype.name} (not readable from Python)")
    return None if array.size == 0 else array


def axes_from_mask(mask: int, rank: int) -> Tuple[int, ...]:
    return tuple(i for i in range(rank) if mask >> i & 1)


def ints(array: np.ndarray) -> List[int]:
    return [int(v) for v in np.asarray(array).reshape(-1)]


def scalar(array: np.ndarray):
    return np.asarray(array).reshape(-1)[0]


def pad_or_crop(x: np.ndarray, axes: Sequence[int], pre: Sequence[int], post: Sequence[int], value=0) -> np.ndarray:
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


def lowest(dtype: np.dtype):
    return -np.inf if dtype.kind == "f" else np.iinfo(dtype).min


erf = np.vectorize(math.erf, otypes=[np.float64])


def erf_like(x: np.ndarray) -> np.ndarray:
    return erf(x).astype(x.dtype)


def same_rank(node: LayerEval, *arrays):
    ranks = {a.ndim for a in arrays}
    if len(ranks) != 1:
        raise ValueError(
            f"reference executor: layer '{node.layer.name}' ({node.kind}) needs inputs of equal rank, "
            f"got shapes {[a.shape for a in arrays]}"
        )


# Sliding windows (convolution, deconvolution, pooling)


def window_padding(node: LayerEval, sizes, windows, strides):
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


def pad_for_windows(x, nsp, pre, out, windows, strides, value):
    """Pads/crops the trailing `nsp` dims so exactly out[i] windows fit."""
    sizes = x.shape[-nsp:]
    end = [(o - 1) * s + k - n - b for o, s, k, n, b in zip(out, strides, windows, sizes, pre)]
    return pad_or_crop(x, range(x.ndim - nsp, x.ndim), pre, end, value)


def window_slices(offsets, dilation, strides, out):
    """Strided slices selecting, for one kernel offset, the input element of every window."""
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, d, s, n in zip(offsets, dilation, strides, out))


def to_batched(x: np.ndarray, nsp: int):
    """(..., C, *spatial) -> (N, C, *spatial) plus the leading shape to restore."""
    lead = x.shape[: x.ndim - nsp - 1]
    return x.reshape((-1,) + x.shape[x.ndim - nsp - 1 :]), lead
