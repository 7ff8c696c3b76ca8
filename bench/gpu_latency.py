"""GPU latency and throughput: tvm_trt offload vs TVM's own CUDA build vs the bare TensorRT engine.

Needs a CUDA GPU on which the installed TensorRT can execute engines (TensorRT-RTX: compute
capability 8.0 / 8.6 / 8.9 / 12.x; NVIDIA TensorRT: its supported GPUs). Without one it prints
why and exits 0, so ``make bench``-style drivers can always call it.

For each batch (1, 32) and precision (fp32, fp16) of a Gluon zoo model (random weights):
  tvm_trt   partition_for_tensorrt(use_fp16=...) + tvm_trt.build for CUDA, VM on tvm.cuda()
  tvm_cuda  tvm.compile of the same model for CUDA (fp16: relax ToMixedPrecision)
  bare_trt  the plan of the offloaded subgraph, executed with execute_async_v3 alone
            (only when the whole model is one subgraph)
The three outputs are compared before anything is timed; a variant whose output disagrees with
TVM's beyond the precision's tolerance is reported as wrong, never timed.

    python bench/gpu_latency.py [--model resnet18_v1] [--iters 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Dict, Optional

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results
from _models import zoo_module

import numpy as np

TOLERANCE = {"fp32": 1e-3, "fp16": 5e-2}  # max abs error relative to the output's max magnitude


def _cuda_target(dev):
    import tvm

    arch = "sm_" + dev.compute_version.replace(".", "")
    return tvm.target.Target({"kind": "cuda", "arch": arch}, host=tvm.target.Target("llvm"))


def why_no_gpu() -> Optional[str]:
    """None when TensorRT engines can execute on GPU 0, else the reason."""
    import tvm

    from tvm_trt.core import tensorrt

    dev = tvm.cuda(0)
    if not dev.exist:
        return "no CUDA GPU on this machine"
    if not tensorrt.available():
        return "TensorRT is not installed (pip install 'tvm-trt[rtx]' or NVIDIA TensorRT)"
    # The real path on a one-op model: partition, build, deserialise the engine, execute.
    from dispatch_overhead import _relu_module

    import tvm_trt
    from tvm import relax

    os.environ["TVM_TENSORRT_EXECUTOR"] = "tensorrt"
    try:
        mod, config = tvm_trt.partition_for_tensorrt(_relu_module())
        vm = relax.VirtualMachine(tvm_trt.build(mod, _cuda_target(dev), config), dev)
        x = np.linspace(-1, 1, 8, dtype="float32").reshape(1, 8)
        y = vm["main"](tvm.runtime.tensor(x, dev)).numpy()
    except Exception as err:  # the runtime's error names the library and the GPU's problem
        return f"{tensorrt.flavour()} {tensorrt.trt().__version__} cannot execute on {dev.device_name}: {err}"
    finally:
        tvm_trt.runtime.reset()
    if not np.allclose(y, np.maximum(x, 0)):
        return f"a one-op TensorRT engine computed a wrong relu on {dev.device_name}: {y}"
    return None


def _timeit(fn, dev, iters: int) -> float:
    """Seconds per call, the GPU synchronised around the loop."""
    for _ in range(max(3, iters // 10)):
        fn()
    dev.sync()
    start = time.perf_counter()
    for _ in range(iters):
        fn()
    dev.sync()
    return (time.perf_counter() - start) / iters


def _err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got.astype("float32") - want.astype("float32")).max() / max(np.abs(want).max(), 1e-6))


def measure(model: str, batch: int, precision: str, iters: int) -> Dict:
    import tvm
    from tvm import relax

    import tvm_trt
    from tvm_trt.runtime import engine as engine_mod
    from tvm_trt.runtime.dlpack import TensorRef

    dev = tvm.cuda(0)
    target = _cuda_target(dev)
    fp16 = precision == "fp16"
    mod, params = zoo_module(model, batch=batch)
    x_np = np.random.default_rng(0).standard_normal((batch, 3, 224, 224)).astype("float32")
    x = tvm.runtime.tensor(x_np, dev)

    bound = relax.transform.BindParams("main", params)(mod)
    if fp16:
        bound = relax.transform.ToMixedPrecision(out_dtype="float16")(bound)
    tvm_vm = relax.VirtualMachine(tvm.compile(bound, target), dev)
    want = tvm_vm["main"](x).numpy()

    tvm_trt.runtime.reset()
    part, config = tvm_trt.partition_for_tensorrt(mod, params, use_fp16=fp16)
    ours_vm = relax.VirtualMachine(tvm_trt.build(part, target, config), dev)
    ours_out = ours_vm["main"](x).numpy()  # first call builds the engine(s)

    row = {"model": model, "batch": batch, "precision": precision, "subgraphs": len(tvm_trt.runtime._subgraphs)}
    variants = {"tvm_cuda": (lambda: tvm_vm["main"](x), want), "tvm_trt": (lambda: ours_vm["main"](x), ours_out)}
    sg = next(iter(tvm_trt.runtime._subgraphs.values())) if row["subgraphs"] == 1 else None
    if sg is not None and len(sg.spec["inputs"]) == 1 and len(sg.spec["outputs"]) == 1:
        # The whole model is one engine with one input and one output: time it without TVM.
        settings = engine_mod.BuildSettings.from_env(sg.spec["config"])
        eng = engine_mod.Engine(engine_mod.build_plan(sg.spec, sg.weights, [x_np.shape], settings), sg.symbol)
        out = tvm.runtime.empty(want.shape, sg.spec["outputs"][0]["dtype"], dev)

        def ref(t):
            return TensorRef(t.data_ptr(), t.device.dlpack_device_type(), t.device.index, tuple(t.shape), str(t.dtype))

        eng.execute([ref(x)], [ref(out)])
        dev.sync()
        ctx = eng.context()
        variants["bare_trt"] = (lambda: ctx.execute_async_v3(0), out.numpy())
    for name, (fn, got) in variants.items():
        err = _err(got, want)
        if err > TOLERANCE[precision] and name != "tvm_cuda":
            row[name] = {"error": f"output differs from TVM's by {err:.3g} (relative): not timed"}
            continue
        seconds = _timeit(fn, dev, iters)
        row[name] = {"latency_ms": seconds * 1e3, "images_per_s": batch / seconds, "rel_err_vs_tvm": err}
    tvm_trt.runtime.reset()
    return row


def render(rows) -> str:
    def cell(r, k, field):
        v = r.get(k)
        return "-" if v is None else (v.get(field) if "error" not in v else "wrong")

    return table(
        ["model", "batch", "precision", "tvm_trt ms", "tvm_cuda ms", "bare_trt ms", "tvm_trt img/s", "tvm_cuda img/s"],
        [
            [
                r["model"],
                r["batch"],
                r["precision"],
                cell(r, "tvm_trt", "latency_ms"),
                cell(r, "tvm_cuda", "latency_ms"),
                cell(r, "bare_trt", "latency_ms"),
                cell(r, "tvm_trt", "images_per_s"),
                cell(r, "tvm_cuda", "images_per_s"),
            ]
            for r in rows
        ],
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="resnet18_v1")
    parser.add_argument("--iters", type=int, default=100)
    args = parser.parse_args(argv)
    reason = why_no_gpu()
    if reason:
        print(f"gpu_latency: skipped: {reason}")
        return 0
    rows = [measure(args.model, b, p, args.iters) for b in (1, 32) for p in ("fp32", "fp16")]
    print(render(rows))
    print(f"\nwrote {write_results('gpu_latency', {'rows': rows})}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
