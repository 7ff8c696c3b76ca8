"""What partitioning decided, recorded while it decides (as Torch-TensorRT's dry-run tracker).

Every op call of the partitioned ``main`` either sits in an offloaded function ``tensorrt_N``
or stays in TVM for a reason: the registry's answer given when the call was asked about, or why
its subgraph was put back. ``partition_report`` and the tests read this record instead of asking
the predicates again after partitioning.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Optional

import tvm
from tvm import relax

from ..core import graph, registry

NOT_MATCHED = "not matched by the TensorRT patterns"


@dataclasses.dataclass(frozen=True)
class Decision:
    op: str  # the Relax op, e.g. "relax.nn.conv2d"
    var: str  # the variable binding the call: in main, or inside its tensorrt_N
    subgraph: Optional[str] = None  # the offloaded function holding the call
    reason: Optional[str] = None  # why the call stays in TVM (subgraph is None)
    binding: Any = dataclasses.field(default=None, compare=False, repr=False)  # the relax.Var itself


@dataclasses.dataclass
class PartitionRecord:
    ops_total: int  # op calls of main after simplification, before partitioning
    decisions: List[Decision]  # offloaded calls by subgraph, then main's TVM calls in order
    subgraph_calls: Dict[str, int]  # how often main calls each tensorrt_N (TVM shares equal ones)
    # work TVM does at a subgraph's boundary, neither offloaded nor rejected: casts partitioning added
    # around subgraphs computed in float32 (truncate_double), and the shape computations a subgraph's
    # destination is allocated with (value_shapes / value_dims), which the VM needs before the call
    boundary: List[Decision] = dataclasses.field(default_factory=list)
    # the module whose main the decisions describe: the partitioned one, or where nothing was
    # offloaded the simplified one (partitioning then returns the module as given)
    module: Any = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def offloaded(self) -> List[Decision]:
        return [d for d in self.decisions if d.subgraph is not None]

    @property
    def rejected(self) -> List[Decision]:
        return [d for d in self.decisions if d.subgraph is None]


def _op_bindings(func: relax.Function):
    for block in func.body.blocks:
        for binding in block.bindings:
            value = binding.value
            if isinstance(value, relax.Call) and isinstance(value.op, tvm.ir.Op):
                yield binding.var, value


class Recorder:
    """Asked by the pattern check while partitioning; remembers every answer, by the variable
    that binds the call (TVM's passes rebuild calls whose arguments they rebound, not the
    variables)."""

    def __init__(self):
        self.opts = registry.PartitionOptions()
        self.simplified: Optional[tvm.IRModule] = None  # the module partitioning started from
        self.ops_total = 0
        self._by_call: Dict[Any, Optional[str]] = {}
        self._by_var: Dict[Any, Optional[str]] = {}
        self._put_back: Dict[Any, str] = {}  # vars re-emitted into main when a subgraph went back
        self._boundary: Dict[Any, str] = {}  # vars of boundary work in main (casts, output-shape prologues)
        self.result: Optional[PartitionRecord] = None  # set by finish()

    def begin(self, mod: tvm.IRModule, opts: registry.PartitionOptions) -> None:
        """Partitioning of ``mod`` (simplified) starts under ``opts`` (with its producers)."""
        self.opts, self.simplified = opts, mod
        main = mod["main"] if any(gv.name_hint == "main" for gv in mod.get_global_vars()) else None
        self.ops_total = sum(1 for _ in _op_bindings(main)) if main is not None else 0

    def check(self, ctx) -> bool:
        """The pattern check of ``FuseOpsByPattern``: may TensorRT take the matched call?"""
        call = ctx.annotated_expr["root"]
        var = ctx.value_to_bound_var.get(call)
        if call not in self._by_call:
            kept = self.opts.kept or {}
            name = str(var.name) if var is not None else None
            self._by_call[call] = kept[name] if name in kept else registry.reason(call, self.opts)
        if var is not None:
            self._by_var[var] = self._by_call[call]
        return self._by_call[call] is None

    def put_back(self, kept: Dict[Any, str]) -> None:
        """``kept``: {var of an op call re-emitted into main: why its subgraph went back to TVM}."""
        for var, reason in kept.items():
            self._put_back[var] = reason
            self._put_back[str(var.name)] = reason

    def boundary(self, casts: Dict[Any, str]) -> None:
        """``casts``: {var of a boundary binding of main (a cast around a subgraph computed in float32,
        a subgraph's output-shape computation): what it is}."""
        self._boundary.update(casts)

    def finish(self, mod: tvm.IRModule, offloaded: Dict[str, relax.Function], unmatched: str = NOT_MATCHED) -> None:
        """Writes ``result``: the record of the partitioned ``mod`` (``offloaded``: its
        ``tensorrt_N`` functions). ``unmatched``: the reason of calls their predicates accepted
        that stay in TVM for no recorded rule."""
        if not offloaded:  # describe the simplified module (ops_total counts its calls), as asked
            mod, self._put_back = self.simplified if self.simplified is not None else mod, {}
        self.result = self._record(mod, offloaded, unmatched)

    def _record(self, mod: tvm.IRModule, offloaded: Dict[str, relax.Function], unmatched: str) -> PartitionRecord:
        decisions, calls = [], {name: 0 for name in offloaded}
        main = mod["main"]
        for block in main.body.blocks:
            for binding in block.bindings:
                value = binding.value
                if (
                    isinstance(value, relax.Call)
                    and isinstance(value.op, relax.GlobalVar)
                    and value.op.name_hint in calls
                ):
                    calls[value.op.name_hint] += 1
        for name, func in offloaded.items():
            decisions += [Decision(op, var, subgraph=name) for op, var in _subgraph_calls(func)]
        producers, boundary = None, []
        for var, call in _op_bindings(main):
            if var in self._boundary:
                boundary.append(Decision(call.op.name, str(var.name), reason=self._boundary[var], binding=var))
                continue
            if var in self._put_back:
                reason = self._put_back[var]
            elif var in self._by_var:
                reason = self._by_var[var]
            elif str(var.name) in self._put_back:  # re-emitted, then rebuilt by renaming
                reason = self._put_back[str(var.name)]
            elif self.opts.producers is not None and var in self.opts.producers:
                reason = registry.reason(call, self.opts)  # never matched a pattern: no converter, arity
            else:  # main as given (nothing offloaded) or rebuilt by a pass: asked now
                if producers is None:
                    producers = dataclasses.replace(self.opts, producers=relax.analysis.get_var2val(main))
                reason = registry.reason(call, producers)
            decisions.append(Decision(call.op.name, str(var.name), reason=reason or unmatched, binding=var))
        return PartitionRecord(
            self.ops_total, decisions, {n: max(c, 1) for n, c in calls.items()}, boundary, module=mod
        )


def _subgraph_calls(func: relax.Function):
    """(op, variable) of each op call of an offloaded function, as the spec names its nodes."""
    out = []

    class _Collect(graph.Visitor):
        def call(self, call, args):
            out.append((call.op.name, str(getattr(self, "binding", None) or "")))

        def get_item(self, value, index):
            return None

    graph.walk(func, [None] * len(func.params), _Collect())
    return out
