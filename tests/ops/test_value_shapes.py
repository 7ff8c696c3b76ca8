"""Ops whose output shape follows from input values (dynamic_strided_slice: begin/end/strides are
int64 tensors): TVM computes the output shape before the call (partition.value_shapes), TensorRT
slices with those tensors as shape inputs. Offloaded whole, a plan built, numbers vs TVM-LLVM and
onnxruntime through the reference executor."""

import numpy as np
import pytest
from tvm import relax

import tvm_trt
from harness import assert_offloaded, check_op, make_module, reasons, run_llvm, run_offloaded, run_vm

R = relax.op
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")


def _slice_inputs(shape):
    rank = len(shape)
    return {
        "x": (shape, "float32"),
        "begin": ((rank,), "int64"),
        "end": ((rank,), "int64"),
        "strides": ((rank,), "int64"),
    }


def _args(shape, begin, end, strides):
    x = np.random.default_rng(3).standard_normal(shape).astype("float32")
    return [x] + [np.array(v, "int64") for v in (begin, end, strides)]


@pytest.mark.parametrize(
    "shape,begin,end,strides",
    [
        pytest.param((2, 3, 4, 5), [0, 1, 0, 0], [2, 3, 4, 5], [1, 1, 2, 3], id="plain"),
        pytest.param((2, 3, 4, 5), [-1, -2, 1, -4], [2, 3, -1, 5], [1, 1, 1, 2], id="negative-bounds"),
        pytest.param((2, 3, 4, 5), [0, -100, 2, 1], [100, 100, 1000, 3], [1, 2, 1, 1], id="clamped"),
        pytest.param((6, 7), [5, -1], [-100, 0], [-2, -3], id="negative-strides"),
        pytest.param((6, 7), [100, 7], [-100, -100], [-1, -1], id="negative-strides-clamped"),
        pytest.param((3, 8), [0, 1], [3, 8], [5, 20], id="stride-past-the-end"),
    ],
)
def test_dynamic_strided_slice(shape, begin, end, strides):
    pmod = check_op(
        lambda x, b, e, s: R.dynamic_strided_slice(x, b, e, s),
        _slice_inputs(shape),
        args=_args(shape, begin, end, strides),
    )
    (func,) = tvm_trt.partition.offloaded_functions(pmod).values()
    # the caller computes the output shape and passes it: the VM allocates the destination
    assert isinstance(func.params[-1].ty, relax.ShapeType)


def test_slice_inside_a_network_one_subgraph():
    """Ops before and after the slice (on data dims the caller computed) join it in one subgraph."""
    inputs = {"x": ((4, 6), "float32"), "y": ((4, 6), "float32")}
    inputs.update({k: v for k, v in _slice_inputs((4, 6)).items() if k != "x"})
    x, y = np.random.default_rng(2).standard_normal((2, 4, 6)).astype("float32")
    args = [x, y] + [np.array(v, "int64") for v in ([3, -1], [-5, 0], [-1, -2])]
    check_op(
        lambda x, y, b, e, s: [
            R.add(x, y),
            R.nn.relu(R.add(x, y)),
            R.multiply(R.dynamic_strided_slice(R.nn.relu(R.add(x, y)), b, e, s), relax.const(2.0, "float32")),
        ],
        inputs,
        args=args,
    )


def test_values_change_between_calls():
    """One compiled module, bounds of other values: another output shape, another engine (the
    bounds' values are fixed in the optimization profile)."""
    shape = (4, 6)
    mod = make_module(lambda x, b, e, s: R.dynamic_strided_slice(x, b, e, s), _slice_inputs(shape))
    ex = tvm_trt.build(assert_offloaded(mod), "llvm", fallback=False)
    built = tvm_trt.runtime_stats()["engines_built"] + tvm_trt.runtime_stats()["engines_loaded_from_cache"]
    for bounds in (([0, 0], [4, 6], [1, 1]), ([3, 5], [-5, 0], [-2, -2]), ([0, 0], [4, 6], [1, 1])):
        args = _args(shape, *bounds)
        got, want = run_vm(ex, args)[0], run_llvm(mod, args)[0]
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    stats = tvm_trt.runtime_stats()
    assert stats["engines_built"] + stats["engines_loaded_from_cache"] - built == 2


def test_prologue_stays_in_tvm_recorded():
    mod = make_module(lambda x, b, e, s: R.dynamic_strided_slice(x, b, e, s), _slice_inputs((4, 6)))
    _, _, record = tvm_trt.partition.partition_with_record(mod)
    assert not record.rejected
    assert sorted(d.op for d in record.boundary) == ["relax.call_tir", "relax.shape_to_tensor", "relax.tensor_to_shape"]
    assert all("output shape of dynamic_strided_slice" in d.reason for d in record.boundary)


def test_refused_slice_stays_in_tvm_and_runs():
    """TensorRT < 10 has no INT64 shape tensors: the slice stays in TVM with its reason, the module
    (prologue included) still computes the right numbers."""
    inputs = {"x": ((4, 6), "float32"), "y": ((4, 6), "float32")}
    inputs.update({k: v for k, v in _slice_inputs((4, 6)).items() if k != "x"})
    mod = make_module(
        lambda x, y, b, e, s: [R.nn.relu(R.add(x, y)), R.dynamic_strided_slice(R.nn.relu(R.add(x, y)), b, e, s)], inputs
    )
    got_reasons = reasons(mod, version=(8, 6))
    assert "needs TensorRT >= 10.0.0" in (got_reasons.get("relax.dynamic_strided_slice") or ""), got_reasons
    assert "relax.add" not in got_reasons and "relax.nn.relu" not in got_reasons  # the data path is offloaded
    pmod, _ = tvm_trt.partition_for_tensorrt(mod, version=(8, 6))
    x, y = np.random.default_rng(1).standard_normal((2, 4, 6)).astype("float32")
    args = [x, y] + [np.array(v, "int64") for v in ([1, -1], [4, 0], [2, -2])]
    np.testing.assert_array_equal(run_offloaded(pmod, args)[0], run_llvm(mod, args)[0])


def _onnx_slice(n_bounds, with_axes, with_steps):
    """Slice of a (3, 5, 7) tensor whose starts/ends (axes, steps) are graph inputs of n_bounds values."""
    from onnx import TensorProto, helper

    names = ["x", "starts", "ends"] + (["axes"] if with_axes else []) + (["steps"] if with_steps else [])
    graph = helper.make_graph(
        [helper.make_node("Slice", names, ["y"])],
        "slice",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 5, 7])]
        + [helper.make_tensor_value_info(n, TensorProto.INT64, [n_bounds]) for n in names[1:]],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


@pytest.mark.parametrize(
    "starts,ends,axes,steps",
    [
        pytest.param([1, 0], [3, -1], [0, 2], [1, 2], id="axes-steps"),
        pytest.param([-1, 10], [-100, -10], [2, 1], [-2, -1], id="negative-steps-clamped"),
        pytest.param([0, -3, 1], [100, 5, 7], None, None, id="default-axes-steps"),
        pytest.param([4], [1], [-2], [-1], id="negative-axis"),
    ],
)
def test_onnx_slice_with_input_bounds(starts, ends, axes, steps):
    from tvm.relax.frontend.onnx import from_onnx

    model = _onnx_slice(len(starts), axes is not None, steps is not None)
    x = np.random.default_rng(5).standard_normal((3, 5, 7)).astype("float32")
    feeds = {"x": x, "starts": np.array(starts, "int64"), "ends": np.array(ends, "int64")}
    if axes is not None:
        feeds["axes"] = np.array(axes, "int64")
    if steps is not None:
        feeds["steps"] = np.array(steps, "int64")
    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    pmod = assert_offloaded(from_onnx(model))
    got = run_offloaded(pmod, list(feeds.values()))[0]
    assert got.shape == want.shape
    np.testing.assert_array_equal(got, want)


def test_tvm_twin_runs_it_where_tensorrt_cannot(monkeypatch):
    """Without a TensorRT GPU (the default executor, on the CPU) the subgraph falls back to TVM's
    twin, which takes the same shape argument: same numbers as plain TVM, for several bounds."""
    from tvm_trt.runtime import fallback, reset

    monkeypatch.delenv("TVM_TENSORRT_EXECUTOR", raising=False)
    monkeypatch.delenv("TVM_TENSORRT_FALLBACK", raising=False)
    reset()
    shape = (4, 6)
    mod = make_module(
        lambda x, b, e, s: [
            R.nn.relu(x),
            R.multiply(R.dynamic_strided_slice(R.nn.relu(x), b, e, s), relax.const(3.0, "float32")),
        ],
        _slice_inputs(shape),
    )
    ex = tvm_trt.build(assert_offloaded(mod), "llvm")
    with pytest.warns(fallback.TensorRTFallbackWarning):
        for bounds in (([0, 0], [4, 6], [1, 1]), ([3, 5], [-5, 0], [-2, -2])):
            args = _args(shape, *bounds)
            np.testing.assert_array_equal(run_vm(ex, args)[0], run_llvm(mod, args)[0])
    stats = tvm_trt.runtime_stats()
    assert stats["executions"] == 0 and stats["fallback_executions"] == 2
    reset()


# ---- dims bound from an int64 tensor's values (partition.value_dims) ------------------------------


def _onnx_run(model, feeds):
    from tvm.relax.frontend.onnx import from_onnx

    want = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"]).run(None, feeds)[0]
    pmod = assert_offloaded(from_onnx(model))
    (func,) = tvm_trt.partition.offloaded_functions(pmod).values()
    assert any(isinstance(p.ty, relax.ShapeType) for p in func.params)  # the caller passes the dims
    got = run_offloaded(pmod, list(feeds.values()))[0]
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize(
    "data_shape,new_shape",
    [
        pytest.param((3, 1), [2, 3, 6], id="rank-grows"),
        pytest.param((1, 4), [5, 4], id="same-rank"),
        pytest.param((2, 1, 1), [2, 3, 1], id="partial"),
    ],
)
def test_onnx_expand_with_shape_input(data_shape, new_shape):
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "expand",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, list(data_shape)),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [len(new_shape)]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    x = np.random.default_rng(4).standard_normal(data_shape).astype("float32")
    _onnx_run(model, {"x": x, "shape": np.array(new_shape, "int64")})


@pytest.mark.parametrize(
    "shape,value",
    [
        pytest.param([2, 3, 4], 1.5, id="float"),
        pytest.param([5], -2.0, id="rank-1"),
        pytest.param([3, 1], 0.0, id="zeros"),
    ],
)
def test_onnx_constant_of_shape_input(shape, value):
    from onnx import TensorProto, helper, numpy_helper

    node = helper.make_node(
        "ConstantOfShape", ["shape"], ["c"], value=numpy_helper.from_array(np.array([value], "float32"))
    )
    graph = helper.make_graph(
        [node, helper.make_node("Add", ["c", "b"], ["y"])],
        "constant_of_shape",
        [
            helper.make_tensor_value_info("shape", TensorProto.INT64, [len(shape)]),
            helper.make_tensor_value_info("b", TensorProto.FLOAT, [1]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    _onnx_run(model, {"shape": np.array(shape, "int64"), "b": np.array([0.25], "float32")})


def test_expand_twin_runs_it_where_tensorrt_cannot(monkeypatch):
    """The subgraph keeps its shape argument as dims TVM's own lowering takes: the fallback twin
    compiles (no warning that it cannot) and runs it when TensorRT cannot."""
    import warnings

    from onnx import TensorProto, helper
    from tvm.relax.frontend.onnx import from_onnx

    from tvm_trt.runtime import fallback, reset

    monkeypatch.delenv("TVM_TENSORRT_EXECUTOR", raising=False)
    monkeypatch.delenv("TVM_TENSORRT_FALLBACK", raising=False)
    reset()
    graph = helper.make_graph(
        [helper.make_node("Expand", ["x", "shape"], ["y"])],
        "expand",
        [
            helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 1]),
            helper.make_tensor_value_info("shape", TensorProto.INT64, [2]),
        ],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    pmod = assert_offloaded(from_onnx(model))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # "TVM cannot compile the fallback" would raise
        ex = tvm_trt.build(pmod, "llvm")
    x = np.arange(3, dtype="float32").reshape(3, 1)
    with pytest.warns(fallback.TensorRTFallbackWarning):
        for cols in (4, 2):
            got = run_vm(ex, [x, np.array([3, cols], "int64")])[0]
            np.testing.assert_array_equal(got, np.broadcast_to(x, (3, cols)))
    assert tvm_trt.runtime_stats()["fallback_executions"] == 2
    reset()


def test_cuda_build_keeps_the_twin_a_vm_function():
    """For a CUDA target TVM's FuseTIR retypes a private function whose shape parameter only its types
    use; the twin, called by value from main, must stay the VM function main refers to (else loading
    the library fails: "Cannot find ffi::Function tensorrt_0_tvm")."""
    import tvm

    mod = make_module(
        lambda x, b, e, s: R.multiply(R.dynamic_strided_slice(R.nn.relu(x), b, e, s), relax.const(2.0, "float32")),
        _slice_inputs((4, 6)),
    )
    ex = tvm_trt.build(assert_offloaded(mod), tvm.target.Target({"kind": "cuda", "arch": "sm_90"}, host="llvm"))
    text = ex.as_text()
    assert "@tensorrt_0_tvm:" in text and "@tensorrt_0_tvm packed_func" not in text
