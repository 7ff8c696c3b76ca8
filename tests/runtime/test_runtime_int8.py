"""INT8 at run time: calibration of float subgraphs (TVM_TENSORRT_USE_INT8 + TENSORRT_NUM_CALI_INT8),
scales in the engine cache, tvm_trt.calibrate() ahead of time, FP16 + INT8, MULTI_ENGINE."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tvm
from tvm import relax

import tvm_trt
from tvm_trt.network import precision
from tvm_trt import runtime

from harness import make_module, run_vm
from runtime_models import W, dynamic_conv

HERE = os.path.dirname(os.path.abspath(__file__))
RNG = np.random.default_rng(3)
W2 = RNG.standard_normal((8 * 6 * 6, 10)).astype("float32") * 0.1


def conv_matmul():
    """conv -> relu -> reshape -> matmul -> softmax: conv and matmul get Q/DQ, softmax stays float."""

    def build(x):
        y = relax.op.nn.relu(relax.op.nn.conv2d(x, relax.const(W), padding=[1, 1]))
        y = relax.op.matmul(relax.op.reshape(y, [2, 8 * 6 * 6]), relax.const(W2))
        return relax.op.nn.softmax(y, axis=-1)

    return make_module(build, {"x": ((2, 3, 6, 6), "float32")})


BATCHES = [RNG.standard_normal((2, 3, 6, 6)).astype("float32") for _ in range(3)]
TESTS = [RNG.standard_normal((2, 3, 6, 6)).astype("float32") for _ in range(2)]


@pytest.fixture(autouse=True)
def fresh_runtime(monkeypatch):
    for name in (
        "TVM_TENSORRT_USE_INT8",
        "TENSORRT_NUM_CALI_INT8",
        "TVM_TENSORRT_USE_FP16",
        "TVM_TENSORRT_MULTI_ENGINE",
    ):
        monkeypatch.delenv(name, raising=False)
    runtime.reset()
    yield
    runtime.reset()


@pytest.fixture(scope="module")
def model():
    mod = conv_matmul()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    return mod, tvm_trt.build(pmod, "llvm"), tvm.compile(mod, "llvm")


def _run(ex, x):
    return run_vm(ex, [x])[0]


def _cosine(a, b):
    a, b = a.ravel().astype(np.float64), b.ravel().astype(np.float64)
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def _int8(monkeypatch, calls=3):
    monkeypatch.setenv("TVM_TENSORRT_USE_INT8", "1")
    monkeypatch.setenv("TENSORRT_NUM_CALI_INT8", str(calls))


def test_calibration_calls_then_one_int8_engine(model, monkeypatch):
    _, ex, float_ex = model
    _int8(monkeypatch)
    vm = relax.VirtualMachine(ex, tvm.cpu())
    for x in BATCHES:  # calibration calls: float results
        np.testing.assert_allclose(vm["main"](tvm.runtime.tensor(x)).numpy(), _run(float_ex, x), rtol=1e-5, atol=1e-6)
    stats = tvm_trt.runtime_stats()
    assert (stats["calibration_calls"], stats["engines_built"], stats["int8_engines"]) == (3, 0, 0)
    for x in TESTS:
        got, want = vm["main"](tvm.runtime.tensor(x)).numpy(), _run(float_ex, x)
        assert _cosine(got, want) > 0.99
        assert not np.array_equal(got, want)  # quantized: not the float result
    stats = tvm_trt.runtime_stats()
    assert (stats["calibration_calls"], stats["engines_built"], stats["int8_engines"]) == (3, 1, 1)


def test_missing_calibration_count_is_a_clear_error(model, monkeypatch):
    monkeypatch.setenv("TVM_TENSORRT_USE_INT8", "1")
    with pytest.raises(Exception, match="TENSORRT_NUM_CALI_INT8 is not a positive number"):
        _run(model[1], BATCHES[0])


def test_scales_in_the_cache_skip_calibration_in_a_second_process(model, monkeypatch, cache_dir, tmp_path):
    _, ex, _ = model
    _int8(monkeypatch)
    for x in BATCHES:
        _run(ex, x)
    want = _run(ex, TESTS[0])
    assert len(list(cache_dir.iterdir())) == 2  # the scales and the INT8 plan (no float plan was needed)
    ex.export_library(str(tmp_path / "model.so"))
    np.save(tmp_path / "x.npy", TESTS[0])
    np.save(tmp_path / "want.npy", want)
    env = dict(
        os.environ,
        PYTHONPATH=os.pathsep.join([os.path.dirname(os.path.dirname(HERE)), os.environ.get("PYTHONPATH", "")]),
    )
    args = [sys.executable, os.path.join(HERE, "runtime_worker.py")] + [
        str(tmp_path / f) for f in ("model.so", "x.npy", "want.npy")
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    assert stats["calibration_calls"] == 0
    assert stats["engines_loaded_from_cache"] == 1 and stats["engines_built"] == 0
    assert stats["int8_engines"] == 1


def test_calibrate_ahead_of_time_embeds_the_int8_plan(model, monkeypatch):
    mod, ex, _ = model
    scales = tvm_trt.calibrate(mod, None, BATCHES)
    assert len(scales) == 1
    (per_node,) = scales.values()
    assert len(per_node) == 2  # the conv's and the matmul's activation
    pmod, config = tvm_trt.partition_for_tensorrt(mod, int8_scales=scales, build_at_compile_time=True)
    assert config["use_int8"]
    runtime.reset()
    aot_out = _run(tvm_trt.build(pmod, "llvm"), TESTS[0])
    stats = tvm_trt.runtime_stats()
    assert stats["calibration_calls"] == 0 and stats["engines_built"] == 0
    assert stats["engines_from_library"] == 1 and stats["int8_engines"] == 1
    # The same batches calibrated at run time give the same scales, hence the same result.
    runtime.reset()
    _int8(monkeypatch)
    for x in BATCHES:
        _run(ex, x)
    np.testing.assert_array_equal(_run(ex, TESTS[0]), aot_out)


def test_int8_and_fp16_combine(model, monkeypatch):
    _, ex, float_ex = model
    _int8(monkeypatch)
    monkeypatch.setenv("TVM_TENSORRT_USE_FP16", "1")
    for x in BATCHES:
        _run(ex, x)
    got = _run(ex, TESTS[0])
    assert _cosine(got, _run(float_ex, TESTS[0])) > 0.99
    subgraph = next(iter(runtime._subgraphs.values()))
    slot = next(iter(subgraph.slots.values()))
    assert slot.settings.use_fp16 and slot.settings.int8
    network = slot.network[1]
    assert precision.has_half_tensors(network)
    kinds = {network.get_layer(i).type.name for i in range(network.num_layers)}
    assert {"QUANTIZE", "DEQUANTIZE"} <= kinds


def test_int8_with_multi_engine_calibrates_across_batch_sizes(monkeypatch):
    mod = dynamic_conv()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    ex, float_ex = tvm_trt.build(pmod, "llvm"), tvm.compile(mod, "llvm")
    _int8(monkeypatch, calls=2)
    monkeypatch.setenv("TVM_TENSORRT_MULTI_ENGINE", "1")
    xs = [RNG.standard_normal((n, 3, 6, 6)).astype("float32") for n in (1, 2, 1, 2)]
    outs = [_run(ex, x) for x in xs]
    for got, x in zip(outs[2:], xs[2:]):
        assert _cosine(got, _run(float_ex, x)) > 0.99
    stats = tvm_trt.runtime_stats()
    assert stats["calibration_calls"] == 2
    assert stats["int8_engines"] == 2 and stats["engines_held"] == 2  # one INT8 engine per batch size


def test_percentile_calibration_clips_outliers(model):
    mod = model[0]
    by_max = tvm_trt.calibrate(mod, None, BATCHES)
    by_percentile = tvm_trt.calibrate(mod, None, BATCHES, int8_calibration="percentile:99")
    assert by_max.keys() == by_percentile.keys()
    (key,) = by_max
    for node, args in by_max[key].items():
        for arg, peak in args.items():
            assert 0 < by_percentile[key][node][arg] < peak
    with pytest.raises(ValueError, match="must be 'max' or 'percentile:P'"):
        tvm_trt.calibrate(mod, None, BATCHES, int8_calibration="entropy")


def test_calibration_without_tensorrt_execution_falls_back_to_tvm(model, monkeypatch):
    """On a machine whose TensorRT cannot execute engines (here: CPU tensors), the calibration
    calls run TVM's float code like any other call, with the fallback warning."""
    _, ex, float_ex = model
    _int8(monkeypatch)
    monkeypatch.setenv("TVM_TENSORRT_EXECUTOR", "tensorrt")
    with pytest.warns(Warning, match="runs TVM's compiled code instead of TensorRT"):
        got = _run(ex, BATCHES[0])
    np.testing.assert_allclose(got, _run(float_ex, BATCHES[0]), rtol=1e-5, atol=1e-6)
    stats = tvm_trt.runtime_stats()
    assert stats["fallback_executions"] == 1 and stats["calibration_calls"] == 0
