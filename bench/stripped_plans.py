"""Library size of ResNet-18 (torchvision, random weights) with plans built at compile time, with and
without weight-stripped plans, beside the lazy library (no plans) and the weights themselves.

    python bench/stripped_plans.py [--onnx resnet18.onnx]

A stripped plan can only be built where this TensorRT builds refittable plans (TensorRT-RTX 1.7
needs a CUDA driver for that): elsewhere the row says so instead of a size.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results


def measure(onnx_path: str = "") -> dict:
    import numpy as np

    import tvm_trt
    from gpu_fallback import _resnet18
    from tvm_trt.runtime import stripped

    mod, params, _ = _resnet18(1, onnx_path)
    weight_mib = sum(np.asarray(p.numpy() if hasattr(p, "numpy") else p).nbytes for p in params.values()) / 2**20
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, options in [
            ("lazy (no plans)", {}),
            ("plans at compile time", dict(build_at_compile_time=True, strip_weights=False)),
            ("weight-stripped plans", dict(build_at_compile_time=True, strip_weights=True)),
        ]:
            if options.get("strip_weights") and not stripped.can_strip():
                rows.append(
                    {
                        "library": label,
                        "library_mib": None,
                        "x_weights": None,
                        "build_s": None,
                        "note": "this TensorRT cannot build refittable plans here (no CUDA driver)",
                    }
                )
                continue
            part, config = tvm_trt.partition_for_tensorrt(mod, params, **options)
            start = time.perf_counter()
            path = os.path.join(tmp, "lib.so")
            tvm_trt.build(part, "llvm", config, fallback=False).export_library(path)
            size = os.path.getsize(path) / 2**20
            rows.append(
                {
                    "library": label,
                    "library_mib": round(size, 1),
                    "x_weights": round(size / weight_mib, 2),
                    "build_s": round(time.perf_counter() - start, 1),
                    "note": "",
                }
            )
    return {"weights_mib": round(weight_mib, 1), "rows": rows}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--onnx", default="", help="an ONNX ResNet-18 instead of torchvision's")
    args = p.parse_args(argv)
    result = measure(args.onnx)
    print(f"ResNet-18, {result['weights_mib']} MiB of weights (LLVM host, fallback off)")
    print(
        table(
            ["library", "MiB", "x weights", "build+export s", "note"],
            [
                [
                    r["library"],
                    r["library_mib"] if r["library_mib"] is not None else "-",
                    r["x_weights"] if r["x_weights"] is not None else "-",
                    r["build_s"] if r["build_s"] is not None else "-",
                    r["note"],
                ]
                for r in result["rows"]
            ],
        )
    )
    print(write_results("stripped_plans", result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
