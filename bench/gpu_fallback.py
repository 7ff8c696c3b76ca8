"""The TVM fallback on a GPU where TensorRT cannot run: ResNet-18, tvm-trt vs TVM's plain CUDA build.

Two steps, two machines:

  compile (here; nvcc needed for a CUDA target; the model from torchvision, or --onnx FILE, e.g.
  the Gluon zoo's export: python -c "from tvm_trt import zoo; print(zoo.onnx_path_for('resnet18_v1', DIR))"
  in the MXNet environment):
    python bench/gpu_fallback.py compile --out DIR [--arch sm_90] [--onnx resnet18.onnx]
  writes DIR/resnet18_tvm_trt.so (tvm_trt.build with fallback), DIR/resnet18_tvm.so
  (tvm.compile of the same module), DIR/input.npy and DIR/meta.json.

  run (on the GPU machine; TVM's wheel and this checkout on PYTHONPATH, no TensorRT needed):
    python bench/gpu_fallback.py run --dir DIR [--iters 100] [--device cuda]
  loads both libraries in one process, checks that every offloaded subgraph ran TVM's code on
  the GPU (one fallback warning each, weights copied to the GPU once) and that the outputs
  match TVM's plain build, then reports the median latency of ``--iters`` runs of each.
  Writes bench/results/gpu_fallback.json.

``--target llvm`` / ``--device cpu`` run the same two steps on a CPU (how the script is tested).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import warnings

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, write_results

import numpy as np


def _resnet18(batch: int, onnx_path: str = ""):
    if onnx_path:
        from tvm_trt import frontend

        mod, params = frontend.from_onnx(onnx_path)
        (shape,) = [tuple(int(d) for d in p.ty.shape.values) for p in mod["main"].params[:1]]
        return mod, params, np.random.default_rng(0).standard_normal(shape).astype("float32")
    import torch
    import torchvision

    from tvm_trt import frontend

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None).eval()
    with torch.no_grad():  # random init: give BatchNorm non-trivial statistics
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.1, 0.1)
                m.running_var.uniform_(0.5, 1.5)
    x = torch.randn(batch, 3, 224, 224)
    mod, params = frontend.from_torch(model, (x,))
    return mod, params, x.numpy()


def compile_step(out: str, target_kind: str, arch: str, batch: int, onnx_path: str = "") -> dict:
    import tvm
    from tvm import relax

    import tvm_trt

    os.makedirs(out, exist_ok=True)
    mod, params, x = _resnet18(batch, onnx_path)
    if target_kind == "cuda":
        target = tvm.target.Target({"kind": "cuda", "arch": arch}, host={"kind": "llvm"})
    else:
        target = tvm.target.Target("llvm")
    meta = {"target": str(target.kind.name), "arch": arch if target_kind == "cuda" else "", "batch": batch}

    start = time.perf_counter()
    part, config = tvm_trt.partition_for_tensorrt(mod, params)
    ex = tvm_trt.build(part, target, config)  # fallback=True is the default
    meta["tvm_trt_build_s"] = round(time.perf_counter() - start, 1)
    meta["subgraphs"] = len(tvm_trt.partition.offloaded_functions(part))
    ex.export_library(os.path.join(out, "resnet18_tvm_trt.so"))

    start = time.perf_counter()
    bound = relax.transform.BindParams("main", params)(mod)
    with target:
        plain = tvm.compile(bound, target)
    meta["tvm_compile_s"] = round(time.perf_counter() - start, 1)
    plain.export_library(os.path.join(out, "resnet18_tvm.so"))

    np.save(os.path.join(out, "input.npy"), x)
    for name in ("resnet18_tvm_trt.so", "resnet18_tvm.so"):
        meta[f"{name}_mib"] = round(os.path.getsize(os.path.join(out, name)) / 2**20, 1)
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def _median_ms(fn, dev, iters: int) -> float:
    fn()
    dev.sync()
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        fn()
        dev.sync()
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times)


def run_step(directory: str, device: str, iters: int) -> dict:
    import tvm
    from tvm import relax

    import tvm_trt
    from tvm_trt.core import tensorrt
    from tvm_trt.runtime import fallback

    os.environ.pop("TVM_TENSORRT_EXECUTOR", None)  # the real executor: TensorRT, else the fallback
    with open(os.path.join(directory, "meta.json")) as f:
        meta = json.load(f)
    dev = tvm.cuda(0) if device == "cuda" else tvm.cpu(0)
    if not dev.exist:
        raise SystemExit(f"no {device} device here")
    x_np = np.load(os.path.join(directory, "input.npy"))
    x = tvm.runtime.tensor(x_np, dev)

    ours = relax.VirtualMachine(tvm.runtime.load_module(os.path.join(directory, "resnet18_tvm_trt.so")), dev)
    plain = relax.VirtualMachine(tvm.runtime.load_module(os.path.join(directory, "resnet18_tvm.so")), dev)
    tvm_trt.runtime.reset()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = ours["main"](x)
        got = (got[0] if isinstance(got, (list, tuple)) or type(got).__name__ == "Array" else got).numpy()
    want = plain["main"](x)
    want = (want[0] if isinstance(want, (list, tuple)) or type(want).__name__ == "Array" else want).numpy()
    reasons = [str(w.message) for w in caught if issubclass(w.category, fallback.TensorRTFallbackWarning)]
    stats = tvm_trt.runtime_stats()
    on_device = sorted({key[1] for key in fallback._tensors})  # DLPack device types of the weights given to TVM
    result = {
        "device": dev.device_name if device == "cuda" else "cpu",
        "tensorrt": f"{tensorrt.flavour()} {tensorrt.trt().__version__}" if tensorrt.available() else "not installed",
        "subgraphs": meta["subgraphs"],
        "fallback_warnings": len(reasons),
        "fallback_reason": reasons[0].split(": ", 1)[-1] if reasons else "",
        "fallback_executions": stats["fallback_executions"],
        "tensorrt_executions": stats["executions"],
        "weights_device_types": on_device,
        "max_abs_err": float(np.abs(got - want).max()),
        "max_abs_ref": float(np.abs(want).max()),
    }
    ok = (
        len(reasons) == meta["subgraphs"]
        and stats["fallback_executions"] == meta["subgraphs"]
        and stats["executions"] == 0
        and np.allclose(got, want, rtol=1e-4, atol=1e-4)
        and (device != "cuda" or on_device == [2])  # kDLCUDA: the fallback ran on the GPU's memory
    )
    result["fallback_checked"] = bool(ok)
    result["tvm_trt_fallback_ms"] = round(_median_ms(lambda: ours["main"](x), dev, iters), 3)
    result["tvm_plain_ms"] = round(_median_ms(lambda: plain["main"](x), dev, iters), 3)
    result["iters"] = iters
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    c = sub.add_parser("compile")
    c.add_argument("--out", required=True)
    c.add_argument("--target", default="cuda", choices=["cuda", "llvm"])
    c.add_argument("--arch", default="sm_90")
    c.add_argument("--batch", type=int, default=1)
    c.add_argument("--onnx", default="", help="an ONNX ResNet-18 instead of torchvision's")
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    r.add_argument("--iters", type=int, default=100)
    r.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    if args.step == "compile":
        print(json.dumps(compile_step(args.out, args.target, args.arch, args.batch, args.onnx), indent=2))
        return 0
    res = run_step(args.dir, args.device, args.iters)
    print(json.dumps(res, indent=2))
    print(
        table(
            ["device", "TensorRT", "subgraphs fell back", "max abs err vs TVM", "tvm-trt (fallback) ms", "TVM plain ms"],
            [[res["device"], res["tensorrt"], f"{res['fallback_executions']}/{res['subgraphs']}",
              f"{res['max_abs_err']:.2e}", res["tvm_trt_fallback_ms"], res["tvm_plain_ms"]]],
        )
    )
    if not args.no_write:
        write_results(f"gpu_fallback_{args.device}", res)
    return 0 if res["fallback_checked"] else 1


if __name__ == "__main__":
    sys.exit(main())
