import json
import re

import numpy as np
from tvm import relax

import tvm_trt
from tvm_trt import partition
from tvm_trt.core import registry

R = relax.op


def _module():
    """conv2d -> relu -> sort (no converter) -> add -> int32 cast path, plus a relu island."""
    w = relax.const(np.full((4, 4, 3, 3), 0.1, "float32"))
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([1, 4, 8, 8], "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            c = bb.emit(R.nn.conv2d(x, w, padding=(1, 1)))
            r = bb.emit(R.nn.relu(c))
            s = bb.emit(R.sort(r, axis=3))
            a = bb.emit(R.add(s, r))
            out = bb.emit_output(R.nn.relu(a))
        bb.emit_func_output(out)
    return bb.get()


def test_counts_and_reasons():
    assert registry.get("relax.sort") is None
    rep = tvm_trt.partition_report(_module())
    assert (rep.ops_total, rep.ops_offloaded) == (5, 4)
    assert abs(rep.coverage - 0.8) < 1e-9
    assert rep.per_op["relax.nn.relu"] == {"offloaded": 2, "rejected": 0}
    assert rep.per_op["relax.sort"] == {"offloaded": 0, "rejected": 1}
    assert [(r.op, r.reason) for r in rep.rejected] == [
        ("relax.sort", "no TensorRT converter registered for relax.sort")
    ]
    sizes = sorted((s.ops, s.has_mac) for s in rep.subgraphs)
    assert sizes == [(2, False), (2, True)]
    data = json.loads(rep.to_json())
    assert data["ops_total"] == 5 and data["coverage"] == 0.8
    text = str(rep)
    assert "4/5 ops (80.0%)" in text and "no TensorRT converter registered for relax.sort" in text


def test_no_mac_reason():
    rep = tvm_trt.partition_report(_module(), remove_no_mac_subgraphs=True)
    assert rep.ops_offloaded == 2
    put_back = {r.op: r.reason for r in rep.rejected if r.op != "relax.sort"}
    assert put_back == {"relax.add": partition.NO_MAC_REASON, "relax.nn.relu": partition.NO_MAC_REASON}
    assert rep.per_op["relax.nn.relu"] == {"offloaded": 1, "rejected": 1}


def _svg(text):
    import xml.etree.ElementTree as ET

    root = ET.fromstring(text)
    fills = [e.get("fill") for e in root.iter() if e.tag.endswith("rect")]
    titles = [e.text for e in root.iter() if e.tag.endswith("title")]
    return root, fills, titles


def test_svg_one_box_per_subgraph(tmp_path):
    from tvm_trt.report import TRT_COLOUR, TVM_COLOUR

    rep = tvm_trt.partition_report(_module())
    path = tmp_path / "g.svg"
    rep.to_svg(str(path))
    _, fills, titles = _svg(path.read_text())
    # legend + 2 subgraph boxes; legend + the sort box, whose tooltip says why it stays in TVM
    assert fills.count(TRT_COLOUR) == 1 + 2 and fills.count(TVM_COLOUR) == 1 + 1
    assert "sort: no TensorRT converter registered for relax.sort" in titles
    assert any(t.startswith("tensorrt_0: 2 ops") and "in 1x4x8x8 float32" in t for t in titles)
    text = path.read_text()
    assert "Why ops stay in TVM" in text and "r1" in text  # the legend table and the box's tag

    _, fills, titles = _svg(rep.to_svg(detail=True))  # one box per op
    assert fills.count(TRT_COLOUR) == 1 + 4 and fills.count(TVM_COLOUR) == 1 + 1
    assert any(re.match(r"sort: no TensorRT converter", t) for t in titles)


def _alternating(n):
    """n blocks of conv2d -> sort: n subgraphs with a TVM op between each two. TVM shares one
    function between identical blocks: half of them use the same weight."""
    bb = relax.BlockBuilder()
    x = relax.Var("x", relax.TensorType([1, 4, 8, 8], "float32"))
    with bb.function("main", [x]):
        with bb.dataflow():
            y = x
            for i in range(n):
                w = relax.const(np.full((4, 4, 3, 3), 0.1 * (i % (n // 2 + 1)), "float32"))
                y = bb.emit(R.sort(bb.emit(R.nn.conv2d(y, w, padding=(1, 1))), axis=3))
            out = bb.emit_output(y)
        bb.emit_func_output(out)
    return bb.get()


def test_svg_scales_to_many_subgraphs():
    """150 subgraphs + 150 TVM ops: the picture wraps into columns and stays under 4,000 px."""
    rep = tvm_trt.partition_report(_alternating(150))
    assert [s.name for s in rep.subgraphs[:3]] == ["tensorrt_0", "tensorrt_1", "tensorrt_2"]
    assert (rep.ops_offloaded, len(rep.subgraphs), rep.subgraphs[0].calls) == (150, 76, 2)
    assert rep.subgraphs[0].macs == 1 * 4 * 8 * 8 * 4 * 3 * 3
    root, _, _ = _svg(rep.to_svg())
    assert max(float(root.get("width")), float(root.get("height"))) < 4000
    root, _, _ = _svg(rep.to_svg(detail=True))
    assert float(root.get("height")) > 4000  # what the detailed drawing costs


def test_to_json_path(tmp_path):
    rep = tvm_trt.partition_report(_module())
    text = rep.to_json(str(tmp_path / "r.json"))
    assert json.loads((tmp_path / "r.json").read_text()) == json.loads(text)
