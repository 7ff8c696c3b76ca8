"""Engine cache: content keys, damaged files rebuilt, concurrent writers, unwritable dirs,
other processes loading from the cache or from plans embedded in the library."""

import json
import logging
import os
import subprocess
import sys

import numpy as np
import pytest

import tvm_trt
from harness import random_inputs, run_llvm, run_offloaded
from runtime_models import conv_softmax
from tvm_trt.core import tensorrt
from tvm_trt.runtime import cache

pytestmark = pytest.mark.skipif(not tensorrt.available(), reason="needs a TensorRT library")

INPUTS = {"x": ((2, 3, 8, 8), "float32")}
HERE = os.path.dirname(__file__)


@pytest.fixture(scope="module")
def model():
    mod = conv_softmax()
    pmod, _ = tvm_trt.partition_for_tensorrt(mod)
    args = random_inputs(INPUTS)
    return pmod, args, run_llvm(mod, args)[0]


def _run(model):
    pmod, args, want = model
    np.testing.assert_allclose(run_offloaded(pmod, args)[0], want, rtol=1e-4, atol=1e-5)
    return tvm_trt.runtime_stats()


@pytest.mark.parametrize("damage", ["truncated", "corrupted", "foreign", "empty"])
def test_damaged_entry_is_reported_and_rebuilt(model, cache_dir, damage, caplog):
    tvm_trt.runtime.reset()
    _run(model)
    (path,) = cache_dir.glob("*.plan")
    data = path.read_bytes()
    path.write_bytes(
        {
            "truncated": data[: len(data) // 2],
            "corrupted": data[:-10] + bytes(10),
            "foreign": b"not a plan" * 100,
            "empty": b"",
        }[damage]
    )
    tvm_trt.runtime.reset()
    with caplog.at_level(logging.WARNING, logger="tvm_trt"):
        stats = _run(model)
    assert stats["engines_built"] == 1 and stats["engines_loaded_from_cache"] == 0
    assert any(path.name in r.getMessage() and "rebuilding" in r.getMessage() for r in caplog.records)
    assert cache.decode(path.read_bytes()) is not None  # replaced by a good entry
    tvm_trt.runtime.reset()
    assert _run(model)["engines_loaded_from_cache"] == 1


def test_unwritable_cache_warns_once_and_runs(model, tmp_path, monkeypatch, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache directory should be")
    monkeypatch.setenv("TVM_TENSORRT_CACHE_DIR", str(blocker / "engines"))
    with caplog.at_level(logging.WARNING, logger="tvm_trt"):
        for _ in range(2):
            tvm_trt.runtime.reset()
            stats = _run(model)
            assert stats["engines_built"] == 1 and stats["executions"] == 1
    assert sum("not writable" in r.getMessage() for r in caplog.records) == 1


def test_models_share_a_directory(model, cache_dir):
    tvm_trt.runtime.reset()
    _run(model)
    other = conv_softmax(batch=1, size=6)
    pother, _ = tvm_trt.partition_for_tensorrt(other)
    x = random_inputs({"x": ((1, 3, 6, 6), "float32")})
    np.testing.assert_allclose(run_offloaded(pother, x)[0], run_llvm(other, x)[0], rtol=1e-4, atol=1e-5)
    assert len(list(cache_dir.glob("*.plan"))) == 2  # same symbol names, different content keys


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory):
    pmod, args, want = model
    d = tmp_path_factory.mktemp("lib")
    np.save(d / "x.npy", args[0])
    np.save(d / "want.npy", want)
    tvm_trt.build(pmod, "llvm").export_library(str(d / "lazy.so"))
    tvm_trt.build(pmod, "llvm", build_at_compile_time=True).export_library(str(d / "aot.so"))
    return d


def _spawn(lib_dir, lib, cache_dir):
    env = dict(os.environ, TVM_TENSORRT_EXECUTOR="reference", PYTHONPATH=os.pathsep.join([HERE, os.getcwd()]))
    if cache_dir is None:
        env.pop("TVM_TENSORRT_CACHE_DIR", None)
    else:
        env["TVM_TENSORRT_CACHE_DIR"] = str(cache_dir)
    args = [
        sys.executable,
        os.path.join(HERE, "runtime_worker.py"),
        str(lib_dir / lib),
        str(lib_dir / "x.npy"),
        str(lib_dir / "want.npy"),
    ]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stats(proc):
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_processes_build_concurrently_then_load(exported, tmp_path):
    cache_dir = tmp_path / "shared"
    first = [_stats(p) for p in [_spawn(exported, "lazy.so", cache_dir) for _ in range(2)]]
    assert all(s["executions"] == 1 for s in first)
    assert sum(s["engines_built"] + s["engines_loaded_from_cache"] for s in first) == 2
    files = os.listdir(cache_dir)
    assert len(files) == 1 and files[0].endswith(".plan"), files  # no temp files left behind
    assert cache.decode((cache_dir / files[0]).read_bytes()) is not None
    later = _stats(_spawn(exported, "lazy.so", cache_dir))
    assert later["engines_built"] == 0 and later["engines_loaded_from_cache"] == 1


def test_plans_built_at_compile_time_need_no_build(exported, tmp_path):
    assert (exported / "aot.so").stat().st_size > (exported / "lazy.so").stat().st_size
    stats = _stats(_spawn(exported, "aot.so", None))
    assert stats["engines_built"] == 0 and stats["engines_from_library"] == 1 and stats["executions"] == 1
