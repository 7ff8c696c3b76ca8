"""What the TVM fallback costs: library size and compile time with and without it (LLVM target).

Models: ResNet-18 (torchvision, random weights; or --onnx FILE) and the MLP of bench/scale.py at 64 MiB.

    python bench/fallback_cost.py [--models resnet18,mlp] [--onnx resnet18.onnx]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results


def _model(name: str, onnx_path: str = ""):
    if name == "resnet18":
        from gpu_fallback import _resnet18

        mod, params, _ = _resnet18(1, onnx_path)
        return mod, params
    from scale import mlp

    mod, params, _ = mlp(64)
    return mod, params


def measure(name: str, onnx_path: str = "") -> list:
    import tvm_trt

    mod, params = _model(name, onnx_path)
    part, config = tvm_trt.partition_for_tensorrt(mod, params)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for fallback in (False, True):
            start = time.perf_counter()
            ex = tvm_trt.build(part, "llvm", config, fallback=fallback)
            build_s = time.perf_counter() - start
            path = os.path.join(tmp, f"{fallback}.so")
            start = time.perf_counter()
            ex.export_library(path)
            rows.append(
                {
                    "model": name,
                    "fallback": fallback,
                    "build_s": round(build_s, 2),
                    "export_s": round(time.perf_counter() - start, 2),
                    "library_mib": round(os.path.getsize(path) / 2**20, 2),
                }
            )
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", default="resnet18,mlp")
    p.add_argument("--onnx", default="", help="an ONNX ResNet-18 instead of torchvision's")
    args = p.parse_args(argv)
    rows = [r for name in args.models.split(",") for r in measure(name, args.onnx)]
    print(
        table(
            ["model", "fallback", "tvm_trt.build s", "export s", "library MiB"],
            [[r["model"], r["fallback"], r["build_s"], r["export_s"], r["library_mib"]] for r in rows],
        )
    )
    write_results("fallback_cost", {"rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
