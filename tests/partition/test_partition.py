"""Partition semantics: what is offloaded, what stays in TVM and why, and what the config carries."""

import json
import pathlib
import re

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import (
    assert_offloaded,
    assert_rejected,
    check_op,
    make_module,
    reasons,
    remaining_ops,
    run_llvm,
    run_offloaded,
)
from tvm_trt import partition as part
from tvm_trt.core import registry

R = relax.op
W_NP = np.random.default_rng(1).standard_normal((4, 3, 3, 3)).astype("float32") * 0.2
W = relax.const(W_NP)


def _chain(x):
    """relu -> [sum over the batch axis stays in TVM] -> conv2d -> relu: one subgraph without
    multiply-accumulate, one with."""
    bb = relax.BlockBuilder.current()
    t = bb.emit(R.nn.relu(x))
    s = bb.emit(R.sum(t, [0], keepdims=True))
    c = bb.emit(R.nn.conv2d(s, W, padding=(1, 1)))
    return R.nn.relu(c)


@pytest.mark.parametrize("remove", [True, False], ids=["remove", "keep"])
def test_remove_no_mac_subgraphs(remove):
    mod = make_module(_chain, {"x": ((2, 3, 8, 8), "float32")})
    pmod, config = tvm_trt.partition_for_tensorrt(mod, remove_no_mac_subgraphs=remove, use_implicit_batch=True)
    funcs = part.offloaded_functions(pmod)
    ops = sorted(c.op.name for f in funcs.values() for c in tvm_trt.core.graph.op_calls(f))
    left = sorted(c.op.name for c in remaining_ops(pmod))
    if remove:  # the first relu goes back to TVM
        assert ops == ["relax.nn.conv2d", "relax.nn.relu"] and left == ["relax.nn.relu", "relax.sum"]
    else:
        assert len(funcs) == 2 and ops == ["relax.nn.conv2d", "relax.nn.relu", "relax.nn.relu"]
        assert left == ["relax.sum"]
    assert config["remove_no_mac_subgraphs"] is remove
    x = np.random.default_rng(0).standard_normal((2, 3, 8, 8)).astype("float32")
    np.testing.assert_allclose(run_offloaded(pmod, [x])[0], run_llvm(mod, [x])[0], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize(
    "dtype,op,build,reason",
    [
        # TensorRT has no 16-bit integer type
        pytest.param("int16", "relax.add", lambda x: R.add(x, x), "dtype int16 is not supported", id="int16"),
        pytest.param(
            "float64", "relax.nn.relu", lambda x: R.nn.relu(x), "TensorRT has no 64-bit float type", id="float64"
        ),
    ],
)
def test_unsupported_dtype_stays_in_tvm(dtype, op, build, reason):
    mod = make_module(build, {"x": ((2, 3), dtype)})
    assert_rejected(mod, op, reason)


def test_dynamic_non_batch_dim_offloaded_unless_implicit_batch():
    m = tvm.tirx.Var("m", "int64")
    mod = make_module(lambda x: R.nn.relu(x), {"x": ((2, m, 4), "float32")})
    assert_offloaded(mod)  # explicit-batch networks: optimization profiles serve any axis
    assert_rejected(mod, "relax.nn.relu", "dynamic dim at axis 1", use_implicit_batch=True)


def test_symbolic_batch_offloaded():
    n = tvm.tirx.Var("n", "int64")
    for batch in (1, 3):  # one compiled module, two batch sizes
        x = np.random.default_rng(batch).standard_normal((batch, 3, 8, 8)).astype("float32")
        check_op(lambda x: R.nn.relu(R.nn.conv2d(x, W, padding=(1, 1))), {"x": ((n, 3, 8, 8), "float32")}, args=[x])


def test_config_is_json_and_attached():
    mod = make_module(lambda x: R.nn.conv2d(x, W), {"x": ((1, 3, 8, 8), "float32")})
    pmod, config = tvm_trt.partition_for_tensorrt(mod, version=(8, 6, 1), max_workspace_size=1 << 20)
    assert json.loads(json.dumps(config)) == config
    assert config["tensorrt_version"] == [8, 6, 1] and config["max_workspace_size"] == 1 << 20
    funcs = part.offloaded_functions(pmod)
    assert funcs
    for f in funcs.values():
        assert json.loads(str(f.attrs[part.CONFIG_ATTR])) == config


def test_user_registered_op_is_offloaded():
    op = "relax.flip"
    if registry.get(op) is not None:
        pytest.skip(f"{op} has a built-in converter now; pick another op for this test")

    def check(call, opts):  # a custom predicate: only the innermost axis
        return None if int(call.attrs.axis) in (-1, call.args[0].ty.ndim - 1) else "flip of an outer axis"

    @tvm_trt.register_op(op, check=check)
    def flip(ctx, node):
        x = node.args[0]
        rank, n = len(x.shape), x.shape[-1]
        return ctx.network.add_slice(
            x, (0,) * (rank - 1) + (n - 1,), tuple(x.shape), (1,) * (rank - 1) + (-1,)
        ).get_output(0)

    try:
        check_op(lambda x: R.flip(x, -1), {"x": ((2, 3, 5), "float32")})
        assert_rejected(make_module(lambda x: R.flip(x, 1), {"x": ((2, 3, 5), "float32")}), op, "flip of an outer axis")
    finally:
        registry.unregister_op(op)
    assert op not in tvm_trt.supported_ops()


def test_duplicate_registration_raises():
    with pytest.raises(ValueError, match="already registered"):
        tvm_trt.register_op("relax.nn.conv2d")(lambda ctx, node: None)


def test_versions_tuple_or_string():
    mod = make_module(lambda x: R.nn.relu(x), {"x": ((1, 2), "float32")})
    for version in ((8, 6), "8.6", "8.6.0", [8, 6, 0]):
        assert tvm_trt.partition_for_tensorrt(mod, version=version)[1]["tensorrt_version"] == [8, 6, 0]
    with pytest.raises(TypeError, match="ambiguous"):
        tvm_trt.partition_for_tensorrt(mod, version=8)


def test_tvm_own_annotation_compiles_through_the_plugin():
    """Upstream's pattern table annotates; RunCodegen + tvm.compile build it with our relax.ext.tensorrt."""
    from tvm.relax.backend.contrib.tensorrt import partition_for_tensorrt

    w = W_NP
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([1, 3, 8, 8], "float32"))
    wv = relax.Var("w", relax.TensorType([4, 3, 3, 3], "float32"))
    with bb.function("main", [x, wv]):
        with bb.dataflow():
            c = bb.emit(R.nn.conv2d(x, wv, padding=(1, 1)))
            r = bb.emit(R.nn.relu(c))
            out = bb.emit_output(R.add(r, c))
        bb.emit_func_output(out)
    mod = relax.transform.BindParams("main", {"w": w})(bb.get())
    pmod = partition_for_tensorrt(mod)
    assert [gv.name_hint for gv, f in pmod.functions.items() if f.attrs and f.attrs.get("Codegen") == "tensorrt"]
    before = tvm_trt.runtime_stats()["reference_executions"]
    ex = tvm.compile(relax.transform.RunCodegen()(pmod), "llvm")
    vm = relax.VirtualMachine(ex, tvm.cpu())
    a = np.random.default_rng(0).standard_normal((1, 3, 8, 8)).astype("float32")
    got = vm["main"](tvm.runtime.tensor(a)).numpy()
    assert tvm_trt.runtime_stats()["reference_executions"] > before
    np.testing.assert_allclose(got, run_llvm(mod, [a])[0], rtol=1e-5, atol=1e-5)


# ---- the op table --------------------------------------------------------------------------

GATES = {
    (5, 1, 5): ["clip", "nn.leakyrelu", "sin", "cos", "atan", "ceil", "floor", "split", "strided_slice"],
    (6, 0, 1): ["nn.conv3d", "nn.max_pool3d", "nn.avg_pool3d", "nn.conv3d_transpose"],
    (7, 0, 0): ["erf"],
}


@pytest.mark.parametrize("version", list(GATES), ids=lambda v: ".".join(map(str, v)))
def test_version_gates(version):
    table = tvm_trt.supported_ops()
    missing = [f"relax.{op}" for op in GATES[version] if f"relax.{op}" not in table]
    for op in GATES[version]:
        if f"relax.{op}" in table:
            assert table[f"relax.{op}"] == version, f"relax.{op}: {table[f'relax.{op}']} != {version}"
    if missing:
        pytest.skip(f"not registered yet: {', '.join(missing)}")


def _mentioned(name: str, tests: str) -> bool:
    """R.nn.conv2d(...), "relax.nn.conv2d", a quoted short name in a parametrized list ("sum"),
    or an f-string name such as f"{kind}_pool1d" next to a quoted "avg"."""
    short = name[len("relax.") :]
    last = short.split(".")[-1]
    if re.search(rf"R\.{re.escape(short)}\b|{re.escape(name)}\b|[\"']{re.escape(last)}[\"']", tests):
        return True
    parts = last.split("_")
    for i in range(1, len(parts)):
        head, tail = "_".join(parts[:i]), "_".join(parts[i:])
        if re.search(rf"\}}_{re.escape(tail)}\b", tests) and re.search(rf"[\"']{re.escape(head)}[\"']", tests):
            return True
    return False


def test_every_op_has_converter_predicate_and_test():
    tests = "\n".join(p.read_text() for p in (pathlib.Path(__file__).parent.parent / "ops").glob("test_*.py"))
    for name, entry in registry.entries().items():
        assert callable(entry.converter), name
        assert entry.check is None or callable(entry.check), name
    untested = [name for name in registry.entries() if not _mentioned(name, tests)]
    assert not untested, f"ops without a test under tests/ops/: {untested}"


def test_tvm_own_annotation_with_unfolded_constants():
    """Without FoldConstant, TVM's table offloads reshape/permute_dims of a weight: the data
    operand of an op can be a constant (it becomes a TensorRT constant layer)."""
    from tvm.relax.backend.contrib.tensorrt import partition_for_tensorrt

    w = W_NP[0, 0]  # (3, 3)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([2, 9], "float32"))
    wv = relax.Var("w", relax.TensorType([3, 3], "float32"))
    with bb.function("main", [x, wv]):
        with bb.dataflow():
            flat = bb.emit(R.reshape(wv, (9,)))
            flat_t = bb.emit(R.reshape(bb.emit(R.permute_dims(wv, [1, 0])), (9,)))
            out = bb.emit_output(R.multiply(R.add(x, flat), flat_t))
        bb.emit_func_output(out)
    mod = relax.transform.BindParams("main", {"w": w})(bb.get())
    pmod = partition_for_tensorrt(mod)
    ops = [c.op.name for f in part.offloaded_functions(pmod).values() for c in tvm_trt.core.graph.op_calls(f)]
    assert "relax.reshape" in ops and "relax.permute_dims" in ops
    a = np.random.default_rng(0).standard_normal((2, 9)).astype("float32")
    got = run_offloaded(pmod, [a])[0]
    np.testing.assert_allclose(got, (a + w.reshape(9)) * w.T.reshape(9), rtol=1e-5, atol=1e-6)


# ---- never a crash: what TVM's passes or TensorRT cannot take stays in TVM -----------------


def _onnx_module(node, inputs, output, initializers=()):
    onnx = pytest.importorskip("onnx")
    from onnx import helper

    graph = helper.make_graph(
        [node, helper.make_node("Relu", [output], ["y"])],
        "g",
        [helper.make_tensor_value_info(n, dt, shape) for n, dt, shape in inputs],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, None)],
        initializer=list(initializers),
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    from tvm.relax.frontend.onnx import from_onnx

    return from_onnx(model)


@pytest.mark.parametrize("op", ["Unsqueeze", "Squeeze"])
def test_match_cast_from_axes_given_as_input(op):
    """ONNX Squeeze/Unsqueeze with axes as a graph input import with match_cast bindings, which
    TVM's MergeCompositeFunctions rejects: they stay in TVM, the ops around them are offloaded."""
    from onnx import TensorProto, helper

    shape = [1, 3, 4] if op == "Squeeze" else [3, 4]
    node = helper.make_node(op, ["x", "axes"], ["t"])
    mod = _onnx_module(node, [("x", TensorProto.FLOAT, shape), ("axes", TensorProto.INT64, [1])], "t")
    assert "match_cast" in part.simplify(mod).script()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert "match_cast" in pmod["main"].script()
    x = np.random.default_rng(0).standard_normal(shape).astype("float32")
    axes = np.array([0], "int64")
    want = np.maximum(np.squeeze(x, 0) if op == "Squeeze" else x[None], 0)
    np.testing.assert_allclose(run_llvm(mod, [x, axes])[0], want)
    np.testing.assert_allclose(run_offloaded(pmod, [x, axes])[0], want)


def test_match_cast_keeps_the_ops_around_it_offloaded():
    def build(x):
        bb = relax.BlockBuilder.current()
        a = bb.emit(R.add(x, x))
        b = bb.match_cast(a, relax.TensorType([2, 3], "float32"))
        return R.nn.relu(b)

    mod = make_module(build, {"x": ((2, 3), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    ops = sorted(c.op.name for f in part.offloaded_functions(pmod).values() for c in tvm_trt.core.graph.op_calls(f))
    assert ops == ["relax.add", "relax.nn.relu"]
    x = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(run_offloaded(pmod, [x])[0], np.maximum(2 * x, 0), rtol=1e-6)


def test_shape_typed_values():
    """A shape value (a parameter, or computed by shape_of) as an op argument stays in TVM with
    a reason; the ops around it are offloaded. (TVM 0.27 itself cannot legalize such a reshape,
    so nothing is run here.)"""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([2, 6], "float32"))
    s = relax.Var("s", relax.ShapeType([3, 4]))
    with bb.function("main", [x, s]):
        with bb.dataflow():
            out = bb.emit_output(R.nn.relu(R.reshape(R.nn.relu(x), s)))
        bb.emit_func_output(out)
    assert_rejected(bb.get(), "relax.reshape", "takes a run-time ShapeType (s)")

    def build(x, y):
        shape = relax.BlockBuilder.current().emit(R.shape_of(y))
        return R.nn.relu(R.reshape(R.nn.relu(x), shape))

    # shape_of a tensor whose shape is known is that shape: the reshape is static and offloaded
    mod = make_module(build, {"x": ((2, 6), "float32"), "y": ((3, 4), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert len(part.offloaded_functions(pmod)) == 1
    assert not remaining_ops(pmod)


def test_unknown_rank_stays_in_tvm():
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(None, "float32", ndim=-1))
    with bb.function("main", [x]):
        with bb.dataflow():
            out = bb.emit_output(R.nn.relu(x))
        bb.emit_func_output(out)
    mod = bb.get()
    assert_rejected(mod, "relax.nn.relu", "tensor of unknown rank")


def test_data_dependent_op_stays_in_tvm():
    mod = make_module(lambda x: R.nonzero(R.greater(x, relax.const(0.0))), {"x": ((2, 3), "float32")})
    assert_rejected(mod, "relax.nonzero", "no TensorRT converter registered for relax.nonzero")


def test_failing_constant_folding_is_skipped(caplog):
    """FoldConstant compiles what it folds and raises on an integer power (TVM's own build only
    rejects it later): partitioning still returns, leaving the op to TVM."""
    c = relax.const(np.array([2, 3], "int32"))
    mod = make_module(lambda x: [R.power(c, c), R.add(x, x)], {"x": ((2,), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert part.offloaded_functions(pmod) and "constant folding failed" in caplog.text


def test_failing_merge_falls_back_to_one_subgraph_per_op(monkeypatch, caplog):
    """When TVM's merging pass raises, each supported op becomes its own subgraph."""

    def broken(mod, opts):
        raise tvm.error.InternalError("Could not find memo-ized group")

    monkeypatch.setattr(tvm_trt.partition.partitioner, "_merged", broken)
    mod = make_module(lambda x: R.nn.relu(R.add(x, x)), {"x": ((2, 3), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert len(part.offloaded_functions(pmod)) == 2 and "memo-ized" in caplog.text
    x = np.random.default_rng(0).standard_normal((2, 3)).astype("float32")
    np.testing.assert_allclose(run_offloaded(pmod, [x])[0], np.maximum(2 * x, 0), rtol=1e-6)


# ---- use_implicit_batch fitted to the target -------------------------------------------------


@pytest.mark.parametrize(
    "version,given,resolved",
    [
        ((6, 0, 1), None, True),
        ((7, 0, 0), None, False),
        ((10, 0, 0), None, False),
        ((10, 0, 0), True, True),
        ((6, 0, 1), False, False),
    ],
    ids=["trt6-default", "trt7-default", "trt10-default", "trt10-true", "trt6-false"],
)
def test_use_implicit_batch_resolved_from_target(version, given, resolved):
    mod = make_module(lambda x: R.nn.relu(R.sum(x, [0])), {"x": ((2, 3), "float32")})
    pmod, config = tvm_trt.partition_for_tensorrt(mod, version=version, use_implicit_batch=given)
    assert config["use_implicit_batch"] is resolved
    left = [c.op.name for c in remaining_ops(pmod)]
    assert left == (["relax.sum"] if resolved else [])


def test_take_from_constant_table_is_not_the_batch_axis():
    table = relax.const(np.random.default_rng(0).standard_normal((10, 4)).astype("float32"))
    check_op(
        lambda i: R.take(table, i, axis=0),
        {"i": ((2, 3), "int64")},
        args=[np.array([[1, 2, 3], [9, 0, 4]], "int64")],
        use_implicit_batch=True,
    )


def test_stacked_reduction_is_not_the_batch_axis():
    """ONNX Sum imports as stack + sum over the stack axis: not a reduction over the batch."""

    def build(a, b):
        s = relax.BlockBuilder.current().emit(R.stack((a, b), axis=0))
        return R.sum(s, [0])

    mod = make_module(build, {"a": ((2, 3), "float32"), "b": ((2, 3), "float32")})
    got = reasons(mod, use_implicit_batch=True)
    assert "relax.sum" not in got, got


def test_subgraph_without_inputs_stays_in_tvm(caplog):
    """Where constant folding failed, ops on constants alone would form a subgraph without
    inputs: TVM computes them."""
    ci = relax.const(np.array([2, 3], "int32"))
    cf = relax.const(np.array([-1.0, 2.0], "float32"))
    mod = make_module(lambda x: [R.power(ci, ci), relax.Tuple([R.add(x, x), R.nn.relu(cf)])], {"x": ((2,), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    assert "constant folding failed" in caplog.text
    funcs = part.offloaded_functions(pmod)
    assert len(funcs) == 1 and all(f.params for f in funcs.values())
    assert "relax.nn.relu" in [c.op.name for c in remaining_ops(pmod)]
