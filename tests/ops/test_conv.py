import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_rejected, check_op, make_module, random_inputs

R = relax.op


def _w(shape, seed=1):
    return relax.const(np.random.default_rng(seed).standard_normal(shape).astype("float32") * 0.2)


@pytest.mark.parametrize(
    "strides,padding,dilation,groups",
    [
        pytest.param(1, (1, 1), 1, 1, id="3x3-same"),
        pytest.param(2, (0, 0), 1, 1, id="stride2-valid"),
        pytest.param(1, (1, 0, 2, 1), 1, 1, id="asymmetric-pad"),
        pytest.param(1, (2, 2), 2, 1, id="dilation2"),
        pytest.param(1, (1, 1), 1, 2, id="groups2"),
        pytest.param(1, (1, 1), 1, 4, id="depthwise"),
    ],
)
def test_conv2d(strides, padding, dilation, groups):
    w = _w((4, 4 // groups, 3, 3))
    check_op(
        lambda x: R.nn.conv2d(x, w, strides=strides, padding=padding, dilation=dilation, groups=groups),
        {"x": ((1, 4, 9, 9), "float32")},
    )


def test_conv2d_nhwc_rejected():
    w = _w((3, 3, 4, 8))
    mod = make_module(
        lambda x: R.nn.conv2d(x, w, data_layout="NHWC", kernel_layout="HWIO"), {"x": ((1, 8, 8, 4), "float32")}
    )
    assert_rejected(mod, "relax.nn.conv2d", "data_layout=NHWC")


@pytest.mark.parametrize(
    "op,x_shape,w_shape,attrs",
    [
        pytest.param("conv1d", (1, 4, 9), (4, 4, 3), {"padding": (1, 1)}, id="conv1d"),
        pytest.param(
            "conv2d",
            (1, 4, 8, 8),
            (6, 2, 3, 3),
            {"strides": 2, "padding": (1, 0, 2, 1), "groups": 2},
            id="conv2d-grouped-strided",
        ),
        pytest.param("conv3d", (1, 2, 5, 5, 5), (3, 2, 3, 3, 3), {"dilation": 2, "padding": (2, 2, 2)}, id="conv3d"),
        pytest.param("conv1d_transpose", (1, 4, 5), (4, 3, 3), {"strides": 2}, id="conv1d-transpose"),
        pytest.param(
            "conv2d_transpose",
            (1, 4, 5, 5),
            (4, 3, 3, 3),
            {"strides": 2, "groups": 2, "padding": (1, 1)},
            id="conv2d-transpose-grouped",
        ),
        pytest.param("conv3d_transpose", (1, 2, 3, 3, 3), (2, 2, 2, 2, 2), {}, id="conv3d-transpose"),
    ],
)
def test_weight_from_graph_input(op, x_shape, w_shape, attrs):
    """ONNX models whose weights are graph inputs: the kernel is the layer's input 1."""
    check_op(lambda x, w: getattr(R.nn, op)(x, w, **attrs), {"x": (x_shape, "float32"), "w": (w_shape, "float32")})


def test_weight_computed_in_graph():
    half = relax.const(np.float32(0.5))
    check_op(
        lambda x, w: R.nn.conv2d(x, R.multiply(w, half)),
        {"x": ((1, 4, 8, 8), "float32"), "w": ((4, 4, 3, 3), "float32")},
    )


def test_weight_not_constant_rejected_with_implicit_batch():
    mod = make_module(lambda x, w: R.nn.conv2d(x, w), {"x": ((1, 4, 8, 8), "float32"), "w": ((4, 4, 3, 3), "float32")})
    assert_rejected(mod, "relax.nn.conv2d", "weight is not a constant", use_implicit_batch=True)
    assert_rejected(mod, "relax.nn.conv2d", "kernels as tensors need TensorRT >= 8.0.0", version=(7, 1))


def _wt(shape, dtype="float32", seed=1):
    return relax.const((np.random.default_rng(seed).standard_normal(shape) * 0.2).astype(dtype))


@pytest.mark.parametrize(
    "strides,padding,dilation,groups",
    [
        pytest.param(1, (1, 1), 1, 1, id="k3-same"),
        pytest.param(2, (0, 2), 1, 1, id="stride2-asymmetric-pad"),
        pytest.param(1, (2, 2), 2, 2, id="dilation2-groups2"),
    ],
)
def test_conv1d(strides, padding, dilation, groups):
    w = _wt((4, 4 // groups, 3))
    check_op(
        lambda x: R.nn.conv1d(x, w, strides=strides, padding=padding, dilation=dilation, groups=groups),
        {"x": ((2, 4, 11), "float32")},
    )


@pytest.mark.parametrize(
    "strides,padding,dilation",
    [
        pytest.param(1, (1, 1, 1), 1, id="3x3x3-same"),
        pytest.param((2, 1, 2), (0, 1, 0, 1, 0, 1), 1, id="mixed-strides-asymmetric-pad"),
        pytest.param(1, (2, 2, 2), 2, id="dilation2"),
    ],
)
def test_conv3d(strides, padding, dilation):
    w = _wt((3, 2, 3, 3, 3))
    check_op(
        lambda x: R.nn.conv3d(x, w, strides=strides, padding=padding, dilation=dilation),
        {"x": ((1, 2, 5, 6, 5), "float32")},
    )


@pytest.mark.parametrize(
    "strides,padding,output_padding,dilation,groups",
    [
        pytest.param(1, (1, 1), 0, 1, 1, id="3x3-same"),
        pytest.param(2, (1, 1), 1, 1, 1, id="stride2-output-padding"),
        pytest.param(2, (0, 0), 1, 1, 1, id="output-padding-past-full-output"),
        pytest.param(2, (1, 0, 0, 1), (1, 0), 1, 1, id="asymmetric-pad"),
        pytest.param(1, (2, 2), 0, 2, 1, id="dilation2"),
        pytest.param(2, (1, 1), 0, 1, 2, id="groups2"),
    ],
)
def test_conv2d_transpose(strides, padding, output_padding, dilation, groups):
    w = _wt((4, 6 // groups, 3, 3))  # IOHW: (C_in, C_out / groups, kH, kW)
    check_op(
        lambda x: R.nn.conv2d_transpose(
            x, w, strides=strides, padding=padding, output_padding=output_padding, dilation=dilation, groups=groups
        ),
        {"x": ((1, 4, 5, 5), "float32")},
    )


@pytest.mark.parametrize(
    "strides,padding,output_padding",
    [pytest.param(1, (1, 1), 0, id="k3-same"), pytest.param(2, (1, 1), 1, id="stride2-output-padding")],
)
def test_conv1d_transpose(strides, padding, output_padding):
    w = _wt((4, 3, 3))
    check_op(
        lambda x: R.nn.conv1d_transpose(x, w, strides=strides, padding=padding, output_padding=output_padding),
        {"x": ((2, 4, 7), "float32")},
    )


def test_conv3d_transpose():
    w = _wt((2, 3, 2, 2, 2))
    check_op(
        lambda x: R.nn.conv3d_transpose(x, w, strides=2, padding=0),
        {"x": ((1, 2, 3, 4, 3), "float32")},
    )


@pytest.mark.parametrize(
    "make,weight,x_shape",
    [
        pytest.param(R.nn.conv1d, (4, 4, 3), (1, 4, 9), id="conv1d"),
        pytest.param(R.nn.conv2d, (4, 4, 3, 3), (1, 4, 9, 9), id="conv2d"),
        pytest.param(R.nn.conv3d, (4, 4, 3, 3, 3), (1, 4, 5, 5, 5), id="conv3d"),
        pytest.param(R.nn.conv2d_transpose, (4, 4, 3, 3), (1, 4, 5, 5), id="conv2d_transpose"),
    ],
)
def test_conv_float16(make, weight, x_shape):
    w = _wt(weight, "float16")
    check_op(lambda x: make(x, w, padding=1), {"x": (x_shape, "float16")}, rtol=2e-2, atol=2e-2)


def test_conv_out_dtype_rejected():
    w = _wt((4, 4, 3, 3), "float16")
    mod = make_module(lambda x: R.nn.conv2d(x, w, out_dtype="float32"), {"x": ((1, 4, 8, 8), "float16")})
    assert_rejected(mod, "relax.nn.conv2d", "out_dtype=float32")


def test_conv1d_nwc_rejected():
    w = _wt((3, 4, 8))
    mod = make_module(
        lambda x: R.nn.conv1d(x, w, data_layout="NWC", kernel_layout="WIO"), {"x": ((1, 8, 4), "float32")}
    )
    assert_rejected(mod, "relax.nn.conv1d", "data_layout=NWC")


def test_conv3d_ndhwc_rejected():
    w = _wt((3, 3, 3, 2, 4))
    mod = make_module(
        lambda x: R.nn.conv3d(x, w, data_layout="NDHWC", kernel_layout="DHWIO"), {"x": ((1, 4, 4, 4, 2), "float32")}
    )
    assert_rejected(mod, "relax.nn.conv3d", "data_layout=NDHWC")


def test_conv2d_transpose_nhwc_rejected():
    w = _wt((4, 4, 3, 3))
    mod = make_module(lambda x: R.nn.conv2d_transpose(x, w, data_layout="NHWC"), {"x": ((1, 5, 5, 4), "float32")})
    assert_rejected(mod, "relax.nn.conv2d_transpose", "data_layout=NHWC")


@pytest.mark.parametrize(
    "name", [pytest.param("conv3d", id="conv3d"), pytest.param("conv3d_transpose", id="conv3d_transpose")]
)
def test_conv3d_needs_trt_601(name):
    make, w = getattr(R.nn, name), _wt((2, 2, 3, 3, 3))
    mod = make_module(lambda x: make(x, w), {"x": ((1, 2, 5, 5, 5), "float32")})
    assert_rejected(mod, f"relax.nn.{name}", "needs TensorRT >= 6.0.1", version=(5, 1, 5))
    check_op(lambda x: make(x, w), {"x": ((1, 2, 5, 5, 5), "float32")}, version=(6, 0, 1))


def test_conv1d_transpose_dynamic_batch():
    # The unit-axis reshapes copy the free batch dim (placeholder zeros), so one plan serves any batch.
    n = tvm.tirx.Var("n", "int64")
    w = _wt((4, 3, 3))
    args = random_inputs({"x": ((3, 4, 7), "float32")})
    check_op(
        lambda x: R.nn.conv1d_transpose(x, w, strides=2, output_padding=1), {"x": ((n, 4, 7), "float32")}, args=args
    )
