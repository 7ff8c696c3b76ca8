"""Reference executor (tvm_trt.reference): whole networks, dynamic shapes, bf16 and the errors of unsupported layers, against independent NumPy expectations."""

import numpy as np
import pytest
from reference_net import Net, naive_conv, naive_pool, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    from tvm_trt import reference

    trt = tensorrt.trt()


def test_small_cnn_with_dynamic_batch_builds_and_matches_numpy():
    w1, b1 = rand(4, 3, 3, 3) * 0.5, rand(4)
    w2, b2 = rand(4 * 4 * 4, 5) * 0.2, rand(1, 5)
    net = Net()
    x = net.network.add_input("image", trt.float32, (-1, 3, 8, 8))
    conv = net.network.add_convolution_nd(x, 4, (3, 3), net.weights(w1), net.weights(b1))
    conv.padding_nd = (1, 1)
    relu = net.network.add_activation(conv.get_output(0), trt.ActivationType.RELU)
    pool = net.network.add_pooling_nd(relu.get_output(0), trt.PoolingType.MAX, (2, 2))
    pool.stride_nd = (2, 2)
    flat = net.network.add_shuffle(pool.get_output(0))
    flat.reshape_dims = (0, -1)
    none = trt.MatrixOperation.NONE
    fc = net.network.add_matrix_multiply(flat.get_output(0), none, net.const(w2), none)
    logits = net.network.add_elementwise(fc.get_output(0), net.const(b2), trt.ElementWiseOperation.SUM)
    probs = net.network.add_softmax(logits.get_output(0))
    probs.axes = 1 << 1
    probs.get_output(0).name = "probs"
    net.network.mark_output(probs.get_output(0))

    config = net.builder.create_builder_config()
    profile = net.builder.create_optimization_profile()
    profile.set_shape("image", (1, 3, 8, 8), (2, 3, 8, 8), (4, 3, 8, 8))
    config.add_optimization_profile(profile)
    plan = net.builder.build_serialized_network(net.network, config)
    assert plan is not None and plan.nbytes > 0  # TensorRT accepts the network

    for batch in (1, 3):  # the -1 batch dim takes its size from the array
        image = rand(batch, 3, 8, 8)
        got = reference.run_network(net.network, {"image": image})["probs"]
        hidden = np.maximum(naive_conv(image, w1, b1, (1, 1), (1, 1), (1, 1), (1, 1), 1), 0)
        pooled = naive_pool(hidden, (2, 2), (2, 2), (0, 0), (0, 0), (4, 4), "max")
        z = pooled.reshape(batch, -1) @ w2 + b2
        e = np.exp(z - z.max(axis=1, keepdims=True))
        assert got.shape == (batch, 5)
        np.testing.assert_allclose(got, e / e.sum(axis=1, keepdims=True), rtol=1e-4, atol=1e-6)


def test_bf16_network_rounds_to_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    x = rand(2, 8)
    net = Net()
    tx = net.network.add_input("x", trt.float32, x.shape)
    half = net.network.add_cast(tx, trt.DataType.BF16)
    act = net.network.add_activation(half.get_output(0), trt.ActivationType.SIGMOID)
    back = net.network.add_cast(act.get_output(0), trt.DataType.FLOAT)
    got_bf16, got = net.run(act.get_output(0), back.get_output(0), feeds={"x": x})
    assert got_bf16.dtype == ml_dtypes.bfloat16
    expected = 1 / (1 + np.exp(-x.astype(ml_dtypes.bfloat16).astype(np.float64)))
    np.testing.assert_allclose(got, expected.astype(ml_dtypes.bfloat16).astype(np.float32), rtol=0, atol=0)
    assert not np.array_equal(got, expected.astype(np.float32))  # really rounded to 8 mantissa bits


def test_input_validation():
    net = Net()
    net.network.add_input("x", trt.float32, (-1, 3))
    out = net.network.add_identity(net.network.get_input(0)).get_output(0)
    net.network.mark_output(out)
    with pytest.raises(KeyError, match="x"):
        reference.run_network(net.network, {})
    with pytest.raises(ValueError, match="shape"):
        reference.run_network(net.network, {"x": rand(2, 4)})
    with pytest.raises(ValueError, match="typo"):
        reference.run_network(net.network, {"x": rand(2, 3), "typo": rand(1)})


def test_unsupported_layer_type_names_layer_and_type():
    net = Net()
    boxes, scores = net.input(rand(1, 5, 4)), net.input(rand(1, 5, 2))
    layer = net.network.add_nms(boxes, scores, net.const(np.array(3, np.int32)))
    layer.name = "my_nms"
    with pytest.raises(NotImplementedError, match=r"'my_nms'.*NMS"):
        net.run(layer.get_output(0))


def test_unsupported_attribute_value_names_attribute():
    net = Net()
    layer = net.network.add_fill((2, 2), trt.FillOperation.RANDOM_UNIFORM, trt.DataType.FLOAT)
    layer.name = "noise"
    with pytest.raises(NotImplementedError, match=r"'noise'.*FILL.*operation=RANDOM_UNIFORM"):
        net.run(layer.get_output(0))


def test_unsupported_group_norm_axes_is_reported():
    x = rand(1, 4, 3, 3)
    net = Net()
    gamma, beta = net.const(rand(1, 4, 1, 1)), net.const(rand(1, 4, 1, 1))
    layer = net.network.add_normalization_v2(net.input(x), gamma, beta, 0b0010)  # channel axis: not a group norm
    layer.num_groups = 2
    layer.name = "odd_group_norm"
    with pytest.raises(NotImplementedError, match=r"'odd_group_norm'.*NORMALIZATION.*axes"):
        net.run(layer.get_output(0))


def test_unreadable_bf16_weights_are_reported():
    ml_dtypes = pytest.importorskip("ml_dtypes")
    values = np.array([1.5, 2.0], ml_dtypes.bfloat16)
    net = Net()
    layer = net.network.add_constant((2,), trt.Weights(trt.DataType.BF16, values.ctypes.data, values.size))
    layer.name = "bf16_const"
    with pytest.raises(NotImplementedError, match=r"'bf16_const'.*CONSTANT.*weights"):
        net.run(layer.get_output(0))
