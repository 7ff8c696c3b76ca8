"""The partition report as a text table."""

from __future__ import annotations

from ..core.registry import version_str
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report's data imports its renderers, not the other way round
    from .data import PartitionReport


def macs_text(macs: int) -> str:
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if macs >= scale:
            return f"{macs / scale:.2f} {unit}MACs"
    return f"{macs} MACs"


def render_text(r: PartitionReport) -> str:
    lines = [
        f"TensorRT offload: {r.ops_offloaded}/{r.ops_total} ops ({100 * r.coverage:.1f}%) "
        f"in {len(r.subgraphs)} subgraph(s), target TensorRT {version_str(r.options['tensorrt_version'])}",
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
            kinds = ", ".join(
                f"{op[len('relax.') :]} x{n}" for op, n in sorted(s.op_counts.items(), key=lambda kv: -kv[1])
            )
            lines.append(
                f"  {s.name}: {s.ops} ops, {macs_text(s.macs) if s.has_mac else 'no multiply-accumulate'}"
                f"{f', called {s.calls}x' if s.calls > 1 else ''}; "
                f"in {', '.join(s.inputs)} -> out {', '.join(s.outputs)}"
            )
            lines.append(f"      {kinds}")
    if r.rejected:
        lines += ["", "left in TVM:"]
        for rej in r.rejected:
            lines.append(f"  {rej.var} = {rej.op}: {rej.reason}")
    return "\n".join(lines)
