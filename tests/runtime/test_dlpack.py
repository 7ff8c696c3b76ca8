"""Tensors as the stubs pass them (pointer, device, shape, dtype): host views, and host copies of
shape-input values wherever they live (TensorRT reads shape inputs on the host)."""

import numpy as np
import pytest
import tvm

from tvm_trt.runtime import dlpack


def _ref(tensor) -> dlpack.TensorRef:
    """The TensorRef a stub passes for a TVM tensor."""
    dev = tensor.device
    return dlpack.TensorRef(
        int(tensor.data_ptr()), dev.dlpack_device_type(), dev.index, tuple(tensor.shape), str(tensor.dtype)
    )


@pytest.mark.parametrize("dtype", ["int64", "int32"])
def test_host_copy_of_host_values(dtype):
    values = np.array([3, -1, 7, 2**30], dtype)
    copy = dlpack.to_host(dlpack.host_ref(values))
    values[0] = 0  # a copy, not a view: the caller may keep it past the call
    assert copy.dtype == dtype and copy.tolist() == [3, -1, 7, 2**30]


@pytest.mark.parametrize("dtype", ["int64", "int32", "float32"])
def test_device_copy_path_reads_what_tvm_holds(dtype):
    """The DLPack view TVM copies from (the path of device tensors), over a TVM tensor on the host."""
    values = np.arange(-3, 5, dtype=dtype).reshape(2, 4)
    tensor = tvm.runtime.tensor(values)
    np.testing.assert_array_equal(dlpack._device_copy(_ref(tensor)), values)


@pytest.mark.skipif(not tvm.cuda(0).exist, reason="needs a CUDA GPU (TVM's CUDA runtime)")
def test_shape_input_values_on_a_cuda_device_are_copied_to_the_host():
    values = np.array([0, 2, -1, 9], "int64")
    tensor = tvm.runtime.tensor(values, tvm.cuda(0))
    ref = _ref(tensor)
    assert not ref.on_host
    got = dlpack.to_host(ref)
    assert got.dtype == np.int64 and got.tolist() == values.tolist()
