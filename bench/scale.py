"""The library at scale: an MLP of N MiB of float32 weights, ours vs TVM's own, same run.

Each side runs in its own subprocess (peak RSS is per process):
  ours   tvm_trt.partition_for_tensorrt + tvm_trt.build (llvm) + export_library
  tvm    tvm.compile of the same module (weights bound as constants) + export_library
and a third process per side loads the library, runs it once and reports how much host memory
the load + first call added (ours runs its TVM fallback: TensorRT cannot execute on a CPU).
The MLP: 8 matmuls (+ relu) of D x D float32 weights, D chosen so the weights total N MiB.

    python bench/scale.py [--mib 512] [--fallback 1] [--sides ours,tvm]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results

LAYERS = 8


def _rss_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _status_mib(field: str) -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def mlp(mib: int):
    """(Relax module with weights as params, params) for LAYERS matmuls of D x D float32."""
    import numpy as np
    import tvm
    from tvm import relax

    dim = int(math.sqrt(mib * 2**20 / LAYERS / 4))
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType((1, dim), "float32"))
    ws = [relax.Var(f"w{i}", relax.TensorType((dim, dim), "float32")) for i in range(LAYERS)]
    with bb.function("main", [x] + ws):
        with bb.dataflow():
            h = x
            for w in ws:
                h = bb.emit(relax.op.nn.relu(relax.op.matmul(h, w)))
            out = bb.emit_output(h)
        bb.emit_func_output(out)
    rng = np.random.default_rng(0)
    params = {}
    for i in range(LAYERS):
        w = rng.standard_normal((dim, dim), dtype=np.float32)
        w *= 1.0 / math.sqrt(dim)
        params[f"w{i}"] = tvm.runtime.tensor(w)
        del w
    return bb.get(), params, dim


def child_build(side: str, mib: int, path: str, fallback: bool) -> dict:
    import tvm
    from tvm import relax

    mod, params, dim = mlp(mib)
    start_rss = _rss_mib()
    t0 = time.perf_counter()
    if side == "ours":
        import tvm_trt

        part, config = tvm_trt.partition_for_tensorrt(mod, params)
        del mod, params
        t1 = time.perf_counter()
        ex = tvm_trt.build(part, "llvm", config, fallback=fallback)
        del part
    else:
        mod = relax.transform.BindParams("main", params)(mod)
        del params
        t1 = time.perf_counter()
        ex = tvm.compile(mod, "llvm")
        del mod
    t2 = time.perf_counter()
    ex.export_library(path)
    t3 = time.perf_counter()
    return {
        "dim": dim,
        "partition_s": round(t1 - t0, 2),
        "compile_s": round(t2 - t1, 2),
        "export_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "rss_before_mib": round(start_rss),
        "peak_rss_mib": round(_peak_mib()),
        "library_mib": round(os.path.getsize(path) / 2**20, 1),
    }


def child_load(side: str, path: str, dim: int) -> dict:
    import numpy as np
    import tvm
    from tvm import relax

    if side == "ours":
        import tvm_trt  # noqa: F401  (registers the runtime the stubs call)
    os.environ.pop("TVM_TENSORRT_EXECUTOR", None)
    x = tvm.runtime.tensor(np.ones((1, dim), "float32"))
    base, anon0, file0 = _rss_mib(), _status_mib("RssAnon"), _status_mib("RssFile")
    t0 = time.perf_counter()
    lib = tvm.runtime.load_module(path)
    vm = relax.VirtualMachine(lib, tvm.cpu())
    t1 = time.perf_counter()
    out = vm["main"](x).numpy()
    t2 = time.perf_counter()
    res = {
        "load_s": round(t1 - t0, 2),
        "first_call_s": round(t2 - t1, 2),
        "rss_after_load_call_mib": round(_rss_mib() - base),
        "anon_after_load_call_mib": round(_status_mib("RssAnon") - anon0),  # private heap
        "file_after_load_call_mib": round(_status_mib("RssFile") - file0),  # pages of the library file
        "peak_load_mib": round(_peak_mib() - base),
        "checksum": float(np.abs(out).sum()),
    }
    if side == "ours":
        res["runtime_stats"] = {k: v for k, v in tvm_trt.runtime_stats().items() if isinstance(v, int)}
    return res


def _child(args_list) -> dict:
    env = dict(os.environ)
    env.pop("TVM_TENSORRT_EXECUTOR", None)
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__)] + args_list, capture_output=True, text=True, env=env
    )
    if proc.returncode != 0:
        raise RuntimeError(f"child {args_list} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mib", type=int, default=512)
    p.add_argument("--fallback", type=int, default=1, help="tvm_trt.build(fallback=...) for our side")
    p.add_argument("--sides", default="ours,tvm")
    p.add_argument("--tag", default="", help="suffix of the JSON result name")
    p.add_argument("--child", choices=["build", "load"])
    p.add_argument("--side")
    p.add_argument("--path")
    p.add_argument("--dim", type=int)
    args = p.parse_args(argv)

    if args.child == "build":
        print(json.dumps(child_build(args.side, args.mib, args.path, bool(args.fallback))))
        return 0
    if args.child == "load":
        print(json.dumps(child_load(args.side, args.path, args.dim)))
        return 0

    weights_mib = args.mib
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for side in args.sides.split(","):
            path = os.path.join(tmp, f"{side}.so")
            res = _child(
                [
                    "--child",
                    "build",
                    "--side",
                    side,
                    "--mib",
                    str(args.mib),
                    "--path",
                    path,
                    "--fallback",
                    str(args.fallback),
                ]
            )
            try:
                res.update(_child(["--child", "load", "--side", side, "--path", path, "--dim", str(res["dim"])]))
            except RuntimeError as err:  # e.g. a library that cannot run on this machine
                res.update(load_error=str(err).splitlines()[-1], rss_after_load_call_mib=float("nan"))
            os.remove(path)
            results[side] = res
            print(side, json.dumps(res), flush=True)
    rows = []
    for side, r in results.items():
        rows.append(
            [
                {"ours": "tvm-trt", "tvm": "TVM's own"}[side],
                f"{r['library_mib'] / weights_mib:.3f}x ({r['library_mib']:.0f} MiB)",
                f"{r['partition_s']:.1f}",
                f"{r['compile_s']:.1f}",
                f"{r['export_s']:.1f}",
                f"{r['total_s']:.1f}",
                f"{r['peak_rss_mib'] / 1024:.2f} GiB ({r['peak_rss_mib'] / weights_mib:.1f}x)",
                f"{r['rss_after_load_call_mib'] / weights_mib:.2f}x (heap {r.get('anon_after_load_call_mib', 0) / weights_mib:.2f}x"
                f" + file {r.get('file_after_load_call_mib', 0) / weights_mib:.2f}x)",
            ]
        )
    headers = [
        "",
        "library / weights",
        "partition s",
        "compile s",
        "export s",
        "total s",
        "peak RSS (build+export)",
        "host RSS after load+call / weights",
    ]
    print(f"\nMLP {LAYERS} x matmul {results[next(iter(results))]['dim']}^2 float32, {weights_mib} MiB of weights")
    print(table(headers, rows))
    write_results(
        f"scale_{args.mib}mib{args.tag}",
        {"weights_mib": weights_mib, "fallback": bool(args.fallback), "results": results},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
