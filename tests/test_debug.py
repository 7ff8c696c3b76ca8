"""tvm_trt.debug: layer-by-layer comparison of the built TensorRT networks with TVM float32."""

import json
import math

import numpy as np
import onnx
import pytest
import tvm
from cli_runner import cli
from onnx import TensorProto, helper, numpy_helper
from tvm.script import relax as R

import tvm_trt
from tvm_trt.debug import compare

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered", "ignore:invalid value encountered")


def _overflow_onnx():
    """MatMul whose outputs exceed 65504 (FP16's largest value) before a LayerNormalization: in FP16 the
    MatMul overflows to inf and the normalisation turns that into nan; in float32 it is fine."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array((rng.standard_normal((64, 64)) * 1000).astype(np.float32), "w"),
        numpy_helper.from_array(np.ones(64, np.float32), "scale"),
        numpy_helper.from_array(np.zeros(64, np.float32), "bias"),
    ]
    nodes = [
        helper.make_node("MatMul", ["x", "w"], ["m"]),
        helper.make_node("LayerNormalization", ["m", "scale", "bias"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "overflow",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 64])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 64])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


X = (np.random.default_rng(1).standard_normal((4, 64)) * 10).astype(np.float32)


@pytest.fixture(scope="module")
def overflow_model():
    return tvm_trt.frontend.from_onnx(_overflow_onnx())


def test_fp16_overflow_names_the_matmul_and_fp32_ops_fixes_it(overflow_model):
    mod, params = overflow_model
    report = compare(mod, params, [X], precision="fp16")
    first = report.first_divergent
    assert first is not None and first.relax_op == "relax.matmul" and first.nonfinite > 0
    assert report.layers[0] is first and first.trt_dtype == "half" and first.shape == [4, 64]
    assert not report.outputs_within_tolerance and report.suggested_fp32_ops == ["relax.matmul"]
    assert report.tried_fp32_ops[0]["output_max_rel_err"] < 1e-2

    for fp32_ops in (["relax.matmul"], [first.name]):  # by op, or by the layer name the report prints
        fixed = compare(mod, params, [X], precision="fp16", fp32_ops=fp32_ops)
        assert fixed.outputs_within_tolerance and fixed.first_divergent is None, fixed.to_text()
        assert fixed.layers[0].trt_dtype == "float" and all(layer.nonfinite == 0 for layer in fixed.layers)
        assert fixed.suggested_fp32_ops is None and not fixed.tried_fp32_ops


def test_fp32_is_within_tolerance(overflow_model):
    mod, params = overflow_model
    report = compare(mod, params, [X], precision="fp32")
    assert report.first_divergent is None and report.output_max_rel_err < 1e-5
    assert [layer.relax_op for layer in report.layers] == ["relax.matmul", "relax.nn.layer_norm"]
    assert all(layer.cosine > 0.99999 for layer in report.layers)


def test_int8_ranks_the_layer_with_the_largest_quantization_error_first():
    """An activation with one outlier (x + a constant holding 1000 at one place) feeds the second matmul:
    its per-tensor INT8 scale leaves the other values a few levels at most (the outlier's own row of weights
    is zero: it does not hide the others in the result), so that matmul's error is by far the largest; the
    first matmul's input is well spread."""
    rng = np.random.default_rng(2)
    outlier = np.zeros((1, 32), np.float32)
    outlier[0, 3] = 1000.0
    w2 = rng.standard_normal((32, 16)).astype(np.float32)
    w2[3] = 0.0

    @R.function
    def main(x: R.Tensor((8, 32), "float32")):
        with R.dataflow():
            a = R.matmul(x, R.const(rng.standard_normal((32, 32)).astype(np.float32)))
            b = R.add(a, R.const(outlier))
            c = R.matmul(b, R.const(w2))
            R.output(c)
        return c

    report = compare(tvm.IRModule({"main": main}), None, precision="int8")
    ops = [layer.relax_op for layer in report.layers]
    assert ops == ["relax.matmul", "relax.add", "relax.matmul"]
    worst = report.ranked()[0]
    assert worst is report.layers[2] and worst.max_rel_err > 10 * report.layers[0].max_rel_err
    # the add is float (only matmuls read Q/DQ): it carries the first matmul's error and adds none
    assert math.isclose(report.layers[1].max_abs_err, report.layers[0].max_abs_err, rel_tol=1e-3)
    assert report.random_inputs and report.suggested_fp32_ops is None  # fp32_ops are an FP16 remedy


def test_several_subgraphs():
    """A sort (no TensorRT converter) between two matmuls: two subgraphs, compared one after the other; the
    second overflows in FP16."""
    rng = np.random.default_rng(3)

    @R.function
    def main(x: R.Tensor((4, 16), "float32")):
        with R.dataflow():
            a = R.nn.relu(R.matmul(x, R.const(rng.standard_normal((16, 16)).astype(np.float32))))
            s = R.sort(a, axis=1)
            b = R.matmul(s, R.const((rng.standard_normal((16, 16)) * 1e4).astype(np.float32)))
            y = R.nn.softmax(b, axis=1)
            R.output(y)
        return y

    report = compare(tvm.IRModule({"main": main}), None, precision="fp16", suggest=False)
    symbols = [layer.name.split("/")[0] for layer in report.layers]
    assert symbols == sorted(symbols) and set(symbols) == {"tensorrt_0", "tensorrt_1"}
    first = report.first_divergent
    assert first.name.startswith("tensorrt_1/") and first.relax_op == "relax.matmul"
    assert all(layer.max_rel_err < 1e-2 for layer in report.layers if layer.name.startswith("tensorrt_0/"))


def test_fp32_ops_is_checked():
    mod = tvm_trt.frontend.from_onnx(_overflow_onnx())[0]
    with pytest.raises(TypeError, match="fp32_ops.*expected a list of Relax op names"):
        tvm_trt.partition_for_tensorrt(mod, fp32_ops="relax.matmul")
    with pytest.raises(ValueError, match="fp32_ops.*no op named 'matmull'"):
        tvm_trt.partition_for_tensorrt(mod, fp32_ops=["matmull"])


def test_cli_debug(tmp_path):
    model = tmp_path / "overflow.onnx"
    onnx.save(_overflow_onnx(), str(model))
    np.save(tmp_path / "x.npy", X)
    r = cli(
        "debug",
        model,
        "--input",
        f"x={tmp_path / 'x.npy'}",
        "--precision",
        "fp16",
        "--tolerance",
        "1e-2",
        "--json",
        tmp_path / "r.json",
        "--plot",
        tmp_path / "r.png",
    )
    assert r.returncode == 0, r.stderr
    assert "first divergent layer: tensorrt_0/" in r.stdout and "relax.matmul, shape [4, 64], half" in r.stdout
    assert "suggested fp32_ops: ['relax.matmul']" in r.stdout and "random data" not in r.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["first_divergent"]["relax_op"] == "relax.matmul" and data["first_divergent"]["name"]
    assert data["suggested_fp32_ops"] == ["relax.matmul"]
    assert {"name", "relax_op", "max_abs_err", "max_rel_err", "cosine", "nonfinite"} <= set(data["layers"][0])
    assert data["layers"][0]["max_abs_err"] == "inf" and math.isinf(float(data["layers"][0]["max_rel_err"]))
    assert (tmp_path / "r.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    config = tmp_path / "keep.json"  # fp32_ops in a config file
    config.write_text(json.dumps({"fp32_ops": ["matmul"]}))
    r = cli("debug", model, "--input", f"x={tmp_path / 'x.npy'}", "--config", config, "--no-suggest")
    assert r.returncode == 0 and "first divergent layer: none" in r.stdout, r.stdout + r.stderr
    r = cli("debug", model, "--input", f"nope={tmp_path / 'x.npy'}")
    assert r.returncode == 2 and "'nope'" in r.stderr and "['x']" in r.stderr


def test_int8_qdq_model_runs_as_it_is():
    """A Q/DQ model: no calibration, its quantize/dequantize layers are compared like any other (TVM computes
    them too, so only TensorRT's own rounding differs)."""
    rng = np.random.default_rng(4)
    inits = [
        numpy_helper.from_array(np.array(0.05, np.float32), "s"),
        numpy_helper.from_array(np.array(0, np.int8), "z"),
        numpy_helper.from_array(rng.standard_normal((16, 8)).astype(np.float32), "w"),
    ]
    nodes = [
        helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "s", "z"], ["d"]),
        helper.make_node("MatMul", ["d", "w"], ["y"]),
    ]
    graph = helper.make_graph(
        nodes,
        "qdq",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 8])],
        inits,
    )
    mod, params = tvm_trt.frontend.from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    report = compare(mod, params, precision="int8")
    assert [layer.relax_op for layer in report.layers] == ["relax.quantize", "relax.dequantize", "relax.matmul"]
    assert report.layers[0].trt_dtype == "int8"
    assert report.first_divergent is None and report.outputs_within_tolerance, report.to_text()


def test_fp16_mask_constant_saturates_instead_of_nan():
    """An attention mask built as (1 - mask) * float32's lowest value (transformers' BERT does this): halved,
    that constant was -inf and 0 * -inf is nan everywhere; it saturates to -65504 now, and softmax absorbs
    it. compare still shows the multiply itself far from float32 (-65504 vs -3.4e38), finite."""
    lowest = np.finfo(np.float32).min
    inits = [
        numpy_helper.from_array(np.array(1.0, np.float32), "one"),
        numpy_helper.from_array(np.array(lowest, np.float32), "lowest"),
    ]
    nodes = [
        helper.make_node("Sub", ["one", "mask"], ["inv"]),
        helper.make_node("Mul", ["inv", "lowest"], ["bias"]),
        helper.make_node("Add", ["x", "bias"], ["scores"]),
        helper.make_node("Softmax", ["scores"], ["y"], axis=-1),
    ]
    graph = helper.make_graph(
        nodes,
        "mask",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8]),
            helper.make_tensor_value_info("mask", TensorProto.FLOAT, [1, 8]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 8])],
        inits,
    )
    mod, params = tvm_trt.frontend.from_onnx(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    mask = np.array([[1, 1, 1, 1, 1, 0, 0, 0]], np.float32)
    report = compare(mod, params, [X[:2, :8], mask], precision="fp16", suggest=False)
    assert report.outputs_within_tolerance and all(layer.nonfinite == 0 for layer in report.layers), report.to_text()
    assert report.first_divergent.relax_op == "relax.multiply"  # honest: -65504 is not -3.4e38
