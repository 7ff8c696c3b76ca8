"""Dtype names across the three type systems: Relax/NumPy strings <-> TensorRT ``DataType``.

The one table both ends use: the network builder (specs -> TensorRT), the ops' converters and the
reference executor (TensorRT -> NumPy)."""

from __future__ import annotations

from typing import List, Sequence

import numpy as np

from . import tensorrt

_NP_TO_TRT = {
    "float32": "FLOAT",
    "float16": "HALF",
    "int32": "INT32",
    "int64": "INT64",
    "bool": "BOOL",
    "int8": "INT8",
    "uint8": "UINT8",
    "bfloat16": "BF16",
    "float8_e4m3fn": "FP8",  # TensorRT's FP8 is OCP E4M3 without infinities
}
_TRT_TO_NP = {v: k for k, v in _NP_TO_TRT.items()}


# TensorRT takes UINT8 tensors only as network inputs and outputs (a UINT8 tensor inside a network
# fails the build): inside, uint8 values are held as FLOAT, which holds every one exactly.
_HELD_AS = {"uint8": "float32"}


def held_dtype(dtype: str) -> str:
    """The dtype a network holds values of Relax dtype ``dtype`` in, between its inputs and outputs."""
    return _HELD_AS.get(str(dtype), str(dtype))


def trt_dtype(dtype: str):
    return getattr(tensorrt.trt().DataType, _NP_TO_TRT[str(dtype)])


def trt_dims(shape: Sequence) -> List[int]:
    """Relax dims -> TensorRT dims; a symbolic dim becomes -1."""
    return [d if isinstance(d, int) else -1 for d in shape]


def np_dtype(trt_type) -> np.dtype:
    """NumPy dtype of a TensorRT DataType; KeyError for types without one (FP8, INT4, ...)."""
    name = _TRT_TO_NP[trt_type.name]
    if name in ("bfloat16", "float8_e4m3fn"):
        import ml_dtypes

        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name)
