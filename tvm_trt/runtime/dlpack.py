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


def host_ref(array: np.ndarray) -> TensorRef:
    """A host array as a TensorRef (the caller keeps ``array`` alive while the ref is used)."""
    return TensorRef(array.ctypes.data, KDL_CPU, 0, tuple(array.shape), str(array.dtype))


def to_host(ref: TensorRef) -> np.ndarray:
    """A host copy of a (small) tensor wherever it lives: a view of host memory copied, device memory
    copied by TVM's runtime (the values of TensorRT shape inputs, which TensorRT reads on the host)."""
    if ref.on_host:
        return as_numpy(ref).copy()
    return _device_copy(ref)


class _Device(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int), ("device_id", ctypes.c_int)]


class _DataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [
        ("data", ctypes.c_void_p),
        ("device", _Device),
        ("ndim", ctypes.c_int),
        ("dtype", _DataType),
        ("shape", ctypes.POINTER(ctypes.c_int64)),
        ("strides", ctypes.POINTER(ctypes.c_int64)),
        ("byte_offset", ctypes.c_uint64),
    ]


class _Managed(ctypes.Structure):  # DLManagedTensor; no deleter: the memory is the VM's
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p), ("deleter", ctypes.c_void_p)]


_CODES = {"i": 0, "u": 1, "f": 2}  # kDLInt, kDLUInt, kDLFloat


def _device_copy(ref: TensorRef) -> np.ndarray:
    """``ref``'s memory copied to the host by TVM's runtime, through a DLPack view of it (the stub
    passes plain pointers)."""
    import tvm_ffi

    dtype = _numpy_dtype(ref.dtype)
    shape = (ctypes.c_int64 * max(len(ref.shape), 1))(*ref.shape)
    tensor = _DLTensor(
        ref.ptr,
        _Device(ref.device_type, ref.device_id),
        len(ref.shape),
        _DataType(_CODES[dtype.kind], dtype.itemsize * 8, 1),
        shape,
        None,
        0,
    )
    managed = _Managed(tensor, None, None)
    new_capsule = ctypes.pythonapi.PyCapsule_New
    new_capsule.restype, new_capsule.argtypes = ctypes.py_object, [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
    view = tvm_ffi.from_dlpack(new_capsule(ctypes.addressof(managed), b"dltensor", None), require_alignment=0)
    return view.numpy()  # ``managed`` and ``shape`` are alive until here, the view ends with this call
