"""Reference executor: evaluates a TensorRT network definition in NumPy.

The network is read back layer by layer through the TensorRT Python API and every layer is
computed on the host, so conversions can be checked numerically on machines that can build
plans but cannot run engines. It is a verification tool, not a runtime: anything it does not
model exactly (a layer type, an attribute value, a data type) raises ``NotImplementedError``
naming the layer instead of producing approximate numbers.

Half-precision tensors are computed in float32 and rounded to the tensor's type after every
layer, which is close to (not bit-identical with) what TensorRT kernels do.

One module per layer family (mirroring ``tvm_trt.ops``); importing them registers their
evaluators.
"""

from . import (  # noqa: F401
    activation,
    attention,
    conv,
    elementwise,
    image,
    index,
    matmul,
    norm,
    pool,
    quantize,
    reduce,
    shape,
    unary,
)
from .executor import run_network

__all__ = ["run_network"]
