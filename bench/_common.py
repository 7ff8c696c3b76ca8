"""Shared helpers for the benchmark scripts: machine description, timing, tables, JSON output."""

from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Sequence

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
RESULTS_DIR = os.path.join(BENCH_DIR, "results")
ROOT = os.path.dirname(BENCH_DIR)
if ROOT not in sys.path:  # run as `python bench/x.py` from a checkout
    sys.path.insert(0, ROOT)


def onnx_cache_dir() -> str:
    """Where exported zoo ONNX files are kept between runs (MXNet export costs seconds per model)."""
    return os.environ.get("TVM_TRT_BENCH_ONNX_DIR") or os.path.join(tempfile.gettempdir(), "tvm_trt_bench_onnx")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def gpu_description() -> str:
    import tvm

    dev = tvm.cuda(0)
    if dev.exist:
        return f"{dev.device_name} (sm_{dev.compute_version.replace('.', '')})"
    return "none"


def machine() -> Dict[str, str]:
    import tvm

    from tvm_trt.core import tensorrt

    trt_version = "not installed"
    if tensorrt.available():
        trt_version = f"{tensorrt.flavour()} {tensorrt.trt().__version__}"
    return {
        "cpu": cpu_model(),
        "cores": str(os.cpu_count()),
        "gpu": gpu_description(),
        "python": platform.python_version(),
        "tvm": tvm.__version__,
        "tensorrt": trt_version,
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    }


def timed(fn: Callable, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def clocked(fn: Callable, *args, **kwargs):
    """(result, {"wall_s", "cpu_s"}) of one call. CPU seconds (all threads of this process) are
    less disturbed than wall seconds when other jobs share the cores."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn(*args, **kwargs)
    return result, {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def per_call_us(fn: Callable, iters: int, repeats: int) -> Dict[str, float]:
    """Microseconds per call of ``fn()``: median and minimum over ``repeats`` loops of ``iters`` calls.

    The minimum is the least disturbed by other processes on a shared machine; the median shows
    the typical cost."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(iters):
            fn()
        samples.append((time.perf_counter() - start) / iters * 1e6)
    return {"median_us": statistics.median(samples), "min_us": min(samples)}


def table(headers: Sequence[str], rows: List[Sequence]) -> str:
    """A GitHub-flavoured markdown table (also readable as plain text)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _fmt(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def write_results(name: str, payload: Dict) -> str:
    """Write ``bench/results/<name>.json`` atomically (with the machine it ran on); returns the path."""
    os.makedirs(RESULTS_DIR, exist_ok=True)
    path = os.path.join(RESULTS_DIR, f"{name}.json")
    data = {"benchmark": name, "machine": machine(), **payload}
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=2, sort_keys=False)
        f.write("\n")
    os.replace(tmp, path)
    return path
