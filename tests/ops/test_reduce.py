import numpy as np
import pytest
from tvm import relax

from harness import assert_rejected, check_op, make_module, random_inputs

R = relax.op
X = {"x": ((2, 3, 4, 5), "float32")}
OPS = ["sum", "prod", "max", "min", "mean"]


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize(
    "axis,keepdims",
    [
        pytest.param([1], False, id="axis1"),
        pytest.param([-1, 2], True, id="neg-axes-keepdims"),
        pytest.param([1, 2, 3], False, id="all-but-batch"),
    ],
)
def test_reduce(op, axis, keepdims):
    # inputs near 1 keep prod well conditioned
    check_op(lambda x: getattr(R, op)(x, axis, keepdims), X, args=random_inputs(X, low=0.5, high=1.5))


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("keepdims", [False, True], ids=["scalar", "keepdims"])
def test_reduce_all_axes_without_implicit_batch(op, keepdims):
    args = random_inputs(X, low=0.9, high=1.1)
    check_op(lambda x: getattr(R, op)(x, None, keepdims), X, args=args, use_implicit_batch=False)


@pytest.mark.parametrize("axis", [None, [0], [-4, 1]], ids=["none", "axis0", "neg-axis0"])
def test_reduce_batch_axis_rejected(axis):
    mod = make_module(lambda x: R.mean(x, axis), X)
    assert_rejected(
        mod, "relax.mean", "touches the batch axis (axis 0) with use_implicit_batch=True", use_implicit_batch=True
    )


# ---- cumsum ----------------------------------------------------------------------------------

CUMSUM_VERSION = (10, 4, 0)  # ICumulativeLayer


@pytest.mark.parametrize(
    "dtype,axis,exclusive",
    [
        pytest.param("float32", 1, False, id="f32"),
        pytest.param("float32", -1, True, id="f32-exclusive"),
        pytest.param("int64", 1, False, id="i64-position-ids"),
        pytest.param("int32", 2, False, id="i32"),
    ],
)
def test_cumsum(dtype, axis, exclusive):
    check_op(
        lambda x: R.cumsum(x, axis=axis, exclusive=exclusive),
        {"x": ((2, 6, 3), dtype)},
        version=CUMSUM_VERSION,
        rtol=1e-5,
        atol=1e-5,
    )


def test_cumsum_gated():
    mod = make_module(lambda x: R.cumsum(x, axis=1), {"x": ((2, 6), "float32")})
    assert_rejected(mod, "relax.cumsum", "needs TensorRT >= 10.4.0", version=(10, 0, 0))


def test_cumsum_offloaded_at_the_installed_api_level():
    """Position ids from a padding mask (XLM-RoBERTa, OPT): with the default target, the installed TensorRT's
    API level, which for TensorRT-RTX is read from its network methods (it has ICumulativeLayer)."""
    from tvm_trt.core import tensorrt

    if tensorrt.flavour() == "tensorrt-rtx":
        assert tensorrt.capability_version() >= CUMSUM_VERSION
    check_op(lambda x: R.cumsum(x, axis=1), {"x": ((1, 16), "int64")})


def test_api_level_from_network_methods():
    from tvm_trt.core.tensorrt import api_level

    assert api_level(type("Net", (), {})) == (10, 0, 0)
    assert api_level(type("Net", (), {"add_cumulative": None})) == (10, 4, 0)
    assert api_level(type("Net", (), {"add_cumulative": None, "add_squeeze": None})) == (10, 7, 0)


def test_cumsum_flattened_rejected():
    mod = make_module(lambda x: R.cumsum(x), {"x": ((2, 6), "float32")})
    assert_rejected(mod, "relax.cumsum", "without an axis", version=CUMSUM_VERSION)


def test_any_through_int8_max():
    """torch.export's any() (ViT's safe softmax): bool -> int8 -> max -> bool."""
    check_op(
        lambda x: R.astype(R.max(R.astype(R.greater(x, relax.const(0.0)), "int8"), axis=[-1], keepdims=True), "bool"),
        {"x": ((2, 3, 5), "float32")},
    )


def test_int8_max_gated_before_trt10():
    mod = make_module(lambda x: R.max(x, axis=[-1]), {"x": ((2, 3, 5), "int8")})
    assert_rejected(mod, "relax.max", "int8 values (not quantized) need TensorRT >= 10.0.0", version=(8, 6, 1))


# ---- variance (normalisations written as mean/variance) --------------------------------------


@pytest.mark.parametrize(
    "axis,keepdims",
    [pytest.param([-1], True, id="last-keepdims"), pytest.param([1, 2], False, id="two-axes")],
)
def test_variance(axis, keepdims):
    check_op(lambda x: R.variance(x, axis, keepdims), X, args=random_inputs(X, low=-3.0, high=5.0))


def test_variance_layer_norm_by_hand():
    """(x - mean) / sqrt(var + eps): the shape TVM's importer gives a hand-written normalisation."""

    def build(x):
        centred = R.subtract(x, R.mean(x, [-1], True))
        return R.divide(centred, R.sqrt(R.add(R.variance(x, [-1], True), relax.const(1e-5))))

    check_op(build, X)


def test_variance_batch_axis_rejected():
    mod = make_module(lambda x: R.variance(x, [0]), X)
    assert_rejected(mod, "relax.variance", "touches the batch axis", use_implicit_batch=True)


# ---- argmax / argmin (TopK) ------------------------------------------------------------------


@pytest.mark.parametrize("op", ["argmax", "argmin"])
@pytest.mark.parametrize(
    "axis,keepdims,dtype",
    [
        pytest.param(1, False, "float32", id="axis1"),
        pytest.param(-1, True, "float32", id="last-keepdims"),
        pytest.param(None, False, "float32", id="flattened"),
        pytest.param(None, True, "float32", id="flattened-keepdims"),
        pytest.param(2, False, "int32", id="int32"),
        pytest.param(2, True, "int64", id="int64"),
    ],
)
def test_arg_reduce(op, axis, keepdims, dtype):
    inputs = {"x": ((2, 3, 4, 5), dtype)}
    rng = np.random.default_rng(1)
    args = [rng.permutation(120).reshape(2, 3, 4, 5).astype(dtype)]  # distinct values: no ties
    check_op(lambda x: getattr(R, op)(x, axis, keepdims), inputs, args=args, use_implicit_batch=False)


def test_argmax_batch_axis_rejected():
    mod = make_module(lambda x: R.argmax(x, 0), X)
    assert_rejected(mod, "relax.argmax", "touches the batch axis", use_implicit_batch=True)


def test_argmax_1d():
    check_op(lambda x: R.argmax(x, 0, True), {"x": ((7,), "float32")}, use_implicit_batch=False)


@pytest.mark.parametrize("op", ["sum", "prod", "max", "min"])
@pytest.mark.parametrize("dtype", ["int32", "int64", "int8"])
def test_reduce_integers(op, dtype):
    inputs = {"x": ((2, 3, 4), dtype)}
    args = [np.random.default_rng(2).integers(-3, 4, size=(2, 3, 4)).astype(dtype)]
    check_op(lambda x: getattr(R, op)(x, [-1], False), inputs, args=args)


# ---- topk ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "k,axis,ret_type,largest,dtype,shape",
    [
        pytest.param(2, -1, "both", True, "float32", (2, 3, 5), id="both-largest"),
        pytest.param(3, 1, "values", False, "float32", (2, 4, 5), id="values-smallest"),
        pytest.param(1, -1, "indices", True, "int32", (2, 6), id="indices-int32"),
        pytest.param(3, 0, "both", True, "float32", (7,), id="1d"),
    ],
)
def test_topk(k, axis, ret_type, largest, dtype, shape):
    n = int(np.prod(shape))
    args = [np.random.default_rng(5).permutation(n).reshape(shape).astype(dtype)]  # no ties
    check_op(
        lambda x: R.topk(x, k, axis, ret_type, largest, "int64"),
        {"x": (shape, dtype)},
        args=args,
        use_implicit_batch=False,
    )


def test_topk_large_k_rejected():
    mod = make_module(lambda x: R.topk(x, 4000, -1), {"x": ((2, 5000), "float32")})
    assert_rejected(mod, "relax.topk", "k=4000", use_implicit_batch=False)
