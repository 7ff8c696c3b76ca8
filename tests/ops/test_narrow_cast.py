"""Casts to and from the narrow float types: bfloat16 (TensorRT casts) and FP8 E4M3 (Q/DQ of unit
scale, as TensorRT-RTX refuses ICastLayer on FP8). Offloaded whole, a plan built, numbers vs
TVM-LLVM where TVM computes them right, else vs ml_dtypes (ONNX Cast with saturate=1)."""

import ml_dtypes
import numpy as np
import pytest
from tvm.script import relax as R

from harness import _plans_made, assert_offloaded, assert_rejected, check_op, make_module, run_offloaded

_VALUES = np.array([[-3.3, -1.0078125, -0.0, 0.0, 0.1, 1.00390625, 2.5, 1e4]], "float32")
# Out of E4M3's range (+-448), infinities, NaN, a tie between two E4M3 values (17: between 16 and 18, rounds to 16).
_FP8_EDGES = np.array([[1000.0, -1000.0, 449.0, 464.0, np.inf, -np.inf, np.nan, 17.0, 0.3, -2e-3]], "float32")


@pytest.mark.parametrize(
    "src,dst",
    [("float32", "bfloat16"), ("bfloat16", "float32"), ("float16", "bfloat16"), ("bfloat16", "int32")],
)
def test_bfloat16_vs_llvm(src, dst):
    x = _VALUES.astype(np.dtype(getattr(ml_dtypes, src, src)))
    check_op(lambda v: R.astype(v, dst), {"x": (x.shape, src)}, args=[x], rtol=0, atol=0)


def _offloaded(build, inputs, args):
    pmod = assert_offloaded(make_module(build, inputs))
    before = _plans_made()
    got = run_offloaded(pmod, args)
    assert _plans_made() > before, "no TensorRT plan was built"
    return got[0]


def _saturated_e4m3(x: np.ndarray) -> np.ndarray:
    """ONNX Cast to FLOAT8E4M3FN with saturate=1: clip to +-448 (infinities too), NaN stays, round to nearest even."""
    return np.clip(x.astype(np.float32), -448.0, 448.0).astype(ml_dtypes.float8_e4m3fn)


@pytest.mark.parametrize("src", ["float32", "float16", "bfloat16", "int32"])
def test_fp8_round_trip_saturates(src):
    x = _FP8_EDGES if src != "int32" else np.array([[-1000, -17, 0, 9, 300, 500]], "float32")
    x = x.astype(np.dtype(getattr(ml_dtypes, src, src)))
    got = _offloaded(lambda v: R.astype(R.astype(v, "float8_e4m3fn"), "float32"), {"x": (x.shape, src)}, [x])
    want = _saturated_e4m3(x).astype(np.float32)
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("dst", ["float32", "float16", "int32", "bfloat16"])
def test_fp8_input_to(dst):
    x = _saturated_e4m3(
        _FP8_EDGES[:, 7:] * np.array([[1, -3, 700]], "float32")
    )  # 17 -> 16 (a tie, to even), -0.9 -> -0.875, -1.4 -> -1.375
    got = _offloaded(lambda v: R.astype(v, dst), {"x": (x.shape, "float8_e4m3fn")}, [x])
    want = x.astype(np.float32)
    want = np.trunc(want).astype(dst) if dst == "int32" else want.astype(np.dtype(getattr(ml_dtypes, dst, dst)))
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got.astype(np.float32), want.astype(np.float32))


def test_fp8_output_binds():
    """An FP8 tensor crosses the engine boundary as the function's result."""
    x = _FP8_EDGES
    got = _offloaded(lambda v: R.astype(v, "float8_e4m3fn"), {"x": (x.shape, "float32")}, [x])
    assert got.dtype == np.dtype(ml_dtypes.float8_e4m3fn)
    np.testing.assert_array_equal(got.astype(np.float32), _saturated_e4m3(x).astype(np.float32))


def test_bfloat16_rejected_before_trt9():
    mod = make_module(lambda v: R.astype(v, "bfloat16"), {"x": ((2, 3), "float32")})
    assert_rejected(mod, "relax.astype", "bfloat16 tensors need TensorRT >= 9.0.0", version=(8, 6, 1))
