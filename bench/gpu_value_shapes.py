"""A value-shaped subgraph (an ONNX-style Slice whose bounds are tensors) on a CUDA device, where
TensorRT cannot run: the library loads, the bounds are read from device memory, TVM's twin runs.

    compile (here; nvcc needed):   python bench/gpu_value_shapes.py compile --out DIR [--arch sm_90]
    run (on the GPU machine):      python bench/gpu_value_shapes.py run --dir DIR

``run`` checks the DLPack copy of device values (tests/runtime/test_dlpack.py's CUDA case), then
three bound sets (three output shapes) against NumPy, and prints runtime_stats().
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings

import _common  # noqa: F401  (puts the checkout on sys.path)

import numpy as np

SHAPE = (4, 6)
BOUNDS = [([0, 1], [4, 6], [1, 2]), ([3, -1], [-5, 0], [-1, -2]), ([0, 0], [4, 6], [1, 1])]


def _module():
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(list(SHAPE), "float32"))
    b, e, s = (relax.Var(n, relax.TensorType([2], "int64")) for n in "bes")
    with bb.function("main", [x, b, e, s]):
        with bb.dataflow():
            cut = bb.emit(relax.op.dynamic_strided_slice(relax.op.nn.relu(x), b, e, s))
            out = bb.emit_output(relax.op.multiply(cut, relax.const(2.0, "float32")))
        bb.emit_func_output(out)
    return bb.get()


def compile_(out: str, arch: str) -> None:
    import tvm

    import tvm_trt

    pmod, _ = tvm_trt.partition_for_tensorrt(_module())
    print("offloaded:", list(tvm_trt.partition.offloaded_functions(pmod)))
    ex = tvm_trt.build(pmod, tvm.target.Target({"kind": "cuda", "arch": arch}, host="llvm"))
    os.makedirs(out, exist_ok=True)
    ex.export_library(os.path.join(out, "value_shapes.so"))
    np.save(os.path.join(out, "x.npy"), np.random.default_rng(0).standard_normal(SHAPE).astype("float32"))


def run(directory: str) -> None:
    import tvm

    import tvm_trt

    dev = tvm.cuda(0)
    assert dev.exist, "no CUDA device"
    sys.path.insert(0, os.path.join(_common.ROOT, "tests", "runtime"))
    import test_dlpack

    test_dlpack.test_shape_input_values_on_a_cuda_device_are_copied_to_the_host()
    print("values on the device copied to the host: ok")
    vm = tvm.relax.VirtualMachine(tvm.runtime.load_module(os.path.join(directory, "value_shapes.so")), dev)
    x = np.load(os.path.join(directory, "x.npy"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fallback warning: no TensorRT on this machine
        for b, e, s in BOUNDS:
            args = [tvm.runtime.tensor(np.array(v, "int64"), dev) for v in (b, e, s)]
            got = vm["main"](tvm.runtime.tensor(x, dev), *args).numpy()
            want = 2 * np.maximum(x, 0)[b[0] : e[0] : s[0], b[1] : e[1] : s[1]]
            assert got.shape == want.shape and np.array_equal(got, want), (b, e, s)
            print(f"bounds {b} {e} {s}: shape {got.shape}, equal to NumPy")
    print(json.dumps({k: v for k, v in tvm_trt.runtime_stats().items() if not isinstance(v, dict)}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="step", required=True)
    c = sub.add_parser("compile")
    c.add_argument("--out", required=True)
    c.add_argument("--arch", default="sm_90")
    r = sub.add_parser("run")
    r.add_argument("--dir", required=True)
    args = parser.parse_args(argv)
    compile_(args.out, args.arch) if args.step == "compile" else run(args.dir)
    return 0


if __name__ == "__main__":
    sys.exit(main())
