"""Reference executor (tvm_trt.reference): reductions, normalisation, matrix multiply, top-k, cumulative sum, einsum, non-zero, fill, against independent NumPy expectations."""

import numpy as np
import pytest
from reference_net import Net, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    from tvm_trt import reference

    trt = tensorrt.trt()


REDUCE = {"SUM": np.sum, "PROD": np.prod, "MAX": np.max, "MIN": np.min, "AVG": np.mean}


@pytest.mark.parametrize("keep_dims", [True, False], ids=["keep_dims", "drop_dims"])
@pytest.mark.parametrize("op", list(REDUCE), ids=str.lower)
def test_reduce(op, keep_dims):
    x = rand(2, 3, 4, 5)
    net = Net()
    layer = net.network.add_reduce(net.input(x), getattr(trt.ReduceOperation, op), 0b1010, keep_dims)  # axes 1 and 3
    got = net.run(layer.get_output(0))
    expected = REDUCE[op](x.astype(np.float64), axis=(1, 3), keepdims=keep_dims)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("axes", [0b100, 0b001], ids=["last_axis", "first_axis"])
def test_softmax(axes):
    x = rand(2, 3, 4) * 3
    net = Net()
    layer = net.network.add_softmax(net.input(x))
    layer.axes = axes
    reduce_axes = tuple(i for i in range(3) if axes >> i & 1)
    e = np.exp(x - x.max(axis=reduce_axes, keepdims=True))
    np.testing.assert_allclose(net.run(layer.get_output(0)), e / e.sum(axis=reduce_axes, keepdims=True), rtol=1e-5)


def _normalize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=axes, keepdims=True) + eps)


def test_layer_normalization_last_axis():
    x, gamma, beta = rand(2, 3, 8), rand(1, 1, 8), rand(1, 1, 8)
    net = Net()
    layer = net.network.add_normalization(net.input(x), net.const(gamma), net.const(beta), 1 << 2)
    layer.epsilon = 1e-3
    expected = _normalize(x, (2,), 1e-3) * gamma + beta
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-4, atol=1e-5)


def test_instance_normalization():
    x, gamma, beta = rand(2, 3, 4, 5), rand(1, 3, 1, 1), rand(1, 3, 1, 1)
    net = Net()
    layer = net.network.add_normalization(net.input(x), net.const(gamma), net.const(beta), 0b1100)
    expected = _normalize(x, (2, 3), 1e-5) * gamma + beta
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("v2", [False, True], ids=["v1_per_group_affine", "v2_per_channel_affine"])
def test_group_normalization(v2):
    x = rand(2, 6, 3, 4)
    groups = 3
    affine_channels = 6 if v2 else groups
    gamma, beta = rand(1, affine_channels, 1, 1), rand(1, affine_channels, 1, 1)
    net = Net()
    add = net.network.add_normalization_v2 if v2 else net.network.add_normalization
    layer = add(net.input(x), net.const(gamma), net.const(beta), 0b1100)
    layer.num_groups = groups
    normalized = _normalize(x.reshape(2, groups, 2, 3, 4), (2, 3, 4), 1e-5)
    if v2:
        expected = normalized.reshape(x.shape) * gamma + beta
    else:
        expected = (normalized * gamma.reshape(1, groups, 1, 1, 1) + beta.reshape(1, groups, 1, 1, 1)).reshape(x.shape)
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-4, atol=1e-5)


MATMUL_CASES = {
    # id: (a shape, op0, b shape, op1, numpy expectation)
    "none_none_batch_broadcast": ((2, 1, 3, 4), "NONE", (1, 5, 4, 2), "NONE", lambda a, b: a @ b),
    "transpose_a": ((2, 4, 3), "TRANSPOSE", (2, 4, 5), "NONE", lambda a, b: a.swapaxes(-1, -2) @ b),
    "transpose_b": ((3, 4), "NONE", (5, 4), "TRANSPOSE", lambda a, b: a @ b.T),
    "transpose_both": (
        (2, 4, 3),
        "TRANSPOSE",
        (1, 5, 4),
        "TRANSPOSE",
        lambda a, b: a.swapaxes(-1, -2) @ b.swapaxes(-1, -2),
    ),
    "matrix_vector": ((2, 3, 4), "NONE", (2, 4), "VECTOR", lambda a, b: np.einsum("bmk,bk->bm", a, b)),
    "vector_matrix": ((2, 4), "VECTOR", (2, 4, 5), "NONE", lambda a, b: np.einsum("bk,bkn->bn", a, b)),
    "vector_vector": ((3, 4), "VECTOR", (3, 4), "VECTOR", lambda a, b: (a * b).sum(-1)),
}


@pytest.mark.parametrize("case", list(MATMUL_CASES), ids=list(MATMUL_CASES))
def test_matrix_multiply(case):
    a_shape, op0, b_shape, op1, fn = MATMUL_CASES[case]
    a, b = rand(*a_shape), rand(*b_shape)
    net = Net()
    ops = trt.MatrixOperation
    layer = net.network.add_matrix_multiply(net.input(a), getattr(ops, op0), net.input(b), getattr(ops, op1))
    got = net.run(layer.get_output(0))
    expected = fn(a.astype(np.float64), b.astype(np.float64))
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_topk_max_and_min():
    x = np.array([[3.0, 1.0, 4.0, 1.5, 5.0], [9.0, 2.0, 6.0, 5.0, 3.0]], np.float32)
    net = Net()
    tx = net.input(x)
    top = net.network.add_topk(tx, trt.TopKOperation.MAX, 2, 1 << 1)
    bottom = net.network.add_topk(tx, trt.TopKOperation.MIN, 3, 1 << 1)
    values, indices, low_values, low_indices = net.run(
        top.get_output(0), top.get_output(1), bottom.get_output(0), bottom.get_output(1)
    )
    np.testing.assert_array_equal(values, [[5.0, 4.0], [9.0, 6.0]])
    np.testing.assert_array_equal(indices, [[4, 2], [0, 2]])
    np.testing.assert_array_equal(low_values, [[1.0, 1.5, 3.0], [2.0, 3.0, 5.0]])
    np.testing.assert_array_equal(low_indices, [[1, 3, 0], [1, 4, 3]])


@pytest.mark.parametrize(
    "exclusive, reverse",
    [(False, False), (True, False), (False, True), (True, True)],
    ids=["inclusive", "exclusive", "reverse", "exclusive_reverse"],
)
def test_cumulative_sum(exclusive, reverse):
    x = np.arange(1, 9, dtype=np.float32).reshape(2, 4)
    net = Net()
    axis = net.const(np.array(1, np.int32))  # a 0-d tensor
    layer = net.network.add_cumulative(net.input(x), axis, trt.CumulativeOperation.SUM, exclusive, reverse)
    y = np.flip(x, 1) if reverse else x
    y = np.cumsum(y, axis=1) - (y if exclusive else 0)
    expected = np.flip(y, 1) if reverse else y
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


# Expectations written without einsum (the evaluator uses numpy.einsum): diagonals by np.diagonal / np.trace.
EINSUMS = {
    "batch_matmul": ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], lambda a, b: a @ b),
    "diagonal": ("ii->i", [(4, 4)], np.diagonal),
    "trace": ("ii->", [(4, 4)], np.trace),
    "batch_diagonal": ("bii->bi", [(2, 4, 4)], lambda a: np.diagonal(a, axis1=1, axis2=2)),
    "outer_dims_diagonal": ("iji->ji", [(3, 5, 3)], lambda a: np.diagonal(a, axis1=0, axis2=2)),
    "diagonal_times_vector": ("ii,i->i", [(4, 4), (4,)], lambda a, b: np.diagonal(a) * b),
}


@pytest.mark.parametrize("name", list(EINSUMS))
def test_einsum(name):
    equation, shapes, expect = EINSUMS[name]
    values = [rand(*s) for s in shapes]
    net = Net()
    layer = net.network.add_einsum([net.input(v) for v in values], equation)
    np.testing.assert_allclose(net.run(layer.get_output(0)), expect(*values), rtol=1e-5, atol=1e-5)


def test_non_zero_and_assertion():
    x = np.array([[0.0, 2.0, 0.0], [3.0, 0.0, 4.0]], np.float32)
    net = Net()
    tx = net.input(x)
    non_zero = net.network.add_non_zero(tx)
    floor = net.const(np.full((1, 1), -1.0, np.float32))
    positive = net.network.add_elementwise(tx, floor, trt.ElementWiseOperation.GREATER)
    net.network.add_assertion(positive.get_output(0), "x must be > -1")
    np.testing.assert_array_equal(net.run(non_zero.get_output(0)), np.array(np.nonzero(x)))
    with pytest.raises(AssertionError, match="x must be > -1"):
        reference.run_network(net.network, {"in0": -x})


def test_fill_linspace():
    net = Net()
    layer = net.network.add_fill((2, 3), trt.FillOperation.LINSPACE, trt.DataType.FLOAT)
    layer.set_input(1, net.const(np.array(1.0, np.float32)))
    layer.set_input(2, net.const(np.array([10.0, 0.5], np.float32)))
    np.testing.assert_allclose(net.run(layer.get_output(0)), [[1.0, 1.5, 2.0], [11.0, 11.5, 12.0]])
