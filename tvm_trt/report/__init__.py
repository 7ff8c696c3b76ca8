"""The partition report: what TensorRT takes, what stays in TVM and why.

    report = tvm_trt.partition_report(mod, params)
    print(report)                       # a table
    report.to_json("r.json")            # the same data as JSON (returned as text too)
    report.to_svg("model.svg")          # one box per TensorRT subgraph, the TVM ops between them
    report.to_svg("ops.svg", detail=True)  # one box per op

``data`` collects (dataclasses), ``text`` and ``svg`` render.
"""

from .data import (
    GraphNode,
    PartitionReport,
    RejectedOp,
    SubgraphSummary,
    call_macs,
    partition_report,
    partition_with_report,
)
from .svg import IO_COLOUR, TRT_COLOUR, TVM_COLOUR, render_svg
from .text import render_text

__all__ = [
    "IO_COLOUR",
    "GraphNode",
    "PartitionReport",
    "RejectedOp",
    "SubgraphSummary",
    "TRT_COLOUR",
    "TVM_COLOUR",
    "call_macs",
    "partition_report",
    "partition_with_report",
    "render_svg",
    "render_text",
]
