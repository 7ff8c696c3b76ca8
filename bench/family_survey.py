"""Models of families the tests do not run, against the bar the tests hold: where TensorRT's own ONNX
parser takes a model whole, tvm-trt offloads it as one subgraph with nothing left in TVM, and the numbers
of the built TensorRT-RTX plans (reference executor) equal onnxruntime's.

    python bench/family_survey.py [--models densenet121,llama] [--output family_survey]

Each model runs in its own process (an export or a build may crash or hang); exports are kept in
onnx_cache_dir(). Writes bench/results/<output>.json and prints a markdown table.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import traceback

from _common import onnx_cache_dir, table, write_results

TOLERANCE = 1e-4  # relative to the output's largest magnitude, as tests/model_families.py


def _exported(name: str):
    import numpy as np
    import onnx

    from tvm_trt.testing import torch_zoo

    path = os.path.join(onnx_cache_dir(), f"family_{name}.onnx")
    if not os.path.exists(path):
        exported = torch_zoo.export(name)
        os.makedirs(onnx_cache_dir(), exist_ok=True)
        onnx.save(exported.onnx, path + ".tmp")
        np.savez(path + ".npz", **exported.inputs)
        os.replace(path + ".tmp", path)
    with np.load(path + ".npz") as inputs:
        return onnx.load(path), dict(inputs)


def _row_order_err(got, want, scale: float):
    """The error with the rows (last axis) of ``got`` matched to their nearest in ``want``, where that
    matching is one-to-one, else None: a detection head's output sorted by score swaps near-tied rows
    when the plan's rounding reorders them, which is not a wrong number."""
    import numpy as np

    if got.ndim < 2 or got.size // got.shape[-1] > 4096:
        return None
    g, w = got.reshape(-1, got.shape[-1]).astype("float64"), want.reshape(-1, want.shape[-1])
    dist = np.abs(g[:, None, :] - w[None, :, :]).max(-1)
    nearest = dist.argmin(1)
    if len(set(nearest.tolist())) != len(g):
        return None
    return float(dist[np.arange(len(g)), nearest].max()) / scale


def measure(name: str) -> dict:
    """One model: parser coverage, our partition, numbers vs onnxruntime; a failing stage is recorded."""
    os.environ.setdefault("TVM_TENSORRT_EXECUTOR", "reference")
    import numpy as np

    row = {"model": name, "stage": "export"}
    start = time.time()
    try:
        from tvm_trt.testing import torch_zoo, torch_zoo_families

        row["family"] = torch_zoo_families.family_of(name)
        model, inputs = _exported(name)
        row["nodes"] = len(model.graph.node)
        row["stage"] = "parser"
        parser = torch_zoo.trt_parser_coverage(model)
        row["parser"] = {"subgraphs": parser.subgraphs, "coverage": parser.coverage}
        row["stage"] = "onnxruntime"
        want = torch_zoo.run_onnxruntime(model, inputs)
        row["stage"] = "import"
        mod, params = torch_zoo.import_onnx(model)
        row["stage"] = "partition"
        import tvm
        from tvm import relax

        import tvm_trt
        from tvm_trt.report import partition_with_report

        pmod, _, report = partition_with_report(mod, params, use_implicit_batch=False)
        reasons = sorted({f"{r.op}: {r.reason}" for r in report.rejected})
        row["ours"] = {
            "subgraphs": len(report.subgraphs),
            "coverage": report.coverage,
            "ops": report.ops_total,
            "left": report.ops_total - report.ops_offloaded,
            "reasons": reasons[:8],
        }
        row["stage"] = "build"
        vm = relax.VirtualMachine(tvm_trt.build(pmod, "llvm"), tvm.cpu())
        row["stage"] = "run"
        got = vm["main"](*[tvm.runtime.tensor(v) for v in inputs.values()])
        got = got.numpy() if isinstance(got, tvm.runtime.Tensor) else got[0].numpy()
        scale = max(1.0, float(np.abs(want).max()))
        row["max_err"] = float(np.abs(got.astype("float64") - want).max()) / scale if got.shape == want.shape else None
        row["numbers_ok"] = row["max_err"] is not None and row["max_err"] <= 2 * TOLERANCE
        if row["max_err"] is not None and not row["numbers_ok"]:
            row["max_err_any_row_order"] = _row_order_err(got, want, scale)
        row["stage"] = "done"
    except Exception as e:  # recorded, the survey goes on
        row["error"] = f"{type(e).__name__}: {str(e).strip().splitlines()[0][:300] if str(e).strip() else ''}"
        traceback.print_exc()  # to the child's stderr, not into the results
    row["seconds"] = round(time.time() - start, 1)
    return row


def _verdict(row: dict) -> str:
    if "error" in row:
        return f"fails at {row['stage']}"
    parser, ours = row["parser"], row["ours"]
    whole = parser["subgraphs"] == 1 and parser["coverage"] == 1.0
    if whole and not (ours["subgraphs"] == 1 and ours["left"] == 0):
        return "misses the bar"
    if not whole and ours["coverage"] < parser["coverage"]:
        return "below the parser"
    if row["numbers_ok"]:
        return "meets the bar"
    reordered = row.get("max_err_any_row_order")
    return "rows reordered" if reordered is not None and reordered <= 2 * TOLERANCE else "wrong numbers"


def _cells(row: dict):
    parser, ours = row.get("parser"), row.get("ours")
    return [
        row.get("family", "-"),
        row["model"],
        row.get("nodes", "-"),
        f"{parser['subgraphs']} / {parser['coverage']:.0%}" if parser else "-",
        f"{ours['subgraphs']} / {ours['coverage']:.0%} ({ours['left']} left)" if ours else "-",
        f"{row['max_err']:.1e}" if row.get("max_err") is not None else "-",
        _verdict(row),
        row["seconds"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", help="comma-separated names (default: every survey model)")
    parser.add_argument("--output", default="family_survey")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per model")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one model, print its JSON row
    args = parser.parse_args()
    if args.one:
        print("ROW " + json.dumps(measure(args.one)))
        return
    from tvm_trt.testing import torch_zoo_families

    names = args.models.split(",") if args.models else [n for ns in torch_zoo_families.SURVEY.values() for n in ns]
    rows = []
    for name in names:
        try:
            out = subprocess.run(
                [sys.executable, __file__, "--one", name], capture_output=True, text=True, timeout=args.timeout
            )
            lines = [ln for ln in out.stdout.splitlines() if ln.startswith("ROW ")]
            row = json.loads(lines[-1][4:]) if lines else {"model": name, "stage": "crash", "seconds": 0}
            if not lines:
                row["error"] = f"process exited {out.returncode}: {out.stderr.strip().splitlines()[-1:]}"
        except subprocess.TimeoutExpired:
            row = {"model": name, "stage": "timeout", "error": f"over {args.timeout} s", "seconds": args.timeout}
        rows.append(row)
        print(" | ".join(str(c) for c in _cells(row)), row.get("error", ""), flush=True)
        write_results(args.output, {"rows": rows})
    headers = ["family", "model", "ONNX nodes", "TRT parser: subgraphs / nodes", "ours: subgraphs / ops", "max err"]
    print(table(headers + ["verdict", "s"], [_cells(r) for r in rows]))


if __name__ == "__main__":
    main()
