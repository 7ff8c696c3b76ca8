"""Converters on symbolic dims (any axis): networks built with -1 dims, reshape / broadcast / slice /
resize / pad targets computed from the inputs' shapes at run time. One partitioned module runs
at several shapes and matches TVM-LLVM at each."""

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import assert_offloaded, assert_rejected, make_module, random_inputs, run_llvm

R = relax.op
N, S, H, W = (tvm.tirx.Var(v, "int64") for v in ("n", "s", "h", "w"))
NS = {"x": ((N, S, 8), "float32")}
NSY = {"x": ((N, S, 8), "float32"), "y": ((N, 1, 8), "float32")}
IMG = {"x": ((N, 3, H, W), "float32")}
CONST = np.arange(64 * 8, dtype="float32").reshape(1, 64, 8) / 100


def _sizes(inputs, values):
    env = {"n": values[0], "s": values[1], "h": values[1], "w": values[2]}
    return {k: ([env[str(d)] if not isinstance(d, int) else d for d in shape], dt) for k, (shape, dt) in inputs.items()}


CASES = [
    # reshape: symbolic dims as 0 (copy) / -1 (infer) placeholders, or a run-time shape tensor
    pytest.param(lambda x: R.reshape(x, relax.ShapeExpr([N, S * 8])), NS, id="reshape-merge"),
    pytest.param(lambda x: R.reshape(x, relax.ShapeExpr([N, S, 2, 4])), NS, id="reshape-split-heads"),
    pytest.param(lambda x: R.reshape(x, relax.ShapeExpr([N * S, 8])), NS, id="reshape-batch-seq"),
    pytest.param(lambda x: R.reshape(x, relax.ShapeExpr([S, N, 8])), NS, id="reshape-shape-tensor"),
    pytest.param(lambda x: R.flatten(x), NS, id="flatten"),
    pytest.param(lambda x: R.squeeze(R.expand_dims(x, 1), [1]), NS, id="expand-squeeze"),
    # broadcast_to a symbolic target; strided_slice with symbolic bounds or on dynamic axes
    pytest.param(lambda x, y: R.add(R.broadcast_to(y, relax.ShapeExpr([N, S, 8])), x), NSY, id="broadcast_to"),
    pytest.param(
        lambda x: R.add(x, R.strided_slice(relax.const(CONST), [1], [0], [S], assume_inbound=True)),
        NS,
        id="slice-const-to-seq",
    ),
    pytest.param(lambda x: R.strided_slice(x, [1, 2], [1, 2], [S, 6]), NS, id="slice-dynamic-axis"),
    pytest.param(lambda x: R.split(x, 2, axis=2)[1], NS, id="split-static-axis"),
    pytest.param(lambda x: R.tile(x, [1, 1, 2]), NS, id="tile"),
    pytest.param(lambda x: R.concat([x, R.nn.relu(x)], axis=1), NS, id="concat-dynamic-axis"),
    pytest.param(lambda x: R.nn.softmax(R.matmul(x, R.permute_dims(x, [0, 2, 1])), axis=-1), NS, id="attention-scores"),
    # images with dynamic height and width
    pytest.param(
        lambda x: R.image.resize2d(
            x,
            relax.ShapeExpr([H * 2, W * 2]),
            layout="NCHW",
            method="nearest_neighbor",
            coordinate_transformation_mode="asymmetric",
            rounding_method="floor",
        ),
        IMG,
        id="resize-2x",
    ),
    pytest.param(lambda x: R.nn.pad(x, [0, 0, 0, 0, 1, 2, 3, 1], "constant", 0.5), IMG, id="pad"),
    pytest.param(lambda x: R.nn.max_pool2d(x, [3, 3], [2, 2], [1, 1, 1, 1]), IMG, id="max_pool"),
    pytest.param(lambda x: R.nn.adaptive_avg_pool2d(x, [1, 1]), IMG, id="global-avg-pool"),
]


@pytest.mark.parametrize("build,inputs", CASES)
def test_symbolic_dims_any_axis(build, inputs):
    mod = make_module(build, inputs)
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    ex = tvm_trt.build(pmod, "llvm")
    vm = relax.VirtualMachine(ex, tvm.cpu())
    for values in [(2, 5, 6), (1, 12, 9)]:
        args = random_inputs(_sizes(inputs, values), seed=sum(values))
        want = run_llvm(mod, args)
        got = vm["main"](*[tvm.runtime.tensor(a) for a in args])
        got = [got.numpy()] if isinstance(got, tvm.runtime.Tensor) else [g.numpy() for g in got]
        for g, w in zip(got, want):
            assert g.shape == w.shape, (values, g.shape, w.shape)
            np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-4)


def test_broadcast_of_a_dynamic_dim_stays_in_tvm():
    both = {"x": ((N, S, 8), "float32"), "y": ((N, W, 8), "float32")}
    mod = make_module(lambda x, y: R.add(R.broadcast_to(y, relax.ShapeExpr([N, S, 8])), x), both)
    assert_rejected(mod, "relax.broadcast_to", "broadcast_to of a dynamic dim", use_implicit_batch=False)


def test_data_dependent_output_shape_stays_in_tvm():
    mod = make_module(lambda x: R.astype(R.nonzero(x), "float32"), {"x": ((4, 5), "float32")})
    assert_rejected(mod, "relax.astype", "output shape depends on the data", use_implicit_batch=False)
