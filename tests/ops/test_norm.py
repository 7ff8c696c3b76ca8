import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module
from tvm_trt.ops import norm

R = relax.op
_rng = np.random.default_rng(11)


def _c(shape, dtype="float32", low=0.5, high=1.5):
    return relax.const(_rng.uniform(low, high, shape).astype(dtype))


def test_batch_norm():
    c = 3
    build = lambda x: relax.TupleGetItem(  # noqa: E731
        R.nn.batch_norm(
            x, _c(c), _c(c, low=-1, high=1), _c(c, low=-1, high=1), _c(c), axis=1, epsilon=1e-3, training=False
        ),
        0,
    )
    check_op(build, {"x": ((2, c, 4, 4), "float32")})


@pytest.mark.parametrize("center,scale", [(True, True), (False, False)], ids=["affine", "no_affine"])
def test_batch_norm_statistics_as_inputs(center, scale):
    """Tensor gamma/beta/mean/var (ONNX graph inputs) take the elementwise path, not folded weights."""
    c = 3
    inputs = {"x": ((2, c, 4, 5), "float32"), **{n: ((c,), "float32") for n in ("g", "b", "m", "v")}}
    build = lambda x, g, b, m, v: relax.TupleGetItem(  # noqa: E731
        R.nn.batch_norm(x, g, b, m, R.abs(v), axis=1, epsilon=1e-2, center=center, scale=scale, training=False),
        0,
    )
    check_op(build, inputs)


# ---- layer norm -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,axes",
    [
        pytest.param((2, 5, 8), [-1], id="last"),
        pytest.param((2, 3, 4, 5), [-2, -1], id="last2"),
        pytest.param((2, 6, 3), [1], id="middle"),
    ],
)
def test_layer_norm(shape, axes):
    gshape = [shape[a] for a in axes]
    build = lambda x: R.nn.layer_norm(x, _c(gshape), _c(gshape, low=-1), axes)  # noqa: E731
    check_op(build, {"x": (shape, "float32")})


def test_layer_norm_fp16():
    check_op(
        lambda x: R.nn.layer_norm(x, _c(8, "float16"), _c(8, "float16"), [-1]),
        {"x": ((2, 5, 8), "float16")},
        rtol=5e-3,
        atol=5e-3,
    )


def test_layer_norm_affine_as_inputs():
    inputs = {"x": ((2, 5, 8), "float32"), "g": ((8,), "float32"), "b": ((8,), "float32")}
    check_op(lambda x, g, b: R.nn.layer_norm(x, g, b, [-1]), inputs)


def test_layer_norm_composition_without_normalization_layer(monkeypatch):
    """TensorRT < 8.6 has no INormalizationLayer: the reduce-based composition must agree."""
    monkeypatch.setattr(norm, "has_normalization_layer", lambda ctx: False)
    check_op(lambda x: R.nn.layer_norm(x, _c((3, 7)), _c((3, 7), low=-1), [-2, -1]), {"x": ((2, 3, 7), "float32")})


def test_layer_norm_over_batch_axis():
    build = lambda x: R.nn.layer_norm(x, _c((2, 8)), _c((2, 8)), [0, 1])  # noqa: E731
    assert_rejected(
        make_module(build, {"x": ((2, 8), "float32")}),
        "relax.nn.layer_norm",
        "touches the batch axis",
        use_implicit_batch=True,
    )
    check_op(build, {"x": ((2, 8), "float32")}, use_implicit_batch=False)


@pytest.mark.parametrize(
    "op,build",
    [
        pytest.param("relax.nn.layer_norm", lambda x: R.nn.layer_norm(x, _c(4), _c(4), [-1], center=False), id="layer"),
        pytest.param(
            "relax.nn.group_norm", lambda x: R.nn.group_norm(x, _c(4), _c(4), 2, 1, [2, 3], scale=False), id="group"
        ),
    ],
)
def test_affine_flags_rejected(op, build):
    # TVM's own lowering applies gamma/beta regardless of center/scale: ambiguous, kept in TVM.
    assert_rejected(make_module(build, {"x": ((2, 4, 3, 4), "float32")}), op, "TVM itself ignores the flag")


@pytest.mark.parametrize("neutral", ["filled", "constant"])
def test_group_norm_flags_off_with_neutral_affine(neutral):
    """ONNX GroupNormalization-21 as TVM imports it: center/scale off, gamma/beta from
    ones_like/zeros_like, the affine applied after; both readings of the flags agree, so it is offloaded."""

    def build(x, s, b):
        ones = R.ones_like(s) if neutral == "filled" else relax.const(np.ones(4, "float32"))
        zeros = R.zeros_like(b) if neutral == "filled" else relax.const(np.zeros(4, "float32"))
        y = R.nn.group_norm(x, ones, zeros, 2, 1, [2, 3], center=False, scale=False)
        return R.add(R.multiply(y, R.reshape(s, (4, 1, 1))), R.reshape(b, (4, 1, 1)))

    batch = 2 if neutral == "filled" else 3  # distinct networks: each builds its own plan
    check_op(build, {"x": ((batch, 4, 3, 5), "float32"), "s": ((4,), "float32"), "b": ((4,), "float32")})


@pytest.mark.parametrize(
    "dtype,tol", [pytest.param("float32", 1e-4, id="f32"), pytest.param("float16", 5e-3, id="f16")]
)
def test_rms_norm(dtype, tol):
    check_op(lambda x: R.nn.rms_norm(x, _c(8, dtype), [-1]), {"x": ((2, 5, 8), dtype)}, rtol=tol, atol=tol)


# ---- group / instance norm ------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape,groups",
    [
        pytest.param((2, 4, 5, 5), 2, id="g2"),
        pytest.param((2, 4, 5, 5), 1, id="g1"),
        pytest.param((2, 4, 5, 5), 4, id="g4"),
        pytest.param((2, 6, 7), 3, id="1d"),
        pytest.param((1, 4, 3, 3, 3), 2, id="3d"),
    ],
)
def test_group_norm(shape, groups):
    c = shape[1]
    axes = list(range(2, len(shape)))
    build = lambda x: R.nn.group_norm(x, _c(c), _c(c, low=-1), groups, 1, axes)  # noqa: E731
    check_op(build, {"x": (shape, "float32")})


def test_group_norm_fp16():
    check_op(
        lambda x: R.nn.group_norm(x, _c(4, "float16"), _c(4, "float16"), 2, 1, [2, 3]),
        {"x": ((2, 4, 5, 5), "float16")},
        rtol=5e-3,
        atol=5e-3,
    )


def test_instance_norm():
    check_op(lambda x: R.nn.instance_norm(x, _c(3), _c(3, low=-1), 1, [2, 3]), {"x": ((2, 3, 4, 6), "float32")})


@pytest.mark.parametrize(
    "channel_axis,axes,reason",
    [
        pytest.param(-1, [1, 2], "channel_axis=-1", id="nhwc"),
        pytest.param(1, [3], "axes=[3]", id="partial-axes"),
    ],
)
def test_group_norm_rejected(channel_axis, axes, reason):
    c = 4
    mod = make_module(
        lambda x: R.nn.group_norm(x, _c(c), _c(c), 2, channel_axis, axes), {"x": ((2, 4, 4, 4), "float32")}
    )
    assert_rejected(mod, "relax.nn.group_norm", reason)


def test_group_norm_version_gate():
    mod = make_module(lambda x: R.nn.group_norm(x, _c(4), _c(4), 2, 1, [2, 3]), {"x": ((2, 4, 5, 5), "float32")})
    assert_rejected(mod, "relax.nn.group_norm", "needs TensorRT >= 8.6.0", version=(8, 5, 3))
    assert_offloaded(mod, version=(8, 6, 0))


def test_layer_and_group_norm_with_symbolic_batch():
    n = tvm.tirx.Var("n", "int64")
    x = _rng.standard_normal((3, 4, 5)).astype("float32")
    build = lambda v: R.nn.group_norm(R.nn.layer_norm(v, _c(5), _c(5), [-1]), _c(4), _c(4), 2, 1, [2])  # noqa: E731
    check_op(build, {"x": ((n, 4, 5), "float32")}, args=[x])
