"""A dynamic dim met at 0 (an empty tensor): the optimization profile starts at 0 (TensorRT refuses
min 1 > opt 0), and run-time shapes keep the 0 (a shuffle reads a 0 in a shape tensor as "copy the
input's dim" unless told otherwise)."""

import numpy as np
import tvm
from tvm import relax

import tvm_trt
from harness import remaining_ops


def test_empty_dynamic_dim_broadcasts_and_reshapes():
    n = tvm.tirx.Var("n", "int64")
    x = relax.Var("x", relax.TensorType([n, 5], "float32"))
    w = np.arange(10, dtype="float32").reshape(2, 1, 5)
    bb = relax.BlockBuilder()
    with bb.function("main", [x]):
        with bb.dataflow():
            y = bb.emit(relax.op.add(x, relax.const(w)))  # x's rank expanded through a shape tensor
            out = bb.emit_output(relax.op.reshape(y, relax.ShapeExpr([n, 2, 5])))
        bb.emit_func_output(out)
    pmod, config = tvm_trt.partition_for_tensorrt(bb.get())
    assert not remaining_ops(pmod)
    vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm", config, fallback=False), tvm.cpu())
    for rows in (3, 0):
        data = np.random.default_rng(rows).standard_normal((rows, 5)).astype("float32")
        got = vm["main"](tvm.runtime.tensor(data)).numpy()
        want = (data + w).reshape(rows, 2, 5)
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6)
