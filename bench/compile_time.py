"""Compile and engine-cache times for ResNet-18 / ResNet-50 (Gluon zoo, random weights).

Per model, all in one process, side by side:
  partition   tvm_trt.partition_for_tensorrt (bind params, simplify, annotate, merge)
  codegen     relax.transform.RunCodegen (spec + weights blob + stub per subgraph)
  build       tvm_trt.build of the partitioned module for LLVM (codegen + tvm.compile)
  tvm.compile the same model unpartitioned for LLVM (weights bound)
  engine cold the first VM call builds the TensorRT plans (runtime_stats()["build_seconds"])
  engine warm a fresh runtime loads them from TVM_TENSORRT_CACHE_DIR (["cache_load_seconds"])
The VM calls run with TVM_TENSORRT_EXECUTOR=reference (no TensorRT GPU needed); only the plan
build / cache load counters are compared, not the NumPy evaluation that follows them.

    python bench/compile_time.py [--models resnet18_v1,resnet50_v2]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from typing import Dict

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import clocked, table, timed, write_results
from _models import zoo_module

import numpy as np

MODELS = ["resnet18_v1", "resnet50_v2"]


def _first_call(ex, x) -> float:
    import tvm
    from tvm import relax

    vm = relax.VirtualMachine(ex, tvm.cpu())
    _, seconds = timed(vm["main"], tvm.runtime.tensor(x, tvm.cpu()))
    return seconds


def measure(name: str) -> Dict:
    import tvm
    from tvm import relax

    import tvm_trt
    from tvm_trt import runtime

    from tvm_trt.core import tensorrt

    tensorrt.available()  # load the TensorRT libraries (once per process) outside the timings
    mod, params = zoo_module(name)
    (part, config), partition_t = clocked(tvm_trt.partition_for_tensorrt, mod, params)
    _, codegen_t = clocked(relax.transform.RunCodegen({"tensorrt": {"host_target": "llvm"}}), part)
    ex, build_t = clocked(tvm_trt.build, part, "llvm", config)
    bound = relax.transform.BindParams("main", params)(mod)
    _, tvm_compile_t = clocked(tvm.compile, bound, "llvm")

    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype("float32")
    saved = {k: os.environ.get(k) for k in ("TVM_TENSORRT_CACHE_DIR", "TVM_TENSORRT_EXECUTOR")}
    with tempfile.TemporaryDirectory(prefix="tvm_trt_bench_cache_") as cache:
        os.environ["TVM_TENSORRT_CACHE_DIR"] = cache
        os.environ["TVM_TENSORRT_EXECUTOR"] = "reference"
        try:
            runtime.reset()
            cold_call_s = _first_call(ex, x)
            cold = tvm_trt.runtime_stats()
            runtime.reset()  # forget plans held in memory: the next call must read the cache
            warm_call_s = _first_call(ex, x)
            warm = tvm_trt.runtime_stats()
        finally:
            runtime.reset()
            for k, v in saved.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
    if warm["engines_built"] or warm["engines_loaded_from_cache"] != cold["engines_built"]:
        raise RuntimeError(f"{name}: the warm run did not load every plan from the cache: {warm}")
    return {
        "model": name,
        "subgraphs": cold["engines_built"],
        "partition_s": partition_t["wall_s"],
        "codegen_s": codegen_t["wall_s"],
        "tvm_trt_build_s": build_t["wall_s"],
        "tvm_compile_llvm_s": tvm_compile_t["wall_s"],
        "cpu_seconds": {
            "partition": partition_t["cpu_s"],
            "codegen": codegen_t["cpu_s"],
            "tvm_trt_build": build_t["cpu_s"],
            "tvm_compile_llvm": tvm_compile_t["cpu_s"],
        },
        "engine_build_cold_s": cold["build_seconds"],
        "engine_load_warm_s": warm["cache_load_seconds"],
        "cold_over_warm": cold["build_seconds"] / max(warm["cache_load_seconds"], 1e-9),
        "first_call_cold_s": cold_call_s,
        "first_call_warm_s": warm_call_s,
    }


def render(results) -> str:
    rows = [
        [
            r["model"],
            r["subgraphs"],
            r["partition_s"],
            r["codegen_s"],
            r["tvm_trt_build_s"],
            r["tvm_compile_llvm_s"],
            r["engine_build_cold_s"],
            r["engine_load_warm_s"],
            f"{r['cold_over_warm']:.0f}x",
        ]
        for r in results
    ]
    return table(
        [
            "model",
            "subgraphs",
            "partition s",
            "codegen s",
            "tvm_trt.build s",
            "tvm.compile (LLVM) s",
            "engine build cold s",
            "engine load warm s",
            "cold / warm",
        ],
        rows,
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=",".join(MODELS))
    args = parser.parse_args(argv)
    results = []
    for name in args.models.split(","):
        print(f"[compile_time] {name} ...", file=sys.stderr, flush=True)
        results.append(measure(name))
    print(render(results))
    path = write_results("compile_time", {"models": results})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
