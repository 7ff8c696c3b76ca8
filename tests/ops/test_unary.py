import numpy as np
import pytest
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module

R = relax.op
SHAPE = (2, 3, 8)
_rng = np.random.default_rng(5)

# (op, input range): ranges keep every input inside the function's domain
UNARY = [
    ("exp", (-3, 3)),
    ("log", (0.1, 5)),
    ("sqrt", (0, 5)),
    ("rsqrt", (0.1, 5)),
    ("abs", (-3, 3)),
    ("negative", (-3, 3)),
    ("square", (-3, 3)),
    ("sin", (-4, 4)),
    ("cos", (-4, 4)),
    ("tan", (-1.2, 1.2)),
    ("sinh", (-3, 3)),
    ("cosh", (-3, 3)),
    ("asin", (-0.99, 0.99)),
    ("acos", (-0.99, 0.99)),
    ("atan", (-5, 5)),
    ("asinh", (-5, 5)),
    ("acosh", (1, 5)),
    ("atanh", (-0.95, 0.95)),
    ("ceil", (-3, 3)),
    ("floor", (-3, 3)),
    ("erf", (-3, 3)),
    ("sign", (-3, 3)),
    ("round", (-3, 3)),
]


@pytest.mark.parametrize("op,bounds", [pytest.param(o, b, id=o) for o, b in UNARY])
def test_unary(op, bounds):
    x = _rng.uniform(*bounds, SHAPE).astype("float32")
    check_op(lambda v: getattr(R, op)(v), {"x": (SHAPE, "float32")}, args=[x], rtol=1e-5, atol=1e-5)


def test_round_half_to_even_and_sign_of_zero():
    # Relax rounds halves to even, as TensorRT's ROUND does; sign(0) is 0 in both.
    x = np.array([-2.5, -1.5, -0.5, 0.0, 0.5, 1.5, 2.5, 3.5], "float32")
    check_op(lambda v: R.round(v), {"x": ((8,), "float32")}, args=[x], rtol=0, atol=0)
    check_op(lambda v: R.sign(v), {"x": ((8,), "float32")}, args=[x], rtol=0, atol=0)


@pytest.mark.parametrize("op,bounds", [pytest.param(o, b, id=o) for o, b in UNARY if o in ("exp", "sqrt", "erf")])
def test_unary_fp16(op, bounds):
    x = _rng.uniform(*bounds, SHAPE).astype("float16")
    check_op(lambda v: getattr(R, op)(v), {"x": (SHAPE, "float16")}, args=[x], rtol=2e-3, atol=2e-3)


def test_unary_chain_stays_one_subgraph():
    check_op(lambda v: R.exp(R.negative(R.abs(v))), {"x": (SHAPE, "float32")})


@pytest.mark.parametrize(
    "op,version,needs",
    [
        pytest.param("sin", (5, 0, 0), "5.1.5", id="sin"),
        pytest.param("floor", (5, 1, 0), "5.1.5", id="floor"),
        pytest.param("erf", (6, 0, 0), "7.0.0", id="erf"),
        pytest.param("round", (8, 0, 0), "8.2.0", id="round"),
    ],
)
def test_version_gate(op, version, needs):
    mod = make_module(lambda v: getattr(R, op)(v), {"x": (SHAPE, "float32")})
    assert_rejected(mod, f"relax.{op}", f"needs TensorRT >= {needs}", version=version)
    assert_offloaded(mod, version=tuple(int(p) for p in needs.split(".")))


@pytest.mark.parametrize("op", ["negative", "abs", "sign"])
@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_unary(op, dtype):
    x = np.array([[-(2**31), -7, 0, 3, 2**31 - 1]], dtype)  # int32's extremes (abs wraps as in C)
    check_op(lambda v: getattr(R, op)(v), {"x": (x.shape, dtype)}, args=[x], rtol=0, atol=0)


def test_integer_input_rejected():
    mod = make_module(lambda v: R.abs(v), {"x": (SHAPE, "int32")})
    assert_rejected(mod, "relax.abs", "integer relax.abs needs TensorRT >= 10.0.0", version=(8, 6))
    assert_rejected(make_module(lambda v: R.ceil(v), {"x": (SHAPE, "int32")}), "relax.ceil", "dtype int32")
