"""Partition quality: tvm_trt.partition_for_tensorrt vs TVM's own pattern table, per model.

For each model: TensorRT subgraphs, ops offloaded, ops left to TVM, and the share of
multiply-accumulate work (conv / matmul MACs, from shapes) that runs in TensorRT. Both
partitioners get the same imported module with the weights bound as constants. For the
models exported from PyTorch, TensorRT's own ONNX parser (what ONNX Runtime's TensorRT
provider offloads) is measured on the same ONNX file: its subgraphs and share of ONNX nodes.

    python bench/partition_quality.py [--models resnet18_v1,transformer_block] [--quick | --torch | --families]
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
from typing import Dict

import _common  # noqa: F401  (puts the checkout on sys.path)
from _common import table, timed, write_results
from _models import EXTRA_ZOO, FAMILY_MODELS, ONNX_MODELS, TORCH_MODELS, onnx_module, torch_onnx, zoo_module

import tvm
from tvm import relax

CODEGEN = "tensorrt"
QUICK = ["resnet18_v1", "mobilenet1.0", "transformer_block", "mlp"]


# ------------------------------------------------------------------------------ MAC counting
def _shape(expr):
    ty = expr.ty
    if not isinstance(ty, relax.TensorType) or ty.shape is None:
        return None
    try:
        return [int(d) for d in ty.shape]
    except TypeError:  # symbolic dim
        return None


def call_macs(call: relax.Call) -> int:
    """Multiply-accumulates of one conv / matmul op call (0 for others or unknown shapes)."""
    name = call.op.name
    if name.startswith("relax.nn.conv") and len(call.args) >= 2:
        out, weight, data = _shape(call), _shape(call.args[1]), _shape(call.args[0])
        if out is None or weight is None or data is None:
            return 0
        # Kernel layouts from importers are OI.. (conv) / IO.. (transpose); per output (input)
        # element the work is weight[1:] products.
        if "transpose" in name:
            return math.prod(data) * math.prod(weight[1:])
        return math.prod(out) * math.prod(weight[1:])
    if name == "relax.matmul":
        out, a = _shape(call), _shape(call.args[0])
        if out is None or a is None:
            return 0
        return math.prod(out) * a[-1]
    return 0


def _op_calls(expr):
    """All op calls inside ``expr`` (nested local functions included)."""
    calls = []

    def visit(node):
        if isinstance(node, relax.Call) and isinstance(node.op, tvm.ir.Op):
            calls.append(node)

    relax.analysis.post_order_visit(expr, visit)
    return calls


def _is_offloaded(func) -> bool:
    return isinstance(func, relax.Function) and func.attrs is not None and func.attrs.get("Codegen") == CODEGEN


def analyse(mod: tvm.IRModule) -> Dict:
    """Subgraphs, op counts and MACs inside / outside the offloaded functions reached from main."""
    offloaded_ops, left_ops = 0, collections.Counter()
    mac_in, mac_out, subgraphs, sizes = 0, 0, 0, []
    seen = set()

    def visit(node):
        nonlocal offloaded_ops, mac_in, mac_out, subgraphs
        if not isinstance(node, relax.Call):
            return
        if isinstance(node.op, relax.GlobalVar):
            func = mod[node.op]
            if _is_offloaded(func):
                subgraphs += 1
                calls = _op_calls(func)
                sizes.append(len(calls))
                offloaded_ops += len(calls)
                mac_in += sum(call_macs(c) for c in calls)
            elif node.op.name_hint not in seen and isinstance(func, relax.Function):
                seen.add(node.op.name_hint)
                relax.analysis.post_order_visit(func, visit)
        elif isinstance(node.op, tvm.ir.Op):
            left_ops[node.op.name] += 1
            mac_out += call_macs(node)

    relax.analysis.post_order_visit(mod["main"], visit)
    total = mac_in + mac_out
    return {
        "subgraphs": subgraphs,
        "largest_subgraph_ops": max(sizes, default=0),
        "ops_offloaded": offloaded_ops,
        "ops_left_to_tvm": sum(left_ops.values()),
        "left_to_tvm_by_op": dict(left_ops.most_common()),
        "gmacs_total": total / 1e9,
        "gmacs_offloaded": mac_in / 1e9,
        "mac_share_offloaded": (mac_in / total) if total else None,
    }


# ---------------------------------------------------------------------------------- drivers
def load(name: str):
    if name in TORCH_MODELS:
        from tvm_trt.testing import torch_zoo

        return torch_zoo.import_onnx(torch_onnx(name))
    return onnx_module(name) if name in ONNX_MODELS else zoo_module(name)


def trt_parser(name: str):
    """TensorRT's ONNX parser on the file we import (None for models not from PyTorch)."""
    if name not in TORCH_MODELS:
        return None
    from tvm_trt.testing import torch_zoo

    cov = torch_zoo.trt_parser_coverage(torch_onnx(name))
    return {
        "subgraphs": cov.subgraphs,
        "onnx_nodes": cov.nodes,
        "nodes_supported": cov.nodes_supported,
        "coverage": cov.coverage,
    }


def _attempt(fn, *args, **kwargs):
    """(result, seconds, None) or (None, None, "ExceptionType: first line") when ``fn`` fails:
    a crash is a result of this benchmark, not the end of it."""
    try:
        result, seconds = timed(fn, *args, **kwargs)
        return result, seconds, None
    except Exception as err:  # noqa: BLE001
        return None, None, f"{type(err).__name__}: {str(err).strip().splitlines()[0][:160] if str(err).strip() else ''}"


def compare(name: str) -> Dict:
    import tvm_trt
    from tvm.relax.backend.contrib.tensorrt import partition_for_tensorrt as tvm_partition

    row = {"model": name, "trt_parser": None}
    loaded, import_s, error = _attempt(load, name)
    if error:
        return {**row, "error": f"import: {error}", "ours": None, "tvm": None}
    mod, params = loaded
    row["import_seconds"] = import_s
    # Explicit batch: the resolved default for every TensorRT >= 7 (our networks are explicit-batch).
    ours, ours_s, error = _attempt(tvm_trt.partition_for_tensorrt, mod, params, use_implicit_batch=False)
    row["ours"] = {"error": error} if error else {**analyse(ours[0]), "partition_seconds": ours_s}
    bound = relax.transform.BindParams("main", params)(mod)
    theirs, theirs_s, error = _attempt(tvm_partition, bound)
    row["tvm"] = {"error": error} if error else {**analyse(theirs), "partition_seconds": theirs_s}
    row["trt_parser"], _, error = _attempt(trt_parser, name)
    if error:
        row["trt_parser"] = {"error": error}
    return row


def _share(r):
    return "-" if r["mac_share_offloaded"] is None else f"{100 * r['mac_share_offloaded']:.1f}%"


def _ops_share(r):
    total = r["ops_offloaded"] + r["ops_left_to_tvm"]
    return f"{100 * r['ops_offloaded'] / total:.0f}%" if total else "-"


def _cells(r):
    """subgraphs, ops left in TVM, ops offloaded, MACs offloaded of one partitioner's result."""
    if not r:
        return ["-"] * 4
    if r.get("error"):
        return ["crash", "-", "-", "-"]
    return [r["subgraphs"], r["ops_left_to_tvm"], _ops_share(r), _share(r)]


def render(results) -> str:
    rows = []
    for r in results:
        o, t, p = _cells(r["ours"]), _cells(r["tvm"]), r.get("trt_parser")
        if not p:
            p_sub, p_cov = "-", "-"
        elif p.get("error"):
            p_sub, p_cov = "crash", "-"
        else:
            p_sub, p_cov = p["subgraphs"], f"{100 * p['coverage']:.0f}%"
        gmacs = f"{r['ours']['gmacs_total']:.3g}" if r.get("ours") and not r["ours"].get("error") else "-"
        model = r["model"] + (" (import failed)" if r.get("error") else "")
        rows.append([model, gmacs, o[0], t[0], p_sub, o[1], t[1], o[2], t[2], p_cov, o[3], t[3]])
    return table(
        [
            "model",
            "GMACs",
            "subgraphs (ours)",
            "subgraphs (TVM)",
            "subgraphs (TRT parser)",
            "ops left in TVM (ours)",
            "ops left in TVM (TVM)",
            "ops offloaded (ours)",
            "ops offloaded (TVM)",
            "ONNX nodes (TRT parser)",
            "MACs offloaded (ours)",
            "MACs offloaded (TVM)",
        ],
        rows,
    )


def all_models():
    from tvm_trt.testing import zoo

    return list(zoo.GLUON_ZOO) + EXTRA_ZOO + list(ONNX_MODELS) + TORCH_MODELS


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", help="comma-separated model names (default: all)")
    parser.add_argument("--quick", action="store_true", help=f"only {', '.join(QUICK)}")
    parser.add_argument("--torch", action="store_true", help="only the models exported from PyTorch")
    parser.add_argument(
        "--families",
        action="store_true",
        help="only the model families of tvm_trt.testing.torch_zoo_families (YOLO, timm, CLIP, ...)",
    )
    parser.add_argument("--output", default="partition_quality", help="results name (bench/results/NAME.json)")
    args = parser.parse_args(argv)
    names = (
        args.models.split(",")
        if args.models
        else (QUICK if args.quick else TORCH_MODELS if args.torch else FAMILY_MODELS if args.families else all_models())
    )
    results = []
    for name in names:
        print(f"[partition_quality] {name} ...", file=sys.stderr, flush=True)
        results.append(compare(name))
    print(render(results))
    for r in results:
        by = {k: (r[k] or {}).get("error") or (r[k] or {}).get("left_to_tvm_by_op") for k in ("ours", "tvm")}
        print(
            f"\n{r['model']}: {r.get('error') or ''}left in TVM (ours) {by['ours'] or '{}'}; (TVM) {by['tvm'] or '{}'}"
        )
    path = write_results(args.output, {"models": results})
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
