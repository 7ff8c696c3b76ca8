"""Reference executor (tvm_trt.reference): pooling, against independent NumPy expectations."""

import numpy as np
import pytest
from reference_net import configure_layer, Net, naive_pool, rand

from tvm_trt.core import tensorrt

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

if tensorrt.available():
    trt = tensorrt.trt()


def pool_case(shape, kind, window, pre, post, out, **settings):
    """A pooling case: layer settings plus the explicit padding and output size they imply."""
    exclude = settings.get("average_count_excludes_padding", True)
    return shape, kind, window, settings, pre, post, out, exclude


POOL_CASES = {
    "max_3x3_s2_p1": pool_case(
        (2, 3, 8, 8), "MAX", (3, 3), (1, 1), (1, 1), (4, 4), stride_nd=(2, 2), padding_nd=(1, 1)
    ),
    "max_asymmetric": pool_case(
        (1, 2, 5, 6), "MAX", (2, 3), (1, 0), (0, 2), (5, 6), pre_padding=(1, 0), post_padding=(0, 2)
    ),
    "avg_exclude_padding": pool_case((1, 2, 6, 6), "AVERAGE", (3, 3), (1, 1), (1, 1), (6, 6), padding_nd=(1, 1)),
    "avg_include_padding": pool_case(
        (1, 2, 6, 6), "AVERAGE", (3, 3), (1, 1), (1, 1), (6, 6), padding_nd=(1, 1), average_count_excludes_padding=False
    ),
    # (7 - 3) / 2 is exact, so rounding up changes nothing here...
    "max_ceil_exact": pool_case(
        (1, 2, 7, 7), "MAX", (3, 3), (0, 0), (0, 0), (3, 3), stride_nd=(2, 2), padding_mode="EXPLICIT_ROUND_UP"
    ),
    # ...but ceil((8 - 3) / 2) + 1 = 4 windows: the last one runs past the input.
    "max_ceil_overhang": pool_case(
        (1, 2, 8, 8), "MAX", (3, 3), (0, 0), (0, 0), (4, 4), stride_nd=(2, 2), padding_mode="EXPLICIT_ROUND_UP"
    ),
    # ceil((4 + 2 - 3) / 2) + 1 = 3 windows; the overhang is not counted even when padding is.
    "avg_ceil_include_padding": pool_case(
        (1, 2, 4, 4),
        "AVERAGE",
        (3, 3),
        (1, 1),
        (1, 1),
        (3, 3),
        stride_nd=(2, 2),
        padding_nd=(1, 1),
        padding_mode="EXPLICIT_ROUND_UP",
        average_count_excludes_padding=False,
    ),
    "avg_ceil_exclude_padding": pool_case(
        (1, 2, 4, 4),
        "AVERAGE",
        (3, 3),
        (1, 1),
        (1, 1),
        (3, 3),
        stride_nd=(2, 2),
        padding_nd=(1, 1),
        padding_mode="EXPLICIT_ROUND_UP",
    ),
    # in 8, window 3, stride 2: 4 outputs need one pad element, after (UPPER) or before (LOWER).
    "max_same_upper": pool_case(
        (1, 2, 8, 8), "MAX", (3, 3), (0, 0), (1, 1), (4, 4), stride_nd=(2, 2), padding_mode="SAME_UPPER"
    ),
    "avg_same_lower_include_padding": pool_case(
        (1, 2, 8, 8),
        "AVERAGE",
        (3, 3),
        (1, 1),
        (0, 0),
        (4, 4),
        stride_nd=(2, 2),
        padding_mode="SAME_LOWER",
        average_count_excludes_padding=False,
    ),
    "global_avg": pool_case((2, 4, 7, 7), "AVERAGE", (7, 7), (0, 0), (0, 0), (1, 1)),
    "avg_default_stride_is_one": pool_case((1, 2, 5, 5), "AVERAGE", (2, 2), (0, 0), (0, 0), (4, 4)),
}


@pytest.mark.parametrize("case", list(POOL_CASES), ids=list(POOL_CASES))
def test_pooling_2d(case):
    shape, kind, window, settings, pre, post, out, exclude = POOL_CASES[case]
    x = rand(*shape)
    net = Net()
    layer = net.network.add_pooling_nd(net.input(x), getattr(trt.PoolingType, kind), window)
    configure_layer(layer, settings)
    got = net.run(layer.get_output(0))
    stride = settings.get("stride_nd", (1,) * len(window))
    expected = naive_pool(x, window, stride, pre, post, out, kind.lower(), exclude)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_pooling_3d_average_and_blend():
    x = rand(1, 2, 4, 6, 5)
    net = Net()
    avg = net.network.add_pooling_nd(net.input(x), trt.PoolingType.AVERAGE, (2, 3, 2))
    avg.stride_nd = (2, 2, 1)
    avg.padding_nd = (0, 1, 1)
    avg.average_count_excludes_padding = False
    blend = net.network.add_pooling_nd(net.network.get_input(0), trt.PoolingType.MAX_AVERAGE_BLEND, (2, 2, 2))
    blend.stride_nd = (2, 2, 2)
    blend.blend_factor = 0.25
    got_avg, got_blend = net.run(avg.get_output(0), blend.get_output(0))
    expected_avg = naive_pool(x, (2, 3, 2), (2, 2, 1), (0, 1, 1), (0, 1, 1), (2, 3, 6), "avg", False)
    np.testing.assert_allclose(got_avg, expected_avg, rtol=1e-5, atol=1e-6)
    mx = naive_pool(x, (2, 2, 2), (2, 2, 2), (0,) * 3, (0,) * 3, (2, 3, 2), "max")
    av = naive_pool(x, (2, 2, 2), (2, 2, 2), (0,) * 3, (0,) * 3, (2, 3, 2), "avg")
    np.testing.assert_allclose(got_blend, 0.75 * mx + 0.25 * av, rtol=1e-5, atol=1e-6)
