import dataclasses

import numpy as np
import pytest
import tvm
from tvm import relax

from harness import (
    assert_offloaded,
    assert_rejected,
    check_op,
    make_module,
    random_inputs,
    reasons,
    run_llvm,
    run_offloaded,
)

R = relax.op
X = {"x": ((2, 3, 4, 5), "float32")}
N = tvm.tirx.Var("n", "int64")


@pytest.mark.parametrize(
    "axes,begin,end,strides",
    [
        pytest.param([1], [1], [3], None, id="4-args"),
        pytest.param([1, 3], [0, 4], [2, 0], [1, -2], id="negative-stride"),
        pytest.param([-1, 2], [-3, 0], [100, 4], [2, 3], id="clamped-end"),
    ],
)
def test_strided_slice(axes, begin, end, strides):
    check_op(lambda x: R.strided_slice(x, axes, begin, end, strides), X)


@pytest.mark.parametrize(
    "sections,axis",
    [pytest.param(3, 1, id="sections"), pytest.param([1, 3], -2, id="indices"), pytest.param([2], 3, id="two")],
)
def test_split(sections, axis):
    check_op(lambda x: R.split(x, sections, axis=axis), X)


def test_split_items_feed_other_ops():
    """TupleGetItem stays inside the subgraph next to the split."""
    inputs = {"x": ((2, 3, 4, 6), "float32")}
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([2, 3, 4, 6], "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            parts = bb.emit(R.split(x, 2, axis=3))
            a, b = bb.emit(relax.TupleGetItem(parts, 1)), bb.emit(relax.TupleGetItem(parts, 0))
            out = bb.emit_output(R.concat([a, b], axis=3))
        bb.emit_func_output(out)
    mod = bb.get()
    pmod = assert_offloaded(mod)
    args = random_inputs(inputs)
    np.testing.assert_array_equal(run_offloaded(pmod, args)[0], run_llvm(mod, args)[0])


@pytest.mark.parametrize("dtype", ["int32", "int64"])
def test_take_tensor_indices(dtype):
    inputs = {"x": ((2, 3, 4), "float32"), "i": ((2, 5), dtype)}
    args = random_inputs(inputs)
    args[1] = np.array([[0, 2, 1, 1, 2], [2, 2, 0, 1, 0]], dtype)
    check_op(lambda x, i: R.take(x, i, axis=1), inputs, args=args)


@pytest.mark.parametrize(
    "indices,mode",
    [([0, 3, 2, 3], "fast"), ([-1, 5, 1], "wrap"), ([-1, 7, 2], "clip")],
    ids=["fast", "wrap", "clip"],
)
def test_take_constant_indices(indices, mode):
    idx = relax.const(np.array(indices, "int64"))
    check_op(lambda x: R.take(x, idx, axis=-1, mode=mode), {"x": ((2, 3, 4), "float32")})


def test_take_scalar_index():
    check_op(lambda x: R.take(x, relax.const(np.array(2, "int32")), axis=2), X)


@pytest.mark.parametrize(
    "shape,target,implicit",
    [
        pytest.param((3, 1), (2, 3, 4), False, id="rank-up"),
        pytest.param((2, 1, 5), (2, 4, 5), True, id="same-rank"),
    ],
)
def test_broadcast_to(shape, target, implicit):
    check_op(lambda x: R.broadcast_to(x, target), {"x": (shape, "float32")}, use_implicit_batch=implicit)


@pytest.mark.parametrize(
    "repeats,implicit",
    [
        pytest.param((2, 3), True, id="inner"),
        pytest.param((2, 1, 1, 2), False, id="batch"),
        pytest.param((2, 1, 1, 1, 1), False, id="rank-up"),
    ],
)
def test_tile(repeats, implicit):
    check_op(lambda x: R.tile(x, repeats), X, use_implicit_batch=implicit)


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.strided_slice(x, [0], [0], [1]), id="strided_slice"),
        pytest.param(lambda x: R.split(x, 2, axis=0), id="split"),
        pytest.param(lambda x: R.take(x, relax.const(np.array([1, 0], "int64")), axis=0), id="take"),
    ],
)
def test_batch_axis_offloaded_without_implicit_batch(build):
    check_op(build, X, use_implicit_batch=False)


@pytest.mark.parametrize(
    "build,op,reason",
    [
        (lambda x: R.strided_slice(x, [0], [0], [1]), "relax.strided_slice", "strided_slice touches the batch axis"),
        (lambda x: R.split(x, 2, axis=0), "relax.split", "split touches the batch axis"),
        (lambda x: R.take(x, relax.const(np.array([1, 0], "int64")), axis=0), "relax.take", "take touches the batch"),
        (lambda x: R.broadcast_to(x, (2, 2, 3, 4, 5)), "relax.broadcast_to", "changes the batch axis"),
        (lambda x: R.tile(x, (2, 1, 1, 1)), "relax.tile", "repeats the batch axis"),
    ],
    ids=["strided_slice", "split", "take", "broadcast_to", "tile"],
)
def test_batch_axis_rejected_with_implicit_batch(build, op, reason):
    assert_rejected(make_module(build, X), op, reason, use_implicit_batch=True)


@pytest.mark.parametrize("dtype", ["int32", "int64", "bool"])
def test_take_int_and_bool_data(dtype):
    """Gathers of ids and masks (GPT-2 takes rows of a bool causal mask)."""
    inputs = {"x": ((2, 3), dtype), "i": ((2,), "int64")}
    args = random_inputs(inputs)
    args[1] = np.array([2, 0], "int64")
    check_op(lambda x, i: R.take(x, i, axis=1), inputs, args=args, rtol=0, atol=0)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.strided_slice(x, [1, 3], [0, 4], [2, 0], [1, -2]), id="strided_slice"),
        pytest.param(lambda x: R.broadcast_to(R.strided_slice(x, [1], [0], [1]), (2, 3, 4, 5)), id="broadcast_to"),
        pytest.param(lambda x: R.tile(x, [1, 2, 1, 1]), id="tile"),
    ],
)
def test_index_ops_int64_and_bool(build, dtype):
    check_op(build, {"x": ((2, 3, 4, 5), dtype)}, rtol=0, atol=0)


def test_gates_below_5_1_5():
    mod = make_module(lambda x: R.strided_slice(x, [1], [1], [3]), X)
    assert_rejected(mod, "relax.strided_slice", "needs TensorRT >= 5.1.5", version=(5, 1, 0))
    mod = make_module(lambda x: R.split(x, 2, axis=3), {"x": ((2, 3, 4, 6), "float32")})
    assert_rejected(mod, "relax.split", "needs TensorRT >= 5.1.5", version=(5, 0, 2))


@pytest.mark.parametrize(
    "build",
    [
        pytest.param(lambda x: R.strided_slice(x, [2], [1], [3]), id="strided_slice"),
        pytest.param(lambda x: R.split(x, [1, 3], axis=3), id="split"),
        pytest.param(lambda x: R.take(x, relax.const(np.array([3, 0], "int64")), axis=3), id="take"),
        pytest.param(lambda x: R.tile(x, (1, 1, 2)), id="tile"),
    ],
)
def test_symbolic_batch(build):
    x = np.random.default_rng(0).standard_normal((3, 3, 4, 5)).astype("float32")
    check_op(build, {"x": ((N, 3, 4, 5), "float32")}, args=[x])


def test_broadcast_constant_to_symbolic_batch():
    """BERT's token-type ids under a dynamic batch: a constant row broadcast to (batch, seq)."""
    n = tvm.tirx.Var("n", "int64")
    row = relax.const(np.array([[0, 1, 1]], "int64"))
    build = lambda x: R.add(x, R.astype(R.broadcast_to(row, relax.ShapeExpr([n, 3])), "float32"))  # noqa: E731
    mod = make_module(build, {"x": ((n, 3), "float32")})
    pmod = assert_offloaded(mod)
    for batch in (1, 4):
        x = np.arange(batch * 3, dtype="float32").reshape(batch, 3)
        np.testing.assert_array_equal(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0])


@pytest.mark.parametrize(
    "build",
    [lambda x: R.broadcast_to(x, ()), lambda x: R.tile(x, ())],
    ids=["broadcast_to-0d", "tile-0d"],
)
def test_scalar_with_implicit_batch(build):
    """0-d tensors have no batch axis (the predicates once indexed axis 0 of an empty shape)."""
    got = reasons(make_module(build, {"x": ((), "float32")}), use_implicit_batch=True)
    assert not any("raised" in (r or "") for r in got.values()), got


def test_predicate_errors_leave_the_op_in_tvm(monkeypatch):
    from tvm_trt.core import registry

    entry = registry.get("relax.nn.relu")

    def broken(call, opts):
        raise IndexError("list index out of range")

    monkeypatch.setitem(registry._REGISTRY, "relax.nn.relu", dataclasses.replace(entry, check=broken))
    assert_rejected(
        make_module(lambda x: R.nn.relu(x), X), "relax.nn.relu", "predicate of relax.nn.relu raised IndexError"
    )
