"""Dispatch overhead: microseconds our runtime adds per offloaded subgraph call.

A one-op model (relu on a 1x8 float32 tensor) is measured three ways through the Relax VM on CPU:

  tvm_llvm      the model compiled by tvm.compile for LLVM (a bare VM call + a tiny kernel)
  python_noop   call_dps_packed into a Python function that does nothing: the floor any
                Python-implemented runtime pays to cross from the VM into Python and back
  stub_entry_noop  the same, with tvm_trt.run replaced (BENCHMARK-ONLY) by a Python function that
                returns at once: the cost of reaching Python through our stub
  tvm_trt_stub  the model partitioned and built by tvm_trt; the call goes VM -> TIR stub (reads
                the DLTensors, its state byte) -> tvm_trt.run -> Subgraph.call (tensor records,
                input checks, executor choice, counters) and stops where an engine would enqueue;
                then the VM asks the TIR guard tensorrt_0_ok whether TVM's twin must run.
                BENCHMARK-ONLY STUB: the loaded subgraph's ``_run_tensorrt`` is replaced by a
                do-nothing callable on this one instance (no TensorRT GPU here), so the number
                excludes engine execution and includes everything our runtime does around it.

overhead = tvm_trt_stub - tvm_llvm (goal: <= 4 us). Wall time (min over repeats) and the thread's CPU time
(min over short loops: preemption by other processes on a shared machine does not count) are both
reported. A cProfile of the stub path names the hot spots.

    python bench/dispatch_overhead.py [--iters N] [--repeats R] [--no-profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import time
from typing import Dict

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import per_call_us, table, write_results

import numpy as np

SHAPE = (1, 8)
NOOP_FUNC = "tvm_trt_bench.noop"


def _relu_module():
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(SHAPE, "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            y = bb.emit_output(relax.op.nn.relu(x))
        bb.emit_func_output(y)
    return bb.get()


def _noop_module():
    from tvm import relax

    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType(SHAPE, "float32"))
    with bb.function("main", [x]):
        y = bb.emit(relax.call_dps_packed(NOOP_FUNC, [x], relax.TensorType(SHAPE, "float32")))
        bb.emit_func_output(y)
    return bb.get()


def _vm(ex):
    import tvm
    from tvm import relax

    return relax.VirtualMachine(ex, tvm.cpu())


def _tvm_trt_executable():
    import tvm_trt

    mod, config = tvm_trt.partition_for_tensorrt(_relu_module())
    return tvm_trt.build(mod, "llvm", config)


def _stubbed_tvm_trt_vm(x):
    """A VM over the tvm_trt build of the relu model whose one subgraph does no execution."""
    from tvm_trt import runtime

    vm = _vm(_tvm_trt_executable())
    runtime.reset()
    vm["main"](x)  # first call: the stub hands its blob to tvm_trt.load (reference executor)
    subgraphs = list(runtime._subgraphs.values())
    if len(subgraphs) != 1:
        raise RuntimeError(f"expected one offloaded subgraph, found {len(subgraphs)}")
    # BENCHMARK-ONLY: stand-in for engine.execute on this instance (no TensorRT GPU here).
    subgraphs[0]._run_tensorrt = lambda shapes, inputs, outputs: None
    return vm


def measure(iters: int = 2000, repeats: int = 7, profile: bool = True) -> Dict:
    import tvm
    import tvm_ffi

    x = tvm.runtime.tensor(np.linspace(-1, 1, 8, dtype="float32").reshape(SHAPE), tvm.cpu())
    tvm_ffi.register_global_func(NOOP_FUNC, lambda a, out: None, override=True)

    saved = os.environ.get("TVM_TENSORRT_EXECUTOR")
    os.environ["TVM_TENSORRT_EXECUTOR"] = "reference"
    try:
        stub_vm = _stubbed_tvm_trt_vm(x)
        os.environ["TVM_TENSORRT_EXECUTOR"] = "tensorrt"  # the production path; execution is stubbed
        llvm_main = _vm(tvm.compile(_relu_module(), "llvm"))["main"]
        noop_main = _vm(tvm.compile(_noop_module(), "llvm"))["main"]
        stub_main = stub_vm["main"]
        for fn in (llvm_main, noop_main, stub_main):  # warm up
            for _ in range(min(iters, 200)):
                fn(x)
        # Interleave the variants so that load from other processes hits all of them alike.
        samples = {"tvm_llvm": [], "python_noop": [], "tvm_trt_stub": []}
        for _ in range(repeats):
            for key, fn in (("tvm_llvm", llvm_main), ("python_noop", noop_main), ("tvm_trt_stub", stub_main)):
                samples[key].append(per_call_us(lambda fn=fn: fn(x), iters, 1)["min_us"])
        cpu = {
            key: _cpu_us(fn, x, iters, repeats)
            for key, fn in (("tvm_llvm", llvm_main), ("python_noop", noop_main), ("tvm_trt_stub", stub_main))
        }
        samples["stub_entry_noop"] = _entry_noop_us(x, iters, repeats)
        breakdown = _breakdown(stub_main, x, iters, repeats)
        hot = _profile(stub_main, x, iters) if profile else None
    finally:
        from tvm_trt import runtime

        runtime.reset()
        if saved is None:
            os.environ.pop("TVM_TENSORRT_EXECUTOR", None)
        else:
            os.environ["TVM_TENSORRT_EXECUTOR"] = saved

    result = {
        "shape": list(SHAPE),
        "iters": iters,
        "repeats": repeats,
        "per_call_us": {k: {"min": min(v), "median": float(np.median(v))} for k, v in samples.items()},
    }
    per = result["per_call_us"]
    result["overhead_us"] = {
        "vs_tvm_llvm_min": per["tvm_trt_stub"]["min"] - per["tvm_llvm"]["min"],
        "vs_tvm_llvm_median": per["tvm_trt_stub"]["median"] - per["tvm_llvm"]["median"],
        "vs_python_noop_min": per["tvm_trt_stub"]["min"] - per["python_noop"]["min"],
        # the split: entering Python through the stub vs our runtime's Python code
        "stub_crossing_min": per["stub_entry_noop"]["min"] - per["tvm_llvm"]["min"],
        "runtime_python_min": per["tvm_trt_stub"]["min"] - per["stub_entry_noop"]["min"],
    }
    result["cpu_us"] = cpu
    result["overhead_us"]["cpu_vs_tvm_llvm_min"] = cpu["tvm_trt_stub"] - cpu["tvm_llvm"]
    result["breakdown_us"] = breakdown
    if hot is not None:
        result["profile"] = hot
    return result


def _cpu_us(fn, x, iters: int, repeats: int) -> float:
    """Minimum CPU time of this thread per call over loops of ``iters // 10`` calls (at least 20)."""
    n, best = max(20, iters // 10), float("inf")
    for _ in range(repeats * 10):
        start = time.thread_time()
        for _ in range(n):
            fn(x)
        best = min(best, (time.thread_time() - start) / n * 1e6)
    return best


def _entry_noop_us(x, iters: int, repeats: int):
    """A fresh build of the same model whose ``tvm_trt.run`` is (BENCHMARK-ONLY, restored after)
    a Python function that returns 0 at once: VM + TIR stub + crossing into Python, no runtime.
    A fresh library because a stub looks its packed function up once, on its first call."""
    import tvm_ffi

    from tvm_trt import runtime

    ex = _tvm_trt_executable()
    tvm_ffi.register_global_func("tvm_trt.run", lambda key, *args: 0, override=True)
    try:
        main = _vm(ex)["main"]
        for _ in range(min(iters, 200)):
            main(x)
        return [per_call_us(lambda: main(x), iters, 1)["min_us"] for _ in range(repeats)]
    finally:
        runtime.register()


def _breakdown(vm_main, x, iters: int, repeats: int) -> Dict[str, float]:
    """Minimum us per call of the runtime's pieces, called directly from Python on the arguments
    one real VM call passed (captured by a benchmark-only wrapper around the instance's call)."""
    from tvm_trt import runtime
    from tvm_trt.runtime import subgraph

    ((key, sg),) = runtime._subgraphs.items()
    captured = []
    sg.call = lambda *args: captured.append(args) or 0  # BENCHMARK-ONLY capture
    try:
        keep = vm_main(x)  # noqa: F841  (the output tensor the captured pointer points into)
    finally:
        del sg.call  # back to the class's method
    device_type, device_id, rest = captured[0]
    refs = sg.refs(device_type, device_id, rest)
    pieces = {
        "tvm_trt.run (Python entry)": lambda: runtime._run(key, device_type, device_id, *rest),
        "Subgraph.call": lambda: sg.call(device_type, device_id, rest),
        "Subgraph.refs (%d tensors)" % len(refs): lambda: sg.refs(device_type, device_id, rest),
        "check_inputs": lambda: sg.check_inputs(refs[: sg.num_inputs]),
        "executor_mode": subgraph.executor_mode,
        "bump (stats lock)": lambda: subgraph.bump("executions", python_calls=1),
    }
    return {name: min(per_call_us(fn, iters, 1)["min_us"] for _ in range(repeats)) for name, fn in pieces.items()}


def _profile(fn, x, iters: int):
    """cProfile of ``iters`` stubbed calls: the top functions by own time, in us per call."""
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(iters):
        fn(x)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    rows = []
    for (path, line, func), (_, ncalls, tottime, cumtime, _) in stats.stats.items():
        rows.append(
            {
                "function": f"{os.path.basename(path)}:{line}({func})",
                "calls_per_iter": ncalls / iters,
                "own_us_per_iter": tottime / iters * 1e6,
                "cum_us_per_iter": cumtime / iters * 1e6,
            }
        )
    rows.sort(key=lambda r: -r["own_us_per_iter"])
    return rows[:15]


def render(result) -> str:
    per = result["per_call_us"]
    rows = [[k, v["min"], v["median"]] for k, v in per.items()]
    out = table(["variant (relu 1x8, VM on CPU)", "us/call (min)", "us/call (median)"], rows)
    o = result["overhead_us"]
    out += (
        f"\n\noverhead of tvm_trt per subgraph call vs plain TVM: {o['vs_tvm_llvm_min']:.1f} us (min), "
        f"{o['vs_tvm_llvm_median']:.1f} us (median); of which above the bare Python crossing: "
        f"{o['vs_python_noop_min']:.1f} us (min)\n"
        f"split: VM -> stub -> Python crossing {o['stub_crossing_min']:.1f} us, "
        f"our runtime's Python {o['runtime_python_min']:.1f} us (min)\n"
        f"thread CPU time per call (min): "
        + ", ".join(f"{k} {v:.2f} us" for k, v in result["cpu_us"].items())
        + f"; overhead {o['cpu_vs_tvm_llvm_min']:.1f} us"
    )
    out += "\n\nwhere it goes (pieces called directly from Python, min us per call):\n"
    out += table(["piece", "us"], [[k, v] for k, v in result["breakdown_us"].items()])
    if "profile" in result:
        out += "\n\ncProfile of the stubbed path (own time, us per call; profiling inflates it):\n"
        out += table(
            ["function", "calls/iter", "own us", "cum us"],
            [
                [r["function"], r["calls_per_iter"], r["own_us_per_iter"], r["cum_us_per_iter"]]
                for r in result["profile"][:10]
            ],
        )
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args(argv)
    result = measure(args.iters, args.repeats, profile=not args.no_profile)
    print(render(result))
    path = write_results("dispatch_overhead", result)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
