import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module, run_llvm, run_offloaded

R = relax.op


@pytest.mark.parametrize("dtype", ["float32", "int64", "int32"])
def test_arange_dynamic_length(dtype):
    """arange(0, n) for a dim n of an input (position ids): a LINSPACE fill sized at run time."""
    n = tvm.tirx.Var("n", "int64")
    inputs = {"x": ((2, n), dtype)}

    def build(x):
        return R.add(x, R.arange(relax.prim_value(3), relax.prim_value(3 + 2 * n), relax.prim_value(2), dtype))

    mod = make_module(build, inputs)
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    x = np.arange(14, dtype=dtype).reshape(2, 7)
    np.testing.assert_array_equal(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0])


def test_arange_static():
    check_op(lambda x: R.multiply(x, R.arange(1.0, 2.0, 0.25, "float32")), {"x": ((3, 4), "float32")})


@pytest.mark.parametrize("op", ["tril", "triu"])
@pytest.mark.parametrize("k", [0, -1, 2])
def test_triangle(op, k):
    check_op(lambda x: getattr(R, op)(x, k), {"x": ((2, 4, 5), "float32")}, use_implicit_batch=False)


def test_triangle_int64():
    check_op(lambda x: R.triu(x, 1), {"x": ((4, 5), "int64")}, use_implicit_batch=False)


def test_triangle_dynamic_rejected():
    n = tvm.tirx.Var("n", "int64")
    mod = make_module(lambda x: R.tril(x, 0), {"x": ((n, 5), "float32")})
    assert_rejected(mod, "relax.tril", "dynamic (or missing) matrix dims", use_implicit_batch=False)


@pytest.mark.parametrize("axis", [1, -1, 0], ids=["axis1", "last", "axis0"])
def test_flip(axis):
    check_op(lambda x: R.flip(x, axis), {"x": ((2, 3, 4), "float32")}, use_implicit_batch=False)


def test_flip_batch_axis_rejected():
    mod = make_module(lambda x: R.flip(x, 0), {"x": ((2, 3), "float32")})
    assert_rejected(mod, "relax.flip", "touches the batch axis", use_implicit_batch=True)


@pytest.mark.parametrize("k", [0, 1, -2])
def test_eye_like(k):
    check_op(lambda x: R.add(x, R.eye_like(x, k)), {"x": ((3, 4), "float32")}, use_implicit_batch=False)


@pytest.mark.parametrize("op", ["zeros_like", "ones_like"])
def test_like_fills_dynamic(op):
    n = tvm.tirx.Var("n", "int64")
    mod = make_module(lambda x: R.add(x, getattr(R, op)(x)), {"x": ((2, n), "float32")})
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    x = np.arange(10, dtype="float32").reshape(2, 5)
    np.testing.assert_array_equal(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0])


@pytest.mark.parametrize("op", ["zeros", "ones"])
def test_shape_fills(op):
    check_op(lambda x: R.add(x, getattr(R, op)(relax.ShapeExpr([3, 4]), "float32")), {"x": ((3, 4), "float32")})


def test_full_from_input_value():
    inputs = {"x": ((3, 4), "float32"), "v": ((), "float32")}
    check_op(lambda x, v: R.multiply(x, R.full(relax.ShapeExpr([3, 4]), v)), inputs)


def test_full_like_int():
    check_op(lambda x: R.add(x, R.full_like(x, relax.const(7, "int64"))), {"x": ((3, 4), "int64")})
