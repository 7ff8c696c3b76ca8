"""Partition semantics: what is offloaded, what stays in TVM and why, and what the config carries."""
import json
import pathlib
import re

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from harness import assert_offloaded, assert_rejected, check_op, make_module, remaining_ops, run_llvm, run_offloaded
from tvm_trt import partition as part
from tvm_trt import registry

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
    ops = sorted(c.op.name for f in funcs.values() for c in tvm_trt.graph.op_calls(f))
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
    "dtype,build",
    [
        pytest.param("int64", lambda x: R.sum(x, [1]), id="int64"),
        pytest.param("float64", lambda x: R.nn.relu(x), id="float64"),
    ],
)
def test_unsupported_dtype_stays_in_tvm(dtype, build):
    mod = make_module(build, {"x": ((2, 3), dtype)})
    op = "relax.sum" if dtype == "int64" else "relax.nn.relu"
    assert_rejected(mod, op, f"dtype {dtype} is not supported")


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
        return ctx.network.add_slice(x, (0,) * (rank - 1) + (n - 1,), tuple(x.shape), (1,) * (rank - 1) + (-1,)).get_output(0)

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
    short = name[len("relax."):]
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
    tests = "\n".join(p.read_text() for p in (pathlib.Path(__file__).parent / "ops").glob("test_*.py"))
    for name, entry in registry.entries().items():
        assert callable(entry.converter), name
        assert entry.check is None or callable(entry.check), name
    untested = [name for name in registry.entries() if not _mentioned(name, tests)]
    assert not untested, f"ops without a test under tests/ops/: {untested}"
