"""Op parity, derived from TVM's frontends: every Relax op that TVM's ONNX importer and its
exported-program (PyTorch) frontend emit, with our TensorRT converter or the reason it has none.

The op list is harvested, not written by hand: every case of ONNX's backend node suite is imported
with ``tvm.relax.frontend.onnx.from_onnx``, and the first sample of every PyTorch OpInfo (torch's
own op test database) is exported with ``torch.export`` and imported with
``from_exported_program``; the Relax ops of the imported modules are collected. Harvesting takes
minutes, so its result is cached in ``data/frontend_ops.json``; the table is then derived from
that list and the converter registry, and ``tests/test_op_coverage.py`` fails when it is stale.

    python tests/op_coverage.py            # rewrite docs/op-coverage.md from the cached harvest
    python tests/op_coverage.py --harvest  # harvest again first (needs onnx, torch, expecttest)
    python tests/op_coverage.py --check    # exit 1 when docs/op-coverage.md is stale
"""

from __future__ import annotations

import json
import pathlib
import sys
import warnings
from typing import Dict, Iterable, List, Set

HERE = pathlib.Path(__file__).parent
CACHE = HERE / "data" / "frontend_ops.json"
TABLE = HERE.parent / "docs" / "op-coverage.md"
EXAMPLES = 4  # example cases kept per op and frontend

# Why an op the frontends emit has no converter. Every harvested op without a converter needs an
# entry (the staleness test says which is missing); an entry for an op that gained a converter or
# is no longer emitted fails too, so the table stays true.
_DATA_SHAPE = "its output shape depends on the data (TensorRT needs shapes computable from input shapes)"
_NOT_TENSOR = "works on TVM values that are not tensors (shapes, tuples, PrimValues): nothing to run on TensorRT"
_PENDING = "not converted yet; TensorRT can express it"
NO_CONVERTER: Dict[str, str] = {
    "relax.call_tir": "TVM lowered the op to a TIR PrimFunc: no Relax op is left to convert",
    "relax.nonzero": _DATA_SHAPE,
    "relax.unique": _DATA_SHAPE,
    "relax.shape_of": _NOT_TENSOR,
    "relax.shape_to_tensor": "turns a TVM shape value into a tensor: it stays with the shape arithmetic in TVM",
    "relax.tensor_to_shape": "turns a tensor into a TVM shape value for TVM's shape arithmetic (match_cast)",
    "relax.bucketize": "TensorRT has no layer that searches sorted boundaries",
    "relax.argsort": "TensorRT's TopK sorts at most 3840 elements along an axis; Relax's argsort has no such bound",
    "relax.median": "TensorRT has no median; TopK bounds the axis at 3840 elements",
    "relax.cumprod": "TensorRT's ICumulativeLayer only sums",
    "relax.vision.roi_align": "TensorRT has ROIAlign only as a plugin, not as a network layer",
    "relax.vision.all_class_non_max_suppression": _PENDING + " (INMSLayer, per-class boxes)",
    "relax.index_tensor": "torch advanced indexing: " + _PENDING + " (gather)",
    "relax.index_put": "torch advanced indexing: " + _PENDING + " (scatter)",
    "relax.slice_scatter": _PENDING + " (scatter)",
    "relax.trunc": _PENDING + " (unary)",
    "relax.atan2": _PENDING + " (unary + elementwise)",
    "relax.bitwise_and": "TensorRT has no bitwise layers (its AND/OR/XOR are on BOOL only)",
    "relax.bitwise_or": "TensorRT has no bitwise layers (its AND/OR/XOR are on BOOL only)",
    "relax.bitwise_xor": "TensorRT has no bitwise layers (its AND/OR/XOR are on BOOL only)",
    "relax.bitwise_not": "TensorRT has no bitwise layers (its NOT is on BOOL only)",
    "relax.left_shift": "TensorRT has no bit-shift layer",
    "relax.right_shift": "TensorRT has no bit-shift layer",
}


# ------------------------------------------------------------------------------------ harvest
def module_ops(mod) -> Set[str]:
    """Names of the Relax ops called anywhere in ``mod``'s Relax functions."""
    import tvm
    from tvm import relax

    names: Set[str] = set()

    def visit(expr):
        if isinstance(expr, relax.Call) and isinstance(expr.op, tvm.ir.Op):
            names.add(expr.op.name)

    for func in mod.functions.values():
        if isinstance(func, relax.Function):
            relax.analysis.post_order_visit(func, visit)
    return names


def harvest_onnx() -> Dict[str, List[str]]:
    """{op: [node-suite cases whose import emits it]}."""
    import node_suite

    found: Dict[str, List[str]] = {}
    for name, case in sorted(node_suite.cases().items()):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mod = node_suite.import_case(case)
        except Exception:  # TVM's importer refuses the case: it emits nothing
            continue
        for op in module_ops(mod):
            found.setdefault(op, []).append(name)
    return found


def _torch_case(opinfo):
    """(module, example inputs) calling ``opinfo``'s first float32 sample, its tensors as inputs."""
    import torch

    sample = next(iter(opinfo.sample_inputs("cpu", torch.float32)))
    values = [sample.input, *sample.args]
    tensors = [v for v in values if isinstance(v, torch.Tensor)]
    slots = [i if isinstance(v, torch.Tensor) else None for i, v in enumerate(values)]
    kwargs = sample.kwargs

    class Call(torch.nn.Module):
        def forward(self, *inputs):
            it = iter(inputs)
            args = [next(it) if s is not None else values[i] for i, s in enumerate(slots)]
            return opinfo.op(*args, **kwargs)

    return Call(), tuple(t.detach() for t in tensors)


def harvest_torch() -> Dict[str, List[str]]:
    """{op: [PyTorch OpInfo names whose export, imported, emits it]}."""
    import torch
    from torch.testing._internal.common_methods_invocations import op_db
    from tvm.relax.frontend.torch import from_exported_program

    found: Dict[str, List[str]] = {}
    seen: Set[str] = set()
    for opinfo in op_db:
        label = opinfo.name + (f".{opinfo.variant_test_name}" if opinfo.variant_test_name else "")
        if label in seen or torch.float32 not in opinfo.supported_dtypes("cpu"):
            continue
        seen.add(label)
        try:
            module, inputs = _torch_case(opinfo)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                mod = from_exported_program(torch.export.export(module, inputs))
        except Exception:  # not exportable, or TVM's frontend refuses it
            continue
        for op in module_ops(mod):
            found.setdefault(op, []).append(label)
    return found


def harvest() -> Dict:
    import onnx
    import torch
    import tvm

    onnx_ops, torch_ops = harvest_onnx(), harvest_torch()
    ops = {}
    for op in sorted(set(onnx_ops) | set(torch_ops)):
        ops[op] = {
            "onnx": len(onnx_ops.get(op, [])),
            "onnx_examples": onnx_ops.get(op, [])[:EXAMPLES],
            "torch": len(torch_ops.get(op, [])),
            "torch_examples": torch_ops.get(op, [])[:EXAMPLES],
        }
    versions = {"tvm": tvm.__version__, "onnx": onnx.__version__, "torch": torch.__version__.split("+")[0]}
    return {"versions": versions, "ops": ops}


def write_cache(data: Dict) -> None:
    lines = [f"{json.dumps(op)}: {json.dumps(v)}" for op, v in data["ops"].items()]  # one op a line
    CACHE.write_text('{"versions": %s, "ops": {\n%s\n}}\n' % (json.dumps(data["versions"]), ",\n".join(lines)))


def load_cache() -> Dict:
    return json.loads(CACHE.read_text())


# -------------------------------------------------------------------------------------- table
def problems(data: Dict) -> List[str]:
    """Harvested ops with neither a converter nor a stated reason, and reasons that no longer apply."""
    from tvm_trt import ops  # noqa: F401  (registers the converters)
    from tvm_trt.core import registry

    harvested = set(data["ops"])
    out = [
        f"{op}: emitted by TVM's frontends, no converter and no reason in NO_CONVERTER"
        for op in sorted(harvested)
        if registry.get(op) is None and op not in NO_CONVERTER
    ]
    out += [
        f"{op}: has a converter now; drop its NO_CONVERTER entry"
        for op in sorted(NO_CONVERTER)
        if registry.get(op) is not None
    ]
    out += [
        f"{op}: no longer emitted by TVM's frontends; drop its NO_CONVERTER entry"
        for op in sorted(set(NO_CONVERTER) - harvested)
    ]
    return out


def _examples(names: Iterable[str], count: int) -> str:
    names = list(names)
    more = f" +{count - len(names)}" if count > len(names) else ""
    return ", ".join(f"`{n}`" for n in names) + more


def render(data: Dict) -> str:
    from tvm_trt import ops  # noqa: F401
    from tvm_trt.core import registry

    rows = data["ops"]
    converted = [op for op in rows if registry.get(op) is not None]
    v = data["versions"]
    lines = [
        "# Relax ops of TVM's frontends and their TensorRT converters",
        "",
        "Generated by `python tests/op_coverage.py` (harvest again with `--harvest`); do not edit by hand.",
        "",
        f"Every Relax op that TVM {v['tvm']}'s ONNX importer emits for a case of ONNX {v['onnx']}'s backend node "
        f"suite, or its exported-program frontend for the first sample of a PyTorch {v['torch']} OpInfo. "
        f"**{len(converted)} of {len(rows)}** have a TensorRT converter; the others stay in TVM for the reason "
        "given. A converter's predicate can still keep a particular call in TVM (dtype, attributes, dynamic "
        "shapes): the partition report names that reason per call.",
        "",
        "| Relax op | ONNX cases | PyTorch ops | TensorRT converter |",
        "|---|---|---|---|",
    ]
    for op, row in rows.items():
        entry = registry.get(op)
        if entry is not None:
            gate = f" (TensorRT >= {registry.version_str(entry.min_version)})" if any(entry.min_version) else ""
            verdict = f"yes{gate}"
        else:
            verdict = f"no: {NO_CONVERTER.get(op, '**no reason given**')}"
        lines.append(
            f"| `{op}` | {_examples(row['onnx_examples'], row['onnx'])} "
            f"| {_examples(row['torch_examples'], row['torch'])} | {verdict} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--harvest", action="store_true", help="import the node suite and the OpInfo samples again")
    ap.add_argument("--check", action="store_true", help="exit 1 when the table is stale")
    args = ap.parse_args(argv)
    if args.harvest:
        write_cache(harvest())
    data = load_cache()
    issues = problems(data)
    for line in issues:
        print(line, file=sys.stderr)
    text = render(data)
    if args.check:
        stale = not TABLE.exists() or TABLE.read_text() != text
        if stale:
            print(f"{TABLE.name} is stale: run python tests/op_coverage.py", file=sys.stderr)
        return 1 if stale or issues else 0
    TABLE.write_text(text)
    print(f"{TABLE}: {len(data['ops'])} ops")
    return 1 if issues else 0


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))  # node_suite
    sys.exit(main())
