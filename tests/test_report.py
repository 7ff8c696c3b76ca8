import json
import re

import numpy as np
from tvm import relax

import tvm_trt
from tvm_trt import partition, registry

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


def test_svg_has_both_colours(tmp_path):
    rep = tvm_trt.partition_report(_module())
    path = tmp_path / "g.svg"
    rep.to_svg(str(path))
    import xml.etree.ElementTree as ET

    root = ET.parse(path).getroot()
    fills = [e.get("fill") for e in root.iter() if e.tag.endswith("rect")]
    from tvm_trt.report import TRT_COLOUR, TVM_COLOUR

    # legend + 4 TensorRT boxes, legend + 1 TVM box
    assert fills.count(TRT_COLOUR) == 1 + 4 and fills.count(TVM_COLOUR) == 1 + 1
    titles = [e.text for e in root.iter() if e.tag.endswith("title")]
    assert any(re.match(r"sort$", t) for t in titles)
