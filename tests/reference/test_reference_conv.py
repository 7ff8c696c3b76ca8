"""Reference executor (tvm_trt.reference): convolution and deconvolution, against independent NumPy expectations."""

import numpy as np
import pytest
from reference_net import configure_layer, Net, naive_conv, naive_deconv, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    trt = tensorrt.trt()


CONV_CASES = {
    # id: (in shape, out channels, kernel, settings, expected explicit pre/post padding)
    "basic": ((1, 3, 7, 7), 4, (3, 3), {}, ((0, 0), (0, 0))),
    "stride2_pad1": ((2, 3, 8, 8), 4, (3, 3), {"stride_nd": (2, 2), "padding_nd": (1, 1)}, ((1, 1), (1, 1))),
    "asymmetric_padding": ((1, 2, 6, 7), 3, (3, 2), {"pre_padding": (1, 0), "post_padding": (0, 2)}, ((1, 0), (0, 2))),
    "dilation2": ((1, 2, 9, 9), 3, (3, 3), {"dilation_nd": (2, 2), "padding_nd": (2, 2)}, ((2, 2), (2, 2))),
    "rect_stride_dilation": ((1, 2, 10, 9), 2, (2, 3), {"stride_nd": (3, 1), "dilation_nd": (1, 2)}, ((0, 0), (0, 0))),
    "groups2": ((1, 4, 6, 6), 6, (3, 3), {"num_groups": 2, "padding_nd": (1, 1)}, ((1, 1), (1, 1))),
    "depthwise": ((2, 5, 7, 7), 5, (3, 3), {"num_groups": 5, "padding_nd": (1, 1)}, ((1, 1), (1, 1))),
    "depthwise_multiplier2_stride2": (
        (1, 3, 8, 8),
        6,
        (3, 3),
        {"num_groups": 3, "stride_nd": (2, 2)},
        ((0, 0), (0, 0)),
    ),
    "pointwise": ((1, 8, 5, 5), 4, (1, 1), {}, ((0, 0), (0, 0))),
    # in 8, kernel 3, stride 2 -> 4 outputs need one pad element: SAME_UPPER puts it after.
    "same_upper": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "SAME_UPPER"}, ((0, 0), (1, 1))),
    "same_lower": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "SAME_LOWER"}, ((1, 1), (0, 0))),
    # ceil((8 - 3) / 2) + 1 = 4 windows: the last one runs one element past the input.
    "round_up": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "EXPLICIT_ROUND_UP"}, ((0, 0), (1, 1))),
}


@pytest.mark.parametrize("case", list(CONV_CASES), ids=list(CONV_CASES))
def test_convolution_2d(case):
    shape, k_out, kernel, settings, (pre, post) = CONV_CASES[case]
    groups = settings.get("num_groups", 1)
    x = rand(*shape)
    w = rand(k_out, shape[1] // groups, *kernel)
    b = rand(k_out)
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), k_out, kernel, net.weights(w), net.weights(b))
    configure_layer(layer, settings)
    got = net.run(layer.get_output(0))
    expected = naive_conv(
        x, w, b, settings.get("stride_nd", (1, 1)), pre, post, settings.get("dilation_nd", (1, 1)), groups
    )
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_convolution_3d_without_bias():
    x, w = rand(1, 2, 5, 6, 4), rand(3, 2, 3, 2, 2)
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), 3, (3, 2, 2), net.weights(w), trt.Weights())
    layer.stride_nd = (2, 1, 1)
    layer.pre_padding = (1, 0, 1)
    layer.post_padding = (1, 1, 0)
    got = net.run(layer.get_output(0))
    expected = naive_conv(x, w, None, (2, 1, 1), (1, 0, 1), (1, 1, 0), (1, 1, 1), 1)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


def test_convolution_kernel_from_tensor():
    x, w = rand(1, 2, 5, 5), rand(3, 2, 3, 3)
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), 3, (3, 3), trt.Weights(), trt.Weights())
    layer.set_input(1, net.const(w))
    got = net.run(layer.get_output(0))
    np.testing.assert_allclose(got, naive_conv(x, w, None, (1, 1), (0, 0), (0, 0), (1, 1), 1), rtol=1e-4, atol=1e-4)


def test_convolution_fp16_computes_in_half_precision():
    x = rand(1, 4, 6, 6, dtype=np.float16)
    w = (rand(8, 4, 3, 3) * 0.3).astype(np.float16)
    b = rand(8).astype(np.float16)
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), 8, (3, 3), net.weights(w), net.weights(b))
    layer.padding_nd = (1, 1)
    relu = net.network.add_activation(layer.get_output(0), trt.ActivationType.RELU)
    got = net.run(relu.get_output(0))
    assert got.dtype == np.float16
    x32, w32, b32 = (v.astype(np.float32) for v in (x, w, b))
    expected = np.maximum(naive_conv(x32, w32, b32, (1, 1), (1, 1), (1, 1), (1, 1), 1), 0)
    np.testing.assert_allclose(got.astype(np.float32), expected, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize(
    "channels, out_channels, size, groups",
    [(64, 64, 56, 1), (32, 32, 112, 32)],
    ids=["resnet_3x3_64x56x56", "mobilenet_depthwise_32x112x112"],
)
def test_convolution_at_network_scale(channels, out_channels, size, groups):
    x = rand(1, channels, size, size)
    w = rand(out_channels, channels // groups, 3, 3) * 0.1
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), out_channels, (3, 3), net.weights(w), trt.Weights())
    layer.padding_nd = (1, 1)
    layer.num_groups = groups
    got = net.run(layer.get_output(0))
    # Independent formulation: einsum over a sliding-window view, per group, in float64.
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1))), (3, 3), axis=(2, 3))
    windows = windows.reshape(1, groups, channels // groups, size, size, 3, 3).astype(np.float64)
    wg = w.reshape(groups, out_channels // groups, channels // groups, 3, 3)
    expected = np.einsum("ngchwij,gkcij->ngkhw", windows, wg).reshape(1, out_channels, size, size)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


DECONV_CASES = {
    # id: (in shape, out channels, kernel, settings, expected pre/post cropping)
    "basic": ((1, 3, 4, 4), 2, (3, 3), {}, ((0, 0), (0, 0))),
    "stride2_pad1": ((2, 3, 4, 5), 4, (3, 3), {"stride_nd": (2, 2), "padding_nd": (1, 1)}, ((1, 1), (1, 1))),
    "asymmetric": (
        (1, 2, 3, 4),
        3,
        (4, 3),
        {"stride_nd": (2, 3), "pre_padding": (1, 0), "post_padding": (2, 1)},
        ((1, 0), (2, 1)),
    ),
    "groups2_dilation2": ((1, 4, 4, 4), 6, (3, 3), {"num_groups": 2, "dilation_nd": (2, 2)}, ((0, 0), (0, 0))),
    # DK=4, S=2: P = 2 -> one element cropped each side, output = I * S.
    "same_upper": ((1, 2, 4, 4), 2, (4, 4), {"stride_nd": (2, 2), "padding_mode": "SAME_UPPER"}, ((1, 1), (1, 1))),
    # DK=3, S=2: P = 1 -> SAME_LOWER crops it before the data.
    "same_lower": ((1, 2, 4, 4), 2, (3, 3), {"stride_nd": (2, 2), "padding_mode": "SAME_LOWER"}, ((1, 1), (0, 0))),
}


@pytest.mark.parametrize("case", list(DECONV_CASES), ids=list(DECONV_CASES))
def test_deconvolution(case):
    shape, k_out, kernel, settings, (pre, post) = DECONV_CASES[case]
    groups = settings.get("num_groups", 1)
    x = rand(*shape)
    w = rand(shape[1], k_out // groups, *kernel)  # (C_in, K / groups, *kernel)
    b = rand(k_out)
    net = Net()
    layer = net.network.add_deconvolution_nd(net.input(x), k_out, kernel, net.weights(w), net.weights(b))
    configure_layer(layer, settings)
    got = net.run(layer.get_output(0))
    stride, dilation = settings.get("stride_nd", (1, 1)), settings.get("dilation_nd", (1, 1))
    expected = naive_deconv(x, w, b, stride, pre, post, dilation, groups)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
