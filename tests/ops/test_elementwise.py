import numpy as np
import pytest
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module, run_offloaded

R = relax.op
BINARY = ["add", "subtract", "multiply", "divide", "power", "maximum", "minimum", "floor_divide"]
_rng = np.random.default_rng(7)


def _operands(shape_a, shape_b, dtype="float32"):
    # Positive, away from zero: valid for power and divide alike.
    return [_rng.uniform(0.5, 2.0, s).astype(dtype) for s in (shape_a, shape_b)]


@pytest.mark.parametrize("op", BINARY)
def test_binary(op):
    inputs = {"a": ((2, 3, 4), "float32"), "b": ((3, 1), "float32")}  # b broadcast from a lower rank
    check_op(lambda a, b: getattr(R, op)(a, b), inputs, args=_operands((2, 3, 4), (3, 1)))


@pytest.mark.parametrize(
    "shape_a,shape_b",
    [
        pytest.param((2, 3, 4), (2, 3, 4), id="same"),
        pytest.param((2, 3, 1), (2, 1, 4), id="both-broadcast"),
        pytest.param((4,), (2, 3, 4), id="lower-rank-first"),
    ],
)
def test_broadcast(shape_a, shape_b):
    inputs = {"a": (shape_a, "float32"), "b": (shape_b, "float32")}
    check_op(lambda a, b: R.subtract(a, b), inputs, args=_operands(shape_a, shape_b))


@pytest.mark.parametrize("op", ["add", "divide"])
def test_binary_fp16(op):
    inputs = {"a": ((2, 3, 4), "float16"), "b": ((4,), "float16")}
    check_op(
        lambda a, b: getattr(R, op)(a, b), inputs, args=_operands((2, 3, 4), (4,), "float16"), rtol=2e-3, atol=2e-3
    )


def test_binary_with_constant_first():
    c = relax.const(np.array([0.5, -1.0, 2.0, 3.0], "float32"))
    check_op(lambda x: R.subtract(c, x), {"x": ((2, 3, 4), "float32")})


def test_broadcast_across_batch_rejected():
    build = lambda a, b: R.add(a, b)  # noqa: E731
    inputs = {"a": ((1, 3), "float32"), "b": ((4, 3), "float32")}
    assert_rejected(make_module(build, inputs), "relax.add", "across the batch axis", use_implicit_batch=True)
    check_op(build, inputs, use_implicit_batch=False)


# ---- comparisons and logic ------------------------------------------------------------------

COMPARISONS = ["equal", "not_equal", "greater", "less", "greater_equal", "less_equal"]


@pytest.mark.parametrize(
    "op,dtype",
    [pytest.param(op, "float32", id=op) for op in COMPARISONS]
    + [pytest.param(op, "int32", id=f"{op}-int32") for op in ("equal", "greater_equal")],
)
def test_comparison(op, dtype):
    a = np.array([[0, 1, 2, 3], [3, 2, 1, 0]], dtype)
    b = np.array([1, 1, 2, 2], dtype)
    check_op(lambda x, y: getattr(R, op)(x, y), {"a": ((2, 4), dtype), "b": ((4,), dtype)}, args=[a, b])


def test_comparison_with_nan():
    # greater_equal is GREATER | EQUAL, not NOT(LESS): NaN compares false either way.
    # (not_equal is left out: TVM-LLVM's fast-math folds NaN comparisons, so it is no reference.)
    a = np.array([np.nan, 1.0, 2.0, np.nan], "float32")
    b = np.array([1.0, np.nan, 2.0, np.nan], "float32")
    for op in ("greater_equal", "less_equal"):
        check_op(lambda x, y: getattr(R, op)(x, y), {"a": ((4,), "float32"), "b": ((4,), "float32")}, args=[a, b])  # noqa: B023  (called at once)


@pytest.mark.parametrize("op", ["logical_and", "logical_or", "logical_xor"])
def test_logical(op):
    check_op(lambda x, y: getattr(R, op)(x, y), {"a": ((2, 6), "bool"), "b": ((6,), "bool")})


def test_logical_not():
    check_op(lambda x: R.logical_not(x), {"a": ((2, 6), "bool")})


def test_compare_bool_rejected():
    mod = make_module(lambda x, y: R.equal(x, y), {"a": ((2, 6), "bool"), "b": ((2, 6), "bool")})
    assert_rejected(mod, "relax.equal", "bool operands")


# ---- where / astype -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype,cond_shape,value_shape",
    [
        pytest.param("float32", (2, 3, 4), (2, 3, 4), id="f32-same"),
        pytest.param("float32", (2, 1, 4), (3, 1), id="f32-broadcast"),
        pytest.param("float16", (2, 3, 4), (4,), id="f16"),
        pytest.param("int32", (2, 3, 4), (2, 3, 4), id="i32"),
    ],
)
def test_where(dtype, cond_shape, value_shape):
    inputs = {"c": (cond_shape, "bool"), "a": (value_shape, dtype), "b": ((2, 3, 4), dtype)}
    check_op(lambda c, a, b: R.where(c, a, b), inputs)


def test_where_from_comparison_with_constant():
    check_op(
        lambda x: R.where(R.greater(x, relax.const(0.0)), x, relax.const(np.float32(-2))), {"x": ((2, 5), "float32")}
    )


@pytest.mark.parametrize(
    "src,dst",
    [
        ("float32", "int32"),
        ("float32", "float16"),
        ("float16", "float32"),
        ("int32", "float32"),
        ("float32", "bool"),
        ("bool", "float32"),
        ("bool", "int32"),
    ],
)
def test_astype(src, dst):
    x = np.array([[-2.7, -0.5, 0.0, 0.4, 1.0, 3.9]], "float32").astype(src)
    check_op(lambda v: R.astype(v, dst), {"x": ((1, 6), src)}, args=[x], rtol=0, atol=1e-3)


@pytest.mark.parametrize(
    "src,dst",
    [
        ("float32", "int64"),
        ("int64", "float32"),
        ("int64", "int32"),
        ("int32", "int64"),
        ("bool", "int64"),
        ("int64", "bool"),
    ],
)
def test_astype_int64(src, dst):
    x = np.array([[-2.7, -0.5, 0.0, 0.4, 1.0, 3.9]], "float32").astype(src)
    check_op(lambda v: R.astype(v, dst), {"x": ((1, 6), src)}, args=[x], rtol=0, atol=1e-3)


def test_astype_int64_rejected_before_trt10():
    mod = make_module(lambda v: R.astype(v, "int64"), {"x": ((2, 3), "float32")})
    assert_rejected(mod, "relax.astype", "int64 tensors need TensorRT >= 10.0.0", version=(8, 6, 1))


# ---- int64 (ids, masks, position arithmetic in transformers) -----------------------------------

_I64 = {"a": ((2, 3, 4), "int64"), "b": ((4,), "int64")}


@pytest.mark.parametrize("op", ["add", "subtract", "multiply", "maximum", "minimum"])
def test_binary_int64(op):
    a = _rng.integers(-50, 50, (2, 3, 4)).astype("int64")
    b = np.array([3, -7, 2**40, 0], "int64")  # beyond int32: the type is kept, not narrowed
    check_op(lambda x, y: getattr(R, op)(x, y), _I64, args=[a, b], rtol=0, atol=0)


@pytest.mark.parametrize("op", ["mod", "floor_mod", "floor_divide", "divide"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "float32", "float16"])
def test_modulo(op, dtype):
    """Every sign combination; C's fmod (mod) vs Python's % (floor_mod), integer divide truncating
    (ONNX Div) vs floor_divide flooring, b broadcast."""
    a = np.array([[7, -7, 7, -7, 5, 0], [1, 2, -3, 4, -5, 6]], dtype)
    b = np.array([3, 3, -3, -3, 2, 4], dtype)
    if dtype.startswith("float"):
        a, b = a * np.asarray(1.25, dtype), b * np.asarray(0.5, dtype)
    tol = 2e-3 if dtype == "float16" else 1e-5
    check_op(
        lambda x, y: getattr(R, op)(x, y), {"a": ((2, 6), dtype), "b": ((6,), dtype)}, args=[a, b], rtol=tol, atol=tol
    )


def test_mod_version_gate():
    mod = make_module(lambda x, y: R.mod(x, y), _I64)
    assert_rejected(mod, "relax.mod", "needs TensorRT >= 8.2.0", version=(8, 0))


@pytest.mark.parametrize("op", ["equal", "less", "greater_equal"])
def test_comparison_int64(op):
    a = _rng.integers(-3, 3, (2, 3, 4)).astype("int64")
    check_op(lambda x, y: getattr(R, op)(x, y), _I64, args=[a, np.array([0, 1, -1, 2], "int64")])


def test_where_int64():
    inputs = {"c": ((2, 3, 4), "bool"), "a": ((2, 3, 4), "int64"), "b": ((4,), "int64")}
    check_op(lambda c, a, b: R.where(c, a, b), inputs, rtol=0, atol=0)


def test_int64_rejected_before_trt10():
    mod = make_module(lambda x, y: R.add(x, y), _I64)
    assert_rejected(mod, "relax.add", "int64 tensors need TensorRT >= 10.0.0", version=(8, 6, 1))


def test_token_id_and_mask_arithmetic():
    """BERT's embedding prologue as TVM imports it: negative ids wrapped (less/add/where on int64),
    the int64 padding mask expanded and cast to an additive float mask."""
    table = relax.const(_rng.standard_normal((50, 8)).astype("float32"))

    def build(ids, mask):
        wrapped = R.where(R.less(ids, relax.const(0, "int64")), R.add(ids, relax.const(50, "int64")), ids)
        emb = R.take(table, wrapped, axis=0)
        m = R.astype(R.expand_dims(R.expand_dims(mask, [1]), [2]), "float32")
        bias = R.multiply(R.subtract(relax.const(1.0), m), relax.const(-1e4))
        return R.add(R.reshape(R.sum(emb, axis=[-1]), (1, 1, 1, 6)), bias)

    ids = np.array([[3, -1, 7, 49, 0, -50]], "int64")
    mask = np.array([[1, 1, 1, 1, 0, 0]], "int64")
    check_op(
        build, {"ids": ((1, 6), "int64"), "mask": ((1, 6), "int64")}, args=[ids, mask], use_implicit_batch=False
    )  # a take from a constant table reads its axis 0


# ---- isnan / isinf --------------------------------------------------------------------------

_SPECIAL = np.array([[np.nan, 1.0, -np.inf, 0.0, np.inf, -2.5]], "float32")


@pytest.mark.parametrize("op,want", [("isnan", np.isnan), ("isinf", np.isinf)])
def test_isnan_isinf(op, want):
    # Against NumPy: TVM-LLVM's fast-math may fold NaN / inf tests, so it is no reference here.
    from harness import run_offloaded

    mod = make_module(lambda x: getattr(R, op)(x), {"x": ((1, 6), "float32")})
    (got,) = run_offloaded(assert_offloaded(mod), [_SPECIAL])
    np.testing.assert_array_equal(got, want(_SPECIAL))


def test_isfinite():
    from harness import run_offloaded

    mod = make_module(lambda x: R.isfinite(x), {"x": ((1, 6), "float32")})
    (got,) = run_offloaded(assert_offloaded(mod), [_SPECIAL])
    np.testing.assert_array_equal(got, np.isfinite(_SPECIAL))


def test_int8_clip():
    """ONNX Clip on int8 as TVM imports it (less + where), and maximum/minimum on int8 values."""
    x = np.array([-128, -3, 0, 5, 127, 9], "int8")
    lo = np.array([0, 2, 0, 127, -128, 9], "int8")
    inputs = {"x": ((6,), "int8"), "lo": ((6,), "int8")}
    check_op(lambda v, m: R.where(R.less(v, m), m, v), inputs, args=[x, lo], rtol=0, atol=0)
    check_op(lambda v, m: R.minimum(R.maximum(v, m), relax.const(np.int8(100))), inputs, args=[x, lo], rtol=0, atol=0)


# ---- integer power: square and multiply over the exponent's bits -----------------------------

_POWERS = [  # (base, exponent): results that fit the type, every sign, exponents 0 and negative
    (2, 0),
    (0, 0),
    (0, 3),
    (-3, 3),
    (-3, 4),
    (7, 1),
    (2, 30),
    (-2, 31),
    (3, 19),
    (46340, 2),
    (10, 9),
    (-1, 12345),
    (1, -5),
    (-1, -3),
    (-1, -4),
    (2, -1),
    (-5, -2),
    (12, 3),
]


def _int_power_reference(base, exp):
    """ONNX Runtime's trunc(base ** e) for integers, in Python's exact integers."""
    if exp >= 0:
        return base**exp
    return 1 if base == 1 else ((-1) ** (-exp) if base == -1 else 0)


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_integer_power(dtype):
    pairs = _POWERS + ([(3, 39), (-7, 22), (2, 62)] if dtype == "int64" else [])
    base = np.array([b for b, _ in pairs], dtype)
    exp = np.array([e for _, e in pairs], dtype)
    want = np.array([_int_power_reference(int(b), int(e)) for b, e in pairs], dtype)
    mod = make_module(lambda x, y: R.power(x, y), {"a": ((len(pairs),), dtype), "b": ((len(pairs),), dtype)})
    (got,) = run_offloaded(assert_offloaded(mod), [base, exp])
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("exponent", [1, 2, 7, 13])
def test_integer_power_scalar_exponent(exponent):
    """A constant scalar exponent: products of the squares its bits take."""
    base = np.array([[-4, 3, 0], [2, -1, 5]], "int64")
    mod = make_module(lambda x: R.power(x, relax.const(exponent, "int64")), {"a": ((2, 3), "int64")})
    (got,) = run_offloaded(assert_offloaded(mod), [base])
    np.testing.assert_array_equal(got, np.power(base, exponent))


def test_integer_power_broadcast_constant_exponent():
    """Bases broadcast against a constant exponent row; agrees with NumPy's power."""
    base = np.array([[-4], [3], [0]], "int32")
    exp = np.array([0, 1, 2, 5], "int32")
    mod = make_module(lambda x: R.power(x, relax.const(exp)), {"a": ((3, 1), "int32")})
    (got,) = run_offloaded(assert_offloaded(mod), [base])
    np.testing.assert_array_equal(got, np.power(base, exp))


# ---- 8-bit integers as plain values: wrap-around on overflow, as NumPy and ONNX ----------------

_BYTE_OPERANDS = {
    # overflow both ways (127 + 127, 127 * 127, -128 - 100), -128 / -1, every sign combination
    "int8": ([-128, -100, 127, 100, -7, 7, 0, 127], [-1, 100, 127, 3, 2, -2, 5, 4]),
    # wrap below 0 (3 - 5) and above 255 (255 + 1, 200 * 100)
    "uint8": ([255, 200, 3, 0, 17, 128, 255, 9], [1, 100, 5, 7, 4, 2, 255, 3]),
}


def _byte_reference(op, a, b):
    """ONNX's semantics computed in int64, then wrapped into the byte type (NumPy's astype wraps)."""
    a64, b64 = a.astype(np.int64), b.astype(np.int64)
    exact = {
        "add": a64 + b64,
        "subtract": a64 - b64,
        "multiply": a64 * b64,
        "divide": np.sign(a64) * np.sign(b64) * (np.abs(a64) // np.abs(b64)),  # truncates toward zero
        "floor_divide": a64 // b64,
        "mod": np.fmod(a64, b64),
        "floor_mod": np.mod(a64, b64),
        "maximum": np.maximum(a64, b64),
        "minimum": np.minimum(a64, b64),
    }[op]
    return exact.astype(a.dtype)


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
@pytest.mark.parametrize(
    "op", ["add", "subtract", "multiply", "divide", "floor_divide", "mod", "floor_mod", "maximum", "minimum"]
)
def test_byte_arithmetic_wraps(op, dtype):
    """Computed in a wide type and wrapped exactly before the narrowing cast. Judged against
    NumPy, not TVM-LLVM: an int8 -128 / -1 may trap in LLVM's code."""
    a, b = (np.array(v, dtype).reshape(2, 4) for v in _BYTE_OPERANDS[dtype])
    mod = make_module(lambda x, y: getattr(R, op)(x, y), {"a": ((2, 4), dtype), "b": ((2, 4), dtype)})
    want = _byte_reference(op, a, b)
    (got,) = run_offloaded(assert_offloaded(mod), [a, b])
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dtype", ["int8", "uint8"])
def test_byte_arithmetic_with_constant(dtype):
    """A constant operand is taken in the wide type; agrees with TVM-LLVM where nothing traps."""
    c = relax.const(np.array([100, 7, 1, 90], dtype))
    x = np.array([[100, 3, 127, 50], [0, 120, 9, 1]], dtype)
    check_op(lambda v: R.multiply(R.add(v, c), c), {"x": ((2, 4), dtype)}, args=[x], rtol=0, atol=0)


@pytest.mark.parametrize("op", COMPARISONS)
def test_uint8_comparison(op):
    a = np.array([[0, 255, 128, 7], [200, 1, 1, 255]], "uint8")
    b = np.array([255, 255, 127, 8], "uint8")
    check_op(lambda x, y: getattr(R, op)(x, y), {"a": ((2, 4), "uint8"), "b": ((4,), "uint8")}, args=[a, b])


def test_uint8_under_fp16():
    """uint8 held as FLOAT meets the FP16 rewrite (which casts FLOAT tensors to HALF): still exact."""
    c = relax.const(np.array([100, 7, 1, 90], "uint8"))
    x = np.array([[100, 3, 127, 50], [0, 120, 9, 255]], "uint8")
    y = np.array([[200, 3, 129, 250], [0, 1, 9, 255]], "uint8")
    inputs = {"x": ((2, 4), "uint8"), "y": ((2, 4), "uint8")}
    check_op(lambda v, w: R.less(R.multiply(R.add(v, w), c), c), inputs, args=[x, y], use_fp16=True)
    check_op(lambda v, w: R.floor_mod(R.multiply(v, w), c), inputs, args=[x, y], use_fp16=True, rtol=0, atol=0)


def test_int8_variadic_max():
    """ONNX's Max / Min of int8 as TVM imports them: broadcast_to, stack, reduce."""
    a = np.array([-128, 5, 127], "int8")
    b = np.array([[3], [-3]], "int8")
    inputs = {"a": ((3,), "int8"), "b": ((2, 1), "int8")}

    def build(x, y):
        parts = [R.broadcast_to(x, (2, 3)), R.broadcast_to(y, (2, 3))]
        return R.min(R.stack(parts, axis=0), axis=[0])

    check_op(build, inputs, args=[a, b], rtol=0, atol=0)


def test_byte_values_need_trt10():
    mod = make_module(lambda x, y: R.add(x, y), {"a": ((2, 3), "uint8"), "b": ((2, 3), "uint8")})
    assert_rejected(mod, "relax.add", "uint8 values (not quantized) need TensorRT >= 10.0.0", version=(8, 6, 1))


def test_isnan_selects_with_where():
    """GPT-2's mask clean-up: where(isnan(x), 0, x)."""
    check_op(lambda x: R.where(R.isnan(x), relax.const(0.0), x), {"x": ((2, 6), "float32")})


@pytest.mark.parametrize(
    "op,build,inputs,version,needs",
    [
        pytest.param(
            "relax.equal",
            lambda a, b: R.equal(a, b),
            {"a": ((2, 3), "float32"), "b": ((2, 3), "float32")},
            (6, 0, 0),
            "7.0.0",
            id="equal",
        ),
        pytest.param(
            "relax.where",
            lambda c, a: R.where(c, a, a),
            {"c": ((2, 3), "bool"), "a": ((2, 3), "float32")},
            (7, 2, 0),
            "8.0.0",
            id="where",
        ),
        pytest.param(
            "relax.astype", lambda a: R.astype(a, "int32"), {"a": ((2, 3), "float32")}, (8, 5, 0), "8.6.0", id="astype"
        ),
    ],
)
def test_version_gate(op, build, inputs, version, needs):
    mod = make_module(build, inputs)
    assert_rejected(mod, op, f"needs TensorRT >= {needs}", version=version)
    assert_offloaded(mod, version=tuple(int(p) for p in needs.split(".")))


# ---- what stays in TVM, with TensorRT's reason ------------------------------------------------


def test_bitwise_rejected_with_reason():
    mod = make_module(lambda x, y: R.bitwise_and(x, y), {"a": ((2, 3), "int32"), "b": ((2, 3), "int32")})
    assert_rejected(mod, "relax.bitwise_and", "TensorRT has no integer bit operations")


def test_float64_rejected_with_reason():
    mod = make_module(lambda x, y: R.add(x, y), {"a": ((2, 3), "float64"), "b": ((2, 3), "float64")})
    assert_rejected(mod, "relax.add", "float64 tensors (TensorRT has no 64-bit float type; truncate_double=True")
