"""Tests for the NumPy reference executor (tvm_trt.reference).

Each test builds a small network with the TensorRT API and compares `run_network` against an
independent NumPy expectation (naive loops for convolution/pooling/resize).
"""
import itertools
import math

import numpy as np
import pytest

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    from tvm_trt import reference

    trt = tensorrt.trt()

RNG = np.random.default_rng(0)

_TRT_TYPES = {
    np.dtype(np.float32): "FLOAT",
    np.dtype(np.float16): "HALF",
    np.dtype(np.int32): "INT32",
    np.dtype(np.int64): "INT64",
    np.dtype(np.bool_): "BOOL",
    np.dtype(np.int8): "INT8",
    np.dtype(np.uint8): "UINT8",
}


def rand(*shape, dtype=np.float32):
    return RNG.standard_normal(shape).astype(dtype)


def trt_type(dtype):
    return getattr(trt.DataType, _TRT_TYPES[np.dtype(dtype)])


class Net:
    """A network under construction plus the host values for its inputs."""

    def __init__(self):
        self.builder = trt.Builder(tensorrt.get_logger())
        self.network = self.builder.create_network(0)
        self.feeds = {}
        self._keep = []  # trt.Weights borrow host memory until the network is done with it

    def input(self, value, shape=None, name=None):
        value = np.asarray(value)
        name = name or f"in{len(self.feeds)}"
        self.feeds[name] = value
        return self.network.add_input(name, trt_type(value.dtype), value.shape if shape is None else shape)

    def weights(self, value):
        if value is None:
            return trt.Weights()
        value = np.array(value, order="C")  # (ascontiguousarray would turn 0-d into 1-d)
        self._keep.append(value)
        return trt.Weights(value)

    def const(self, value):
        value = np.array(value, order="C")
        self._keep.append(value)
        return self.network.add_constant(value.shape, trt.Weights(value)).get_output(0)

    def run(self, *outputs, feeds=None):
        for j, tensor in enumerate(outputs):
            tensor.name = f"out{j}"
            self.network.mark_output(tensor)
        result = reference.run_network(self.network, self.feeds if feeds is None else feeds)
        values = [result[f"out{j}"] for j in range(len(outputs))]
        return values[0] if len(values) == 1 else values


# ----------------------------------------------------------------------------------------------
# Naive expectations


def naive_conv(x, w, b, stride, pre, post, dilation, groups):
    """Direct loops over output positions and output channels."""
    nsp = w.ndim - 2
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0)] + list(zip(pre, post)))
    n, c = x.shape[:2]
    k_out = w.shape[0]
    cg, kg = c // groups, k_out // groups
    out = [(xp.shape[2 + i] - dilation[i] * (w.shape[2 + i] - 1) - 1) // stride[i] + 1 for i in range(nsp)]
    y = np.zeros((n, k_out) + tuple(out))
    for k in range(k_out):
        g = k // kg
        for pos in itertools.product(*map(range, out)):
            window = tuple(
                slice(p * s, p * s + d * (kk - 1) + 1, d) for p, s, d, kk in zip(pos, stride, dilation, w.shape[2:])
            )
            patch = xp[(slice(None), slice(g * cg, (g + 1) * cg)) + window]
            y[(slice(None), k) + pos] = (patch * w[k]).reshape(n, -1).sum(axis=1)
    if b is not None:
        y += b.reshape((1, -1) + (1,) * nsp)
    return y


def naive_deconv(x, w, b, stride, pre, post, dilation, groups):
    """Scatter every input element times the kernel into the output, then crop the padding."""
    n, c = x.shape[:2]
    sizes, kernel = x.shape[2:], w.shape[2:]
    cg, kg = c // groups, w.shape[1]
    full = [(i - 1) * s + d * (k - 1) + 1 for i, s, d, k in zip(sizes, stride, dilation, kernel)]
    y = np.zeros((n, kg * groups) + tuple(full))
    for ci in range(c):
        g = ci // cg
        for j in range(kg):
            for ipos in itertools.product(*map(range, sizes)):
                for kpos in itertools.product(*map(range, kernel)):
                    opos = tuple(i * s + k * d for i, s, k, d in zip(ipos, stride, kpos, dilation))
                    y[(slice(None), g * kg + j) + opos] += x[(slice(None), ci) + ipos] * w[(ci, j) + kpos]
    crop = tuple(slice(b_, f - a) for b_, a, f in zip(pre, post, full))
    y = y[(slice(None), slice(None)) + crop]
    if b is not None:
        y += b.reshape((1, -1) + (1,) * len(sizes))
    return y


def naive_pool(x, window, stride, pre, post, out, kind, exclude_padding=True):
    """Loops over output windows; `out` is given so ceil-mode windows may run past the padding."""
    n, c = x.shape[:2]
    sizes = x.shape[2:]
    y = np.zeros((n, c) + tuple(out))
    for pos in itertools.product(*map(range, out)):
        lows = [p * s - b for p, s, b in zip(pos, stride, pre)]
        highs = [lo + k for lo, k in zip(lows, window)]
        inside = tuple(slice(max(lo, 0), min(hi, size)) for lo, hi, size in zip(lows, highs, sizes))
        patch = x[(slice(None), slice(None)) + inside].reshape(n, c, -1)
        if kind == "max":
            y[(slice(None), slice(None)) + pos] = patch.max(axis=-1)
        else:
            if exclude_padding:
                count = patch.shape[-1]
            else:
                spans = [min(hi, n + a) - max(lo, -b) for lo, hi, n, a, b in zip(lows, highs, sizes, post, pre)]
                count = np.prod(spans)
            y[(slice(None), slice(None)) + pos] = patch.sum(axis=-1) / count
    return y


# ----------------------------------------------------------------------------------------------
# Convolution


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
        (1, 3, 8, 8), 6, (3, 3), {"num_groups": 3, "stride_nd": (2, 2)}, ((0, 0), (0, 0))
    ),
    "pointwise": ((1, 8, 5, 5), 4, (1, 1), {}, ((0, 0), (0, 0))),
    # in 8, kernel 3, stride 2 -> 4 outputs need one pad element: SAME_UPPER puts it after.
    "same_upper": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "SAME_UPPER"}, ((0, 0), (1, 1))),
    "same_lower": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "SAME_LOWER"}, ((1, 1), (0, 0))),
    # ceil((8 - 3) / 2) + 1 = 4 windows: the last one runs one element past the input.
    "round_up": ((1, 2, 8, 8), 3, (3, 3), {"stride_nd": (2, 2), "padding_mode": "EXPLICIT_ROUND_UP"}, ((0, 0), (1, 1))),
}


def _configure(layer, settings):
    for key, value in settings.items():
        if key == "padding_mode":
            value = getattr(trt.PaddingMode, value)
        setattr(layer, key, value)


@pytest.mark.parametrize("case", list(CONV_CASES), ids=list(CONV_CASES))
def test_convolution_2d(case):
    shape, k_out, kernel, settings, (pre, post) = CONV_CASES[case]
    groups = settings.get("num_groups", 1)
    x = rand(*shape)
    w = rand(k_out, shape[1] // groups, *kernel)
    b = rand(k_out)
    net = Net()
    layer = net.network.add_convolution_nd(net.input(x), k_out, kernel, net.weights(w), net.weights(b))
    _configure(layer, settings)
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
        (1, 2, 3, 4), 3, (4, 3), {"stride_nd": (2, 3), "pre_padding": (1, 0), "post_padding": (2, 1)}, ((1, 0), (2, 1))
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
    _configure(layer, settings)
    got = net.run(layer.get_output(0))
    stride, dilation = settings.get("stride_nd", (1, 1)), settings.get("dilation_nd", (1, 1))
    expected = naive_deconv(x, w, b, stride, pre, post, dilation, groups)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)


# ----------------------------------------------------------------------------------------------
# Pooling


def pool_case(shape, kind, window, pre, post, out, **settings):
    """A pooling case: layer settings plus the explicit padding and output size they imply."""
    exclude = settings.get("average_count_excludes_padding", True)
    return shape, kind, window, settings, pre, post, out, exclude


POOL_CASES = {
    "max_3x3_s2_p1": pool_case(
        (2, 3, 8, 8), "MAX", (3, 3), (1, 1), (1, 1), (4, 4), stride_nd=(2, 2), padding_nd=(1, 1)
    ),
    "max_asymmetric": pool_case(
        (1, 2, 5, 6), "MAX", (2, 3), (1, 0), (0, 2), (5, 6), pre_padding=(1, 0), post_padding=(0, 2)
    ),
    "avg_exclude_padding": pool_case((1, 2, 6, 6), "AVERAGE", (3, 3), (1, 1), (1, 1), (6, 6), padding_nd=(1, 1)),
    "avg_include_padding": pool_case(
        (1, 2, 6, 6), "AVERAGE", (3, 3), (1, 1), (1, 1), (6, 6), padding_nd=(1, 1), average_count_excludes_padding=False
    ),
    # (7 - 3) / 2 is exact, so rounding up changes nothing here...
    "max_ceil_exact": pool_case(
        (1, 2, 7, 7), "MAX", (3, 3), (0, 0), (0, 0), (3, 3), stride_nd=(2, 2), padding_mode="EXPLICIT_ROUND_UP"
    ),
    # ...but ceil((8 - 3) / 2) + 1 = 4 windows: the last one runs past the input.
    "max_ceil_overhang": pool_case(
        (1, 2, 8, 8), "MAX", (3, 3), (0, 0), (0, 0), (4, 4), stride_nd=(2, 2), padding_mode="EXPLICIT_ROUND_UP"
    ),
    # ceil((4 + 2 - 3) / 2) + 1 = 3 windows; the overhang is not counted even when padding is.
    "avg_ceil_include_padding": pool_case(
        (1, 2, 4, 4), "AVERAGE", (3, 3), (1, 1), (1, 1), (3, 3),
        stride_nd=(2, 2), padding_nd=(1, 1), padding_mode="EXPLICIT_ROUND_UP", average_count_excludes_padding=False,
    ),
    "avg_ceil_exclude_padding": pool_case(
        (1, 2, 4, 4), "AVERAGE", (3, 3), (1, 1), (1, 1), (3, 3),
        stride_nd=(2, 2), padding_nd=(1, 1), padding_mode="EXPLICIT_ROUND_UP",
    ),
    # in 8, window 3, stride 2: 4 outputs need one pad element, after (UPPER) or before (LOWER).
    "max_same_upper": pool_case(
        (1, 2, 8, 8), "MAX", (3, 3), (0, 0), (1, 1), (4, 4), stride_nd=(2, 2), padding_mode="SAME_UPPER"
    ),
    "avg_same_lower_include_padding": pool_case(
        (1, 2, 8, 8), "AVERAGE", (3, 3), (1, 1), (0, 0), (4, 4),
        stride_nd=(2, 2), padding_mode="SAME_LOWER", average_count_excludes_padding=False,
    ),
    "global_avg": pool_case((2, 4, 7, 7), "AVERAGE", (7, 7), (0, 0), (0, 0), (1, 1)),
    "avg_default_stride_is_one": pool_case((1, 2, 5, 5), "AVERAGE", (2, 2), (0, 0), (0, 0), (4, 4)),
}


@pytest.mark.parametrize("case", list(POOL_CASES), ids=list(POOL_CASES))
def test_pooling_2d(case):
    shape, kind, window, settings, pre, post, out, exclude = POOL_CASES[case]
    x = rand(*shape)
    net = Net()
    layer = net.network.add_pooling_nd(net.input(x), getattr(trt.PoolingType, kind), window)
    _configure(layer, settings)
    got = net.run(layer.get_output(0))
    stride = settings.get("stride_nd", (1,) * len(window))
    expected = naive_pool(x, window, stride, pre, post, out, kind.lower(), exclude)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_pooling_3d_average_and_blend():
    x = rand(1, 2, 4, 6, 5)
    net = Net()
    avg = net.network.add_pooling_nd(net.input(x), trt.PoolingType.AVERAGE, (2, 3, 2))
    avg.stride_nd = (2, 2, 1)
    avg.padding_nd = (0, 1, 1)
    avg.average_count_excludes_padding = False
    blend = net.network.add_pooling_nd(net.network.get_input(0), trt.PoolingType.MAX_AVERAGE_BLEND, (2, 2, 2))
    blend.stride_nd = (2, 2, 2)
    blend.blend_factor = 0.25
    got_avg, got_blend = net.run(avg.get_output(0), blend.get_output(0))
    expected_avg = naive_pool(x, (2, 3, 2), (2, 2, 1), (0, 1, 1), (0, 1, 1), (2, 3, 6), "avg", False)
    np.testing.assert_allclose(got_avg, expected_avg, rtol=1e-5, atol=1e-6)
    mx = naive_pool(x, (2, 2, 2), (2, 2, 2), (0,) * 3, (0,) * 3, (2, 3, 2), "max")
    av = naive_pool(x, (2, 2, 2), (2, 2, 2), (0,) * 3, (0,) * 3, (2, 3, 2), "avg")
    np.testing.assert_allclose(got_blend, 0.75 * mx + 0.25 * av, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Pointwise


ELEMENTWISE_FLOAT = {
    "SUM": np.add,
    "PROD": np.multiply,
    "MAX": np.maximum,
    "MIN": np.minimum,
    "SUB": np.subtract,
    "DIV": np.divide,
    "POW": lambda a, b: np.power(np.abs(a), b),
    "FLOOR_DIV": lambda a, b: np.floor(a / b),
}


@pytest.mark.parametrize("op", list(ELEMENTWISE_FLOAT), ids=str.lower)
def test_elementwise_broadcasts_size_one_dims(op):
    a, b = rand(2, 3, 4), rand(1, 3, 1) + 3.0
    if op == "POW":
        a = np.abs(a)
    net = Net()
    layer = net.network.add_elementwise(net.input(a), net.input(b), getattr(trt.ElementWiseOperation, op))
    got = net.run(layer.get_output(0))
    assert got.shape == (2, 3, 4)
    np.testing.assert_allclose(got, ELEMENTWISE_FLOAT[op](a, b), rtol=1e-5, atol=1e-6)


def test_elementwise_integer_division_truncates_and_floor_div_floors():
    a = np.array([[7, -7, 7, -7, 6]], np.int32)
    b = np.array([[2, 2, -2, -2, 3]], np.int32)
    net = Net()
    ta, tb = net.input(a), net.input(b)
    div = net.network.add_elementwise(ta, tb, trt.ElementWiseOperation.DIV)
    floor_div = net.network.add_elementwise(ta, tb, trt.ElementWiseOperation.FLOOR_DIV)
    got_div, got_floor = net.run(div.get_output(0), floor_div.get_output(0))
    np.testing.assert_array_equal(got_div, [[3, -3, -3, 3, 2]])
    np.testing.assert_array_equal(got_floor, [[3, -4, -4, 3, 2]])
    assert got_div.dtype == np.int32


@pytest.mark.parametrize(
    "op, expected",
    [
        ("EQUAL", lambda a, b: a == b),
        ("GREATER", lambda a, b: a > b),
        ("LESS", lambda a, b: a < b),
    ],
    ids=["equal", "greater", "less"],
)
def test_elementwise_comparisons_give_bool(op, expected):
    a, b = np.array([[1.0, 2.0, 3.0]], np.float32), np.array([[2.0]], np.float32)
    net = Net()
    layer = net.network.add_elementwise(net.input(a), net.input(b), getattr(trt.ElementWiseOperation, op))
    got = net.run(layer.get_output(0))
    assert got.dtype == np.bool_
    np.testing.assert_array_equal(got, expected(a, b))


@pytest.mark.parametrize(
    "op, expected", [("AND", np.logical_and), ("OR", np.logical_or), ("XOR", np.logical_xor)], ids=["and", "or", "xor"]
)
def test_elementwise_logical(op, expected):
    a = np.array([[True, True, False, False]])
    b = np.array([[True, False, True, False]])
    net = Net()
    layer = net.network.add_elementwise(net.input(a), net.input(b), getattr(trt.ElementWiseOperation, op))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected(a, b))


UNARY = {
    "EXP": (np.exp, None),
    "LOG": (np.log, "positive"),
    "SQRT": (np.sqrt, "positive"),
    "RECIP": (lambda x: 1 / x, "positive"),
    "ABS": (np.abs, None),
    "NEG": (np.negative, None),
    "SIN": (np.sin, None),
    "COS": (np.cos, None),
    "TAN": (np.tan, None),
    "SINH": (np.sinh, None),
    "COSH": (np.cosh, None),
    "ASIN": (np.arcsin, "unit"),
    "ACOS": (np.arccos, "unit"),
    "ATAN": (np.arctan, None),
    "ASINH": (np.arcsinh, None),
    "ACOSH": (np.arccosh, "above_one"),
    "ATANH": (np.arctanh, "unit"),
    "CEIL": (np.ceil, None),
    "FLOOR": (np.floor, None),
    "ERF": (np.vectorize(math.erf), None),
    "SIGN": (np.sign, None),
    "ROUND": (np.round, "halves"),
}


def _unary_input(domain):
    x = rand(3, 5)
    if domain == "positive":
        return np.abs(x) + 0.1
    if domain == "unit":
        return np.tanh(x) * 0.9
    if domain == "above_one":
        return np.abs(x) + 1.0
    if domain == "halves":
        return np.array([[-2.5, -1.5, -0.5, 0.5, 1.5], [2.5, 0.4, -0.6, 3.2, -3.7]], np.float32)
    return x


@pytest.mark.parametrize("op", list(UNARY), ids=str.lower)
def test_unary(op):
    fn, domain = UNARY[op]
    x = _unary_input(domain)
    net = Net()
    layer = net.network.add_unary(net.input(x), getattr(trt.UnaryOperation, op))
    np.testing.assert_allclose(net.run(layer.get_output(0)), fn(x.astype(np.float64)), rtol=1e-5, atol=1e-6)


def test_unary_bool_results():
    x = np.array([[1.0, np.inf, -np.inf, np.nan]], np.float32)
    b = np.array([[True, False]])
    net = Net()
    tx = net.input(x)
    is_inf = net.network.add_unary(tx, trt.UnaryOperation.ISINF)
    is_nan = net.network.add_unary(tx, trt.UnaryOperation.ISNAN)
    negated = net.network.add_unary(net.input(b), trt.UnaryOperation.NOT)
    got_inf, got_nan, got_not = net.run(is_inf.get_output(0), is_nan.get_output(0), negated.get_output(0))
    np.testing.assert_array_equal(got_inf, [[False, True, True, False]])
    np.testing.assert_array_equal(got_nan, [[False, False, False, True]])
    np.testing.assert_array_equal(got_not, [[False, True]])


def _erf(x):
    return np.vectorize(math.erf)(x)


ACTIVATIONS = {
    "RELU": (0, 0, lambda x, a, b: np.maximum(x, 0)),
    "SIGMOID": (0, 0, lambda x, a, b: 1 / (1 + np.exp(-x))),
    "TANH": (0, 0, lambda x, a, b: np.tanh(x)),
    "LEAKY_RELU": (0.1, 0, lambda x, a, b: np.where(x > 0, x, a * x)),
    "ELU": (0.7, 0, lambda x, a, b: np.where(x > 0, x, a * (np.exp(x) - 1))),
    "SELU": (1.6732632, 1.0507010, lambda x, a, b: b * np.where(x > 0, x, a * (np.exp(x) - 1))),
    "SOFTSIGN": (0, 0, lambda x, a, b: x / (1 + np.abs(x))),
    "SOFTPLUS": (1.5, 0.5, lambda x, a, b: a * np.log(np.exp(b * x) + 1)),
    "CLIP": (-0.5, 0.8, lambda x, a, b: np.minimum(np.maximum(x, a), b)),
    "HARD_SIGMOID": (0.2, 0.5, lambda x, a, b: np.maximum(0, np.minimum(1, a * x + b))),
    "SCALED_TANH": (1.7, 0.6, lambda x, a, b: a * np.tanh(b * x)),
    "THRESHOLDED_RELU": (0.3, 0, lambda x, a, b: np.where(x > a, x, 0)),
    "GELU_ERF": (0, 0, lambda x, a, b: 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    "GELU_TANH": (0, 0, lambda x, a, b: 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))),
}


@pytest.mark.parametrize("kind", list(ACTIVATIONS), ids=str.lower)
def test_activation(kind):
    alpha, beta, fn = ACTIVATIONS[kind]
    x = rand(2, 3, 7) * 2
    net = Net()
    layer = net.network.add_activation(net.input(x), getattr(trt.ActivationType, kind))
    layer.alpha, layer.beta = alpha, beta
    expected = fn(x.astype(np.float64), alpha, beta)
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-5, atol=1e-6)


def test_parametric_relu_broadcasts_slope():
    x, slope = rand(2, 3, 4), np.array([0.1, 0.2, 0.3], np.float32).reshape(1, 3, 1)
    net = Net()
    layer = net.network.add_parametric_relu(net.input(x), net.const(slope))
    np.testing.assert_allclose(net.run(layer.get_output(0)), np.where(x >= 0, x, slope * x), rtol=1e-6)


def test_select():
    cond = np.array([[True], [False]])
    a, b = rand(2, 3), rand(1, 3)
    net = Net()
    layer = net.network.add_select(net.input(cond), net.input(a), net.input(b))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), np.where(cond, a, b))


@pytest.mark.parametrize(
    "src, to_type, expected",
    [
        (np.array([1.7, -1.7, 2.5, -0.2], np.float32), "INT32", np.array([1, -1, 2, 0], np.int32)),
        (np.array([1.0, 0.0, -3.0, 0.5], np.float32), "BOOL", np.array([True, False, True, True])),
        (np.array([3, -4, 0, 7], np.int32), "FLOAT", np.array([3.0, -4.0, 0.0, 7.0], np.float32)),
        (np.array([1.0 / 3, 2.0, 1e-4, 7.0], np.float32), "HALF", np.array([1.0 / 3, 2.0, 1e-4, 7.0], np.float16)),
        (np.array([5, -5, 2**31 - 1, 0], np.int32), "INT64", np.array([5, -5, 2**31 - 1, 0], np.int64)),
    ],
    ids=["float_to_int32_truncates", "float_to_bool", "int32_to_float", "float_to_half", "int32_to_int64"],
)
def test_cast(src, to_type, expected):
    net = Net()
    layer = net.network.add_cast(net.input(src), getattr(trt.DataType, to_type))
    got = net.run(layer.get_output(0))
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_identity_keeps_values():
    x = rand(2, 3)
    net = Net()
    layer = net.network.add_identity(net.input(x))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x)


SCALE_CASES = {
    "uniform_shift_scale": ("UNIFORM", 1, np.array([0.5]), np.array([2.0]), None),
    "channel": ("CHANNEL", 1, np.array([0.0, 1.0, -1.0]), np.array([1.0, 2.0, 3.0]), None),
    "channel_power": ("CHANNEL", 1, np.array([3.0, 3.0, 3.0]), np.array([1.0, 0.5, 2.0]), np.array([2.0, 1.0, 0.5])),
    "elementwise": ("ELEMENTWISE", 1, None, np.arange(1, 3 * 4 * 5 + 1) / 10.0, None),
    "channel_axis2": ("CHANNEL", 2, np.array([1.0, 2.0, 3.0, 4.0]), None, None),
}


@pytest.mark.parametrize("case", list(SCALE_CASES), ids=list(SCALE_CASES))
def test_scale_nd(case):
    mode, axis, shift, scale, power = SCALE_CASES[case]
    x = np.abs(rand(2, 3, 4, 5))
    net = Net()
    as_weights = lambda v: net.weights(None if v is None else v.astype(np.float32))
    layer = net.network.add_scale_nd(
        net.input(x), getattr(trt.ScaleMode, mode), as_weights(shift), as_weights(scale), as_weights(power), axis
    )
    got = net.run(layer.get_output(0))

    def shaped(v, default):
        if v is None:
            return default
        if mode == "UNIFORM":
            return v[0]
        if mode == "CHANNEL":
            return v.reshape((-1,) + (1,) * (x.ndim - axis - 1))
        return v.reshape(x.shape[axis:])

    expected = (x * shaped(scale, 1.0) + shaped(shift, 0.0)) ** shaped(power, 1.0)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Shape manipulation


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


# ----------------------------------------------------------------------------------------------
# Reductions, normalisation, matrix multiply


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
        (2, 4, 3), "TRANSPOSE", (1, 5, 4), "TRANSPOSE", lambda a, b: a.swapaxes(-1, -2) @ b.swapaxes(-1, -2)
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


def test_einsum():
    a, b = rand(2, 3, 4), rand(2, 4, 5)
    net = Net()
    layer = net.network.add_einsum([net.input(a), net.input(b)], "bij,bjk->bik")
    np.testing.assert_allclose(net.run(layer.get_output(0)), a @ b, rtol=1e-5, atol=1e-6)


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


# ----------------------------------------------------------------------------------------------
# Resize


def _source(i, n_in, n_out, transform):
    if transform == "ALIGN_CORNERS":
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if transform == "ASYMMETRIC":
        return i * n_in / n_out
    return (i + 0.5) * n_in / n_out - 0.5


def naive_resize_2d(x, out_hw, mode, transform, rounding="FLOOR"):
    """Per-output-pixel loops over the two innermost dims."""
    h_in, w_in = x.shape[-2:]
    y = np.zeros(x.shape[:-2] + tuple(out_hw))
    round_fn = {
        "FLOOR": math.floor,
        "CEIL": math.ceil,
        "HALF_UP": lambda v: math.floor(v + 0.5),
        "HALF_DOWN": lambda v: math.ceil(v - 0.5),
    }[rounding]
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            sy, sx = _source(i, h_in, out_hw[0], transform), _source(j, w_in, out_hw[1], transform)
            if mode == "NEAREST":
                yi = min(max(round_fn(sy), 0), h_in - 1)
                xj = min(max(round_fn(sx), 0), w_in - 1)
                y[..., i, j] = x[..., yi, xj]
            else:
                sy, sx = min(max(sy, 0), h_in - 1), min(max(sx, 0), w_in - 1)
                y0, x0 = int(math.floor(sy)), int(math.floor(sx))
                y1, x1 = min(y0 + 1, h_in - 1), min(x0 + 1, w_in - 1)
                fy, fx = sy - y0, sx - x0
                y[..., i, j] = (
                    x[..., y0, x0] * (1 - fy) * (1 - fx)
                    + x[..., y0, x1] * (1 - fy) * fx
                    + x[..., y1, x0] * fy * (1 - fx)
                    + x[..., y1, x1] * fy * fx
                )
    return y


RESIZE_CASES = {
    # id: (out H, W, mode, coordinate transformation, nearest rounding)
    "nearest_asymmetric_floor_up2": ((8, 10), "NEAREST", "ASYMMETRIC", "FLOOR"),
    "nearest_half_pixel_half_up_down": ((3, 4), "NEAREST", "HALF_PIXEL", "HALF_UP"),
    "nearest_half_pixel_half_down": ((6, 7), "NEAREST", "HALF_PIXEL", "HALF_DOWN"),
    "nearest_align_corners_ceil": ((7, 9), "NEAREST", "ALIGN_CORNERS", "CEIL"),
    "linear_half_pixel": ((7, 9), "LINEAR", "HALF_PIXEL", "FLOOR"),
    "linear_align_corners": ((8, 3), "LINEAR", "ALIGN_CORNERS", "FLOOR"),
    "linear_asymmetric": ((6, 11), "LINEAR", "ASYMMETRIC", "FLOOR"),
}


@pytest.mark.parametrize("case", list(RESIZE_CASES), ids=list(RESIZE_CASES))
def test_resize_2d(case):
    out_hw, mode, transform, rounding = RESIZE_CASES[case]
    x = rand(1, 2, 4, 5)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.shape = (1, 2) + out_hw
    layer.resize_mode = getattr(trt.InterpolationMode, mode)
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, transform)
    layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
    got = net.run(layer.get_output(0))
    np.testing.assert_allclose(got, naive_resize_2d(x, out_hw, mode, transform, rounding), rtol=1e-5, atol=1e-6)


def test_resize_scales_and_single_pixel_selector():
    x = rand(1, 1, 4, 6)
    net = Net()
    tx = net.input(x)
    scaled = net.network.add_resize(tx)
    scaled.scales = [1.0, 1.0, 2.0, 0.5]
    upper = net.network.add_resize(tx)
    upper.shape = (1, 1, 1, 1)
    upper.resize_mode = trt.InterpolationMode.LINEAR
    upper.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    upper.selector_for_single_pixel = trt.ResizeSelector.UPPER
    got_scaled, got_upper = net.run(scaled.get_output(0), upper.get_output(0))
    np.testing.assert_array_equal(got_scaled, naive_resize_2d(x, (8, 3), "NEAREST", "ASYMMETRIC"))
    np.testing.assert_array_equal(got_upper, x[:, :, :1, :1])


def test_resize_output_shape_from_tensor():
    x = rand(1, 2, 3, 3)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.set_input(1, net.const(np.array([1, 2, 6, 9], np.int64)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x.repeat(2, axis=2).repeat(3, axis=3))


def test_resize_cubic_matches_keys_kernel():
    x = rand(1, 1, 4, 4)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.shape = (1, 1, 4, 7)  # only the width changes
    layer.resize_mode = trt.InterpolationMode.CUBIC
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    got = net.run(layer.get_output(0))

    def keys(d, a=-0.75):
        d = abs(d)
        return ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    expected = np.zeros((1, 1, 4, 7))
    for j in range(7):
        src = (j + 0.5) * 4 / 7 - 0.5
        base = math.floor(src)
        for tap in range(base - 1, base + 3):
            expected[..., j] += x[..., min(max(tap, 0), 3)] * keys(src - tap)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Whole networks, dynamic shapes, errors


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
