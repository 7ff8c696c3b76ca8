"""Tiny models shared by the runtime tests."""

import numpy as np
from tvm import relax

from harness import make_module

RNG = np.random.default_rng(0)
W = RNG.standard_normal((8, 3, 3, 3)).astype("float32") * 0.3
B = RNG.standard_normal((1, 8, 1, 1)).astype("float32") * 0.1


def conv_softmax(batch=2, size=8):
    """conv2d -> add -> relu -> softmax: one subgraph with weights and a float32-kept op."""

    def build(x):
        y = relax.op.nn.relu(relax.op.add(relax.op.nn.conv2d(x, relax.const(W), padding=[1, 1]), relax.const(B)))
        return relax.op.nn.softmax(y, axis=1)

    return make_module(build, {"x": ((batch, 3, size, size), "float32")})


def dynamic_conv(size=6):
    """conv2d -> relu with a symbolic batch dim ``n``."""
    import tvm

    n = tvm.tirx.Var("n", "int64")

    def build(x):
        return relax.op.nn.relu(relax.op.nn.conv2d(x, relax.const(W), padding=[1, 1]))

    return make_module(build, {"x": ((n, 3, size, size), "float32")})
