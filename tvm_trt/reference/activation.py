"""Activations and parametric ReLU."""

from __future__ import annotations

import math
from typing import Callable, Dict

import numpy as np

from ._common import LayerEval, compute, erf_like, evaluates, same_rank


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
    "GELU_ERF": lambda x, a, b: 0.5 * x * (1 + erf_like(x / math.sqrt(2))),
    "GELU_TANH": lambda x, a, b: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x**3))),
}


@evaluates("ACTIVATION", "IActivationLayer")
def _activation(node: LayerEval):
    kind = node.layer.type.name  # the ActivationType once downcast
    fn = _ACTIVATIONS.get(kind)
    if fn is None:
        raise node.unsupported("type", kind)
    x = compute(node.inputs[0])
    with np.errstate(over="ignore"):  # exp overflow saturates, as on the device
        return fn(x, node.layer.alpha, node.layer.beta).astype(x.dtype, copy=False)


@evaluates("PARAMETRIC_RELU", "IParametricReLULayer")
def _parametric_relu(node: LayerEval):
    x, slope = (compute(t) for t in node.inputs[:2])
    same_rank(node, x, slope)
    return np.where(x >= 0, x, slope * x)
