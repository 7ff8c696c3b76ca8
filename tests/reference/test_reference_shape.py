"""Reference executor (tvm_trt.reference): shape manipulation (shuffle, squeeze, concatenation, padding, slice, gather, shape), against independent NumPy expectations."""

import numpy as np
import pytest
from reference_net import Net, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    trt = tensorrt.trt()


def test_shuffle_transpose_reshape_transpose():
    x = rand(2, 3, 4, 5)
    net = Net()
    layer = net.network.add_shuffle(net.input(x))
    layer.first_transpose = (0, 2, 1, 3)  # (2, 4, 3, 5)
    layer.reshape_dims = (0, -1, 5)  # 0 copies dim 0 -> (2, 12, 5)
    layer.second_transpose = (2, 0, 1)  # (5, 2, 12)
    got = net.run(layer.get_output(0))
    expected = x.transpose(0, 2, 1, 3).reshape(2, 12, 5).transpose(2, 0, 1)
    np.testing.assert_array_equal(got, expected)


def test_shuffle_dynamic_reshape_from_shape_tensor():
    x = rand(2, 3, 4)
    net = Net()
    layer = net.network.add_shuffle(net.input(x))
    layer.set_input(1, net.const(np.array([4, -1], np.int64)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x.reshape(4, 6))


def test_shuffle_zero_is_not_placeholder():
    x = rand(2, 3)
    net = Net()
    layer = net.network.add_shuffle(net.input(x))
    layer.zero_is_placeholder = False
    layer.reshape_dims = (3, 2, 1)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x.reshape(3, 2, 1))


def test_squeeze_and_unsqueeze_take_axes_from_tensors():
    x = rand(1, 3, 1, 4)
    net = Net()
    squeeze = net.network.add_squeeze(net.input(x), net.const(np.array([0, -2], np.int64)))
    unsqueeze = net.network.add_unsqueeze(squeeze.get_output(0), net.const(np.array([1, -1], np.int64)))
    got_squeeze, got_unsqueeze = net.run(squeeze.get_output(0), unsqueeze.get_output(0))
    np.testing.assert_array_equal(got_squeeze, x.reshape(3, 4))
    np.testing.assert_array_equal(got_unsqueeze, x.reshape(3, 1, 4, 1))


def test_concatenation_with_constant():
    x, c = rand(2, 3, 4), rand(2, 1, 4)
    net = Net()
    layer = net.network.add_concatenation([net.input(x), net.const(c), net.network.get_input(0)])
    layer.axis = 1
    np.testing.assert_array_equal(net.run(layer.get_output(0)), np.concatenate([x, c, x], axis=1))


def test_constant_integer_weights():
    values = np.arange(6, dtype=np.int32).reshape(2, 3)
    net = Net()
    got = net.run(net.const(values))
    assert got.dtype == np.int32
    np.testing.assert_array_equal(got, values)


def test_padding_nd_pads_and_crops_innermost_dims():
    x = rand(1, 2, 4, 5)
    net = Net()
    layer = net.network.add_padding_nd(net.input(x), (1, -1), (2, 1))
    expected = np.pad(x[:, :, :, 1:], ((0, 0), (0, 0), (1, 2), (0, 1)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


SLICE_CASES = {
    # id: (mode, start, shape, stride, expected index vectors per dim for a (4, 6) input)
    "strided": ("STRICT_BOUNDS", (1, 0), (2, 3), (2, 2), ([1, 3], [0, 2, 4])),
    "wrap": ("WRAP", (-1, 4), (3, 4), (1, 1), ([3, 0, 1], [4, 5, 0, 1])),
    "clamp": ("CLAMP", (-2, 3), (3, 5), (2, 1), ([0, 0, 2], [3, 4, 5, 5, 5])),
    "reflect": ("REFLECT", (-2, 4), (4, 5), (1, 1), ([2, 1, 0, 1], [4, 5, 4, 3, 2])),
    "negative_stride": ("STRICT_BOUNDS", (3, 5), (4, 3), (-1, -2), ([3, 2, 1, 0], [5, 3, 1])),
}


@pytest.mark.parametrize("case", list(SLICE_CASES), ids=list(SLICE_CASES))
def test_slice_modes(case):
    mode, start, shape, stride, (rows, cols) = SLICE_CASES[case]
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    net = Net()
    layer = net.network.add_slice(net.input(x), start, shape, stride)
    layer.mode = getattr(trt.SampleMode, mode)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x[np.ix_(rows, cols)])


def test_slice_fill_uses_fill_value_out_of_bounds():
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    net = Net()
    layer = net.network.add_slice(net.input(x), (-1, 1), (3, 3), (1, 1))
    layer.mode = trt.SampleMode.FILL
    layer.set_input(4, net.const(np.array(-9.0, np.float32)))
    expected = np.array([[-9, -9, -9], [1, 2, -9], [4, 5, -9]], np.float32)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


def test_slice_dynamic_start_size_stride():
    x = rand(3, 8)
    net = Net()
    layer = net.network.add_slice(net.input(x), (0, 0), (1, 1), (1, 1))
    layer.set_input(1, net.const(np.array([1, 1], np.int64)))
    layer.set_input(2, net.const(np.array([2, 3], np.int64)))
    layer.set_input(3, net.const(np.array([1, 2], np.int64)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x[1:3, 1:7:2])


def test_gather_default_axis1():
    x = rand(2, 5, 3)
    indices = np.array([[4, 0], [1, 1], [2, 3]], np.int32)
    net = Net()
    layer = net.network.add_gather(net.input(x), net.input(indices), 1)
    got = net.run(layer.get_output(0))
    assert got.shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(got, np.take(x, indices, axis=1))


def test_gather_default_with_elementwise_batch_dim():
    x = rand(2, 5, 3)
    indices = np.array([[4, 0], [1, 2]], np.int32)
    net = Net()
    layer = net.network.add_gather(net.input(x), net.input(indices), 1)
    layer.num_elementwise_dims = 1
    got = net.run(layer.get_output(0))
    np.testing.assert_array_equal(got, np.stack([x[0, [4, 0]], x[1, [1, 2]]]))


def test_gather_element_and_nd():
    x = rand(3, 4)
    idx_el = np.array([[3, 0, 1, 1], [2, 2, 0, 3], [0, 1, 2, 3]], np.int32)
    idx_nd = np.array([[0, 3], [2, 1]], np.int32)
    net = Net()
    tx = net.input(x)
    element = net.network.add_gather_v2(tx, net.input(idx_el), trt.GatherMode.ELEMENT)
    element.axis = 1
    nd = net.network.add_gather_v2(tx, net.input(idx_nd), trt.GatherMode.ND)
    got_el, got_nd = net.run(element.get_output(0), nd.get_output(0))
    np.testing.assert_array_equal(got_el, np.take_along_axis(x, idx_el, axis=1))
    np.testing.assert_array_equal(got_nd, np.array([x[0, 3], x[2, 1]]))


def test_gather_nd_with_batch_dim():
    x = rand(2, 3, 4)
    indices = np.array([[[2], [0]], [[1], [1]]], np.int32)  # per batch: rows to pick
    net = Net()
    layer = net.network.add_gather_v2(net.input(x), net.input(indices), trt.GatherMode.ND)
    layer.num_elementwise_dims = 1
    np.testing.assert_array_equal(net.run(layer.get_output(0)), np.stack([x[0, [2, 0]], x[1, [1, 1]]]))


def test_gather_rejects_out_of_range_indices():
    net = Net()
    layer = net.network.add_gather(net.input(rand(4, 2)), net.input(np.array([4], np.int32)), 0)
    with pytest.raises(ValueError, match="outside"):
        net.run(layer.get_output(0))


def test_shape_layer_follows_dynamic_input():
    x = rand(3, 2, 5)
    net = Net()
    tx = net.input(x, shape=(-1, 2, -1))
    got = net.run(net.network.add_shape(tx).get_output(0))
    np.testing.assert_array_equal(got, [3, 2, 5])
