"""A tensor as our stubs describe it (data pointer, device, shape, dtype) and NumPy views of host ones."""

from __future__ import annotations

import ctypes
from typing import NamedTuple, Tuple

import numpy as np

KDL_CPU, KDL_CUDA, KDL_CUDA_HOST = 1, 2, 3


class TensorRef(NamedTuple):
    ptr: int  # data pointer incl. byte_offset
    device_type: int
    device_id: int
    shape: Tuple[int, ...]
    dtype: str

    @property
    def on_host(self) -> bool:
        return self.device_type in (KDL_CPU, KDL_CUDA_HOST)


def _numpy_dtype(name: str) -> np.dtype:
    """NumPy's own dtypes, else ml_dtypes' (bfloat16, float8_e4m3fn)."""
    import ml_dtypes

    return np.dtype(getattr(ml_dtypes, name, name))


def as_numpy(ref: TensorRef) -> np.ndarray:
    """A NumPy view of host memory (no copy)."""
    if not ref.on_host:
        raise ValueError("not host memory")
    dtype = _numpy_dtype(ref.dtype)
    count = int(np.prod(ref.shape, dtype=np.int64))
    if count == 0:
        return np.empty(ref.shape, dtype)
    buf = (ctypes.c_char * (count * dtype.itemsize)).from_address(ref.ptr)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(ref.shape)
