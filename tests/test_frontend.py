"""Importers: MXNet / ONNX -> Relax, checked against MXNet on the CPU (no TensorRT needed)."""

import builtins
import os

import numpy as np
import pytest

import onnx
import tvm
from onnx import TensorProto, helper, numpy_helper
from tvm import relax

from tvm_trt import frontend
from tvm_trt.frontend import from_mxnet, from_onnx
from tvm_trt.testing.zoo import build_gluon_model

try:  # the tests that use it are marked `mxnet` and run in the MXNet environment
    import mxnet as mx
except ImportError:
    mx = None


def run_llvm(mod, params, *inputs):
    mod = relax.transform.BindParams("main", params)(mod)
    vm = relax.VirtualMachine(tvm.compile(mod, target="llvm"), tvm.cpu())
    return vm["main"](*[tvm.runtime.tensor(x) for x in inputs]).numpy()


def relax_ops(mod):
    ops = []
    for block in mod["main"].body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op):
                ops.append(value.op.name)
    return ops


@pytest.fixture(scope="module")
def resnet18():
    block, shape = build_gluon_model("resnet18_v1")
    x = np.random.RandomState(0).uniform(-1, 1, shape["data"]).astype("float32")
    return block, shape, x, block(mx.nd.array(x)).asnumpy()


@pytest.fixture(scope="module")
def resnet18_onnx(resnet18, tmp_path_factory):
    block, shape, _, _ = resnet18
    path = tmp_path_factory.mktemp("onnx") / "resnet18_v1.onnx"
    onnx.save(frontend.mxnet_to_onnx(block, shape), str(path))
    return path


@pytest.mark.mxnet
def test_from_mxnet_resnet18_matches_mxnet(resnet18):
    block, shape, x, ref = resnet18
    mod, params = from_mxnet(block, shape)
    assert [p.name for p in mod["main"].params] == ["data"] + list(params)
    assert all(isinstance(v, np.ndarray) for v in params.values())
    out = run_llvm(mod, params, x)
    assert out.shape == ref.shape == (1, 1000)
    np.testing.assert_allclose(out, ref, atol=1e-3, rtol=1e-3)


@pytest.mark.mxnet
def test_from_onnx_path_and_modelproto(resnet18, resnet18_onnx):
    _, shape, x, ref = resnet18
    mod_p, params_p = from_onnx(str(resnet18_onnx), shape=shape)
    mod_m, params_m = from_onnx(onnx.load(str(resnet18_onnx)))  # shape taken from the model
    assert list(params_p) == list(params_m)
    tvm.ir.assert_structural_equal(mod_p, mod_m)
    np.testing.assert_allclose(run_llvm(mod_p, params_p, x), ref, atol=1e-3, rtol=1e-3)


@pytest.mark.mxnet
def test_from_mxnet_symbol_and_prefix(tmp_path):
    data = mx.sym.var("x")
    sym = mx.sym.FullyConnected(data, num_hidden=4, name="fc")
    sym = mx.sym.BatchNorm(sym, fix_gamma=False, name="bn")
    sym = mx.sym.clip(mx.sym.BatchNorm(sym, name="bnfix"), 0.0, 6.0)  # fix_gamma=True default
    rng = np.random.RandomState(0)
    arg = {"fc_weight": rng.randn(4, 8), "fc_bias": rng.randn(4)}
    aux = {}
    for bn in ("bn", "bnfix"):
        arg.update({f"{bn}_gamma": rng.rand(4) + 0.5, f"{bn}_beta": rng.randn(4)})
        aux.update({f"{bn}_moving_mean": rng.randn(4), f"{bn}_moving_var": rng.rand(4) + 0.5})
    arg = {k: mx.nd.array(v.astype("float32")) for k, v in arg.items()}
    aux = {k: mx.nd.array(v.astype("float32")) for k, v in aux.items()}
    x = rng.randn(2, 8).astype("float32")
    exe = sym.bind(mx.cpu(), {"x": mx.nd.array(x), **arg}, aux_states=aux)
    ref = exe.forward(is_train=False)[0].asnumpy()

    mod, params = from_mxnet(sym, {"x": (2, 8)}, params={**arg, **aux})
    assert "relax.clip" in relax_ops(mod)  # ONNX Clip canonicalised to a Relax op
    np.testing.assert_allclose(run_llvm(mod, params, x), ref, atol=1e-4, rtol=1e-4)

    prefix = str(tmp_path / "tiny")
    sym.save(prefix + "-symbol.json")
    mx.nd.save(
        prefix + "-0000.params", {**{"arg:" + k: v for k, v in arg.items()}, **{"aux:" + k: v for k, v in aux.items()}}
    )
    mod2, params2 = from_mxnet(prefix, {"x": (2, 8)})
    np.testing.assert_allclose(run_llvm(mod2, params2, x), ref, atol=1e-4, rtol=1e-4)


@pytest.mark.mxnet
def test_from_mxnet_block_input_names():
    class Two(mx.gluon.HybridBlock):
        def hybrid_forward(self, F, a, b):
            return F.broadcast_sub(b, a)

    block = Two()
    block.initialize()
    mod, params = from_mxnet(block, {"lhs": (2, 3), "rhs": (2, 3)})
    assert [p.name for p in mod["main"].params] == ["lhs", "rhs"] and params == {}
    a, b = np.ones((2, 3), "float32"), np.full((2, 3), 5, "float32")
    np.testing.assert_allclose(run_llvm(mod, params, a, b), b - a)


def _tiny_onnx():
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])
    w = numpy_helper.from_array(np.eye(4, dtype="float32"), "w")
    graph = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"])], "g", [x], [y], [w])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def test_from_onnx_missing_file(tmp_path):
    missing = tmp_path / "nope.onnx"
    with pytest.raises(FileNotFoundError, match="nope.onnx"):
        from_onnx(missing)


def test_from_onnx_unreadable_file(tmp_path):
    bad = tmp_path / "garbage.onnx"
    bad.write_bytes(b"\xff\x00 definitely not protobuf \x13\x37" * 10)
    with pytest.raises(ValueError, match="garbage.onnx"):
        from_onnx(bad)


def test_from_onnx_unknown_input_name():
    with pytest.raises(ValueError, match=r"'input0'.*\['x'\]"):
        from_onnx(_tiny_onnx(), shape={"input0": (1, 4)})


def test_from_onnx_does_not_mutate_model():
    model = _tiny_onnx()
    model.graph.input.extend([helper.make_tensor_value_info("w", TensorProto.FLOAT, [4, 4])])
    before = model.SerializeToString()
    mod, params = from_onnx(model)
    assert model.SerializeToString() == before
    assert [p.name for p in mod["main"].params] == ["x", "w"] and list(params) == ["w"]


@pytest.mark.mxnet
def test_from_mxnet_unknown_input_name():
    with pytest.raises(ValueError, match=r"'input0'.*\['data'\]"):
        from_mxnet(mx.sym.var("data") * 2, {"input0": (1, 4)}, params={})


def test_from_mxnet_without_mxnet(monkeypatch):
    real_import = builtins.__import__

    def no_mxnet(name, *args, **kwargs):
        if name == "mxnet" or name.startswith("mxnet."):
            raise ImportError("No module named 'mxnet'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_mxnet)
    with pytest.raises(ImportError, match=r"pip install 'tvm-trt\[mxnet\]'"):
        from_mxnet("some/prefix", {"data": (1, 3, 224, 224)})


@pytest.mark.mxnet
def test_zoo_deterministic_and_onnx_cache(tmp_path):
    from tvm_trt.testing.zoo import onnx_path_for

    a, shape = build_gluon_model("squeezenet1.0")
    b, _ = build_gluon_model("squeezenet1.0")
    pa, pb = a.collect_params(), b.collect_params()
    assert list(pa) == list(pb)  # names do not depend on earlier builds
    for name in pa:
        np.testing.assert_array_equal(pa[name].data().asnumpy(), pb[name].data().asnumpy())

    path = onnx_path_for("squeezenet1.0", tmp_path)
    stamp = os.stat(path).st_mtime_ns
    assert onnx_path_for("squeezenet1.0", tmp_path) == path
    assert os.stat(path).st_mtime_ns == stamp
    assert frontend.onnx_input_names(onnx.load(path)) == ["data"]
    mod, _ = from_onnx(path)
    assert [int(d) for d in mod["main"].params[0].ty.shape] == list(shape["data"])
