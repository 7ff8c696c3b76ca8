"""Unary math (IUnaryLayer)."""

from __future__ import annotations

from typing import Callable, Dict

import numpy as np

from ._common import LayerEval, compute, erf_like, evaluates


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
    "ERF": erf_like,
    "NOT": np.logical_not,
    "SIGN": np.sign,
    "ROUND": np.round,  # half to even, as TensorRT documents
    "ISINF": np.isinf,
    "ISNAN": np.isnan,
}


@evaluates("UNARY", "IUnaryLayer")
def _unary(node: LayerEval):
    op = node.layer.op.name
    if op not in _UNARY:
        raise node.unsupported("op", op)
    with np.errstate(all="ignore"):  # log(0), sqrt(-1) give inf/nan like the device
        return _UNARY[op](compute(node.inputs[0]))
