"""TVM_TENSORRT_USE_FP16 and TVM_TENSORRT_MAX_WORKSPACE_SIZE at engine build time."""

import numpy as np
import pytest

import tvm_trt
from harness import random_inputs, run_llvm, run_offloaded
from runtime_models import conv_softmax
from tvm_trt.core import tensorrt
from tvm_trt.network import precision
from tvm_trt.runtime import engine, subgraph

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

INPUTS = {"x": ((2, 3, 8, 8), "float32")}


def _only_subgraph():
    (sg,) = tvm_trt.runtime._subgraphs.values()
    return sg


def _layer_types(network):
    """[(layer type, output dtype)]"""
    layers = [network.get_layer(i) for i in range(network.num_layers)]
    return [(layer.type.name, layer.get_output(0).dtype.name) for layer in layers]


def test_fp16_close_to_fp32_and_network_is_half(monkeypatch, cache_dir):
    mod = conv_softmax()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    args = random_inputs(INPUTS)
    want = run_llvm(mod, args)[0]

    tvm_trt.runtime.reset()
    fp32 = run_offloaded(pmod, args)[0]
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "1")
    tvm_trt.runtime.reset()
    fp16 = run_offloaded(pmod, args)[0]

    assert fp16.dtype == np.float32  # cast back to the graph's dtype
    np.testing.assert_allclose(fp32, want, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(fp16, want, rtol=1e-2, atol=2e-3)
    assert not np.array_equal(fp16, fp32)  # really computed in half precision
    (slot,) = _only_subgraph().slots.values()
    network = slot.network[1]
    assert slot.settings.use_fp16 and precision.has_half_tensors(network)
    assert network.get_input(0).dtype.name == "FLOAT" and network.get_output(0).dtype.name == "FLOAT"
    types = _layer_types(network)
    assert ("CONVOLUTION", "HALF") in types
    assert ("SOFTMAX", "FLOAT") in types and ("SOFTMAX", "HALF") not in types  # kept in float32
    # fp32 and fp16 engines are separate cache entries.
    assert len(list(cache_dir.glob("*.plan"))) == 2


def test_config_use_fp16_is_the_default(monkeypatch):
    monkeypatch.delenv("TVM_TENSORRT_USE_FP16", raising=False)
    assert engine.BuildSettings.from_env({"use_fp16": True}).use_fp16
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "0")
    assert not engine.BuildSettings.from_env({"use_fp16": True}).use_fp16
    pmod, config = tvm_trt.partition_for_tensorrt(conv_softmax(), use_fp16=True)
    monkeypatch.delenv("TVM_TENSORRT_USE_FP16")
    tvm_trt.runtime.reset()
    run_offloaded(pmod, random_inputs(INPUTS))
    (slot,) = _only_subgraph().slots.values()
    assert slot.settings.use_fp16 and precision.has_half_tensors(slot.network[1])


def test_fp16_rewrite_keeps_io_and_sensitive_ops():
    spec = {
        "inputs": [{"name": "x", "shape": [2, 4], "dtype": "float32"}, {"name": "i", "shape": [2], "dtype": "int32"}],
        "nodes": [
            {
                "op": "relax.add",
                "args": [{"input": 0}, {"weight": 0}],
                "attrs": {},
                "out": [{"shape": [2, 4], "dtype": "float32"}],
            },
            {
                "op": "relax.nn.softmax",
                "args": [{"weight": 2}],
                "attrs": {},
                "out": [{"shape": [2, 4], "dtype": "float32"}],
            },
            {
                "op": "relax.astype",
                "args": [],
                "attrs": {"dtype": "float32"},
                "out": [{"shape": [2], "dtype": "float32"}],
            },
        ],
        "weights": [
            {"shape": [4], "dtype": "float32", "offset": 0},
            {"shape": [1], "dtype": "int64", "offset": 16},
            {"shape": [4], "dtype": "float32", "offset": 24},
        ],
    }
    big = np.array([1.0, -3.4e38, 7e4, np.inf], "float32")
    half, weights = precision.to_fp16(spec, [big, np.ones(1, "int64"), big])
    assert [i["dtype"] for i in half["inputs"]] == ["float16", "int32"]
    assert [i["io_dtype"] for i in half["inputs"]] == ["float32", "int32"]
    assert half["nodes"][0]["out"][0]["dtype"] == "float16"
    assert half["nodes"][1]["compute_dtype"] == "float32" and half["nodes"][1]["out"][0]["dtype"] == "float32"
    assert half["nodes"][2]["attrs"]["dtype"] == "float16"
    # read by a half op: float16, finite values beyond its range saturated; read only by a float32 op: kept
    assert [w.dtype for w in weights] == [np.float16, np.int64, np.float32]
    assert weights[0].tolist() == [1.0, -65504.0, 65504.0, np.inf] and weights[2] is big
    assert spec["inputs"][0]["dtype"] == "float32"  # the original is untouched


def test_workspace_env_reaches_builder_config_and_cache_key(monkeypatch, cache_dir):
    config = {"max_workspace_size": 1 << 28}
    monkeypatch.delenv("TVM_TENSORRT_MAX_WORKSPACE_SIZE", raising=False)
    assert engine.BuildSettings.from_env(config).max_workspace_size == 1 << 28
    monkeypatch.setenv("TVM_TENSORRT_MAX_WORKSPACE_SIZE", str(1 << 24))
    settings = engine.BuildSettings.from_env(config)
    assert settings.max_workspace_size == 1 << 24

    trt = tensorrt.trt()
    builder = trt.Builder(tensorrt.get_logger())
    spec = {"inputs": [{"shape": [2, 3]}]}
    cfg = engine.builder_config(builder, spec, [(2, 3)], settings)
    assert cfg.get_memory_pool_limit(trt.MemoryPoolType.WORKSPACE) == 1 << 24

    other = engine.BuildSettings(use_fp16=False, max_workspace_size=1 << 25)
    assert engine.cache_key("h", [(2, 3)], settings) != engine.cache_key("h", [(2, 3)], other)

    # Through the runtime: a different workspace is a different plan in the cache.
    pmod, _ = tvm_trt.partition_for_tensorrt(conv_softmax())
    args = random_inputs(INPUTS)
    tvm_trt.runtime.reset()
    run_offloaded(pmod, args)
    monkeypatch.setenv("TVM_TENSORRT_MAX_WORKSPACE_SIZE", str(1 << 25))
    tvm_trt.runtime.reset()
    run_offloaded(pmod, args)
    assert tvm_trt.runtime_stats()["engines_built"] == 1
    assert len(list(cache_dir.glob("*.plan"))) == 2
    (slot,) = _only_subgraph().slots.values()
    assert slot.settings.max_workspace_size == 1 << 25
    assert subgraph.STATS["engines_loaded_from_cache"] == 0
