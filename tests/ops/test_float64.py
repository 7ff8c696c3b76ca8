"""float64 with ``truncate_double``: off (the default), float64 stays in TVM with a reason naming
the option; on, float64 subgraphs are offloaded computed in float32, ``main`` casting at their
boundary, weights narrowed. Offloaded whole, a plan built, numbers vs onnxruntime / TVM-LLVM
(float64) within float32 tolerance, through the reference executor and through TVM's twin."""

import warnings

import numpy as np
import pytest
import tvm
from tvm import relax
from tvm.script import relax as R
from tvm.script import tirx as T

import tvm_trt
from tvm_trt import partition as part
from tvm_trt.core import graph, ir
from tvm_trt.core.call_checks import tensor_types
from tvm_trt.runtime import fallback, reset

from harness import _plans_made, assert_rejected, check_op, make_module, run_offloaded, run_vm

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

F32_TOL = dict(rtol=1e-5, atol=1e-5)
NO_FLOAT64 = "float64 tensors (TensorRT has no 64-bit float type; truncate_double=True computes them in float32)"


def _onnx_model():
    """x (float) -> Cast DOUBLE -> + d (a DOUBLE input) -> + w -> MatMul m (DOUBLE weights) ->
    y = Cast FLOAT, z = mm * mm (a DOUBLE output)."""
    from onnx import TensorProto as T
    from onnx import helper as h
    from onnx import numpy_helper as nh

    rng = np.random.default_rng(0)
    w = nh.from_array(rng.standard_normal((4, 8)), "w")
    m = nh.from_array(rng.standard_normal((8, 3)), "m")
    nodes = [
        h.make_node("Cast", ["x"], ["xd"], to=T.DOUBLE),
        h.make_node("Add", ["xd", "d"], ["s"]),
        h.make_node("Add", ["s", "w"], ["a"]),
        h.make_node("MatMul", ["a", "m"], ["mm"]),
        h.make_node("Cast", ["mm"], ["y"], to=T.FLOAT),
        h.make_node("Mul", ["mm", "mm"], ["z"]),
    ]
    graph = h.make_graph(
        nodes,
        "float64",
        [h.make_tensor_value_info("x", T.FLOAT, [4, 8]), h.make_tensor_value_info("d", T.DOUBLE, [4, 8])],
        [h.make_tensor_value_info("y", T.FLOAT, [4, 3]), h.make_tensor_value_info("z", T.DOUBLE, [4, 3])],
        [w, m],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    onnx.checker.check_model(model)
    return model


@pytest.fixture(scope="module")
def onnx_case():
    from tvm.relax.frontend.onnx import from_onnx

    model = _onnx_model()
    rng = np.random.default_rng(1)
    args = [rng.standard_normal((4, 8)).astype("float32"), rng.standard_normal((4, 8))]
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    want = session.run(None, {"x": args[0], "d": args[1]})
    return from_onnx(model), args, want


def _dtypes(func):
    types = [t for p in func.params for t in ir.tensor_types(p)]
    types += [t for c in graph.op_calls(func) for t in tensor_types(c)]
    return {str(t.dtype) for t in types}


def test_without_the_option_float64_stays_in_tvm_naming_it(onnx_case):
    mod, _, _ = onnx_case
    pmod, _, record = part.partition_with_record(mod)
    assert not part.offloaded_functions(pmod)
    assert {d.op for d in record.rejected} == {"relax.astype", "relax.add", "relax.matmul", "relax.multiply"}
    assert all(NO_FLOAT64 in d.reason for d in record.rejected), [d.reason for d in record.rejected]


def test_one_subgraph_in_float32_cast_at_its_boundary(onnx_case):
    mod, _, _ = onnx_case
    pmod, config, record = part.partition_with_record(mod, truncate_double=True)
    assert config["truncate_double"] is True
    assert not record.rejected, [(d.op, d.reason) for d in record.rejected]
    ((name, func),) = part.offloaded_functions(pmod).items()
    assert _dtypes(func) == {"float32"}  # params, constants (the weights), every op
    assert [str(t.dtype) for t in ir.tensors_of(func.ret_ty)] == ["float32", "float32"]
    # main keeps its float64 signature; the casts around the call are recorded as the boundary
    assert [str(p.ty.dtype) for p in pmod["main"].params] == ["float32", "float64"]
    assert [str(t.dtype) for t in ir.tensors_of(pmod["main"].ret_ty)] == ["float32", "float64"]
    assert sorted(d.reason for d in record.boundary) == [
        f"casts float32 back to float64 after {name} (truncate_double=True)",
        f"casts float64 to float32 before {name} (truncate_double=True)",
    ]
    assert all(d.op == "relax.astype" for d in record.boundary)


def test_numbers_equal_onnxruntime_through_the_reference_executor(onnx_case):
    mod, args, want = onnx_case
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, truncate_double=True)
    before = _plans_made()
    got = run_offloaded(pmod, args)
    assert _plans_made() > before, "no TensorRT plan was built"
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape
        np.testing.assert_allclose(g, w, **F32_TOL)
    # computed in float32, not silently in float64: the float64 output carries float32 rounding
    assert np.abs(got[1] - want[1]).max() > 0


def test_tvm_twin_takes_the_float32_signature(onnx_case, monkeypatch):
    """With the TensorRT executor on a machine without a TensorRT GPU, TVM's compiled twin of the
    (narrowed) subgraph runs in its place: its signature is the call's."""
    mod, args, want = onnx_case
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, truncate_double=True)
    ex = tvm_trt.build(pmod, "llvm", fallback=True)
    monkeypatch.delenv("TVM_TENSORRT_EXECUTOR", raising=False)
    monkeypatch.delenv("TVM_TENSORRT_FALLBACK", raising=False)
    reset()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = run_vm(ex, args)
    finally:
        reset()
    assert any(issubclass(w.category, fallback.TensorRTFallbackWarning) for w in caught)
    for g, w in zip(got, want):
        assert g.dtype == w.dtype
        np.testing.assert_allclose(g, w, **F32_TOL)


_W64 = np.random.default_rng(2).standard_normal((3, 5))


@pytest.mark.parametrize(
    "build,inputs",
    [
        pytest.param(lambda a, b: R.add(a, b), {"a": ((2, 3), "float64"), "b": ((2, 3), "float64")}, id="add"),
        pytest.param(lambda x: R.astype(x, "float64"), {"x": ((2, 3), "float32")}, id="astype-to-float64"),
        pytest.param(lambda x: R.astype(x, "int32"), {"x": ((2, 3), "float64")}, id="astype-from-float64"),
        pytest.param(
            lambda a, b: R.matmul(a, b, out_dtype="float64"),
            {"a": ((2, 3), "float32"), "b": ((3, 4), "float32")},
            id="matmul-out_dtype",
        ),
        pytest.param(
            lambda x: R.matmul(x, relax.const(_W64, "float64")), {"x": ((2, 3), "float64")}, id="float64-weights"
        ),
        pytest.param(lambda x: R.split(x, 2, axis=1), {"x": ((2, 4), "float64")}, id="tuple-of-float64"),
        pytest.param(lambda x: R.add(x, R.ones_like(x)), {"x": ((2, 3), "float64")}, id="generated-float64"),
        pytest.param(
            lambda x: R.clip(x, R.prim_value(T.float64(-0.5)), R.prim_value(T.float64(0.5))),
            {"x": ((2, 3), "float64")},
            id="clip-float64-bounds",
        ),
        pytest.param(
            lambda x: R.where(R.greater(x, relax.const(0.0, "float64")), x, relax.const(2.0, "float64")),
            {"x": ((2, 3), "float64")},
            id="where-float64-scalars",
        ),
        pytest.param(lambda x: R.nn.softmax(R.mean(x, axis=[2])), {"x": ((2, 3, 4), "float64")}, id="reduce-softmax"),
    ],
)
def test_float64_ops_vs_llvm(build, inputs):
    """One subgraph, a plan, numbers vs TVM-LLVM's float64 within float32 tolerance, dtypes kept."""
    pmod = check_op(build, inputs, truncate_double=True, **F32_TOL)
    assert all(_dtypes(f) <= {"float32", "int32", "bool"} for f in part.offloaded_functions(pmod).values())


def test_symbolic_float64_input():
    n = tvm.tirx.Var("n", "int64")
    x = relax.Var("x", relax.TensorType([n, 3], "float64"))
    bb = relax.BlockBuilder()
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(R.nn.relu(R.multiply(x, x)))
        bb.emit_func_output(out)
    mod = bb.get()
    pmod, _, record = part.partition_with_record(mod, truncate_double=True)
    assert not record.rejected and len(record.boundary) == 2
    arg = np.random.default_rng(3).standard_normal((5, 3))
    (got,) = run_offloaded(pmod, [arg])
    assert got.dtype == np.float64
    np.testing.assert_allclose(got, np.maximum(arg * arg, 0), **F32_TOL)


def test_ops_left_in_tvm_keep_float64():
    """Between two float32 subgraphs an excluded op computes in float64, in TVM."""
    mod = make_module(
        lambda a, b: R.subtract(R.multiply(R.add(a, b), a), b), {"a": ((2, 3), "float64"), "b": ((2, 3), "float64")}
    )
    pmod, _, record = part.partition_with_record(mod, truncate_double=True, exclude_ops=["relax.multiply"])
    (kept,) = record.rejected
    assert kept.op == "relax.multiply" and kept.reason == part.EXCLUDED_REASON
    assert str(kept.binding.ty.dtype) == "float64"
    assert len(part.offloaded_functions(pmod)) == 2 and len(record.boundary) == 6  # a, b in, out: twice
    a, b = np.random.default_rng(4).standard_normal((2, 2, 3))
    (got,) = run_offloaded(pmod, [a, b])
    np.testing.assert_allclose(got, (a + b) * a - b, **F32_TOL)


def test_option_from_a_config_file_and_checked(tmp_path):
    mod = make_module(lambda a: R.nn.relu(a), {"a": ((2, 3), "float64")})
    assert_rejected(mod, "relax.nn.relu", NO_FLOAT64)
    with pytest.raises(tvm_trt.OptionError, match="truncate_double"):
        tvm_trt.partition_for_tensorrt(mod, truncate_double="yes")
    path = tmp_path / "f64.json"  # what `tvm-trt --config` reads
    path.write_text('{"truncate_double": true}')
    pmod, config = tvm_trt.partition_for_tensorrt(mod, **tvm_trt.configs.load(str(path)))
    assert config["truncate_double"] is True and len(part.offloaded_functions(pmod)) == 1
