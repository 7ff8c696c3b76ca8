"""Layers added to the reference executor after checking it against TensorRT's ONNX parser:
scatter, one-hot, reverse-sequence, LRN, grid sample, attention and rotary embedding, negative
gather indices, squeeze without axes, the refusal of loops, and networks with -1 dims computed
through shape tensors. Expectations are independent NumPy loops or ONNX's reference
implementation (onnx.reference)."""

import itertools

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    from reference_net import Net, rand

    from tvm_trt import reference

    trt = tensorrt.trt()


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
    indices = np.array([[0, 3, -1], [2, -4, 1]], np.int32)  # negative indices count from depth
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
GRID_IDS = [f"{m.lower()}_{p.lower()}_{'align' if a else 'half'}" for m, p, a in GRID_CASES]


@pytest.mark.parametrize("mode, padding, align", GRID_CASES, ids=GRID_IDS)
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


def test_dynamic_network_shape_arithmetic_feeds_reshape_fill_slice_and_resize():
    """What converters emit for -1 dims: SHAPE, then int64 shape arithmetic (gather, elementwise,
    concat) feeding a reshape, a fill, a slice and a resize through set_input; TensorRT builds
    the network for a profile and the executor evaluates it for several concrete shapes."""
    net = Net()
    x = net.network.add_input("x", trt.float32, (-1, 3, -1))
    shape = net.network.add_shape(x).get_output(0)  # int64 [n, 3, w]
    n = net.network.add_gather(shape, net.const(np.array([0], np.int64)), 0).get_output(0)
    w = net.network.add_gather(shape, net.const(np.array([2], np.int64)), 0).get_output(0)
    two = net.const(np.array([2], np.int64))
    half_w = net.network.add_elementwise(w, two, trt.ElementWiseOperation.FLOOR_DIV).get_output(0)
    # reshape (n, 3, w) -> (n, 3 * w)
    flat_dims = net.network.add_concatenation([n, net.const(np.array([-1], np.int64))]).get_output(0)
    flat = net.network.add_shuffle(x)
    flat.set_input(1, flat_dims)
    # slice the first half of the last axis: start 0, size (n, 3, w // 2)
    size = net.network.add_concatenation([n, net.const(np.array([3], np.int64)), half_w]).get_output(0)
    sliced = net.network.add_slice(x, (0, 0, 0), (1, 1, 1), (1, 1, 1))
    sliced.set_input(2, size)
    # fill an iota of the sliced shape, added to the slice
    fill = net.network.add_fill((1, 1, 1), trt.FillOperation.LINSPACE, trt.float32)
    fill.set_input(0, size)
    fill.set_input(1, net.const(np.array(0.0, np.float32)))
    fill.set_input(2, net.const(np.array([0.0, 0.0, 1.0], np.float32)))
    summed = net.network.add_elementwise(sliced.get_output(0), fill.get_output(0), trt.ElementWiseOperation.SUM)
    # resize to (n, 3, 2 * w) from a shape tensor
    factors = net.const(np.array([1, 1, 2], np.int64))
    doubled = net.network.add_elementwise(shape, factors, trt.ElementWiseOperation.PROD)
    resize = net.network.add_resize(x)
    resize.set_input(1, doubled.get_output(0))
    outputs = {"flat": flat.get_output(0), "summed": summed.get_output(0), "resized": resize.get_output(0)}
    for name, tensor in outputs.items():
        tensor.name = name
        net.network.mark_output(tensor)

    config = net.builder.create_builder_config()
    profile = net.builder.create_optimization_profile()
    profile.set_shape("x", (1, 3, 2), (2, 3, 6), (4, 3, 8))
    config.add_optimization_profile(profile)
    assert net.builder.build_serialized_network(net.network, config) is not None

    for shape_ in ((1, 3, 2), (3, 3, 7)):
        value = rand(*shape_)
        got = reference.run_network(net.network, {"x": value})
        np.testing.assert_array_equal(got["flat"], value.reshape(shape_[0], -1))
        half = shape_[2] // 2
        np.testing.assert_array_equal(got["summed"], value[:, :, :half] + np.arange(half, dtype=np.float32))
        np.testing.assert_array_equal(got["resized"], value.repeat(2, axis=2))


def naive_attention(q, k, v, allowed=None, bias=None):
    """Per (batch, head, query) loops; key/value heads shared by groups of query heads."""
    b, h, s_q, _ = q.shape
    group = h // k.shape[1]
    out = np.zeros((b, h, s_q, v.shape[-1]))
    for i, j, t in itertools.product(range(b), range(h), range(s_q)):
        scores = k[i, j // group] @ q[i, j, t].astype(np.float64)
        if bias is not None:
            scores = scores + bias[t]
        if allowed is not None:
            scores = np.where(allowed[t], scores, -np.inf)
        w = np.exp(scores - scores.max())
        out[i, j, t] = (w / w.sum()) @ v[i, j // group]
    return out


@pytest.mark.parametrize(
    "causal, mask", [("NONE", None), ("UPPER_LEFT", None), ("LOWER_RIGHT", None), ("NONE", "bool"), ("NONE", "float")]
)
def test_attention_grouped_query_with_causal_alignments_and_masks(causal, mask):
    q, k, v = rand(2, 4, 3, 8), rand(2, 2, 5, 8), rand(2, 2, 5, 8)
    net = Net()
    attention = net.network.add_attention(
        net.input(q), net.input(k), net.input(v), trt.AttentionNormalizationOp.SOFTMAX, False
    )
    allowed, bias = None, None
    if causal != "NONE":
        attention.causal_kind = getattr(trt.CausalMaskKind, causal)
        offset = 0 if causal == "UPPER_LEFT" else 5 - 3
        allowed = np.arange(5)[None, :] <= np.arange(3)[:, None] + offset
    if mask == "bool":
        allowed = np.random.default_rng(3).random((3, 5)) > 0.3
        allowed[:, 0] = True  # every query attends to something
        attention.mask = net.input(allowed.reshape(1, 1, 3, 5))
    elif mask == "float":
        bias = rand(3, 5)
        attention.mask = net.input(bias.reshape(1, 1, 3, 5))
    got = net.run(attention.get_output(0))
    np.testing.assert_allclose(got, naive_attention(q, k, v, allowed, bias), rtol=1e-5, atol=1e-6)


def test_attention_with_a_fully_masked_query_is_not_modelled():
    q, k, v = rand(1, 1, 2, 4), rand(1, 1, 3, 4), rand(1, 1, 3, 4)
    net = Net()
    attention = net.network.add_attention(
        net.input(q), net.input(k), net.input(v), trt.AttentionNormalizationOp.SOFTMAX, False
    )
    attention.mask = net.input(np.array([[[[True, False, True], [False, False, False]]]]))
    with pytest.raises(NotImplementedError, match="no key to attend"):
        net.run(attention.get_output(0))


@pytest.mark.parametrize("interleaved", [False, True], ids=["halves", "interleaved"])
@pytest.mark.parametrize("rotary_dim", [0, 4], ids=["full", "partial"])
def test_rotary_embedding_rotates_feature_pairs(interleaved, rotary_dim):
    x = rand(2, 3, 4, 8)  # (batch, heads, sequence, head size)
    dim = rotary_dim or 8
    angles = rand(10, dim // 2)
    cos, sin = np.cos(angles), np.sin(angles)
    positions = np.array([[0, 3, 5, 9], [1, 1, 2, 7]], np.int64)
    net = Net()
    layer = net.network.add_rotary_embedding(net.input(x), net.const(cos), net.const(sin), interleaved, rotary_dim)
    layer.set_input(3, net.input(positions))
    expected = x.astype(np.float64).copy()
    for b, h, s, p in itertools.product(range(2), range(3), range(4), range(dim // 2)):
        i, j = (2 * p, 2 * p + 1) if interleaved else (p, p + dim // 2)
        c, s_ = cos[positions[b, s], p], sin[positions[b, s], p]
        x1, x2 = x[b, h, s, i], x[b, h, s, j]
        expected[b, h, s, i], expected[b, h, s, j] = c * x1 - s_ * x2, s_ * x1 + c * x2
    np.testing.assert_allclose(net.run(layer.get_output(0)), expected, rtol=1e-5, atol=1e-6)
