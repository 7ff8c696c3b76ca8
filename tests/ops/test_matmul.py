import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_rejected, check_op, make_module, random_inputs

R = relax.op


def _c(shape, dtype="float32", seed=3):
    return relax.const((np.random.default_rng(seed).standard_normal(shape) * 0.3).astype(dtype))


@pytest.mark.parametrize(
    "a_shape,b_shape",
    [
        pytest.param((4, 6), (6, 5), id="dense-2d"),
        pytest.param((2, 4, 6), (2, 6, 5), id="batch-matmul"),
        pytest.param((2, 3, 4, 6), (2, 3, 6, 5), id="batch-4d"),
        pytest.param((3, 4, 6), (3, 1, 6, 5), id="broadcast-rank"),
        pytest.param((1, 4, 6), (3, 6, 5), id="broadcast-batch-1"),
    ],
)
def test_matmul_two_inputs(a_shape, b_shape):
    check_op(
        lambda a, b: R.matmul(a, b), {"a": (a_shape, "float32"), "b": (b_shape, "float32")}, use_implicit_batch=False
    )


@pytest.mark.parametrize(
    "a_shape,w_shape",
    [
        pytest.param((4, 6), (6, 5), id="dense"),
        pytest.param((2, 4, 6), (6, 5), id="dense-3d-input"),
        pytest.param((2, 4, 6), (2, 6, 5), id="batch-constant"),
        pytest.param((2, 4, 6), (6,), id="matrix-vector"),
    ],
)
def test_matmul_constant_weight(a_shape, w_shape):
    w = _c(w_shape)
    check_op(lambda a: R.matmul(a, w), {"a": (a_shape, "float32")})


def test_matmul_linear_form():
    # What relax.op.linear builds: x @ W^T + b (permute_dims folds into the constant).
    w, b = _c((5, 6)), _c((5,), seed=4)
    mod = make_module(lambda x: R.linear(x, w, b), {"x": ((3, 6), "float32")})
    ops = [c.op.name for blk in mod["main"].body.blocks for c in [bd.value for bd in blk.bindings]]
    assert "relax.matmul" in ops
    check_op(lambda x: R.linear(x, w, b), {"x": ((3, 6), "float32")})


@pytest.mark.parametrize(
    "a_shape,b_shape",
    [
        pytest.param((6,), (2, 6, 5), id="vector-matrix"),
        pytest.param((2, 4, 6), (6,), id="matrix-vector"),
    ],
)
def test_matmul_vector_operand(a_shape, b_shape):
    check_op(
        lambda a, b: R.matmul(a, b), {"a": (a_shape, "float32"), "b": (b_shape, "float32")}, use_implicit_batch=False
    )


def test_matmul_float16():
    w = _c((16, 8), "float16")
    check_op(lambda a: R.matmul(a, w), {"a": ((2, 4, 16), "float16")}, rtol=1e-2, atol=1e-2)


def test_matmul_dynamic_batch():
    n = tvm.tirx.Var("n", "int64")
    w = _c((6, 5))
    args = random_inputs({"a": ((3, 4, 6), "float32")})
    check_op(lambda a: R.matmul(a, w), {"a": ((n, 4, 6), "float32")}, args=args)


@pytest.mark.parametrize(
    "a_shape,b_shape,reason",
    [
        pytest.param((2, 4, 6), (6, 5), "second operand is shared across the batch", id="shared-2d"),
        pytest.param((5, 6), (6, 3), "second operand is shared across the batch", id="dense-non-constant"),
        pytest.param((3, 4, 6), (1, 6, 5), "second operand broadcasts across the batch", id="broadcast-batch"),
        pytest.param((4, 6), (3, 6, 5), "first operand is shared across the batch", id="shared-first"),
    ],
)
def test_matmul_implicit_batch_rule(a_shape, b_shape, reason):
    inputs = {"a": (a_shape, "float32"), "b": (b_shape, "float32")}
    mod = make_module(lambda a, b: R.matmul(a, b), inputs)
    assert_rejected(mod, "relax.matmul", reason, use_implicit_batch=True)
    check_op(lambda a, b: R.matmul(a, b), inputs, use_implicit_batch=False)


def test_matmul_two_vectors_dot_product():
    """Two 1-D operands: a 0-d result, which TensorRT gives through a shuffle (no batch axis to keep)."""
    inputs = {"a": ((6,), "float32"), "b": ((6,), "float32")}
    mod = make_module(lambda a, b: R.matmul(a, b), inputs)
    assert_rejected(mod, "relax.matmul", "0-d result", use_implicit_batch=True)
    check_op(lambda a, b: R.matmul(a, b), inputs, use_implicit_batch=False)
    k = tvm.tirx.Var("k", "int64")
    args = random_inputs({"a": ((5,), "float32"), "b": ((5,), "float32")})
    check_op(lambda a, b: R.matmul(a, b), {"a": ((k,), "float32"), "b": ((k,), "float32")}, args=args)


def test_matmul_out_dtype_rejected():
    w = _c((8, 4), "float16")
    mod = make_module(lambda a: R.matmul(a, w, out_dtype="float32"), {"a": ((2, 8), "float16")})
    assert_rejected(mod, "relax.matmul", "out_dtype=float32")
