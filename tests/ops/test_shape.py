import numpy as np
import pytest
import tvm
from tvm import relax

from harness import assert_offloaded, assert_rejected, check_op, make_module, run_llvm, run_offloaded

R = relax.op
X = {"x": ((2, 3, 4, 5), "float32")}
N = tvm.tirx.Var("n", "int64")
XN = {"x": ((N, 3, 4, 5), "float32")}


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.reshape(x, (2, 12, 5)), id="reshape"),
        pytest.param(lambda x: R.nn.batch_flatten(x), id="batch_flatten"),
        pytest.param(lambda x: R.expand_dims(x, [1, -1]), id="expand_dims"),
        pytest.param(lambda x: R.squeeze(R.expand_dims(x, 2), [2]), id="squeeze"),
        pytest.param(lambda x: R.permute_dims(x, [0, 2, 3, 1]), id="permute_dims"),
        pytest.param(lambda x: R.concat([x, x], axis=-1), id="concat"),
        pytest.param(lambda x: R.layout_transform(x, lambda n, c, h, w: (n, h, w, c)), id="layout-nchw-nhwc"),
        pytest.param(lambda x: R.layout_transform(x, lambda n, h, w, c: (n, c, h, w)), id="layout-nhwc-nchw"),
        pytest.param(lambda x: R.nn.pad(x, [0, 0, 1, 0, 1, 2, 3, 4], "constant", 1.5), id="pad-constant-3d"),
        pytest.param(lambda x: R.nn.pad(x, [0, 0, 0, 0, 1, 2, 3, 1], "reflect"), id="pad-reflect"),
        pytest.param(lambda x: R.nn.pad(x, [0, 0, 0, 0, 1, 2, 3, 1], "replicate"), id="pad-replicate"),
        pytest.param(lambda x: R.nn.pad(x, [0, 0, 0, 0, 1, 2, 3, 1], "circular"), id="pad-circular"),
    ],
)
def test_shape_ops(build):
    check_op(build, X)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.reshape(x, (24, 5)), id="reshape"),
        pytest.param(lambda x: R.flatten(x), id="flatten"),
        pytest.param(lambda x: R.expand_dims(x, 0), id="expand_dims-0"),
        pytest.param(lambda x: R.permute_dims(x, [1, 0, 2, 3]), id="permute_dims"),
        pytest.param(lambda x: R.layout_transform(x, lambda n, c, h, w: (c, n, h, w)), id="layout"),
        pytest.param(lambda x: R.concat([x, x], axis=0), id="concat"),
        pytest.param(lambda x: R.nn.pad(x, [1, 1, 0, 0, 0, 0, 0, 0]), id="pad"),
    ],
)
def test_batch_axis_offloaded_without_implicit_batch(build):
    check_op(build, X, use_implicit_batch=False)


@pytest.mark.parametrize(
    "build,op,reason",
    [
        (lambda x: R.reshape(x, (24, 5)), "relax.reshape", "changes the batch axis"),
        (lambda x: R.flatten(x), "relax.flatten", "changes the batch axis"),
        (lambda x: R.expand_dims(x, 0), "relax.expand_dims", "expand_dims touches the batch axis"),
        (lambda x: R.squeeze(R.reshape(x, (1, 6, 4, 5)), [0]), "relax.squeeze", "squeeze touches the batch axis"),
        (lambda x: R.permute_dims(x, [1, 0, 2, 3]), "relax.permute_dims", "moves the batch axis"),
        (
            lambda x: R.layout_transform(x, lambda n, c, h, w: (c, n, h, w)),
            "relax.layout_transform",
            "moves the batch axis",
        ),
        (lambda x: R.concat([x, x], axis=0), "relax.concat", "concat touches the batch axis"),
        (lambda x: R.nn.pad(x, [1, 1, 0, 0, 0, 0, 0, 0]), "relax.nn.pad", "pad touches the batch axis"),
    ],
    ids=["reshape", "flatten", "expand_dims", "squeeze", "permute_dims", "layout", "concat", "pad"],
)
def test_batch_axis_rejected_with_implicit_batch(build, op, reason):
    assert_rejected(make_module(build, X), op, reason, use_implicit_batch=True)


def test_layout_transform_packing_rejected():
    mod = make_module(lambda x: R.layout_transform(x, lambda n, c, h, w: (n, c // 3, h, w, c % 3)), X)
    assert_rejected(mod, "relax.layout_transform", "not a pure permutation")


def test_pad_negative_rejected():
    mod = make_module(lambda x: R.nn.pad(x, [0, 0, 0, 0, -1, 0, 0, 0]), X)
    assert_rejected(mod, "relax.nn.pad", "negative pad widths")


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.nn.batch_flatten(x), id="batch_flatten"),
        pytest.param(lambda x: R.expand_dims(x, 1), id="expand_dims"),
        pytest.param(lambda x: R.nn.pad(x, [0, 0, 0, 0, 1, 1, 2, 0], "constant", -1.0), id="pad"),
        pytest.param(lambda x: R.permute_dims(x, [0, 3, 1, 2]), id="permute_dims"),
    ],
)
def test_symbolic_batch(build):
    """A symbolic batch dim stays free: the network computes it from the input's shape."""
    import numpy as np

    x = np.random.default_rng(0).standard_normal((3, 3, 4, 5)).astype("float32")
    check_op(build, XN, args=[x])


# ---- stack; int64 / bool data through the shape ops ------------------------------------------


@pytest.mark.parametrize("axis", [0, 2, -1])
def test_stack(axis):
    check_op(
        lambda a, b: R.stack([a, b, a], axis=axis),
        {"a": ((2, 3, 4), "float32"), "b": ((2, 3, 4), "float32")},
        use_implicit_batch=False,
    )


def test_stack_symbolic_batch():
    n = tvm.tirx.Var("n", "int64")
    import numpy as np

    from harness import assert_offloaded, run_llvm, run_offloaded

    mod = make_module(lambda a: R.stack([a, a], axis=1), {"a": ((n, 3), "float32")})
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    for batch in (1, 3):
        x = np.arange(batch * 3, dtype="float32").reshape(batch, 3)
        np.testing.assert_array_equal(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0])


def test_stack_batch_axis_rejected_with_implicit_batch():
    mod = make_module(lambda a: R.stack([a, a], axis=0), {"a": ((2, 3), "float32")})
    assert_rejected(mod, "relax.stack", "touches the batch axis", use_implicit_batch=True)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.reshape(x, (2, 12, 5)), id="reshape"),
        pytest.param(lambda x: R.expand_dims(x, [1]), id="expand_dims"),
        pytest.param(lambda x: R.permute_dims(x, [0, 2, 3, 1]), id="permute_dims"),
        pytest.param(lambda x: R.concat([x, x], axis=1), id="concat"),
        pytest.param(lambda x: R.squeeze(R.expand_dims(x, 2), [2]), id="squeeze"),
    ],
)
def test_shape_ops_int_and_bool(build, dtype):
    check_op(build, {"x": ((2, 3, 4, 5), dtype)}, rtol=0, atol=0)


def test_int64_reshape_rejected_before_trt10():
    mod = make_module(lambda x: R.reshape(x, (2, 60)), {"x": ((2, 3, 4, 5), "int64")})
    assert_rejected(mod, "relax.reshape", "int64 tensors need TensorRT >= 10.0.0", version=(8, 6, 1))


# ---- size ------------------------------------------------------------------------------------


def test_size_static():
    check_op(lambda x: R.add(R.astype(R.size(x), "float32"), R.sum(x)), {"x": ((2, 3, 4), "float32")})


def test_size_dynamic():
    n = tvm.tirx.Var("n", "int64")
    mod = make_module(lambda x: R.multiply(R.astype(x, "int64"), R.size(x)), {"x": ((2, n), "float32")})
    pmod = assert_offloaded(mod, use_implicit_batch=False)
    x = np.ones((2, 5), "float32")
    np.testing.assert_array_equal(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0])
