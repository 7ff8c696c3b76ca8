import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_rejected, check_op, make_module, random_inputs

R = relax.op


@pytest.mark.parametrize(
    "size,transform,rounding",
    [
        pytest.param((8, 12), "asymmetric", "", id="asymmetric-default-floor"),
        pytest.param((8, 12), "asymmetric", "ceil", id="asymmetric-ceil"),
        pytest.param((8, 12), "half_pixel", "floor", id="half-pixel-floor"),
        pytest.param((2, 3), "half_pixel", "round_prefer_ceil", id="downscale-half-up"),
        pytest.param((2, 3), "half_pixel", "round_prefer_floor", id="downscale-half-down"),
        pytest.param((7, 11), "align_corners", "round_prefer_ceil", id="align-corners-half-up"),
        pytest.param((1, 12), "pytorch_half_pixel", "floor", id="pytorch-half-pixel-single-row"),
    ],
)
def test_resize2d_nearest(size, transform, rounding):
    check_op(
        lambda x: R.image.resize2d(
            x, size, method="nearest_neighbor", coordinate_transformation_mode=transform, rounding_method=rounding
        ),
        {"x": ((1, 2, 4, 6), "float32")},
    )


@pytest.mark.parametrize(
    "size,transform",
    [
        pytest.param((8, 9), "half_pixel", id="half-pixel"),
        pytest.param((7, 11), "align_corners", id="align-corners"),
        pytest.param((3, 4), "asymmetric", id="asymmetric-downscale"),
        pytest.param((1, 9), "pytorch_half_pixel", id="pytorch-half-pixel-single-row"),
    ],
)
def test_resize2d_linear(size, transform):
    check_op(
        lambda x: R.image.resize2d(x, size, method="linear", coordinate_transformation_mode=transform),
        {"x": ((1, 2, 4, 6), "float32")},
    )


@pytest.mark.parametrize(
    "transform,alpha,exclude",
    [
        pytest.param("half_pixel", -0.75, 0, id="half-pixel-a-0.75"),
        pytest.param("align_corners", -0.5, 0, id="align-corners-a-0.5"),
        pytest.param("half_pixel", -0.5, 1, id="exclude-outside"),
    ],
)
def test_resize2d_cubic(transform, alpha, exclude):
    check_op(
        lambda x: R.image.resize2d(
            x,
            (7, 9),
            method="cubic",
            coordinate_transformation_mode=transform,
            cubic_alpha=alpha,
            cubic_exclude=exclude,
        ),
        {"x": ((1, 2, 4, 6), "float32")},
    )


def test_resize2d_float16():
    check_op(
        lambda x: R.image.resize2d(x, (8, 12), method="linear"), {"x": ((1, 2, 4, 6), "float16")}, rtol=1e-2, atol=1e-2
    )


def test_resize2d_dynamic_batch():
    n = tvm.tirx.Var("n", "int64")
    args = random_inputs({"x": ((3, 2, 4, 6), "float32")})
    check_op(lambda x: R.image.resize2d(x, (8, 3), method="linear"), {"x": ((n, 2, 4, 6), "float32")}, args=args)


@pytest.mark.parametrize(
    "kwargs,reason",
    [
        pytest.param({"method": "nearest_neighbor", "rounding_method": "round"}, "rounding_method=round", id="round"),
        pytest.param(
            {"method": "nearest_neighbor", "coordinate_transformation_mode": "align_corners", "rounding_method": ""},
            "rounding_method=round",
            id="align-corners-default-round",
        ),
        pytest.param(
            {
                "method": "nearest_neighbor",
                "coordinate_transformation_mode": "tf_half_pixel_for_nn",
                "rounding_method": "floor",
            },
            "coordinate_transformation_mode=tf_half_pixel_for_nn",
            id="tf-half-pixel-for-nn",
        ),
        pytest.param(
            {"method": "linear", "coordinate_transformation_mode": "tf_crop_and_resize", "roi": (0.1, 0.1, 0.9, 0.9)},
            "coordinate_transformation_mode=tf_crop_and_resize",
            id="tf-crop-and-resize",
        ),
    ],
)
def test_resize2d_rejected(kwargs, reason):
    mod = make_module(lambda x: R.image.resize2d(x, (8, 12), **kwargs), {"x": ((1, 2, 4, 6), "float32")})
    assert_rejected(mod, "relax.image.resize2d", reason)


def test_resize2d_nhwc_rejected():
    mod = make_module(
        lambda x: R.image.resize2d(x, (8, 12), layout="NHWC", method="linear"), {"x": ((1, 4, 6, 2), "float32")}
    )
    assert_rejected(mod, "relax.image.resize2d", "layout=NHWC")


def test_resize2d_out_dtype_rejected():
    mod = make_module(
        lambda x: R.image.resize2d(x, (8, 12), method="linear", out_dtype="float32"), {"x": ((1, 2, 4, 6), "float16")}
    )
    assert_rejected(mod, "relax.image.resize2d", "out_dtype=float32")


# ---- grid_sample ------------------------------------------------------------------------------

_GRID_CASES = [
    pytest.param(m, p, a, id=f"{m}-{p}-{'aligned' if a else 'unaligned'}")
    for m in ("nearest", "bilinear", "bicubic")
    for p in ("zeros", "border", "reflection")
    for a in (False, True)
    if not (m == "bicubic" and p == "border")
]


@pytest.mark.parametrize("method,padding,align", _GRID_CASES)
def test_grid_sample(method, padding, align):
    """The grid reaches past [-1, 1], so every padding mode is exercised."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6)).astype("float32")
    grid = rng.uniform(-1.3, 1.3, (2, 2, 4, 7)).astype("float32")  # Relax's grid is (N, 2, H_out, W_out)
    check_op(
        lambda d, g: R.image.grid_sample(d, g, method=method, padding_mode=padding, align_corners=align),
        {"x": (x.shape, "float32"), "grid": (grid.shape, "float32")},
        args=[x, grid],
    )


@pytest.mark.parametrize("method,padding", [("nearest", "border"), ("bilinear", "reflection")])
def test_grid_sample_volumetric(method, padding):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((1, 2, 3, 4, 5)).astype("float32")
    grid = rng.uniform(-1.2, 1.2, (1, 3, 2, 3, 4)).astype("float32")
    check_op(
        lambda d, g: R.image.grid_sample(d, g, method=method, layout="NCDHW", padding_mode=padding),
        {"x": (x.shape, "float32"), "grid": (grid.shape, "float32")},
        args=[x, grid],
    )


@pytest.mark.parametrize(
    "x_shape,grid_shape,layout,method,padding,version,reason",
    [
        pytest.param(
            (1, 1, 3, 2, 2),
            (1, 3, 2, 4, 2),
            "NCDHW",
            "bilinear",
            "zeros",
            (8, 6),
            "needs TensorRT >= 10.0.0",
            id="volumetric-before-trt10",
        ),
        pytest.param((1, 1, 4, 4), (1, 2, 3, 3), "NCHW", "bicubic", "border", None, "unverified", id="bicubic-border"),
    ],
)
def test_grid_sample_rejected(x_shape, grid_shape, layout, method, padding, version, reason):
    mod = make_module(
        lambda d, g: R.image.grid_sample(d, g, method=method, layout=layout, padding_mode=padding),
        {"x": (x_shape, "float32"), "grid": (grid_shape, "float32")},
    )
    assert_rejected(mod, "relax.image.grid_sample", reason, version=version)


def test_non_max_suppression_rejected_with_reason():
    def build(boxes, scores):
        return R.vision.all_class_non_max_suppression(
            boxes, scores, relax.const(2, "int64"), relax.const(0.5, "float32"), relax.const(0.0, "float32")
        )

    mod = make_module(build, {"boxes": ((1, 6, 4), "float32"), "scores": ((1, 1, 6), "float32")})
    assert_rejected(mod, "relax.vision.all_class_non_max_suppression", "no exact TensorRT NMS equivalent")
