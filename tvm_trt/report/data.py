"""The partition report as data: what TensorRT takes, what stays in TVM and why.

Counts are of Relax op calls in ``main`` after the simplification ``partition_for_tensorrt``
applies (constant folding; batch_norm is kept and converted), so they describe what is offloaded,
not what the frontend emitted. Reasons are those partitioning recorded (``partition.decisions``), not
asked again. The renderers live in ``text`` and ``svg``.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import math
from typing import Any, Dict, List, Optional, Tuple

import tvm
from tvm import relax

from ..core import graph, ir
from .. import partition
from ..core.tvm_log import quiet


@dataclasses.dataclass
class SubgraphSummary:
    name: str  # the offloaded function: tensorrt_0, tensorrt_1, ... in the order main calls them
    ops: int
    has_mac: bool
    op_counts: Dict[str, int]
    macs: int = 0  # multiply-accumulates of one call (symbolic dims counted as 1)
    calls: int = 1  # TVM shares one function between identical subgraphs: main calls it this often
    inputs: List[str] = dataclasses.field(default_factory=list)  # "1x3x224x224 float32"
    outputs: List[str] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class RejectedOp:
    op: str
    var: str  # the Relax variable the call binds
    reason: str


@dataclasses.dataclass
class GraphNode:
    id: str
    label: str
    kind: str  # "tensorrt", "tvm", "input" or "output"
    subgraph: Optional[str] = None
    reason: Optional[str] = None  # why a TVM node stays in TVM
    call: Optional[int] = None  # which call of a subgraph (main may call one function twice)


@dataclasses.dataclass
class PartitionReport:
    ops_total: int
    ops_offloaded: int
    per_op: Dict[str, Dict[str, int]]  # op -> {"offloaded": n, "rejected": m}
    subgraphs: List[SubgraphSummary]
    rejected: List[RejectedOp]
    options: Dict[str, Any]
    nodes: List[GraphNode] = dataclasses.field(default_factory=list)
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

    def to_json(self, path: Optional[str] = None, indent: Optional[int] = 2) -> str:
        """The report as JSON text (also written to ``path`` when given)."""
        if path is not None and not isinstance(path, (str, bytes)) and not hasattr(path, "__fspath__"):
            raise TypeError(
                f"to_json(path): path must be a file path, got {type(path).__name__} (indent= is a keyword)"
            )
        text = json.dumps(self.to_dict(), indent=indent)
        if path is not None:
            with open(path, "w") as f:
                f.write(text)
        return text

    def __str__(self) -> str:
        from .text import render_text

        return render_text(self)

    def to_svg(self, path: Optional[str] = None, detail: bool = False) -> str:
        """The graph as SVG text (written to ``path`` when given): one box per TensorRT subgraph
        with the TVM ops between them, or with ``detail=True`` one box per op."""
        from .svg import render_svg

        svg = render_svg(self, detail=detail)
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


class _GraphBuilder(graph.Visitor):
    """Values are node ids (or lists of them for tuples); op calls become graph nodes."""

    def __init__(self, kind: str, subgraph: Optional[str], report_nodes, report_edges, counter, call=None):
        self.kind, self.subgraph, self.call_index = kind, subgraph, call
        self.nodes, self.edges, self.counter = report_nodes, report_edges, counter

    def add(self, label: str, kind: str, args, subgraph=None) -> str:
        node_id = f"n{next(self.counter)}"
        self.nodes.append(GraphNode(node_id, label, kind, subgraph, call=self.call_index if subgraph else None))
        for src in _flatten(args):
            self.edges.append((src, node_id))
        return node_id

    def call(self, call, args):
        return self.add(call.op.name[len("relax.") :], self.kind, args, self.subgraph)

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


def _build_graph(pmod: tvm.IRModule, report: PartitionReport, reasons: Dict[Any, str]) -> None:
    counter, calls = itertools.count(), itertools.count()
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
                trt_side = _GraphBuilder(
                    "tensorrt", expr.op.name_hint, report.nodes, report.edges, counter, next(calls)
                )
                return graph.walk(pmod[expr.op], args, trt_side)
            if isinstance(expr.op, tvm.ir.Op):
                return tvm_side.call(expr, args)
            label = getattr(expr.op, "name_hint", None) or "call"
            return tvm_side.add(label, "tvm", args)
        return None

    offloaded = set(partition.offloaded_functions(pmod))
    by_id = {}
    for var, value in _bindings(main):
        env[var] = value_of(value)
        if var in reasons and isinstance(env[var], str):
            by_id[env[var]] = reasons[var]
    for node in report.nodes:
        node.reason = by_id.get(node.id)
    tvm_side.add("output", "output", [value_of(main.body.body)])


@quiet  # TVM's C++ warnings go to the debug log
def partition_report(mod: tvm.IRModule, params: Optional[Dict[str, Any]] = None, **options: Any) -> PartitionReport:
    """Partition ``mod`` as ``partition_for_tensorrt(mod, params, **options)`` would and report
    what went where: counts, coverage, subgraph sizes, and a reason for every op left in TVM."""
    return partition_with_report(mod, params, **options)[2]


@quiet
def partition_with_report(mod: tvm.IRModule, params: Optional[Dict[str, Any]] = None, **options: Any):
    """``partition_for_tensorrt`` plus its report, partitioning once: ``(mod, config, report)``.
    The report renders what partitioning recorded (``partition.partition_with_record``)."""
    pmod, config, record = partition.partition_with_record(mod, params, **options)
    per_op: Dict[str, Dict[str, int]] = collections.defaultdict(lambda: {"offloaded": 0, "rejected": 0})
    subgraphs = []
    for name, func in sorted(partition.offloaded_functions(pmod).items(), key=lambda kv: _index(kv[0])):
        calls = graph.op_calls(func)
        counts = collections.Counter(c.op.name for c in calls)
        for op, n in counts.items():
            per_op[op]["offloaded"] += n * record.subgraph_calls[name]
        subgraphs.append(
            SubgraphSummary(
                name,
                len(calls),
                partition.is_mac_subgraph(func),
                dict(sorted(counts.items())),
                macs=sum(call_macs(c) for c in calls),
                inputs=[_type_text(p.ty) for p in func.params],
                outputs=[_type_text(t) for t in ir.tensor_types(func.body.body)],
                calls=record.subgraph_calls[name],
            )
        )

    rejected, reasons = [], {}
    for decision in record.rejected:
        per_op[decision.op]["rejected"] += 1
        rejected.append(RejectedOp(decision.op, decision.var, decision.reason))
        reasons[decision.binding] = decision.reason
    for decision in record.boundary:  # boundary work TVM runs (casts, output-shape prologues)
        reasons[decision.binding] = decision.reason

    report = PartitionReport(
        ops_total=record.ops_total,
        ops_offloaded=sum(s.ops * s.calls for s in subgraphs),
        per_op=dict(sorted(per_op.items())),
        subgraphs=subgraphs,
        rejected=rejected,
        options=config,
    )
    _build_graph(record.module, report, reasons)
    return pmod, config, report


def _index(name: str):
    """tensorrt_2 before tensorrt_10."""
    head, _, tail = name.rpartition("_")
    return (head, int(tail)) if tail.isdigit() else (name, -1)


def _dims(ty) -> List:
    return list(ir.dims(ty) or [])


def _type_text(ty) -> str:
    if isinstance(ty, relax.ShapeType):  # a reshape target with a symbolic dim, passed as a value
        return "shape " + "x".join(str(ir.prim_to_py(v)) for v in (ty.values or []))
    return "x".join(str(d) for d in _dims(ty)) + f" {ty.dtype}"


def _count(dims) -> int:
    return math.prod(d if isinstance(d, int) else 1 for d in dims)


def call_macs(call: relax.Call) -> int:
    """Multiply-accumulates of a conv / deconv / matmul call from its types (others: 0)."""
    name = call.op.name
    try:
        if name.startswith("relax.nn.conv"):
            weight = _dims(call.args[1].ty)
            if "transpose" in name:  # weight (in, out/groups, k...): every input meets out/groups*k
                return _count(_dims(call.args[0].ty)) * _count(weight[1:])
            return _count(_dims(call.ty)) * _count(weight[1:])  # weight (out, in/groups, k...)
        if name == "relax.matmul":
            return _count(_dims(call.ty)) * _count(_dims(call.args[0].ty)[-1:])
    except (AttributeError, TypeError):
        return 0
    return 0
