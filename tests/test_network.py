"""Spec -> TensorRT network checks shared by every converter."""

import re

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.core import registry

from harness import make_module


def test_converter_output_shape_must_match_relax():
    """A converter that builds the wrong shape is a mistranslation: it fails loudly, naming it."""

    @registry.register_op("relax.cumprod")
    def wrong(ctx, node):  # cumprod keeps the shape; this flattens
        return ctx.reshape(node.args[0], (-1,))

    try:
        mod = make_module(lambda x: relax.op.cumprod(x, axis=1), {"x": ((2, 3), "float32")})
        pmod, _ = tvm_trt.partition_for_tensorrt(mod)
        vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
        with pytest.raises(Exception, match=r"relax.cumprod \(node 0\) produced shape \[6\], Relax infers \[2, 3\]"):
            vm["main"](tvm.runtime.tensor(np.zeros((2, 3), "float32")))
    finally:
        registry.unregister_op("relax.cumprod")


@pytest.mark.parametrize("returned", [None, "numpy"], ids=["none", "array"])
def test_converter_returning_no_itensor_is_named(returned):
    """A converter that returns no ITensor fails with one line naming the op, the Relax variable
    (as the partitioned module and the partition record spell it) and the converter."""

    @registry.register_op("relax.cumprod")
    def forgot_return(ctx, node):
        ctx.network.add_identity(node.args[0])
        return None if returned is None else np.zeros((2, 3), "float32")

    try:
        mod = make_module(lambda x: relax.op.nn.relu(relax.op.cumprod(x, axis=1)), {"x": ((2, 3), "float32")})
        pmod, _, record = tvm_trt.partition.partition_with_record(mod)
        (var,) = [d.var for d in record.offloaded if d.op == "relax.cumprod"]
        vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm", fallback=False), tvm.cpu())
        with pytest.raises(Exception) as info:
            vm["main"](tvm.runtime.tensor(np.zeros((2, 3), "float32")))
        line = next(ln for ln in str(info.value).splitlines() if "forgot_return" in ln)
        kind = "NoneType" if returned is None else "ndarray"
        assert re.search(
            rf"subgraph tensorrt_0: converter test_network\.test_converter_returning_no_itensor_is_named"
            rf"\.<locals>\.forgot_return for relax\.cumprod \(Relax variable {var}, node 0\) returned "
            rf"{kind}; a converter returns the output ITensor",
            line,
        ), line
        assert "is_network_input" not in str(info.value)
    finally:
        registry.unregister_op("relax.cumprod")
