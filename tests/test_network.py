"""Spec -> TensorRT network checks shared by every converter."""
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
