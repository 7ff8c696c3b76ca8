"""Q/DQ converters: onnxruntime-quantized (QDQ) models offloaded whole, built by TensorRT-RTX,
evaluated by the reference executor and compared with onnxruntime's own CPU run."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.core import graph, ir
from tvm_trt import partition as part

from harness import assert_rejected, make_module, remaining_ops, run_vm

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static  # noqa: E402

RNG = np.random.default_rng(0)


def _float_model(kind: str):
    """conv -> relu -> flatten -> gemm(transB) ('conv'), or matmul -> relu -> matmul ('matmul')."""
    if kind == "conv":
        inits = [
            numpy_helper.from_array(RNG.standard_normal((8, 3, 3, 3)).astype("float32") * 0.3, "w"),
            numpy_helper.from_array(RNG.standard_normal(8).astype("float32") * 0.1, "b"),
            numpy_helper.from_array(RNG.standard_normal((10, 8 * 6 * 6)).astype("float32") * 0.1, "fw"),
            numpy_helper.from_array(RNG.standard_normal(10).astype("float32") * 0.1, "fb"),
        ]
        nodes = [
            helper.make_node("Conv", ["x", "w", "b"], ["c"], pads=[1, 1, 1, 1]),
            helper.make_node("Relu", ["c"], ["r"]),
            helper.make_node("Flatten", ["r"], ["f"]),
            helper.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1),
        ]
        shape = [1, 3, 6, 6]
    else:
        inits = [
            numpy_helper.from_array(RNG.standard_normal((16, 32)).astype("float32") * 0.3, "w1"),
            numpy_helper.from_array(RNG.standard_normal((32, 8)).astype("float32") * 0.3, "w2"),
        ]
        nodes = [
            helper.make_node("MatMul", ["x", "w1"], ["h"]),
            helper.make_node("Relu", ["h"], ["r"]),
            helper.make_node("MatMul", ["r", "w2"], ["y"]),
        ]
        shape = [4, 16]
    graph = helper.make_graph(
        nodes,
        kind,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8), shape


class _Reader(CalibrationDataReader):
    def __init__(self, shape):
        self.batches = iter([{"x": RNG.standard_normal(shape).astype("float32")} for _ in range(8)])

    def get_next(self):
        return next(self.batches, None)


def qdq_model(tmp_path, kind: str, symmetric: bool = True):
    model, shape = _float_model(kind)
    fp, qp = tmp_path / f"{kind}.onnx", tmp_path / f"{kind}_qdq.onnx"
    onnx.save(model, fp)
    quantize_static(
        str(fp),
        str(qp),
        _Reader(shape),
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        activation_type=QuantType.QInt8,
        weight_type=QuantType.QInt8,
        extra_options={"ActivationSymmetric": symmetric},
    )
    return str(qp), shape


def _output_scale(model) -> float:
    """The scale of the DequantizeLinear that produces the graph's output."""
    out = model.graph.output[0].name
    dq = next(n for n in model.graph.node if n.op_type == "DequantizeLinear" and out in n.output)
    inits = {i.name: i for i in model.graph.initializer}
    return float(numpy_helper.to_array(inits[dq.input[1]]))


@pytest.mark.parametrize("kind", ["conv", "matmul"])
def test_qdq_model_offloaded_whole_equals_onnxruntime(tmp_path, kind):
    path, shape = qdq_model(tmp_path, kind)
    mod, params = tvm_trt.frontend.from_onnx(path)
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, params)
    assert not remaining_ops(pmod), [c.op.name for c in remaining_ops(pmod)]
    (func,) = part.offloaded_functions(pmod).values()
    weight_dqs = [
        c
        for c in graph.op_calls(func)
        if c.op.name == "relax.dequantize" and ir.is_constant(c.args[0]) and c.args[0].ty.dtype == "int8"
    ]
    assert len(weight_dqs) == 2  # int8 weights keep their DQ (not folded to float): INT8 kernels
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
    session = ort.InferenceSession(path)
    out_scale = _output_scale(onnx.load(path))
    for _ in range(3):
        x = RNG.standard_normal(shape).astype("float32")
        got = vm["main"](tvm.runtime.tensor(x)).numpy()
        want = session.run(None, {"x": x})[0]
        # onnxruntime runs integer kernels (QLinearConv / QGemm with requantization), TensorRT's
        # semantics are float DQ -> op -> Q: the rounding can differ by one output step.
        np.testing.assert_allclose(got, want, atol=1.01 * out_scale, rtol=0)
    assert tvm_trt.runtime_stats()["int8_engines"] >= 1


def test_nonzero_zero_point_stays_in_tvm(tmp_path):
    path, _ = qdq_model(tmp_path, "matmul", symmetric=False)
    mod, params = tvm_trt.frontend.from_onnx(path)
    mod = relax.transform.BindParams("main", params)(mod)
    assert_rejected(mod, "relax.quantize", "is not 0 (TensorRT quantization is symmetric)")


def _qdq(axis, scale, dtype="int8"):
    def build(x):
        s, zp = relax.const(scale), relax.const(np.zeros(scale.shape, dtype), dtype)
        q = relax.op.quantize(x, s, zp, axis=axis, out_dtype=dtype)
        return relax.op.dequantize(q, s, zp, axis=axis, out_dtype="float32")

    return build


@pytest.mark.parametrize(
    "axis,scale",
    [(1, np.array(0.05, "float32")), (1, np.array([0.02, 0.05, 0.1, 0.2], "float32"))],
    ids=["per-tensor", "per-axis"],
)
def test_quantize_dequantize_round_and_saturate(axis, scale):
    mod = make_module(_qdq(axis, scale), {"x": ((2, 4, 3), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert not remaining_ops(pmod)
    x = (RNG.standard_normal((2, 4, 3)) * 8).astype("float32")
    x.flat[0] = 2.5 * (scale.flat[0])  # a tie: rounds half to even (2, not 3)
    got = run_vm(tvm_trt.build(pmod, "llvm"), [x])[0]
    s = scale.reshape(1, -1, 1) if scale.ndim else scale
    want = np.clip(np.rint(x / s), -128, 127) * s
    np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    assert got.flat[0] == pytest.approx(2 * scale.flat[0])


def test_fp8_qdq_builds_runs_and_is_gated():
    pytest.importorskip("ml_dtypes")
    from tvm_trt.runtime.engine import BuildSettings, build_plan
    from tvm_trt.codegen import spec as spec_mod

    scale = np.array(0.05, "float32")

    def build(x):
        s = relax.const(scale)
        zp = relax.const(np.zeros((), "float16"))  # Relax takes fp8 zero points as float16
        q = relax.op.quantize(x, s, zp, axis=1, out_dtype="float8_e4m3fn")
        return relax.op.dequantize(q, s, zp, axis=1, out_dtype="float32")

    mod = make_module(build, {"x": ((2, 4, 3), "float32")})
    assert_rejected(mod, "relax.quantize", "float8_e4m3fn tensors need TensorRT >= 8.6.0", version=(8, 5, 1))
    pmod, config = tvm_trt.partition_for_tensorrt(mod)
    funcs = part.offloaded_functions(pmod)
    assert len(funcs) == 1 and not remaining_ops(pmod)
    name, func = next(iter(funcs.items()))
    spec, weights = spec_mod.from_function(func, name, config)
    assert build_plan(spec, weights, [(2, 4, 3)], BuildSettings(False, 1 << 26))
    import ml_dtypes

    x = (RNG.standard_normal((2, 4, 3)) * 30).astype("float32")
    got = run_vm(tvm_trt.build(pmod, "llvm"), [x])[0]
    want = np.clip(x / scale, -448, 448).astype(ml_dtypes.float8_e4m3fn).astype("float32") * scale
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_float_weights_with_a_qdq_pair_become_int8_weights():
    """ModelOpt's form: quantize(float weight) -> dequantize -> conv. Partitioning keeps the DQ
    over the int8 weight TensorRT's quantize would make (not a folded float weight)."""
    w = RNG.standard_normal((8, 3, 3, 3)).astype("float32")
    ws = (np.abs(w).reshape(8, -1).max(1) / 127).astype("float32")
    xs = np.array(0.03, "float32")

    def build(x):
        zero8, zero = relax.const(np.zeros(8, "int8")), relax.const(np.zeros((), "int8"))
        qw = relax.op.quantize(relax.const(w), relax.const(ws), zero8, axis=0, out_dtype="int8")
        dw = relax.op.dequantize(qw, relax.const(ws), zero8, axis=0, out_dtype="float32")
        qx = relax.op.quantize(x, relax.const(xs), zero, axis=1, out_dtype="int8")
        dx = relax.op.dequantize(qx, relax.const(xs), zero, axis=1, out_dtype="float32")
        return relax.op.nn.conv2d(dx, dw, padding=[1, 1])

    mod = make_module(build, {"x": ((1, 3, 5, 5), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert not remaining_ops(pmod)
    (func,) = part.offloaded_functions(pmod).values()
    dqs = [c for c in graph.op_calls(func) if c.op.name == "relax.dequantize" and ir.is_constant(c.args[0])]
    assert len(dqs) == 1 and dqs[0].args[0].ty.dtype == "int8"
    x = RNG.standard_normal((1, 3, 5, 5)).astype("float32")
    got = run_vm(tvm_trt.build(pmod, "llvm"), [x])[0]
    want = run_vm(tvm.compile(mod, "llvm"), [x])[0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
