"""QUANTIZE / DEQUANTIZE in the reference executor, against ONNX's definition.
Networks are built with the TensorRT API (and, for the configurations TensorRT accepts, really
built into plans by the builder); expected values come from ONNX: its reference implementation
of QuantizeLinear / DequantizeLinear for the INT8 forms of the node tests' data (TensorRT has no
UINT8 and only zero zero points), and the node tests' own values for FP8 (E4M3).
"""

import numpy as np
import pytest
from onnx import TensorProto, helper
from onnx.reference import ReferenceEvaluator

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    from reference_net import Net

    trt = tensorrt.trt()

ml_dtypes = pytest.importorskip("ml_dtypes")


def onnx_reference(op, inputs, **attrs):
    """Runs one ONNX node with ONNX's reference implementation."""
    names = ["x", "scale", "zero"][: len(inputs)]
    node = helper.make_node(op, names, ["y"], **attrs)
    graph_inputs = [
        helper.make_tensor_value_info(n, helper.np_dtype_to_tensor_dtype(v.dtype), v.shape)
        for n, v in zip(names, inputs)
    ]
    output = helper.make_tensor_value_info("y", TensorProto.UNDEFINED, None)
    graph = helper.make_graph([node], "g", graph_inputs, [output])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)])
    return ReferenceEvaluator(model).run(None, dict(zip(names, inputs)))[0]


def build_plan(net):
    config = net.builder.create_builder_config()
    return net.builder.build_serialized_network(net.network, config)


# Ties (0.5, 1.5, 2.5, -1.5) round to even; 1000 and -1000 saturate.
PER_TENSOR_X = np.array([0, 1, 2, 3, 5, -3, 1000, -254, -1000], np.float32)
# test_quantizelinear_axis's data, scales per channel (axis 1).
PER_AXIS_X = np.array(
    [
        [
            [[-162, 10], [-100, 232], [-20, -50]],
            [[-76, 0], [0, 252], [32, -44]],
            [[245, -485], [-960, -270], [-375, -470]],
        ]
    ],
    np.float32,
)
PER_AXIS_SCALE = np.array([2, 4, 5], np.float32)
# test_quantizelinear_blocked_symmetric's data: blocks of 2 along axis 1.
BLOCKED_X = np.array([[6.0, -8, -10, 5.0], [1.0, 8.0, 4.0, 5.0], [0.0, 20.0, 10.0, 4.0]], np.float32)
BLOCKED_SCALE = np.array([[1.5, 2.5], [3.0, 4.9], [5.1, 6.9]], np.float32)

INT8_CASES = {
    # id: (x, scale, axis, ONNX attributes, TensorRT builds it)
    "per_tensor": (PER_TENSOR_X, np.array(2, np.float32), 0, {}, True),
    "per_axis": (PER_AXIS_X, PER_AXIS_SCALE, 1, {"axis": 1}, True),
    "blocked": (BLOCKED_X, BLOCKED_SCALE, 1, {"axis": 1, "block_size": 2}, False),
}


@pytest.mark.parametrize("case", list(INT8_CASES), ids=list(INT8_CASES))
def test_quantize_dequantize_int8_match_onnx(case):
    x, scale, axis, attrs, buildable = INT8_CASES[case]
    zero = np.zeros(scale.shape, np.int8)
    net = Net()
    tscale = net.const(scale)
    q = net.network.add_quantize(net.input(x), tscale, trt.int8)
    q.axis = axis
    dq = net.network.add_dequantize(q.get_output(0), tscale, trt.float32)
    dq.axis = axis
    got_q, got_dq = net.run(q.get_output(0), dq.get_output(0))
    want_q = onnx_reference("QuantizeLinear", [x, scale, zero], **attrs)
    want_dq = onnx_reference("DequantizeLinear", [want_q, scale, zero], **attrs)
    assert got_q.dtype == np.int8
    np.testing.assert_array_equal(got_q, want_q)
    np.testing.assert_array_equal(got_dq, want_dq)
    if buildable:
        assert build_plan(net) is not None  # TensorRT accepts exactly this network


def test_quantize_rounds_half_to_even_and_saturates():
    net = Net()
    q = net.network.add_quantize(net.input(PER_TENSOR_X), net.const(np.array(2, np.float32)), trt.int8)
    np.testing.assert_array_equal(net.run(q.get_output(0)), [0, 0, 1, 2, 2, -2, 127, -127, -128])


def test_quantize_fp8_matches_onnx_node_test():
    # test_quantizelinear_e4m3fn: 100000 / 2 saturates to 448, 200 / 2 = 100 rounds to 96.
    x = np.array([0.0, 1.0, 2.0, 100000.0, 200.0], np.float32)
    net = Net()
    scale = net.const(np.array(2, np.float32))
    q = net.network.add_quantize(net.input(x), scale, trt.fp8)
    dq = net.network.add_dequantize(q.get_output(0), scale, trt.float32)
    got_q, got_dq = net.run(q.get_output(0), dq.get_output(0))
    assert got_q.dtype == ml_dtypes.float8_e4m3fn
    np.testing.assert_array_equal(got_q.astype(np.float32), [0, 0.5, 1, 448, 96])
    np.testing.assert_array_equal(got_dq, [0, 1, 2, 896, 192])
    assert build_plan(net) is not None


@pytest.mark.parametrize("out_type", ["float32", "float16"], ids=["to_float", "to_half"])
def test_dequantize_fp8_input_matches_onnx_node_test(out_type):
    # test_dequantizelinear_e4m3fn(_float16): an FP8 network input times 2.
    x = np.array([0, 0.5, 1, 448, -104], ml_dtypes.float8_e4m3fn)
    net = Net()
    tx = net.network.add_input("x", trt.fp8, x.shape)
    scale = net.const(np.array(2, out_type))
    dq = net.network.add_dequantize(tx, scale, trt.float32 if out_type == "float32" else trt.float16)
    got = net.run(dq.get_output(0), feeds={"x": x})
    assert got.dtype == np.dtype(out_type)
    np.testing.assert_array_equal(got, np.array([0.0, 1.0, 2.0, 896.0, -208.0], out_type))


def test_cast_to_fp8_rounds_to_nearest_even_and_saturates():
    x = np.array([0.3, 17.0, 1000.0, -1000.0, np.nan], np.float32)
    net = Net()
    cast = net.network.add_cast(net.input(x), trt.fp8)
    back = net.network.add_cast(cast.get_output(0), trt.float32)
    got = net.run(back.get_output(0))
    np.testing.assert_array_equal(got[:4], [0.3125, 16.0, 448.0, -448.0])  # 17 ties to 16 (even mantissa)
    assert np.isnan(got[4])


def test_nonzero_zero_point_is_refused():
    net = Net()
    x = net.input(np.ones(4, np.float32))
    q = net.network.add_quantize(x, net.const(np.array(1, np.float32)), trt.int8)
    q.set_input(2, net.const(np.array(3, np.int8)))
    q.name = "asymmetric"
    with pytest.raises(ValueError, match=r"'asymmetric'.*zero point"):
        net.run(q.get_output(0))
