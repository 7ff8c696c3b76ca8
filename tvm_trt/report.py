"""The partition report: what TensorRT takes, what stays in TVM and why — as data.

    report = tvm_trt.partition_report(mod, params)
    print(report)               # a table
    report.to_json()            # the same data as JSON
    report.to_svg("model.svg")  # the op graph, TensorRT and TVM parts in two colours

Counts are of Relax op calls in ``main`` after the simplification ``partition_for_tensorrt``
applies (constant folding; batch_norm is kept and converted), so they describe what is offloaded,
not what the frontend emitted.
"""
from __future__ import annotations

import collections
import dataclasses
import html
import json
from typing import Any, Dict, List, Optional, Tuple

import tvm
from tvm import relax

from . import graph, partition, registry
from .registry import PartitionOptions

TRT_COLOUR = "#76b900"  # TensorRT parts
TVM_COLOUR = "#f2a33a"  # parts left to TVM
IO_COLOUR = "#dddddd"  # model inputs and outputs


@dataclasses.dataclass
class Subgraph:
    name: str
    ops: int
    has_mac: bool
    op_counts: Dict[str, int]


@dataclasses.dataclass
class RejectedOp:
    op: str
    var: str  # the Relax variable the call binds
    reason: str


@dataclasses.dataclass
class Node:
    id: str
    label: str
    kind: str  # "tensorrt", "tvm", "input" or "output"
    subgraph: Optional[str] = None


@dataclasses.dataclass
class PartitionReport:
    ops_total: int
    ops_offloaded: int
    per_op: Dict[str, Dict[str, int]]  # op -> {"offloaded": n, "rejected": m}
    subgraphs: List[Subgraph]
    rejected: List[RejectedOp]
    options: Dict[str, Any]
    nodes: List[Node] = dataclasses.field(default_factory=list)
    edges: List[Tuple[str, str]] = dataclasses.field(default_factory=list)

    @property
    def coverage(self) -> float:
        """Fraction of op calls offloaded to TensorRT."""
        return self.ops_offloaded / self.ops_total if self.ops_total else 0.0

    def to_dict(self) -> Dict[str, Any]:
        out = dataclasses.asdict(self)
        out["coverage"] = self.coverage
        out["edges"] = [list(e) for e in self.edges]
        return out

    def to_json(self, indent: Optional[int] = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        return render_text(self)

    def to_svg(self, path: Optional[str] = None) -> str:
        """The op graph as SVG text (written to ``path`` when given)."""
        svg = render_svg(self)
        if path is not None:
            with open(path, "w") as f:
                f.write(svg)
        return svg


# ---- collecting ----------------------------------------------------------------------------


def _bindings(func: relax.Function):
    """(var, value) of every binding of a function body, blocks in order."""
    for block in func.body.blocks:
        for binding in block.bindings:
            yield binding.var, binding.value


def _is_op_call(value) -> bool:
    return isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op)


class _GraphBuilder(graph.Visitor):
    """Values are node ids (or lists of them for tuples); op calls become graph nodes."""

    def __init__(self, kind: str, subgraph: Optional[str], report_nodes, report_edges, counter):
        self.kind, self.subgraph = kind, subgraph
        self.nodes, self.edges, self.counter = report_nodes, report_edges, counter

    def add(self, label: str, kind: str, args, subgraph=None) -> str:
        node_id = f"n{next(self.counter)}"
        self.nodes.append(Node(node_id, label, kind, subgraph))
        for src in _flatten(args):
            self.edges.append((src, node_id))
        return node_id

    def call(self, call, args):
        return self.add(call.op.name[len("relax."):], self.kind, args, self.subgraph)

    def get_item(self, value, index):
        return value[index] if isinstance(value, list) else value

    def leaf(self, expr):
        return None  # constants, shapes: not drawn


def _flatten(values) -> List[str]:
    out = []
    for v in values if isinstance(values, (list, tuple)) else [values]:
        if isinstance(v, (list, tuple)):
            out += _flatten(v)
        elif isinstance(v, str):
            out.append(v)
    return out


def _build_graph(pmod: tvm.IRModule, report: PartitionReport) -> None:
    import itertools

    counter = itertools.count()
    tvm_side = _GraphBuilder("tvm", None, report.nodes, report.edges, counter)
    main = pmod["main"]
    env: Dict[Any, Any] = {p: tvm_side.add(p.name, "input", []) for p in main.params}

    def value_of(expr):
        if isinstance(expr, relax.Var):
            return env.get(expr)
        if isinstance(expr, relax.Tuple):
            return [value_of(f) for f in expr.fields]
        if isinstance(expr, relax.TupleGetItem):
            return tvm_side.get_item(value_of(expr.tuple_value), int(expr.index))
        if isinstance(expr, relax.Call):
            args = [value_of(a) for a in expr.args]
            if isinstance(expr.op, relax.GlobalVar) and expr.op.name_hint in offloaded:
                trt_side = _GraphBuilder("tensorrt", expr.op.name_hint, report.nodes, report.edges, counter)
                return graph.walk(pmod[expr.op], args, trt_side)
            if isinstance(expr.op, tvm.ir.Op):
                return tvm_side.call(expr, args)
            label = getattr(expr.op, "name_hint", None) or "call"
            return tvm_side.add(label, "tvm", args)
        return None

    offloaded = set(partition.offloaded_functions(pmod))
    for var, value in _bindings(main):
        env[var] = value_of(value)
    tvm_side.add("output", "output", [value_of(main.body.body)])


def partition_report(mod: tvm.IRModule, params: Optional[Dict[str, Any]] = None, **options: Any) -> PartitionReport:
    """Partition ``mod`` as ``partition_for_tensorrt(mod, params, **options)`` would and report
    what went where: counts, coverage, subgraph sizes, and a reason for every op left in TVM."""
    return partition_with_report(mod, params, **options)[2]


def partition_with_report(mod: tvm.IRModule, params: Optional[Dict[str, Any]] = None, **options: Any):
    """``partition_for_tensorrt`` plus its report, partitioning once: ``(mod, config, report)``."""
    if params:
        mod = relax.transform.BindParams("main", params)(mod)
    mod = partition.simplify(mod)
    ops_total = sum(1 for _, v in _bindings(mod["main"]) if _is_op_call(v))
    pmod, config = partition.partition_for_tensorrt(mod, None, **options)
    opts = PartitionOptions(
        version=tuple(config["tensorrt_version"]),
        use_implicit_batch=bool(config["use_implicit_batch"]),
        producers=relax.analysis.get_var2val(pmod["main"]),
    )

    per_op: Dict[str, Dict[str, int]] = collections.defaultdict(lambda: {"offloaded": 0, "rejected": 0})
    subgraphs = []
    for name, func in sorted(partition.offloaded_functions(pmod).items()):
        calls = graph.op_calls(func)
        counts = collections.Counter(c.op.name for c in calls)
        for op, n in counts.items():
            per_op[op]["offloaded"] += n
        subgraphs.append(Subgraph(name, len(calls), partition.is_mac_subgraph(func), dict(sorted(counts.items()))))

    rejected = []
    for var, value in _bindings(pmod["main"]):
        if not _is_op_call(value):
            continue
        reason = partition.check_call(value, opts)
        if not reason:
            # Accepted by its predicate yet in TVM: put back for having no multiply-accumulate op.
            reason = partition.NO_MAC_REASON if config["remove_no_mac_subgraphs"] else "not matched by the TensorRT patterns"
        per_op[value.op.name]["rejected"] += 1
        rejected.append(RejectedOp(value.op.name, var.name, reason))

    report = PartitionReport(
        ops_total=ops_total,
        ops_offloaded=sum(s.ops for s in subgraphs),
        per_op=dict(sorted(per_op.items())),
        subgraphs=subgraphs,
        rejected=rejected,
        options=config,
    )
    _build_graph(pmod, report)
    return pmod, config, report


# ---- renderers -----------------------------------------------------------------------------


def render_text(r: PartitionReport) -> str:
    lines = [
        f"TensorRT offload: {r.ops_offloaded}/{r.ops_total} ops ({100 * r.coverage:.1f}%) "
        f"in {len(r.subgraphs)} subgraph(s), target TensorRT {registry.version_str(r.options['tensorrt_version'])}",
        "",
    ]
    width = max([len("op")] + [len(op) for op in r.per_op])
    lines.append(f"{'op':<{width}}  {'TensorRT':>8}  {'TVM':>5}")
    lines.append(f"{'-' * width}  {'-' * 8}  {'-' * 5}")
    for op, c in r.per_op.items():
        lines.append(f"{op:<{width}}  {c['offloaded']:>8}  {c['rejected']:>5}")
    if r.subgraphs:
        lines += ["", "subgraphs:"]
        for s in r.subgraphs:
            name = s.name if len(s.name) <= 60 else f"{s.name[:40]}...{s.name[-16:]}"  # merged names grow long
            lines.append(f"  {name}: {s.ops} ops{'' if s.has_mac else ' (no multiply-accumulate)'}")
    if r.rejected:
        lines += ["", "left in TVM:"]
        for rej in r.rejected:
            lines.append(f"  {rej.var} = {rej.op}: {rej.reason}")
    return "\n".join(lines)


def _layers(r: PartitionReport) -> Dict[str, int]:
    """Longest-path depth of each node (nodes are created in topological order)."""
    depth = {n.id: 0 for n in r.nodes}
    preds = collections.defaultdict(list)
    for src, dst in r.edges:
        preds[dst].append(src)
    for n in r.nodes:
        if preds[n.id]:
            depth[n.id] = 1 + max(depth[p] for p in preds[n.id])
    return depth


def render_svg(r: PartitionReport) -> str:
    """A top-down layered drawing: one box per op, filled by where it runs."""
    box_w, box_h, gap_x, gap_y, margin = 120, 28, 16, 30, 20
    depth = _layers(r)
    rows: Dict[int, List[Node]] = collections.defaultdict(list)
    for n in r.nodes:
        rows[depth[n.id]].append(n)
    ncols = max((len(v) for v in rows.values()), default=1)
    width = max(margin * 2 + ncols * (box_w + gap_x), 440)  # room for the legend
    legend_h = 30
    height = margin * 2 + legend_h + len(rows) * (box_h + gap_y)
    pos = {}
    for level, nodes in rows.items():
        row_w = len(nodes) * (box_w + gap_x) - gap_x
        x0 = (width - row_w) / 2
        for i, n in enumerate(nodes):
            pos[n.id] = (x0 + i * (box_w + gap_x), margin + legend_h + level * (box_h + gap_y))
    fill = {"tensorrt": TRT_COLOUR, "tvm": TVM_COLOUR, "input": IO_COLOUR, "output": IO_COLOUR}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<rect x="{margin}" y="{margin - 8}" width="14" height="14" fill="{TRT_COLOUR}"/>',
        f'<text x="{margin + 20}" y="{margin + 4}">TensorRT ({r.ops_offloaded} ops, '
        f"{len(r.subgraphs)} subgraphs)</text>",
        f'<rect x="{margin + 220}" y="{margin - 8}" width="14" height="14" fill="{TVM_COLOUR}"/>',
        f'<text x="{margin + 240}" y="{margin + 4}">TVM ({r.ops_total - r.ops_offloaded} ops)</text>',
    ]
    for src, dst in r.edges:
        (x1, y1), (x2, y2) = pos[src], pos[dst]
        x1, y1, x2 = x1 + box_w / 2, y1 + box_h, x2 + box_w / 2
        # edges skipping rows bow out to stay visible, but no further than the canvas edge
        bend = min(45 * (depth[dst] - depth[src] - 1), width - margin / 2 - max(x1, x2))
        out.append(
            f'<path d="M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1 + gap_y:.0f} {x2 + bend:.0f},{y2 - gap_y:.0f} '
            f'{x2:.0f},{y2:.0f}" fill="none" stroke="#888" stroke-width="1"/>'
        )
    subgraph_index = {s.name: i for i, s in enumerate(r.subgraphs)}
    for n in r.nodes:
        x, y = pos[n.id]
        title = html.escape(n.label + (f" [{n.subgraph}]" if n.subgraph else ""))
        tag = (  # which TensorRT subgraph: a small index in the corner
            f'<text x="{x + box_w - 4:.0f}" y="{y + 9:.0f}" font-size="8" text-anchor="end">#{subgraph_index[n.subgraph]}</text>'
            if n.subgraph
            else ""
        )
        label = html.escape(n.label if len(n.label) <= 18 else n.label[:16] + "...")
        out.append(
            f'<g><title>{title}</title><rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{fill[n.kind]}" stroke="#333"/><text x="{x + box_w / 2:.0f}" y="{y + box_h / 2 + 4:.0f}" '
            f'text-anchor="middle">{label}</text>{tag}</g>'
        )
    out.append("</svg>")
    return "\n".join(out)
