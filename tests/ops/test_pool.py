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


def test_ceil_mode_window_in_padding_rejected():
    # TVM drops a last window that would start inside the trailing padding (3 outputs); TensorRT keeps it (4).
    mod = make_module(lambda x: R.nn.max_pool2d(x, 2, 2, 1, ceil_mode=True), {"x": ((1, 1, 5, 5), "float32")})
    assert_rejected(mod, "relax.nn.max_pool2d", "ceil_mode output size 3 differs from TensorRT's rounding (4)")
