"""Matrix multiplication (with transposed and vector operands) and einsum."""

from __future__ import annotations

import numpy as np

from ._common import LayerEval, compute, evaluates


@evaluates("MATRIX_MULTIPLY", "IMatrixMultiplyLayer")
def _matrix_multiply(node: LayerEval):
    layer = node.layer
    a, b = (compute(t) for t in node.inputs[:2])
    op0, op1 = layer.op0.name, layer.op1.name
    for op, name in ((op0, "op0"), (op1, "op1")):
        if op not in ("NONE", "TRANSPOSE", "VECTOR"):
            raise node.unsupported(name, op)
    # VECTOR operands are batches of vectors: lift them to 1xK / Kx1 matrices, then drop the axis.
    a = np.swapaxes(a, -1, -2) if op0 == "TRANSPOSE" else a[..., None, :] if op0 == "VECTOR" else a
    b = np.swapaxes(b, -1, -2) if op1 == "TRANSPOSE" else b[..., :, None] if op1 == "VECTOR" else b
    y = np.matmul(a, b)
    if op1 == "VECTOR":
        y = y[..., 0]
    if op0 == "VECTOR":
        y = y[..., 0] if op1 == "VECTOR" else y[..., 0, :]
    return y


@evaluates("EINSUM", "IEinsumLayer")
def _einsum(node: LayerEval):
    return np.einsum(node.layer.equation, *(compute(t) for t in node.inputs))
