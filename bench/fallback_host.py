"""Host time the TVM fallback adds per inference, on a CPU (a stand-in for the GPU host's launch-bound case).

A chain of ``--layers`` (matmul + bias + relu) on a 1x8 tensor, 2 weights per layer, all in one offloaded
subgraph: tvm_trt.build for LLVM (TensorRT cannot run on host tensors, so the subgraph falls back) vs
tvm.compile of the same module. The kernels are tiny, so the difference is the VM's and our runtime's
host work per inference: the stub, ``<symbol>_ok``, the one call into Python and the call of the twin.
Also counts the VM instructions of ``main`` and of the twin in the executable (stable where times are not).
Thread CPU time, minimum over loops of 200 calls.

    python bench/fallback_host.py [--layers 100]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results

import numpy as np


def _chain(layers: int):
    from tvm import relax

    rng = np.random.default_rng(0)
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, 8), "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            y = x
            for _ in range(layers):
                w = relax.const((rng.standard_normal((8, 8)) * 0.3).astype("float32"))
                b = relax.const((rng.standard_normal((8,)) * 0.1).astype("float32"))
                y = bb.emit(relax.op.nn.relu(relax.op.add(relax.op.matmul(y, w), b)))
            out = bb.emit_output(y)
        bb.emit_func_output(out)
    return bb.get()


def _cpu_us(fn, x, loops: int = 60, n: int = 200) -> float:
    best = float("inf")
    for _ in range(loops):
        start = time.thread_time()
        for _ in range(n):
            fn(x)
        best = min(best, (time.thread_time() - start) / n * 1e6)
    return best


def _calls(text: str, function: str) -> int:
    body = text.split(f"@{function}:\n", 1)[1].split("\n\n", 1)[0]
    return sum(1 for line in body.splitlines() if line.strip().startswith("call"))


def measure(layers: int) -> dict:
    import tvm
    from tvm import relax

    import tvm_trt
    from tvm_trt.runtime import fallback, reset

    mod = _chain(layers)
    part, config = tvm_trt.partition_for_tensorrt(mod)
    ex = tvm_trt.build(part, "llvm", config)
    plain_ex = tvm.compile(mod, "llvm")
    ours, plain = relax.VirtualMachine(ex, tvm.cpu()), relax.VirtualMachine(plain_ex, tvm.cpu())
    x = tvm.runtime.tensor(np.ones((1, 8), "float32"))
    reset()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fallback.TensorRTFallbackWarning)
        got = ours["main"](x).numpy()
    if not np.array_equal(got, plain["main"](x).numpy()) or tvm_trt.runtime_stats()["fallback_executions"] != 1:
        raise SystemExit("the fallback did not run or its output differs from TVM's")
    times = {"ours": [], "plain": []}
    for _ in range(3):  # interleaved
        times["ours"].append(_cpu_us(ours["main"], x))
        times["plain"].append(_cpu_us(plain["main"], x))
    text, plain_text = ex.as_text(), plain_ex.as_text()
    result = {
        "layers": layers,
        "weights": 2 * layers,
        "tvm_trt_fallback_us": round(min(times["ours"]), 2),
        "tvm_plain_us": round(min(times["plain"]), 2),
        "vm_calls": {
            "main": _calls(text, "main"),
            "twin": _calls(text, "tensorrt_0_tvm"),
            "plain_main": _calls(plain_text, "main"),
        },
    }
    result["host_overhead_us"] = round(result["tvm_trt_fallback_us"] - result["tvm_plain_us"], 2)
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--layers", type=int, default=100)
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    res = measure(args.layers)
    calls = res["vm_calls"]
    print(
        table(
            ["weights", "TVM plain us", "tvm-trt (fallback) us", "overhead us", "VM calls main + twin / plain"],
            [
                [
                    res["weights"],
                    res["tvm_plain_us"],
                    res["tvm_trt_fallback_us"],
                    res["host_overhead_us"],
                    f"{calls['main']} + {calls['twin']} / {calls['plain_main']}",
                ]
            ],
        )
    )
    if not args.no_write:
        write_results("fallback_host", res)
    return 0


if __name__ == "__main__":
    sys.exit(main())
