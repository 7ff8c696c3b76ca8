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
    assert_rejected(mod, "relax.mean", "touches the batch axis (axis 0) with use_implicit_batch=True", use_implicit_batch=True)
