"""Weights in binary (an object linked into the library) and the TVM fallback of offloaded subgraphs."""

import ctypes
import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.codegen import relax_ext as codegen, spec, weights_writer
from tvm_trt.core import spec_format
from tvm_trt import partition
from tvm_trt.core import registry
from tvm_trt.runtime import dlpack, fallback, reset
from tvm_trt.runtime.subgraph import Subgraph

from harness import make_module, run_vm

DIM, LAYERS = 512, 4  # 4 MiB of float32 weights


def _mlp():
    rng = np.random.default_rng(0)
    ws = [(rng.standard_normal((DIM, DIM)) / np.sqrt(DIM)).astype("float32") for _ in range(LAYERS)]

    def body(x):
        for w in ws:
            x = relax.op.nn.relu(relax.op.matmul(x, relax.const(w)))
        return x

    return make_module(body, {"x": ((2, DIM), "float32")}), sum(w.nbytes for w in ws)


@pytest.fixture(scope="module")
def mlp_libs(tmp_path_factory):
    """(TVM's own library, ours with fallback, ours without, weight bytes, input)."""
    mod, nbytes = _mlp()
    d = tmp_path_factory.mktemp("libs")
    paths = {"tvm": str(d / "tvm.so"), "ours": str(d / "ours.so"), "no_fallback": str(d / "nofb.so")}
    tvm.compile(mod, "llvm").export_library(paths["tvm"])
    pmod, config = tvm_trt.partition_for_tensorrt(mod)
    tvm_trt.build(pmod, "llvm", config).export_library(paths["ours"])
    tvm_trt.build(pmod, "llvm", config, fallback=False).export_library(paths["no_fallback"])
    x = np.random.default_rng(1).standard_normal((2, DIM)).astype("float32")
    return paths, nbytes, x


def _run(path, x):
    vm = relax.VirtualMachine(tvm.runtime.load_module(path), tvm.cpu())
    return vm["main"](tvm.runtime.tensor(x)).numpy()


def test_library_holds_weights_once_in_binary(mlp_libs):
    paths, nbytes, _ = mlp_libs
    for name in ("ours", "no_fallback"):
        size = os.path.getsize(paths[name])
        assert size <= 1.02 * nbytes, f"{name}: {size} bytes of library for {nbytes} bytes of weights"


def test_weights_are_views_of_the_loaded_library(mlp_libs):
    """The runtime reads the weights where the loaded library maps them (no decode, no copy);
    the spec stays small."""
    paths, _, x = mlp_libs
    reset()
    _run(paths["ours"], x)
    from tvm_trt.runtime import _subgraphs

    (subgraph,) = _subgraphs.values()
    assert len(subgraph.weights) == LAYERS and subgraph.weights[0].shape == (DIM, DIM)
    mapped = []
    with open("/proc/self/maps") as f:
        for line in f:
            fields = line.split()
            if fields[-1] in (paths["ours"], paths["no_fallback"]):
                lo, hi = (int(v, 16) for v in fields[0].split("-"))
                mapped.append((lo, hi))
    for w in subgraph.weights:
        assert not w.flags.owndata and any(lo <= w.ctypes.data < hi for lo, hi in mapped)
    assert len(json.dumps(subgraph.spec)) < 4096


def test_fallback_equals_tvm_llvm_and_warns_once(mlp_libs, tensorrt_executor):
    paths, _, x = mlp_libs
    expected = _run(paths["tvm"], x)
    vm = relax.VirtualMachine(tvm.runtime.load_module(paths["ours"]), tvm.cpu())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        outs = [vm["main"](tvm.runtime.tensor(x)).numpy() for _ in range(2)]
    for out in outs:
        np.testing.assert_array_equal(out, expected)
    messages = [str(w.message) for w in caught if issubclass(w.category, fallback.TensorRTFallbackWarning)]
    assert len(messages) == 1, messages
    assert "subgraph tensorrt_0 " in messages[0] and "runs TVM's compiled code instead of TensorRT" in messages[0]
    assert "received host (CPU) tensors" in messages[0]  # TensorRT's reason
    stats = tvm_trt.runtime_stats()
    assert stats["fallback_executions"] == 2 and stats["executions"] == 0


def test_opt_out_gives_the_tensorrt_error(mlp_libs, tensorrt_executor, monkeypatch):
    paths, _, x = mlp_libs
    monkeypatch.setenv("TVM_TENSORRT_FALLBACK", "0")
    with pytest.raises(Exception, match=r"received host \(CPU\) tensors: TensorRT executes on a CUDA GPU"):
        _run(paths["ours"], x)


def test_library_without_fallback_gives_the_tensorrt_error(mlp_libs, tensorrt_executor):
    paths, _, x = mlp_libs
    with pytest.raises(Exception, match=r"received host \(CPU\) tensors"):
        _run(paths["no_fallback"], x)


def test_builder_failure_falls_back_with_tensorrts_reason(tensorrt_executor):
    """A converter that emits an invalid layer: TensorRT cannot build the subgraph, TVM runs it."""
    pytest.importorskip("tensorrt_rtx_bindings")

    @registry.register_op("relax.cumprod")
    def invalid(ctx, node):  # (2, 3) @ (2, 3): inner dims differ
        x = node.args[0]
        none = tvm_trt.core.tensorrt.trt().MatrixOperation.NONE
        return ctx.network.add_matrix_multiply(x, none, x, none).get_output(0)

    try:
        pmod, _ = tvm_trt.partition_for_tensorrt(
            make_module(lambda x: relax.op.cumprod(x, axis=1), {"x": ((2, 3), "float32")})
        )
        (name,) = partition.offloaded_functions(pmod)
        func = weights_writer.lift(pmod, [name], fallback=True)[name]
        subgraph_spec, _ = spec.from_function(func, name, codegen.function_config(func, {"fallback": True}))
        digest, blob = spec.pack(subgraph_spec)
        subgraph = Subgraph(f"{name}:{digest[:20]}", blob)
        x, out = np.zeros((2, 3), "float32"), np.zeros((2, 3), "float32")
        pointers = [x.ctypes.data, out.ctypes.data]  # as a stub passes them
        with pytest.warns(fallback.TensorRTFallbackWarning, match=rf"subgraph {name} runs TVM's compiled code .*shape"):
            status = subgraph.call(dlpack.KDL_CUDA, 0, pointers)  # claims cuda:0: the builder fails first
        state = ctypes.c_int8.from_address(fallback.state_address(subgraph.key)).value
        assert status == spec_format.DECLINED and state == 0  # the VM runs TVM's twin from now on
        assert "EngineBuildError" in subgraph.fallback_reason and "must match" in subgraph.fallback_reason
    finally:
        registry.unregister_op("relax.cumprod")


def test_missing_tensorrt_falls_back(mlp_libs, tensorrt_executor):
    """No TensorRT installed at all (both flavours hidden, a fresh process): the exported library
    still runs, on TVM's code, and says why."""
    paths, _, x = mlp_libs
    np.save(os.path.join(os.path.dirname(paths["ours"]), "x.npy"), x)
    code = f"""
import sys, warnings
sys.modules['tensorrt'] = None; sys.modules['tensorrt_rtx_bindings'] = None; sys.modules['tensorrt_rtx_libs'] = None
import numpy as np, tvm
from tvm import relax
import tvm_trt
assert not tvm_trt.core.tensorrt.available()
x = np.load({os.path.join(os.path.dirname(paths["ours"]), "x.npy")!r})
run = lambda p: relax.VirtualMachine(tvm.runtime.load_module(p), tvm.cpu())["main"](tvm.runtime.tensor(x)).numpy()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    got = run({paths["ours"]!r})
np.testing.assert_array_equal(got, run({paths["tvm"]!r}))
print("WARNING:", [str(w.message) for w in caught if "TVM's compiled code" in str(w.message)])
"""
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "TensorRTNotAvailable" in proc.stdout and "tvm-trt[rtx]" in proc.stdout


def test_build_without_fallback_when_tvm_cannot_compile_it():
    """rms_norm over axis 0: TensorRT takes it, TVM's own lowering fails. The build warns and drops
    the fallback instead of failing, and the subgraph still runs through TensorRT's network."""
    mod = make_module(
        lambda x, w: relax.op.nn.rms_norm(x, w, axes=[0]), {"x": ((4, 3), "float32"), "w": ((4,), "float32")}
    )
    with pytest.raises(Exception):  # noqa: B017  (TVM's lowering error has no narrower type)
        tvm.compile(mod, "llvm")
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    with pytest.warns(UserWarning, match="TVM cannot compile the fallback .* building without the fallback"):
        ex = tvm_trt.build(pmod, "llvm")
    rng = np.random.default_rng(0)
    x, g = rng.random((4, 3), dtype="float32"), rng.random(4, dtype="float32")
    out = run_vm(ex, [x, g])[0]
    np.testing.assert_allclose(
        out, x / np.sqrt((x * x).mean(0, keepdims=True) + 1e-5) * g[:, None], rtol=1e-5, atol=1e-6
    )
