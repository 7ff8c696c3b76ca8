import numpy as np
import pytest
from tvm import relax
from tvm.tirx import FloatImm

from harness import assert_rejected, check_op, make_module

R = relax.op
DATA = ((2, 3, 4), "float32")


def _indices(shape, extent, dtype, seed=0, negative=False):
    rng = np.random.default_rng(seed)
    low = -extent if negative else 0
    return rng.integers(low, extent, size=shape).astype(dtype)


@pytest.mark.parametrize(
    "axis,dtype,negative",
    [pytest.param(1, "int64", False, id="axis1-i64"), pytest.param(-1, "int32", False, id="last-i32")],
)
def test_gather_elements(axis, dtype, negative):
    shape = (2, 5, 4) if axis == 1 else (2, 3, 6)
    extent = DATA[0][axis]
    inputs = {"x": DATA, "i": (shape[:1] + DATA[0][1:2] + shape[2:] if axis != 1 else shape, dtype)}
    x = np.random.default_rng(1).standard_normal(DATA[0]).astype("float32")
    i = _indices(inputs["i"][0], extent, dtype, negative=negative)
    check_op(lambda x, i: R.gather_elements(x, i, axis), inputs, args=[x, i], use_implicit_batch=False)


@pytest.mark.parametrize("batch_dims", [0, 1], ids=["plain", "batch1"])
def test_gather_nd(batch_dims):
    inputs = {"x": DATA, "i": ((2, 5, 2), "int64")}
    x = np.random.default_rng(1).standard_normal(DATA[0]).astype("float32")
    if batch_dims:  # index (axis1, axis2) within each batch entry
        i = np.stack([_indices((2, 5), 3, "int64", 1), _indices((2, 5), 4, "int64", 2)], -1)
    else:  # index (axis0, axis1)
        i = np.stack([_indices((2, 5), 2, "int64", 1), _indices((2, 5), 3, "int64", 2)], -1)
    check_op(lambda x, i: R.gather_nd(x, i, batch_dims), inputs, args=[x, i], use_implicit_batch=False)


def test_scatter_elements():
    inputs = {"x": DATA, "i": ((2, 1, 4), "int64"), "u": ((2, 1, 4), "float32")}
    rng = np.random.default_rng(3)
    args = [
        rng.standard_normal(DATA[0]).astype("float32"),
        _indices((2, 1, 4), 3, "int64"),
        rng.standard_normal((2, 1, 4)).astype("float32"),
    ]
    check_op(lambda x, i, u: R.scatter_elements(x, i, u, 1), inputs, args=args, use_implicit_batch=False)


def test_scatter_nd():
    inputs = {"x": DATA, "i": ((2, 2), "int64"), "u": ((2, 4), "float32")}
    rng = np.random.default_rng(4)
    args = [
        rng.standard_normal(DATA[0]).astype("float32"),
        np.array([[0, 2], [1, 0]], "int64"),
        rng.standard_normal((2, 4)).astype("float32"),
    ]  # distinct targets: no write order to depend on
    check_op(lambda x, i, u: R.scatter_nd(x, i, u), inputs, args=args, use_implicit_batch=False)


def test_scatter_accumulating_rejected():
    inputs = {"x": DATA, "i": ((2, 1, 4), "int64"), "u": ((2, 1, 4), "float32")}
    mod = make_module(lambda x, i, u: R.scatter_elements(x, i, u, 1, "add"), inputs)
    assert_rejected(mod, "relax.scatter_elements", "reduction=add", use_implicit_batch=False)


@pytest.mark.parametrize(
    "axis,on,off",
    [
        pytest.param(-1, FloatImm("float32", 3.0), FloatImm("float32", -1.0), id="last-f32"),
        pytest.param(1, 1, 0, id="axis1-i64"),
    ],
)
def test_one_hot(axis, on, off):
    inputs = {"i": ((2, 3), "int64")}
    args = [np.array([[0, 1, 4], [3, 0, 2]], "int64")]
    check_op(
        lambda i: R.one_hot(i, relax.prim_value(on), relax.prim_value(off), 5, axis),
        inputs,
        args=args,
        use_implicit_batch=False,
    )


def test_one_hot_float64_rejected():
    mod = make_module(
        lambda i: R.one_hot(i, relax.prim_value(1.0), relax.prim_value(0.0), 5, -1), {"i": ((2, 3), "int64")}
    )
    assert_rejected(mod, "relax.one_hot", "float64", use_implicit_batch=False)
