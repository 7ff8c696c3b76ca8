"""The main job: Gluon ResNet-18 -> partition -> TensorRT -> export -> fresh process -> compare.

    python -m tvm_trt.testing.demo [--model resnet18_v1] [--workdir DIR]
    python -m tvm_trt.testing.demo --torch [--workdir DIR]     # torchvision ResNet-18 through from_torch instead

Weights are random (nothing can be downloaded). Where no GPU can execute TensorRT engines, the
exported library runs with TVM_TENSORRT_EXECUTOR=reference: the TensorRT plan is still built
(TensorRT-RTX builds on CPU), and the built network is evaluated layer by layer in NumPy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

from ..core import env


def _gpu_can_run_tensorrt() -> bool:
    import tvm

    from ..core import tensorrt

    dev = tvm.cuda(0)
    if not dev.exist or not tensorrt.available():
        return False
    major, minor = (int(p) for p in dev.compute_version.split("."))
    # TensorRT-RTX executes on 8.0/8.6/8.9/12.x only; NVIDIA TensorRT on 7.5+.
    if tensorrt.flavour() == "tensorrt-rtx":
        return (major, minor) in ((8, 0), (8, 6), (8, 9)) or major == 12
    return (major, minor) >= (7, 5)


def _run_exported(lib_path: str, input_path: str, output_path: str) -> None:
    """Fresh-process half: only `import tvm_trt` + load_module + VM."""
    start = time.perf_counter()
    import tvm
    from tvm import relax

    import tvm_trt

    lib = tvm.runtime.load_module(lib_path)
    dev = tvm.cuda() if env.executor() != "reference" else tvm.cpu()
    vm = relax.VirtualMachine(lib, dev)
    loaded = time.perf_counter()
    x = tvm.runtime.tensor(np.load(input_path), dev)
    first = vm["main"](x).numpy()
    first_done = time.perf_counter()
    vm["main"](x).numpy()
    second_done = time.perf_counter()
    np.save(output_path, first)
    stats = tvm_trt.runtime_stats()
    stats.update(
        load_seconds=loaded - start,
        first_call_seconds=first_done - loaded,
        second_call_seconds=second_done - first_done,
    )
    print(json.dumps(stats))


def _mxnet_model(name, times):
    import mxnet as mx

    import tvm_trt
    from tvm_trt.testing import zoo

    t = time.perf_counter()
    block, shape = zoo.build_gluon_model(name)
    x = np.random.default_rng(0).uniform(-1, 1, size=shape[zoo.INPUT_NAME]).astype("float32")
    want = block(mx.nd.array(x)).asnumpy()
    times["mxnet model + reference output"] = time.perf_counter() - t

    t = time.perf_counter()
    mod, params = tvm_trt.frontend.from_mxnet(block, shape=shape)
    times["import (MXNet -> ONNX -> Relax)"] = time.perf_counter() - t
    return "MXNet", x, want, mod, params


def _torch_model(_name, times):
    import torch
    import torchvision

    import tvm_trt

    t = time.perf_counter()
    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None)  # random weights; BatchNorm statistics measured on random data
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None  # a cumulative average over the calibration batches
    model.train()
    with torch.no_grad():
        for _ in range(2):
            model(torch.randn(8, 3, 224, 224))
    model.eval()
    x = np.random.default_rng(0).uniform(-1, 1, size=(1, 3, 224, 224)).astype("float32")
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    times["torch model + reference output"] = time.perf_counter() - t

    t = time.perf_counter()
    mod, params = tvm_trt.frontend.from_torch(model, (torch.from_numpy(x),))
    times["import (torch.export -> Relax)"] = time.perf_counter() - t
    return "PyTorch", x, want, mod, params


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="resnet18_v1")
    parser.add_argument("--torch", action="store_true", help="torchvision's resnet18 through torch.export")
    parser.add_argument("--workdir", default=None)
    parser.add_argument("--run-exported", nargs=3, metavar=("LIB", "INPUT", "OUTPUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_exported:
        _run_exported(*args.run_exported)
        return 0

    import tvm

    import tvm_trt
    from tvm_trt.report import partition_with_report

    times = {}
    workdir = args.workdir or tempfile.mkdtemp(prefix="tvm_trt_demo_")
    os.makedirs(workdir, exist_ok=True)
    source, x, want, mod, params = (_torch_model if args.torch else _mxnet_model)(args.model, times)

    t = time.perf_counter()
    mod, config, report = partition_with_report(mod, params)  # partition_for_tensorrt + its report
    times["partition_for_tensorrt (+ report)"] = time.perf_counter() - t
    print(report)

    on_gpu = _gpu_can_run_tensorrt()
    target = tvm.target.Target({"kind": "cuda"}, host="llvm") if on_gpu else tvm.target.Target("llvm")
    t = time.perf_counter()
    ex = tvm_trt.build(mod, target)
    times["tvm_trt.build"] = time.perf_counter() - t

    lib_path = os.path.join(workdir, "compiled.so")
    t = time.perf_counter()
    ex.export_library(lib_path)
    times["export_library"] = time.perf_counter() - t

    input_path, output_path = os.path.join(workdir, "input.npy"), os.path.join(workdir, "output.npy")
    np.save(input_path, x)
    env = dict(os.environ, TVM_TENSORRT_CACHE_DIR=os.path.join(workdir, "engines"))
    if not on_gpu:
        env["TVM_TENSORRT_EXECUTOR"] = "reference"
        print("no GPU here can execute TensorRT engines: running with TVM_TENSORRT_EXECUTOR=reference")
    runs = []
    for label in ("fresh process, cold cache", "fresh process, warm cache"):
        t = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "tvm_trt.testing.demo", "--run-exported", lib_path, input_path, output_path],
            env=env,
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            print(proc.stdout, proc.stderr, file=sys.stderr)
            return 1
        times[label] = time.perf_counter() - t
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    got = np.load(output_path)
    err = float(np.abs(got - want).max())

    print(f"engine build (cold): {runs[0]['build_seconds']:.2f} s, engines built {runs[0]['engines_built']}")
    print(
        f"engine cache load (warm): {runs[1]['cache_load_seconds']:.3f} s, "
        f"loaded from cache {runs[1]['engines_loaded_from_cache']}, built {runs[1]['engines_built']}"
    )
    print(
        f"first call (cold, incl. build) {runs[0]['first_call_seconds']:.2f} s; "
        f"second call {runs[0]['second_call_seconds']:.2f} s"
    )
    print("stage times:")
    for name, seconds in times.items():
        print(f"  {name:40s} {seconds:8.2f} s")
    print(f"max abs error vs {source}: {err:.3g}")
    ok = err < 1e-3
    print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
