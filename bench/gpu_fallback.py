"""The TVM fallback on a GPU where TensorRT cannot run: tvm-trt vs TVM's plain CUDA build, one process.

Two steps, two machines:

  compile (here; nvcc needed for a CUDA target):
    python bench/gpu_fallback.py compile --out DIR [--arch sm_90] [--models resnet18,bert] [--onnx resnet18.onnx]
  per model writes DIR/<model>_tvm_trt.so (tvm_trt.build with fallback), DIR/<model>_tvm.so
  (tvm.compile of the same module), DIR/<model>_inputs.npz and DIR/meta.json. Models, batch 1, random
  weights: torchvision ResNet-18 (BatchNorm statistics randomised), or --onnx FILE (e.g. the Gluon zoo's
  export); a BertModel of 12 layers, hidden 256, sequence 128 (biases and norm parameters randomised so
  that every weight is distinct).

  run (on the GPU machine; TVM's wheel and this checkout on PYTHONPATH, no TensorRT needed):
    python bench/gpu_fallback.py run --dir DIR [--iters 300] [--rounds 5] [--device cuda]
  loads both libraries of each model in one process, checks that every offloaded subgraph ran
  TVM's code on the GPU (one fallback warning each, weights copied to the GPU once) and that the
  outputs equal TVM's plain build, counts the calls into our Python per inference, then times
  the two interleaved: ``--rounds`` x (``--iters`` calls of each), median per call of each round,
  median over rounds. Writes bench/results/gpu_fallback_<device>.json.

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
        return mod, params, [np.random.default_rng(0).standard_normal(shape).astype("float32")]
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
    return mod, params, [x.numpy()]


def _bert(batch: int, layers: int = 12, hidden: int = 256, seq: int = 128):
    import torch
    import transformers

    from tvm_trt import frontend

    torch.manual_seed(0)
    config = transformers.BertConfig(
        hidden_size=hidden,
        num_hidden_layers=layers,
        num_attention_heads=hidden // 64,
        intermediate_size=4 * hidden,
        attn_implementation="eager",
    )
    bert = transformers.BertModel(config, add_pooling_layer=False).eval()
    with torch.no_grad():  # random init leaves biases 0 and norms 1/0: make every weight distinct
        for name, p in bert.named_parameters():
            if name.endswith("bias") or "LayerNorm" in name:
                p.uniform_(-0.1, 0.1).add_(1.0 if name.endswith("LayerNorm.weight") else 0.0)

    class LastHidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, ids):
            return self.bert(input_ids=ids, return_dict=False)[0]

    ids = torch.randint(0, config.vocab_size, (batch, seq))
    mod, params = frontend.from_torch(LastHidden().eval(), (ids,))
    return mod, params, [ids.numpy()]


MODELS = {"resnet18": _resnet18, "bert": _bert}


def compile_step(out: str, target_kind: str, arch: str, batch: int, models, onnx_path: str = "") -> dict:
    import tvm
    from tvm import relax

    import tvm_trt

    os.makedirs(out, exist_ok=True)
    if target_kind == "cuda":
        target = tvm.target.Target({"kind": "cuda", "arch": arch}, host={"kind": "llvm"})
    else:
        target = tvm.target.Target("llvm")
    meta = {
        "target": str(target.kind.name),
        "arch": arch if target_kind == "cuda" else "",
        "batch": batch,
        "models": {},
    }
    for name in models:
        mod, params, inputs = _resnet18(batch, onnx_path) if name == "resnet18" else MODELS[name](batch)
        info = {}
        start = time.perf_counter()
        part, config = tvm_trt.partition_for_tensorrt(mod, params)
        ex = tvm_trt.build(part, target, config)  # fallback=True is the default
        info["tvm_trt_build_s"] = round(time.perf_counter() - start, 1)
        info["subgraphs"] = len(tvm_trt.partition.offloaded_functions(part))
        info["weights_in_subgraphs"] = sum(len(weights_of) for weights_of in _twin_weights(part))
        ex.export_library(os.path.join(out, f"{name}_tvm_trt.so"))
        start = time.perf_counter()
        bound = relax.transform.BindParams("main", params)(mod)
        with target:
            plain = tvm.compile(bound, target)
        info["tvm_compile_s"] = round(time.perf_counter() - start, 1)
        plain.export_library(os.path.join(out, f"{name}_tvm.so"))
        np.savez(os.path.join(out, f"{name}_inputs.npz"), *inputs)
        meta["models"][name] = info
    with open(os.path.join(out, "meta.json"), "w") as f:
        json.dump(meta, f, indent=2)
    return meta


def _twin_weights(part):
    """Per offloaded function, its tensor constants (what the TVM twin receives as weights)."""
    from tvm_trt import partition
    from tvm_trt.codegen import weights_writer

    return [weights_writer.flatten(func, name)[1] for name, func in partition.offloaded_functions(part).items()]


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


def _first(value):
    return (value[0] if isinstance(value, (list, tuple)) or type(value).__name__ == "Array" else value).numpy()


def _interleaved_ms(fns, dev, iters: int, rounds: int):
    """Per function, the median over ``rounds`` of the median ms per call; rounds alternate the
    functions so that drift of the machine hits all alike."""
    per = {k: [] for k in fns}
    for _ in range(rounds):
        for key, fn in fns.items():
            per[key].append(_median_ms(fn, dev, iters))
    return {k: statistics.median(v) for k, v in per.items()}


def _weights_call_us(path: str, dev, args) -> float:
    """Median us of the Python body of the one call a fallen-back inference makes (``tvm_trt.weights``),
    on the arguments a real call passed (captured by a benchmark-only wrapper in a fresh VM)."""
    import tvm
    import tvm_ffi
    from tvm import relax

    from tvm_trt.core.spec_format import WEIGHTS_FUNC
    from tvm_trt.runtime import fallback, register

    captured = []
    tvm_ffi.register_global_func(
        WEIGHTS_FUNC, lambda *a: captured.append(a) or fallback.weights(*a), override=True
    )  # BENCHMARK-ONLY capture
    try:
        relax.VirtualMachine(tvm.runtime.load_module(path), dev)["main"](*args)
    finally:
        register()
    call = captured[0]
    times = []
    for _ in range(2000):
        start = time.perf_counter()
        fallback.weights(*call)
        times.append((time.perf_counter() - start) * 1e6)
    return round(statistics.median(times), 3)


def run_step(directory: str, device: str, iters: int, rounds: int) -> dict:
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
    result = {
        "device": dev.device_name if device == "cuda" else "cpu",
        "tensorrt": f"{tensorrt.flavour()} {tensorrt.trt().__version__}" if tensorrt.available() else "not installed",
        "iters": iters,
        "rounds": rounds,
        "models": {},
    }
    checked = True
    for name, info in meta["models"].items():
        with np.load(os.path.join(directory, f"{name}_inputs.npz")) as npz:
            args = [tvm.runtime.tensor(npz[k], dev) for k in npz.files]
        ours = relax.VirtualMachine(tvm.runtime.load_module(os.path.join(directory, f"{name}_tvm_trt.so")), dev)
        plain = relax.VirtualMachine(tvm.runtime.load_module(os.path.join(directory, f"{name}_tvm.so")), dev)
        tvm_trt.runtime.reset()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = _first(ours["main"](*args))
        want = _first(plain["main"](*args))
        reasons = [str(w.message) for w in caught if issubclass(w.category, fallback.TensorRTFallbackWarning)]
        before = tvm_trt.runtime_stats()
        ours["main"](*args)
        stats = tvm_trt.runtime_stats()
        on_device = sorted({key[1] for key in fallback._tensors})  # DLPack device types of the twins' weights
        row = {
            "subgraphs": info["subgraphs"],
            "weights_in_subgraphs": info.get("weights_in_subgraphs"),
            "fallback_warnings": len(reasons),
            "fallback_reason": reasons[0].split(": ", 1)[-1] if reasons else "",
            "fallback_executions": before["fallback_executions"],  # after the first call
            "tensorrt_executions": stats["executions"],
            "python_calls_per_inference": stats["python_calls"] - before["python_calls"],
            "weights_device_types": on_device,
            "max_abs_err": float(np.abs(got.astype("float64") - want).max()),
            "max_abs_ref": float(np.abs(want).max()),
        }
        ok = (
            len(reasons) == info["subgraphs"]
            and stats["executions"] == 0
            and np.allclose(got, want, rtol=1e-4, atol=1e-4)
            and (device != "cuda" or on_device == [2])  # kDLCUDA: the fallback ran on the GPU's memory
        )
        row["fallback_checked"] = bool(ok)
        checked = checked and ok
        variants = {"ours": lambda vm=ours, a=args: vm["main"](*a), "plain": lambda vm=plain, a=args: vm["main"](*a)}
        times = _interleaved_ms(variants, dev, iters, rounds)
        row["tvm_trt_fallback_ms"] = round(times["ours"], 4)
        row["tvm_plain_ms"] = round(times["plain"], 4)
        row["ratio"] = round(times["ours"] / times["plain"], 4)
        # back to back, no sync between calls: the GPU's own time when the host keeps ahead of it
        evaluated = {
            k: vm.time_evaluator("main", dev, number=200, repeat=rounds)(*args)
            for k, vm in (("ours", ours), ("plain", plain))
        }
        row["time_evaluator_ms"] = {k: round(statistics.median(r.results) * 1e3, 4) for k, r in evaluated.items()}
        row["weights_call_body_us"] = _weights_call_us(os.path.join(directory, f"{name}_tvm_trt.so"), dev, args)
        result["models"][name] = row
    result["fallback_checked"] = checked
    return result


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="step", required=True)
    c = sub.add_parser("compile")
    c.add_argument("--out", required=True)
    c.add_argument("--target", default="cuda", choices=["cuda", "llvm"])
    c.add_argument("--arch", default="sm_90")
    c.add_argument("--batch", type=int, default=1)
    c.add_argument("--models", default="resnet18,bert", help="comma-separated: " + ", ".join(MODELS))
    c.add_argument("--onnx", default="", help="an ONNX ResNet-18 instead of torchvision's")
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    r.add_argument("--device", default="cuda", choices=["cuda", "cpu"])
    r.add_argument("--iters", type=int, default=300)
    r.add_argument("--rounds", type=int, default=5)
    r.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)

    if args.step == "compile":
        models = [m for m in args.models.split(",") if m]
        print(json.dumps(compile_step(args.out, args.target, args.arch, args.batch, models, args.onnx), indent=2))
        return 0
    res = run_step(args.dir, args.device, args.iters, args.rounds)
    print(json.dumps(res, indent=2))
    print(render(res))
    if not args.no_write:
        write_results(f"gpu_fallback_{args.device}", res)
    return 0 if res["fallback_checked"] else 1


def render(res) -> str:
    rows = [
        [
            name,
            f"{m['fallback_executions']}/{m['subgraphs']}",
            m["weights_in_subgraphs"],
            m["python_calls_per_inference"],
            f"{m['max_abs_err']:.2e}",
            m["tvm_plain_ms"],
            m["tvm_trt_fallback_ms"],
            m["ratio"],
        ]
        for name, m in res["models"].items()
    ]
    head = f"{res['device']}, TensorRT: {res['tensorrt']}, {res['rounds']} rounds x {res['iters']} calls, interleaved\n"
    return head + table(
        [
            "model",
            "subgraphs fell back",
            "weights",
            "Python calls / inference",
            "max abs err vs TVM",
            "TVM plain ms",
            "tvm-trt (fallback) ms",
            "ratio",
        ],
        rows,
    )


if __name__ == "__main__":
    sys.exit(main())
