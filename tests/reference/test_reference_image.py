"""Reference executor (tvm_trt.reference): resize, against independent NumPy expectations."""

import math

import numpy as np
import pytest
from reference_net import Net, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    trt = tensorrt.trt()


def _source(i, n_in, n_out, transform):
    if transform == "ALIGN_CORNERS":
        return i * (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    if transform == "ASYMMETRIC":
        return i * n_in / n_out
    return (i + 0.5) * n_in / n_out - 0.5


def naive_resize_2d(x, out_hw, mode, transform, rounding="FLOOR"):
    """Per-output-pixel loops over the two innermost dims."""
    h_in, w_in = x.shape[-2:]
    y = np.zeros(x.shape[:-2] + tuple(out_hw))
    round_fn = {
        "FLOOR": math.floor,
        "CEIL": math.ceil,
        "HALF_UP": lambda v: math.floor(v + 0.5),
        "HALF_DOWN": lambda v: math.ceil(v - 0.5),
    }[rounding]
    for i in range(out_hw[0]):
        for j in range(out_hw[1]):
            sy, sx = _source(i, h_in, out_hw[0], transform), _source(j, w_in, out_hw[1], transform)
            if mode == "NEAREST":
                yi = min(max(round_fn(sy), 0), h_in - 1)
                xj = min(max(round_fn(sx), 0), w_in - 1)
                y[..., i, j] = x[..., yi, xj]
            else:
                sy, sx = min(max(sy, 0), h_in - 1), min(max(sx, 0), w_in - 1)
                y0, x0 = int(math.floor(sy)), int(math.floor(sx))
                y1, x1 = min(y0 + 1, h_in - 1), min(x0 + 1, w_in - 1)
                fy, fx = sy - y0, sx - x0
                y[..., i, j] = (
                    x[..., y0, x0] * (1 - fy) * (1 - fx)
                    + x[..., y0, x1] * (1 - fy) * fx
                    + x[..., y1, x0] * fy * (1 - fx)
                    + x[..., y1, x1] * fy * fx
                )
    return y


RESIZE_CASES = {
    # id: (out H, W, mode, coordinate transformation, nearest rounding)
    "nearest_asymmetric_floor_up2": ((8, 10), "NEAREST", "ASYMMETRIC", "FLOOR"),
    "nearest_half_pixel_half_up_down": ((3, 4), "NEAREST", "HALF_PIXEL", "HALF_UP"),
    "nearest_half_pixel_half_down": ((6, 7), "NEAREST", "HALF_PIXEL", "HALF_DOWN"),
    "nearest_align_corners_ceil": ((7, 9), "NEAREST", "ALIGN_CORNERS", "CEIL"),
    "linear_half_pixel": ((7, 9), "LINEAR", "HALF_PIXEL", "FLOOR"),
    "linear_align_corners": ((8, 3), "LINEAR", "ALIGN_CORNERS", "FLOOR"),
    "linear_asymmetric": ((6, 11), "LINEAR", "ASYMMETRIC", "FLOOR"),
}


@pytest.mark.parametrize("case", list(RESIZE_CASES), ids=list(RESIZE_CASES))
def test_resize_2d(case):
    out_hw, mode, transform, rounding = RESIZE_CASES[case]
    x = rand(1, 2, 4, 5)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.shape = (1, 2) + out_hw
    layer.resize_mode = getattr(trt.InterpolationMode, mode)
    layer.coordinate_transformation = getattr(trt.ResizeCoordinateTransformation, transform)
    layer.nearest_rounding = getattr(trt.ResizeRoundMode, rounding)
    got = net.run(layer.get_output(0))
    np.testing.assert_allclose(got, naive_resize_2d(x, out_hw, mode, transform, rounding), rtol=1e-5, atol=1e-6)


def test_resize_scales_and_single_pixel_selector():
    x = rand(1, 1, 4, 6)
    net = Net()
    tx = net.input(x)
    scaled = net.network.add_resize(tx)
    scaled.scales = [1.0, 1.0, 2.0, 0.5]
    upper = net.network.add_resize(tx)
    upper.shape = (1, 1, 1, 1)
    upper.resize_mode = trt.InterpolationMode.LINEAR
    upper.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    upper.selector_for_single_pixel = trt.ResizeSelector.UPPER
    got_scaled, got_upper = net.run(scaled.get_output(0), upper.get_output(0))
    np.testing.assert_array_equal(got_scaled, naive_resize_2d(x, (8, 3), "NEAREST", "ASYMMETRIC"))
    np.testing.assert_array_equal(got_upper, x[:, :, :1, :1])


def test_resize_output_shape_from_tensor():
    x = rand(1, 2, 3, 3)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.set_input(1, net.const(np.array([1, 2, 6, 9], np.int64)))
    np.testing.assert_array_equal(net.run(layer.get_output(0)), x.repeat(2, axis=2).repeat(3, axis=3))


def test_resize_cubic_matches_keys_kernel():
    x = rand(1, 1, 4, 4)
    net = Net()
    layer = net.network.add_resize(net.input(x))
    layer.shape = (1, 1, 4, 7)  # only the width changes
    layer.resize_mode = trt.InterpolationMode.CUBIC
    layer.coordinate_transformation = trt.ResizeCoordinateTransformation.HALF_PIXEL
    got = net.run(layer.get_output(0))

    def keys(d, a=-0.75):
        d = abs(d)
        return ((a + 2) * d - (a + 3)) * d * d + 1 if d <= 1 else ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    expected = np.zeros((1, 1, 4, 7))
    for j in range(7):
        src = (j + 0.5) * 4 / 7 - 0.5
        base = math.floor(src)
        for tap in range(base - 1, base + 3):
            expected[..., j] += x[..., min(max(tap, 0), 3)] * keys(src - tap)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
