"""The whole node suite in worker processes (``python tests/node_suite.py``), and the caches of plain TVM's
and TensorRT's parser's verdicts written from such a run (``--write-cache``)."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
from collections import Counter
from typing import Dict, List, Tuple

from node_suite import CACHE, PARSER_CACHE, cases, onnx_version, run_case


def _run_chunk(names: List[str], sides: Tuple[str, ...], out_path: str) -> None:
    with open(out_path, "a") as out:
        for name in names:
            out.write(json.dumps({"name": name, **{s: list(run_case(name, s)) for s in sides}}) + "\n")
            out.flush()


def run_all(names: List[str], sides: Tuple[str, ...], out_path: str, jobs: int = 2) -> Dict[str, Dict]:
    """{name: {side: [verdict, detail]}}; results stream to ``out_path`` (JSON lines; cases
    already there are skipped). Worker processes take interleaved shares; a case that kills
    its worker (a segfault in a compiler) gets the verdict "crash"."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    while True:
        done = _read_lines(out_path)
        todo = [n for n in names if n not in done]
        if not todo:
            return {n: done[n] for n in names}
        procs = [ctx.Process(target=_run_chunk, args=(todo[i::jobs], sides, out_path)) for i in range(jobs)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        if all(p.exitcode == 0 for p in procs):
            continue
        done = _read_lines(out_path)
        for i, p in enumerate(procs):  # the first unfinished case of a dead worker killed it
            rest = [n for n in todo[i::jobs] if n not in done]
            if p.exitcode != 0 and rest:
                with open(out_path, "a") as out:
                    crash = {s: ["crash", f"the process died (exit code {p.exitcode})"] for s in sides}
                    out.write(json.dumps({"name": rest[0], **crash}) + "\n")


def _read_lines(path: str) -> Dict[str, Dict]:
    p = pathlib.Path(path)
    if not p.exists():
        return {}
    out = {}
    for line in p.read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec.pop("name")] = rec
    return out


def write_cache(lines_path: str, side: str = "tvm") -> Dict:
    """The cache of plain TVM's (or TensorRT's parser's) verdicts, from a run's JSON lines."""
    results = _read_lines(lines_path)
    versions = {"onnx": onnx_version()}
    if side == "parser":
        from tvm_trt.core import tensorrt

        versions["tensorrt"] = ".".join(map(str, tensorrt.version()))
    data = {**versions, "cases": {n: [results[n][side][0], results[n][side][1][:100]] for n in sorted(results)}}
    path = PARSER_CACHE if side == "parser" else CACHE
    path.parent.mkdir(exist_ok=True)
    lines = [f"{json.dumps(n)}: {json.dumps(v)}" for n, v in data["cases"].items()]  # one case a line
    head = ", ".join(f"{json.dumps(k)}: {json.dumps(v)}" for k, v in versions.items())
    path.write_text('{%s, "cases": {\n%s\n}}\n' % (head, ",\n".join(lines)))
    return data


def main() -> None:
    os.environ.setdefault("TVM_TENSORRT_EXECUTOR", "reference")  # no TensorRT GPU needed

    ap = argparse.ArgumentParser(
        description="ONNX's backend node-test suite, run through plain TVM and through tvm_trt"
    )
    ap.add_argument("-j", "--jobs", type=int, default=2)
    ap.add_argument("--sides", default="tvm", help="comma-separated: tvm, tvm_trt, parser")
    ap.add_argument("--out", default="node_suite_results.jsonl", help="JSON lines, resumable")
    ap.add_argument("--only", help="a file of case names to run (default: every case)")
    ap.add_argument(
        "--write-cache",
        action="store_true",
        help="write the caches of the sides run (plain TVM's, TensorRT parser's) from --out",
    )
    args = ap.parse_args()
    names = pathlib.Path(args.only).read_text().split() if args.only else sorted(cases())
    sides = tuple(args.sides.split(","))
    res = run_all(names, sides, args.out, args.jobs)
    for side in sides:
        print(side, Counter(r[side][0] for r in res.values()))
    if args.write_cache:
        for side in set(sides) & {"tvm", "parser"}:
            write_cache(args.out, side)
