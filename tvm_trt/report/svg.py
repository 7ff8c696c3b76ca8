"""The partition report as an SVG picture.

By default each TensorRT subgraph is one box (op count, MACs, input and output shapes) with the
TVM ops between them, laid out top-down by depth; a graph taller than ``MAX_COLUMN_H`` continues
in a further column to the right, so a 700-op model stays a picture a viewer can open. TVM
boxes carry the reason they stay in TVM in their tooltip and a tag into the legend table.
``detail=True`` draws one box per op instead (tall for large models).
"""

from __future__ import annotations

import collections
import dataclasses
import html
from typing import Dict, List, Tuple

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the report's data imports its renderers, not the other way round
    from .data import PartitionReport
from .text import macs_text

TRT_COLOUR = "#76b900"  # TensorRT parts
TVM_COLOUR = "#f2a33a"  # parts left to TVM
IO_COLOUR = "#dddddd"  # model inputs and outputs
FILL = {"tensorrt": TRT_COLOUR, "tvm": TVM_COLOUR, "input": IO_COLOUR, "output": IO_COLOUR}

CHAR_W = 6.4  # average width of an 11 px sans-serif character
MAX_COLUMN_H = 3200  # px of graph per column before the next column starts
MAX_REASONS = 30  # legend rows; the text report has them all


def render_svg(r: PartitionReport, detail: bool = False) -> str:
    return _render_detail(r) if detail else _render_subgraphs(r)


# ---- the collapsed graph -------------------------------------------------------------------


@dataclasses.dataclass
class _Box:
    id: str
    kind: str
    lines: List[str]  # first line bold for subgraph boxes
    tooltip: str
    tag: str = ""  # legend reference of a TVM box
    w: float = 130
    h: float = 28


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _reason_table(r: PartitionReport) -> List[Tuple[str, str, int, List[str]]]:
    """(tag, reason, count, ops) per distinct reason, most frequent first."""
    by_reason: Dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for rej in r.rejected:
        by_reason[rej.reason][rej.op] += 1
    rows = sorted(by_reason.items(), key=lambda kv: -sum(kv[1].values()))
    return [(f"r{i + 1}", reason, sum(ops.values()), sorted(ops)) for i, (reason, ops) in enumerate(rows)]


def _collapse(r: PartitionReport, tags: Dict[str, str]):
    """Boxes (topological order) and edges with each subgraph's ops contracted into one box."""
    subgraphs = {s.name: s for s in r.subgraphs}
    box_of: Dict[str, str] = {}
    boxes: Dict[str, _Box] = {}
    for n in r.nodes:
        if n.kind == "tensorrt":
            box_id = f"sg:{n.call}"
            if box_id not in boxes:
                s = subgraphs[n.subgraph]
                stats = f"{s.ops} ops" + (f", {macs_text(s.macs)}" if s.macs else "")
                stats += f" (called {s.calls}x)" if s.calls > 1 else ""
                lines = [
                    s.name,
                    stats,
                    _clip("in " + "; ".join(s.inputs), 40),
                    _clip("out " + "; ".join(s.outputs), 40),
                ]
                kinds = ", ".join(
                    f"{op[len('relax.') :]} x{k}" for op, k in sorted(s.op_counts.items(), key=lambda kv: -kv[1])
                )
                tooltip = f"{s.name}: {stats}\nin {'; '.join(s.inputs)}\nout {'; '.join(s.outputs)}\n{kinds}"
                boxes[box_id] = _Box(box_id, "tensorrt", lines, tooltip, w=250, h=70)
        else:
            box_id = n.id
            tag = tags.get(n.reason, "") if n.reason else ""
            tooltip = n.label + (f": {n.reason}" if n.reason else "")
            boxes[box_id] = _Box(box_id, n.kind, [_clip(n.label, 17)], tooltip, tag)
        box_of[n.id] = box_id
    edges = list(dict.fromkeys((box_of[a], box_of[b]) for a, b in r.edges if box_of[a] != box_of[b]))
    return list(boxes.values()), edges


def _depths(ids: List[str], edges) -> Dict[str, int]:
    """Longest-path depth (ids are in topological order)."""
    preds = collections.defaultdict(list)
    for a, b in edges:
        preds[b].append(a)
    depth: Dict[str, int] = {}
    for i in ids:
        depth[i] = 1 + max((depth[p] for p in preds[i]), default=-1)
    return depth


def _layout(boxes: List[_Box], edges, top: float, margin: float):
    """{id: (x, y)} in columns of rows, and the (width, height) used."""
    gap_x, gap_y, col_gap = 14, 26, 60
    depth = _depths([b.id for b in boxes], edges)
    rows: Dict[int, List[_Box]] = collections.defaultdict(list)
    for b in boxes:
        rows[depth[b.id]].append(b)
    columns: List[List[List[_Box]]] = [[]]
    height = 0.0
    for level in sorted(rows):
        row_h = max(b.h for b in rows[level]) + gap_y
        if columns[-1] and height + row_h > MAX_COLUMN_H:
            columns.append([])
            height = 0.0
        columns[-1].append(rows[level])
        height += row_h
    pos: Dict[str, Tuple[float, float]] = {}
    x0, used_h = margin, 0.0
    for column in columns:
        col_w = max(sum(b.w for b in row) + gap_x * (len(row) - 1) for row in column)
        y = top
        for row in column:
            row_w = sum(b.w for b in row) + gap_x * (len(row) - 1)
            x = x0 + (col_w - row_w) / 2
            row_h = max(b.h for b in row)
            for b in row:
                pos[b.id] = (x, y + (row_h - b.h) / 2)
                x += b.w + gap_x
            y += row_h + gap_y
        used_h = max(used_h, y - top)
        x0 += col_w + col_gap
    return pos, depth, (x0 - col_gap + margin, used_h)


def _legend(r: PartitionReport, reasons, margin: float) -> Tuple[List[str], float, float]:
    """Colour keys and the table of reasons; returns (svg lines, height, width)."""
    out = []
    y = margin + 4
    keys = [
        (TRT_COLOUR, f"TensorRT: {r.ops_offloaded} ops in {len(r.subgraphs)} subgraph(s)"),
        (TVM_COLOUR, f"TVM: {r.ops_total - r.ops_offloaded} ops (tag rN: the reason below)"),
        (IO_COLOUR, "model inputs / outputs"),
    ]
    x = margin
    for colour, text in keys:
        out.append(f'<rect x="{x}" y="{y - 11}" width="14" height="14" fill="{colour}" stroke="#333"/>')
        out.append(f'<text x="{x + 20}" y="{y}">{html.escape(text)}</text>')
        x += 40 + CHAR_W * len(text)
    width = x
    if reasons:
        y += 22
        out.append(f'<text x="{margin}" y="{y}" font-weight="bold">Why ops stay in TVM</text>')
        for tag, reason, count, ops in reasons[:MAX_REASONS]:
            y += 16
            ops_text = _clip(", ".join(op[len("relax.") :] for op in ops), 60)
            line = f"{reason}  ({count}x: {ops_text})"
            out.append(
                f'<text x="{margin}" y="{y}"><tspan font-weight="bold">{tag}</tspan>  {html.escape(line)}</text>'
            )
            width = max(width, margin + 40 + CHAR_W * len(line))
        if len(reasons) > MAX_REASONS:
            y += 16
            out.append(
                f'<text x="{margin}" y="{y}">... {len(reasons) - MAX_REASONS} more reasons: see the text report</text>'
            )
    return out, y + 24, width


def _render_subgraphs(r: PartitionReport) -> str:
    margin = 20
    reasons = _reason_table(r)
    tags = {reason: tag for tag, reason, _, _ in reasons}
    boxes, edges = _collapse(r, tags)
    legend, legend_h, legend_w = _legend(r, reasons, margin)
    pos, depth, (graph_w, graph_h) = _layout(boxes, edges, legend_h, margin)
    width, height = max(graph_w, legend_w), legend_h + graph_h + margin
    size = {b.id: (b.w, b.h) for b in boxes}
    out = [_svg_open(width, height), *legend]
    for a, b in edges:
        (x1, y1), (x2, y2) = pos[a], pos[b]
        x1, y1, x2 = x1 + size[a][0] / 2, y1 + size[a][1], x2 + size[b][0] / 2
        if y2 > y1:  # same column: downwards, bowing out when rows are skipped
            bend = min(40 * (depth[b] - depth[a] - 1), 140)  # stays within the column gap
            d = f"M{x1:.0f},{y1:.0f} C{x1 + bend:.0f},{y1 + 20:.0f} {x2 + bend:.0f},{y2 - 20:.0f} {x2:.0f},{y2:.0f}"
            out.append(f'<path d="{d}" fill="none" stroke="#888"/>')
        else:  # into the next column: up to the top of the target
            d = f"M{x1:.0f},{y1:.0f} C{x1 + 60:.0f},{y1 + 40:.0f} {x2 - 60:.0f},{y2 - 40:.0f} {x2:.0f},{y2:.0f}"
            out.append(f'<path d="{d}" fill="none" stroke="#bbb" stroke-dasharray="4 3"/>')
    for b in boxes:
        x, y = pos[b.id]
        out.append(f"<g><title>{html.escape(b.tooltip)}</title>")
        out.append(
            f'<rect x="{x:.0f}" y="{y:.0f}" width="{b.w:.0f}" height="{b.h:.0f}" rx="5" fill="{FILL[b.kind]}" stroke="#333"/>'
        )
        if b.kind == "tensorrt":
            for i, line in enumerate(b.lines):
                weight = ' font-weight="bold"' if i == 0 else ""
                out.append(f'<text x="{x + 8:.0f}" y="{y + 15 + 15 * i:.0f}"{weight}>{html.escape(line)}</text>')
        else:
            out.append(
                f'<text x="{x + b.w / 2:.0f}" y="{y + b.h / 2 + 4:.0f}" text-anchor="middle">{html.escape(b.lines[0])}</text>'
            )
        if b.tag:
            out.append(f'<text x="{x + b.w - 3:.0f}" y="{y + 9:.0f}" font-size="8" text-anchor="end">{b.tag}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def _svg_open(width: float, height: float) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="sans-serif" font-size="11">\n'
        '<rect width="100%" height="100%" fill="white"/>'
    )


# ---- one box per op (detail=True) ------------------------------------------------------------


def _render_detail(r: PartitionReport) -> str:
    """A top-down layered drawing: one box per op, filled by where it runs."""
    box_w, box_h, gap_x, gap_y, margin = 120, 28, 16, 30, 20
    ids = [n.id for n in r.nodes]
    depth = _depths(ids, r.edges)
    rows: Dict[int, list] = collections.defaultdict(list)
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
    out = [
        _svg_open(width, height),
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
        title = html.escape(
            n.label + (f" [{n.subgraph}]" if n.subgraph else "") + (f": {n.reason}" if n.reason else "")
        )
        tag = (  # which TensorRT subgraph: its index in the corner
            f'<text x="{x + box_w - 4:.0f}" y="{y + 9:.0f}" font-size="8" text-anchor="end">#{subgraph_index[n.subgraph]}</text>'
            if n.subgraph
            else ""
        )
        label = html.escape(_clip(n.label, 19))
        out.append(
            f'<g><title>{title}</title><rect x="{x:.0f}" y="{y:.0f}" width="{box_w}" height="{box_h}" rx="5" '
            f'fill="{FILL[n.kind]}" stroke="#333"/><text x="{x + box_w / 2:.0f}" y="{y + box_h / 2 + 4:.0f}" '
            f'text-anchor="middle">{label}</text>{tag}</g>'
        )
    out.append("</svg>")
    return "\n".join(out)
