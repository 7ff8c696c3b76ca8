import pytest
import tvm
from tvm import relax

from harness import assert_rejected, check_op, make_module, random_inputs

R = relax.op


_WINDOWS = [
    pytest.param(2, 2, 0, False, id="2x2-stride2"),
    pytest.param(3, 1, 1, False, id="3x3-same"),
    pytest.param(3, 2, (0, 1, 1, 0), False, id="asymmetric-pad"),
    pytest.param((3, 2), (2, 1), 0, False, id="rect-window-mixed-strides"),
    pytest.param(3, 2, 0, True, id="ceil-mode"),
    pytest.param(3, 2, 1, True, id="ceil-mode-padded"),
]


@pytest.mark.parametrize("pool_size,strides,padding,ceil_mode", _WINDOWS)
def test_max_pool2d(pool_size, strides, padding, ceil_mode):
    check_op(
        lambda x: R.nn.max_pool2d(x, pool_size, strides, padding, ceil_mode=ceil_mode),
        {"x": ((1, 3, 10, 10), "float32")},
    )


@pytest.mark.parametrize("count_include_pad", [False, True], ids=["exclude-pad", "include-pad"])
@pytest.mark.parametrize("pool_size,strides,padding,ceil_mode", _WINDOWS)
def test_avg_pool2d(pool_size, strides, padding, ceil_mode, count_include_pad):
    # 10x10: in ceil_mode the last window runs past the padded input (partial window).
    check_op(
        lambda x: R.nn.avg_pool2d(
            x, pool_size, strides, padding, ceil_mode=ceil_mode, count_include_pad=count_include_pad
        ),
        {"x": ((1, 3, 10, 10), "float32")},
    )


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "pool_size,strides,padding,ceil_mode",
    [
        pytest.param(3, 1, 1, False, id="k3-same"),
        pytest.param(2, 2, (0, 1), False, id="asymmetric-pad"),
        pytest.param(3, 2, 0, True, id="ceil-mode"),
    ],
)
def test_pool1d(kind, pool_size, strides, padding, ceil_mode):
    make = getattr(R.nn, f"{kind}_pool1d")
    check_op(lambda x: make(x, pool_size, strides, padding, ceil_mode=ceil_mode), {"x": ((2, 3, 9), "float32")})


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "pool_size,strides,padding",
    [pytest.param(2, 2, 0, id="2x2x2-stride2"), pytest.param(3, 1, (1, 0, 1, 1, 1, 0), id="asymmetric-pad")],
)
def test_pool3d(kind, pool_size, strides, padding):
    make = getattr(R.nn, f"{kind}_pool3d")
    check_op(lambda x: make(x, pool_size, strides, padding), {"x": ((1, 2, 4, 6, 4), "float32")})


def test_pool_float16():
    check_op(lambda x: R.nn.avg_pool2d(x, 3, 1, 1), {"x": ((1, 3, 6, 6), "float16")}, rtol=1e-2, atol=1e-2)


def test_pool_dynamic_batch():
    n = tvm.tirx.Var("n", "int64")
    args = random_inputs({"x": ((3, 3, 9), "float32")})
    check_op(lambda x: R.nn.max_pool1d(x, 3, 2), {"x": ((n, 3, 9), "float32")}, args=args)


@pytest.mark.parametrize(
    "op,make,x_shape",
    [
        pytest.param("relax.nn.max_pool3d", lambda x: R.nn.max_pool3d(x, 2, 2), (1, 2, 4, 4, 4), id="max_pool3d"),
        pytest.param("relax.nn.avg_pool3d", lambda x: R.nn.avg_pool3d(x, 2, 2), (1, 2, 4, 4, 4), id="avg_pool3d"),
        pytest.param(
            "relax.nn.adaptive_avg_pool3d", lambda x: R.nn.adaptive_avg_pool3d(x, 1), (1, 2, 4, 4, 4), id="adaptive3d"
        ),
    ],
)
def test_pool3d_needs_trt_601(op, make, x_shape):
    assert_rejected(make_module(make, {"x": (x_shape, "float32")}), op, "needs TensorRT >= 6.0.1", version=(5, 1, 5))


@pytest.mark.parametrize(
    "make,x_shape",
    [
        pytest.param(lambda x: R.nn.adaptive_avg_pool2d(x, (1, 1)), (2, 3, 7, 5), id="2d-global"),
        pytest.param(lambda x: R.nn.adaptive_avg_pool2d(x, (2, 3)), (1, 3, 8, 9), id="2d-uniform"),
        pytest.param(lambda x: R.nn.adaptive_avg_pool2d(x), (1, 3, 4, 4), id="2d-same-size"),
        pytest.param(lambda x: R.nn.adaptive_avg_pool1d(x, 3), (1, 3, 9), id="1d-uniform"),
        pytest.param(lambda x: R.nn.adaptive_avg_pool3d(x, (1, 2, 2)), (1, 2, 3, 4, 4), id="3d-uniform"),
    ],
)
def test_adaptive_avg_pool(make, x_shape):
    check_op(make, {"x": (x_shape, "float32")})


def test_adaptive_non_uniform_rejected():
    mod = make_module(lambda x: R.nn.adaptive_avg_pool2d(x, (3, 3)), {"x": ((1, 3, 7, 7), "float32")})
    assert_rejected(mod, "relax.nn.adaptive_avg_pool2d", "not a uniform window")


def test_adaptive_nhwc_rejected():
    mod = make_module(lambda x: R.nn.adaptive_avg_pool2d(x, 1, layout="NHWC"), {"x": ((1, 4, 4, 3), "float32")})
    assert_rejected(mod, "relax.nn.adaptive_avg_pool2d", "layout=NHWC")


def test_pool_nhwc_rejected():
    mod = make_module(lambda x: R.nn.max_pool2d(x, 2, 2, layout="NHWC"), {"x": ((1, 4, 4, 3), "float32")})
    assert_rejected(mod, "relax.nn.max_pool2d", "layout=NHWC")


def test_pool_dilation_rejected():
    mod = make_module(lambda x: R.nn.max_pool2d(x, 2, 1, dilation=2), {"x": ((1, 3, 6, 6), "float32")})
    assert_rejected(mod, "relax.nn.max_pool2d", "dilated pooling")


_MAX = lambda x, **kw: R.nn.max_pool2d(x, **kw)  # noqa: E731
_AVG_COUNT_PAD = lambda x, **kw: R.nn.avg_pool2d(x, count_include_pad=True, **kw)  # noqa: E731
_AVG_EXCLUDE_PAD = lambda x, **kw: R.nn.avg_pool2d(x, count_include_pad=False, **kw)  # noqa: E731


@pytest.mark.parametrize("make", [_MAX, _AVG_COUNT_PAD, _AVG_EXCLUDE_PAD], ids=["max", "avg-count-pad", "avg-exclude"])
@pytest.mark.parametrize(
    "shape,window,strides,padding",
    [
        # 5: ceil((5 + 2 - 2) / 2) + 1 = 4 windows, the 4th starting in the padding: 3 (ONNX, PyTorch, Relax)
        pytest.param((1, 2, 5, 5), 2, 2, 1, id="both-dims-drop"),
        pytest.param((2, 1, 7, 4), 3, 3, (2, 1, 0, 2), id="asymmetric-pad"),
    ],
)
def test_ceil_mode_last_window_in_padding(make, shape, window, strides, padding):
    """ONNX drops a ceil-mode last window that starts in the padding, TensorRT's EXPLICIT_ROUND_UP
    keeps it: rounding down with the post-padding that reaches the last kept window's end."""
    check_op(
        lambda x: make(x, pool_size=window, strides=strides, padding=padding, ceil_mode=True), {"x": (shape, "float32")}
    )


def test_ceil_mode_one_dim_drops():
    """H drops its last window while W keeps a partial one past the padding: rounding down, W's
    post-padding grows, which average pooling counting padding would count (kept in TVM)."""
    inputs = {"x": ((1, 2, 5, 8), "float32")}
    kw = dict(pool_size=(2, 3), strides=2, padding=1, ceil_mode=True)
    for make in (_MAX, _AVG_EXCLUDE_PAD):
        check_op(lambda x: make(x, **kw), inputs)  # noqa: B023  (called at once)
    mod = make_module(lambda x: _AVG_COUNT_PAD(x, **kw), inputs)
    assert_rejected(mod, "relax.nn.avg_pool2d", "TensorRT's divisor would count the part past it")


def test_ceil_mode_last_window_in_padding_1d():
    check_op(lambda x: R.nn.avg_pool1d(x, 2, 2, 1, ceil_mode=True), {"x": ((1, 3, 5), "float32")})
