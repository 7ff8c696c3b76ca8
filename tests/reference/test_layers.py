"""Layers added to the reference executor after checking it against TensorRT's ONNX parser:
scatter, one-hot, reverse-sequence, LRN and grid sample, negative gather indices, squeeze
without axes, and the refusal of loops. Expectations are independent NumPy loops or ONNX's
reference implementation (onnx.reference)."""
import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from tvm_trt import backend

pytestmark = pytest.mark.skipif(not backend.available(), reason="needs a TensorRT library")

if backend.available():
    from test_reference import Net, rand

    trt = backend.trt()


def onnx_node(op, inputs, opset=20, **attrs):
    """Runs one ONNX node with ONNX's reference implementation."""
    names = [f"i{j}" for j in range(len(inputs))]
    graph = helper.make_graph(
        [helper.make_node(op, names, ["y"], **attrs)],
        "g",
        [
            helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
            for n, v in zip(names, inputs)
        ],
        [helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    return ReferenceEvaluator(model).run(None, dict(zip(names, inputs)))[0]


def test_gather_negative_indices_count_from_the_end():
    x = rand(5, 3)
    net = Net()
    tx = net.input(x)
    default = net.network.add_gather(tx, net.input(np.array([-1, 0, -5], np.int32)), 0)
    element = net.network.add_gather_v2(tx, net.input(np.array([[-1, 0, -3]], np.int32)), trt.GatherMode.ELEMENT)
    element.axis = 1
    got_default, got_element = net.run(default.get_output(0), element.get_output(0))
    np.testing.assert_array_equal(got_default, x[[4, 0, 0]])
    np.testing.assert_array_equal(got_element, [[x[0, 2], x[0, 0], x[0, 0]]])


def test_gather_rejects_indices_below_minus_size():
    net = Net()
    layer = net.network.add_gather(net.input(rand(4, 2)), net.input(np.array([-5], np.int32)), 0)
    with pytest.raises(ValueError, match=r"outside \[-4, 4\)"):
        net.run(layer.get_output(0))


def test_scatter_element_matches_onnx_scatter_elements():
    data = rand(3, 4)
    indices = np.array([[1, -1], [0, 2], [3, 0]], np.int64)
    updates = rand(3, 2)
    net = Net()
    layer = net.network.add_scatter(net.input(data), net.input(indices), net.input(updates), trt.ScatterMode.ELEMENT)
    layer.axis = 1
    expected = onnx_node("ScatterElements", [data, indices, updates], axis=1)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


def test_scatter_nd_matches_onnx_scatter_nd():
    data = rand(4, 3, 2)
    indices = np.array([[[1], [3]], [[0], [-2]]], np.int64)  # slices of the leading axis
    updates = rand(2, 2, 3, 2)
    net = Net()
    layer = net.network.add_scatter(net.input(data), net.input(indices), net.input(updates), trt.ScatterMode.ND)
    expected = onnx_node("ScatterND", [data, indices % 4, updates])
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("axis", [0, 1, -1], ids=["axis0", "axis1", "last_axis"])
def test_one_hot_matches_onnx(axis):
    indices = np.array([[0, 3, -1], [2, 5, 1]], np.int32)  # -1 counts from depth; 5 is out of range
    values = np.array([-2.0, 7.0], np.float32)
    depth = np.array(4, np.int32)
    net = Net()
    layer = net.network.add_one_hot(net.input(indices), net.const(values), net.const(depth), axis)
    expected = onnx_node("OneHot", [indices, depth, values], axis=axis)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


def test_reverse_sequence_matches_onnx():
    x = rand(4, 3, 2)  # (time, batch, features)
    lens = np.array([4, 1, 3], np.int32)
    net = Net()
    layer = net.network.add_reverse_sequence(net.input(x), net.const(lens))
    layer.batch_axis, layer.sequence_axis = 1, 0
    expected = onnx_node("ReverseSequence", [x, lens.astype(np.int64)], batch_axis=1, time_axis=0)
    np.testing.assert_array_equal(net.run(layer.get_output(0)), expected)


@pytest.mark.parametrize("window", [3, 5], ids=["window3", "window5"])
def test_lrn_matches_loops_over_channels(window):
    x = rand(2, 6, 3, 3)
    alpha, beta, k = 2e-3, 0.75, 1.5
    net = Net()
    layer = net.network.add_lrn(net.input(x), window, alpha, beta, k)
    expected = np.zeros_like(x, dtype=np.float64)
    for c in range(6):
        lo, hi = max(0, c - (window - 1) // 2), min(6, c + window // 2 + 1)
        total = np.square(x[:, lo:hi].astype(np.float64)).sum(axis=1)
        expected[:, c] = x[:, c] / (k + alpha / window * total) ** beta
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-5, atol=1e-6)


GRID_CASES = list(itertools.product(["LINEAR", "NEAREST", "CUBIC"], ["FILL", "CLAMP", "REFLECT"], [False, True]))
ONNX_MODES = {"LINEAR": "linear", "NEAREST": "nearest", "CUBIC": "cubic"}
ONNX_PADDING = {"FILL": "zeros", "CLAMP": "border", "REFLECT": "reflection"}


@pytest.mark.parametrize(
    "mode, padding, align", GRID_CASES, ids=[f"{m.lower()}_{p.lower()}_{'align' if a else 'half'}" for m, p, a in GRID_CASES]
)
def test_grid_sample_2d_matches_onnx(mode, padding, align):
    x = rand(2, 3, 4, 5)
    grid = (np.random.default_rng(1).uniform(-1.4, 1.4, (2, 3, 6, 2))).astype(np.float32)  # some points outside
    net = Net()
    layer = net.network.add_grid_sample(net.input(x), net.input(grid))
    layer.interpolation_mode = getattr(trt.InterpolationMode, mode)
    layer.sample_mode = getattr(trt.SampleMode, padding)
    layer.align_corners = align
    expected = onnx_node(
        "GridSample", [x, grid], mode=ONNX_MODES[mode], padding_mode=ONNX_PADDING[padding], align_corners=int(align)
    )
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-4, atol=1e-5)


def test_grid_sample_3d_linear_matches_onnx():
    x = rand(1, 2, 3, 4, 5)
    grid = np.random.default_rng(2).uniform(-1.1, 1.1, (1, 2, 3, 4, 3)).astype(np.float32)
    net = Net()
    layer = net.network.add_grid_sample(net.input(x), net.input(grid))
    expected = onnx_node("GridSample", [x, grid], mode="linear", padding_mode="zeros", align_corners=0)
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-4, atol=1e-5)


def test_squeeze_without_axes_drops_static_unit_dims():
    x = rand(1, 3, 1, 4)
    net = Net()
    layer = net.network.add_squeeze(net.input(x, shape=(1, -1, 1, 4)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x.reshape(3, 4))


def test_loops_are_refused_naming_the_layer():
    net = Net()
    x = net.input(rand(3))
    loop = net.network.add_loop()
    limit = loop.add_trip_limit(net.const(np.array(2, np.int32)), trt.TripLimit.COUNT)
    limit.name = "two_trips"
    state = loop.add_recurrence(x)
    step = net.network.add_unary(state.get_output(0), trt.UnaryOperation.EXP)
    state.set_input(1, step.get_output(0))
    out = loop.add_loop_output(state.get_output(0), trt.LoopOutput.LAST_VALUE)
    with pytest.raises(NotImplementedError, match=r"'two_trips'.*TRIP_LIMIT"):
        net.run(out.get_output(0))
