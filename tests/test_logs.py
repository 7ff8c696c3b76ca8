"""At info, one line per engine event naming the short subgraph name; at debug, the cache key."""

import logging
import re

import numpy as np
import tvm
from tvm import relax

import tvm_trt
from harness import make_module
from tvm_trt import runtime


def _relu_lib(**options):
    mod = make_module(lambda x: relax.op.nn.relu(x), {"x": ((1, 4), "float32")})
    return tvm_trt.build(tvm_trt.partition_for_tensorrt(mod, **options)[0], "llvm")


def _events(caplog, level):
    return [r.getMessage() for r in caplog.records if r.name == "tvm_trt" and r.levelno == level]


def _call(ex):
    relax.VirtualMachine(ex, tvm.cpu())["main"](tvm.runtime.tensor(np.ones((1, 4), "float32")))


def test_engine_events(cache_dir, caplog):
    caplog.set_level(logging.DEBUG, logger="tvm_trt")
    ex = _relu_lib()
    runtime.reset()
    _call(ex)
    runtime.reset()  # a new process, as far as the runtime knows: the cache has the plan
    _call(ex)
    runtime.reset()
    _call(_relu_lib(build_at_compile_time=True))
    info = _events(caplog, logging.INFO)
    assert len(info) == 3, info
    assert re.fullmatch(r"subgraph tensorrt_0: built \(shapes \[1, 4\], fp32, \d+\.\d\d s\)", info[0])
    assert re.fullmatch(r"subgraph tensorrt_0: loaded from cache \(shapes \[1, 4\], fp32, \d+\.\d\d s\)", info[1])
    assert info[2].startswith("subgraph tensorrt_0: loaded from the library (shapes [1, 4], fp32")
    debug = _events(caplog, logging.DEBUG)
    assert any(
        re.fullmatch(
            rf"subgraph tensorrt_0: cache key [0-9a-f]{{40}} \({re.escape(str(cache_dir))}/[0-9a-f]{{40}}\.plan\)", m
        )
        for m in debug
    ), debug
    assert not [r for r in caplog.records if r.name == "tvm_trt.tensorrt" and r.levelno == logging.INFO]


def test_cache_warning_names_the_subgraph(cache_dir, caplog):
    ex = _relu_lib()
    runtime.reset()
    _call(ex)
    for plan in cache_dir.glob("*.plan"):
        plan.write_bytes(plan.read_bytes()[:10])  # truncated
    runtime.reset()
    with caplog.at_level(logging.WARNING, logger="tvm_trt"):
        _call(ex)
    assert any(m.startswith("tvm_trt: subgraph tensorrt_0: cached engine") for m in _events(caplog, logging.WARNING))


def test_fallback_event(monkeypatch, caplog):
    """TensorRT cannot run host tensors: TVM's compiled code runs the subgraph, and info says so once."""
    import pytest

    from tvm_trt.runtime.fallback import TensorRTFallbackWarning

    caplog.set_level(logging.INFO, logger="tvm_trt")
    monkeypatch.setenv("TVM_TENSORRT_EXECUTOR", "tensorrt")
    ex = _relu_lib()
    runtime.reset()
    with pytest.warns(TensorRTFallbackWarning, match="subgraph tensorrt_0 runs TVM's compiled code"):
        _call(ex)
        _call(ex)
    info = _events(caplog, logging.INFO)
    assert len(info) == 1 and info[0].startswith("subgraph tensorrt_0: fallback to TVM (RuntimeError: "), info


def test_same_subgraph_elsewhere_reuses_the_plan(cache_dir, caplog):
    """Names are positions (tensorrt_0 here, tensorrt_1 there): cache keys ignore them."""

    def model(lead):
        bb = relax.BlockBuilder()
        x = relax.Var("x", relax.TensorType([1, 4], "float32"))
        with bb.function("main", [x]):
            with bb.dataflow():
                y = x
                if lead:  # an extra subgraph first, then a TVM op, then the shared one
                    y = bb.emit(relax.op.sort(bb.emit(relax.op.nn.relu(bb.emit(relax.op.add(x, x)))), axis=1))
                y = bb.emit_output(relax.op.nn.relu(y))
            bb.emit_func_output(y)
        return tvm_trt.build(tvm_trt.partition_for_tensorrt(bb.get())[0], "llvm")

    caplog.set_level(logging.INFO, logger="tvm_trt")
    runtime.reset()
    _call(model(False))
    runtime.reset()
    _call(model(True))
    info = _events(caplog, logging.INFO)
    assert info[0].startswith("subgraph tensorrt_0: built")
    assert any(m.startswith("subgraph tensorrt_1: loaded from cache") for m in info[1:]), info
