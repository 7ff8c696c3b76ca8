import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module
from tvm_trt.ops import activation

R = relax.op
X = {"x": ((2, 3, 4, 5), "float32")}
X16 = {"x": ((2, 3, 4, 5), "float16")}


def _alpha(n=3):
    return relax.const(np.array([0.1, -0.5, 2.0][:n], "float32"))


ACTIVATIONS = [
    pytest.param(lambda x: R.nn.relu(x), id="relu"),
    pytest.param(lambda x: R.sigmoid(x), id="sigmoid"),
    pytest.param(lambda x: R.tanh(x), id="tanh"),
    pytest.param(lambda x: R.nn.silu(x), id="silu"),
    pytest.param(lambda x: R.nn.gelu(x), id="gelu"),
    pytest.param(lambda x: R.nn.gelu_tanh(x), id="gelu_tanh"),
    pytest.param(lambda x: R.nn.leakyrelu(x, 0.1), id="leakyrelu-0.1"),
    pytest.param(lambda x: R.clip(x, -0.3, 0.5), id="clip"),
    pytest.param(lambda x: R.nn.softplus(x), id="softplus"),
    pytest.param(lambda x: R.nn.softplus(x, beta=2.0, threshold=40.0), id="softplus-beta2"),
    pytest.param(lambda x: R.nn.selu(x), id="selu"),
    pytest.param(lambda x: R.nn.prelu(x, _alpha()), id="prelu-axis1"),
    pytest.param(
        lambda x: R.nn.prelu(x, relax.const(np.linspace(-1, 1, 5).astype("float32")), axis=-1), id="prelu-axis-1"
    ),
    pytest.param(lambda x: R.nn.softmax(x, axis=-1), id="softmax-last"),
    pytest.param(lambda x: R.nn.softmax(x, axis=1), id="softmax-axis1"),
    pytest.param(lambda x: R.nn.log_softmax(x, axis=-1), id="log_softmax-last"),
    pytest.param(lambda x: R.nn.log_softmax(x, axis=2), id="log_softmax-axis2"),
    pytest.param(lambda x: R.nn.dropout(x, 0.5), id="dropout"),
]


@pytest.mark.parametrize("build", ACTIVATIONS)
def test_activation(build):
    check_op(build, X, args=[np.random.default_rng(3).uniform(-4, 4, (2, 3, 4, 5)).astype("float32")])


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.sigmoid(x), id="sigmoid"),
        pytest.param(lambda x: R.nn.silu(x), id="silu"),
        pytest.param(lambda x: R.nn.gelu(x), id="gelu"),
        pytest.param(lambda x: R.clip(x, -0.3, 0.5), id="clip"),
        pytest.param(lambda x: R.nn.softmax(x, axis=-1), id="softmax"),
        pytest.param(lambda x: R.nn.log_softmax(x, axis=-1), id="log_softmax"),
    ],
)
def test_activation_fp16(build):
    check_op(build, X16, rtol=2e-3, atol=2e-3)


def test_prelu_slope_as_input():
    check_op(lambda x, a: R.nn.prelu(x, a), {"x": ((2, 3, 4, 5), "float32"), "a": ((3,), "float32")})


def test_log_softmax_is_stable_for_large_spread():
    # log(softmax(x)) would give -inf here; the composition must stay finite and exact.
    x = np.array([[0.0, 90.0, -90.0, 5.0]], "float32")
    check_op(lambda v: R.nn.log_softmax(v, axis=-1), {"x": ((1, 4), "float32")}, args=[x])


@pytest.mark.parametrize(
    "build",
    [pytest.param(lambda x: R.nn.gelu(x), id="gelu"), pytest.param(lambda x: R.nn.gelu_tanh(x), id="gelu_tanh")],
)
def test_gelu_composition_without_fused_activation(build, monkeypatch):
    """Older TensorRT has no GELU activation: the composition must agree just as well."""
    monkeypatch.setattr(activation, "has_activation", lambda ctx, kind: False)
    check_op(build, {"x": ((3, 7), "float32")}, args=[np.linspace(-5, 5, 21, dtype="float32").reshape(3, 7)])


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
def test_softmax_over_batch_axis(op):
    build = lambda x: getattr(R.nn, op)(x, axis=0)  # noqa: E731
    assert_rejected(make_module(build, X), f"relax.nn.{op}", f"{op} touches the batch axis", use_implicit_batch=True)
    check_op(build, X, use_implicit_batch=False)


def test_prelu_along_batch_axis_rejected():
    build = lambda x: R.nn.prelu(x, relax.const(np.array([0.1, 0.2], "float32")), axis=0)  # noqa: E731
    assert_rejected(make_module(build, X), "relax.nn.prelu", "touches the batch axis", use_implicit_batch=True)
    check_op(build, X, use_implicit_batch=False)


def test_softplus_small_threshold_rejected():
    mod = make_module(lambda x: R.nn.softplus(x, threshold=5.0), X)
    assert_rejected(mod, "relax.nn.softplus", "threshold=5.0")


@pytest.mark.parametrize(
    "op,build,version,needs",
    [
        pytest.param("relax.clip", lambda x: R.clip(x, 0.0, 6.0), (5, 0, 0), "5.1.5", id="clip"),
        pytest.param("relax.nn.leakyrelu", lambda x: R.nn.leakyrelu(x, 0.2), (5, 1, 0), "5.1.5", id="leakyrelu"),
        pytest.param("relax.nn.selu", lambda x: R.nn.selu(x), (5, 0, 0), "5.1.5", id="selu"),
        pytest.param("relax.nn.gelu", lambda x: R.nn.gelu(x), (6, 0, 0), "7.0.0", id="gelu"),
        pytest.param("relax.nn.prelu", lambda x: R.nn.prelu(x, _alpha()), (7, 1, 3), "8.0.0", id="prelu"),
    ],
)
def test_version_gate(op, build, version, needs):
    assert_rejected(make_module(build, X), op, f"needs TensorRT >= {needs}", version=version)
    assert_offloaded(make_module(build, X), version=tuple(int(p) for p in needs.split(".")))


def test_dropout_mask_with_symbolic_batch():
    """With a free batch dim the mask of ones cannot be a constant: it is shaped from x at run
    time, and stays all ones where x is NaN."""
    n = tvm.tirx.Var("n", "int64")
    x = np.random.default_rng(0).standard_normal((3, 4)).astype("float32")
    x[1, 2] = np.nan
    check_op(lambda v: relax.TupleGetItem(R.nn.dropout(v, 0.5), 1), {"x": ((n, 4), "float32")}, args=[x])
