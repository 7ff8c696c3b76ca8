"""The whole path on a real model: MXNet ResNet-18 -> partition -> build -> export -> a fresh
process that only imports tvm_trt -> numbers match MXNet; a second process loads the engine from
the cache without building."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.testing import zoo

from harness import make_module


def _run_fresh(lib, inp, out, env):
    proc = subprocess.run(
        [sys.executable, "-m", "tvm_trt.testing.demo", "--run-exported", lib, inp, out],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.slow
@pytest.mark.mxnet
def test_resnet18_exported_matches_mxnet_in_fresh_process(tmp_path):
    import mxnet as mx

    block, shape = zoo.build_gluon_model("resnet18_v1")
    x = np.random.default_rng(0).uniform(-1, 1, size=shape[zoo.INPUT_NAME]).astype("float32")
    want = block(mx.nd.array(x)).asnumpy()

    mod, params = tvm_trt.frontend.from_mxnet(block, shape=shape)
    mod, _ = tvm_trt.partition_for_tensorrt(mod, params)
    lib = str(tmp_path / "compiled.so")
    tvm_trt.build(mod, "llvm").export_library(lib)
    inp, out = str(tmp_path / "x.npy"), str(tmp_path / "y.npy")
    np.save(inp, x)
    env = dict(os.environ, TVM_TENSORRT_EXECUTOR="reference", TVM_TENSORRT_CACHE_DIR=str(tmp_path / "engines"))

    cold = _run_fresh(lib, inp, out, env)
    assert cold["engines_built"] == 1 and cold["engines_loaded_from_cache"] == 0
    assert cold["reference_executions"] == 2
    np.testing.assert_allclose(np.load(out), want, atol=1e-3, rtol=0)

    warm = _run_fresh(lib, inp, out, env)
    assert warm["engines_built"] == 0 and warm["engines_loaded_from_cache"] == 1
    np.testing.assert_allclose(np.load(out), want, atol=1e-3, rtol=0)


def _tiny_module():
    w = relax.const(np.random.default_rng(0).standard_normal((4, 3, 3, 3)).astype("float32"))
    return make_module(
        lambda x: relax.op.nn.relu(relax.op.nn.conv2d(x, w, padding=1)), {"x": ((1, 3, 8, 8), "float32")}
    )


def test_default_executor_on_cpu_names_reference_executor(monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_EXECUTOR", "tensorrt")
    mod, _ = tvm_trt.partition_for_tensorrt(_tiny_module())
    vm = relax.VirtualMachine(tvm_trt.build(mod, "llvm", fallback=False), tvm.cpu())  # no TVM fallback kept
    with pytest.raises(Exception, match="TVM_TENSORRT_EXECUTOR=reference"):
        vm["main"](tvm.runtime.tensor(np.zeros((1, 3, 8, 8), "float32")))


def test_without_tensorrt_partition_works_and_build_names_the_extra(tmp_path):
    """Hide both TensorRT flavours: partitioning still works; running needs the extra."""
    code = """
import sys
sys.modules['tensorrt'] = None; sys.modules['tensorrt_rtx_bindings'] = None; sys.modules['tensorrt_rtx_libs'] = None
import numpy as np, tvm
from tvm import relax
import tvm_trt
from tvm_trt.core import tensorrt
from tvm_trt import partition
assert not tensorrt.available() and tensorrt.flavour() is None
bb = relax.BlockBuilder()
x = relax.Var('x', relax.TensorType((1, 4), 'float32'))
with bb.function('main', [x]):
    bb.emit_func_output(bb.emit(relax.op.nn.relu(x)))
mod, config = tvm_trt.partition_for_tensorrt(bb.get())
assert len(partition.offloaded_functions(mod)) == 1
vm = relax.VirtualMachine(tvm_trt.build(mod, 'llvm'), tvm.cpu())
try:
    vm['main'](tvm.runtime.tensor(np.zeros((1, 4), 'float32')))
except Exception as err:
    print('ERROR:', err)
"""
    env = dict(os.environ, TVM_TENSORRT_EXECUTOR="reference")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "ERROR:" in proc.stdout and "tvm-trt[rtx]" in proc.stdout


def test_exported_library_holds_weights_once(tmp_path):
    """Weights are stored once, as raw bytes; RunCodegen's lifted copy is dropped."""
    w = np.random.default_rng(0).standard_normal((256, 256, 3, 3)).astype("float32")  # 2.4 MB
    mod = make_module(lambda x: relax.op.nn.conv2d(x, relax.const(w), padding=1), {"x": ((1, 256, 4, 4), "float32")})
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    lib = tmp_path / "one_copy.so"
    tvm_trt.build(pmod, "llvm").export_library(str(lib))
    size = os.path.getsize(lib)
    assert size < w.nbytes + 1_000_000, f"{size} bytes for {w.nbytes} bytes of weights"


def test_build_config_reaches_the_spec_with_its_types(monkeypatch):
    """Options passed to tvm_trt.build travel through RunCodegen as values, not JSON text."""
    from tvm_trt.codegen import relax_ext as codegen

    seen = {}
    real = codegen.spec.from_function

    def record(func, symbol, config):
        seen.update(config)
        return real(func, symbol, config)

    monkeypatch.setattr(codegen.spec, "from_function", record)
    pmod, config = tvm_trt.partition_for_tensorrt(_tiny_module(), version=(8, 6, 1))
    tvm_trt.build(pmod, "llvm", config=config, max_workspace_size=1 << 20)
    assert seen["tensorrt_version"] == [8, 6, 1] and seen["max_workspace_size"] == 1 << 20
    assert type(seen["use_fp16"]) is bool
