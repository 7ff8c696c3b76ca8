"""Reference executor (tvm_trt.reference): pointwise layers (elementwise, unary, activation, select, cast, identity, scale), against independent NumPy expectations."""

import math

import numpy as np
import pytest
from reference_net import Net, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    trt = tensorrt.trt()


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
