"""Run every benchmark (each in its own process), print their tables and the time each took,
and refresh the results section of docs/benchmarks.md from bench/results/*.json.

    python bench/run_all.py [--quick] [--no-docs]

--quick passes --quick to partition_quality (four models instead of all) and leaves the docs
alone. gpu_latency exits at once, saying why, on machines without a TensorRT-capable GPU.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import _common
from _common import table, write_results

DOCS = os.path.join(_common.ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- results:begin (bench/run_all.py) -->", "<!-- results:end -->"
SCRIPTS = ["partition_quality.py", "compile_time.py", "dispatch_overhead.py", "gpu_latency.py"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/benchmarks.md")
    args = parser.parse_args(argv)
    timings, failed = [], []
    start_all = time.perf_counter()
    for script in SCRIPTS:
        cmd = [sys.executable, os.path.join(_common.BENCH_DIR, script)]
        if args.quick and script == "partition_quality.py":
            cmd.append("--quick")
        print(f"\n=== {script} ===", flush=True)
        start = time.perf_counter()
        rc = subprocess.call(cmd)
        timings.append([script, time.perf_counter() - start, rc])
        if rc:
            failed.append(script)
    total = time.perf_counter() - start_all
    print("\n=== wall time per benchmark ===")
    print(table(["script", "seconds", "exit code"], timings + [["total", total, ""]]))
    write_results(
        "run_all", {"scripts": [{"script": s, "seconds": t, "rc": rc} for s, t, rc in timings], "total_seconds": total}
    )
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    if not (args.quick or args.no_docs):
        update_docs()
        print(f"updated {os.path.relpath(DOCS, _common.ROOT)}")
    return 0


def _load(name):
    path = os.path.join(_common.RESULTS_DIR, f"{name}.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        return json.load(f)


def results_markdown() -> str:
    """The latest results as markdown: the machine, then each benchmark's table."""
    import compile_time
    import dispatch_overhead
    import gpu_latency
    import partition_quality

    pq, ct, do, gl, ra = (
        _load(n) for n in ("partition_quality", "compile_time", "dispatch_overhead", "gpu_latency", "run_all")
    )
    m = (pq or ct or do)["machine"]
    parts = [
        f"Machine: {m['cpu']}, {m['cores']} cores, GPU: {m['gpu']}; Python {m['python']}, TVM {m['tvm']}, "
        f"TensorRT: {m['tensorrt']}; run {m['date']}.",
    ]
    if ra:
        parts.append(f"`make bench` wall time: {ra['total_seconds'] / 60:.1f} min.")
    if pq:
        parts += ["### Partition quality", partition_quality.render(pq["models"])]
    if ct:
        parts += ["### Compile and engine-cache times (seconds)", compile_time.render(ct["models"])]
    if do:
        parts += ["### Dispatch overhead per subgraph call", dispatch_overhead.render(do)]
    if gl:
        parts += ["### GPU latency", gpu_latency.render(gl["rows"])]
    else:
        parts += [
            "### GPU latency",
            "Not measured: no TensorRT-capable GPU on this machine (`bench/gpu_latency.py` says so and exits 0).",
        ]
    return "\n\n".join(parts)


def update_docs() -> None:
    with open(DOCS) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise RuntimeError(f"{DOCS} lacks the markers {BEGIN!r} / {END!r}")
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(DOCS, "w") as f:
        f.write(f"{head}{BEGIN}\n{results_markdown()}\n{END}{tail}")


if __name__ == "__main__":
    sys.exit(main())
