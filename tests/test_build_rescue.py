"""tvm_trt.build never fails where TVM's passes reject an offloaded function: the function goes
back to TVM with one warning naming it and TVM's reason, and the module builds and runs."""

import warnings

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt import partition
from tvm_trt.codegen import rescue


def _module_with_unbuildable_subgraph():
    """An offloaded function whose result dim ``n`` is defined only inside it (a match_cast):
    TVM's passes cannot allocate its output in main, so tvm.compile fails after partitioning
    (the class of VMShapeLower's "PrimExpr ... has not been computed"); its ops alone build."""
    n = tvm.tirx.Var("n", "int64")
    x = relax.Var("x", relax.TensorType([2, 4], "float32"))
    y = relax.Var("y", relax.TensorType([n, 4], "float32"))
    cast = relax.MatchCast(y, relax.op.nn.relu(x), relax.TensorType([n, 4], "float32"))
    body = relax.SeqExpr([relax.BindingBlock([cast])], y)
    func = relax.Function([x], body, relax.TensorType([n, 4], "float32")).with_attrs(
        {"Codegen": "tensorrt", "global_symbol": "tensorrt_0"}
    )
    bb = relax.BlockBuilder()
    gv = bb.add_func(func, "tensorrt_0")
    x = relax.Var("x", relax.TensorType([2, 4], "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            y = bb.emit(relax.Call(gv, [x]))
            out = bb.emit_output(relax.op.multiply(y, relax.const(2.0, "float32")))
        bb.emit_func_output(out)
    return bb.get()


def test_a_subgraph_tvm_rejects_goes_back_to_tvm():
    mod = _module_with_unbuildable_subgraph()
    with pytest.raises(Exception, match="call_tir expects all TensorType has shape"):
        tvm.compile(relax.transform.RunCodegen()(mod), "llvm")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ex = tvm_trt.build(mod, "llvm")
    messages = [str(w.message) for w in caught if "stays in TVM" in str(w.message)]
    assert len(messages) == 1 and messages[0].startswith("tvm_trt.build: tensorrt_0 stays in TVM"), messages
    assert "call_tir expects all TensorType has shape" in messages[0]  # TVM's reason
    assert "tensorrt_0" in partition.offloaded_functions(mod)  # the caller's module is left as it was
    x = np.random.default_rng(0).standard_normal((2, 4)).astype("float32")
    got = relax.VirtualMachine(ex, tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
    np.testing.assert_allclose(got, 2 * np.maximum(x, 0))


def test_involved_functions_are_found_by_name_or_symbolic_var():
    pmod, _ = tvm_trt.partition_for_tensorrt(_module_with_unbuildable_subgraph())
    assert rescue.involved(pmod, RuntimeError("PrimExpr T.int64(4) * n has not been computed")) == ["tensorrt_0"]
    assert rescue.involved(pmod, RuntimeError("in tensorrt_0: bad")) == ["tensorrt_0"]
    assert rescue.involved(pmod, RuntimeError("somewhere")) == ["tensorrt_0"]  # unnamed: all of them


def test_range_whose_partition_strategy_falls_back_builds():
    """ONNX Range (onnx 1.16's node case): its length is a symbolic var defined by a match_cast
    in main; when the merged partitioning failed, the simpler one met main with the casts
    still hidden, and VMShapeLower failed ("range_len_0 has not been computed")."""
    start, limit, delta = (relax.Var(n, relax.TensorType([], "float32")) for n in ("start", "limit", "delta"))
    length = tvm.tirx.Var("range_len_0", "int64")
    bb = relax.BlockBuilder()
    with bb.function("main", [start, limit, delta]):
        with bb.dataflow():
            count = bb.emit(
                relax.op.astype(relax.op.ceil(relax.op.divide(relax.op.subtract(limit, start), delta)), "int64")
            )
            shape = bb.emit(relax.op.tensor_to_shape(relax.op.reshape(count, [1])))
            bb.match_cast(shape, relax.ShapeType([length]))
            steps = bb.emit(relax.op.astype(relax.op.arange(0, length, 1, "int64"), "float32"))
            out = bb.emit_output(relax.op.add(relax.op.multiply(steps, delta), start))
        bb.emit_func_output(out)
    mod = bb.get()
    pmod, config = tvm_trt.partition_for_tensorrt(mod)
    ex = tvm_trt.build(pmod, "llvm", config)
    args = [np.array(v, "float32") for v in (1.0, 5.0, 0.5)]
    got = relax.VirtualMachine(ex, tvm.cpu())["main"](*[tvm.runtime.tensor(a) for a in args]).numpy()
    np.testing.assert_allclose(got, np.arange(1.0, 5.0, 0.5, dtype="float32"))
